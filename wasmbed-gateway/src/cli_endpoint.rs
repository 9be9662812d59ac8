//! `wasmbed-gateway endpoint`: the RAM mailbox as Renode sysbus lines, and back.

use anyhow::{Result, anyhow};
use clap::Subcommand;
use wasmbed_endpoint::{Endpoint, MemoryImage};

use crate::cli::parse_u32;

#[derive(Debug, Subcommand)]
// Parsed once per run; boxing the inline endpoint would only add noise.
#[allow(clippy::large_enum_variant)]
pub(crate) enum EndpointCommand {
    /// Print the sysbus WriteDoubleWord lines that put ENDPOINT into the RAM mailbox.
    Encode {
        /// Endpoint, e.g. 10.42.0.12:8081.
        endpoint: Endpoint,
        /// Mailbox base address (hex with 0x, or decimal).
        #[arg(long, default_value = "0x20001000", value_parser = parse_u32)]
        base: u32,
    },
    /// Decode a mailbox image given as hex bytes (length word first).
    Decode {
        /// The image, e.g. 0f00000031302e34...
        hex: String,
    },
}

pub(crate) fn run_endpoint(command: EndpointCommand) -> Result<()> {
    match command {
        EndpointCommand::Encode { endpoint, base } => {
            let image = MemoryImage::encode(&endpoint)?;
            print!("{}", image.sysbus_lines(base)?);
        }
        EndpointCommand::Decode { hex } => {
            let digits: String = hex.chars().filter(|c| !c.is_whitespace()).collect();
            let bytes = hex::decode(digits).map_err(|e| {
                anyhow!(
                    "the image is not hex ({e}): give an even number of hex digits, length word first, e.g. 0f00000031302e34..."
                )
            })?;
            println!("{}", MemoryImage::decode(&bytes)?);
        }
    }
    Ok(())
}

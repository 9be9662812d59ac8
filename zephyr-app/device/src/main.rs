//! `wasmbed-device`: the wasmbed Zephyr firmware, unmodified, running on Linux against a real
//! gateway. The command line is [`Args`]; the work is [`wasmbed_zephyr_host::device::run`].

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, ValueEnum};
use wasmbed_zephyr_host::device::{BOARDS, DEFAULT_BOARD, Image, Options, run};

/// Exit status when the firmware's `main()` returned an error (after logging why).
const EXIT_FIRMWARE_GAVE_UP: u8 = 3;

/// Exit status when the firmware could not be started (bad option or file).
const EXIT_CANNOT_START: u8 = 2;

/// Which firmware image to run (`--image`); see [`Image`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ImageArg {
    /// `prj.conf` alone: `CONFIG_WASMBED_TLS_VERIFY_NONE`, any gateway certificate accepted.
    Development,
    /// `prj.conf` + `overlay-production.conf`: the CA from `--ca-header` verifies the gateway.
    Production,
    /// Also `overlay-mtls.conf`: the device presents the certificate and key from
    /// `--device-cert-header` and `--device-key-header` (mTLS).
    ProductionMtls,
}

impl From<ImageArg> for Image {
    fn from(image: ImageArg) -> Image {
        match image {
            ImageArg::Development => Image::Development,
            ImageArg::Production => Image::Production,
            ImageArg::ProductionMtls => Image::ProductionMtls,
        }
    }
}

/// Command line of `wasmbed-device`.
#[derive(Debug, Parser)]
#[command(
    name = "wasmbed-device",
    version,
    about = "Run the wasmbed Zephyr firmware on Linux against a real gateway",
    long_about = "Run the wasmbed Zephyr firmware (zephyr-app/src, unmodified) on Linux.\n\n\
        Like Renode before boot, it fills the device's endpoint mailbox (at its devicetree \
        address) from a Renode script's sysbus WriteDoubleWord lines (--resc) or a raw image \
        (--mailbox-image), then runs main(). The device log goes to standard output.\n\n\
        Example:\n  wasmbed-gateway endpoint encode 127.0.0.1:8081 > device.resc\n  \
        wasmbed-device --resc device.resc"
)]
struct Args {
    /// Renode script whose `sysbus WriteDoubleWord`/`ZeroRange` lines fill the mailbox in
    /// order, as they would Renode's RAM (other commands are ignored; the bytes of a write
    /// that fall outside the mailbox are dropped, and writes entirely outside are reported).
    #[arg(long, value_name = "FILE", conflicts_with = "mailbox_image")]
    resc: Option<PathBuf>,

    /// Raw mailbox image: its bytes are copied to the mailbox base (at most the mailbox size).
    #[arg(long, value_name = "FILE")]
    mailbox_image: Option<PathBuf>,

    /// Board whose devicetree overlay places the mailbox (`zephyr-app/boards/<board>.overlay`).
    #[arg(long, default_value = DEFAULT_BOARD, value_parser = board_names())]
    board: String,

    /// Mailbox base address instead of the board's (hex with 0x, or decimal).
    #[arg(long, value_name = "ADDR", value_parser = parse_u64)]
    mailbox_base: Option<u64>,

    /// Mailbox size in bytes instead of the board's (1..=65536; hex with 0x, or decimal).
    #[arg(long, value_name = "BYTES", value_parser = parse_u64)]
    mailbox_size: Option<u64>,

    /// Firmware image to run.
    #[arg(long, value_enum, default_value_t = ImageArg::Development)]
    image: ImageArg,

    /// CA header from `wasmbed-gateway pki ca` (`<out-dir>/ca.h`): what the production build
    /// compiles in as CONFIG_WASMBED_CA_HEADER. Required with `--image production`.
    #[arg(long, value_name = "FILE")]
    ca_header: Option<PathBuf>,

    /// Device certificate header from `wasmbed-gateway pki device` (`<out-dir>/<id>.h`): what
    /// the mTLS build compiles in as CONFIG_WASMBED_DEVICE_CERT_HEADER. Required with
    /// `--image production-mtls`.
    #[arg(long, value_name = "FILE")]
    device_cert_header: Option<PathBuf>,

    /// Device private key header from `wasmbed-gateway pki device` (`<out-dir>/<id>-key.h`):
    /// CONFIG_WASMBED_DEVICE_KEY_HEADER. Required with `--image production-mtls`.
    #[arg(long, value_name = "FILE")]
    device_key_header: Option<PathBuf>,

    /// CONFIG_WASMBED_DEVICE_ID for this run (default: the Kconfig default).
    #[arg(long, value_name = "ID")]
    device_id: Option<String>,

    /// CONFIG_WASMBED_FIRMWARE_VERSION for this run.
    #[arg(long, value_name = "VERSION")]
    firmware_version: Option<String>,

    /// CONFIG_WASMBED_HEARTBEAT_INTERVAL_SEC for this run (1..=65535).
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(i32).range(1..=65535))]
    heartbeat_interval: Option<i32>,

    /// CONFIG_WASMBED_HELLO_TIMEOUT_MS for this run (100..=600000).
    #[arg(long, value_name = "MS", value_parser = clap::value_parser!(i32).range(100..=600_000))]
    hello_timeout_ms: Option<i32>,

    /// CONFIG_WASMBED_SEND_TIMEOUT_MS for this run (100..=600000).
    #[arg(long, value_name = "MS", value_parser = clap::value_parser!(i32).range(100..=600_000))]
    send_timeout_ms: Option<i32>,

    /// CONFIG_WASMBED_RECONNECT_BACKOFF_MIN_MS for this run (100..=600000).
    #[arg(long, value_name = "MS", value_parser = clap::value_parser!(i32).range(100..=600_000))]
    backoff_min_ms: Option<i32>,

    /// CONFIG_WASMBED_RECONNECT_BACKOFF_MAX_MS for this run (>= the minimum, <= 3600000).
    #[arg(long, value_name = "MS", value_parser = clap::value_parser!(i32).range(100..=3_600_000))]
    backoff_max_ms: Option<i32>,
}

impl Args {
    fn into_options(self) -> Options {
        let mut options = Options::default();
        options.resc = self.resc;
        options.mailbox_image = self.mailbox_image;
        options.board = self.board;
        options.mailbox_base = self.mailbox_base;
        options.mailbox_size = self.mailbox_size;
        options.image = self.image.into();
        options.ca_header = self.ca_header;
        options.device_cert_header = self.device_cert_header;
        options.device_key_header = self.device_key_header;
        options.device_id = self.device_id;
        options.firmware_version = self.firmware_version;
        options.heartbeat_interval_sec = self.heartbeat_interval;
        options.hello_timeout_ms = self.hello_timeout_ms;
        options.send_timeout_ms = self.send_timeout_ms;
        options.backoff_min_ms = self.backoff_min_ms;
        options.backoff_max_ms = self.backoff_max_ms;
        options
    }
}

fn board_names() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(BOARDS.iter().map(|(name, _, _)| *name))
}

fn parse_u64(text: &str) -> Result<u64, String> {
    let parsed = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => text.parse(),
    };
    parsed.map_err(|_| format!("{text:?} is not a number (hex with 0x, or decimal)"))
}

fn main() -> ExitCode {
    let options = Args::parse().into_options();
    match run(&options) {
        Ok(0) => ExitCode::SUCCESS,
        Ok(status) => {
            eprintln!("wasmbed-device: the firmware's main() returned {status}");
            ExitCode::from(EXIT_FIRMWARE_GAVE_UP)
        }
        Err(e) => {
            eprintln!("wasmbed-device: {e}");
            ExitCode::from(EXIT_CANNOT_START)
        }
    }
}

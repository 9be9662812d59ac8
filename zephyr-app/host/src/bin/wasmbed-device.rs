//! `wasmbed-device`: the wasmbed Zephyr firmware, unmodified, running on Linux against a real
//! gateway. See [`wasmbed_zephyr_host::device`].

use std::process::ExitCode;

use clap::Parser;
use wasmbed_zephyr_host::device::{Args, run};

/// Exit status when the firmware's `main()` returned an error (after logging why).
const EXIT_FIRMWARE_GAVE_UP: u8 = 3;

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(0) => ExitCode::SUCCESS,
        Ok(status) => {
            eprintln!("wasmbed-device: the firmware's main() returned {status}");
            ExitCode::from(EXIT_FIRMWARE_GAVE_UP)
        }
        Err(e) => {
            eprintln!("wasmbed-device: {e}");
            ExitCode::from(2)
        }
    }
}

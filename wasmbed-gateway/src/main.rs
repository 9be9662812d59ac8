//! `wasmbed-gateway`: the reference gateway binary.
//!
//! With no arguments it serves in dev mode; see `wasmbed-gateway --help`.

// The doc comments on the clap types are the `--help` text, written for a terminal
// (`<out-dir>/<id>.pem`, `[::1]:8080`), not for rustdoc.
#![allow(rustdoc::invalid_html_tags, rustdoc::broken_intra_doc_links)]

mod api_token;
mod cli;
mod cli_endpoint;
mod cli_pki;
mod cli_renode;
mod dev_identity;
mod logging;
mod reload;
mod serve;

use std::process::ExitCode;

use crate::cli::Command;

fn main() -> ExitCode {
    let cli = cli::parse();
    logging::init();
    let result = match cli.command {
        None => serve::serve(cli.serve),
        Some(Command::Serve(args)) => serve::serve(args),
        Some(Command::Pki(pki)) => cli_pki::run_pki(pki),
        Some(Command::Endpoint(command)) => cli_endpoint::run_endpoint(command),
        Some(Command::Renode(command)) => cli_renode::run(command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

//! Sets `cfg(has_renode)` when a `renode` program is on `PATH` (or `WASMBED_RENODE` names
//! one), so the integration test that runs the real Renode runs there and is reported as
//! ignored, by name, elsewhere.

use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(has_renode)");
    println!("cargo::rerun-if-env-changed=PATH");
    println!("cargo::rerun-if-env-changed=WASMBED_RENODE");
    let explicit = env::var_os("WASMBED_RENODE").map(PathBuf::from);
    let on_path = || {
        env::var_os("PATH").and_then(|path| {
            env::split_paths(&path)
                .map(|dir| dir.join("renode"))
                .find(|candidate| candidate.is_file())
        })
    };
    if explicit.filter(|p| p.is_file()).or_else(on_path).is_some() {
        println!("cargo::rustc-cfg=has_renode");
    }
}

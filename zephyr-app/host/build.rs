//! Compiles the firmware's portable C sources exactly as strictly as the firmware build does.

use std::env;
use std::path::PathBuf;

/// The portable sources, relative to `zephyr-app/`.
const SOURCES: &[&str] = &[
    "src/wasmbed_endpoint.c",
    "src/wasmbed_protocol.c",
    "host/csrc/layout.c",
    "host/csrc/protocol_layout.c",
];

/// The headers they include.
const HEADERS: &[&str] = &["src/wasmbed_endpoint.h", "src/wasmbed_protocol.h"];

fn main() {
    let app = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"))
        .join("..");
    let mut build = cc::Build::new();
    build
        .include(app.join("src"))
        .std("c99")
        .warnings(true)
        .extra_warnings(true)
        .warnings_into_errors(true)
        .flag("-pedantic")
        .flag("-Wshadow")
        .flag("-Wstrict-prototypes")
        .flag("-Wmissing-prototypes")
        .flag("-Wconversion")
        .flag("-Wsign-conversion")
        .flag("-Wcast-qual");
    // cargo-fuzz (`--cfg fuzzing`) and `-Zsanitizer=address` link an AddressSanitizer runtime;
    // give the C code the same instrumentation so its out-of-bounds reads are caught. Under
    // cargo-fuzz, clang also gives libFuzzer coverage of the C branches (`fuzzer-no-link`).
    let sanitize = env::var("CARGO_CFG_SANITIZE").unwrap_or_default();
    let fuzzing = env::var_os("CARGO_CFG_FUZZING").is_some();
    if fuzzing || sanitize.split(',').any(|s| s == "address") {
        build
            .flag("-fsanitize=address")
            .flag("-fno-omit-frame-pointer");
        if fuzzing && build.get_compiler().is_like_clang() {
            build.flag("-fsanitize=fuzzer-no-link");
        }
    }
    println!("cargo:rerun-if-env-changed=CARGO_CFG_SANITIZE");
    for source in SOURCES {
        let path = app.join(source);
        println!("cargo:rerun-if-changed={}", path.display());
        build.file(path);
    }
    for header in HEADERS {
        println!("cargo:rerun-if-changed={}", app.join(header).display());
    }
    println!("cargo:rerun-if-env-changed=CC");
    build.compile("wasmbed_firmware");
}

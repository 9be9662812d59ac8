//! Compiles the firmware's portable C sources exactly as strictly as the firmware build does.

use std::env;
use std::path::PathBuf;

/// The portable sources, relative to `zephyr-app/`.
const SOURCES: &[&str] = &["src/wasmbed_endpoint.c", "host/csrc/layout.c"];

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
    // cargo-fuzz builds with `--cfg fuzzing` and an AddressSanitizer + libFuzzer runtime; give
    // the C code the same instrumentation so its out-of-bounds reads are caught and its
    // branches guide the fuzzer. Only clang understands `fuzzer-no-link`.
    if env::var_os("CARGO_CFG_FUZZING").is_some() {
        build.flag("-fsanitize=address");
        if build.get_compiler().is_like_clang() {
            build.flag("-fsanitize=fuzzer-no-link");
        }
    }
    for source in SOURCES {
        let path = app.join(source);
        println!("cargo:rerun-if-changed={}", path.display());
        build.file(path);
    }
    println!(
        "cargo:rerun-if-changed={}",
        app.join("src/wasmbed_endpoint.h").display()
    );
    println!("cargo:rerun-if-env-changed=CC");
    build.compile("wasmbed_firmware");
}

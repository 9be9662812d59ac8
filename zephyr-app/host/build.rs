//! Builds the firmware's C for the host.
//!
//! 1. `libwasmbed_firmware.a`: the portable C (endpoint parser, frame codec, reconnect backoff)
//!    exactly as strictly as the firmware build compiles it, for the FFI bindings and the
//!    differential tests.
//! 2. `libwasmbed_device.a`: the whole firmware (`zephyr-app/src/*.c`, unmodified) three
//!    times, as the development image (`CONFIG_WASMBED_TLS_VERIFY_NONE`), the production image
//!    (`overlay-production.conf`) and the mTLS image (also `overlay-mtls.conf`), each partially
//!    linked into one object that exports only its `main` (renamed
//!    `wasmbed_image_<image>_main`), plus the host port in `host/port/` (the Zephyr API over
//!    POSIX sockets and mbedTLS). The `wasmbed-device` binary runs any of them.
//!
//! The Kconfig values the firmware reads come from `zephyr-app/Kconfig` defaults, `prj.conf`
//! and the overlays, the files a west build reads, parsed here
//! into a generated `autoconf` header per image.

use std::collections::BTreeMap;
use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The portable sources, relative to `zephyr-app/`.
const PORTABLE_SOURCES: &[&str] = &[
    "src/wasmbed_backoff.c",
    "src/wasmbed_endpoint.c",
    "src/wasmbed_protocol.c",
    "host/csrc/layout.c",
    "host/csrc/protocol_layout.c",
];

/// Every firmware source (the CMakeLists.txt `target_sources` list), relative to `zephyr-app/`.
const FIRMWARE_SOURCES: &[&str] = &[
    "src/main.c",
    "src/network_handler.c",
    "src/gateway_client.c",
    "src/wasmbed_backoff.c",
    "src/wasmbed_endpoint.c",
    "src/wasmbed_protocol.c",
];

/// The host port's sources, relative to `zephyr-app/host/port/src/`.
/// The sockets follow Zephyr's split (subsys/net/lib/sockets/): plain sockets and poll in
/// `sockets.c`, TLS sockets in `sockets_tls.c`, joined by `sockets_internal.h`; the device's
/// record-size guard and the certificate checks each have their own file.
const PORT_SOURCES: &[&str] = &[
    "kernel.c",
    "devicetree.c",
    "tls_credentials.c",
    "sockets.c",
    "sockets_tls.c",
    "sockets_tls_record.c",
    "sockets_tls_verify.c",
    "kconfig.c",
];

/// The host port's internal headers, next to its sources.
const PORT_HEADERS: &[&str] = &[
    "sockets_internal.h",
    "sockets_tls_record.h",
    "sockets_tls_verify.h",
];

/// Kconfig symbols a run of `wasmbed-device` may override (`--device-id` etc.): the firmware
/// reads them from `wasmbed_host_kconfig` instead of a literal.
const RUNTIME_SYMBOLS: &[(&str, &str)] = &[
    ("WASMBED_DEVICE_ID", "device_id"),
    ("WASMBED_FIRMWARE_VERSION", "firmware_version"),
    ("WASMBED_HEARTBEAT_INTERVAL_SEC", "heartbeat_interval_sec"),
    ("WASMBED_HELLO_TIMEOUT_MS", "hello_timeout_ms"),
    ("WASMBED_SEND_TIMEOUT_MS", "send_timeout_ms"),
    ("WASMBED_RECONNECT_BACKOFF_MIN_MS", "backoff_min_ms"),
    ("WASMBED_RECONNECT_BACKOFF_MAX_MS", "backoff_max_ms"),
];

/// Zephyr symbols from `prj.conf` the firmware or the port reads.
const ZEPHYR_SYMBOLS: &[&str] = &[
    "MBEDTLS_SSL_MAX_CONTENT_LEN",
    "NET_SOCKETS_TLS_MAX_CONTEXTS",
    "TLS_MAX_CREDENTIALS_NUMBER",
    "LOG_DEFAULT_LEVEL",
    "NET_IPV4",
    "NET_IPV6",
];

/// Zephyr's default for `CONFIG_NET_SOCKETS_CONNECT_TIMEOUT` (subsys/net/lib/sockets/Kconfig,
/// milliseconds), the bound of a blocking TCP connect, which prj.conf leaves alone. Zephyr 3.7
/// has no bound for the TLS handshake (`CONFIG_NET_SOCKETS_TLS_CONNECT_TIMEOUT` is new in 4.4),
/// so the port sets none either.
const CONNECT_TIMEOUT_MS: u32 = 3_000;

fn main() {
    let app = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"))
        .join("..");
    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    println!("cargo:rerun-if-env-changed=CARGO_CFG_SANITIZE");
    println!("cargo:rerun-if-env-changed=CC");

    let mut portable = strict_build(&app);
    for source in PORTABLE_SOURCES {
        portable.file(rerun(app.join(source)));
    }
    for header in [
        "src/wasmbed_backoff.h",
        "src/wasmbed_endpoint.h",
        "src/wasmbed_protocol.h",
    ] {
        rerun(app.join(header));
    }
    portable.compile("wasmbed_firmware");

    build_device(&app, &out);
    write_boards(&app, &out);
}

/// `boards.rs`: each `boards/<board>.overlay`'s mailbox node (`gw_mailbox: memory@...` with its
/// `reg = <base size>`), so `wasmbed-device --board` follows the overlays.
fn write_boards(app: &Path, out: &Path) {
    let dir = rerun(app.join("boards"));
    let mut boards = Vec::new();
    let mut entries: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| fail(&format!("cannot read {}: {e}", dir.display())))
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "overlay"))
        .collect();
    entries.sort();
    for path in entries {
        let text = fs::read_to_string(rerun(path.clone())).expect("overlay is readable");
        let board = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("UTF-8 file name");
        let Some(node) = text.split("gw_mailbox:").nth(1) else {
            fail(&format!("{} declares no gw_mailbox node", path.display()));
        };
        let reg = node
            .split("reg = <")
            .nth(1)
            .and_then(|rest| rest.split('>').next())
            .unwrap_or_else(|| fail(&format!("{}: gw_mailbox has no reg", path.display())));
        let cells: Vec<u64> = reg
            .split_whitespace()
            .map(|cell| {
                u64::from_str_radix(cell.trim_start_matches("0x"), 16).unwrap_or_else(|_| {
                    fail(&format!(
                        "{}: gw_mailbox reg cell {cell} is not hex",
                        path.display()
                    ))
                })
            })
            .collect();
        let [base, size] = cells[..] else {
            fail(&format!(
                "{}: gw_mailbox reg must be <base size>",
                path.display()
            ));
        };
        boards.push(format!("    (\"{board}\", {base:#x}, {size:#x}),\n"));
    }
    let text = format!(
        "/// (board, mailbox base, mailbox size) from `zephyr-app/boards/*.overlay`.\n\
         pub const BOARDS: &[(&str, u64, u64)] = &[\n{}];\n",
        boards.concat()
    );
    fs::write(out.join("boards.rs"), text).expect("OUT_DIR is writable");
}

/// Prints a rerun-if-changed line for `path` and returns it.
fn rerun(path: PathBuf) -> PathBuf {
    println!("cargo:rerun-if-changed={}", path.display());
    path
}

/// A C99 build with the firmware's warning flags, instrumented like the Rust code under
/// AddressSanitizer and cargo-fuzz.
fn strict_build(app: &Path) -> cc::Build {
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
    sanitize(&mut build);
    build
}

/// cargo-fuzz (`--cfg fuzzing`) and `-Zsanitizer=address` link an AddressSanitizer runtime;
/// give the C the same instrumentation so its out-of-bounds reads are caught. Under cargo-fuzz,
/// clang also gives libFuzzer coverage of the C branches (`fuzzer-no-link`).
fn sanitize(build: &mut cc::Build) {
    let sanitizers = env::var("CARGO_CFG_SANITIZE").unwrap_or_default();
    let fuzzing = env::var_os("CARGO_CFG_FUZZING").is_some();
    if fuzzing || sanitizers.split(',').any(|s| s == "address") {
        build
            .flag("-fsanitize=address")
            .flag("-fno-omit-frame-pointer");
        if fuzzing && build.get_compiler().is_like_clang() {
            build.flag("-fsanitize=fuzzer-no-link");
        }
    }
}

/// Stops the build with one line saying what is missing and how to get it.
fn fail(message: &str) -> ! {
    println!("cargo::error={message}");
    std::process::exit(1);
}

fn build_device(app: &Path, out: &Path) {
    check_mbedtls(out);

    let kconfig = rerun(app.join("Kconfig"));
    let prj = rerun(app.join("prj.conf"));
    let production_overlay = rerun(app.join("overlay-production.conf"));
    let mtls_overlay = rerun(app.join("overlay-mtls.conf"));
    let base = kconfig_values(&kconfig, &[&prj]);
    let production = kconfig_values(&kconfig, &[&prj, &production_overlay]);
    let mtls = kconfig_values(&kconfig, &[&prj, &production_overlay, &mtls_overlay]);
    write_defaults(out, &base);

    let port = app.join("host/port");
    // The port is held to the firmware's flags too; it needs GNU extensions of the C library
    // (SOCK_CLOEXEC, MAP_FIXED_NOREPLACE), not of the language.
    let mut device = strict_build(app);
    device
        .include(port.join("include"))
        .include(out)
        .define("_GNU_SOURCE", None);
    for source in PORT_SOURCES {
        device.file(rerun(port.join("src").join(source)));
    }
    for header in PORT_HEADERS {
        rerun(port.join("src").join(header));
    }
    for entry in fs::read_dir(port.join("include"))
        .into_iter()
        .flatten()
        .flatten()
    {
        rerun(entry.path());
    }
    for header in ["src/gateway_client.h", "src/network_handler.h"] {
        rerun(app.join(header));
    }
    for (image, values) in [
        ("development", &base),
        ("production", &production),
        ("production_mtls", &mtls),
    ] {
        let object = build_image(app, out, image, values);
        device.object(object);
    }
    device.compile("wasmbed_device");
    for lib in ["mbedtls", "mbedx509", "mbedcrypto"] {
        println!("cargo:rustc-link-lib=dylib={lib}");
    }
}

/// Fails the build with one line saying what to install when there is no working C compiler,
/// no mbedTLS headers, or an mbedTLS other than 2.28 (the port is written for Debian 12's).
fn check_mbedtls(out: &Path) {
    let probe = |name: &str, source: &str| {
        let path = out.join(format!("{name}.c"));
        fs::write(&path, source).expect("OUT_DIR is writable");
        cc::Build::new()
            .file(&path)
            .cargo_metadata(false)
            .cargo_warnings(false)
            .try_compile(name)
            .is_ok()
    };
    if !probe(
        "wasmbed_cc_probe",
        "int wasmbed_cc_probe(void);\nint wasmbed_cc_probe(void) { return 0; }\n",
    ) {
        fail("wasmbed-device needs a C compiler: install one with `sudo apt-get install gcc`");
    }
    if !probe(
        "wasmbed_mbedtls_probe",
        "#include <mbedtls/ssl.h>\nint wasmbed_mbedtls_probe(void);\n\
         int wasmbed_mbedtls_probe(void) { return 0; }\n",
    ) {
        fail(
            "wasmbed-device needs the mbedTLS 2.28 headers and libraries: \
             install them with `sudo apt-get install libmbedtls-dev` (Debian 12)",
        );
    }
    if !probe(
        "wasmbed_mbedtls_version_probe",
        "#include <mbedtls/version.h>\n\
         #if MBEDTLS_VERSION_MAJOR != 2 || MBEDTLS_VERSION_MINOR < 28\n#error version\n#endif\n\
         int wasmbed_mbedtls_version_probe(void);\n\
         int wasmbed_mbedtls_version_probe(void) { return 0; }\n",
    ) {
        fail(
            "wasmbed-device's Zephyr port is written for mbedTLS 2.28 (Debian 12's \
             libmbedtls-dev); the installed mbedTLS headers are another version",
        );
    }
}

/// Kconfig symbol values: `default`s from the Kconfig file (a choice's default selects its
/// symbol), then `CONFIG_*=...` lines of the conf files in order. Strings keep their quotes.
fn kconfig_values(kconfig: &Path, confs: &[&Path]) -> BTreeMap<String, String> {
    let text = fs::read_to_string(kconfig).expect("zephyr-app/Kconfig is readable");
    let mut values = BTreeMap::new();
    let mut current: Option<String> = None;
    let mut choice_symbols: Vec<String> = Vec::new();
    let mut in_choice = false;
    for line in text.lines() {
        let line = line.trim();
        if let Some(name) = line.strip_prefix("config ") {
            current = Some(name.trim().to_owned());
            if in_choice {
                choice_symbols.push(name.trim().to_owned());
            }
        } else if line.starts_with("choice") {
            in_choice = true;
            current = None;
        } else if line == "endchoice" {
            in_choice = false;
            current = None;
        } else if let Some(default) = line.strip_prefix("default ") {
            let default = default.trim().to_owned();
            match &current {
                Some(name) => {
                    values.entry(name.clone()).or_insert(default);
                }
                // The choice's own default names the selected symbol.
                None if in_choice => {
                    values.insert(default, "y".to_owned());
                }
                None => {}
            }
        } else if line.starts_with("menu") || line.starts_with("source") {
            current = None;
        }
    }
    for conf in confs {
        let text = fs::read_to_string(conf).expect("conf file is readable");
        for line in text.lines() {
            let line = line.trim();
            let Some(setting) = line.strip_prefix("CONFIG_") else {
                continue;
            };
            let Some((name, value)) = setting.split_once('=') else {
                continue;
            };
            let (name, value) = (name.trim().to_owned(), value.trim().to_owned());
            // Selecting one member of a choice deselects the others.
            if value == "y" && choice_symbols.contains(&name) {
                for other in &choice_symbols {
                    values.insert(other.clone(), "n".to_owned());
                }
            }
            values.insert(name, value);
        }
    }
    values
}

fn value<'a>(values: &'a BTreeMap<String, String>, name: &str) -> &'a str {
    values.get(name).map(String::as_str).unwrap_or_else(|| {
        fail(&format!(
            "CONFIG_{name} has no value in Kconfig or prj.conf"
        ))
    })
}

/// `wasmbed_host_defaults.h`: what the host port needs from prj.conf, and the build-time
/// values of the run-time Kconfig options.
fn write_defaults(out: &Path, values: &BTreeMap<String, String>) {
    let mut text = String::from(
        "/* Generated by zephyr-app/host/build.rs from Kconfig and prj.conf; do not edit. */\n\
         #ifndef WASMBED_HOST_DEFAULTS_H_\n#define WASMBED_HOST_DEFAULTS_H_\n",
    );
    for name in ZEPHYR_SYMBOLS {
        match value(values, name) {
            "n" => {}
            "y" => {
                let _ = writeln!(text, "#define CONFIG_{name} 1");
            }
            raw => {
                let _ = writeln!(text, "#define CONFIG_{name} {raw}");
            }
        }
    }
    let _ = writeln!(
        text,
        "#define CONFIG_NET_SOCKETS_CONNECT_TIMEOUT {CONNECT_TIMEOUT_MS}"
    );
    let _ = writeln!(text, "#define WASMBED_HOST_LOG_LINE_MAX 1024");
    for (name, _) in RUNTIME_SYMBOLS {
        let _ = writeln!(
            text,
            "#define WASMBED_HOST_DEFAULT_{name} {}",
            value(values, name)
        );
    }
    text.push_str("#endif\n");
    fs::write(out.join("wasmbed_host_defaults.h"), text).expect("OUT_DIR is writable");
}

/// Compiles one firmware image and partially links it into an object whose only global
/// definition is `wasmbed_image_<image>_main`.
fn build_image(app: &Path, out: &Path, image: &str, values: &BTreeMap<String, String>) -> PathBuf {
    let mut autoconf = format!(
        "/* Generated by zephyr-app/host/build.rs: the {image} image's Kconfig; do not edit. */\n\
         #include <wasmbed_host.h>\n"
    );
    for (name, raw) in values {
        let runtime = RUNTIME_SYMBOLS.iter().find(|(symbol, _)| symbol == name);
        let relevant = name.starts_with("WASMBED_") || ZEPHYR_SYMBOLS.contains(&name.as_str());
        if !relevant || raw == "n" {
            continue;
        }
        let _ = match (runtime, raw.as_str()) {
            (Some((_, field)), _) => {
                writeln!(
                    autoconf,
                    "#define CONFIG_{name} (wasmbed_host_kconfig.{field})"
                )
            }
            (None, "y") => writeln!(autoconf, "#define CONFIG_{name} 1"),
            (None, raw) => writeln!(autoconf, "#define CONFIG_{name} {raw}"),
        };
    }
    let autoconf_path = out.join(format!("wasmbed_autoconf_{image}.h"));
    fs::write(&autoconf_path, autoconf).expect("OUT_DIR is writable");

    let mut build = strict_build(app);
    build
        .include(app.join("host/port/include"))
        .include(out)
        .define("_POSIX_C_SOURCE", "200809L")
        .flag("-include")
        .flag(autoconf_path.to_str().expect("OUT_DIR is UTF-8"))
        .out_dir(out.join(format!("image-{image}")));
    for source in FIRMWARE_SOURCES {
        build.file(rerun(app.join(source)));
    }
    let objects = build.compile_intermediates();

    let compiler = build.get_compiler();
    let combined = out.join(format!("wasmbed_image_{image}.o"));
    // The bare compiler driver: the build's flags (-fsanitize=address in particular) would
    // link runtimes into the partial object.
    let status = Command::new(compiler.path())
        .arg("-r")
        .arg("-nostdlib")
        .arg("-o")
        .arg(&combined)
        .args(&objects)
        .status()
        .unwrap_or_else(|e| {
            fail(&format!(
                "cannot run the C compiler to link the {image} image: {e}"
            ))
        });
    if !status.success() {
        fail(&format!(
            "partial link of the {image} image failed ({status})"
        ));
    }
    let exported = format!("wasmbed_image_{image}_main");
    let objcopy = env::var("OBJCOPY").unwrap_or_else(|_| "objcopy".to_owned());
    let status = Command::new(&objcopy)
        .arg(format!("--redefine-sym=main={exported}"))
        .arg(format!("--keep-global-symbol={exported}"))
        .arg(&combined)
        .status()
        .unwrap_or_else(|e| {
            fail(&format!(
                "cannot run {objcopy} (binutils) to isolate the {image} image: {e}; install it with `sudo apt-get install binutils`"
            ))
        });
    if !status.success() {
        fail(&format!("{objcopy} failed on the {image} image ({status})"));
    }
    combined
}

//! The binary's command line: subcommands, and bad input ending in one clear line and a
//! non-zero exit, never a panic.

mod support;

use support::run;

const SEED_LINES: &str = "\
sysbus WriteDoubleWord 0x20001000 0x0000000f
sysbus WriteDoubleWord 0x20001004 0x342e3031
sysbus WriteDoubleWord 0x20001008 0x2e302e32
sysbus WriteDoubleWord 0x2000100c 0x383a3231
sysbus WriteDoubleWord 0x20001010 0x00313830
";

#[test]
fn endpoint_encode_prints_the_seed_lines_and_decode_reads_them_back() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = run(&["endpoint", "encode", "10.42.0.12:8081"], dir.path());
    assert_eq!((code, out.as_str(), err.as_str()), (0, SEED_LINES, ""));
    let (code, out, _) = run(
        &["endpoint", "encode", "gw:1", "--base", "0x2002fc00"],
        dir.path(),
    );
    assert_eq!(code, 0);
    assert!(
        out.starts_with("sysbus WriteDoubleWord 0x2002fc00 0x00000004\n"),
        "{out}"
    );
    let (code, out, _) = run(
        &[
            "endpoint",
            "decode",
            "0f00000031302e34322e302e31323a3830383100",
        ],
        dir.path(),
    );
    assert_eq!((code, out.trim()), (0, "10.42.0.12:8081"));
}

fn fails_with(args: &[&str], expected: &str) {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = run(args, dir.path());
    assert_ne!(code, 0, "{args:?} succeeded: {out}");
    assert!(
        err.contains(expected),
        "{args:?}: expected {expected:?} in:\n{err}"
    );
    assert!(
        !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
        "{args:?} panicked:\n{err}"
    );
    assert!(
        err.trim_start().starts_with("error: "),
        "{args:?}: no error line first:\n{err}"
    );
}

#[test]
fn bad_input_ends_with_a_clear_line() {
    fails_with(
        &["endpoint", "encode", "10.42.0.256:8081"],
        "invalid IPv4 address at byte 8",
    );
    fails_with(
        &["endpoint", "encode", "gw:1", "--base", "0x20001002"],
        "not 4-byte aligned",
    );
    fails_with(&["endpoint", "decode", "00000000"], "mailbox empty");
    fails_with(
        &["endpoint", "decode", "0f0"],
        "the image is not hex (Odd number of digits)",
    );
    fails_with(
        &["endpoint", "decode", "0g"],
        "the image is not hex (Invalid character 'g' at position 1)",
    );
    fails_with(
        &[
            "pki",
            "revoke",
            "--ca-cert",
            "c",
            "--ca-key",
            "k",
            "--crl",
            "r",
            "--serial",
            "3fg",
        ],
        "\"3fg\" is not a serial number",
    );
    fails_with(
        &[
            "--cert",
            "missing.pem",
            "--key",
            "missing-key.pem",
            "--insecure-api-no-auth",
        ],
        "missing.pem does not exist",
    );
    fails_with(&["--cert", "x.pem"], "--key");
    fails_with(
        &[
            "--heartbeat-interval-secs",
            "0",
            "--tls-addr",
            "127.0.0.1:0",
            "--api-addr",
            "127.0.0.1:0",
        ],
        "heartbeat interval",
    );
    fails_with(&["--tls-addr", "nowhere"], "invalid value 'nowhere'");
    fails_with(
        &["--handshake-timeout-secs", "18446744073709551615"],
        "longer than the maximum",
    );
    fails_with(&["--device-max-content-len", "26"], "512..=16384");
    fails_with(&["--listen-backlog", "0"], "0 is not in 1..=65535");
    fails_with(&["--log-burst", "0"], "log burst must be at least 1");
    fails_with(&["--san", "bad_name"], "invalid DNS name");
    fails_with(
        &[
            "pki",
            "device",
            "--ca-cert",
            "nope.pem",
            "--ca-key",
            "nope-key.pem",
            "--id",
            "a",
        ],
        "nope.pem does not exist",
    );
}

#[test]
fn pki_commands_write_files_with_safe_modes() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = run(&["pki", "ca", "--out-dir", "out"], dir.path());
    assert_eq!(code, 0, "{out}{err}");
    let mode = |name: &str| {
        std::fs::metadata(dir.path().join("out").join(name))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode("ca-key.pem"), 0o600);
    assert_eq!(mode("ca.pem"), 0o644);
    let header = std::fs::read_to_string(dir.path().join("out/ca.h")).unwrap();
    assert!(
        header.contains("static const unsigned char ca_certificate[]"),
        "{header}"
    );
    let (code, out, _) = run(
        &[
            "pki",
            "c-header",
            "--cert",
            "out/ca.pem",
            "--symbol",
            "gw_ca",
        ],
        dir.path(),
    );
    assert_eq!(code, 0);
    assert!(out.contains("#define GW_CA_LEN"), "{out}");

    // A device certificate: PEM for tools, C headers for the firmware, the key ones private.
    let (code, out, err) = run(
        &[
            "pki",
            "device",
            "--ca-cert",
            "out/ca.pem",
            "--ca-key",
            "out/ca-key.pem",
            "--id",
            "sensor-1",
            "--out-dir",
            "out",
        ],
        dir.path(),
    );
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(mode("sensor-1.pem"), 0o644);
    assert_eq!(mode("sensor-1-key.pem"), 0o600);
    assert_eq!(mode("sensor-1.h"), 0o644);
    assert_eq!(mode("sensor-1-key.h"), 0o600);
    let cert_header = std::fs::read_to_string(dir.path().join("out/sensor-1.h")).unwrap();
    assert!(
        cert_header.contains("static const unsigned char device_certificate[]")
            && cert_header.contains("TLS_CREDENTIAL_PUBLIC_CERTIFICATE"),
        "{cert_header}"
    );
    let key_header = std::fs::read_to_string(dir.path().join("out/sensor-1-key.h")).unwrap();
    assert!(
        key_header.contains("static const unsigned char device_private_key[]")
            && key_header.contains("SECRET"),
        "{key_header}"
    );

    // Re-issuing leaves the old certificate valid: the warning names its serial, which
    // `pki revoke --serial` takes as printed, and the CRL then lists it.
    let old_pem = std::fs::read(dir.path().join("out/sensor-1.pem")).unwrap();
    let issue = [
        "pki",
        "device",
        "--ca-cert",
        "out/ca.pem",
        "--ca-key",
        "out/ca-key.pem",
        "--id",
        "sensor-1",
        "--out-dir",
        "out",
        "--force",
    ];
    let (code, out, err) = run(&issue, dir.path());
    assert_eq!(code, 0, "{out}{err}");
    let serial = err
        .split("--serial ")
        .nth(1)
        .unwrap_or_else(|| panic!("no revoke hint: {err}"))
        .trim()
        .to_owned();
    assert!(err.contains("is still valid"), "{err}");
    std::fs::write(dir.path().join("out/old.pem"), &old_pem).unwrap();
    let old_cert = wasmbed_tls::load_certificates(&dir.path().join("out/old.pem")).unwrap();
    let old_bytes = wasmbed_tls::certificate_serial(&old_cert[0]).unwrap();
    assert_eq!(serial, hex::encode(&old_bytes));
    let (code, out, err) = run(
        &[
            "pki",
            "revoke",
            "--ca-cert",
            "out/ca.pem",
            "--ca-key",
            "out/ca-key.pem",
            "--crl",
            "out/crl.pem",
            "--serial",
            &serial,
        ],
        dir.path(),
    );
    assert_eq!(code, 0, "{out}{err}");
    let crl = wasmbed_tls::load_crls(&dir.path().join("out/crl.pem")).unwrap();
    let ca = wasmbed_tls::load_certificates(&dir.path().join("out/ca.pem")).unwrap();
    let status = wasmbed_tls::check_crl(&dir.path().join("out/crl.pem"), &crl[0], &ca).unwrap();
    assert_eq!(status.revoked, [old_bytes]);
}

#[test]
fn env_vars_set_flags() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(support::bin())
        .env("WASMBED_GATEWAY_HEARTBEAT_INTERVAL_SECS", "0")
        .args(["--tls-addr", "127.0.0.1:0", "--api-addr", "127.0.0.1:0"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("heartbeat interval"));
}

/// Flags that need or exclude each other are refused by the parser (exit status 2) with a
/// message naming both; a switch set to false in the environment is not the switch.
#[test]
fn flag_combinations_are_refused_naming_both_flags() {
    let dir = tempfile::tempdir().unwrap();
    let production = ["--cert", "gw.pem", "--key", "gw-key.pem"];
    let with = |extra: &[&'static str]| -> Vec<&'static str> {
        production.iter().chain(extra).copied().collect()
    };
    type Case<'a> = (Vec<&'a str>, &'a [(&'a str, &'a str)], &'a [&'a str]);
    let cases: [Case; 8] = [
        (
            vec!["--require-client-cert"],
            &[],
            &["required arguments were not provided", "--client-ca"],
        ),
        (
            vec![],
            &[("WASMBED_GATEWAY_REQUIRE_CLIENT_CERT", "yes")],
            &["required arguments were not provided", "--client-ca"],
        ),
        (
            vec!["serve", "--require-client-cert"],
            &[],
            &["required arguments were not provided", "--client-ca"],
        ),
        (
            with(&[]),
            &[],
            &[
                "required arguments were not provided",
                "--api-token-file",
                "--insecure-api-no-auth",
            ],
        ),
        (
            with(&["--api-token-file", "t", "--san", "gw.example"]),
            &[],
            &["'--cert <CERT>' cannot be used with '--san <SANS>'"],
        ),
        (
            with(&["--api-token-file", "t", "--insecure-api-no-auth"]),
            &[],
            &[
                "--api-token-file",
                "cannot be used with",
                "--insecure-api-no-auth",
            ],
        ),
        (
            with(&["--api-token-file", "t"]),
            &[("WASMBED_GATEWAY_INSECURE_API_NO_AUTH", "1")],
            &[
                "--api-token-file",
                "cannot be used with",
                "--insecure-api-no-auth",
            ],
        ),
        (
            vec!["--crl", "crl.pem"],
            &[],
            &["required arguments were not provided", "--client-ca"],
        ),
    ];
    for (args, env, expected) in cases {
        let (code, out, err) = run_env(&args, dir.path(), env);
        assert_eq!(code, 2, "{args:?} {env:?}: {out}{err}");
        assert!(err.starts_with("error: "), "{args:?} {env:?}: {err}");
        for text in expected {
            assert!(
                err.contains(text),
                "{args:?} {env:?}: no {text:?} in:\n{err}"
            );
        }
    }

    // The parser accepts these (the run then stops at the heartbeat check, before binding).
    let refused_later = ["--heartbeat-interval-secs", "0"];
    for (args, env) in [
        (vec![], [("WASMBED_GATEWAY_REQUIRE_CLIENT_CERT", "false")]),
        (vec![], [("WASMBED_GATEWAY_REQUIRE_CLIENT_CERT", "0")]),
        (vec![], [("WASMBED_GATEWAY_REQUIRE_CLIENT_CERT", "")]),
        (
            with(&["--api-token-file", "t"]),
            [("WASMBED_GATEWAY_INSECURE_API_NO_AUTH", "no")],
        ),
        (
            with(&["--insecure-api-no-auth"]),
            [("WASMBED_GATEWAY_INSECURE_API_NO_AUTH", "off")],
        ),
    ] {
        let args: Vec<&str> = args.iter().chain(&refused_later).copied().collect();
        let (code, out, err) = run_env(&args, dir.path(), &env);
        assert_eq!(code, 1, "{args:?} {env:?}: {out}{err}");
        assert!(
            err.contains("heartbeat interval"),
            "{args:?} {env:?}: {err}"
        );
    }
}

/// Runs the binary in `dir` with `env` set and the locator variables otherwise unset.
fn run_env(args: &[&str], dir: &std::path::Path, env: &[(&str, &str)]) -> (i32, String, String) {
    let mut command = std::process::Command::new(support::bin());
    command
        .args(args)
        .current_dir(dir)
        .env_remove("POD_IP")
        .env_remove("WASMBED_GATEWAY_DEVICE_HOST")
        .env_remove("WASMBED_GATEWAY_DEVICE_DNS")
        .env_remove("WASMBED_GATEWAY_ADDRESS");
    for (key, value) in env {
        command.env(key, value);
    }
    let out = command.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn renode_script_prints_the_seed_lines_inside_the_reset_macro() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "renode",
        "script",
        "--endpoint",
        "10.42.0.12:8081",
        "--elf",
        "/opt/wasmbed/zephyr.elf",
        "--no-read-elf",
        "--device-id",
        "DEVICE_ID",
        "--uart-port",
        "3456",
    ];
    let (code, out, err) = run(&args, dir.path());
    assert_eq!(code, 0, "{err}");
    let macro_body = out
        .split_once("macro reset\n\"\"\"\nsysbus LoadELF $bin\n")
        .and_then(|(_, rest)| rest.split_once("\"\"\"\nrunMacro $reset\n"))
        .map(|(body, _)| body)
        .unwrap_or_else(|| panic!("no reset macro after LoadELF:\n{out}"));
    assert_eq!(
        macro_body,
        format!("sysbus ZeroRange <0x20001000 0x200>\n{SEED_LINES}")
    );
    assert!(out.contains("$bin?=@/opt/wasmbed/zephyr.elf\n"), "{out}");
    assert!(
        out.contains("emulation CreateServerSocketTerminal 3456 \"term\" false\n"),
        "{out}"
    );

    // The same script into a file, on another board whose mailbox moves.
    let file = dir.path().join("k64f.resc");
    let (code, _, err) = run(
        &[
            "renode",
            "script",
            "--endpoint",
            "gw.example:8081",
            "--elf",
            "/fw.elf",
            "--no-read-elf",
            "--board",
            "frdm_k64f",
            "--out",
            file.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(file).unwrap();
    assert!(
        text.contains("sysbus WriteDoubleWord 0x2002fc00 0x0000000f\n"),
        "{text}"
    );
    assert!(text.contains("showAnalyzer sysbus.uart0\n"), "{text}");
}

#[test]
fn renode_provision_writes_the_artefacts_and_logs_the_seed_lines() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = run_env(
        &[
            "renode",
            "provision",
            "--device-id",
            "DEVICE_ID",
            "--elf",
            "/opt/wasmbed/zephyr.elf",
            "--no-read-elf",
            "--gateway-address",
            "http://localhost:8080",
            "--out-dir",
            "artefacts",
        ],
        dir.path(),
        &[("POD_IP", "10.42.0.12")],
    );
    assert_eq!(code, 0, "{out}{err}");
    let resolved = out
        .find("Resolved gateway endpoint for device DEVICE_ID: 10.42.0.12:8081")
        .unwrap_or_else(|| panic!("{out}"));
    let writing = out
        .find("Writing gateway endpoint to memory for device DEVICE_ID: 10.42.0.12:8081")
        .unwrap_or_else(|| panic!("{out}"));
    assert!(resolved < writing);
    let artefacts = dir.path().join("artefacts");
    let script = std::fs::read_to_string(artefacts.join("renode_prewrite_DEVICE_ID.resc")).unwrap();
    let memory =
        std::fs::read_to_string(artefacts.join("gateway_endpoint_memory_DEVICE_ID.txt")).unwrap();
    for text in [&script, &memory] {
        assert!(text.contains(SEED_LINES), "{text}");
    }
    assert!(out.contains("renode_prewrite_DEVICE_ID.resc\n"), "{out}");

    // An explicit device host wins over the pod IP; a DNS name is the last resort.
    let (code, out, err) = run_env(
        &[
            "renode",
            "provision",
            "--device-id",
            "d2",
            "--elf",
            "/fw.elf",
            "--no-read-elf",
            "--device-host",
            "192.0.2.7",
            "--device-dns",
            "gw.wasmbed.svc",
        ],
        dir.path(),
        &[("POD_IP", "10.42.0.12")],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("device d2: 192.0.2.7:8081"), "{out}");
    let (code, out, err) = run_env(
        &[
            "renode",
            "provision",
            "--device-id",
            "d3",
            "--elf",
            "/fw.elf",
            "--no-read-elf",
            "--device-dns",
            "gw.wasmbed.svc",
        ],
        dir.path(),
        &[],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("device d3: gw.wasmbed.svc:8081"), "{out}");
    assert!(
        dir.path()
            .join("wasmbed-state/renode/renode_prewrite_d3.resc")
            .is_file()
    );
}

#[test]
fn renode_commands_refuse_bad_input_with_a_clear_line() {
    let elf = ["--elf", "/fw.elf", "--no-read-elf"];
    let with = |args: &[&'static str]| [args, &elf[..]].concat();
    fails_with(
        &with(&["renode", "provision", "--device-id", "../etc/x"]),
        "device id \"../etc/x\" has '/' at byte 2",
    );
    fails_with(
        &with(&["renode", "provision", "--device-id", ".."]),
        "contains \"..\"",
    );
    fails_with(
        &with(&[
            "renode",
            "provision",
            "--device-id",
            "ok",
            "--pod-ip-env",
            "WASMBED_TEST_UNSET_VAR",
        ]),
        "is loopback and no locator gave a routable host",
    );
    fails_with(
        &with(&[
            "renode",
            "script",
            "--endpoint",
            "10.42.0.12:8081",
            "--mailbox-base",
            "0x20002000",
        ]),
        "give --mailbox-size too",
    );
    fails_with(
        &with(&[
            "renode",
            "script",
            "--endpoint",
            "10.42.0.12:8081",
            "--board",
            "qemu_x86",
        ]),
        "no preset for board \"qemu_x86\"",
    );
    fails_with(
        &with(&[
            "renode",
            "script",
            "--endpoint",
            "a-rather-long-gateway-name.example:8081",
            "--mailbox-size",
            "16",
        ]),
        "needs 44 mailbox bytes but the region 0x20001000..0x20001010 holds 16",
    );
    fails_with(
        &[
            "renode",
            "script",
            "--endpoint",
            "10.42.0.12:8081",
            "--elf",
            "/nonexistent/zephyr.elf",
        ],
        "cannot read firmware ELF /nonexistent/zephyr.elf",
    );
    fails_with(
        &with(&[
            "renode",
            "script",
            "--endpoint",
            "10.42.0.12:8081",
            "--tap",
            "tap0;quit",
        ]),
        "TAP name \"tap0;quit\" cannot be written into a Renode script",
    );
}

/// Issue 12: `pki device --id=-x` issued a certificate while `renode provision --device-id=-x`
/// refused it. Both now check the one `DeviceId` rule and print the same line. (`--id -x`,
/// with a space, is refused by clap before either runs.)
#[test]
fn pki_and_renode_refuse_the_same_device_ids_with_the_same_line() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = run(&["pki", "ca", "--out-dir", "out"], dir.path());
    assert_eq!(code, 0, "{out}{err}");
    let refusal = |args: &[&str]| {
        let (code, out, err) = run(args, dir.path());
        assert_ne!(code, 0, "{args:?} succeeded: {out}{err}");
        err.trim().to_owned()
    };
    for (id, rule) in [
        ("-x", "starts with '-'"),
        (".x", "starts with '.'"),
        ("a..b", "contains \"..\" at byte 1"),
    ] {
        let pki = refusal(&[
            "pki",
            "device",
            "--ca-cert",
            "out/ca.pem",
            "--ca-key",
            "out/ca-key.pem",
            "--out-dir",
            "out",
            &format!("--id={id}"),
        ]);
        let renode = refusal(&[
            "renode",
            "provision",
            "--elf",
            "/fw.elf",
            "--no-read-elf",
            "--device-host",
            "192.0.2.7",
            "--out-dir",
            "artefacts",
            &format!("--device-id={id}"),
        ]);
        assert_eq!(pki, renode, "{id:?}");
        assert!(
            pki.starts_with(&format!("error: device id {id:?} {rule}")),
            "{pki}"
        );
    }
    let written: Vec<_> = std::fs::read_dir(dir.path().join("out"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(
        written.iter().all(|name| name.starts_with("ca")),
        "{written:?}"
    );
    assert!(!dir.path().join("artefacts").exists());
}

/// An operating-system error is printed once, after what failed ("cannot read DIR: Is a
/// directory (os error 21)"), not repeated by every layer that wraps it.
#[test]
fn each_cause_is_printed_once() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("a-directory")).unwrap();
    let cases: [(&[&str], &str); 3] = [
        (
            &["pki", "c-header", "--cert", "a-directory"],
            "cannot read a-directory: Is a directory (os error 21)",
        ),
        (
            &[
                "--cert",
                "a-directory",
                "--key",
                "a-directory",
                "--insecure-api-no-auth",
            ],
            "cannot read a-directory: Is a directory (os error 21)",
        ),
        // The directory exists but no file can be made in it, so the atomic write's temporary
        // file fails.
        (
            &["pki", "ca", "--out-dir", "/proc/self"],
            "cannot write /proc/self/ca-key.pem: No such file or directory (os error 2)",
        ),
    ];
    for (args, expected) in cases {
        let (code, out, err) = run(args, dir.path());
        assert_eq!(code, 1, "{args:?}: {out}{err}");
        assert!(
            err.contains(expected),
            "{args:?}: no {expected:?} in:\n{err}"
        );
        assert_eq!(err.matches("(os error").count(), 1, "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
    }
}

/// A limit out of range names the flag that sets it, then says what is accepted.
#[test]
fn an_out_of_range_limit_names_its_flag() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&[&str], &str); 4] = [
        (
            &["--max-frame-len", "1"],
            "invalid --max-frame-len: max frame length 1 must be in",
        ),
        (
            &["--hello-timeout-secs", "0"],
            "invalid --hello-timeout-secs: hello timeout must be longer than 0",
        ),
        (
            &["--max-connections", "0"],
            "invalid --max-connections: max connections must be at least 1",
        ),
        (
            &["--http2-max-concurrent-streams", "0"],
            "invalid --http2-max-concurrent-streams: HTTP/2 max concurrent streams must be at least 1",
        ),
    ];
    for (args, expected) in cases {
        let (code, out, err) = run(args, dir.path());
        assert_eq!(code, 1, "{args:?}: {out}{err}");
        assert!(
            err.contains(expected),
            "{args:?}: no {expected:?} in:\n{err}"
        );
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
    }
}

/// A state directory that cannot be made is named as the flag's.
#[test]
fn an_unusable_state_dir_names_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a-file"), "").unwrap();
    let (code, out, err) = run(
        &[
            "--state-dir",
            "a-file",
            "--api-addr",
            "127.0.0.1:0",
            "--tls-addr",
            "127.0.0.1:0",
        ],
        dir.path(),
    );
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains("cannot create the state directory a-file/dev (--state-dir): Not a directory"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}

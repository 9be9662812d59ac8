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
        &["--cert", "missing.pem", "--key", "missing-key.pem"],
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
    fails_with(
        &["--require-client-cert"],
        "--require-client-cert needs --client-ca",
    );
    fails_with(&["--device-max-content-len", "26"], "512..=16384");
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

//! End to end: the firmware (`zephyr-app/src/`, unmodified, on the host port with mbedTLS)
//! against the real `wasmbed-gateway` binary on loopback.
//!
//! Every test starts its own gateway on `127.0.0.1:0` and gets the device's Renode lines from
//! `wasmbed-gateway endpoint encode`, as a user would.

#[path = "support/device.rs"]
mod device_support;
#[path = "../../../wasmbed-gateway/tests/support/mod.rs"]
mod gateway_support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use device_support::{Device, write_file};
use gateway_support::{Gateway, run};

const WAIT: Duration = Duration::from_secs(20);

/// The sysbus lines `wasmbed-gateway endpoint encode` prints for `endpoint` (and `base`).
fn resc_for(dir: &Path, name: &str, endpoint: &str, base: Option<&str>) -> PathBuf {
    let mut args = vec!["endpoint", "encode", endpoint];
    if let Some(base) = base {
        args.extend(["--base", base]);
    }
    let (code, out, err) = run(&args, dir);
    assert_eq!(code, 0, "endpoint encode {endpoint}: {err}");
    assert!(out.contains("sysbus WriteDoubleWord"), "{out}");
    write_file(dir, name, out)
}

fn device_state(gateway: &Gateway, id: &str) -> Option<String> {
    let (status, body) = gateway.api("GET", &format!("/devices/{id}"), None);
    if status != 200 {
        return None;
    }
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    json["state"].as_str().map(str::to_owned)
}

fn frames_in(gateway: &Gateway, id: &str) -> u64 {
    gateway.api_json(&format!("/devices/{id}"))["frames_in"]
        .as_u64()
        .unwrap()
}

/// The DATA the device sent, as text, read (and removed) from the gateway.
fn data_from_device(gateway: &Gateway, id: &str) -> Vec<String> {
    gateway.api_json(&format!("/devices/{id}/data"))["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn tls_endpoint(gateway: &Gateway) -> String {
    format!("127.0.0.1:{}", gateway.tls.port())
}

#[test]
fn dev_mode_session_heartbeats_echo_and_data() {
    let gateway = Gateway::start(&["--heartbeat-interval-secs", "1"]);
    let endpoint = tls_endpoint(&gateway);
    let resc = resc_for(gateway.dir.path(), "device.resc", &endpoint, None);
    let device = Device::start(&["--resc", resc.to_str().unwrap(), "--device-id", "sensor-1"]);

    // The lines the seed's troubleshooting guide looks for, in order.
    device.wait_for_log(
        &format!(
            "Read gateway endpoint from memory: {endpoint} (length: {})",
            endpoint.len()
        ),
        WAIT,
    );
    device.wait_for_log(&format!("Connecting to gateway with TLS: {endpoint}"), WAIT);
    device.wait_for_log("Connected to gateway via TLS", WAIT);
    device.wait_for_log(
        "Session established as \"sensor-1\": heartbeat every 1 s",
        WAIT,
    );

    gateway.eventually(WAIT, "sensor-1 connected", || {
        device_state(&gateway, "sensor-1").as_deref() == Some("connected")
    });
    let record = gateway.api_json("/devices/sensor-1");
    assert_eq!(record["firmware_version"], "0.1.0");
    assert_eq!(
        record["tls_version"], "TLSv1.2",
        "mbedTLS 2.28 speaks TLS 1.2"
    );
    assert_eq!(
        record["cipher_suite"], "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        "what prj.conf and the gateway's P-256 key agree on"
    );

    // Heartbeats flow: the gateway keeps counting frames from the device.
    let before = frames_in(&gateway, "sensor-1");
    gateway.eventually(WAIT, "two more heartbeats", || {
        frames_in(&gateway, "sensor-1") >= before + 2
    });

    // ECHO from the API comes back through the firmware.
    let (status, body) = gateway.api("POST", "/devices/sensor-1/echo", Some(b"are you there?"));
    assert_eq!(status, 200, "{body}");
    let echo: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(echo["matches"], true, "{body}");
    device.wait_for_log("ECHO (id", WAIT);

    // DATA both ways: the firmware announces itself, then returns what it is sent. 3000
    // bytes take two device-sized records each way (CONFIG_MBEDTLS_SSL_MAX_CONTENT_LEN=1500).
    let big = "x".repeat(3000);
    for payload in ["hello device", big.as_str()] {
        let (status, body) =
            gateway.api("POST", "/devices/sensor-1/data", Some(payload.as_bytes()));
        assert_eq!(status, 202, "{body}");
    }
    device.wait_for_log("DATA from gateway (id", WAIT);
    device.wait_for_log("3000 bytes)", WAIT);
    let mut received = Vec::new();
    gateway.eventually(WAIT, "the device's DATA", || {
        received.extend(data_from_device(&gateway, "sensor-1"));
        received.len() >= 3
    });
    assert!(
        received[0].starts_with("device sensor-1 up: firmware 0.1.0"),
        "{received:?}"
    );
    assert_eq!(received[1], "hello device");
    assert_eq!(received[2], big);
    assert_eq!(device.count("<err>"), 0, "{}", device.log_text());
}

/// Makes a CA (ca.pem, ca-key.pem, ca.h) in `dir/name`.
fn make_ca(dir: &Path, name: &str) -> PathBuf {
    let out = dir.join(name);
    let (code, _, err) = run(&["pki", "ca", "--out-dir", out.to_str().unwrap()], dir);
    assert_eq!(code, 0, "pki ca: {err}");
    out
}

#[test]
fn production_image_verifies_the_gateway_with_the_ca_header() {
    let dir = tempfile::tempdir().unwrap();
    let ca = make_ca(dir.path(), "ca");
    let other = make_ca(dir.path(), "other-ca");
    let (code, _, err) = run(
        &[
            "pki",
            "gateway",
            "--ca-cert",
            ca.join("ca.pem").to_str().unwrap(),
            "--ca-key",
            ca.join("ca-key.pem").to_str().unwrap(),
            "--san",
            "127.0.0.1",
            "--out-dir",
            dir.path().to_str().unwrap(),
        ],
        dir.path(),
    );
    assert_eq!(code, 0, "pki gateway: {err}");
    let gateway = Gateway::start(&[
        "--cert",
        dir.path().join("gateway.pem").to_str().unwrap(),
        "--key",
        dir.path().join("gateway-key.pem").to_str().unwrap(),
    ]);
    let resc = resc_for(dir.path(), "device.resc", &tls_endpoint(&gateway), None);

    // The right CA: verified, connected.
    let good = Device::start(&[
        "--resc",
        resc.to_str().unwrap(),
        "--image",
        "production",
        "--ca-header",
        ca.join("ca.h").to_str().unwrap(),
        "--device-id",
        "prod-1",
    ]);
    good.wait_for_log("TLS peer verification required (production)", WAIT);
    good.wait_for_log("Gateway CA registered under sec tag 1", WAIT);
    good.wait_for_log("Session established as \"prod-1\"", WAIT);
    gateway.eventually(WAIT, "prod-1 connected", || {
        device_state(&gateway, "prod-1").as_deref() == Some("connected")
    });

    // Another CA's header: the handshake fails, and the log says why.
    let bad = Device::start(&[
        "--resc",
        resc.to_str().unwrap(),
        "--image",
        "production",
        "--ca-header",
        other.join("ca.h").to_str().unwrap(),
        "--device-id",
        "prod-2",
        "--backoff-min-ms",
        "100",
        "--backoff-max-ms",
        "200",
    ]);
    // MBEDTLS_ERR_X509_CERT_VERIFY_FAILED, as Zephyr's socket layer logs it.
    bad.wait_for_log("TLS handshake error: -0x2700", WAIT);
    bad.wait_for_log(
        "Certificate verification failed: The certificate is not correctly signed by the trusted CA",
        WAIT,
    );
    bad.wait_for_log("errno 103 (ECONNABORTED): TLS handshake failed", WAIT);
    bad.wait_for_nth_log("Reconnecting in", 2, WAIT);
    assert_eq!(bad.count("Connected to gateway via TLS"), 0);
    assert_eq!(
        device_state(&gateway, "prod-2"),
        None,
        "never reached HELLO"
    );
}

#[test]
fn device_reconnects_with_backoff_after_a_gateway_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut first = Gateway::start(&["--heartbeat-interval-secs", "1"]);
    let port = first.tls.port();
    let resc = resc_for(
        dir.path(),
        "device.resc",
        &format!("127.0.0.1:{port}"),
        None,
    );
    let device = Device::start(&[
        "--resc",
        resc.to_str().unwrap(),
        "--device-id",
        "roamer",
        "--backoff-min-ms",
        "200",
        "--backoff-max-ms",
        "800",
    ]);
    device.wait_for_log("Session established as \"roamer\"", WAIT);

    // Graceful shutdown: the gateway says GOODBYE, the device backs off and retries.
    first.signal("TERM");
    first.wait_exit(WAIT);
    device.wait_for_log("Gateway said GOODBYE: gateway shutting down", WAIT);
    device.wait_for_log("errno 111 (ECONNREFUSED)", WAIT);
    device.wait_for_nth_log("Reconnecting in", 3, WAIT);

    let tls_addr = format!("127.0.0.1:{port}");
    let second = Gateway::start(&["--tls-addr", &tls_addr, "--heartbeat-interval-secs", "1"]);
    device.wait_for_nth_log("Session established as \"roamer\"", 2, WAIT);
    second.eventually(WAIT, "roamer connected to the new gateway", || {
        device_state(&second, "roamer").as_deref() == Some("connected")
    });

    // The delays grew (equal jitter: attempt n waits between cap/2 and cap).
    let delays: Vec<u64> = device
        .log_text()
        .lines()
        .filter_map(|l| l.split("Reconnecting in ").nth(1))
        .map(|rest| rest.split(' ').next().unwrap().parse().unwrap())
        .collect();
    assert!(delays.len() >= 3, "{delays:?}");
    assert!((100..=200).contains(&delays[0]), "first delay {delays:?}");
    assert!((200..=400).contains(&delays[1]), "second delay {delays:?}");
    assert!(
        delays.iter().all(|d| *d <= 800),
        "capped at 800 ms: {delays:?}"
    );
}

/// Runs the device on `args` and expects it to give up with `reason` before connecting.
fn expect_refused(args: &[&str], reason: &str) -> String {
    let mut device = Device::start(args);
    let code = device.wait_exit(WAIT);
    let log = device.log_text();
    assert_eq!(code, 3, "the firmware's main() gives up; log:\n{log}");
    assert!(log.contains(reason), "expected {reason:?} in:\n{log}");
    assert!(
        log.contains("Not connecting: no usable gateway endpoint"),
        "{log}"
    );
    assert!(!log.contains("Connecting to gateway"), "{log}");
    log
}

#[test]
fn a_bad_mailbox_is_reported_precisely_and_nothing_connects() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();

    // Nothing written: the length word is 0.
    expect_refused(
        &[],
        "Gateway endpoint mailbox at 0x20001000 is empty (length word 0)",
    );

    // A length word beyond 255.
    let oversize = write_file(
        d,
        "oversize.resc",
        "sysbus WriteDoubleWord 0x20001000 0x00000200\n",
    );
    expect_refused(
        &["--resc", oversize.to_str().unwrap()],
        "declares 512 bytes, above the 255-byte maximum",
    );

    // Garbage bytes.
    let garbage = write_file(
        d,
        "garbage.bin",
        [8u8, 0, 0, 0, 0x31, 0x32, 0x07, 0xff, 0, 0, 0, 0],
    );
    expect_refused(
        &["--mailbox-image", garbage.to_str().unwrap()],
        "byte 0x07 at text offset 2 is not printable ASCII",
    );

    // Printable, but not an endpoint: no port.
    let image: Vec<u8> = [&10u32.to_le_bytes()[..], b"10.42.0.12", &[0, 0]].concat();
    let no_port = write_file(d, "no-port.bin", image);
    expect_refused(
        &["--mailbox-image", no_port.to_str().unwrap()],
        "Gateway endpoint \"10.42.0.12\" from the mailbox at 0x20001000 is invalid at byte 10",
    );

    // A region smaller than the length it declares.
    let long = resc_for(d, "long.resc", "gateway.example.com:8081", None);
    expect_refused(
        &["--resc", long.to_str().unwrap(), "--mailbox-size", "16"],
        "declares 24 bytes but the region holds only 16",
    );

    // The address moves per board: frdm_k64f's mailbox is carved from the top of its SRAM, so
    // a sam_e70 script writes outside it and the device finds nothing.
    let sam = resc_for(d, "sam.resc", "127.0.0.1:8081", None);
    let log = expect_refused(
        &["--resc", sam.to_str().unwrap(), "--board", "frdm_k64f"],
        "Gateway endpoint mailbox at 0x2002fc00 is empty",
    );
    assert!(log.contains("outside"), "{log}");
}

#[test]
fn a_script_with_a_malformed_write_is_refused_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let bad = write_file(
        dir.path(),
        "bad.resc",
        "mach create \"dev\"\nsysbus WriteDoubleWord 0x20001000 0xZZ\n",
    );
    let mut device = Device::start(&["--resc", bad.to_str().unwrap()]);
    assert_eq!(device.wait_exit(WAIT), 2);
    let log = device.log_text();
    assert!(log.contains("line 2"), "{log}");
    assert!(!log.contains("Connecting"), "{log}");
}

#[test]
fn other_boards_take_their_mailbox_address_from_their_overlay() {
    let gateway = Gateway::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let resc = resc_for(
        dir.path(),
        "k64f.resc",
        &tls_endpoint(&gateway),
        Some("0x2002fc00"),
    );
    let device = Device::start(&[
        "--resc",
        resc.to_str().unwrap(),
        "--board",
        "frdm_k64f",
        "--device-id",
        "k64f",
    ]);
    device.wait_for_log("Read gateway endpoint from memory", WAIT);
    device.wait_for_log("Session established as \"k64f\"", WAIT);
}

/// Starts a gateway told the devices have `device_buffer` bytes, connects a device with the
/// real 1500 (prj.conf), sends it 3000 bytes of DATA and returns its log after the failure.
fn oversized_records(device_buffer: &str, expect: &[&str]) {
    let gateway = Gateway::start(&["--device-max-content-len", device_buffer]);
    let dir = tempfile::tempdir().unwrap();
    let resc = resc_for(dir.path(), "device.resc", &tls_endpoint(&gateway), None);
    let device = Device::start(&[
        "--resc",
        resc.to_str().unwrap(),
        "--device-id",
        "small-buffer",
        "--backoff-min-ms",
        "5000",
    ]);
    device.wait_for_log("Session established as \"small-buffer\"", WAIT);
    let payload = vec![b'y'; 3000];
    let (status, body) = gateway.api("POST", "/devices/small-buffer/data", Some(&payload));
    assert_eq!(status, 202, "{body}");
    for line in expect {
        device.wait_for_log(line, WAIT);
    }
    device.wait_for_log("Session ended", WAIT);
    assert_eq!(
        device.count("DATA from gateway"),
        0,
        "{}",
        device.log_text()
    );
}

#[test]
fn records_above_the_device_buffer_fail_as_on_the_device() {
    // 1508 bytes of content: the record (1532 bytes with AES-GCM) fits mbedTLS's input buffer
    // (1500 + 32 bytes of overhead without CBC), and the content check after decryption
    // refuses it: MBEDTLS_ERR_SSL_INVALID_RECORD.
    oversized_records(
        "1508",
        &[
            "TLS record with 1508 bytes of content (type 23) exceeds the device's CONFIG_MBEDTLS_SSL_MAX_CONTENT_LEN=1500",
            "TLS recv error: -0x7200",
        ],
    );
    // 3000 bytes in one record do not even fit the buffer: MBEDTLS_ERR_SSL_BAD_INPUT_DATA.
    oversized_records(
        "4096",
        &[
            "does not fit the device's input buffer: CONFIG_MBEDTLS_SSL_MAX_CONTENT_LEN=1500 holds records of at most 1532",
            "TLS recv error: -0x7100",
        ],
    );
}

#[test]
fn mtls_image_presents_its_certificate_and_the_gateway_checks_the_id() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ca = make_ca(d, "ca");
    let device_ca = make_ca(d, "device-ca");
    let pki = |args: &[&str]| {
        let (code, out, err) = run(args, d);
        assert_eq!(code, 0, "{args:?}: {out}{err}");
    };
    let path = |p: PathBuf| p.to_str().unwrap().to_owned();
    let (ca_pem, ca_key) = (path(ca.join("ca.pem")), path(ca.join("ca-key.pem")));
    let (dca_pem, dca_key) = (
        path(device_ca.join("ca.pem")),
        path(device_ca.join("ca-key.pem")),
    );
    let out = path(d.join("pki"));
    pki(&[
        "pki",
        "gateway",
        "--ca-cert",
        &ca_pem,
        "--ca-key",
        &ca_key,
        "--san",
        "127.0.0.1",
        "--out-dir",
        &out,
    ]);
    pki(&[
        "pki",
        "device",
        "--ca-cert",
        &dca_pem,
        "--ca-key",
        &dca_key,
        "--id",
        "sensor-7",
        "--out-dir",
        &out,
    ]);
    let gateway = Gateway::start(&[
        "--cert",
        &path(d.join("pki/gateway.pem")),
        "--key",
        &path(d.join("pki/gateway-key.pem")),
        "--client-ca",
        &dca_pem,
        "--require-client-cert",
    ]);
    let resc = resc_for(d, "device.resc", &tls_endpoint(&gateway), None);
    let resc = path(resc);
    let ca_header = path(ca.join("ca.h"));
    let cert_header = path(d.join("pki/sensor-7.h"));
    let key_header = path(d.join("pki/sensor-7-key.h"));
    let mtls = |id: &str| {
        Device::start(&[
            "--resc",
            &resc,
            "--image",
            "production-mtls",
            "--ca-header",
            &ca_header,
            "--device-cert-header",
            &cert_header,
            "--device-key-header",
            &key_header,
            "--device-id",
            id,
            "--backoff-min-ms",
            "5000",
        ])
    };

    // The certificate's CN is the HELLO id: accepted, and the gateway knows who it is.
    let good = mtls("sensor-7");
    good.wait_for_log("Device certificate registered under sec tag 2", WAIT);
    good.wait_for_log("Device private key registered under sec tag 2", WAIT);
    good.wait_for_log("Session established as \"sensor-7\"", WAIT);
    gateway.eventually(WAIT, "sensor-7 connected", || {
        device_state(&gateway, "sensor-7").as_deref() == Some("connected")
    });
    assert_eq!(
        gateway.api_json("/devices/sensor-7")["client_certificate_cn"],
        "sensor-7"
    );

    // Another id with that certificate: the gateway refuses it with ERROR device id mismatch.
    let impostor = mtls("sensor-8");
    impostor.wait_for_log("Connected to gateway via TLS", WAIT);
    impostor.wait_for_log(
        "Gateway sent ERROR 6 (device id does not match the client certificate)",
        WAIT,
    );

    // The production image has no certificate: the gateway requires one, the handshake fails.
    let anonymous = Device::start(&[
        "--resc",
        &resc,
        "--image",
        "production",
        "--ca-header",
        &ca_header,
        "--device-id",
        "anonymous",
        "--backoff-min-ms",
        "5000",
    ]);
    anonymous.wait_for_log("TLS handshake error: -0x", WAIT);
    anonymous.wait_for_log("(ECONNABORTED)", WAIT);
    assert_eq!(anonymous.count("Connected to gateway via TLS"), 0);
}

#[test]
fn scripts_from_renode_script_boot_the_device_on_each_board() {
    let gateway = Gateway::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    for (renode_board, device_board, id) in [
        (
            "sam_e70_xplained/same70q21",
            "sam_e70_xplained_same70q21",
            "renode-sam",
        ),
        ("frdm_k64f", "frdm_k64f", "renode-k64f"),
    ] {
        let resc = dir.path().join(format!("{id}.resc"));
        let (code, out, err) = run(
            &[
                "renode",
                "script",
                "--endpoint",
                &tls_endpoint(&gateway),
                "--device-id",
                id,
                "--board",
                renode_board,
                "--elf",
                "/opt/wasmbed/zephyr.elf",
                "--no-read-elf",
                "--out",
                resc.to_str().unwrap(),
            ],
            dir.path(),
        );
        assert_eq!(code, 0, "renode script: {out}{err}");
        let script = std::fs::read_to_string(&resc).unwrap();
        assert!(script.contains("macro reset"), "{script}");
        let device = Device::start(&[
            "--resc",
            resc.to_str().unwrap(),
            "--board",
            device_board,
            "--device-id",
            id,
        ]);
        device.wait_for_log(
            &format!(
                "Read gateway endpoint from memory: {}",
                tls_endpoint(&gateway)
            ),
            WAIT,
        );
        device.wait_for_log(&format!("Session established as \"{id}\""), WAIT);
        assert_eq!(
            device.count("outside the mailbox"),
            0,
            "{}",
            device.log_text()
        );
    }
}

//! One accurate, rate-limited log line per failed handshake, with the peer and the class, and
//! the same class as the `result` label of `wasmbed_handshakes_total`; rustls' own
//! per-connection lines stay out of ordinary logs. Issue 11 item 2.
//!
//! The gateways here log at `info`, as an operator would run them.

#[path = "support/records.rs"]
mod records;
mod support;

use std::io::Write;
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use records::{
    client_config, client_hello, connect, device_schemes, handshake_message, legacy_client_hello,
    read_until_close, record, send, tls12_client_hello,
};
use support::{Gateway, run};
use wasmbed_tls::rustls::version::TLS12;
use wasmbed_tls::rustls::{self, ClientConnection, RootCertStore, SignatureScheme};

fn gateway(args: &[&str]) -> Gateway {
    Gateway::start_logging(tempfile::tempdir().unwrap(), args, "info")
}

/// Waits for the failure line of `peer` and checks its class; then the metric.
fn expect_failure(gw: &mut Gateway, peer: SocketAddr, class: &str) -> String {
    let needle = format!("peer={peer}");
    let line = gw.wait_for_log(&needle, Duration::from_secs(10));
    assert!(line.contains("TLS handshake failed"), "{line}");
    assert!(line.contains(&format!("class=\"{class}\"")), "{line}");
    let sample = format!("wasmbed_handshakes_total{{result=\"{class}\"}} 1");
    gw.eventually(Duration::from_secs(10), &sample, || {
        gw.api("GET", "/metrics", None).1.contains(&sample)
    });
    line
}

/// Sends `bytes`, reads until the gateway closes, closes; returns the client's address.
fn exchange(gw: &Gateway, bytes: &[u8]) -> SocketAddr {
    let mut tcp = connect(gw.tls);
    send(&mut tcp, bytes);
    read_until_close(&mut tcp);
    tcp.local_addr().unwrap()
}

#[test]
fn not_tls() {
    let mut gw = gateway(&[]);
    let peer = exchange(&gw, &(1..=64).collect::<Vec<u8>>());
    expect_failure(&mut gw, peer, "not_tls");
}

#[test]
fn plaintext_http() {
    let mut gw = gateway(&[]);
    let peer = exchange(&gw, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
    expect_failure(&mut gw, peer, "plaintext_http");
}

/// A handshake record whose ClientHello body is one byte: real TLS framing, broken content.
#[test]
fn malformed_tls_is_not_called_not_tls() {
    let mut gw = gateway(&[]);
    let peer = exchange(&gw, &record(0x16, 0x0301, &handshake_message(1, &[0xff])));
    expect_failure(&mut gw, peer, "malformed_tls");
}

#[test]
fn unsupported_version() {
    let mut gw = gateway(&[]);
    let peer = exchange(&gw, &legacy_client_hello(0x0301));
    let line = expect_failure(&mut gw, peer, "unsupported_version");
    assert!(line.contains("TLS 1.0"), "{line}");
}

/// TLS_RSA_WITH_AES_128_CBC_SHA only.
#[test]
fn no_shared_cipher_suite() {
    let mut gw = gateway(&[]);
    let peer = exchange(&gw, &tls12_client_hello(&[0x002f], None));
    expect_failure(&mut gw, peer, "no_shared_cipher_suite");
}

#[test]
fn no_signature_scheme() {
    let mut gw = gateway(&[]);
    let schemes = [SignatureScheme::ECDSA_NISTP384_SHA384];
    let peer = exchange(&gw, &client_hello(client_config(&[&TLS12], &[], &schemes)));
    expect_failure(&mut gw, peer, "no_signature_scheme");
}

/// A host_name with a space in it: not a DNS name (RFC 6066 section 3).
#[test]
fn bad_sni() {
    let mut gw = gateway(&[]);
    let peer = exchange(&gw, &tls12_client_hello(&[0xc02b], Some(b"bad name!")));
    let line = expect_failure(&mut gw, peer, "bad_sni");
    assert!(
        !line.contains("ServerNameMustContainOneHostName\""),
        "{line}"
    );
}

/// Half a ClientHello, then the client goes away: logged at info, not silently.
#[test]
fn client_closed_mid_handshake() {
    let mut gw = gateway(&[]);
    let hello = client_hello(client_config(&[&TLS12], &[], &device_schemes()));
    let mut tcp = connect(gw.tls);
    send(&mut tcp, &hello[..hello.len() / 2]);
    let peer = tcp.local_addr().unwrap();
    drop(tcp);
    let line = expect_failure(&mut gw, peer, "peer_closed");
    assert!(line.contains("INFO"), "{line}");
}

/// A verifying client that does not know the dev certificate's issuer sends unknown_ca.
#[test]
fn client_alert_is_named() {
    let mut gw = gateway(&[]);
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(RootCertStore::empty())
    .with_no_client_auth();
    let mut client =
        ClientConnection::new(Arc::new(config), "localhost".try_into().unwrap()).unwrap();
    let mut tcp = connect(gw.tls);
    while client.is_handshaking() {
        if client.complete_io(&mut tcp).is_err() {
            break;
        }
    }
    let _ = client.write_tls(&mut tcp);
    let peer = tcp.local_addr().unwrap();
    drop(tcp);
    let line = expect_failure(&mut gw, peer, "client_alert");
    assert!(line.contains("unknown_ca"), "{line}");
    assert!(line.contains("client rejected our certificate"), "{line}");
}

/// mTLS required, and the client has no certificate.
#[test]
fn client_certificate_refused_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = run(
        &["pki", "ca", "--out-dir", "devices", "--name", "device-ca"],
        dir.path(),
    );
    assert_eq!(code, 0, "{out}{err}");
    let ca = dir.path().join("devices/device-ca.pem");
    let mut gw = Gateway::start_logging(
        dir,
        &["--client-ca", ca.to_str().unwrap(), "--require-client-cert"],
        "info",
    );
    let mut client = ClientConnection::new(
        client_config(&[&TLS12], &[], &device_schemes()),
        "localhost".try_into().unwrap(),
    )
    .unwrap();
    let mut tcp = connect(gw.tls);
    while client.is_handshaking() {
        if client.complete_io(&mut tcp).is_err() {
            break;
        }
    }
    let _ = client.write_tls(&mut tcp);
    read_until_close(&mut tcp);
    let peer = tcp.local_addr().unwrap();
    drop(tcp);
    let line = expect_failure(&mut gw, peer, "client_certificate_rejected");
    assert!(line.contains("no certificates"), "{line}");
}

#[test]
fn timeout() {
    let mut gw = gateway(&["--handshake-timeout-secs", "1"]);
    let mut tcp = connect(gw.tls);
    let peer = tcp.local_addr().unwrap();
    read_until_close(&mut tcp);
    expect_failure(&mut gw, peer, "timeout");
}

/// Every class is a metric label from the start, at zero.
#[test]
fn every_class_is_a_metric_label() {
    let gw = gateway(&[]);
    let (_, metrics) = gw.api("GET", "/metrics", None);
    let labels: Vec<&str> = metrics
        .lines()
        .filter_map(|line| line.strip_prefix("wasmbed_handshakes_total{result=\""))
        .filter_map(|rest| rest.split('"').next())
        .collect();
    let mut expected: Vec<&str> = wasmbed_server::server::HandshakeFailure::ALL
        .iter()
        .map(|failure| failure.as_str())
        .collect();
    expected.insert(0, "ok");
    assert_eq!(labels.len(), expected.len(), "{metrics}");
    for label in expected {
        assert!(labels.contains(&label), "{label}: {metrics}");
    }
}

/// openssl s_client sending an IP address as SNI, like every Mbed TLS device that dials its
/// gateway by IP; returns once the handshake is done.
fn connect_with_ip_sni(gw: &Gateway) {
    let mut child = Command::new("openssl")
        .args([
            "s_client",
            "-connect",
            &gw.tls.to_string(),
            "-servername",
            "127.0.0.1",
            "-no_ign_eof",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("openssl is installed");
    // A device's GOODBYE would need a HELLO first; closing stdin ends s_client after the
    // handshake.
    let mut stdin = child.stdin.take().unwrap();
    let _ = stdin.write_all(b"");
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("alert"), "the handshake failed: {stderr}");
}

#[test]
fn ip_address_as_sni_adds_no_rustls_line_at_info_or_warn() {
    // (A bare `warn` would hide the startup lines the test harness reads the ports from.)
    for filter in [
        "info",
        "warn,wasmbed_gateway=info,wasmbed_server=info",
        "info,wasmbed_server=debug",
    ] {
        let gw = Gateway::start_logging(tempfile::tempdir().unwrap(), &[], filter);
        for _ in 0..3 {
            connect_with_ip_sni(&gw);
        }
        // The API answering after the connections is the gateway having handled them.
        gw.eventually(Duration::from_secs(10), "three handshakes counted", || {
            gw.api("GET", "/metrics", None)
                .1
                .contains("wasmbed_handshakes_total{result=\"ok\"} 3")
        });
        let log = gw.log_text();
        assert!(!log.contains("Illegal SNI"), "{filter}: {log}");
    }
}

/// The control: the same connection does make rustls log the warning, which shows once the
/// filter names rustls or is a bare debug.
#[test]
fn ip_address_as_sni_warning_shows_when_the_filter_names_rustls_or_is_debug() {
    for filter in ["info,rustls=warn", "debug"] {
        let mut gw = Gateway::start_logging(tempfile::tempdir().unwrap(), &[], filter);
        connect_with_ip_sni(&gw);
        gw.wait_for_log("Illegal SNI extension", Duration::from_secs(10));
    }
}

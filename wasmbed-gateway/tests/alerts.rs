//! Every fatal error the gateway detects after a ClientHello is answered with its alert before
//! the connection closes (RFC 8446 section 6), during the handshake and after it; issue 11
//! item 1. Each case is crafted below rustls' client API and sent over a real socket to the
//! real binary; the bytes that come back are checked exactly.

#[path = "support/records.rs"]
mod records;
mod support;

use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use records::{
    APPLICATION_DATA, client_config, client_hello, connect, device_schemes, fatal_alert, fragment,
    legacy_client_hello, oversized_client_hello, read_record, read_sealed, read_until_close,
    record, record_payload, send,
};
use support::Gateway;
use wasmbed_tls::rustls::crypto::aws_lc_rs::cipher_suite;
use wasmbed_tls::rustls::crypto::cipher::{
    InboundOpaqueMessage, OutboundChunks, OutboundPlainMessage,
};
use wasmbed_tls::rustls::version::{TLS12, TLS13};
use wasmbed_tls::rustls::{
    AlertDescription, ClientConnection, ContentType, ProtocolVersion, SignatureScheme,
};

const UNEXPECTED_MESSAGE: u8 = 10;
const HANDSHAKE_FAILURE: u8 = 40;
const DECODE_ERROR: u8 = 50;
const PROTOCOL_VERSION: u8 = 70;

/// Waits until `wasmbed_handshakes_total{result}` reaches `expected` (the gateway counts a
/// failure once the client has closed too).
fn assert_metric(gw: &Gateway, result: &str, expected: u64) {
    gw.eventually(
        Duration::from_secs(10),
        &format!("{result} counted {expected} times"),
        || metric(gw, result) == expected,
    );
}

fn metric(gw: &Gateway, result: &str) -> u64 {
    let (_, metrics) = gw.api("GET", "/metrics", None);
    let prefix = format!("wasmbed_handshakes_total{{result=\"{result}\"}} ");
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {prefix}: {metrics}"))
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn tls_1_0_and_1_1_get_protocol_version() {
    let gw = Gateway::start(&[]);
    for version in [0x0301, 0x0302] {
        let mut tcp = connect(gw.tls);
        send(&mut tcp, &legacy_client_hello(version));
        assert_eq!(
            read_until_close(&mut tcp),
            fatal_alert(PROTOCOL_VERSION),
            "version 0x{version:04x}"
        );
    }
    assert_metric(&gw, "unsupported_version", 2);
}

#[test]
fn a_client_hello_over_64_kib_gets_decode_error() {
    let gw = Gateway::start(&[]);
    let mut tcp = connect(gw.tls);
    for record in fragment(&oversized_client_hello(70_000), 16_384) {
        send(&mut tcp, &record);
    }
    assert_eq!(read_until_close(&mut tcp), fatal_alert(DECODE_ERROR));
    drop(tcp);
    assert_metric(&gw, "malformed_tls", 1);
}

#[test]
fn application_data_between_hello_fragments_gets_unexpected_message() {
    let gw = Gateway::start(&[]);
    let hello = client_hello(client_config(&[&TLS13, &TLS12], &[], &device_schemes()));
    let message = record_payload(&hello);
    let (first, second) = message.split_at(message.len() / 2);
    let mut tcp = connect(gw.tls);
    send(&mut tcp, &record(0x16, 0x0301, first));
    send(&mut tcp, &record(APPLICATION_DATA, 0x0303, &[0]));
    send(&mut tcp, &record(0x16, 0x0301, second));
    assert_eq!(read_until_close(&mut tcp), fatal_alert(UNEXPECTED_MESSAGE));
    drop(tcp);
    assert_metric(&gw, "malformed_tls", 1);
}

/// The gateway's P-256 key signs with ECDSA-SHA256 only; TLS 1.2 would allow SHA-384 with
/// it, but the gateway refuses cleanly instead (see `tls_io::refuse_unusable_signature_schemes`).
#[test]
fn tls_1_2_with_only_ecdsa_sha384_and_sha512_gets_handshake_failure() {
    let mut gw = Gateway::start(&[]);
    let schemes = [
        SignatureScheme::ECDSA_NISTP384_SHA384,
        SignatureScheme::ECDSA_NISTP521_SHA512,
    ];
    let mut tcp = connect(gw.tls);
    send(
        &mut tcp,
        &client_hello(client_config(&[&TLS12], &[], &schemes)),
    );
    assert_eq!(read_until_close(&mut tcp), fatal_alert(HANDSHAKE_FAILURE));
    drop(tcp);
    let line = gw.wait_for_log("class=\"no_signature_scheme\"", Duration::from_secs(5));
    assert!(line.contains("ECDSA_NISTP384_SHA384"), "{line}");
    assert_metric(&gw, "no_signature_scheme", 1);
}

/// A TLS 1.2 client that tries to renegotiate gets no_renegotiation (a warning, RFC 5746) at
/// once, not when the gateway next has a frame to send (here: the hello timeout, 60 s away).
#[test]
fn refused_renegotiation_is_answered_at_once() {
    let gw = Gateway::start(&["--hello-timeout-secs", "60"]);
    let config = client_config(
        &[&TLS12],
        &[cipher_suite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256],
        &device_schemes(),
    );
    let mut tcp = connect(gw.tls);
    let mut keys = records::handshake(&mut tcp, config.clone());
    let hello = client_hello(config);
    let renegotiate = keys.seal(ContentType::Handshake, record_payload(&hello));
    send(&mut tcp, &renegotiate);
    let (typ, payload) = read_record(&mut tcp, Duration::from_secs(20))
        .expect("no answer to the renegotiation before the hello timeout");
    assert_eq!(typ, 0x15, "TLS 1.2 alerts keep their record type");
    let (inner, alert) = keys.open(typ, payload);
    assert_eq!(inner, ContentType::Alert);
    assert_eq!(alert, [1, u8::from(AlertDescription::NoRenegotiation)]);
}

/// After the handshake, a TLS 1.3 record whose inner plaintext is all zeros (RFC 8446 section
/// 5.4). rustls 0.23 queues no alert for it and lets an application send only close_notify,
/// so that is what the client must see, encrypted, before the connection closes.
#[test]
fn all_zero_inner_plaintext_after_the_handshake_gets_an_alert_before_close() {
    let mut gw = Gateway::start(&["--hello-timeout-secs", "60"]);
    let config = client_config(&[&TLS13], &[], &device_schemes());
    let mut tcp = connect(gw.tls);
    let mut keys = records::handshake(&mut tcp, config);
    // The session tickets come once the gateway has the client's Finished: the handshake is
    // over on its side too.
    let (typ, tickets) = read_record(&mut tcp, Duration::from_secs(10)).expect("no tickets");
    assert_eq!(keys.open(typ, tickets).0, ContentType::Handshake);
    let zero = keys.seal(ContentType::Unknown(0), &[]);
    send(&mut tcp, &zero);
    let records = read_sealed(&mut tcp, &mut keys, Duration::from_secs(20));
    let last = records
        .last()
        .unwrap_or_else(|| panic!("the gateway closed without a record: {}", gw.log_text()));
    assert_eq!(last.0, ContentType::Alert, "{}", gw.log_text());
    assert_eq!(last.1, [1, 0], "close_notify: {records:?}");
    drop(tcp);
    gw.wait_for_log("IllegalTlsInnerPlaintext", Duration::from_secs(5));
}

/// During the handshake: the client's second flight replaced by a record, under the client's
/// handshake traffic key, whose inner plaintext is all zeros. The gateway has sent its
/// encrypted flight, so the alert must come encrypted; rustls lets it send close_notify, which
/// must arrive before the connection closes.
#[test]
fn all_zero_inner_plaintext_during_the_handshake_gets_an_encrypted_alert() {
    let mut gw = Gateway::start(&[]);
    let secrets = Arc::new(records::Secrets::default());
    let mut config = (*client_config(
        &[&TLS13],
        &[cipher_suite::TLS13_CHACHA20_POLY1305_SHA256],
        &device_schemes(),
    ))
    .clone();
    config.key_log = secrets.clone();
    let mut client =
        ClientConnection::new(Arc::new(config), "localhost".try_into().unwrap()).unwrap();
    let mut tcp = connect(gw.tls);
    client.write_tls(&mut tcp).unwrap();
    while client.is_handshaking() {
        let mut buf = [0u8; 4096];
        let n = tcp.read(&mut buf).unwrap();
        assert!(n > 0, "the gateway closed during its flight");
        client.read_tls(&mut &buf[..n]).unwrap();
        client.process_new_packets().unwrap();
    }
    let (mut client_key, _) =
        records::chacha_traffic_keys(&secrets.get("CLIENT_HANDSHAKE_TRAFFIC_SECRET"));
    // After its Finished the gateway sends under its first application traffic key (RFC 8446
    // section 7.2), from sequence number 0.
    let (_, mut server_key) = records::chacha_traffic_keys(&secrets.get("SERVER_TRAFFIC_SECRET_0"));
    let zero = client_key
        .encrypt(
            OutboundPlainMessage {
                typ: ContentType::Unknown(0),
                version: ProtocolVersion::TLSv1_2,
                payload: OutboundChunks::Single(&[]),
            },
            0,
        )
        .unwrap()
        .encode();
    send(&mut tcp, &zero);
    let answer = records::split_records(&read_until_close(&mut tcp));
    drop(tcp);
    let (typ, mut payload) = answer.last().cloned().expect("closed without an alert");
    assert_eq!(typ, APPLICATION_DATA, "{answer:?}");
    let alert = server_key
        .decrypt(
            InboundOpaqueMessage::new(
                ContentType::ApplicationData,
                ProtocolVersion::TLSv1_2,
                &mut payload,
            ),
            0,
        )
        .unwrap();
    assert_eq!(alert.typ, ContentType::Alert);
    assert_eq!(alert.payload, [1, 0], "close_notify");
    let line = gw.wait_for_log("class=\"malformed_tls\"", Duration::from_secs(10));
    assert!(line.contains("IllegalTlsInnerPlaintext"), "{line}");
}

//! Real rustls handshakes, in memory, with the configurations this crate builds.

mod support;

use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

use support::{Failed, Pair, handshake, records};
use wasmbed_tls::rustls::{self, CertificateError, HandshakeKind, ProtocolVersion};
use wasmbed_tls::{
    CertResolver, CertificateAuthority, CertificateOptions, ClientAuth, ConfigError, DeviceId,
    Identity, KeyAlgorithm, ServerOptions, Validity, client_config, danger, dev_gateway,
    server_config,
};

fn options() -> CertificateOptions {
    CertificateOptions::default()
}

/// One production PKI for the whole file: a gateway CA, a device CA, the gateway leaf.
struct Pki {
    ca: CertificateAuthority,
    device_ca: CertificateAuthority,
    gateway: Identity,
}

fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        let ca = CertificateAuthority::generate("test gateway CA", &options()).unwrap();
        let device_ca = CertificateAuthority::generate("test device CA", &options()).unwrap();
        let names = [
            "10.42.0.12".parse().unwrap(),
            "gw.example".parse().unwrap(),
            "::1".parse().unwrap(),
        ];
        let gateway = ca.issue_gateway(&names, &options()).unwrap();
        Pki {
            ca,
            device_ca,
            gateway,
        }
    })
}

fn server(identity: &Identity, options: &ServerOptions) -> Arc<rustls::ServerConfig> {
    server_config(Arc::new(CertResolver::new(identity, options).unwrap())).unwrap()
}

fn production_client(identity: Option<&Identity>) -> Arc<rustls::ClientConfig> {
    client_config(&[pki().ca.certificate().clone()], identity, &[]).unwrap()
}

#[test]
fn dev_handshake_with_the_insecure_client() {
    let identity = dev_gateway(&["localhost".parse().unwrap()], &options()).unwrap();
    let server = server(&identity, &ServerOptions::default());
    let client = danger::insecure_dev_client_config(None, &[]).unwrap();
    // A dev-mode device verifies nothing, so any name (or an address) works.
    let mut pair = handshake(client, server, "10.0.0.99").unwrap();
    assert_eq!(
        pair.client.protocol_version(),
        Some(ProtocolVersion::TLSv1_3)
    );
    assert_eq!(pair.client_to_server(b"hello"), b"hello");
}

#[test]
fn the_server_chooses_aes_128_gcm_whatever_the_client_prefers() {
    // rustls clients list AES-256-GCM first; the gateway's order decides (SERVER_SUITE_ORDER).
    let server = server(&pki().gateway, &ServerOptions::default());
    let tls13 = handshake(production_client(None), server.clone(), "gw.example").unwrap();
    assert_eq!(
        tls13.client.negotiated_cipher_suite().map(|s| s.suite()),
        Some(rustls::CipherSuite::TLS13_AES_128_GCM_SHA256)
    );
    let tls12 = handshake(
        support::tls12_client(pki().ca.certificate()),
        server,
        "gw.example",
    )
    .unwrap();
    assert_eq!(
        tls12.client.negotiated_cipher_suite().map(|s| s.suite()),
        Some(rustls::CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256)
    );
    assert_eq!(
        wasmbed_tls::SERVER_SUITE_ORDER[0],
        rustls::CipherSuite::TLS13_AES_128_GCM_SHA256
    );
}

#[test]
fn dev_certificate_does_not_verify_as_production() {
    let identity = dev_gateway(&["localhost".parse().unwrap()], &options()).unwrap();
    let server = server(&identity, &ServerOptions::default());
    let err = handshake(production_client(None), server, "localhost")
        .err()
        .unwrap();
    assert_eq!(
        err,
        Failed::Client(rustls::Error::InvalidCertificate(
            CertificateError::UnknownIssuer
        ))
    );
}

#[test]
fn production_handshake_for_every_name_devices_dial() {
    let server = server(&pki().gateway, &ServerOptions::default());
    for name in ["10.42.0.12", "gw.example", "::1"] {
        let pair = handshake(production_client(None), server.clone(), name)
            .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(
            pair.client.peer_certificates().unwrap()[0],
            pki().gateway.chain()[0]
        );
    }
}

#[test]
fn wrong_ca_is_an_unknown_issuer() {
    let other = CertificateAuthority::generate("another CA", &options()).unwrap();
    let client = client_config(&[other.certificate().clone()], None, &[]).unwrap();
    let server = server(&pki().gateway, &ServerOptions::default());
    let err = handshake(client, server, "gw.example").err().unwrap();
    assert_eq!(
        err,
        Failed::Client(rustls::Error::InvalidCertificate(
            CertificateError::UnknownIssuer
        ))
    );
}

#[test]
fn expired_certificate_is_refused() {
    let now = SystemTime::now();
    let expired = options().with_validity(Validity::new(
        now - Duration::from_secs(10 * 86_400),
        now - Duration::from_secs(86_400),
    ));
    let gateway = pki()
        .ca
        .issue_gateway(&["gw.example".parse().unwrap()], &expired)
        .unwrap();
    // The gateway refuses to present an expired certificate to devices; a server no device
    // talks to (no device limit, so no device checks) shows what a client does with one.
    assert!(matches!(
        CertResolver::new(&gateway, &ServerOptions::default()),
        Err(ConfigError::CertificateExpired { .. })
    ));
    let lenient = ServerOptions::default().with_device_max_content_len(None);
    let err = handshake(
        production_client(None),
        server(&gateway, &lenient),
        "gw.example",
    )
    .err()
    .unwrap();
    assert!(
        matches!(
            err,
            Failed::Client(rustls::Error::InvalidCertificate(
                CertificateError::Expired | CertificateError::ExpiredContext { .. }
            ))
        ),
        "{err:?}"
    );
}

#[test]
fn name_mismatch_is_refused() {
    let server = server(&pki().gateway, &ServerOptions::default());
    for name in ["10.42.0.13", "other.example"] {
        let err = handshake(production_client(None), server.clone(), name)
            .err()
            .unwrap();
        assert!(
            matches!(
                err,
                Failed::Client(rustls::Error::InvalidCertificate(
                    CertificateError::NotValidForName
                        | CertificateError::NotValidForNameContext { .. }
                ))
            ),
            "{name}: {err:?}"
        );
    }
}

fn mtls(required: bool) -> ServerOptions {
    let roots = vec![pki().device_ca.certificate().clone()];
    ServerOptions::default().with_client_auth(if required {
        ClientAuth::Required(roots)
    } else {
        ClientAuth::Optional(roots)
    })
}

#[test]
fn mtls_accepts_a_device_of_the_device_ca() {
    let device = pki()
        .device_ca
        .issue_device(&DeviceId::new("sensor-1").unwrap(), &options())
        .unwrap();
    let pair = handshake(
        production_client(Some(&device)),
        server(&pki().gateway, &mtls(true)),
        "gw.example",
    )
    .unwrap();
    let presented = pair.server.peer_certificates().unwrap();
    assert_eq!(presented[0], device.chain()[0]);
}

#[test]
fn mtls_rejects_unknown_and_missing_client_certificates() {
    let stranger_ca = CertificateAuthority::generate("stranger CA", &options()).unwrap();
    let stranger = stranger_ca
        .issue_device(&DeviceId::new("sensor-1").unwrap(), &options())
        .unwrap();
    let server = server(&pki().gateway, &mtls(true));
    let err = handshake(
        production_client(Some(&stranger)),
        server.clone(),
        "gw.example",
    )
    .err()
    .unwrap();
    assert_eq!(
        err,
        Failed::Server(rustls::Error::InvalidCertificate(
            CertificateError::UnknownIssuer
        ))
    );
    let err = handshake(production_client(None), server, "gw.example")
        .err()
        .unwrap();
    assert_eq!(err, Failed::Server(rustls::Error::NoCertificatesPresented));
}

#[test]
fn optional_mtls_accepts_a_client_without_certificate() {
    let pair = handshake(
        production_client(None),
        server(&pki().gateway, &mtls(false)),
        "gw.example",
    )
    .unwrap();
    assert!(pair.server.peer_certificates().is_none());
}

#[test]
fn a_gateway_certificate_is_no_client_certificate() {
    // serverAuth-only leaves must not pass as device certificates, even from the right CA.
    let fake = pki()
        .device_ca
        .issue_gateway(&["sensor-1".parse().unwrap()], &options())
        .unwrap();
    let err = handshake(
        production_client(Some(&fake)),
        server(&pki().gateway, &mtls(true)),
        "gw.example",
    )
    .err()
    .unwrap();
    assert!(
        matches!(err, Failed::Server(rustls::Error::InvalidCertificate(_))),
        "{err:?}"
    );
}

#[test]
fn sessions_resume() {
    let server = server(&pki().gateway, &ServerOptions::default());
    let client = production_client(None);
    let mut first = handshake(client.clone(), server.clone(), "gw.example").unwrap();
    // TLS 1.3 tickets arrive after the handshake.
    first.server_to_client(b"x");
    let second = handshake(client, server, "gw.example").unwrap();
    assert_eq!(second.client.handshake_kind(), Some(HandshakeKind::Resumed));
}

#[test]
fn certificate_rotation_keeps_established_sessions() {
    let options = ServerOptions::default();
    let resolver = Arc::new(CertResolver::new(&pki().gateway, &options).unwrap());
    let server = server_config(resolver.clone()).unwrap();
    let mut old = handshake(production_client(None), server.clone(), "gw.example").unwrap();

    let rotated = pki()
        .ca
        .issue_gateway(&["gw.example".parse().unwrap()], &self::options())
        .unwrap();
    resolver.replace(&rotated).unwrap();

    let new = handshake(production_client(None), server, "gw.example").unwrap();
    assert_eq!(
        new.client.peer_certificates().unwrap()[0],
        rotated.chain()[0]
    );
    assert_eq!(old.client_to_server(b"still here"), b"still here");
    assert_eq!(old.server_to_client(b"and here"), b"and here");

    // A bad replacement is refused and the rotated certificate stays.
    let big = CertificateAuthority::generate(
        "big",
        &self::options().with_algorithm(KeyAlgorithm::Rsa4096),
    )
    .unwrap();
    let mut chain_too_large = big
        .issue_gateway(
            &["gw.example".parse().unwrap()],
            &self::options().with_algorithm(KeyAlgorithm::Rsa4096),
        )
        .unwrap();
    chain_too_large = Identity::from_der(
        vec![
            chain_too_large.chain()[0].clone(),
            big.certificate().clone(),
        ],
        chain_too_large.key().clone_key(),
    );
    assert!(matches!(
        resolver.replace(&chain_too_large),
        Err(ConfigError::HandshakeTooLarge { .. })
    ));
    assert_eq!(resolver.current().cert[0], rotated.chain()[0]);
}

#[test]
fn tls12_records_fit_the_device_and_never_split_handshake_messages() {
    let options = ServerOptions::default();
    let server = server(&pki().gateway, &options);
    let mut pair: Pair = handshake(
        support::tls12_client(pki().ca.certificate()),
        server,
        "gw.example",
    )
    .unwrap();
    assert_eq!(
        pair.client.protocol_version(),
        Some(ProtocolVersion::TLSv1_2)
    );
    pair.server_to_client(&vec![0x5a; 10_000]);
    let device = options.device_max_content_len.unwrap();
    let handshake_records =
        support::plaintext_handshake_records_whole(&pair.server_bytes, device).unwrap();
    assert!(handshake_records >= 1);
    // Encrypted records: plaintext at most the device buffer (AES-GCM adds 8 + 16).
    for (_, payload) in records(&pair.server_bytes) {
        assert!(
            payload.len() <= device + 24,
            "record of {} bytes",
            payload.len()
        );
    }
}

//! Key algorithms, the device-facing checks, and the Certificate-message size check.

mod support;

use std::sync::Arc;

use wasmbed_tls::{
    CertResolver, CertificateAuthority, CertificateOptions, ConfigError, DeviceId, Identity,
    KeyAlgorithm, PkiError, ServerOptions, certificate_message_len, check_handshake_fits,
    client_config, dev_gateway, server_config,
};

fn with(algorithm: KeyAlgorithm) -> CertificateOptions {
    CertificateOptions::default().with_algorithm(algorithm)
}

#[test]
fn rsa_4096_chain_is_too_large_for_a_1500_byte_device_and_p256_fits() {
    let rsa = with(KeyAlgorithm::Rsa4096);
    let ca = CertificateAuthority::generate("seed-style CA", &rsa).unwrap();
    let leaf = ca
        .issue_gateway(&["gw.example".parse().unwrap()], &rsa)
        .unwrap();
    let chain = vec![leaf.chain()[0].clone(), ca.certificate().clone()];
    let options = ServerOptions::default();
    match check_handshake_fits(&chain, &options) {
        Err(ConfigError::HandshakeTooLarge {
            flight_len,
            certificate_len,
            device_max_content_len: 1500,
            max_record_size: 1505,
            fits: 1500,
        }) => {
            assert_eq!(certificate_len, certificate_message_len(&chain));
            assert!(flight_len > certificate_len + 512, "{flight_len}");
        }
        other => panic!("expected HandshakeTooLarge, got {other:?}"),
    }
    let too_large = Identity::from_der(chain, leaf.key().clone_key());
    let err = CertResolver::new(&too_large, &options).unwrap_err();
    assert!(
        err.to_string()
            .contains("CONFIG_MBEDTLS_SSL_MAX_CONTENT_LEN=1500"),
        "{err}"
    );
    // Even the RSA-4096 leaf alone: its handshake carries 512-byte signatures.
    assert!(check_handshake_fits(leaf.chain(), &options).is_err());

    let p256 = CertificateAuthority::generate("CA", &CertificateOptions::default()).unwrap();
    let names = ["gw.example".parse().unwrap(), "10.42.0.12".parse().unwrap()];
    let leaf = p256
        .issue_gateway(&names, &CertificateOptions::default())
        .unwrap();
    let flight = check_handshake_fits(leaf.chain(), &options).unwrap();
    assert!(
        flight < 1200,
        "a P-256 leaf's largest flight is bounded at {flight} bytes"
    );
}

/// The guarantee behind the size check: whenever it passes, no handshake message is split.
/// Certificates grow one name at a time until the check refuses them.
#[test]
fn whenever_the_check_passes_no_handshake_message_is_split() {
    let ca = CertificateAuthority::generate("CA", &CertificateOptions::default()).unwrap();
    let options = ServerOptions::default();
    let mut names: Vec<wasmbed_tls::Host> = vec!["gw.example".parse().unwrap()];
    let mut passed = 0;
    for i in 0..80u16 {
        names.push(format!("fd00::{i:x}:1").parse().unwrap());
        let leaf = ca
            .issue_gateway(&names, &CertificateOptions::default())
            .unwrap();
        let Ok(resolver) = CertResolver::new(&leaf, &options) else {
            break;
        };
        passed += 1;
        let server = server_config(Arc::new(resolver)).unwrap();
        let pair = support::handshake(
            support::tls12_client(ca.certificate()),
            server,
            "gw.example",
        )
        .unwrap();
        support::plaintext_handshake_records_whole(&pair.server_bytes, 1500)
            .unwrap_or_else(|e| panic!("with {} names: {e}", names.len()));
    }
    assert!(
        passed > 5 && passed < 80,
        "the check passed {passed} certificates"
    );
}

#[test]
fn record_size_limits() {
    let chain = dev_gateway(
        &["localhost".parse().unwrap()],
        &CertificateOptions::default(),
    )
    .unwrap();
    let bad = |device_max_content_len, max_record_size| {
        ServerOptions::default()
            .with_device_max_content_len(device_max_content_len)
            .with_max_record_size(max_record_size)
    };
    // Larger than the device buffer plus header, smaller than rustls' 32, larger than TLS allows.
    for options in [
        bad(Some(1500), Some(1506)),
        bad(Some(1500), Some(31)),
        bad(None, Some(16_390)),
    ] {
        assert!(
            matches!(
                check_handshake_fits(chain.chain(), &options),
                Err(ConfigError::RecordSizeOutOfRange { .. })
            ),
            "{options:?}"
        );
    }
    // Device buffers outside 512..=16384 are refused, including absurd ones (no overflow).
    for device in [0, 26, 511, 16_385, usize::MAX] {
        assert!(
            matches!(
                check_handshake_fits(chain.chain(), &bad(Some(device), None)),
                Err(ConfigError::DeviceBufferOutOfRange { .. })
            ),
            "{device}"
        );
    }
    // No device limit: no record limit unless asked.
    let resolver = Arc::new(CertResolver::new(&chain, &bad(None, None)).unwrap());
    assert_eq!(server_config(resolver).unwrap().max_fragment_size, None);
}

#[test]
fn ed25519_only_for_non_device_use() {
    let ed = with(KeyAlgorithm::Ed25519);
    let err = CertificateAuthority::generate("CA", &ed).unwrap_err();
    assert!(matches!(
        err,
        PkiError::NotForDevices {
            algorithm: KeyAlgorithm::Ed25519
        }
    ));
    assert!(err.to_string().contains("mbedTLS cannot parse it"), "{err}");
    assert!(dev_gateway(&["localhost".parse().unwrap()], &ed).is_err());

    let tools = ed.with_allow_non_device(true);
    let ca = CertificateAuthority::generate("operator CA", &tools).unwrap();
    let api = ca
        .issue_gateway(&["api.example".parse().unwrap()], &tools)
        .unwrap();
    let options = ServerOptions::default().with_device_max_content_len(None);
    let server = server_config(Arc::new(CertResolver::new(&api, &options).unwrap())).unwrap();
    let client = client_config(&[ca.certificate().clone()], None, &[]).unwrap();
    support::handshake(client, server, "api.example").unwrap();
}

#[test]
fn every_device_algorithm_handshakes() {
    for algorithm in [
        KeyAlgorithm::EcdsaP256,
        KeyAlgorithm::EcdsaP384,
        KeyAlgorithm::Rsa2048,
    ] {
        let options = with(algorithm);
        let ca = CertificateAuthority::generate("CA", &options).unwrap();
        let leaf = ca
            .issue_gateway(&["gw.example".parse().unwrap()], &options)
            .unwrap();
        let server_options = ServerOptions::default();
        let server =
            server_config(Arc::new(CertResolver::new(&leaf, &server_options).unwrap())).unwrap();
        let client = client_config(&[ca.certificate().clone()], None, &[]).unwrap();
        support::handshake(client, server, "gw.example")
            .unwrap_or_else(|e| panic!("{algorithm}: {e:?}"));
    }
}

#[test]
fn names_and_ids_are_checked() {
    let ca = CertificateAuthority::generate("CA", &CertificateOptions::default()).unwrap();
    assert!(matches!(
        ca.issue_gateway(&[], &CertificateOptions::default()),
        Err(PkiError::NoNames)
    ));
    for bad in ["", "a b", "a/b", "é", &"x".repeat(65), "-x", ".x", "a..b"] {
        assert!(DeviceId::new(bad).is_err(), "{bad:?}");
    }
    assert_eq!(
        DeviceId::new("sensor_1.lab-A").unwrap().as_str(),
        "sensor_1.lab-A"
    );
    let inverted = CertificateOptions::default().with_validity(wasmbed_tls::Validity::new(
        std::time::SystemTime::now(),
        std::time::UNIX_EPOCH,
    ));
    assert!(matches!(
        CertificateAuthority::generate("CA", &inverted),
        Err(PkiError::InvalidValidity { .. })
    ));
}

#[test]
fn a_ca_from_der_must_be_a_ca_with_its_own_key() {
    let a = CertificateAuthority::generate("A", &CertificateOptions::default()).unwrap();
    let b = CertificateAuthority::generate("B", &CertificateOptions::default()).unwrap();
    assert!(matches!(
        CertificateAuthority::from_der(a.certificate().clone(), &b.key()),
        Err(PkiError::KeyMismatch)
    ));
    let leaf = a
        .issue_gateway(
            &["gw.example".parse().unwrap()],
            &CertificateOptions::default(),
        )
        .unwrap();
    assert!(matches!(
        CertificateAuthority::from_der(leaf.chain()[0].clone(), leaf.key()),
        Err(PkiError::NotCa)
    ));
    CertificateAuthority::from_der(a.certificate().clone(), &a.key()).unwrap();
}

#[test]
fn an_ed25519_ca_cannot_sign_for_devices() {
    let tools = with(KeyAlgorithm::Ed25519).with_allow_non_device(true);
    let ca = CertificateAuthority::generate("operator CA", &tools).unwrap();
    let err = ca
        .issue_gateway(
            &["gw.example".parse().unwrap()],
            &CertificateOptions::default(),
        )
        .unwrap_err();
    assert!(
        matches!(
            err,
            PkiError::NotForDevices {
                algorithm: KeyAlgorithm::Ed25519
            }
        ),
        "{err}"
    );
}

#[test]
fn san_list_is_normalised_and_ip_dns_names_can_be_turned_off() {
    use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};
    let ca = CertificateAuthority::generate("CA", &CertificateOptions::default()).unwrap();
    let names: Vec<wasmbed_tls::Host> = ["GW.Example.", "127.0.0.1", "gw.example", "127.0.0.1"]
        .iter()
        .map(|n| n.parse().unwrap())
        .collect();
    let sans = |options: &CertificateOptions| {
        let leaf = ca.issue_gateway(&names, options).unwrap();
        let (_, cert) = X509Certificate::from_der(&leaf.chain()[0]).unwrap();
        let cn = cert
            .subject()
            .iter_common_name()
            .next()
            .unwrap()
            .as_str()
            .unwrap()
            .to_owned();
        let list: Vec<String> = cert
            .subject_alternative_name()
            .unwrap()
            .unwrap()
            .value
            .general_names
            .iter()
            .map(|n| match n {
                GeneralName::DNSName(d) => format!("DNS:{d}"),
                GeneralName::IPAddress(ip) => format!("IP:{ip:?}"),
                other => format!("{other:?}"),
            })
            .collect();
        (cn, list)
    };
    let (cn, list) = sans(&CertificateOptions::default());
    assert_eq!(cn, "GW.Example");
    assert_eq!(
        list,
        ["DNS:gw.example", "IP:[127, 0, 0, 1]", "DNS:127.0.0.1"]
    );
    let (_, list) = sans(&CertificateOptions::default().with_ip_addresses_as_dns_names(false));
    assert_eq!(list, ["DNS:gw.example", "IP:[127, 0, 0, 1]"]);
}

#[test]
fn a_device_host_the_certificate_does_not_name_is_refused_with_the_typed_host() {
    let ca = CertificateAuthority::generate("CA", &CertificateOptions::default()).unwrap();
    let names: Vec<wasmbed_tls::Host> = ["gw.example", "10.0.0.1", "GW.example."]
        .iter()
        .map(|n| n.parse().unwrap())
        .collect();
    let gateway = ca
        .issue_gateway(&names, &CertificateOptions::default())
        .unwrap();
    let covered: Vec<wasmbed_tls::Host> = ["gw.example", "10.0.0.1"]
        .iter()
        .map(|n| n.parse().unwrap())
        .collect();
    CertResolver::new(
        &gateway,
        &ServerOptions::default().with_device_hosts(covered.clone()),
    )
    .unwrap();

    let missing: wasmbed_tls::Host = "10.0.0.2".parse().unwrap();
    let mut hosts = covered;
    hosts.push(missing);
    let err = CertResolver::new(&gateway, &ServerOptions::default().with_device_hosts(hosts))
        .unwrap_err();
    let ConfigError::EndpointNotCovered { host, names } = &err else {
        panic!("expected EndpointNotCovered, got {err:?}");
    };
    assert_eq!(**host, missing);
    // Each name once, sorted: the address is also written as a dNSName for mbedTLS 2.x and the
    // DNS name was given twice.
    assert_eq!(names, &["10.0.0.1", "gw.example"]);
    assert_eq!(
        err.to_string(),
        "does not name 10.0.0.2, the host of the device endpoint (it names 10.0.0.1, \
         gw.example); reissue with `wasmbed-gateway pki gateway --san 10.0.0.2`, or \
         correct --device-endpoint"
    );
}

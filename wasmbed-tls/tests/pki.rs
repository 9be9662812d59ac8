//! Key algorithms, the device-facing checks, and the Certificate-message size check.

mod support;

use std::sync::Arc;

use wasmbed_tls::{
    CertResolver, CertificateAuthority, CertificateOptions, ConfigError, DeviceId, Identity,
    KeyAlgorithm, PkiError, ServerOptions, certificate_message_len, check_certificate_fits,
    client_config, dev_gateway, server_config,
};

fn with(algorithm: KeyAlgorithm) -> CertificateOptions {
    CertificateOptions {
        algorithm,
        ..CertificateOptions::default()
    }
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
    match check_certificate_fits(&chain, &options) {
        Err(ConfigError::CertificateTooLarge {
            len,
            device_max_content_len: 1500,
            max_record_size: 1505,
            fits: 1499,
        }) => {
            assert_eq!(len, certificate_message_len(&chain));
            assert!(len > 2000, "{len}");
        }
        other => panic!("expected CertificateTooLarge, got {other:?}"),
    }
    let too_large = Identity::from_der(chain, leaf.key().clone_key());
    let err = CertResolver::new(&too_large, &options).unwrap_err();
    assert!(
        err.to_string()
            .contains("CONFIG_MBEDTLS_SSL_MAX_CONTENT_LEN=1500"),
        "{err}"
    );

    let p256 = CertificateAuthority::generate("CA", &CertificateOptions::default()).unwrap();
    let leaf = p256
        .issue_gateway(
            &["gw.example".parse().unwrap(), "10.42.0.12".parse().unwrap()],
            &CertificateOptions::default(),
        )
        .unwrap();
    let len = check_certificate_fits(leaf.chain(), &options).unwrap();
    assert!(
        len < 700,
        "a P-256 leaf's Certificate message is {len} bytes"
    );
}

#[test]
fn record_size_limits() {
    let chain = dev_gateway(
        &["localhost".parse().unwrap()],
        &CertificateOptions::default(),
    )
    .unwrap();
    let bad = |device_max_content_len, max_record_size| ServerOptions {
        device_max_content_len,
        max_record_size,
        ..ServerOptions::default()
    };
    // Larger than the device buffer plus header, smaller than rustls' 32, larger than TLS allows.
    for options in [
        bad(Some(1500), Some(1506)),
        bad(Some(1500), Some(31)),
        bad(None, Some(16_390)),
    ] {
        assert!(
            matches!(
                check_certificate_fits(chain.chain(), &options),
                Err(ConfigError::RecordSizeOutOfRange { .. })
            ),
            "{options:?}"
        );
    }
    // No device limit: no record limit unless asked.
    let resolver = Arc::new(CertResolver::new(&chain, &bad(None, None)).unwrap());
    assert_eq!(
        server_config(resolver, &bad(None, None))
            .unwrap()
            .max_fragment_size,
        None
    );
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

    let tools = CertificateOptions {
        allow_non_device: true,
        ..ed
    };
    let ca = CertificateAuthority::generate("operator CA", &tools).unwrap();
    let api = ca
        .issue_gateway(&["api.example".parse().unwrap()], &tools)
        .unwrap();
    let options = ServerOptions {
        device_max_content_len: None,
        ..ServerOptions::default()
    };
    let server = server_config(
        Arc::new(CertResolver::new(&api, &options).unwrap()),
        &options,
    )
    .unwrap();
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
        let server = server_config(
            Arc::new(CertResolver::new(&leaf, &server_options).unwrap()),
            &server_options,
        )
        .unwrap();
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
    for bad in ["", "a b", "a/b", "é", &"x".repeat(65)] {
        assert!(
            matches!(DeviceId::new(bad), Err(PkiError::InvalidDeviceId { .. })),
            "{bad:?}"
        );
    }
    assert_eq!(
        DeviceId::new("sensor_1.lab-A").unwrap().as_str(),
        "sensor_1.lab-A"
    );
    let inverted = CertificateOptions {
        validity: wasmbed_tls::Validity {
            not_before: std::time::SystemTime::now(),
            not_after: std::time::UNIX_EPOCH,
        },
        ..CertificateOptions::default()
    };
    assert!(matches!(
        CertificateAuthority::generate("CA", &inverted),
        Err(PkiError::InvalidValidity { .. })
    ));
}

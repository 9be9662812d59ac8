//! rustls `ClientConfig`s for tools and tests that talk to the gateway as a device would.

use std::sync::Arc;

use rustls::ClientConfig;
use rustls::pki_types::CertificateDer;

use crate::error::ConfigError;
use crate::pki::Identity;
use crate::server::root_store;

/// A production client: verifies the gateway's certificate chain and name against `ca_roots`
/// (RFC 5280 path validation and RFC 6125 name matching, by rustls-webpki), offers TLS 1.3 and
/// 1.2, and presents `identity` as its client certificate when given (mTLS).
///
/// # Errors
///
/// [`ConfigError::BadRoot`] for a CA certificate rustls cannot use, [`ConfigError::Rustls`] for
/// a client key that does not match its certificate.
///
/// # Examples
///
/// ```
/// use wasmbed_tls::{client_config, CertificateAuthority, CertificateOptions};
///
/// let ca = CertificateAuthority::generate("wasmbed CA", &CertificateOptions::default())?;
/// let config = client_config(&[ca.certificate().clone()], None, &[b"wasmbed/1".to_vec()])?;
/// assert_eq!(config.alpn_protocols, [b"wasmbed/1".to_vec()]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn client_config(
    ca_roots: &[CertificateDer<'static>],
    identity: Option<&Identity>,
    alpn: &[Vec<u8>],
) -> Result<Arc<ClientConfig>, ConfigError> {
    let builder = builder()?.with_root_certificates(root_store(ca_roots)?);
    finish(builder, identity, alpn)
}

fn builder() -> Result<rustls::ConfigBuilder<ClientConfig, rustls::WantsVerifier>, ConfigError> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    Ok(ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?)
}

fn finish(
    builder: rustls::ConfigBuilder<ClientConfig, rustls::client::WantsClientCert>,
    identity: Option<&Identity>,
    alpn: &[Vec<u8>],
) -> Result<Arc<ClientConfig>, ConfigError> {
    let mut config = match identity {
        Some(identity) => {
            builder.with_client_auth_cert(identity.chain().to_vec(), identity.key().clone_key())?
        }
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = alpn.to_vec();
    Ok(Arc::new(config))
}

/// Clients that do not verify the gateway: dev mode only.
pub mod danger {
    use std::sync::Arc;

    use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
    use rustls::crypto::WebPkiSupportedAlgorithms;
    use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
    use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};

    use crate::error::ConfigError;
    use crate::pki::Identity;

    /// A client that accepts any server certificate, as a dev-mode device does
    /// (`TLS_PEER_VERIFY_NONE`). For tests and tools against a dev gateway only: anyone on the
    /// path can impersonate the gateway.
    ///
    /// It still checks that the server holds the key of the certificate it sent (the handshake
    /// signature), so it fails the way a device would against a broken server.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Rustls`] for a client key that does not match its certificate.
    pub fn insecure_dev_client_config(
        identity: Option<&Identity>,
        alpn: &[Vec<u8>],
    ) -> Result<Arc<ClientConfig>, ConfigError> {
        let verifier = Arc::new(NoServerVerification::new());
        let builder = super::builder()?
            .dangerous()
            .with_custom_certificate_verifier(verifier);
        super::finish(builder, identity, alpn)
    }

    /// A [`ServerCertVerifier`] that accepts any server certificate, as a dev-mode device does
    /// (`TLS_PEER_VERIFY_NONE`), but checks the handshake signatures (TLS 1.2 and 1.3) with
    /// aws-lc-rs's algorithms, so the server still proves it holds the key of the certificate
    /// it sent: the same work a verifying client's signature check costs. For building clients
    /// with other settings than [`insecure_dev_client_config`] (benchmarks, load tools) against
    /// dev gateways only.
    #[derive(Debug)]
    pub struct NoServerVerification {
        algorithms: WebPkiSupportedAlgorithms,
    }

    impl NoServerVerification {
        /// With aws-lc-rs's signature verification algorithms.
        pub fn new() -> NoServerVerification {
            NoServerVerification {
                algorithms: rustls::crypto::aws_lc_rs::default_provider()
                    .signature_verification_algorithms,
            }
        }
    }

    impl Default for NoServerVerification {
        fn default() -> NoServerVerification {
            NoServerVerification::new()
        }
    }

    impl ServerCertVerifier for NoServerVerification {
        fn verify_server_cert(
            &self,
            _end_entity: &CertificateDer<'_>,
            _intermediates: &[CertificateDer<'_>],
            _server_name: &ServerName<'_>,
            _ocsp_response: &[u8],
            _now: UnixTime,
        ) -> Result<ServerCertVerified, rustls::Error> {
            Ok(ServerCertVerified::assertion())
        }

        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
        }

        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.algorithms.supported_schemes()
        }
    }
}

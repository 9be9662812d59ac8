//! TLS identities and configurations for the benchmarks: a CA and a gateway certificate per
//! key algorithm, the gateway's `ServerConfig` built by `wasmbed_tls::server_config`, and rustls
//! clients pinned to one TLS version, with or without resumption.

use std::sync::Arc;

use tokio_rustls::rustls::client::Resumption;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore, ServerConfig};
use wasmbed_tls::{
    CertResolver, CertificateAuthority, CertificateOptions, ConfigError, Identity, KeyAlgorithm,
    PkiError, ServerOptions,
};

/// The name the benchmark gateways' certificates carry and clients verify.
pub const SERVER_NAME: &str = "localhost";

/// The server key a benchmark uses: ECDSA P-256 is the gateway's default; RSA is there for
/// contrast (the seed used RSA-4096).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerKey {
    /// ECDSA P-256 with SHA-256.
    EcdsaP256,
    /// RSA-2048, PKCS #1 v1.5 with SHA-256 certificates (TLS 1.3 signs with RSA-PSS).
    Rsa2048,
    /// RSA-4096, the seed's choice.
    Rsa4096,
}

impl ServerKey {
    /// Every key, default first.
    pub const ALL: [ServerKey; 3] = [ServerKey::EcdsaP256, ServerKey::Rsa2048, ServerKey::Rsa4096];

    /// Short name for benchmark ids: `ecdsa_p256`, `rsa2048`, `rsa4096`.
    pub fn name(self) -> &'static str {
        match self {
            ServerKey::EcdsaP256 => "ecdsa_p256",
            ServerKey::Rsa2048 => "rsa2048",
            ServerKey::Rsa4096 => "rsa4096",
        }
    }

    fn algorithm(self) -> KeyAlgorithm {
        match self {
            ServerKey::EcdsaP256 => KeyAlgorithm::EcdsaP256,
            ServerKey::Rsa2048 => KeyAlgorithm::Rsa2048,
            ServerKey::Rsa4096 => KeyAlgorithm::Rsa4096,
        }
    }
}

/// A TLS protocol version to pin a client to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsVersion {
    /// TLS 1.2 (RFC 5246).
    Tls12,
    /// TLS 1.3 (RFC 8446).
    Tls13,
}

impl TlsVersion {
    /// Short name for benchmark ids: `tls12`, `tls13`.
    pub fn name(self) -> &'static str {
        match self {
            TlsVersion::Tls12 => "tls12",
            TlsVersion::Tls13 => "tls13",
        }
    }

    fn rustls(self) -> &'static rustls::SupportedProtocolVersion {
        match self {
            TlsVersion::Tls12 => &rustls::version::TLS12,
            TlsVersion::Tls13 => &rustls::version::TLS13,
        }
    }
}

/// A CA and a gateway certificate it issued for [`SERVER_NAME`] and `127.0.0.1`, both with
/// the same key algorithm.
#[derive(Debug)]
pub struct Pki {
    /// The CA clients trust.
    pub ca: CertificateAuthority,
    /// The gateway's certificate and key.
    pub gateway: Identity,
    /// The key algorithm of both.
    pub key: ServerKey,
}

impl Pki {
    /// Generates the CA and the gateway certificate (an RSA-4096 key takes a second or more).
    ///
    /// # Errors
    ///
    /// A [`PkiError`] from key generation or signing.
    pub fn generate(key: ServerKey) -> Result<Pki, PkiError> {
        let options = CertificateOptions {
            algorithm: key.algorithm(),
            ..CertificateOptions::default()
        };
        let ca = CertificateAuthority::generate("wasmbed bench CA", &options)?;
        let names = [
            SERVER_NAME.parse().expect("a valid DNS name"),
            "127.0.0.1".parse().expect("a valid IP address"),
        ];
        let gateway = ca.issue_gateway(&names, &options)?;
        Ok(Pki { ca, gateway, key })
    }

    /// The gateway's server options: its ALPN names and, for ECDSA P-256, the default device
    /// record limit (1500 bytes), as `wasmbed-gateway` runs. RSA chains do not fit a device's
    /// buffer, so for them the limit is off, as on a server no device talks to.
    pub fn server_options(&self) -> ServerOptions {
        let device_max_content_len = match self.key {
            ServerKey::EcdsaP256 => ServerOptions::default().device_max_content_len,
            ServerKey::Rsa2048 | ServerKey::Rsa4096 => None,
        };
        ServerOptions {
            alpn: wasmbed_gateway::ALPN.iter().map(|p| p.to_vec()).collect(),
            device_max_content_len,
            ..ServerOptions::default()
        }
    }

    /// The gateway's `ServerConfig`, from `wasmbed_tls::server_config`.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] from the resolver or the config builder.
    pub fn server_config(&self) -> Result<Arc<ServerConfig>, ConfigError> {
        let resolver = CertResolver::new(&self.gateway, &self.server_options())?;
        wasmbed_tls::server_config(Arc::new(resolver))
    }

    /// A rustls client trusting this CA, offering only `version`, with an in-memory session
    /// cache when `resumption` is set and none otherwise.
    ///
    /// # Errors
    ///
    /// A rustls error if the CA certificate cannot be used as a root.
    pub fn client_config(
        &self,
        version: TlsVersion,
        resumption: bool,
    ) -> Result<Arc<ClientConfig>, rustls::Error> {
        client_config(&[self.ca.certificate().clone()], version, resumption)
    }
}

/// A rustls client (aws-lc-rs provider) trusting `roots`, offering only `version`, with an
/// in-memory session cache when `resumption` is set and none otherwise.
///
/// # Errors
///
/// A rustls error if a root certificate cannot be used.
pub fn client_config(
    roots: &[rustls::pki_types::CertificateDer<'static>],
    version: TlsVersion,
    resumption: bool,
) -> Result<Arc<ClientConfig>, rustls::Error> {
    let mut store = RootCertStore::empty();
    for root in roots {
        store.add(root.clone())?;
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[version.rustls()])?
        .with_root_certificates(store)
        .with_no_client_auth();
    if !resumption {
        config.resumption = Resumption::disabled();
    }
    Ok(Arc::new(config))
}

/// [`SERVER_NAME`] as a rustls server name.
pub fn server_name() -> ServerName<'static> {
    ServerName::try_from(SERVER_NAME).expect("a valid DNS name")
}

//! TLS identities and configurations for the benchmarks: a CA and a gateway certificate per
//! key algorithm, the gateway's `ServerConfig` built by `wasmbed_tls::server_config`, and rustls
//! clients pinned to TLS versions and key-exchange groups, with or without resumption.
//!
//! Clients offer X25519 unless told otherwise: rustls' default puts the post-quantum hybrid
//! X25519MLKEM768 first, which the gateway (rustls too) then picks, but no device offers it and
//! nginx's OpenSSL 3.0 cannot, so it would compare different handshakes.

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
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, clap::ValueEnum)]
pub enum TlsVersion {
    /// TLS 1.2 (RFC 5246).
    #[value(name = "1.2")]
    #[serde(rename = "1.2")]
    Tls12,
    /// TLS 1.3 (RFC 8446).
    #[value(name = "1.3")]
    #[serde(rename = "1.3")]
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
        let options = CertificateOptions::default().with_algorithm(key.algorithm());
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
        ServerOptions::default()
            .with_alpn(wasmbed_server::ALPN.iter().map(|p| p.to_vec()).collect())
            .with_device_max_content_len(device_max_content_len)
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

    /// A rustls client trusting this CA, offering only `version` and X25519, with an in-memory
    /// session cache when `resumption` is set and none otherwise.
    ///
    /// # Errors
    ///
    /// A rustls error if the CA certificate cannot be used as a root.
    pub fn client_config(
        &self,
        version: TlsVersion,
        resumption: bool,
    ) -> Result<Arc<ClientConfig>, rustls::Error> {
        client_config(&ClientOptions {
            roots: vec![self.ca.certificate().clone()],
            versions: vec![version],
            resumption,
            ..ClientOptions::default()
        })
    }
}

/// The key exchange a client offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum KeyExchange {
    /// X25519 only: what the targets assume, and a Zephyr device's usual choice.
    #[default]
    X25519,
    /// NIST P-256 (secp256r1) only, which every mbedTLS build has.
    Secp256r1,
    /// The hybrid post-quantum X25519MLKEM768 first, then the classic groups: rustls' default,
    /// which no device offers.
    X25519mlkem768,
}

impl KeyExchange {
    /// Short name for benchmark ids.
    pub fn name(self) -> &'static str {
        match self {
            KeyExchange::X25519 => "x25519",
            KeyExchange::Secp256r1 => "secp256r1",
            KeyExchange::X25519mlkem768 => "x25519mlkem768",
        }
    }

    fn groups(self) -> Vec<&'static dyn rustls::crypto::SupportedKxGroup> {
        use rustls::crypto::aws_lc_rs::kx_group;
        match self {
            KeyExchange::X25519 => vec![kx_group::X25519],
            KeyExchange::Secp256r1 => vec![kx_group::SECP256R1],
            KeyExchange::X25519mlkem768 => vec![
                kx_group::X25519MLKEM768,
                kx_group::X25519,
                kx_group::SECP256R1,
            ],
        }
    }
}

/// How a benchmark or load client is set up.
///
/// # Defaults
///
/// * `roots`: empty, meaning the server is not verified (as a dev-mode device)
/// * `versions`: TLS 1.3 and 1.2
/// * `resumption`: off
/// * `key_exchange`: [`KeyExchange::X25519`]
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// CA certificates to verify the server with; none verifies nothing.
    pub roots: Vec<rustls::pki_types::CertificateDer<'static>>,
    /// Versions offered.
    pub versions: Vec<TlsVersion>,
    /// Keep an in-memory session cache and resume.
    pub resumption: bool,
    /// Groups offered.
    pub key_exchange: KeyExchange,
}

impl Default for ClientOptions {
    fn default() -> ClientOptions {
        ClientOptions {
            roots: Vec::new(),
            versions: vec![TlsVersion::Tls13, TlsVersion::Tls12],
            resumption: false,
            key_exchange: KeyExchange::default(),
        }
    }
}

/// A rustls client (aws-lc-rs provider) as `options` say.
///
/// # Errors
///
/// A rustls error if a root certificate cannot be used or no version is given.
pub fn client_config(options: &ClientOptions) -> Result<Arc<ClientConfig>, rustls::Error> {
    let mut provider = rustls::crypto::aws_lc_rs::default_provider();
    provider.kx_groups = options.key_exchange.groups();
    let versions: Vec<_> = options.versions.iter().map(|v| v.rustls()).collect();
    let builder = ClientConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(&versions)?;
    let mut config = if options.roots.is_empty() {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(
                wasmbed_tls::danger::NoServerVerification::new(),
            ))
            .with_no_client_auth()
    } else {
        let mut store = RootCertStore::empty();
        for root in &options.roots {
            store.add(root.clone())?;
        }
        builder.with_root_certificates(store).with_no_client_auth()
    };
    if !options.resumption {
        config.resumption = Resumption::disabled();
    }
    Ok(Arc::new(config))
}

/// [`SERVER_NAME`] as a rustls server name.
pub fn server_name() -> ServerName<'static> {
    ServerName::try_from(SERVER_NAME).expect("a valid DNS name")
}

//! The gateway's rustls `ServerConfig`, and the certificate resolver that rotates it.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use rustls::RootCertStore;
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer};
use rustls::server::{ClientHello, ResolvesServerCert, ServerConfig};
use rustls::sign::CertifiedKey;
use wasmbed_endpoint::Host;

use crate::check::check_gateway_certificate;
use crate::error::{ConfigError, LoadError};
use crate::pki::Identity;
use crate::resumption::{
    DEFAULT_SESSION_LIFETIME, ExpiringCache, ExpiringTickets, Resumption,
    SESSION_LIFETIME_SECS_RANGE,
};
use crate::verifier::ClientVerifier;

/// Zephyr's default `CONFIG_MBEDTLS_SSL_MAX_CONTENT_LEN`: the largest record plaintext a device
/// receives.
pub const DEFAULT_DEVICE_MAX_CONTENT_LEN: usize = 1500;

/// The range of `device_max_content_len` accepted, in bytes: mbedTLS needs at least 512
/// (RFC 6066's smallest maximum fragment length) and records carry at most 16384 (RFC 8446
/// section 5.1).
pub const DEVICE_MAX_CONTENT_LEN_RANGE: std::ops::RangeInclusive<usize> = 512..=16_384;

/// Bytes of a TLS record header (RFC 8446 section 5.1: type, version, length).
pub const RECORD_HEADER_LEN: usize = 5;

/// Smallest and largest `max_fragment_size` rustls accepts (record header included).
const RUSTLS_RECORD_SIZE: (usize, usize) = (32, 16_384 + RECORD_HEADER_LEN);

/// Default number of TLS 1.2 sessions kept for resumption by session id.
pub const DEFAULT_SESSION_CACHE_SIZE: usize = 4096;

/// Who must present a client certificate.
///
/// Non-exhaustive: a policy may be added (for example one per listener).
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub enum ClientAuth {
    /// No client certificates are requested (dev mode and production without mTLS).
    #[default]
    None,
    /// Clients may present a certificate signed by one of these device CAs; clients without one
    /// are still accepted (a migration step towards mTLS).
    Optional(Vec<CertificateDer<'static>>),
    /// Every client must present a certificate signed by one of these device CAs (mTLS).
    Required(Vec<CertificateDer<'static>>),
}

/// Choices for the gateway's [`ServerConfig`], held by the [`CertResolver`] so that every
/// certificate it presents is checked against them.
///
/// # Defaults
///
/// * `alpn`: empty (no ALPN negotiated; the gateway adds its protocol names)
/// * `client_auth`: [`ClientAuth::None`]
/// * `crls`: none
/// * `device_max_content_len`: `Some(1500)` ([`DEFAULT_DEVICE_MAX_CONTENT_LEN`])
/// * `max_record_size`: `None`, meaning `device_max_content_len + 5`, or no limit (rustls'
///   16389) when `device_max_content_len` is `None`
/// * `session_cache_size`: 4096 ([`DEFAULT_SESSION_CACHE_SIZE`])
/// * `session_lifetime`: 12 hours ([`DEFAULT_SESSION_LIFETIME`])
/// * `device_hosts`: empty (no name is required of the certificate)
///
/// Start from [`ServerOptions::default`] and change what you need with the `with_*` methods
/// (one per field, so that a new field is not a breaking change):
///
/// ```
/// use std::time::Duration;
/// use wasmbed_tls::ServerOptions;
///
/// let options = ServerOptions::default()
///     .with_alpn(vec![b"wasmbed/1".to_vec()])
///     .with_device_hosts(vec!["gw.example".parse()?])
///     .with_session_lifetime(Duration::from_secs(3600));
/// assert_eq!(options.device_max_content_len, Some(1500));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServerOptions {
    /// ALPN protocol names offered, most preferred first (RFC 7301).
    pub alpn: Vec<Vec<u8>>,
    /// Client certificate policy (mTLS).
    pub client_auth: ClientAuth,
    /// Certificate revocation lists for client certificates (RFC 5280 section 5), checked when
    /// `client_auth` asks for certificates.
    pub crls: Vec<CertificateRevocationListDer<'static>>,
    /// The devices' `CONFIG_MBEDTLS_SSL_MAX_CONTENT_LEN` (512..=16384): no record the gateway
    /// sends carries more plaintext, and every handshake flight fits one record, because
    /// mbedTLS before 3.6.3 refuses a handshake message split across records
    /// (`MBEDTLS_ERR_SSL_FEATURE_UNAVAILABLE`). `None` for servers no device talks to.
    pub device_max_content_len: Option<usize>,
    /// rustls `max_fragment_size`: the record header (5 bytes) plus the most plaintext one
    /// record carries. Encryption adds up to 24 bytes (TLS 1.2 AES-GCM) or 17 (TLS 1.3) on the
    /// wire; a device's buffer limit applies to the plaintext.
    pub max_record_size: Option<usize>,
    /// Sessions kept for resumption in the gateway: TLS 1.2 sessions resumed by session id,
    /// and with [`Resumption::Stateful`] the TLS 1.3 sessions its tickets name.
    pub session_cache_size: usize,
    /// How long a session can be resumed after its full handshake (1 s to 12 h,
    /// [`SESSION_LIFETIME_SECS_RANGE`]): older tickets and cached sessions are refused and the
    /// client makes a full handshake. TLS 1.3 stateless tickets announce it as their
    /// `ticket_lifetime` (RFC 8446 section 4.6.1).
    pub session_lifetime: Duration,
    /// The hosts devices dial (their endpoints' hosts): with a device limit, the certificate's
    /// subject alternative names must cover each ([`check_gateway_certificate`]).
    pub device_hosts: Vec<Host>,
}

impl Default for ServerOptions {
    fn default() -> ServerOptions {
        ServerOptions {
            alpn: Vec::new(),
            client_auth: ClientAuth::None,
            crls: Vec::new(),
            device_max_content_len: Some(DEFAULT_DEVICE_MAX_CONTENT_LEN),
            max_record_size: None,
            session_cache_size: DEFAULT_SESSION_CACHE_SIZE,
            session_lifetime: DEFAULT_SESSION_LIFETIME,
            device_hosts: Vec::new(),
        }
    }
}

setters! {
    ServerOptions {
        /// Sets [`ServerOptions::alpn`] (protocol names, most preferred first).
        with_alpn => alpn: Vec<Vec<u8>>;
        /// Sets [`ServerOptions::client_auth`].
        with_client_auth => client_auth: ClientAuth;
        /// Sets [`ServerOptions::crls`] (DER CRLs, as [`load_crls`](crate::load_crls) reads).
        with_crls => crls: Vec<CertificateRevocationListDer<'static>>;
        /// Sets [`ServerOptions::device_max_content_len`] (bytes, 512..=16384; `None` for
        /// servers no device talks to).
        with_device_max_content_len => device_max_content_len: Option<usize>;
        /// Sets [`ServerOptions::max_record_size`] (bytes, record header included).
        with_max_record_size => max_record_size: Option<usize>;
        /// Sets [`ServerOptions::session_cache_size`] (sessions).
        with_session_cache_size => session_cache_size: usize;
        /// Sets [`ServerOptions::session_lifetime`] (whole seconds, 1 s..=12 h).
        with_session_lifetime => session_lifetime: Duration;
        /// Sets [`ServerOptions::device_hosts`] (the hosts of the device endpoints).
        with_device_hosts => device_hosts: Vec<Host>;
    }
}

impl ServerOptions {
    /// The record size limit and, with a device limit, the most handshake plaintext one record
    /// carries.
    fn record_limits(&self) -> Result<(Option<usize>, Option<usize>), ConfigError> {
        if let Some(device) = self.device_max_content_len
            && !DEVICE_MAX_CONTENT_LEN_RANGE.contains(&device)
        {
            return Err(ConfigError::DeviceBufferOutOfRange { len: device });
        }
        let (min, rustls_max) = RUSTLS_RECORD_SIZE;
        let max = self
            .device_max_content_len
            .map_or(rustls_max, |d| (d + RECORD_HEADER_LEN).min(rustls_max));
        let size = self
            .max_record_size
            .or(self.device_max_content_len.map(|_| max));
        if let Some(size) = size
            && !(min..=max).contains(&size)
        {
            return Err(ConfigError::RecordSizeOutOfRange {
                max_record_size: size,
                min,
                max,
            });
        }
        // rustls cuts plaintext into fragments of max_record_size - 5 bytes; the TLS 1.3 inner
        // content type and the AEAD tag come on top and are not part of what mbedTLS counts.
        let fits = self
            .device_max_content_len
            .and(size)
            .map(|size| size - RECORD_HEADER_LEN);
        Ok((size, fits))
    }
}

/// Size in bytes of the TLS 1.3 Certificate handshake message carrying `chain`: 4-byte
/// handshake header, 1-byte request context, 3-byte list length, and per certificate a 3-byte
/// length, the DER and 2 bytes of (empty) extensions (RFC 8446 section 4.4.2). The TLS 1.2
/// message (RFC 5246 section 7.4.2) is smaller by one byte plus two per certificate.
pub fn certificate_message_len(chain: &[CertificateDer<'_>]) -> usize {
    4 + 1 + 3 + chain.iter().map(|c| 3 + c.len() + 2).sum::<usize>()
}

/// An upper bound, in bytes, of the largest handshake flight the server sends with `chain`.
///
/// rustls writes a flight as one buffer and cuts it into records, so a whole flight, not just
/// its Certificate message, must fit one record for no message to be split:
///
/// * TLS 1.2 (RFC 5246 section 7.3): ServerHello, Certificate, ServerKeyExchange,
///   CertificateRequest (mTLS, with the device CAs' names), ServerHelloDone;
/// * TLS 1.3 (RFC 8446 section 4.4): EncryptedExtensions, CertificateRequest, Certificate,
///   CertificateVerify, Finished.
///
/// The bound allows the largest extensions rustls sends, the ALPN names in `options`, the
/// largest signature the leaf's key makes, and key shares up to P-521. The CertificateRequest
/// names no CA ([`ClientVerifier`] explains why), so the device CAs do not count.
pub fn handshake_flight_len(chain: &[CertificateDer<'_>], options: &ServerOptions) -> usize {
    let signature = chain.first().map_or(1024, |leaf| max_signature_len(leaf));
    let alpn = options.alpn.iter().map(|p| 1 + p.len()).sum::<usize>() + 6;
    let names = 0;
    // Signature algorithms a CertificateRequest lists: at most 16, 2 bytes each.
    let sigalgs = 2 + 2 * 16;
    let mtls = !matches!(options.client_auth, ClientAuth::None);
    let certificate = certificate_message_len(chain);
    let server_hello = 4 + 2 + 32 + 1 + 32 + 2 + 1 + 2 + 64 + alpn;
    let key_exchange = 4 + 4 + 133 + 4 + signature;
    let request12 = if mtls { 4 + 4 + sigalgs + 2 + names } else { 0 };
    let tls12 = server_hello + certificate + key_exchange + request12 + 4;
    let request13 = if mtls {
        4 + 3 + 4 + sigalgs + 6 + names
    } else {
        0
    };
    let tls13 = (4 + 2 + 16 + alpn) + request13 + certificate + (4 + 4 + signature) + (4 + 48);
    tls12.max(tls13)
}

/// The largest signature the certificate's key makes, in bytes.
fn max_signature_len(cert: &CertificateDer<'_>) -> usize {
    use x509_parser::prelude::{FromDer as _, X509Certificate};
    use x509_parser::public_key::PublicKey;
    let Ok((_, parsed)) = X509Certificate::from_der(cert) else {
        return 1024;
    };
    match parsed.public_key().parsed() {
        Ok(PublicKey::RSA(rsa)) => rsa.key_size().div_ceil(8),
        // DER ECDSA signature: two integers of the curve size, with headers.
        Ok(PublicKey::EC(point)) => match point.data().len() {
            65 => 72,
            97 => 104,
            _ => 139,
        },
        _ if is_ed25519(cert) => 64,
        _ => 1024,
    }
}

/// Checks that every handshake flight with `chain` fits one record a device can receive, so
/// that no handshake message is split across records.
///
/// Returns the bound of [`handshake_flight_len`] in bytes.
///
/// # Errors
///
/// [`ConfigError::HandshakeTooLarge`] when it does not fit, and
/// [`ConfigError::RecordSizeOutOfRange`] or [`ConfigError::DeviceBufferOutOfRange`] for
/// impossible limits.
pub fn check_handshake_fits(
    chain: &[CertificateDer<'_>],
    options: &ServerOptions,
) -> Result<usize, ConfigError> {
    let flight = handshake_flight_len(chain, options);
    let (size, fits) = options.record_limits()?;
    if let (Some(fits), Some(device), Some(size)) = (fits, options.device_max_content_len, size)
        && flight > fits
    {
        return Err(ConfigError::HandshakeTooLarge {
            flight_len: flight,
            certificate_len: certificate_message_len(chain),
            device_max_content_len: device,
            max_record_size: size,
            fits,
        });
    }
    Ok(flight)
}

/// How the gateway resumes sessions with `options` (client certificates requested unless
/// [`ClientAuth::None`]): the TLS 1.3 tickets it sends after a handshake, chosen so that all of
/// them fit one device record (rustls sends them as one flight; see [`Resumption`] and
/// [`stateless_ticket_len`](crate::stateless_ticket_len)).
///
/// # Errors
///
/// [`ConfigError::RecordSizeOutOfRange`], [`ConfigError::DeviceBufferOutOfRange`],
/// [`ConfigError::SessionLifetimeOutOfRange`].
pub fn resumption(options: &ServerOptions) -> Result<Resumption, ConfigError> {
    let client_certificates = !matches!(options.client_auth, ClientAuth::None);
    resumption_with(options, client_certificates)
}

fn resumption_with(
    options: &ServerOptions,
    client_certificates: bool,
) -> Result<Resumption, ConfigError> {
    let (_, fits) = options.record_limits()?;
    let secs = options.session_lifetime.as_secs();
    if !SESSION_LIFETIME_SECS_RANGE.contains(&secs) || options.session_lifetime.subsec_nanos() != 0
    {
        return Err(ConfigError::SessionLifetimeOutOfRange {
            lifetime: options.session_lifetime,
        });
    }
    Ok(crate::resumption::plan(options, fits, client_certificates))
}

/// The server certificate the gateway presents, replaceable while it runs.
///
/// A [`ResolvesServerCert`] holding one certificate. [`CertResolver::replace`] and
/// [`CertResolver::reload`] swap it (on SIGHUP or a file change): handshakes that start after
/// the swap present the new certificate; established sessions keep theirs and are not dropped.
/// Every replacement is checked like the first, against the same [`ServerOptions`]: the key
/// must match and, with a device limit, every handshake flight must fit one record and the key
/// must be one mbedTLS can use.
///
/// The client's SNI is ignored (devices may send an IP address, which rustls does not pass on),
/// so every client gets the same certificate.
pub struct CertResolver {
    current: RwLock<Arc<CertifiedKey>>,
    options: ServerOptions,
}

impl CertResolver {
    /// A resolver presenting `identity`, checked against `options` (which
    /// [`server_config`] then uses).
    ///
    /// # Errors
    ///
    /// [`ConfigError::EmptyChain`], [`ConfigError::NotForDevices`], [`ConfigError::Rustls`] for
    /// a key that does not match or cannot be used, and the errors of [`check_handshake_fits`].
    pub fn new(identity: &Identity, options: &ServerOptions) -> Result<CertResolver, ConfigError> {
        Ok(CertResolver {
            current: RwLock::new(certified_key(identity, options)?),
            options: options.clone(),
        })
    }

    /// Presents `identity` from the next handshake on.
    ///
    /// # Errors
    ///
    /// As [`CertResolver::new`]; on error the current certificate stays.
    pub fn replace(&self, identity: &Identity) -> Result<(), ConfigError> {
        let key = certified_key(identity, &self.options)?;
        *self
            .current
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = key;
        Ok(())
    }

    /// Loads a certificate and key from PEM files ([`Identity::load`]) and presents them.
    ///
    /// # Errors
    ///
    /// A [`ReloadError`] wrapping the load or check failure; the current certificate stays.
    pub fn reload(&self, certificate: &Path, key: &Path) -> Result<(), ReloadError> {
        let identity = Identity::load(certificate, key)?;
        self.replace(&identity)
            .map_err(|source| ReloadError::Certificate {
                path: certificate.to_owned(),
                source,
            })
    }

    /// The certificate and key presented now.
    pub fn current(&self) -> Arc<CertifiedKey> {
        self.current
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Size in bytes of the Certificate message sent now ([`certificate_message_len`]).
    pub fn certificate_message_len(&self) -> usize {
        certificate_message_len(&self.current().cert)
    }

    /// The bound of [`handshake_flight_len`] for the certificate presented now.
    pub fn handshake_flight_len(&self) -> usize {
        handshake_flight_len(&self.current().cert, &self.options)
    }

    /// The options every certificate is checked against.
    pub fn options(&self) -> &ServerOptions {
        &self.options
    }
}

impl ResolvesServerCert for CertResolver {
    fn resolve(&self, _client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current())
    }
}

impl fmt::Debug for CertResolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertResolver")
            .field("certificate_message_len", &self.certificate_message_len())
            .finish_non_exhaustive()
    }
}

/// Reloading the server certificate failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReloadError {
    /// The files could not be loaded.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// The loaded certificate cannot be used.
    #[error("gateway certificate {}", path.display())]
    Certificate {
        /// The certificate file.
        path: PathBuf,
        /// What is wrong with it.
        #[source]
        source: ConfigError,
    },
}

fn certified_key(
    identity: &Identity,
    options: &ServerOptions,
) -> Result<Arc<CertifiedKey>, ConfigError> {
    if identity.chain().is_empty() {
        return Err(ConfigError::EmptyChain);
    }
    check_handshake_fits(identity.chain(), options)?;
    if options.device_max_content_len.is_some() {
        if is_ed25519(&identity.chain()[0]) {
            return Err(ConfigError::NotForDevices);
        }
        check_gateway_certificate(
            &identity.chain()[0],
            &options.device_hosts,
            SystemTime::now(),
        )?;
    }
    let provider = rustls::crypto::aws_lc_rs::default_provider();
    let key = CertifiedKey::from_der(
        identity.chain().to_vec(),
        identity.key().clone_key(),
        &provider,
    )?;
    Ok(Arc::new(key))
}

/// The gateway's cipher suite preference, most preferred first: AES-128-GCM, then
/// ChaCha20-Poly1305, then AES-256-GCM, for TLS 1.3 and TLS 1.2 (ECDHE-ECDSA, then ECDHE-RSA).
///
/// Every key exchange and signature the gateway uses is at the 128-bit security level
/// (X25519, P-256), so AES-256 adds no strength, while its SHA-384 transcript hash costs a
/// measurable share of a handshake (`perf`: about 14 % of a resumed TLS 1.3 handshake) and its
/// wider key schedule costs every record. Devices (mbedTLS, `zephyr-app/prj.conf`) offer
/// `TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256` first anyway. Suites are only ever taken from
/// rustls's aws-lc-rs provider; this orders them.
pub const SERVER_SUITE_ORDER: &[rustls::CipherSuite] = &[
    rustls::CipherSuite::TLS13_AES_128_GCM_SHA256,
    rustls::CipherSuite::TLS13_CHACHA20_POLY1305_SHA256,
    rustls::CipherSuite::TLS13_AES_256_GCM_SHA384,
    rustls::CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    rustls::CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    rustls::CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    rustls::CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    rustls::CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    rustls::CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
];

/// aws-lc-rs's provider with its suites in [`SERVER_SUITE_ORDER`] (any suite the order does not
/// name keeps its place after them).
fn server_provider() -> rustls::crypto::CryptoProvider {
    let mut provider = rustls::crypto::aws_lc_rs::default_provider();
    provider.cipher_suites.sort_by_key(|suite| {
        SERVER_SUITE_ORDER
            .iter()
            .position(|preferred| *preferred == suite.suite())
            .unwrap_or(SERVER_SUITE_ORDER.len())
    });
    provider
}

/// Builds the gateway's `ServerConfig` from `resolver` and its [`ServerOptions`]: TLS 1.3 and
/// 1.2 with the default (aws-lc-rs) provider's ECDHE suites, chosen in the server's
/// [`SERVER_SUITE_ORDER`] (AES-128-GCM first), the resolver's certificate, client
/// certificates per [`ServerOptions::client_auth`] (with CRLs), ALPN, the record size limit,
/// and session resumption by session id and tickets (RFC 5077, RFC 8446 section 2.2).
///
/// The same call serves dev mode (a [`dev_gateway`](crate::dev_gateway) identity) and production
/// (an identity issued by a CA, optionally with mTLS).
///
/// # Errors
///
/// [`ConfigError::RecordSizeOutOfRange`], [`ConfigError::BadRoot`] for a device CA rustls cannot
/// use, [`ConfigError::Verifier`], [`ConfigError::Rustls`].
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use wasmbed_tls::{dev_gateway, server_config, CertResolver, CertificateOptions, ServerOptions};
///
/// let identity = dev_gateway(&["localhost".parse()?], &CertificateOptions::default())?;
/// let resolver = Arc::new(CertResolver::new(&identity, &ServerOptions::default())?);
/// let config = server_config(resolver)?;
/// assert_eq!(config.max_fragment_size, Some(1505));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn server_config(resolver: Arc<CertResolver>) -> Result<Arc<ServerConfig>, ConfigError> {
    let options = resolver.options();
    let verifier = ClientVerifier::for_client_auth(&options.client_auth, &options.crls)?;
    server_config_with_verifier(resolver, verifier)
}

/// [`server_config`] with client certificates checked by `verifier` (its CAs and CRLs, and
/// whether a certificate is mandatory, replace [`ServerOptions::client_auth`] and
/// [`ServerOptions::crls`]), which the caller keeps to reload them and to check resumed and
/// live sessions ([`ClientVerifier::verify_now`]). `None`: no client certificates. Set
/// [`ServerOptions::client_auth`] to match, so that the handshake bound
/// ([`handshake_flight_len`]) counts the CertificateRequest.
///
/// # Errors
///
/// As [`server_config`], and [`ConfigError::SessionLifetimeOutOfRange`].
pub fn server_config_with_verifier(
    resolver: Arc<CertResolver>,
    verifier: Option<Arc<ClientVerifier>>,
) -> Result<Arc<ServerConfig>, ConfigError> {
    let options = resolver.options().clone();
    let (max_record_size, _) = options.record_limits()?;
    let resumption = resumption_with(&options, verifier.is_some())?;
    let provider = Arc::new(server_provider());
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?;
    let builder = match verifier {
        None => builder.with_no_client_auth(),
        Some(verifier) => builder.with_client_cert_verifier(verifier),
    };
    let mut config = builder.with_cert_resolver(resolver);
    // Choose by SERVER_SUITE_ORDER, not by the client's list (rustls clients put AES-256 first).
    config.ignore_client_order = true;
    config.alpn_protocols = options.alpn.clone();
    config.max_fragment_size = max_record_size;
    config.session_storage = Arc::new(ExpiringCache::new(
        options.session_cache_size,
        options.session_lifetime,
    ));
    config.send_tls13_tickets = resumption.tickets();
    if !resumption.is_stateful() {
        config.ticketer = Arc::new(ExpiringTickets::new(options.session_lifetime)?);
    }
    Ok(Arc::new(config))
}

/// Whether a certificate's public key is Ed25519 (OID 1.3.101.112, RFC 8410), which mbedTLS
/// cannot parse.
fn is_ed25519(cert: &CertificateDer<'_>) -> bool {
    use x509_parser::prelude::{FromDer as _, X509Certificate};
    X509Certificate::from_der(cert).is_ok_and(|(_, parsed)| {
        parsed.public_key().algorithm.algorithm == x509_parser::oid_registry::OID_SIG_ED25519
    })
}

pub(crate) fn root_store(roots: &[CertificateDer<'static>]) -> Result<RootCertStore, ConfigError> {
    let mut store = RootCertStore::empty();
    for root in roots {
        store.add(root.clone()).map_err(ConfigError::BadRoot)?;
    }
    Ok(store)
}

//! Error types: one per operation family.

use std::io;
use std::path::PathBuf;
use std::time::SystemTime;

use wasmbed_endpoint::Host;

use crate::pki::KeyAlgorithm;

/// Generating or saving certificates failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PkiError {
    /// The algorithm cannot be used where devices are involved: mbedTLS cannot parse Ed25519
    /// certificates.
    #[error(
        "{algorithm} cannot be used for a device-facing certificate (mbedTLS cannot parse it); \
         use ECDSA P-256, or set allow_non_device for tools that never talk to devices"
    )]
    NotForDevices {
        /// The refused algorithm.
        algorithm: KeyAlgorithm,
    },
    /// The certificate given as a CA is not one (`basicConstraints` cA is not set).
    #[error("the certificate is not a CA certificate (no basicConstraints cA)")]
    NotCa,
    /// The key is not the certificate's.
    #[error("the key does not match the certificate")]
    KeyMismatch,
    /// The same path was given for the certificate and the key.
    #[error("certificate and key must go to different files, both are {}", path.display())]
    SamePath {
        /// The path.
        path: PathBuf,
    },
    /// A gateway certificate needs at least one name or address.
    #[error("a gateway certificate needs at least one DNS name or IP address")]
    NoNames,
    /// `not_after` is not later than `not_before`, or a time is outside what X.509 can encode.
    #[error("invalid validity window: {reason}")]
    InvalidValidity {
        /// What is wrong.
        reason: &'static str,
    },
    /// The CRL cannot be made: the previous CRL does not parse or another CA signed it, or
    /// the next update is zero.
    #[error("cannot make the CRL: {message}")]
    Crl {
        /// What is wrong and what to do.
        message: String,
    },
    /// rcgen could not build or sign the certificate.
    #[error("certificate generation failed: {message}")]
    Generation {
        /// rcgen's description.
        message: String,
    },
    /// The C symbol name for a header is not a C identifier.
    #[error(
        "invalid C symbol {symbol:?}: use a lower-case C identifier such as ca_certificate (a-z, 0-9, _; not a keyword)"
    )]
    InvalidSymbol {
        /// The rejected name.
        symbol: String,
    },
    /// Writing a file failed.
    #[error("cannot write {}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
}

impl From<rcgen::Error> for PkiError {
    fn from(e: rcgen::Error) -> PkiError {
        PkiError::Generation {
            message: e.to_string(),
        }
    }
}

/// Loading a certificate or key from PEM files failed; every variant names the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The file does not exist.
    #[error("{} does not exist", path.display())]
    Missing {
        /// The file.
        path: PathBuf,
    },
    /// The file exists but cannot be read.
    #[error("cannot read {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// The file holds no PEM sections at all (DER, or not a certificate file).
    #[error("{} is not PEM: expected -----BEGIN ...----- sections", path.display())]
    NotPem {
        /// The file.
        path: PathBuf,
    },
    /// The PEM is malformed.
    #[error("{} has malformed PEM: {message}", path.display())]
    BadPem {
        /// The file.
        path: PathBuf,
        /// What the PEM parser reported.
        message: String,
    },
    /// The file is PEM but holds no CERTIFICATE section.
    #[error("{} holds no certificate (no -----BEGIN CERTIFICATE----- section; found {found})", path.display())]
    NoCertificate {
        /// The file.
        path: PathBuf,
        /// The labels of the sections it has.
        found: String,
    },
    /// The file is PEM but holds no usable private key section (an `ENCRYPTED PRIVATE KEY`
    /// must be decrypted first: `openssl pkcs8 -in F -out F2`).
    #[error(
        "{} holds no private key (expected PRIVATE KEY, EC PRIVATE KEY or RSA PRIVATE KEY; found {found})",
        path.display()
    )]
    NoKey {
        /// The file.
        path: PathBuf,
        /// The labels of the sections it has.
        found: String,
    },
    /// The certificate cannot be parsed as X.509.
    #[error("{} holds a certificate that cannot be parsed: {message}", path.display())]
    BadCertificate {
        /// The file.
        path: PathBuf,
        /// What the parser reported.
        message: String,
    },
    /// The key is of a kind the crypto provider cannot use.
    #[error("{} holds a key that cannot be used: {message}", path.display())]
    BadKey {
        /// The file.
        path: PathBuf,
        /// What the provider reported.
        message: String,
    },
    /// The private key does not belong to the certificate.
    #[error("the key in {} does not match the certificate in {}", key.display(), certificate.display())]
    KeyMismatch {
        /// The certificate file.
        certificate: PathBuf,
        /// The key file.
        key: PathBuf,
    },
    /// The certificate's `notAfter` is in the past.
    #[error(
        "the certificate in {} expired at {}; issue a new one (wasmbed-gateway pki ...)",
        path.display(),
        crate::pki::rfc3339(*not_after)
    )]
    Expired {
        /// The file.
        path: PathBuf,
        /// The certificate's `notAfter`.
        not_after: SystemTime,
    },
    /// The certificate's `notBefore` is in the future.
    #[error(
        "the certificate in {} is not valid before {}; check this machine's clock or issue a new one",
        path.display(),
        crate::pki::rfc3339(*not_before)
    )]
    NotYetValid {
        /// The file.
        path: PathBuf,
        /// The certificate's `notBefore`.
        not_before: SystemTime,
    },
    /// The file is not a certificate revocation list (RFC 5280 section 5), or a malformed one.
    #[error("{} is not a usable CRL: {message}", path.display())]
    BadCrl {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The CRL is not signed by any of the client CAs, so it cannot revoke their certificates.
    #[error(
        "the CRL in {} (issuer {issuer}) is not signed by any --client-ca certificate; make it \
         with `wasmbed-gateway pki revoke` and the device CA",
        path.display()
    )]
    CrlNotFromClientCa {
        /// The file.
        path: PathBuf,
        /// The CRL's issuer name.
        issuer: String,
    },
    /// The file is not a CA certificate (no `basicConstraints` with `cA` true).
    #[error("the certificate in {} is not a CA certificate", path.display())]
    NotCa {
        /// The file.
        path: PathBuf,
    },
}

/// Building a rustls configuration failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A handshake flight does not fit one record a device can receive.
    #[error(
        "the gateway's handshake flight can be {flight_len} bytes (its Certificate message is \
         {certificate_len}), but a device with CONFIG_MBEDTLS_SSL_MAX_CONTENT_LEN=\
         {device_max_content_len} and records of at most {max_record_size} bytes receives at \
         most {fits} in one record, and mbedTLS before 3.6.3 refuses a handshake message split \
         across records; use an ECDSA P-256 certificate with fewer names, a shorter chain, or \
         larger device buffers"
    )]
    HandshakeTooLarge {
        /// Upper bound of the largest handshake flight in bytes.
        flight_len: usize,
        /// Size of the TLS 1.3 Certificate message in bytes.
        certificate_len: usize,
        /// The device's `CONFIG_MBEDTLS_SSL_MAX_CONTENT_LEN`.
        device_max_content_len: usize,
        /// The maximum record size configured.
        max_record_size: usize,
        /// The most handshake plaintext one record carries.
        fits: usize,
    },
    /// The device buffer size is outside 512..=16384 bytes.
    #[error("device_max_content_len {len} is out of range: it must be 512..=16384 bytes")]
    DeviceBufferOutOfRange {
        /// The configured size.
        len: usize,
    },
    /// The maximum record size is outside what rustls allows or larger than the device buffer.
    #[error(
        "maximum record size {max_record_size} is out of range: it must be {min}..={max} bytes"
    )]
    RecordSizeOutOfRange {
        /// The configured size.
        max_record_size: usize,
        /// The smallest allowed.
        min: usize,
        /// The largest allowed (the device buffer plus the record header, or 16389).
        max: usize,
    },
    /// The session lifetime is outside 1 s..=12 h in whole seconds.
    #[error(
        "session lifetime {lifetime:?} is out of range: it must be 1..=43200 whole seconds \
         (rustls rotates its ticket keys every 6 hours and keeps one old key)"
    )]
    SessionLifetimeOutOfRange {
        /// The configured lifetime.
        lifetime: std::time::Duration,
    },
    /// The certificate cannot be parsed as X.509.
    #[error("the certificate cannot be parsed: {message}")]
    BadCertificate {
        /// What the parser reported.
        message: String,
    },
    /// The certificate's extended key usage does not allow TLS server authentication, so
    /// devices refuse it (mbedTLS `-0x7a00`).
    #[error(
        "extended key usage allows {allowed} only; devices need serverAuth (reissue with \
         `wasmbed-gateway pki gateway`)"
    )]
    NoServerAuth {
        /// The purposes it allows.
        allowed: String,
    },
    /// The certificate's key usage lacks digitalSignature, which signing the handshake needs.
    #[error(
        "key usage ({key_usage}) lacks digitalSignature, which signing the TLS handshake needs \
         (reissue with `wasmbed-gateway pki gateway`)"
    )]
    NoDigitalSignature {
        /// The key usage bits it has.
        key_usage: String,
    },
    /// The certificate's key is not one devices verify.
    #[error(
        "the key is {key}; devices accept ECDSA P-256 or P-384, or RSA of at least 2048 bits \
         (reissue with `wasmbed-gateway pki gateway --algorithm p256`)"
    )]
    KeyNotForDevices {
        /// The key found.
        key: String,
    },
    /// The certificate's notAfter is in the past.
    #[error(
        "expired at {}; reissue with `wasmbed-gateway pki gateway`",
        crate::pki::rfc3339(*not_after)
    )]
    CertificateExpired {
        /// The certificate's notAfter.
        not_after: SystemTime,
    },
    /// The certificate's notBefore is in the future.
    #[error(
        "not valid before {}; check this machine's clock or reissue with \
         `wasmbed-gateway pki gateway`",
        crate::pki::rfc3339(*not_before)
    )]
    CertificateNotYetValid {
        /// The certificate's notBefore.
        not_before: SystemTime,
    },
    /// The certificate does not name the host devices are told to dial.
    #[error(
        "does not name {host}, the host of the device endpoint (it names {}); reissue with \
         `wasmbed-gateway pki gateway --san {host}`, or correct --device-endpoint",
        list_or_none(names)
    )]
    EndpointNotCovered {
        /// The device endpoint's host (boxed: a DNS name is stored inline, up to 253 bytes,
        /// and would make every `Result<_, ConfigError>` that large).
        host: Box<Host>,
        /// The DNS names and addresses the certificate has, each once, sorted (DNS names as
        /// written, including wildcards such as `*.example`; addresses in their usual text
        /// form).
        names: Vec<String>,
    },
    /// The certificate has an Ed25519 key, which devices (mbedTLS) cannot parse, and the
    /// server is device-facing (`device_max_content_len` is set).
    #[error(
        "the certificate has an Ed25519 key, which devices (mbedTLS) cannot parse; reissue it \
         with ECDSA P-256 (`wasmbed-gateway pki gateway --algorithm p256`)"
    )]
    NotForDevices,
    /// The identity's certificate chain is empty.
    #[error("the certificate chain is empty")]
    EmptyChain,
    /// A CA certificate for verification could not be used.
    #[error("cannot use the CA certificate for verification")]
    BadRoot(#[source] rustls::Error),
    /// rustls refused the configuration (for example a key that does not match its
    /// certificate).
    #[error("rustls refused the configuration")]
    Rustls(#[from] rustls::Error),
    /// The client certificate verifier could not be built.
    #[error("cannot build the client certificate verifier")]
    Verifier(#[from] rustls::server::VerifierBuilderError),
}

/// `names` joined with ", ", or "no names".
fn list_or_none(names: &[String]) -> String {
    if names.is_empty() {
        "no names".to_owned()
    } else {
        names.join(", ")
    }
}

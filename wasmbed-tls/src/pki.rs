//! Certificate generation with rcgen: the dev self-signed gateway certificate, a CA, gateway
//! and device leaves. Replaces the seed's five openssl commands.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType, SerialNumber,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use time::OffsetDateTime;
use wasmbed_endpoint::Host;
use wasmbed_protocol::DeviceId;

use crate::error::PkiError;

/// Key algorithm and signature hash of a generated certificate.
///
/// Every Zephyr mbedTLS build can verify ECDSA P-256 with SHA-256, and its certificates are
/// small enough for a device's 1500-byte TLS buffer, so it is the default. mbedTLS cannot
/// parse Ed25519 certificates: generating one for a device-facing role is refused unless
/// [`CertificateOptions::allow_non_device`] is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum KeyAlgorithm {
    /// ECDSA on P-256 with SHA-256 (RFC 5480, RFC 5758).
    #[default]
    EcdsaP256,
    /// ECDSA on P-384 with SHA-384.
    EcdsaP384,
    /// RSA 2048-bit, PKCS #1 v1.5 with SHA-256.
    Rsa2048,
    /// RSA 3072-bit, PKCS #1 v1.5 with SHA-256.
    Rsa3072,
    /// RSA 4096-bit, PKCS #1 v1.5 with SHA-256 (the seed's choice; too large for devices with
    /// 1500-byte TLS buffers).
    Rsa4096,
    /// Ed25519 (RFC 8410): not parseable by mbedTLS, so for non-device use only.
    Ed25519,
}

impl KeyAlgorithm {
    /// Whether Zephyr's mbedTLS can parse and verify certificates with this key. Size is a
    /// separate question: an RSA-4096 leaf parses, but its handshake may not fit a device's
    /// buffer ([`check_handshake_fits`](crate::check_handshake_fits) decides).
    pub fn device_compatible(self) -> bool {
        self != KeyAlgorithm::Ed25519
    }

    fn generate(self) -> Result<KeyPair, rcgen::Error> {
        let rsa = |size| KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, size);
        match self {
            KeyAlgorithm::EcdsaP256 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256),
            KeyAlgorithm::EcdsaP384 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384),
            KeyAlgorithm::Rsa2048 => rsa(rcgen::RsaKeySize::_2048),
            KeyAlgorithm::Rsa3072 => rsa(rcgen::RsaKeySize::_3072),
            KeyAlgorithm::Rsa4096 => rsa(rcgen::RsaKeySize::_4096),
            KeyAlgorithm::Ed25519 => KeyPair::generate_for(&rcgen::PKCS_ED25519),
        }
    }
}

impl fmt::Display for KeyAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeyAlgorithm::EcdsaP256 => "ECDSA P-256",
            KeyAlgorithm::EcdsaP384 => "ECDSA P-384",
            KeyAlgorithm::Rsa2048 => "RSA-2048",
            KeyAlgorithm::Rsa3072 => "RSA-3072",
            KeyAlgorithm::Rsa4096 => "RSA-4096",
            KeyAlgorithm::Ed25519 => "Ed25519",
        })
    }
}

/// A certificate's validity window (RFC 5280 section 4.1.2.5).
///
/// The default, [`Validity::for_devices`], suits devices without a real-time clock, or with one
/// that starts at the epoch after every boot: it starts at 1970-01-01T00:00:00Z, so such a device
/// never finds the certificate "not yet valid", and ends at 9999-12-31T23:59:59Z, which RFC 5280
/// defines as "no well-defined expiration date". Rotate certificates with
/// [`CertResolver`](crate::CertResolver) rather than relying on expiry; use
/// [`Validity::days_from_now`] where every peer has a trustworthy clock, or
/// [`Validity::new`] for an explicit window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Validity {
    /// Start of the window (`notBefore`); second resolution.
    pub not_before: SystemTime,
    /// End of the window (`notAfter`); second resolution.
    pub not_after: SystemTime,
}

/// 9999-12-31T23:59:59Z, RFC 5280's "no well-defined expiration date".
const NO_EXPIRY: Duration = Duration::from_secs(253_402_300_799);

impl Validity {
    /// From `not_before` to `not_after` (second resolution). Checked when a certificate is
    /// generated: [`PkiError::InvalidValidity`] unless `not_after` is later than `not_before`
    /// and both lie between 1970-01-01 and 9999-12-31T23:59:59Z.
    pub fn new(not_before: SystemTime, not_after: SystemTime) -> Validity {
        Validity {
            not_before,
            not_after,
        }
    }

    /// 1970-01-01T00:00:00Z to 9999-12-31T23:59:59Z: valid for a device whatever its clock says.
    pub fn for_devices() -> Validity {
        Validity {
            not_before: UNIX_EPOCH,
            not_after: UNIX_EPOCH + NO_EXPIRY,
        }
    }

    /// From one hour ago (clock skew) to `days` days from now.
    pub fn days_from_now(days: u32) -> Validity {
        let now = SystemTime::now();
        Validity {
            not_before: now - Duration::from_secs(3600),
            not_after: now + Duration::from_secs(u64::from(days) * 86_400),
        }
    }

    fn check(&self) -> Result<(OffsetDateTime, OffsetDateTime), PkiError> {
        if self.not_after <= self.not_before {
            return Err(PkiError::InvalidValidity {
                reason: "not_after must be later than not_before",
            });
        }
        if self.not_before < UNIX_EPOCH || self.not_after > UNIX_EPOCH + NO_EXPIRY {
            return Err(PkiError::InvalidValidity {
                reason: "times must lie between 1970-01-01 and 9999-12-31T23:59:59Z",
            });
        }
        Ok((self.not_before.into(), self.not_after.into()))
    }
}

impl Default for Validity {
    fn default() -> Validity {
        Validity::for_devices()
    }
}

/// Choices for one generated certificate.
///
/// # Defaults
///
/// * `algorithm`: [`KeyAlgorithm::EcdsaP256`]
/// * `validity`: [`Validity::for_devices`]
/// * `allow_non_device`: `false`
/// * `ip_addresses_as_dns_names`: `true`
///
/// Start from [`CertificateOptions::default`] and change what you need with the `with_*`
/// methods (one per field, so that a new field is not a breaking change):
///
/// ```
/// use wasmbed_tls::{CertificateOptions, KeyAlgorithm, Validity};
///
/// let options = CertificateOptions::default()
///     .with_algorithm(KeyAlgorithm::EcdsaP384)
///     .with_validity(Validity::days_from_now(365));
/// assert!(!options.allow_non_device);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct CertificateOptions {
    /// Key algorithm of the new certificate's key.
    pub algorithm: KeyAlgorithm,
    /// Validity window.
    pub validity: Validity,
    /// Allow algorithms devices cannot use (Ed25519), for certificates that only tools and
    /// operators ever see.
    pub allow_non_device: bool,
    /// Also write each IP address of a gateway certificate as a `dNSName` SAN, which mbedTLS
    /// 2.x needs (it matches `TLS_HOSTNAME` only against `dNSName` entries). Turn it off when
    /// the CA carries DNS name constraints: such an entry violates them.
    pub ip_addresses_as_dns_names: bool,
}

impl Default for CertificateOptions {
    fn default() -> CertificateOptions {
        CertificateOptions {
            algorithm: KeyAlgorithm::default(),
            validity: Validity::default(),
            allow_non_device: false,
            ip_addresses_as_dns_names: true,
        }
    }
}

setters! {
    CertificateOptions {
        /// Sets [`CertificateOptions::algorithm`].
        with_algorithm => algorithm: KeyAlgorithm;
        /// Sets [`CertificateOptions::validity`].
        with_validity => validity: Validity;
        /// Sets [`CertificateOptions::allow_non_device`].
        with_allow_non_device => allow_non_device: bool;
        /// Sets [`CertificateOptions::ip_addresses_as_dns_names`].
        with_ip_addresses_as_dns_names => ip_addresses_as_dns_names: bool;
    }
}

impl CertificateOptions {
    fn key_pair(&self) -> Result<KeyPair, PkiError> {
        if !self.allow_non_device && !self.algorithm.device_compatible() {
            return Err(PkiError::NotForDevices {
                algorithm: self.algorithm,
            });
        }
        Ok(self.algorithm.generate()?)
    }

    fn params(&self, common_name: &str) -> Result<CertificateParams, PkiError> {
        let (not_before, not_after) = self.validity.check()?;
        let mut params = CertificateParams::default();
        params.not_before = not_before;
        params.not_after = not_after;
        params.serial_number = Some(random_serial()?);
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, common_name);
        params.distinguished_name = dn;
        Ok(params)
    }
}

/// A certificate chain (leaf first) and its private key: what a TLS endpoint presents.
///
/// Generated by [`dev_gateway`], [`CertificateAuthority::issue_gateway`] and
/// [`CertificateAuthority::issue_device`], or loaded with
/// [`Identity::load`](crate::Identity::load). Generated identities hold only the leaf: devices
/// already have the CA, and every byte of the handshake must fit their TLS buffer; a loaded
/// identity holds whatever chain its file has.
pub struct Identity {
    pub(crate) chain: Vec<CertificateDer<'static>>,
    pub(crate) key: PrivateKeyDer<'static>,
}

impl Identity {
    /// An identity from DER parts (leaf first); nothing is checked until it is used.
    pub fn from_der(chain: Vec<CertificateDer<'static>>, key: PrivateKeyDer<'static>) -> Identity {
        Identity { chain, key }
    }

    /// The certificate chain, leaf first.
    pub fn chain(&self) -> &[CertificateDer<'static>] {
        &self.chain
    }

    /// The private key (PKCS #8 for generated identities).
    pub fn key(&self) -> &PrivateKeyDer<'static> {
        &self.key
    }

    fn generated(cert: rcgen::Certificate, key: &KeyPair) -> Identity {
        Identity {
            chain: vec![cert.der().clone()],
            key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        }
    }
}

impl Clone for Identity {
    fn clone(&self) -> Identity {
        Identity {
            chain: self.chain.clone(),
            key: self.key.clone_key(),
        }
    }
}

/// Shows the leaf's size, never the key.
impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity")
            .field("chain_len", &self.chain.len())
            .field("leaf_der_len", &self.chain.first().map(|c| c.len()))
            .finish_non_exhaustive()
    }
}

/// The dev-mode gateway certificate: self-signed, ECDSA P-256 by default, its SANs covering
/// `names` (the gateway passes `localhost`, `127.0.0.1`, `::1`, the host name and every local
/// interface address, plus any `--san`).
///
/// Devices in dev mode skip verification (`TLS_PEER_VERIFY_NONE`), so the certificate's names
/// only matter to tools such as `curl --cacert`. SANs are written as for
/// [`CertificateAuthority::issue_gateway`].
///
/// # Errors
///
/// [`PkiError::NoNames`] for an empty `names`, [`PkiError::NotForDevices`] for Ed25519 without
/// `allow_non_device`, [`PkiError::InvalidValidity`] and [`PkiError::Generation`].
pub fn dev_gateway(names: &[Host], options: &CertificateOptions) -> Result<Identity, PkiError> {
    let key = options.key_pair()?;
    let params = gateway_params(names, options)?;
    Ok(Identity::generated(params.self_signed(&key)?, &key))
}

fn gateway_params(
    names: &[Host],
    options: &CertificateOptions,
) -> Result<CertificateParams, PkiError> {
    let first = names.first().ok_or(PkiError::NoNames)?;
    let common_name = first.to_string();
    let mut params = options.params(common_name.strip_suffix('.').unwrap_or(&common_name))?;
    params.subject_alt_names = subject_alt_names(names, options.ip_addresses_as_dns_names)?;
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    if matches!(
        options.algorithm,
        KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072 | KeyAlgorithm::Rsa4096
    ) {
        params.key_usages.push(KeyUsagePurpose::KeyEncipherment);
    }
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    Ok(params)
}

/// SANs that verify on every client a device or tool may run, without duplicates.
///
/// A DNS name becomes a `dNSName` (lower case, no final `.`: names compare case-insensitively,
/// RFC 4343). An IP address becomes an `iPAddress` (what mbedTLS 3.5+, rustls, OpenSSL and curl
/// match an address against) and, with `ip_as_dns`, also a `dNSName` holding its text: mbedTLS
/// 2.x matches the `TLS_HOSTNAME` string only against `dNSName` entries and ignores
/// `iPAddress`, and looks at the subject CN only when there is no SAN extension at all
/// (mbedTLS `x509_crt_check_san`; ChangeLog 3.5.0).
fn subject_alt_names(names: &[Host], ip_as_dns: bool) -> Result<Vec<SanType>, PkiError> {
    let mut sans: Vec<SanType> = Vec::new();
    let mut push = |san: SanType| {
        if !sans.contains(&san) {
            sans.push(san);
        }
    };
    let dns =
        |text: String| -> Result<SanType, PkiError> { Ok(SanType::DnsName(text.try_into()?)) };
    for name in names {
        match name {
            Host::Dns(dns_name) => {
                let text = dns_name.as_str().to_ascii_lowercase();
                push(dns(text.strip_suffix('.').unwrap_or(&text).to_owned())?);
            }
            Host::Ipv4(_) | Host::Ipv6(_) => {
                let ip = name.ip().expect("an address host has an IP");
                push(SanType::IpAddress(ip));
                if ip_as_dns {
                    push(dns(ip.to_string())?);
                }
            }
        }
    }
    Ok(sans)
}

/// A certificate authority: its certificate and signing key.
///
/// Use one CA to sign the gateway's certificate (devices verify it with the CA registered through
/// `tls_credential_add`; see [`c_header`](crate::c_header)), and, for mTLS, a second one to sign
/// device certificates.
pub struct CertificateAuthority {
    issuer: Issuer<'static, KeyPair>,
    cert: CertificateDer<'static>,
}

impl CertificateAuthority {
    /// Generates a self-signed CA named `common_name`: `basicConstraints` CA with path length
    /// 0, key usages `keyCertSign` and `cRLSign`.
    ///
    /// # Errors
    ///
    /// [`PkiError::NotForDevices`], [`PkiError::InvalidValidity`], [`PkiError::Generation`].
    pub fn generate(
        common_name: &str,
        options: &CertificateOptions,
    ) -> Result<CertificateAuthority, PkiError> {
        let key = options.key_pair()?;
        let mut params = options.params(common_name)?;
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let cert = params.self_signed(&key)?;
        Ok(CertificateAuthority {
            cert: cert.der().clone(),
            issuer: Issuer::new(params, key),
        })
    }

    /// A CA from its certificate and key (for example loaded from PEM files).
    ///
    /// # Errors
    ///
    /// [`PkiError::NotCa`] when the certificate is not a CA (`basicConstraints` cA),
    /// [`PkiError::KeyMismatch`] when the key is not the certificate's, and
    /// [`PkiError::Generation`] when either cannot be parsed.
    pub fn from_der(
        cert: CertificateDer<'static>,
        key: &PrivateKeyDer<'_>,
    ) -> Result<CertificateAuthority, PkiError> {
        use x509_parser::prelude::{FromDer as _, X509Certificate};
        let key = KeyPair::try_from(key)?;
        let (_, parsed) = X509Certificate::from_der(&cert).map_err(|e| PkiError::Generation {
            message: format!("cannot parse the CA certificate: {e}"),
        })?;
        if !parsed.is_ca() {
            return Err(PkiError::NotCa);
        }
        if parsed.public_key().raw != rcgen::PublicKeyData::subject_public_key_info(&key).as_slice()
        {
            return Err(PkiError::KeyMismatch);
        }
        let issuer = Issuer::from_ca_cert_der(&cert, key)?;
        Ok(CertificateAuthority { issuer, cert })
    }

    pub(crate) fn issuer(&self) -> &Issuer<'static, KeyPair> {
        &self.issuer
    }

    /// The CA certificate: what devices and clients trust.
    pub fn certificate(&self) -> &CertificateDer<'static> {
        &self.cert
    }

    /// The CA's private key (PKCS #8). Keep it off the gateway.
    pub fn key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.issuer.key().serialize_der()))
    }

    /// Refuses to sign a device-facing certificate with a key devices cannot verify.
    fn check_issuer(&self, options: &CertificateOptions) -> Result<(), PkiError> {
        if !options.allow_non_device && self.issuer.key().algorithm() == &rcgen::PKCS_ED25519 {
            return Err(PkiError::NotForDevices {
                algorithm: KeyAlgorithm::Ed25519,
            });
        }
        Ok(())
    }

    /// Issues the gateway's production certificate for the names and addresses devices dial.
    ///
    /// The leaf has `extendedKeyUsage` serverAuth, `keyUsage` digitalSignature, the first name
    /// as subject CN, and SANs that verify on mbedTLS 2.x and 3.x devices as well as rustls,
    /// OpenSSL and curl: each DNS name as `dNSName` (lower case, a final `.` dropped), each IP
    /// address as `iPAddress` plus, unless
    /// [`ip_addresses_as_dns_names`](CertificateOptions::ip_addresses_as_dns_names) is off, its
    /// text as a `dNSName` (mbedTLS 2.x compares `TLS_HOSTNAME` only with `dNSName` entries).
    ///
    /// # Errors
    ///
    /// [`PkiError::NoNames`], [`PkiError::NotForDevices`] (for the new key, or for this CA's
    /// Ed25519 key), [`PkiError::InvalidValidity`], [`PkiError::Generation`].
    pub fn issue_gateway(
        &self,
        names: &[Host],
        options: &CertificateOptions,
    ) -> Result<Identity, PkiError> {
        self.check_issuer(options)?;
        let key = options.key_pair()?;
        let params = gateway_params(names, options)?;
        Ok(Identity::generated(
            params.signed_by(&key, &self.issuer)?,
            &key,
        ))
    }

    /// Issues a device certificate for mTLS: subject CN = the device id (what the gateway
    /// compares with the id in HELLO), `extendedKeyUsage` clientAuth, `keyUsage`
    /// digitalSignature.
    ///
    /// # Errors
    ///
    /// [`PkiError::NotForDevices`] (for the new key, or for this CA's Ed25519 key),
    /// [`PkiError::InvalidValidity`], [`PkiError::Generation`].
    pub fn issue_device(
        &self,
        device_id: &DeviceId,
        options: &CertificateOptions,
    ) -> Result<Identity, PkiError> {
        self.check_issuer(options)?;
        let key = options.key_pair()?;
        let mut params = options.params(device_id.as_str())?;
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.use_authority_key_identifier_extension = true;
        Ok(Identity::generated(
            params.signed_by(&key, &self.issuer)?,
            &key,
        ))
    }
}

impl fmt::Debug for CertificateAuthority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertificateAuthority")
            .field("der_len", &self.cert.len())
            .finish_non_exhaustive()
    }
}

/// A positive 16-byte random serial number (RFC 5280 section 4.1.2.2: at most 20 octets).
fn random_serial() -> Result<SerialNumber, PkiError> {
    let mut bytes = [0u8; 16];
    rustls::crypto::aws_lc_rs::default_provider()
        .secure_random
        .fill(&mut bytes)
        .map_err(|_| PkiError::Generation {
            message: "the system random number generator failed".into(),
        })?;
    bytes[0] &= 0x7f;
    bytes[0] |= 0x01;
    Ok(SerialNumber::from_slice(&bytes))
}

/// Formats a time as RFC 3339 UTC (`2026-11-29T19:30:00Z`) for messages.
pub(crate) fn rfc3339(time: SystemTime) -> String {
    OffsetDateTime::from(time)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| format!("{time:?}"))
}

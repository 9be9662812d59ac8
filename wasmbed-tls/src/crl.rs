//! Certificate revocation lists (RFC 5280 section 5) for device certificates: loading and
//! checking them for the gateway, and making them with the device CA (`pki revoke`).

use std::path::Path;
use std::time::{Duration, SystemTime};

use rcgen::{CertificateRevocationListParams, KeyIdMethod, RevokedCertParams, SerialNumber};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer};
use x509_parser::prelude::{FromDer as _, X509Certificate};
use x509_parser::revocation_list::CertificateRevocationList;

use crate::error::{LoadError, PkiError};
use crate::pki::CertificateAuthority;

/// What [`check_crl`] found in a CRL that can be used.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CrlStatus {
    /// The issuer's distinguished name (RFC 4514 form).
    pub issuer: String,
    /// Serial numbers revoked, as big-endian bytes.
    pub revoked: Vec<Vec<u8>>,
    /// The CRL's nextUpdate, if it has one.
    pub next_update: Option<SystemTime>,
    /// The CRL's number (RFC 5280 section 5.2.3), if it has one.
    pub number: Option<u64>,
}

impl CrlStatus {
    /// Whether `now` is past the nextUpdate: the issuer promised a newer CRL by then. The
    /// gateway still applies a stale CRL (the certificates it lists stay revoked) and warns.
    pub fn is_stale(&self, now: SystemTime) -> bool {
        self.next_update.is_some_and(|next| now > next)
    }
}

/// Reads every CRL in a file: PEM (`X509 CRL` sections) or one DER CRL.
///
/// # Errors
///
/// [`LoadError::Missing`], [`LoadError::Read`], or [`LoadError::BadCrl`] for a file that holds
/// no CRL.
pub fn load_crls(path: &Path) -> Result<Vec<CertificateRevocationListDer<'static>>, LoadError> {
    let bytes = crate::files::read(path)?;
    let bad = |message: String| LoadError::BadCrl {
        path: path.to_owned(),
        message,
    };
    if bytes.starts_with(b"-----") || bytes.windows(11).any(|w| w == b"-----BEGIN ") {
        let crls = CertificateRevocationListDer::pem_slice_iter(&bytes)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| bad(format!("malformed PEM: {e}")))?;
        if crls.is_empty() {
            return Err(bad("no -----BEGIN X509 CRL----- section".to_owned()));
        }
        return Ok(crls);
    }
    if bytes.first() != Some(&0x30) {
        return Err(bad(
            "neither PEM nor DER (expected -----BEGIN X509 CRL----- or a DER SEQUENCE)".to_owned(),
        ));
    }
    Ok(vec![CertificateRevocationListDer::from(bytes)])
}

/// Checks a CRL read from `path`: it parses, and one of `cas` (the client CAs) issued and
/// signed it. A CRL past its nextUpdate passes ([`CrlStatus::is_stale`]).
///
/// # Errors
///
/// [`LoadError::BadCrl`] for a CRL that does not parse, [`LoadError::CrlNotFromClientCa`] for
/// one no client CA signed.
pub fn check_crl(
    path: &Path,
    crl: &CertificateRevocationListDer<'_>,
    cas: &[CertificateDer<'_>],
) -> Result<CrlStatus, LoadError> {
    let bad = |message: String| LoadError::BadCrl {
        path: path.to_owned(),
        message,
    };
    let (rest, parsed) =
        CertificateRevocationList::from_der(crl).map_err(|e| bad(e.to_string()))?;
    if !rest.is_empty() {
        return Err(bad(format!("{} bytes after the CRL", rest.len())));
    }
    let signed_by_ca = cas.iter().any(|ca| {
        X509Certificate::from_der(ca).is_ok_and(|(_, ca)| {
            ca.subject().as_raw() == parsed.issuer().as_raw()
                && parsed.verify_signature(ca.public_key()).is_ok()
        })
    });
    if !signed_by_ca {
        return Err(LoadError::CrlNotFromClientCa {
            path: path.to_owned(),
            issuer: parsed.issuer().to_string(),
        });
    }
    Ok(CrlStatus {
        issuer: parsed.issuer().to_string(),
        revoked: parsed
            .iter_revoked_certificates()
            .map(|r| r.raw_serial().to_vec())
            .collect(),
        next_update: parsed
            .next_update()
            .map(|t| SystemTime::from(t.to_datetime())),
        number: parsed.crl_number().and_then(|n| n.try_into().ok()),
    })
}

/// The serial number of a certificate, as big-endian bytes.
///
/// # Errors
///
/// [`PkiError::Generation`] for a certificate that does not parse.
pub fn certificate_serial(cert: &CertificateDer<'_>) -> Result<Vec<u8>, PkiError> {
    let (_, parsed) = X509Certificate::from_der(cert).map_err(|e| PkiError::Generation {
        message: format!("cannot parse the certificate: {e}"),
    })?;
    Ok(parsed.raw_serial().to_vec())
}

impl CertificateAuthority {
    /// A CRL signed by this CA revoking `serials` (big-endian bytes) on top of the entries of
    /// `previous` (a CRL this CA signed before, kept entry for entry), with the next CRL
    /// number (RFC 5280 section 5.2.3), thisUpdate now and nextUpdate `next_update` from now.
    ///
    /// # Errors
    ///
    /// [`PkiError::Crl`] when `previous` does not parse or was not issued by this CA, and
    /// [`PkiError::Generation`] when signing fails.
    pub fn revoke(
        &self,
        previous: Option<&CertificateRevocationListDer<'_>>,
        serials: &[Vec<u8>],
        next_update: Duration,
    ) -> Result<CertificateRevocationListDer<'static>, PkiError> {
        let now = time::OffsetDateTime::now_utc();
        let mut revoked: Vec<RevokedCertParams> = Vec::new();
        let mut number: u64 = 0;
        if let Some(previous) = previous {
            let status = check_crl(
                Path::new("the previous CRL"),
                previous,
                std::slice::from_ref(self.certificate()),
            )
            .map_err(|e| PkiError::Crl {
                message: match e {
                    LoadError::CrlNotFromClientCa { issuer, .. } => format!(
                        "the existing CRL was signed by {issuer}, not by this CA; give the CA \
                         that signed it (--ca-cert, --ca-key), or another --crl file"
                    ),
                    other => {
                        format!("the existing CRL is not usable ({other}); give another --crl file")
                    }
                },
            })?;
            let (_, parsed) =
                CertificateRevocationList::from_der(previous).map_err(|e| PkiError::Crl {
                    message: format!(
                        "the existing CRL does not parse ({e}); give another --crl file"
                    ),
                })?;
            for entry in parsed.iter_revoked_certificates() {
                revoked.push(RevokedCertParams {
                    serial_number: SerialNumber::from_slice(entry.raw_serial()),
                    revocation_time: entry.revocation_date.to_datetime(),
                    reason_code: None,
                    invalidity_date: None,
                });
            }
            number = status.number.unwrap_or(0);
        }
        for serial in serials {
            if !revoked
                .iter()
                .any(|r| r.serial_number.to_bytes() == *serial)
            {
                revoked.push(RevokedCertParams {
                    serial_number: SerialNumber::from_slice(serial),
                    revocation_time: now,
                    reason_code: None,
                    invalidity_date: None,
                });
            }
        }
        let params = CertificateRevocationListParams {
            this_update: now,
            next_update: now + next_update,
            crl_number: SerialNumber::from(minimal_be(number.saturating_add(1))),
            issuing_distribution_point: None,
            revoked_certs: revoked,
            key_identifier_method: KeyIdMethod::Sha256,
        };
        let crl = params.signed_by(self.issuer())?;
        Ok(crl.der().clone())
    }
}

/// `n` as big-endian bytes without leading zeros (one byte for 0).
fn minimal_be(n: u64) -> Vec<u8> {
    let bytes = n.to_be_bytes();
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(7);
    bytes[first..].to_vec()
}

//! PEM files: saving atomically (private keys with mode 0600) and loading with errors that
//! name the file and the problem.

use std::fs;
use std::io::{self, Write as _};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use rustls::pki_types::pem::{self as pki_pem, PemObject as _};
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer};
use x509_parser::prelude::{FromDer as _, X509Certificate};

use crate::error::{LoadError, PkiError};
use crate::pki::{CertificateAuthority, Identity};

/// File mode of saved private keys: owner read and write only.
pub const KEY_FILE_MODE: u32 = 0o600;

/// File mode of saved certificates: world-readable.
pub const CERTIFICATE_FILE_MODE: u32 = 0o644;

impl Identity {
    /// The certificate chain as PEM (`CERTIFICATE` sections, leaf first).
    pub fn chain_pem(&self) -> String {
        self.chain.iter().map(|c| certificate_pem(c)).collect()
    }

    /// The private key as PEM (`PRIVATE KEY`, PKCS #8 for generated identities).
    pub fn key_pem(&self) -> String {
        let kind = match &self.key {
            PrivateKeyDer::Pkcs1(_) => "RSA PRIVATE KEY",
            PrivateKeyDer::Sec1(_) => "EC PRIVATE KEY",
            _ => "PRIVATE KEY",
        };
        pem_section(kind, self.key.secret_der())
    }

    /// Writes the chain to `certificate` (mode 0644) and the key to `key` (mode 0600), each
    /// atomically: a reader sees the old file or the new one, never a partial write. The key is
    /// written first; a reader that loads both between the two renames sees a mismatched pair,
    /// which [`Identity::load`] reports as [`LoadError::KeyMismatch`] (retry on the next
    /// change).
    ///
    /// # Errors
    ///
    /// [`PkiError::SamePath`] when both paths are the same file, [`PkiError::Write`] naming the
    /// file that could not be written.
    pub fn save(&self, certificate: &Path, key: &Path) -> Result<(), PkiError> {
        distinct(certificate, key)?;
        write_atomic(key, self.key_pem().as_bytes(), KEY_FILE_MODE)?;
        write_atomic(
            certificate,
            self.chain_pem().as_bytes(),
            CERTIFICATE_FILE_MODE,
        )
    }

    /// Writes the leaf certificate and the private key as the two C headers a device registers
    /// for mTLS with Zephyr's `tls_credential_add`: `certificate_header` (mode 0644) declares
    /// `<certificate_symbol>[]` for `TLS_CREDENTIAL_PUBLIC_CERTIFICATE`, `key_header` (mode 0600,
    /// marked SECRET) declares `<key_symbol>[]` for `TLS_CREDENTIAL_PRIVATE_KEY` (the PKCS #8
    /// DER that mbedTLS's `mbedtls_pk_parse_key` reads). Each is written atomically, the key
    /// first; see [`c_header_credential`](crate::c_header_credential) for the format.
    ///
    /// # Errors
    ///
    /// [`PkiError::InvalidSymbol`] for a symbol that is not a lower-case C identifier,
    /// [`PkiError::SamePath`] when both paths are the same file, [`PkiError::Write`] naming the
    /// file that could not be written.
    pub fn save_c_headers(
        &self,
        certificate_header: &Path,
        certificate_symbol: &str,
        key_header: &Path,
        key_symbol: &str,
    ) -> Result<(), PkiError> {
        distinct(certificate_header, key_header)?;
        let leaf = self.chain.first().map(|c| c.as_ref()).unwrap_or_default();
        let certificate = crate::c_header_credential(
            leaf,
            certificate_symbol,
            crate::Credential::PublicCertificate,
        )?;
        let key = crate::c_header_credential(
            self.key.secret_der(),
            key_symbol,
            crate::Credential::PrivateKey,
        )?;
        write_atomic(key_header, key.as_bytes(), KEY_FILE_MODE)?;
        write_atomic(
            certificate_header,
            certificate.as_bytes(),
            CERTIFICATE_FILE_MODE,
        )
    }

    /// Loads a chain and key from PEM files and checks that they belong together and that the
    /// leaf is valid now.
    ///
    /// The key may be PKCS #8 (`PRIVATE KEY`), SEC1 (`EC PRIVATE KEY`) or PKCS #1
    /// (`RSA PRIVATE KEY`).
    ///
    /// # Errors
    ///
    /// A [`LoadError`] naming the file: [`LoadError::Missing`], [`LoadError::Read`],
    /// [`LoadError::NotPem`], [`LoadError::BadPem`], [`LoadError::NoCertificate`],
    /// [`LoadError::NoKey`], [`LoadError::BadCertificate`], [`LoadError::BadKey`],
    /// [`LoadError::KeyMismatch`], [`LoadError::Expired`], [`LoadError::NotYetValid`].
    pub fn load(certificate: &Path, key: &Path) -> Result<Identity, LoadError> {
        let chain = load_certificates(certificate)?;
        check_validity(certificate, &chain[0], SystemTime::now())?;
        let key_der = load_key(key)?;
        let provider = rustls::crypto::aws_lc_rs::default_provider();
        let signing_key = provider
            .key_provider
            .load_private_key(key_der.clone_key())
            .map_err(|e| LoadError::BadKey {
                path: key.to_owned(),
                message: short_rsa_key(&chain[0]).unwrap_or_else(|| e.to_string()),
            })?;
        let certified = rustls::sign::CertifiedKey::new(chain.clone(), signing_key);
        if let Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch)) =
            certified.keys_match()
        {
            return Err(LoadError::KeyMismatch {
                certificate: certificate.to_owned(),
                key: key.to_owned(),
            });
        }
        Ok(Identity::from_der(chain, key_der))
    }
}

/// Why the crypto provider refuses the key of `cert`, when it is RSA below 2048 bits (aws-lc
/// does not load such keys, and its message does not say so).
fn short_rsa_key(cert: &CertificateDer<'_>) -> Option<String> {
    use x509_parser::public_key::PublicKey;
    let (_, parsed) = X509Certificate::from_der(cert).ok()?;
    match parsed.public_key().parsed() {
        Ok(PublicKey::RSA(rsa)) if rsa.key_size() < crate::MIN_RSA_BITS => Some(format!(
            "an RSA key of {} bits; at least {} are needed (reissue it with \
             `--algorithm p256`, or rsa2048 and up)",
            rsa.key_size(),
            crate::MIN_RSA_BITS
        )),
        _ => None,
    }
}

impl CertificateAuthority {
    /// Writes the CA certificate (mode 0644) and key (mode 0600) atomically.
    ///
    /// # Errors
    ///
    /// [`PkiError::Write`] naming the file.
    pub fn save(&self, certificate: &Path, key: &Path) -> Result<(), PkiError> {
        distinct(certificate, key)?;
        let key_der = self.key();
        write_atomic(
            key,
            pem_section("PRIVATE KEY", key_der.secret_der()).as_bytes(),
            KEY_FILE_MODE,
        )?;
        write_atomic(
            certificate,
            certificate_pem(self.certificate()).as_bytes(),
            CERTIFICATE_FILE_MODE,
        )
    }

    /// Loads a CA certificate and its key, checking that the certificate is a CA, valid now,
    /// and matches the key.
    ///
    /// # Errors
    ///
    /// As [`Identity::load`], plus [`LoadError::NotCa`].
    pub fn load(certificate: &Path, key: &Path) -> Result<CertificateAuthority, LoadError> {
        let identity = Identity::load(certificate, key)?;
        let cert = identity.chain[0].clone();
        let (_, parsed) =
            X509Certificate::from_der(&cert).map_err(|e| LoadError::BadCertificate {
                path: certificate.to_owned(),
                message: e.to_string(),
            })?;
        if !parsed.is_ca() {
            return Err(LoadError::NotCa {
                path: certificate.to_owned(),
            });
        }
        CertificateAuthority::from_der(cert, &identity.key).map_err(|e| match e {
            PkiError::NotCa => LoadError::NotCa {
                path: certificate.to_owned(),
            },
            PkiError::KeyMismatch => LoadError::KeyMismatch {
                certificate: certificate.to_owned(),
                key: key.to_owned(),
            },
            e => LoadError::BadKey {
                path: key.to_owned(),
                message: e.to_string(),
            },
        })
    }
}

/// Writes a CRL as PEM (`X509 CRL`, mode 0644) atomically: a gateway reloading it sees the
/// old file or the new one.
///
/// # Errors
///
/// [`PkiError::Write`] naming the file.
pub fn save_crl(path: &Path, crl: &CertificateRevocationListDer<'_>) -> Result<(), PkiError> {
    write_atomic(
        path,
        pem_section("X509 CRL", crl).as_bytes(),
        CERTIFICATE_FILE_MODE,
    )
}

/// Reads every `CERTIFICATE` section of a PEM file (at least one), in order.
///
/// # Errors
///
/// [`LoadError::Missing`], [`LoadError::Read`], [`LoadError::NotPem`], [`LoadError::BadPem`],
/// [`LoadError::NoCertificate`].
pub fn load_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, LoadError> {
    let bytes = read(path)?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_error(path, &bytes, e))?;
    if certs.is_empty() {
        return Err(no_section(path, &bytes, Wanted::Certificate));
    }
    Ok(certs)
}

/// Reads the first private key section of a PEM file.
///
/// # Errors
///
/// [`LoadError::Missing`], [`LoadError::Read`], [`LoadError::NotPem`], [`LoadError::BadPem`],
/// [`LoadError::NoKey`].
pub fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>, LoadError> {
    let bytes = read(path)?;
    match PrivateKeyDer::from_pem_slice(&bytes) {
        Ok(key) => Ok(key),
        Err(pki_pem::Error::NoItemsFound) => Err(no_section(path, &bytes, Wanted::Key)),
        Err(e) => Err(pem_error(path, &bytes, e)),
    }
}

/// The mode bits of a key file that others can read or write (`mode & 0o077`), or `None` when
/// only the owner can. The gateway warns about such a key in production.
///
/// # Errors
///
/// [`LoadError::Missing`] or [`LoadError::Read`] when the file's metadata cannot be read.
pub fn key_readable_by_others(path: &Path) -> Result<Option<u32>, LoadError> {
    let mode = fs::metadata(path)
        .map_err(|e| read_error(path, e))?
        .permissions()
        .mode();
    Ok((mode & 0o077 != 0).then_some(mode & 0o777))
}

/// Checks a certificate's validity window against `now`.
fn check_validity(
    path: &Path,
    cert: &CertificateDer<'_>,
    now: SystemTime,
) -> Result<(), LoadError> {
    let (_, parsed) = X509Certificate::from_der(cert).map_err(|e| LoadError::BadCertificate {
        path: path.to_owned(),
        message: e.to_string(),
    })?;
    let validity = parsed.validity();
    let to_system = |t: x509_parser::time::ASN1Time| SystemTime::from(t.to_datetime());
    let (not_before, not_after) = (
        to_system(validity.not_before),
        to_system(validity.not_after),
    );
    if now < not_before {
        return Err(LoadError::NotYetValid {
            path: path.to_owned(),
            not_before,
        });
    }
    if now > not_after {
        return Err(LoadError::Expired {
            path: path.to_owned(),
            not_after,
        });
    }
    Ok(())
}

pub(crate) fn read(path: &Path) -> Result<Vec<u8>, LoadError> {
    fs::read(path).map_err(|e| read_error(path, e))
}

fn read_error(path: &Path, e: io::Error) -> LoadError {
    if e.kind() == io::ErrorKind::NotFound {
        LoadError::Missing {
            path: path.to_owned(),
        }
    } else {
        LoadError::Read {
            path: path.to_owned(),
            source: e,
        }
    }
}

/// `missing` when the file is PEM but lacks the wanted section; [`LoadError::NotPem`] when it
/// has no PEM sections at all.
/// What a PEM file lacked.
#[derive(Clone, Copy)]
enum Wanted {
    Certificate,
    Key,
}

/// [`LoadError::NotPem`] when the file has no PEM sections at all, else the error for the
/// missing section with the labels it has.
fn no_section(path: &Path, bytes: &[u8], wanted: Wanted) -> LoadError {
    let found = pem_labels(bytes);
    let path = path.to_owned();
    match (found.is_empty(), wanted) {
        (true, _) => LoadError::NotPem { path },
        (false, Wanted::Certificate) => LoadError::NoCertificate { path, found },
        (false, Wanted::Key) => LoadError::NoKey { path, found },
    }
}

/// The labels of every `-----BEGIN <label>-----` line, known to rustls or not.
fn pem_labels(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let labels: Vec<&str> = text
        .lines()
        .filter_map(|line| {
            line.trim()
                .strip_prefix("-----BEGIN ")?
                .strip_suffix("-----")
        })
        .collect();
    labels.join(", ")
}

fn pem_error(path: &Path, bytes: &[u8], e: pki_pem::Error) -> LoadError {
    let lossy = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let message = match e {
        pki_pem::Error::NoItemsFound => {
            return no_section(path, bytes, Wanted::Certificate);
        }
        pki_pem::Error::MissingSectionEnd { end_marker } => {
            format!(
                "no -----END {}----- line (truncated file?)",
                lossy(&end_marker)
            )
        }
        pki_pem::Error::IllegalSectionStart { line } => {
            format!("malformed BEGIN line {:?}", lossy(&line))
        }
        pki_pem::Error::Base64Decode(message) => format!("bad base64: {message}"),
        e => e.to_string(),
    };
    LoadError::BadPem {
        path: path.to_owned(),
        message,
    }
}

fn distinct(certificate: &Path, key: &Path) -> Result<(), PkiError> {
    if certificate == key {
        return Err(PkiError::SamePath {
            path: key.to_owned(),
        });
    }
    Ok(())
}

fn certificate_pem(cert: &CertificateDer<'_>) -> String {
    pem_section("CERTIFICATE", cert)
}

/// One PEM section (RFC 7468): base64 in 64-character lines, `\n` line ends.
fn pem_section(label: &str, der: &[u8]) -> String {
    let config = pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF);
    pem::encode_config(&pem::Pem::new(label, der), config)
}

/// Writes `contents` to a temporary file in `path`'s directory with `mode`, syncs it and renames
/// it over `path`.
/// `e` with its message only, when its message already holds the error its `source()` returns.
///
/// tempfile reports a failed create as "Permission denied (os error 13) at path ..." whose
/// source is the same "Permission denied (os error 13)" again, so an error chain would print
/// the cause twice.
fn without_repeated_source(e: io::Error) -> io::Error {
    match e.get_ref().and_then(|inner| inner.source()) {
        Some(_) => io::Error::new(e.kind(), e.to_string()),
        None => e,
    }
}

fn write_atomic(path: &Path, contents: &[u8], mode: u32) -> Result<(), PkiError> {
    let fail = |source| PkiError::Write {
        path: path.to_owned(),
        source,
    };
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
        _ => PathBuf::from("."),
    };
    // tempfile creates the file with mode 0600, so a key is never readable by others, even
    // for a moment.
    let mut file =
        tempfile::NamedTempFile::new_in(&dir).map_err(|e| fail(without_repeated_source(e)))?;
    file.write_all(contents).map_err(fail)?;
    file.as_file()
        .set_permissions(fs::Permissions::from_mode(mode))
        .map_err(fail)?;
    file.as_file().sync_all().map_err(fail)?;
    file.persist(path).map_err(|e| fail(e.error))?;
    Ok(())
}

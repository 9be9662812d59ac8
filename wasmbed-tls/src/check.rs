//! What every gateway certificate must be for devices to accept it, checked on load and on
//! every reload.

use std::net::IpAddr;
use std::time::SystemTime;

use rustls::pki_types::CertificateDer;
use wasmbed_endpoint::Host;
use x509_parser::extensions::GeneralName;
use x509_parser::oid_registry::{
    OID_EC_P256, OID_KEY_TYPE_EC_PUBLIC_KEY, OID_NIST_EC_P384, OID_NIST_EC_P521,
    OID_PKCS1_RSAENCRYPTION,
};
use x509_parser::prelude::{FromDer as _, X509Certificate};

use crate::error::ConfigError;

/// The smallest RSA modulus devices are built to accept, in bits.
pub const MIN_RSA_BITS: usize = 2048;

/// Checks a device-facing gateway leaf certificate (RFC 5280 section 4.2.1):
///
/// * the extended key usage, if present, allows `serverAuth` (mbedTLS fails `-0x7a00`
///   otherwise);
/// * the key usage, if present, includes `digitalSignature` (ECDHE and TLS 1.3 sign the
///   handshake);
/// * the key is ECDSA P-256 or P-384, or RSA of at least [`MIN_RSA_BITS`] bits;
/// * the validity window covers `now`;
/// * the subject alternative names cover every host in `device_hosts` (the endpoints devices
///   dial), exactly or by a one-label wildcard.
///
/// # Errors
///
/// [`ConfigError::BadCertificate`], [`ConfigError::NoServerAuth`],
/// [`ConfigError::NoDigitalSignature`], [`ConfigError::KeyNotForDevices`],
/// [`ConfigError::CertificateExpired`], [`ConfigError::CertificateNotYetValid`],
/// [`ConfigError::EndpointNotCovered`].
pub fn check_gateway_certificate(
    leaf: &CertificateDer<'_>,
    device_hosts: &[Host],
    now: SystemTime,
) -> Result<(), ConfigError> {
    let (_, cert) = X509Certificate::from_der(leaf).map_err(|e| ConfigError::BadCertificate {
        message: e.to_string(),
    })?;
    let bad = |e: x509_parser::error::X509Error| ConfigError::BadCertificate {
        message: e.to_string(),
    };
    if let Some(eku) = cert.extended_key_usage().map_err(bad)? {
        let eku = eku.value;
        if !eku.any && !eku.server_auth {
            let mut allowed = Vec::new();
            for (set, name) in [
                (eku.client_auth, "clientAuth"),
                (eku.code_signing, "codeSigning"),
                (eku.email_protection, "emailProtection"),
                (eku.time_stamping, "timeStamping"),
                (eku.ocsp_signing, "OCSPSigning"),
            ] {
                if set {
                    allowed.push(name.to_owned());
                }
            }
            allowed.extend(eku.other.iter().map(ToString::to_string));
            return Err(ConfigError::NoServerAuth {
                allowed: allowed.join(", "),
            });
        }
    }
    if let Some(ku) = cert.key_usage().map_err(bad)?
        && !ku.value.digital_signature()
    {
        return Err(ConfigError::NoDigitalSignature {
            key_usage: ku.value.to_string(),
        });
    }
    check_key(&cert)?;
    let validity = cert.validity();
    let not_before = SystemTime::from(validity.not_before.to_datetime());
    let not_after = SystemTime::from(validity.not_after.to_datetime());
    if now < not_before {
        return Err(ConfigError::CertificateNotYetValid { not_before });
    }
    if now > not_after {
        return Err(ConfigError::CertificateExpired { not_after });
    }
    let names = san_names(&cert);
    for host in device_hosts {
        if !names.iter().any(|name| name.covers(host)) {
            // `pki gateway --san 10.0.0.1` writes the address as an iPAddress and a dNSName SAN
            // (for Mbed TLS 2.x); name it once.
            let listed: std::collections::BTreeSet<String> =
                names.iter().map(ToString::to_string).collect();
            return Err(ConfigError::EndpointNotCovered {
                host: Box::new(*host),
                names: listed.into_iter().collect(),
            });
        }
    }
    Ok(())
}

fn check_key(cert: &X509Certificate<'_>) -> Result<(), ConfigError> {
    let spki = cert.public_key();
    let algorithm = &spki.algorithm.algorithm;
    if *algorithm == OID_KEY_TYPE_EC_PUBLIC_KEY {
        let curve = spki
            .algorithm
            .parameters
            .as_ref()
            .and_then(|p| p.as_oid().ok());
        return match curve {
            Some(curve) if curve == OID_EC_P256 || curve == OID_NIST_EC_P384 => Ok(()),
            Some(curve) if curve == OID_NIST_EC_P521 => Err(ConfigError::KeyNotForDevices {
                key: "ECDSA P-521".to_owned(),
            }),
            Some(curve) => Err(ConfigError::KeyNotForDevices {
                key: format!("ECDSA on curve {curve}"),
            }),
            None => Err(ConfigError::KeyNotForDevices {
                key: "ECDSA without a named curve".to_owned(),
            }),
        };
    }
    if *algorithm == OID_PKCS1_RSAENCRYPTION {
        let bits = match spki.parsed() {
            Ok(x509_parser::public_key::PublicKey::RSA(rsa)) => rsa.key_size(),
            _ => 0,
        };
        if bits < MIN_RSA_BITS {
            return Err(ConfigError::KeyNotForDevices {
                key: format!("RSA-{bits}"),
            });
        }
        return Ok(());
    }
    Err(ConfigError::KeyNotForDevices {
        key: format!("algorithm {algorithm}"),
    })
}

/// A subject alternative name of the kinds devices match.
enum SanName {
    Dns(String),
    Ip(IpAddr),
}

impl SanName {
    fn covers(&self, host: &Host) -> bool {
        match (self, host) {
            (SanName::Ip(ip), Host::Ipv4(want)) => *ip == IpAddr::V4(*want),
            (SanName::Ip(ip), Host::Ipv6(want)) => *ip == IpAddr::V6(*want),
            (SanName::Dns(name), Host::Dns(want)) => {
                let (name, want) = (
                    name.to_ascii_lowercase(),
                    want.to_string().to_ascii_lowercase(),
                );
                match name.strip_prefix("*.") {
                    Some(parent) => want
                        .split_once('.')
                        .is_some_and(|(label, rest)| !label.is_empty() && rest == parent),
                    None => name == want,
                }
            }
            _ => false,
        }
    }
}

impl std::fmt::Display for SanName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SanName::Dns(name) => f.write_str(name),
            SanName::Ip(ip) => write!(f, "{ip}"),
        }
    }
}

fn san_names(cert: &X509Certificate<'_>) -> Vec<SanName> {
    let Ok(Some(san)) = cert.subject_alternative_name() else {
        return Vec::new();
    };
    san.value
        .general_names
        .iter()
        .filter_map(|name| match name {
            GeneralName::DNSName(dns) => Some(SanName::Dns((*dns).to_owned())),
            GeneralName::IPAddress(bytes) => match bytes.len() {
                4 => <[u8; 4]>::try_from(*bytes)
                    .ok()
                    .map(|b| SanName::Ip(b.into())),
                16 => <[u8; 16]>::try_from(*bytes)
                    .ok()
                    .map(|b| SanName::Ip(b.into())),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

//! What a device session negotiated: [`TlsVersion`] and [`CipherSuite`], serialised in the API
//! under their standard names rather than as a library's debug output.

use std::fmt;

use serde::{Serialize, Serializer};
use tokio_rustls::rustls;

/// The TLS version of a session, `"TLSv1.2"` or `"TLSv1.3"` in JSON (the names OpenSSL and
/// curl print).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub enum TlsVersion {
    /// TLS 1.2, RFC 5246.
    #[serde(rename = "TLSv1.2")]
    Tls12,
    /// TLS 1.3, RFC 8446.
    #[serde(rename = "TLSv1.3")]
    Tls13,
}

impl TlsVersion {
    /// `"TLSv1.2"` or `"TLSv1.3"`.
    pub fn as_str(self) -> &'static str {
        match self {
            TlsVersion::Tls12 => "TLSv1.2",
            TlsVersion::Tls13 => "TLSv1.3",
        }
    }
}

impl fmt::Display for TlsVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The cipher suite of a session, by its IANA registry name as rustls spells it (TLS 1.3
/// suites with a `TLS13_` prefix): `"TLS13_AES_128_GCM_SHA256"`,
/// `"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"`. A JSON string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CipherSuite(&'static str);

impl CipherSuite {
    /// A suite by name (for tests and benchmarks that build a
    /// [`DeviceInfo`](crate::registry::DeviceInfo) by hand).
    pub const fn new(name: &'static str) -> CipherSuite {
        CipherSuite(name)
    }

    /// The suite's name.
    pub fn as_str(self) -> &'static str {
        self.0
    }
}

impl fmt::Display for CipherSuite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl Serialize for CipherSuite {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0)
    }
}

/// The version and suite a finished handshake negotiated.
pub(crate) fn negotiated(suite: rustls::SupportedCipherSuite) -> (TlsVersion, CipherSuite) {
    let version = match suite {
        rustls::SupportedCipherSuite::Tls12(_) => TlsVersion::Tls12,
        rustls::SupportedCipherSuite::Tls13(_) => TlsVersion::Tls13,
    };
    // rustls negotiates only suites its provider implements, and names all of them.
    let name = suite.suite().as_str().unwrap_or("unknown");
    (version, CipherSuite(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_and_suites_serialise_to_their_standard_names() {
        assert_eq!(serde_json::to_value(TlsVersion::Tls13).unwrap(), "TLSv1.3");
        assert_eq!(serde_json::to_value(TlsVersion::Tls12).unwrap(), "TLSv1.2");
        let suite = rustls::crypto::aws_lc_rs::cipher_suite::TLS13_AES_128_GCM_SHA256;
        let (version, name) = negotiated(suite);
        assert_eq!(version, TlsVersion::Tls13);
        assert_eq!(
            serde_json::to_value(name).unwrap(),
            "TLS13_AES_128_GCM_SHA256"
        );
        let suite =
            rustls::crypto::aws_lc_rs::cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256;
        assert_eq!(
            negotiated(suite),
            (
                TlsVersion::Tls12,
                CipherSuite::new("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256")
            )
        );
    }
}

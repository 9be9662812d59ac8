//! rustls configurations for wasmbed's two TLS modes, and the PKI behind them.
//!
//! Devices (Zephyr, mbedTLS) keep one TLS session with the gateway (rustls). In **dev mode**
//! the gateway presents a self-signed ECDSA P-256 certificate and devices skip verification.
//! In **production** a CA signs the gateway's certificate, devices verify it with the CA
//! registered through Zephyr's `tls_credential_add`, and device certificates (mTLS) are
//! optional. This crate generates those certificates with rcgen (replacing the seed's openssl
//! commands and RSA-4096 keys, whose Certificate message a device with a 1500-byte TLS buffer
//! cannot receive), reads and writes them as PEM, exports a CA as a C header, and builds the
//! rustls `ServerConfig` and `ClientConfig` for both modes. See `docs/design.md`, "TLS modes".
//!
//! # Example: dev mode
//!
//! ```toml
//! [dependencies]
//! wasmbed-tls = "0.1"
//! ```
//!
//! ```
//! use std::sync::Arc;
//! use wasmbed_tls::{danger, dev_gateway, server_config, CertResolver, CertificateOptions, ServerOptions};
//!
//! // The gateway: a self-signed certificate for the names clients use.
//! let names = ["localhost".parse()?, "127.0.0.1".parse()?];
//! let identity = dev_gateway(&names, &CertificateOptions::default())?;
//! let options = ServerOptions::default();
//! let server = server_config(Arc::new(CertResolver::new(&identity, &options)?))?;
//!
//! // A tool that connects like a dev-mode device: no verification.
//! let client = danger::insecure_dev_client_config(None, &[])?;
//! # let _ = (server, client);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Example: production with mTLS
//!
//! ```
//! use std::sync::Arc;
//! use wasmbed_tls::{
//!     c_header, client_config, server_config, CertResolver, CertificateAuthority,
//!     CertificateOptions, ClientAuth, DeviceId, ServerOptions,
//! };
//!
//! let options = CertificateOptions::default(); // ECDSA P-256, valid 1970..9999
//! let ca = CertificateAuthority::generate("wasmbed gateway CA", &options)?;
//! let device_ca = CertificateAuthority::generate("wasmbed device CA", &options)?;
//!
//! // The gateway's certificate names the addresses devices dial.
//! let gateway = ca.issue_gateway(&["10.42.0.12".parse()?, "gw.example".parse()?], &options)?;
//! let server_options = ServerOptions::default()
//!     .with_client_auth(ClientAuth::Required(vec![device_ca.certificate().clone()]));
//! let resolver = Arc::new(CertResolver::new(&gateway, &server_options)?);
//! let server = server_config(resolver)?;
//!
//! // A device: its certificate (CN = device id) and the CA as a C header for the firmware.
//! let device = device_ca.issue_device(&DeviceId::new("sensor-1")?, &options)?;
//! let header = c_header(ca.certificate(), "ca_certificate")?;
//! let client = client_config(&[ca.certificate().clone()], Some(&device), &[])?;
//! # let _ = (server, client, header);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Why ECDSA P-256 and a validity window from 1970?
//!
//! Every Zephyr mbedTLS build verifies ECDSA P-256 with SHA-256, and a P-256 leaf keeps the
//! Certificate message near 600 bytes; mbedTLS cannot parse Ed25519 at all. Devices often have
//! no real-time clock, or one that restarts at the epoch, so the default
//! [`Validity::for_devices`] cannot be "not yet valid" for them.
#![forbid(unsafe_code)]

/// `with_*` setters for an option struct, one per field, each documented with the field it
/// sets, so that a new field is not a breaking change for callers (the structs are
/// `#[non_exhaustive]`).
macro_rules! setters {
    ($type:ident { $($(#[$doc:meta])* $setter:ident => $field:ident: $ty:ty;)* }) => {
        impl $type {
            $(
                $(#[$doc])*
                #[must_use]
                pub fn $setter(mut self, $field: $ty) -> $type {
                    self.$field = $field;
                    self
                }
            )*
        }
    };
}

mod c_header;
mod check;
mod client;
mod crl;
mod error;
mod files;
mod pki;
mod resumption;
mod server;
mod verifier;

pub use c_header::{Credential, c_header, c_header_credential, fingerprint};
pub use check::{MIN_RSA_BITS, check_gateway_certificate};
pub use client::{client_config, danger};
pub use crl::{CrlStatus, certificate_serial, check_crl, load_crls};
pub use error::{ConfigError, LoadError, PkiError};
pub use files::{
    CERTIFICATE_FILE_MODE, KEY_FILE_MODE, key_readable_by_others, load_certificates, load_key,
    save_crl,
};
pub use pki::{
    CertificateAuthority, CertificateOptions, Identity, KeyAlgorithm, Validity, dev_gateway,
};
pub use resumption::{
    DEFAULT_SESSION_LIFETIME, Resumption, SESSION_LIFETIME_SECS_RANGE, STATEFUL_TICKET_LEN,
    stateless_ticket_len,
};
/// The rustls version this crate builds configurations for.
pub use rustls;
pub use server::{
    CertResolver, ClientAuth, DEFAULT_DEVICE_MAX_CONTENT_LEN, DEFAULT_SESSION_CACHE_SIZE,
    DEVICE_MAX_CONTENT_LEN_RANGE, RECORD_HEADER_LEN, ReloadError, SERVER_SUITE_ORDER,
    ServerOptions, certificate_message_len, check_handshake_fits, handshake_flight_len, resumption,
    server_config, server_config_with_verifier,
};
pub use verifier::ClientVerifier;
/// The host grammar of `wasmbed-endpoint` (DNS name, IPv4 or IPv6 address; `docs/endpoint.md`)
/// that [`dev_gateway`], [`CertificateAuthority::issue_gateway`] and
/// [`ServerOptions::device_hosts`] take, with its name type and parse error, re-exported so
/// that certificates and device endpoints follow the same rule and PKI users need not depend
/// on `wasmbed-endpoint`.
pub use wasmbed_endpoint::{DnsName, Host, ParseError};
/// The device id a device certificate's CN holds: the one rule of `wasmbed-protocol`
/// (`docs/protocol.md`, "HELLO (0x01)"), re-exported so PKI users need not depend on it.
pub use wasmbed_protocol::{DeviceId, DeviceIdError};

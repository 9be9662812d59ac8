//! rustls configurations for wasmbed's two TLS modes, and the PKI behind them.
//!
//! Dev mode: the gateway uses a self-signed ECDSA P-256 certificate and devices skip
//! verification. Production mode: a CA signs the gateway certificate, devices verify it, and
//! device certificates (mTLS) are optional. This crate will build the rustls `ServerConfig` and
//! `ClientConfig` for both modes, generate the certificates with rcgen, and export a CA as a C
//! header for Zephyr's `tls_credential_add` (see `docs/design.md`, "TLS modes").
//!
//! It has no API yet: the issue that builds it is the second of the project's plan.
#![forbid(unsafe_code)]

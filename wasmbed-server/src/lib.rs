//! The wasmbed gateway as a library: the TLS server devices keep their sessions with, its HTTP
//! API and its metrics.
//!
//! Devices (Zephyr in Renode, or `wasmbed_client::DeviceClient`) connect over TLS to the device
//! port (8081), say HELLO and keep one session: heartbeats, echo, data both ways, GOODBYE; the
//! wire protocol is the `wasmbed-protocol` crate (reference: `docs/protocol.md`). The same port
//! answers HTTP clients (`curl -k https://HOST:8081/health`). Operators use the HTTP API
//! (8080): `/health`, `/ready`, `/devices`, `/devices/{id}`, `/devices/{id}/data`,
//! `/devices/{id}/echo`, `/metrics`; all but `/health`, `/ready` and `/metrics` need a bearer
//! token ([`auth`], [`Gateway::set_api_auth`]). Every limit is a field of [`GatewayConfig`].
//! A program embeds it with [`Gateway::serve`] on listeners it bound, and reads the devices
//! through [`Gateway::registry`].
//!
//! The `wasmbed-gateway` binary wraps this library: `cargo run --release -p wasmbed-gateway`
//! serves in dev mode.
//!
//! ```toml
//! [dependencies]
//! wasmbed-server = "0.1"
//! # the example below also uses:
//! wasmbed-tls = "0.1"
//! wasmbed-client = "0.1"
//! tokio = { version = "1", features = ["macros", "rt"] }
//! ```
//!
//! # Example
//!
//! A gateway on loopback and a device talking to it:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use wasmbed_client::{DeviceClient, DeviceOptions};
//! use wasmbed_server::{ALPN, Bytes, Gateway, GatewayConfig, Mode, TcpListener};
//! use wasmbed_tls::{danger, dev_gateway, server_config, CertResolver, CertificateOptions, ServerOptions};
//!
//! let identity = dev_gateway(&["localhost".parse()?], &CertificateOptions::default())?;
//! let options = ServerOptions::default().with_alpn(ALPN.iter().map(|p| p.to_vec()).collect());
//! let tls = server_config(Arc::new(CertResolver::new(&identity, &options)?))?;
//! let gateway = Gateway::new(GatewayConfig::default().with_max_connections(100), tls, Mode::Dev)?;
//! let devices = TcpListener::bind("127.0.0.1:0").await?;
//! let api = TcpListener::bind("127.0.0.1:0").await?;
//! let addr = devices.local_addr()?;
//! let server = tokio::spawn(gateway.clone().serve(devices, api, std::future::pending()));
//!
//! let tls = danger::insecure_dev_client_config(None, &[])?;
//! let device = DeviceClient::connect(addr, "localhost".try_into()?, tls, DeviceOptions::new("sensor-1".parse()?)).await?;
//! device.echo(Bytes::from_static(b"ping")).await?;
//! assert_eq!(gateway.registry().connected()[0].device_id, "sensor-1");
//!
//! device.goodbye().await;
//! gateway.shutdown();
//! server.await??;
//! # Ok(())
//! # }
//! ```
//!
//! # Modules
//!
//! [`Gateway`] (the entry point), [`GatewayConfig`] (limits), [`registry`] (devices and their
//! sessions), [`binding`] (device ids bound to client certificates), [`auth`] (the API's
//! bearer token), [`metrics`]. The rest is private: the accept loop, the TLS handshake and
//! its failure classes, HELLO admission, the session, HTTP on both ports.
#![forbid(unsafe_code)]

mod accept;
mod admission;
mod api;
pub mod auth;
pub mod binding;
mod command;
pub mod config;
mod gateway;
mod handshake_failure;
mod http;
mod log_limiter;
pub mod metrics;
pub mod registry;
mod rewind;
mod rfc3339;
mod server;
mod session;
mod state;
mod tls_http;
mod tls_io;
mod tls_params;
mod trust;

pub use api::DEFAULT_ECHO_PAYLOAD;
pub use auth::{ApiAuth, ApiToken, ApiTokenError};
pub use command::{CommandError, DeviceHandle, EchoReply};
pub use config::{ConfigError, GatewayConfig, Mode};
pub use gateway::{ALPN, Gateway};
pub use handshake_failure::HandshakeFailure;
pub use metrics::Metrics;
pub use tls_http::TLS_PORT_HTTP_LIFETIME;
pub use tls_params::{CipherSuite, TlsVersion};
/// The swappable client-certificate verifier [`Gateway::with_client_verifier`] takes.
/// Re-exported on purpose: it is the `wasmbed-tls` type the rustls configuration is built
/// with, so both must come from the same version.
pub use wasmbed_tls::ClientVerifier;

/// DATA and ECHO payloads ([`DeviceHandle`], [`registry::Registry::drain_inbound`]).
/// Re-exported on purpose: `bytes` 1 is the stable buffer type of the tokio ecosystem and the
/// one `wasmbed-protocol` frames carry, so callers need no second dependency to name it.
pub use bytes::Bytes;

/// The rustls types [`Gateway::new`] takes (`rustls::ServerConfig`). Re-exported on purpose,
/// the same rustls `wasmbed_tls` builds configurations with, so that the versions always agree.
pub use tokio_rustls::rustls;

/// The listener [`Gateway::serve`] takes. Re-exported on purpose: tokio 1 is stable, and
/// callers bind it themselves (address, backlog, `SO_REUSEADDR`) before handing it over.
pub use tokio::net::TcpListener;

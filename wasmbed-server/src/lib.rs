//! The wasmbed gateway: the TLS server devices keep their sessions with, and its HTTP API.
//!
//! Devices (Zephyr in Renode, or `wasmbed_client::DeviceClient`) connect over TLS to the device port
//! (8081), say HELLO and keep one session: heartbeats, echo, data both ways, GOODBYE; the wire
//! protocol is the `wasmbed-protocol` crate (reference: `docs/protocol.md`). The same port answers HTTP
//! clients (`curl -k https://HOST:8081/health`). Operators use the HTTP API (8080): `/health`,
//! `/ready`, `/devices`, `/devices/{id}`, `/devices/{id}/data`, `/devices/{id}/echo`,
//! `/metrics`; all but `/health`, `/ready` and `/metrics` need a bearer token ([`auth`],
//! [`Gateway::set_api_auth`]). Every limit is a field of [`GatewayConfig`].
//!
//! The `wasmbed-gateway` binary wraps this library: `cargo run --release -p wasmbed-gateway`
//! serves in dev mode.
//!
//! # Example
//!
//! A gateway on loopback and a device talking to it:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use tokio::net::TcpListener;
//! use wasmbed_client::{DeviceClient, DeviceOptions};
//! use wasmbed_server::{ALPN, Gateway, GatewayConfig, Mode};
//! use wasmbed_tls::{danger, dev_gateway, server_config, CertResolver, CertificateOptions, ServerOptions};
//!
//! let identity = dev_gateway(&["localhost".parse()?], &CertificateOptions::default())?;
//! let options = ServerOptions { alpn: ALPN.iter().map(|p| p.to_vec()).collect(), ..Default::default() };
//! let tls = server_config(Arc::new(CertResolver::new(&identity, &options)?))?;
//! let gateway = Gateway::new(GatewayConfig::default(), tls, Mode::Dev)?;
//! let shared = gateway.shared().clone();
//! let devices = TcpListener::bind("127.0.0.1:0").await?;
//! let api = TcpListener::bind("127.0.0.1:0").await?;
//! let addr = devices.local_addr()?;
//! let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
//! let server = tokio::spawn(gateway.serve(devices, api, async { let _ = stopped.await; }));
//!
//! let options = DeviceOptions { device_id: "sensor-1".into(), ..Default::default() };
//! let tls = danger::insecure_dev_client_config(None, &[])?;
//! let device = DeviceClient::connect(addr, "localhost".try_into()?, tls, options).await?;
//! device.echo(bytes::Bytes::from_static(b"ping")).await?;
//! assert_eq!(shared.registry.connected()[0].device_id, "sensor-1");
//!
//! device.goodbye().await;
//! let _ = stop.send(());
//! server.await??;
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]

pub mod api;
pub mod auth;
pub mod binding;
pub mod config;
mod http;
pub mod metrics;
pub mod registry;
pub mod server;
mod session;
mod tls_http;
mod tls_io;
mod trust;

pub use auth::{ApiAuth, ApiToken, ApiTokenError};
pub use config::GatewayConfig;
pub use server::{ALPN, Gateway, Mode};
pub use tls_http::TLS_PORT_HTTP_LIFETIME;

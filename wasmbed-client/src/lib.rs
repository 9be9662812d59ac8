//! A Rust wasmbed device: connects to a gateway like the firmware does (TLS, HELLO,
//! heartbeats, echo, data both ways, GOODBYE) for tests, benchmarks, the load tool and Rust
//! programs that want to be a device without the firmware.
//!
//! [`DeviceClient`] is one session; [`PersistentDevice`] keeps one, reconnecting with
//! [`Backoff`] like the firmware. The wire protocol is the `wasmbed-protocol` crate; TLS is
//! rustls (re-exported as [`rustls`]), configured with `wasmbed-tls` or by hand.
//!
//! Limits are named and set in [`DeviceOptions`]: DATA from the gateway waits in a queue of
//! [`DEFAULT_DATA_QUEUE_LEN`] frames; past it, new DATA is dropped (the session keeps answering
//! heartbeats and ECHO) and counted by [`DeviceClient::dropped_data`]. The device id is a
//! [`DeviceId`], so a bad one fails before connecting; [`Backoff::new`] refuses the settings
//! the firmware refuses.
//!
//! ```toml
//! [dependencies]
//! wasmbed-client = "0.1"
//! # the example below also uses:
//! wasmbed-tls = "0.1"
//! tokio = { version = "1", features = ["macros", "rt"] }
//! ```
//!
//! # Example
//!
//! A device session with a gateway on loopback (here the `wasmbed-server` library; in
//! production the `wasmbed-gateway` binary):
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use std::time::Duration;
//! use wasmbed_client::{Bytes, DeviceClient, DeviceOptions, SessionEnd};
//! # use wasmbed_server::{ALPN, Gateway, GatewayConfig, Mode, TcpListener};
//! # use wasmbed_tls::{dev_gateway, server_config, CertResolver, CertificateOptions, ServerOptions};
//! # let identity = dev_gateway(&["localhost".parse()?], &CertificateOptions::default())?;
//! # let options = ServerOptions::default().with_alpn(ALPN.iter().map(|p| p.to_vec()).collect());
//! # let gateway = Gateway::new(GatewayConfig::default(), server_config(Arc::new(CertResolver::new(&identity, &options)?))?, Mode::Dev)?;
//! # let listener = TcpListener::bind("127.0.0.1:0").await?;
//! # let gateway_addr = listener.local_addr()?;
//! # let server = tokio::spawn(gateway.clone().serve(listener, TcpListener::bind("127.0.0.1:0").await?, std::future::pending()));
//!
//! // Dev mode: the gateway's certificate is self-signed, so this device does not verify it.
//! let tls = wasmbed_tls::danger::insecure_dev_client_config(None, &[])?;
//! let options = DeviceOptions::new("sensor-1".parse()?).with_connect_timeout(Duration::from_secs(5));
//! let device = DeviceClient::connect(gateway_addr, "localhost".try_into()?, tls, options).await?;
//! let rtt = device.echo(Bytes::from_static(b"ping")).await?;
//! device.send_data(Bytes::from_static(b"21.5 C")).await?;
//! assert!(rtt < Duration::from_secs(5));
//! assert_eq!(device.goodbye().await, SessionEnd::Left);
//! # gateway.shutdown();
//! # server.await??;
//! # Ok(())
//! # }
//! ```

mod backoff;
mod client;
mod error;
mod options;
mod persistent;

pub use backoff::{Backoff, BackoffError};
pub use client::DeviceClient;
pub use error::{ClientError, SessionEnd};
pub use options::{
    DEFAULT_DATA_QUEUE_LEN, DEFAULT_REQUEST_QUEUE_LEN, DeviceOptions, MAX_QUEUE_LEN,
};
pub use persistent::{Failure, PersistentDevice, Status, connect_with_retry};

/// DATA and ECHO payloads. Re-exported on purpose: `bytes` 1 is the stable buffer type of the
/// tokio ecosystem and the one `wasmbed-protocol` frames carry.
pub use bytes::Bytes;

/// The protocol types in [`DeviceOptions`], [`ClientError`] and [`SessionEnd`], re-exported so
/// that building and matching on them needs no second dependency.
pub use wasmbed_protocol::{DeviceId, DeviceIdError, ErrorCode, GoodbyeReason, ProtocolError};

/// The rustls types [`DeviceClient::connect`] takes (`ClientConfig`,
/// `pki_types::ServerName`). Re-exported on purpose, the same rustls `wasmbed_tls` builds
/// configurations with, so that the versions always agree.
pub use tokio_rustls::rustls;

//! A Rust wasmbed device: connects to a gateway like the firmware does (TLS, HELLO,
//! heartbeats, echo, data both ways, GOODBYE) for tests, benchmarks, the load tool and Rust
//! programs that want to be a device without the firmware.
//!
//! [`DeviceClient`] is one session; [`PersistentDevice`] keeps one, reconnecting with
//! [`Backoff`] like the firmware. The wire protocol is the `wasmbed-protocol` crate; TLS is
//! rustls (re-exported as [`rustls`]), configured with `wasmbed-tls` or by hand.
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
//! let options = DeviceOptions::new("sensor-1").with_connect_timeout(Duration::from_secs(5));
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

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::ClientConfig;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_util::codec::Framed;

mod backoff;

pub use backoff::Backoff;

use wasmbed_protocol::{DEFAULT_MAX_FRAME_LEN, Frame, FrameCodec, Message, PROTOCOL_VERSION};

/// DATA and ECHO payloads. Re-exported on purpose: `bytes` 1 is the stable buffer type of the
/// tokio ecosystem and the one `wasmbed-protocol` frames carry.
pub use bytes::Bytes;

/// The protocol types in [`ClientError`] and [`SessionEnd`], re-exported so that matching on
/// them needs no second dependency.
pub use wasmbed_protocol::{ErrorCode, GoodbyeReason, ProtocolError};

/// The rustls types [`DeviceClient::connect`] takes (`ClientConfig`,
/// `pki_types::ServerName`). Re-exported on purpose, the same rustls `wasmbed_tls` builds
/// configurations with, so that the versions always agree.
pub use tokio_rustls::rustls;

/// What a [`DeviceClient`] announces and how it behaves.
///
/// Start from [`DeviceOptions::new`] (or `default()`) and change what you need with the
/// `with_*` methods; fields stay readable and assignable, and a new one is not a breaking
/// change.
///
/// # Defaults
///
/// * `device_id`: `"rust-device"`
/// * `firmware_version`: this crate's version
/// * `heartbeats`: `true` (sent at the interval from HELLO_ACK)
/// * `connect_timeout`: 10 s for TCP, TLS and HELLO_ACK together
/// * `max_frame_len`: 4096
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DeviceOptions {
    /// Device id sent in HELLO (1-64 of `[A-Za-z0-9._-]`).
    pub device_id: String,
    /// Firmware version sent in HELLO (0-64 bytes).
    pub firmware_version: String,
    /// Whether to send heartbeats; `false` makes the gateway close the session after 3
    /// intervals (useful in tests).
    pub heartbeats: bool,
    /// Limit for connecting: TCP, TLS and the HELLO exchange.
    pub connect_timeout: Duration,
    /// Largest frame accepted from the gateway.
    pub max_frame_len: u32,
}

impl Default for DeviceOptions {
    fn default() -> DeviceOptions {
        DeviceOptions {
            device_id: "rust-device".into(),
            firmware_version: env!("CARGO_PKG_VERSION").into(),
            heartbeats: true,
            connect_timeout: Duration::from_secs(10),
            max_frame_len: DEFAULT_MAX_FRAME_LEN,
        }
    }
}

impl DeviceOptions {
    /// The defaults with `device_id` (1-64 of `[A-Za-z0-9._-]`; the gateway refuses others).
    pub fn new(device_id: impl Into<String>) -> DeviceOptions {
        DeviceOptions {
            device_id: device_id.into(),
            ..DeviceOptions::default()
        }
    }

    /// Sets [`DeviceOptions::firmware_version`] (0-64 bytes).
    #[must_use]
    pub fn with_firmware_version(mut self, firmware_version: impl Into<String>) -> DeviceOptions {
        self.firmware_version = firmware_version.into();
        self
    }

    /// Sets [`DeviceOptions::heartbeats`].
    #[must_use]
    pub fn with_heartbeats(mut self, heartbeats: bool) -> DeviceOptions {
        self.heartbeats = heartbeats;
        self
    }

    /// Sets [`DeviceOptions::connect_timeout`].
    #[must_use]
    pub fn with_connect_timeout(mut self, connect_timeout: Duration) -> DeviceOptions {
        self.connect_timeout = connect_timeout;
        self
    }

    /// Sets [`DeviceOptions::max_frame_len`] (bytes).
    #[must_use]
    pub fn with_max_frame_len(mut self, max_frame_len: u32) -> DeviceOptions {
        self.max_frame_len = max_frame_len;
        self
    }
}

/// Why a device session failed or ended.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// TCP connect failed.
    #[error("cannot connect to {addr}")]
    Connect {
        /// The gateway address.
        addr: SocketAddr,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// The TLS handshake failed (for example the gateway's certificate did not verify).
    #[error("TLS handshake with {addr} failed")]
    Tls {
        /// The gateway address.
        addr: SocketAddr,
        /// The I/O error wrapping the rustls error.
        #[source]
        source: io::Error,
    },
    /// Connecting took longer than `connect_timeout`.
    #[error("connecting to {addr} took longer than {timeout:?}")]
    Timeout {
        /// The gateway address.
        addr: SocketAddr,
        /// The limit.
        timeout: Duration,
    },
    /// The gateway answered with ERROR.
    #[error("the gateway refused: {code:?}: {message}")]
    Refused {
        /// The error code.
        code: ErrorCode,
        /// The gateway's message.
        message: String,
    },
    /// The gateway sent something that is not the protocol; the error says what.
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    /// The session is over.
    #[error("the session ended: {0:?}")]
    Ended(SessionEnd),
}

/// How a session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionEnd {
    /// The gateway sent GOODBYE.
    Goodbye(GoodbyeReason),
    /// The gateway sent ERROR.
    Error(ErrorCode, String),
    /// The connection closed without GOODBYE.
    Closed,
    /// The client said GOODBYE.
    Left,
}

enum Request {
    Echo(Bytes, oneshot::Sender<(Duration, Bytes)>),
    Data(Bytes),
    Goodbye,
}

/// A connected device session. Heartbeats and answers to the gateway's ECHO run in a
/// background task; DATA from the gateway arrives through [`DeviceClient::recv_data`].
#[derive(Debug)]
pub struct DeviceClient {
    requests: mpsc::Sender<Request>,
    data: mpsc::Receiver<Bytes>,
    task: JoinHandle<SessionEnd>,
    heartbeat_interval: Duration,
    max_frame_len: u32,
    stable: Arc<AtomicBool>,
}

type Stream = Framed<TlsStream<TcpStream>, FrameCodec>;

impl DeviceClient {
    /// Connects to `addr`, verifying the gateway as `server_name` with `tls`, and completes
    /// HELLO / HELLO_ACK.
    ///
    /// # Errors
    ///
    /// [`ClientError::Connect`], [`ClientError::Tls`], [`ClientError::Timeout`],
    /// [`ClientError::Refused`] (ERROR instead of HELLO_ACK), [`ClientError::Protocol`].
    pub async fn connect(
        addr: SocketAddr,
        server_name: ServerName<'static>,
        tls: Arc<ClientConfig>,
        options: DeviceOptions,
    ) -> Result<DeviceClient, ClientError> {
        let timeout = options.connect_timeout;
        tokio::time::timeout(
            timeout,
            DeviceClient::connect_inner(addr, server_name, tls, options),
        )
        .await
        .map_err(|_| ClientError::Timeout { addr, timeout })?
    }

    async fn connect_inner(
        addr: SocketAddr,
        server_name: ServerName<'static>,
        tls: Arc<ClientConfig>,
        options: DeviceOptions,
    ) -> Result<DeviceClient, ClientError> {
        let tcp = TcpStream::connect(addr)
            .await
            .map_err(|source| ClientError::Connect { addr, source })?;
        let _ = tcp.set_nodelay(true);
        let tls = TlsConnector::from(tls)
            .connect(server_name, tcp)
            .await
            .map_err(|source| ClientError::Tls { addr, source })?;
        let mut stream = Framed::new(tls, FrameCodec::new(options.max_frame_len));
        let hello = Message::Hello {
            version: PROTOCOL_VERSION,
            device_id: options.device_id.clone(),
            firmware_version: options.firmware_version.clone(),
        };
        stream
            .send(Frame {
                id: 1,
                message: hello,
            })
            .await?;
        let (heartbeat_interval, max_frame_len) = match stream.next().await {
            Some(Ok(Frame {
                message:
                    Message::HelloAck {
                        heartbeat_interval_secs,
                        max_frame_len,
                        ..
                    },
                ..
            })) => (
                Duration::from_secs(heartbeat_interval_secs.into()),
                max_frame_len,
            ),
            Some(Ok(Frame {
                message: Message::Error { code, message },
                ..
            })) => return Err(ClientError::Refused { code, message }),
            Some(Ok(Frame {
                message: Message::Goodbye { reason },
                ..
            })) => return Err(ClientError::Ended(SessionEnd::Goodbye(reason))),
            Some(Ok(other)) => {
                return Err(ClientError::Refused {
                    code: ErrorCode::UnexpectedMessage,
                    message: format!(
                        "expected HELLO_ACK, got {}",
                        other.message.message_type().as_str()
                    ),
                });
            }
            Some(Err(e)) => return Err(e.into()),
            None => return Err(ClientError::Ended(SessionEnd::Closed)),
        };
        let (requests, requests_rx) = mpsc::channel(64);
        let (data_tx, data) = mpsc::channel(256);
        let heartbeats = options.heartbeats.then_some(heartbeat_interval);
        let stable = Arc::new(AtomicBool::new(false));
        let task = tokio::spawn(run(
            stream,
            requests_rx,
            data_tx,
            heartbeats,
            stable.clone(),
        ));
        Ok(DeviceClient {
            requests,
            data,
            task,
            heartbeat_interval,
            max_frame_len,
            stable,
        })
    }

    /// The heartbeat interval the gateway announced.
    pub fn heartbeat_interval(&self) -> Duration {
        self.heartbeat_interval
    }

    /// The largest frame the gateway accepts.
    pub fn max_frame_len(&self) -> u32 {
        self.max_frame_len
    }

    /// Sends ECHO and waits for ECHO_REPLY; returns the round-trip time.
    ///
    /// # Errors
    ///
    /// [`ClientError::Ended`] when the session is over.
    pub async fn echo(&self, payload: Bytes) -> Result<Duration, ClientError> {
        let (reply, answer) = oneshot::channel();
        self.request(Request::Echo(payload, reply)).await?;
        answer
            .await
            .map(|(rtt, _)| rtt)
            .map_err(|_| ClientError::Ended(SessionEnd::Closed))
    }

    /// Sends DATA.
    ///
    /// # Errors
    ///
    /// [`ClientError::Ended`] when the session is over.
    pub async fn send_data(&self, data: Bytes) -> Result<(), ClientError> {
        self.request(Request::Data(data)).await
    }

    /// The next DATA from the gateway; `None` once the session is over.
    pub async fn recv_data(&mut self) -> Option<Bytes> {
        self.data.recv().await
    }

    /// Says GOODBYE, closes TLS with close_notify and waits for the session to end.
    pub async fn goodbye(self) -> SessionEnd {
        let _ = self.requests.send(Request::Goodbye).await;
        self.task.await.unwrap_or(SessionEnd::Closed)
    }

    /// Waits until the gateway ends the session (GOODBYE, ERROR or close).
    pub async fn closed(self) -> SessionEnd {
        self.task.await.unwrap_or(SessionEnd::Closed)
    }

    /// Drops the connection without GOODBYE or close_notify, as a device losing power does.
    pub fn abort(self) {
        self.task.abort();
    }

    async fn request(&self, request: Request) -> Result<(), ClientError> {
        self.requests
            .send(request)
            .await
            .map_err(|_| ClientError::Ended(SessionEnd::Closed))
    }
}

async fn run(
    mut stream: Stream,
    mut requests: mpsc::Receiver<Request>,
    data: mpsc::Sender<Bytes>,
    heartbeats: Option<Duration>,
    stable: Arc<AtomicBool>,
) -> SessionEnd {
    let started = Instant::now();
    let mut next_id: u32 = 2;
    let mut pending: HashMap<u32, (Instant, oneshot::Sender<(Duration, Bytes)>)> = HashMap::new();
    let mut ticker = tokio::time::interval(heartbeats.unwrap_or(Duration::from_secs(3600)));
    ticker.tick().await;
    loop {
        let mut id = || {
            next_id = next_id.wrapping_add(1).max(1);
            next_id
        };
        let outgoing = tokio::select! {
            _ = ticker.tick(), if heartbeats.is_some() => {
                let uptime_ms = u32::try_from(started.elapsed().as_millis()).unwrap_or(u32::MAX);
                Some(Frame { id: id(), message: Message::Heartbeat { uptime_ms } })
            }
            request = requests.recv() => match request {
                Some(Request::Echo(payload, reply)) => {
                    let id = id();
                    pending.insert(id, (Instant::now(), reply));
                    Some(Frame { id, message: Message::Echo(payload) })
                }
                Some(Request::Data(bytes)) => Some(Frame { id: id(), message: Message::Data(bytes) }),
                Some(Request::Goodbye) | None => {
                    let goodbye = Frame { id: id(), message: Message::Goodbye { reason: GoodbyeReason::Normal } };
                    let _ = stream.send(goodbye).await;
                    let _ = SinkExt::<Frame>::close(&mut stream).await;
                    return SessionEnd::Left;
                }
            },
            frame = stream.next() => match frame {
                Some(Ok(Frame { id, message })) => match message {
                    Message::Echo(payload) => Some(Frame { id, message: Message::EchoReply(payload) }),
                    Message::EchoReply(payload) => {
                        if let Some((sent, reply)) = pending.remove(&id) {
                            let _ = reply.send((sent.elapsed(), payload));
                        }
                        None
                    }
                    Message::Data(bytes) => {
                        let _ = data.try_send(bytes);
                        None
                    }
                    // The firmware's rule (gateway_client.c): a session that has lasted a
                    // heartbeat interval and has its heartbeat answered is stable.
                    Message::HeartbeatAck => {
                        if heartbeats.is_some_and(|interval| started.elapsed() >= interval) {
                            stable.store(true, Ordering::Relaxed);
                        }
                        None
                    }
                    Message::Goodbye { reason } => return SessionEnd::Goodbye(reason),
                    Message::Error { code, message } => return SessionEnd::Error(code, message),
                    _ => None,
                },
                Some(Err(_)) | None => return SessionEnd::Closed,
            },
        };
        if let Some(frame) = outgoing
            && stream.send(frame).await.is_err()
        {
            return SessionEnd::Closed;
        }
    }
}

/// The backoff attempt after a session that ended with `end`, as the firmware counts
/// (`gateway_client.c`, `docs/protocol.md` "Reconnecting"): a stable session (it lasted a
/// heartbeat interval and a heartbeat was answered) starts again from the first delay; a
/// GOODBYE saying another session holds the id, or that the certificate is no longer accepted,
/// waits the longest delay, because reconnecting at once would meet the same answer; any other
/// end counts as one more failure. Not resetting at HELLO_ACK is what slows down a gateway
/// that accepts and drops at once.
fn next_attempt(attempt: u32, stable: bool, end: &SessionEnd) -> u32 {
    match end {
        SessionEnd::Goodbye(GoodbyeReason::TakenOver | GoodbyeReason::CredentialsRevoked) => {
            Backoff::MAX_SHIFT
        }
        _ if stable => 0,
        _ => attempt,
    }
}

/// Connects, retrying with `backoff` while the gateway is unreachable or refuses, up to
/// `attempts` tries.
///
/// # Errors
///
/// The last attempt's error.
pub async fn connect_with_retry(
    addr: SocketAddr,
    server_name: ServerName<'static>,
    tls: Arc<ClientConfig>,
    options: DeviceOptions,
    backoff: Backoff,
    attempts: u32,
) -> Result<DeviceClient, ClientError> {
    let mut attempt = 0;
    loop {
        match DeviceClient::connect(addr, server_name.clone(), tls.clone(), options.clone()).await {
            Ok(client) => return Ok(client),
            Err(e) if attempt + 1 >= attempts => return Err(e),
            Err(_) => {
                tokio::time::sleep(backoff.delay(attempt)).await;
                attempt += 1;
            }
        }
    }
}

/// What a [`PersistentDevice`] is doing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Status {
    /// Whether a session is open now.
    pub connected: bool,
    /// Sessions opened so far.
    pub sessions: u64,
    /// Why the last attempt or session failed, if one did.
    pub last_error: Option<String>,
}

/// A device that keeps its session: it reconnects with [`Backoff`] whenever the session ends
/// (gateway restart, takeover, network loss), like the firmware, until [`PersistentDevice::stop`].
/// Attempts are counted as the firmware counts them: only a stable session (one heartbeat
/// interval with an answered heartbeat) starts again from the first delay, and GOODBYE
/// `taken_over` or `credentials_revoked` waits the longest (`docs/protocol.md`, "Reconnecting").
///
/// Heartbeats and the gateway's ECHO are answered as by [`DeviceClient`]; DATA from the gateway
/// is discarded.
#[derive(Debug)]
pub struct PersistentDevice {
    status: tokio::sync::watch::Receiver<Status>,
    stop: tokio_util::sync::CancellationToken,
    task: JoinHandle<()>,
}

impl PersistentDevice {
    /// Starts connecting in the background.
    pub fn spawn(
        addr: SocketAddr,
        server_name: ServerName<'static>,
        tls: Arc<ClientConfig>,
        options: DeviceOptions,
        backoff: Backoff,
    ) -> PersistentDevice {
        let (status_tx, status) = tokio::sync::watch::channel(Status::default());
        let stop = tokio_util::sync::CancellationToken::new();
        let task = tokio::spawn({
            let stop = stop.clone();
            async move {
                let mut attempt = 0;
                loop {
                    let connect = DeviceClient::connect(
                        addr,
                        server_name.clone(),
                        tls.clone(),
                        options.clone(),
                    );
                    let client = tokio::select! {
                        _ = stop.cancelled() => return,
                        client = connect => client,
                    };
                    match client {
                        Ok(client) => {
                            let stable = client.stable.clone();
                            status_tx.send_modify(|s| {
                                s.connected = true;
                                s.sessions += 1;
                            });
                            let (goodbye_tx, goodbye_rx) = oneshot::channel::<()>();
                            let mut session = tokio::spawn(async move {
                                tokio::select! {
                                    _ = client.requests.closed() => {}
                                    _ = goodbye_rx => {
                                        let _ = client.requests.send(Request::Goodbye).await;
                                    }
                                }
                                client.task.await.unwrap_or(SessionEnd::Closed)
                            });
                            let end = tokio::select! {
                                _ = stop.cancelled() => {
                                    let _ = goodbye_tx.send(());
                                    let _ = session.await;
                                    status_tx.send_modify(|s| s.connected = false);
                                    return;
                                }
                                end = &mut session => end.unwrap_or(SessionEnd::Closed),
                            };
                            status_tx.send_modify(|s| {
                                s.connected = false;
                                s.last_error = Some(format!("session ended: {end:?}"));
                            });
                            attempt = next_attempt(attempt, stable.load(Ordering::Relaxed), &end);
                        }
                        Err(e) => status_tx.send_modify(|s| s.last_error = Some(e.to_string())),
                    }
                    tokio::select! {
                        _ = stop.cancelled() => return,
                        _ = tokio::time::sleep(backoff.delay(attempt)) => {}
                    }
                    attempt = attempt.saturating_add(1);
                }
            }
        });
        PersistentDevice { status, stop, task }
    }

    /// The current status.
    pub fn status(&self) -> Status {
        self.status.borrow().clone()
    }

    /// Waits until a session is open and at least `sessions` have been opened in all.
    pub async fn wait_for_session(&mut self, sessions: u64) {
        let _ = self
            .status
            .wait_for(|s| s.connected && s.sessions >= sessions)
            .await;
    }

    /// Says GOODBYE if connected and stops reconnecting.
    pub async fn stop(self) {
        self.stop.cancel();
        let _ = self.task.await;
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    /// The firmware's counting (gateway_client.c): HELLO_ACK alone resets nothing, a stable
    /// session resets, takeover and revoked credentials jump to the longest delay.
    #[test]
    fn reconnect_attempts_are_counted_like_the_firmware() {
        let backoff = Backoff::default();
        assert_eq!(next_attempt(3, false, &SessionEnd::Closed), 3);
        assert_eq!(next_attempt(3, true, &SessionEnd::Closed), 0);
        assert_eq!(
            next_attempt(0, false, &SessionEnd::Goodbye(GoodbyeReason::Shutdown)),
            0
        );
        for reason in [GoodbyeReason::TakenOver, GoodbyeReason::CredentialsRevoked] {
            let attempt = next_attempt(0, true, &SessionEnd::Goodbye(reason));
            assert_eq!(backoff.delay_with(attempt, 0), backoff.max / 2);
            let top = u32::try_from((backoff.max - backoff.max / 2).as_millis()).unwrap();
            assert_eq!(backoff.delay_with(attempt, top), backoff.max);
        }
    }

    /// Issue 12: an error's message and its source are printed one after the other by
    /// `{:#}`-style chains, so the message must not repeat the source.
    #[tokio::test]
    async fn a_refused_connection_names_the_address_and_leaves_the_cause_to_the_source() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let tls = Arc::new(
            ClientConfig::builder_with_provider(Arc::new(
                rustls::crypto::aws_lc_rs::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth(),
        );
        let err = DeviceClient::connect(
            addr,
            "localhost".try_into().unwrap(),
            tls,
            DeviceOptions::new("d"),
        )
        .await
        .unwrap_err();
        assert!(matches!(err, ClientError::Connect { .. }), "{err:?}");
        let source = err
            .source()
            .expect("the I/O error is the source")
            .to_string();
        assert_eq!(err.to_string(), format!("cannot connect to {addr}"));
        assert!(!err.to_string().contains(&source), "{err}: {source}");
    }
}

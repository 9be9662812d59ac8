//! The TLS device server: accept loop, connection limit, handshake, and dispatch to a device
//! session or to HTTP on the same port.

use std::collections::HashMap;
use std::future::{Future, IntoFuture};
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::{self, AlertDescription, PeerIncompatible};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, info, warn};

use crate::config::GatewayConfig;
use crate::metrics::{HandshakeLabels, Metrics};
use crate::registry::Registry;
use crate::session;
use crate::tls_http::{self, Rewind};

/// TLS connections beyond the limit that are still handshaken to be told ERROR(overloaded);
/// past this many at once, they are closed without a word.
pub const MAX_POLITE_REFUSALS: usize = 32;

/// How the gateway's devices authenticate it (shown by `/health`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Self-signed certificate, devices do not verify.
    Dev,
    /// CA-signed certificate, devices verify.
    Production,
}

/// State shared by every task of one gateway.
pub struct Shared {
    /// Limits and timings.
    pub config: GatewayConfig,
    /// Sessions.
    pub registry: Registry,
    /// Metrics.
    pub metrics: Metrics,
    /// Cancelled when the gateway shuts down.
    pub shutdown: CancellationToken,
    /// Dev or production.
    pub mode: Mode,
    /// When the gateway started.
    pub started: Instant,
    /// When the gateway started, wall clock.
    pub started_at: SystemTime,
    acceptor: TlsAcceptor,
    connections: Arc<Semaphore>,
    refusals: Arc<Semaphore>,
    tracker: TaskTracker,
    pub(crate) log_limiter: LogLimiter,
    pub(crate) trust: crate::trust::Trust,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("config", &self.config)
            .field("mode", &self.mode)
            .field("sessions", &self.registry.connected_count())
            .finish_non_exhaustive()
    }
}

/// A gateway: the TLS device server and the HTTP API around one [`Shared`] state.
///
/// # Examples
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use std::sync::Arc;
/// use tokio::net::TcpListener;
/// use wasmbed_gateway::{Gateway, GatewayConfig, Mode};
/// use wasmbed_tls::{dev_gateway, server_config, CertResolver, CertificateOptions, ServerOptions};
///
/// let identity = dev_gateway(&["localhost".parse()?], &CertificateOptions::default())?;
/// let options = ServerOptions { alpn: wasmbed_gateway::ALPN.iter().map(|p| p.to_vec()).collect(), ..Default::default() };
/// let tls = server_config(Arc::new(CertResolver::new(&identity, &options)?))?;
/// let gateway = Gateway::new(GatewayConfig::default(), tls, Mode::Dev)?;
/// let tls_listener = TcpListener::bind("0.0.0.0:8081").await?;
/// let api_listener = TcpListener::bind("0.0.0.0:8080").await?;
/// gateway.serve(tls_listener, api_listener, async { let _ = tokio::signal::ctrl_c().await; }).await?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Gateway {
    shared: Arc<Shared>,
}

/// ALPN protocol names the TLS port offers: HTTP clients pick `h2` or `http/1.1`; devices send
/// no ALPN (or `wasmbed/1`) and speak the frame protocol.
pub const ALPN: [&[u8]; 3] = [b"wasmbed/1", b"h2", b"http/1.1"];

impl Gateway {
    /// A gateway with `config` serving TLS with `tls` (from `wasmbed_tls::server_config`,
    /// with [`ALPN`] among its protocols so HTTP clients are recognised).
    ///
    /// # Errors
    ///
    /// The message of [`GatewayConfig::validate`].
    pub fn new(
        config: GatewayConfig,
        tls: Arc<rustls::ServerConfig>,
        mode: Mode,
    ) -> Result<Gateway, String> {
        config.validate()?;
        Ok(Gateway {
            shared: Arc::new(Shared {
                registry: Registry::new(config.inbound_queue_len, config.inbound_bytes_limit),
                metrics: Metrics::new(),
                shutdown: CancellationToken::new(),
                mode,
                started: Instant::now(),
                started_at: SystemTime::now(),
                acceptor: TlsAcceptor::from(tls),
                connections: Arc::new(Semaphore::new(config.max_connections)),
                refusals: Arc::new(Semaphore::new(MAX_POLITE_REFUSALS)),
                tracker: TaskTracker::new(),
                log_limiter: LogLimiter::new(config.log_burst),
                trust: crate::trust::Trust::new(),
                config,
            }),
        })
    }

    /// The shared state: registry, metrics, configuration.
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// The HTTP API router (port 8080), for serving elsewhere or testing with `oneshot`.
    pub fn router(&self) -> axum::Router {
        crate::api::router(self.shared.clone())
    }

    /// Serves devices on `tls_listener` and the API on `api_listener` until `shutdown`
    /// completes, then stops accepting, sends GOODBYE to every device and waits up to
    /// [`GatewayConfig::shutdown_grace`] for sessions to close.
    ///
    /// # Errors
    ///
    /// An I/O error of the API server.
    pub async fn serve(
        self,
        tls_listener: TcpListener,
        api_listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> io::Result<()> {
        let shared = self.shared.clone();
        let token = shared.shutdown.clone();
        let accept = tokio::spawn(accept_loop(shared.clone(), tls_listener));
        let api = tokio::spawn(
            axum::serve(
                api_listener,
                self.router()
                    .into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(token.clone().cancelled_owned())
            .into_future(),
        );
        let mut api = api;
        let api_result = tokio::select! {
            _ = shutdown => None,
            _ = token.cancelled() => None,
            result = &mut api => Some(result),
        };
        info!(
            sessions = shared.registry.connected_count(),
            grace = ?shared.config.shutdown_grace,
            "shutting down: no new connections; sending GOODBYE to devices"
        );
        token.cancel();
        let _ = accept.await;
        shared.tracker.close();
        // Devices, HTTP clients on the TLS port and API requests all get the same grace period;
        // after it, whatever is left is dropped rather than holding up the exit.
        let grace = tokio::time::sleep(shared.config.shutdown_grace);
        tokio::pin!(grace);
        let drained = async {
            shared.tracker.wait().await;
            match api_result {
                Some(result) => result,
                None => api.await,
            }
        };
        let api_result = tokio::select! {
            result = drained => result.unwrap_or_else(|e| Err(io::Error::other(e))),
            _ = &mut grace => {
                warn!(
                    remaining = shared.tracker.len(),
                    "shutdown grace period over; closing the remaining connections"
                );
                Ok(())
            }
        };
        info!("gateway stopped");
        api_result
    }
}

async fn accept_loop(shared: Arc<Shared>, listener: TcpListener) {
    loop {
        let accepted = tokio::select! {
            _ = shared.shutdown.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        let (tcp, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors and similar: back off instead of spinning.
                if let Some(suppressed) = shared.log_limiter.allow("accept") {
                    warn!(
                        error = %e,
                        suppressed_since_last = suppressed,
                        "accept failed; retrying in 100 ms (raise the open-file limit or lower --max-connections)"
                    );
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        if let Err(e) = tcp.set_nodelay(true) {
            debug!(%peer, error = %e, "cannot set TCP_NODELAY");
        }
        match shared.connections.clone().try_acquire_owned() {
            Ok(permit) => {
                shared
                    .tracker
                    .spawn(connection(shared.clone(), tcp, peer, permit));
            }
            Err(_) => {
                Metrics::count(&shared.metrics.refused, "connection_limit");
                match shared.refusals.clone().try_acquire_owned() {
                    Ok(permit) => {
                        shared
                            .tracker
                            .spawn(refuse(shared.clone(), tcp, peer, permit));
                    }
                    Err(_) => drop(tcp),
                }
            }
        }
    }
}

/// Why a TLS handshake failed, one class per log line and metric label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HandshakeFailure {
    /// The client sent nothing (or too little) within the handshake timeout.
    Timeout,
    /// The client's cipher suites or groups have nothing in common with ours.
    NoSharedCipherSuite,
    /// The client rejected our certificate (unknown CA, bad name, expired) with an alert.
    CertificateRejected,
    /// The client's certificate was missing or not from the device CA (mTLS).
    ClientCertificate,
    /// Plaintext HTTP on the TLS port.
    PlaintextHttp,
    /// Bytes that are not a TLS ClientHello.
    NotTls,
    /// The client closed the connection during the handshake.
    PeerClosed,
    /// Anything else.
    Other,
}

impl HandshakeFailure {
    /// The metric label and log class.
    pub fn as_str(self) -> &'static str {
        match self {
            HandshakeFailure::Timeout => "timeout",
            HandshakeFailure::NoSharedCipherSuite => "no_shared_cipher_suite",
            HandshakeFailure::CertificateRejected => "certificate_rejected_by_client",
            HandshakeFailure::ClientCertificate => "client_certificate_rejected",
            HandshakeFailure::PlaintextHttp => "plaintext_http",
            HandshakeFailure::NotTls => "not_tls",
            HandshakeFailure::PeerClosed => "peer_closed",
            HandshakeFailure::Other => "other",
        }
    }

    fn classify(error: &io::Error) -> (HandshakeFailure, String) {
        let Some(tls) = error
            .get_ref()
            .and_then(|e| e.downcast_ref::<rustls::Error>())
        else {
            return match error.kind() {
                io::ErrorKind::UnexpectedEof | io::ErrorKind::ConnectionReset => {
                    (HandshakeFailure::PeerClosed, error.to_string())
                }
                _ => (HandshakeFailure::Other, error.to_string()),
            };
        };
        let class = match tls {
            rustls::Error::PeerIncompatible(
                PeerIncompatible::NoCipherSuitesInCommon
                | PeerIncompatible::NoKxGroupsInCommon
                | PeerIncompatible::NoSignatureSchemesInCommon
                | PeerIncompatible::NoEcPointFormatsInCommon,
            ) => HandshakeFailure::NoSharedCipherSuite,
            rustls::Error::AlertReceived(
                AlertDescription::BadCertificate
                | AlertDescription::UnknownCA
                | AlertDescription::CertificateUnknown
                | AlertDescription::CertificateExpired
                | AlertDescription::UnsupportedCertificate
                | AlertDescription::DecryptError,
            ) => HandshakeFailure::CertificateRejected,
            rustls::Error::AlertReceived(
                AlertDescription::HandshakeFailure | AlertDescription::InsufficientSecurity,
            ) => HandshakeFailure::NoSharedCipherSuite,
            rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented => {
                HandshakeFailure::ClientCertificate
            }
            rustls::Error::InvalidMessage(_) => HandshakeFailure::NotTls,
            _ => HandshakeFailure::Other,
        };
        (class, tls.to_string())
    }
}

/// One accepted TCP connection with a connection permit.
async fn connection(
    shared: Arc<Shared>,
    tcp: TcpStream,
    peer: SocketAddr,
    _permit: OwnedSemaphorePermit,
) {
    shared.metrics.connections_active.inc();
    let started = Instant::now();
    match handshake(&shared, tcp, peer, started).await {
        Ok(tls) => {
            let duration = started.elapsed();
            shared
                .metrics
                .handshake_duration
                .observe(duration.as_secs_f64());
            shared
                .metrics
                .handshakes
                .get_or_create(&HandshakeLabels { result: "ok" })
                .inc();
            dispatch(shared.clone(), tls, peer).await;
        }
        Err((failure, detail)) => {
            shared
                .metrics
                .handshakes
                .get_or_create(&HandshakeLabels {
                    result: failure.as_str(),
                })
                .inc();
            if let Some(suppressed) = shared.log_limiter.allow(failure.as_str()) {
                let suppressed = (suppressed > 0).then_some(suppressed);
                match failure {
                    HandshakeFailure::PeerClosed => {
                        debug!(%peer, class = failure.as_str(), detail, "TLS handshake failed: peer closed the connection")
                    }
                    _ => warn!(
                        %peer,
                        class = failure.as_str(),
                        detail,
                        suppressed_since_last = suppressed,
                        "TLS handshake failed: {}",
                        describe(failure)
                    ),
                }
            }
        }
    }
    shared.metrics.connections_active.dec();
}

fn describe(failure: HandshakeFailure) -> &'static str {
    match failure {
        HandshakeFailure::Timeout => {
            "no ClientHello or handshake completion within the handshake timeout"
        }
        HandshakeFailure::NoSharedCipherSuite => {
            "no cipher suite, group or signature scheme in common with the client's offer (devices need ECDHE-ECDSA with AES-GCM or ChaCha20)"
        }
        HandshakeFailure::CertificateRejected => {
            "the client rejected our certificate (wrong CA on the device, name mismatch, or expiry)"
        }
        HandshakeFailure::ClientCertificate => {
            "the client certificate is missing or not signed by the device CA"
        }
        HandshakeFailure::PlaintextHttp => "plaintext HTTP on the TLS port (use https://)",
        HandshakeFailure::NotTls => "the client did not speak TLS",
        HandshakeFailure::PeerClosed => "peer closed the connection",
        HandshakeFailure::Other => "TLS error",
    }
}

type TlsStream = session::Tls;

async fn handshake(
    shared: &Shared,
    tcp: TcpStream,
    peer: SocketAddr,
    started: Instant,
) -> Result<TlsStream, (HandshakeFailure, String)> {
    let deadline = started + shared.config.handshake_timeout;
    let timeout = |what: &str| {
        (
            HandshakeFailure::Timeout,
            format!("{what} after {:?}", shared.config.handshake_timeout),
        )
    };
    // A TLS connection starts with a handshake record (0x16); look before rustls does, so that
    // plaintext HTTP gets an answer a person can read.
    let mut first = [0u8; 1];
    match tokio::time::timeout_at(deadline.into(), tcp.peek(&mut first)).await {
        Err(_) => return Err(timeout("no bytes")),
        Ok(Err(e)) => return Err((HandshakeFailure::PeerClosed, e.to_string())),
        Ok(Ok(0)) => {
            return Err((
                HandshakeFailure::PeerClosed,
                "closed before sending anything".into(),
            ));
        }
        Ok(Ok(_)) if first[0] != 0x16 => return Err(not_tls(tcp, first[0], peer).await),
        Ok(Ok(_)) => {}
    }
    match tokio::time::timeout_at(deadline.into(), shared.acceptor.accept(tcp)).await {
        Err(_) => Err(timeout("handshake not finished")),
        Ok(Err(e)) => Err(HandshakeFailure::classify(&e)),
        Ok(Ok(tls)) => Ok(Box::new(tls)),
    }
}

/// Answers plaintext HTTP with a 400 that says what to do; closes anything else.
async fn not_tls(mut tcp: TcpStream, first: u8, peer: SocketAddr) -> (HandshakeFailure, String) {
    if first.is_ascii_uppercase() {
        let body = "This is the wasmbed gateway's TLS port; use https:// (for example curl -k https://HOST:8081/health).\n";
        let response = format!(
            "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let mut request = [0u8; 256];
        let _ = tokio::time::timeout(Duration::from_millis(200), tcp.read(&mut request)).await;
        let _ =
            tokio::time::timeout(Duration::from_secs(1), tcp.write_all(response.as_bytes())).await;
        let _ = tcp.shutdown().await;
        return (
            HandshakeFailure::PlaintextHttp,
            format!("{peer} sent an HTTP request"),
        );
    }
    (
        HandshakeFailure::NotTls,
        format!("first byte 0x{first:02x}, expected 0x16 (TLS handshake record)"),
    )
}

/// After the handshake: HTTP (by ALPN, or an ASCII first byte) or a device session.
async fn dispatch(shared: Arc<Shared>, mut tls: TlsStream, peer: SocketAddr) {
    if let Err(why) = shared.trust.check_resumed(tls.get_ref().1) {
        return session::refuse_credentials(&shared, tls, peer, &why).await;
    }
    let alpn = tls.get_ref().1.alpn_protocol().map(<[u8]>::to_vec);
    if matches!(alpn.as_deref(), Some(b"h2" | b"http/1.1")) {
        Box::pin(tls_http::serve(
            shared,
            Rewind::new(tls, BytesMut::new()),
            peer,
        ))
        .await;
        return;
    }
    let mut buf = BytesMut::with_capacity(session::SESSION_BUFFER_LEN);
    let hello_deadline = Instant::now() + shared.config.hello_timeout;
    let read = tokio::select! {
        read = tokio::time::timeout_at(hello_deadline.into(), tls.read_buf(&mut buf)) => read,
        _ = shared.shutdown.cancelled() => return,
    };
    match read {
        Ok(Ok(n)) if n > 0 => {
            // A frame starts with a big-endian length below 16 MiB, so its first byte is 0x00;
            // an HTTP request starts with a method in capitals.
            if alpn.is_none() && buf[0].is_ascii_uppercase() {
                Box::pin(tls_http::serve(shared, Rewind::new(tls, buf), peer)).await;
            } else {
                session::run(shared, tls, buf, peer, hello_deadline).await;
            }
        }
        Ok(Ok(_)) => debug!(%peer, "TLS client closed before sending anything"),
        Ok(Err(e)) => debug!(%peer, error = %e, "TLS client disconnected before sending anything"),
        Err(_) => Box::pin(session::hello_timeout(&shared, tls, peer)).await,
    }
}

/// Handshakes a connection over the limit and tells it ERROR(overloaded).
async fn refuse(
    shared: Arc<Shared>,
    tcp: TcpStream,
    peer: SocketAddr,
    _permit: OwnedSemaphorePermit,
) {
    if let Some(suppressed) = shared.log_limiter.allow("connection_limit") {
        warn!(
            %peer,
            max_connections = shared.config.max_connections,
            suppressed_since_last = suppressed,
            "connection limit reached; refusing"
        );
    }
    if let Ok(tls) = handshake(&shared, tcp, peer, Instant::now()).await {
        session::refuse_overloaded(&shared, tls).await;
    }
}

/// At most `burst` lines per class per window; reports how many were suppressed.
#[derive(Debug)]
pub(crate) struct LogLimiter {
    burst: u32,
    window: Duration,
    state: Mutex<HashMap<&'static str, (Instant, u32, u64)>>,
}

impl LogLimiter {
    fn new(burst: u32) -> LogLimiter {
        LogLimiter {
            burst,
            window: Duration::from_secs(10),
            state: Mutex::new(HashMap::new()),
        }
    }

    /// `Some(suppressed since the last allowed line)` to log, `None` to stay quiet.
    pub(crate) fn allow(&self, class: &'static str) -> Option<u64> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let (start, count, suppressed) = state.entry(class).or_insert((now, 0, 0));
        if now.duration_since(*start) >= self.window {
            *start = now;
            *count = 0;
        }
        if *count < self.burst {
            *count += 1;
            Some(std::mem::take(suppressed))
        } else {
            *suppressed += 1;
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::LogLimiter;

    #[test]
    fn log_limiter_allows_a_burst_per_class_then_counts() {
        let limiter = LogLimiter::new(2);
        assert_eq!(limiter.allow("timeout"), Some(0));
        assert_eq!(limiter.allow("timeout"), Some(0));
        assert_eq!(limiter.allow("timeout"), None);
        assert_eq!(limiter.allow("timeout"), None);
        // Other classes have their own budget.
        assert_eq!(limiter.allow("not_tls"), Some(0));
        // After the window the next line reports what was suppressed.
        let mut state = limiter.state.lock().unwrap();
        state.get_mut("timeout").unwrap().0 -= limiter.window;
        drop(state);
        assert_eq!(limiter.allow("timeout"), Some(2));
    }
}

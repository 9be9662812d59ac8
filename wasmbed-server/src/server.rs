//! The TLS device server: accept loop, connection limit, handshake, and dispatch to a device
//! session or to HTTP on the same port.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, info, warn};

use crate::auth::{ApiAuth, Authenticator};
use crate::binding::DeviceBindings;
use crate::config::GatewayConfig;
use crate::metrics::{HandshakeLabels, Metrics};
use crate::registry::Registry;
use crate::session;
use crate::tls_http::{self, Rewind};
use crate::tls_io::{self, Alerting};

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
    /// Device ids bound to a client certificate (optional mTLS).
    pub bindings: DeviceBindings,
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
    pub(crate) api_connections: Arc<Semaphore>,
    pub(crate) tls_http_connections: Arc<Semaphore>,
    pub(crate) tracker: TaskTracker,
    pub(crate) log_limiter: LogLimiter,
    pub(crate) authenticator: Authenticator,
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
/// use wasmbed_server::{Gateway, GatewayConfig, Mode};
/// use wasmbed_tls::{dev_gateway, server_config, CertResolver, CertificateOptions, ServerOptions};
///
/// let identity = dev_gateway(&["localhost".parse()?], &CertificateOptions::default())?;
/// let options = ServerOptions { alpn: wasmbed_server::ALPN.iter().map(|p| p.to_vec()).collect(), ..Default::default() };
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
    /// Its API starts [`ApiAuth::Locked`]: every device endpoint answers 401 until
    /// [`Gateway::set_api_auth`] names a token.
    ///
    /// Device ids bound to a client certificate are kept in memory only; use
    /// [`Gateway::with_bindings`] with [`DeviceBindings::open`] to keep them across restarts.
    ///
    /// # Errors
    ///
    /// The message of [`GatewayConfig::validate`].
    pub fn new(
        config: GatewayConfig,
        tls: Arc<rustls::ServerConfig>,
        mode: Mode,
    ) -> Result<Gateway, String> {
        Gateway::with_bindings(config, tls, mode, DeviceBindings::in_memory())
    }

    /// Like [`Gateway::new`], with the set of device ids bound to client certificates (see
    /// [`crate::binding`]), usually [`DeviceBindings::open`] on the state directory.
    ///
    /// # Errors
    ///
    /// The message of [`GatewayConfig::validate`].
    pub fn with_bindings(
        config: GatewayConfig,
        tls: Arc<rustls::ServerConfig>,
        mode: Mode,
        bindings: DeviceBindings,
    ) -> Result<Gateway, String> {
        config.validate()?;
        let metrics = Metrics::new();
        metrics.device_bindings.set(bindings.len() as i64);
        Ok(Gateway {
            shared: Arc::new(Shared {
                registry: Registry::new(
                    config.inbound_queue_len,
                    config.inbound_bytes_limit,
                    config.max_offline_devices,
                ),
                bindings,
                metrics,
                shutdown: CancellationToken::new(),
                mode,
                started: Instant::now(),
                started_at: SystemTime::now(),
                acceptor: TlsAcceptor::from(tls),
                connections: Arc::new(Semaphore::new(config.max_connections)),
                refusals: Arc::new(Semaphore::new(MAX_POLITE_REFUSALS)),
                api_connections: Arc::new(Semaphore::new(config.max_api_connections)),
                tls_http_connections: Arc::new(Semaphore::new(config.max_tls_http_connections)),
                tracker: TaskTracker::new(),
                log_limiter: LogLimiter::new(config.log_burst),
                authenticator: Authenticator::new(),
                trust: crate::trust::Trust::new(),
                config,
            }),
        })
    }

    /// The shared state: registry, metrics, configuration.
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// How the API authenticates requests from now on (also for a token reload: requests
    /// already past the check are not affected).
    pub fn set_api_auth(&self, auth: ApiAuth) {
        self.shared.authenticator.set(auth);
    }

    /// The HTTP API router (port 8080), for serving elsewhere or testing with `oneshot`.
    pub fn router(&self) -> axum::Router {
        crate::api::router(self.shared.clone())
    }

    /// Serves devices on `tls_listener` and the API on `api_listener` until `shutdown`
    /// completes, then stops accepting, sends GOODBYE to every device, closes idle HTTP
    /// connections and waits up to [`GatewayConfig::shutdown_grace`] for the rest to close.
    ///
    /// The API port serves HTTP/1.1 to at most [`GatewayConfig::max_api_connections`]
    /// clients; handlers see the client address as `ConnectInfo<SocketAddr>`.
    ///
    /// # Errors
    ///
    /// None today (accept errors are logged and retried); the `Result` leaves room for
    /// listener errors that end serving.
    pub async fn serve(
        self,
        tls_listener: TcpListener,
        api_listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> io::Result<()> {
        let shared = self.shared.clone();
        let token = shared.shutdown.clone();
        let accept = tokio::spawn(accept_loop(shared.clone(), tls_listener));
        let api = tokio::spawn(crate::http::api_accept_loop(
            shared.clone(),
            api_listener,
            self.router(),
        ));
        tokio::select! {
            _ = shutdown => {}
            _ = token.cancelled() => {}
        }
        info!(
            sessions = shared.registry.connected_count(),
            grace = ?shared.config.shutdown_grace,
            "shutting down: no new connections; sending GOODBYE to devices"
        );
        token.cancel();
        let _ = accept.await;
        let _ = api.await;
        shared.tracker.close();
        // Devices, HTTP clients on either port and API requests all get the same grace
        // period; after it, whatever is left is dropped rather than holding up the exit.
        if tokio::time::timeout(shared.config.shutdown_grace, shared.tracker.wait())
            .await
            .is_err()
        {
            warn!(
                remaining = shared.tracker.len(),
                "shutdown grace period over; closing the remaining connections"
            );
        }
        info!("gateway stopped");
        Ok(())
    }
}

/// The next connection on `listener`, or `None` once the gateway shuts down. A failed accept
/// (out of file descriptors and similar) is logged as `failure`, rate-limited under `class`,
/// and retried after 100 ms instead of spinning.
pub(crate) async fn accept_next(
    shared: &Shared,
    listener: &TcpListener,
    class: &'static str,
    failure: &str,
) -> Option<(TcpStream, SocketAddr)> {
    loop {
        let accepted = tokio::select! {
            _ = shared.shutdown.cancelled() => return None,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok(accepted) => return Some(accepted),
            Err(e) => {
                if let Some(suppressed) = shared.log_limiter.allow(class) {
                    warn!(error = %e, suppressed_since_last = suppressed, "{failure}");
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

async fn accept_loop(shared: Arc<Shared>, listener: TcpListener) {
    const FAILURE: &str =
        "accept failed; retrying in 100 ms (raise the open-file limit or lower --max-connections)";
    while let Some((tcp, peer)) = accept_next(&shared, &listener, "accept", FAILURE).await {
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

/// Why a TLS handshake failed: one class per log line (rate-limited per class) and per value
/// of the `result` label of `wasmbed_handshakes_total`.
///
/// Each variant says what the peer did and what the operator can do about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HandshakeFailure {
    /// The client sent nothing, or did not finish the handshake, within the handshake timeout
    /// (`--handshake-timeout-secs`). A slow device link or a client that stalled on purpose;
    /// raise the timeout only if real devices hit it.
    Timeout,
    /// Plaintext HTTP on the TLS port; it was answered with a 400 saying to use `https://`.
    /// Fix the client's URL.
    PlaintextHttp,
    /// The first byte was not a TLS handshake record (0x16): a port scanner or another
    /// protocol. Nothing to do unless a device is misconfigured to speak something else.
    NotTls,
    /// The client started TLS but sent malformed or out-of-order records or messages (bad
    /// lengths, a ClientHello over 64 KiB, records between handshake fragments, an all-zero
    /// TLS 1.3 inner plaintext). It got the alert RFC 8446 asks for. A broken TLS stack or a
    /// probe; update the client.
    MalformedTls,
    /// The client offers only protocol versions the gateway does not speak (SSL 3.0, TLS 1.0,
    /// 1.1); it got protocol_version. Enable TLS 1.2 or 1.3 on the device (Mbed TLS:
    /// `MBEDTLS_SSL_PROTO_TLS1_2` / `MBEDTLS_SSL_PROTO_TLS1_3`).
    UnsupportedVersion,
    /// The client's cipher suites or key exchange groups have nothing in common with the
    /// gateway's; it got handshake_failure. Devices need ECDHE with AES-GCM or ChaCha20-Poly1305
    /// and the P-256, P-384 or X25519 group.
    NoSharedCipherSuite,
    /// The client's signature_algorithms allow no signature the gateway's key can make (for
    /// example ECDSA with SHA-384 only against a P-256 key), or the extension is missing; it
    /// got handshake_failure. Enable the key's scheme on the device (P-256: ECDSA with SHA-256)
    /// or give the gateway a certificate whose key the device can verify.
    NoSignatureScheme,
    /// The server_name extension is malformed or not one DNS host name (RFC 6066 section 3);
    /// the client got illegal_parameter. Fix the hostname configured on the device. (An IP
    /// address sent as SNI is not this: it is ignored, as devices dialling by IP do it.)
    BadSni,
    /// The client closed the connection after it started the handshake: a device that lost
    /// power or its link, or one that gave up; logged at info. Repeated lines for one device
    /// point at its network. A connection closed before its first byte (a TCP health check, a
    /// port scan) is counted here too but logged only at debug.
    PeerClosed,
    /// The client ended the handshake with an alert, named in the log line. `unknown_ca`,
    /// `bad_certificate`, `certificate_expired` and the like mean it rejected the gateway's
    /// certificate: give the device the CA that signed it, or fix the name or validity.
    ClientAlert,
    /// Mutual TLS: the client presented no certificate, or one that is not valid (wrong CA,
    /// expired, revoked; the reason is in the log line). Issue the device a certificate from
    /// the device CA given with `--client-ca`.
    ClientCertificate,
    /// Anything else (an I/O error on the socket, an internal failure); the detail says what.
    Other,
}

impl HandshakeFailure {
    /// Every class, in the order of the metric's label values.
    pub const ALL: [HandshakeFailure; 12] = [
        HandshakeFailure::Timeout,
        HandshakeFailure::PlaintextHttp,
        HandshakeFailure::NotTls,
        HandshakeFailure::MalformedTls,
        HandshakeFailure::UnsupportedVersion,
        HandshakeFailure::NoSharedCipherSuite,
        HandshakeFailure::NoSignatureScheme,
        HandshakeFailure::BadSni,
        HandshakeFailure::PeerClosed,
        HandshakeFailure::ClientAlert,
        HandshakeFailure::ClientCertificate,
        HandshakeFailure::Other,
    ];

    /// The metric label and log class, in snake_case.
    pub fn as_str(self) -> &'static str {
        match self {
            HandshakeFailure::Timeout => "timeout",
            HandshakeFailure::PlaintextHttp => "plaintext_http",
            HandshakeFailure::NotTls => "not_tls",
            HandshakeFailure::MalformedTls => "malformed_tls",
            HandshakeFailure::UnsupportedVersion => "unsupported_version",
            HandshakeFailure::NoSharedCipherSuite => "no_shared_cipher_suite",
            HandshakeFailure::NoSignatureScheme => "no_signature_scheme",
            HandshakeFailure::BadSni => "bad_sni",
            HandshakeFailure::PeerClosed => "peer_closed",
            HandshakeFailure::ClientAlert => "client_alert",
            HandshakeFailure::ClientCertificate => "client_certificate_rejected",
            HandshakeFailure::Other => "other",
        }
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
            log_failure(&shared, failure, &detail, peer);
        }
    }
    shared.metrics.connections_active.dec();
}

/// The detail of a connection closed before its first byte: a TCP health check or port scan
/// rather than a failed handshake, so counted but logged at debug only.
const CLOSED_SILENTLY: &str = "closed before sending anything";

/// The one log line of a failed handshake, rate-limited per class.
fn log_failure(shared: &Shared, failure: HandshakeFailure, detail: &str, peer: SocketAddr) {
    if failure == HandshakeFailure::PeerClosed && detail == CLOSED_SILENTLY {
        return debug!(%peer, "client closed the connection before sending anything");
    }
    let Some(suppressed) = shared.log_limiter.allow(failure.as_str()) else {
        return;
    };
    let suppressed = (suppressed > 0).then_some(suppressed);
    let class = failure.as_str();
    match failure {
        // Devices lose power and links; not something to warn about per device.
        HandshakeFailure::PeerClosed => info!(
            %peer,
            class,
            detail,
            suppressed_since_last = suppressed,
            "TLS handshake failed: {}",
            describe(failure, detail)
        ),
        _ => warn!(
            %peer,
            class,
            detail,
            suppressed_since_last = suppressed,
            "TLS handshake failed: {}",
            describe(failure, detail)
        ),
    }
}

/// What happened and what to do, for the log line.
fn describe(failure: HandshakeFailure, detail: &str) -> &'static str {
    match failure {
        HandshakeFailure::Timeout => {
            "no ClientHello or handshake completion within the handshake timeout"
        }
        HandshakeFailure::PlaintextHttp => "plaintext HTTP on the TLS port (use https://)",
        HandshakeFailure::NotTls => "the client did not speak TLS",
        HandshakeFailure::MalformedTls => {
            "the client sent malformed or out-of-order TLS; it was sent the matching alert"
        }
        HandshakeFailure::UnsupportedVersion => {
            "the client offers no TLS version the gateway speaks (TLS 1.2, 1.3); it was sent protocol_version"
        }
        HandshakeFailure::NoSharedCipherSuite => {
            "no cipher suite or group in common with the client's offer (devices need ECDHE-ECDSA with AES-GCM or ChaCha20)"
        }
        HandshakeFailure::NoSignatureScheme => {
            "the client accepts no signature scheme the gateway's key can make; it was sent handshake_failure"
        }
        HandshakeFailure::BadSni => {
            "the client sent a malformed server name (SNI); fix the hostname configured on the device"
        }
        HandshakeFailure::PeerClosed => "the client closed the connection mid-handshake",
        HandshakeFailure::ClientAlert if is_certificate_alert(detail) => {
            "the client rejected our certificate (wrong CA on the device, name mismatch, or expiry)"
        }
        HandshakeFailure::ClientAlert => "the client aborted the handshake with an alert",
        HandshakeFailure::ClientCertificate => {
            "the client certificate is missing or not valid for the device CA"
        }
        HandshakeFailure::Other => "TLS error",
    }
}

/// Whether a client-alert detail names one of the alerts a client sends about our certificate.
fn is_certificate_alert(detail: &str) -> bool {
    [
        "bad_certificate",
        "unsupported_certificate",
        "certificate_revoked",
        "certificate_expired",
        "certificate_unknown",
        "unknown_ca",
        "decrypt_error",
    ]
    .iter()
    .any(|alert| detail.ends_with(alert))
}

type TlsStream = session::Tls;

async fn handshake(
    shared: &Shared,
    mut tcp: TcpStream,
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
        Ok(Ok(0)) => return Err((HandshakeFailure::PeerClosed, CLOSED_SILENTLY.into())),
        Ok(Ok(_)) if first[0] != 0x16 => return Err(not_tls(tcp, first[0], peer).await),
        Ok(Ok(_)) => {}
    }
    let config = shared.acceptor.config();
    let conn =
        match tokio::time::timeout_at(deadline.into(), tls_io::handshake(&mut tcp, config)).await {
            Err(_) => return Err(timeout("handshake not finished")),
            Ok(Err(failure)) => {
                drain_until_closed(&mut tcp, deadline).await;
                return Err(failure);
            }
            Ok(Ok(conn)) => conn,
        };
    // tokio-rustls has no constructor for a finished connection; accept_with hands over the
    // fresh one it would handshake, and the finished one takes its place, so the future only
    // flushes.
    let mut conn = Some(conn);
    let accept = shared.acceptor.accept_with(tcp, |fresh| {
        if let Some(conn) = conn.take() {
            *fresh = conn;
        }
    });
    match accept.await {
        Ok(tls) => Ok(Box::new(tls)),
        Err(e) => Err((HandshakeFailure::Other, e.to_string())),
    }
}

/// Closes our side and reads what the client still sends until it closes too, or until
/// `deadline` (the handshake timeout).
///
/// Closing a socket with unread input makes the kernel answer with a reset, and a reset can
/// discard the alert just written before the client reads it (RFC 8446 section 6 asks for the
/// alert to arrive, not just to be sent).
async fn drain_until_closed(tcp: &mut TcpStream, deadline: Instant) {
    let _ = tcp.shutdown().await;
    let mut sink = [0u8; 4096];
    let _ = tokio::time::timeout_at(deadline.into(), async {
        while let Ok(1..) = tcp.read(&mut sink).await {}
    })
    .await;
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
async fn dispatch(shared: Arc<Shared>, tls: TlsStream, peer: SocketAddr) {
    if let Err(why) = shared.trust.check_resumed(tls.get_ref().1) {
        return session::refuse_credentials(&shared, tls, peer, &why).await;
    }
    let alpn = tls.get_ref().1.alpn_protocol().map(<[u8]>::to_vec);
    let mut tls = Alerting::new(tls);
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
                session::run(shared, tls.into_inner(), buf, peer, hello_deadline).await;
            }
        }
        Ok(Ok(_)) => debug!(%peer, "TLS client closed before sending anything"),
        Ok(Err(e)) if e.kind() == io::ErrorKind::InvalidData => {
            if let Some(suppressed) = shared.log_limiter.allow("tls_after_handshake") {
                let by_client = e
                    .get_ref()
                    .and_then(|e| e.downcast_ref::<rustls::Error>())
                    .is_some_and(|e| matches!(e, rustls::Error::AlertReceived(_)));
                if by_client {
                    warn!(%peer, error = %e, suppressed_since_last = suppressed, "TLS session ended by the client's alert after the handshake, before the first frame; closed");
                } else {
                    warn!(%peer, error = %e, suppressed_since_last = suppressed, "TLS error after the handshake, before the first frame; the client was sent an alert and closed");
                }
            }
        }
        Ok(Err(e)) => debug!(%peer, error = %e, "TLS client disconnected before sending anything"),
        Err(_) => Box::pin(session::hello_timeout(&shared, tls.into_inner(), peer)).await,
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

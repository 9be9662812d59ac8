//! The TLS device server: accept loop, connection limit, handshake, and dispatch to a device
//! session or to HTTP on the same port.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::OwnedSemaphorePermit;
use tokio_rustls::rustls;
use tracing::{debug, info, warn};

use crate::accept::accept_next;
use crate::handshake_failure::HandshakeFailure;
use crate::metrics::{HandshakeLabels, Metrics};
use crate::rewind::Rewind;
use crate::session;
use crate::state::Shared;
use crate::tls_http;
use crate::tls_io::{self, Alerting};

/// Accepts device connections on `listener` until the gateway shuts down, each within the
/// connection limit or refused.
pub(crate) async fn accept_loop(shared: Arc<Shared>, listener: TcpListener) {
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

type TlsStream = tls_io::Tls;

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

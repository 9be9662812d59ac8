//! One device session: HELLO, then heartbeats, echo and data until GOODBYE, silence, takeover,
//! a protocol error or shutdown.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::time::timeout_at;
use tokio_rustls::server::TlsStream;
use tokio_util::codec::Framed;
use tracing::{debug, info, warn};

use crate::admission::{Refusal, bind, check_hello};
use crate::binding::Binding;
use crate::command::Command;
use crate::metrics::{Direction, Metrics};
use crate::registry::{DeviceInfo, DeviceState, Registration};
use crate::rewind::Rewind;
use crate::state::Shared;
use crate::tls_io::{Alerting, Tls};
use wasmbed_protocol::{
    ErrorCode, Frame, FrameCodec, GoodbyeReason, Message, PROTOCOL_VERSION, ProtocolError,
};

type Stream = Framed<Rewind<Alerting<Tls>>, FrameCodec>;

/// The framed session stream over `tls`, reading `read` (bytes already taken from `tls`) first.
///
/// The bytes go through [`Rewind`] rather than into the codec's read buffer: `Framed` only
/// decodes from a buffer it was built with by growing it to 8 KiB, which is what
/// [`SESSION_BUFFER_LEN`] avoids.
fn framed(tls: Tls, read: BytesMut, max_frame_len: u32) -> Stream {
    let codec = FrameCodec::new(max_frame_len);
    Framed::with_capacity(
        Rewind::new(Alerting::new(tls), read),
        codec,
        SESSION_BUFFER_LEN,
    )
}

/// Initial capacity of a session's read and write buffers, in bytes: a HELLO, heartbeat or
/// small echo fits; a larger frame grows them. (tokio-util's default is 8 KiB each, most of an
/// idle session's memory.)
pub(crate) const SESSION_BUFFER_LEN: usize = 512;

/// How long a closing session may take to flush its last frames and close_notify.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

/// Runs a device session on a TLS stream whose first bytes are in `read`.
/// The HELLO must be complete by `hello_deadline` (the hello timeout after the handshake).
pub(crate) async fn run(
    shared: Arc<Shared>,
    tls: Tls,
    read: BytesMut,
    peer: SocketAddr,
    hello_deadline: Instant,
) {
    let client_cert = client_certificate(&tls);
    let client_cn = client_cert.as_ref().map(|cert| cert.device_id.clone());
    let trust = shared.trust.watch(tls.get_ref().1);
    // A reload between this client's verification and the subscription above went unseen.
    let window = shared.config.handshake_timeout + shared.config.hello_timeout;
    if trust.is_some()
        && shared.trust.changed_within(window)
        && let Err(why) = shared.trust.check(tls.get_ref().1)
    {
        return refuse_credentials(&shared, tls, peer, &why).await;
    }
    let (tls_version, cipher_suite) = crate::tls_params::negotiated(
        tls.get_ref()
            .1
            .negotiated_cipher_suite()
            .expect("a finished handshake has negotiated a cipher suite"),
    );
    let mut stream = framed(tls, read, shared.config.max_frame_len);

    let first = tokio::select! {
        first = timeout_at(hello_deadline.into(), stream.next()) => first,
        _ = shared.shutdown.cancelled() => return,
    };
    let hello = match first {
        Err(_) => {
            let message = format!("no HELLO within {:?}", shared.config.hello_timeout);
            Metrics::count(&shared.metrics.protocol_errors, "hello_timeout");
            return Box::pin(close_with_error(
                &shared,
                stream,
                0,
                ErrorCode::HelloTimeout,
                &message,
                peer,
            ))
            .await;
        }
        Ok(None) => return debug!(%peer, "connection closed before HELLO"),
        Ok(Some(Err(e))) => return Box::pin(protocol_error(&shared, stream, e, peer, None)).await,
        Ok(Some(Ok(frame))) => frame,
    };
    shared
        .metrics
        .frame(hello.message.message_type(), Direction::In);
    let hello_id = hello.id;
    let admitted = async {
        let accepted = check_hello(&shared, hello.message, client_cn.as_deref())?;
        // check_hello made sure the certificate's CN is the device id.
        if let Some(cert) = client_cert {
            bind(&shared, cert, peer).await?;
        }
        Ok::<_, Refusal>(accepted)
    };
    let (device_id, firmware_version) = match admitted.await {
        Ok(accepted) => accepted,
        Err(refusal) => {
            Metrics::count(&shared.metrics.protocol_errors, refusal.kind);
            return Box::pin(close_with_error(
                &shared,
                stream,
                hello_id,
                refusal.code,
                &refusal.message,
                peer,
            ))
            .await;
        }
    };

    let info = DeviceInfo::new(
        device_id.clone(),
        firmware_version.clone(),
        peer,
        tls_version,
        cipher_suite,
        client_cn,
    );
    let registration = shared.registry.register(info);
    shared.metrics.sessions_active.inc();
    info!(
        device_id,
        %peer,
        firmware_version,
        session = registration.session_id,
        took_over = registration.replaced,
        "device connected"
    );
    let ack = Frame {
        id: hello.id,
        message: Message::HelloAck {
            version: PROTOCOL_VERSION,
            heartbeat_interval_secs: shared.config.heartbeat_interval_secs(),
            max_frame_len: shared.config.max_frame_len,
        },
    };
    let mut session = Session {
        shared: shared.clone(),
        device_id,
        peer,
        registration,
        next_id: 1,
        pending: HashMap::new(),
        trust,
    };
    let end = match session.send(&mut stream, ack).await {
        Ok(()) => session.serve(&mut stream).await,
        Err(e) => dropped_or_io(e),
    };
    // Boxed: allocated once at the end instead of held in every idle session's task.
    Box::pin(session.finish(stream, end)).await;
}

/// Why a session ended.
#[derive(Debug)]
enum End {
    /// The device said GOODBYE.
    Goodbye(GoodbyeReason),
    /// The device closed TLS cleanly (close_notify) without GOODBYE.
    Closed,
    /// The connection dropped without close_notify (power loss, reset).
    Dropped(io::Error),
    /// Any other I/O error, including a stalled write.
    Io(io::Error),
    /// Nothing for 3 heartbeat intervals.
    Silent,
    /// A newer session for the same device id.
    TakenOver,
    /// The gateway is shutting down.
    Shutdown,
    /// A malformed or unexpected frame.
    Protocol(ErrorCode, String, u32),
    /// After a reload of the client CAs or CRLs, the device certificate is no longer accepted.
    CredentialsRevoked(String),
}

impl End {
    fn kind(&self) -> &'static str {
        match self {
            End::Goodbye(_) => "goodbye",
            End::Closed => "closed",
            End::Dropped(_) => "dropped",
            End::Io(_) => "io_error",
            End::Silent => "heartbeat_timeout",
            End::TakenOver => "taken_over",
            End::Shutdown => "shutdown",
            End::Protocol(..) => "protocol_error",
            End::CredentialsRevoked(_) => "credentials_revoked",
        }
    }
}

struct Session {
    shared: Arc<Shared>,
    device_id: String,
    peer: SocketAddr,
    registration: Registration,
    next_id: u32,
    pending: HashMap<u32, (Instant, oneshot::Sender<(Duration, Bytes)>)>,
    /// Reloads of the client CAs and CRLs, for a session with a client certificate.
    trust: Option<tokio::sync::watch::Receiver<u64>>,
}

impl Session {
    async fn serve(&mut self, stream: &mut Stream) -> End {
        let liveness = self.shared.config.liveness_timeout();
        let mut deadline = Instant::now() + liveness;
        loop {
            tokio::select! {
                _ = self.shared.shutdown.cancelled() => return End::Shutdown,
                _ = self.registration.taken_over.cancelled() => return End::TakenOver,
                () = crate::trust::changed(&mut self.trust) => {
                    if let Err(why) = self.shared.trust.check(stream.get_ref().get_ref().get_ref().get_ref().1) {
                        return End::CredentialsRevoked(why);
                    }
                }
                Some(command) = self.registration.commands.recv() => {
                    if let Err(e) = self.command(stream, command).await {
                        return dropped_or_io(e);
                    }
                }
                next = timeout_at(deadline.into(), stream.next()) => {
                    let frame = match next {
                        Err(_) => return End::Silent,
                        Ok(None) => return End::Closed,
                        Ok(Some(Err(ProtocolError::Io(e)))) => return dropped_or_io(e),
                        Ok(Some(Err(e))) => {
                            Metrics::count(&self.shared.metrics.protocol_errors, e.kind());
                            return End::Protocol(e.error_code(), e.to_string(), e.frame_id().unwrap_or(0));
                        }
                        Ok(Some(Ok(frame))) => frame,
                    };
                    deadline = Instant::now() + liveness;
                    self.shared.metrics.frame(frame.message.message_type(), Direction::In);
                    self.shared.registry.seen(&self.device_id, self.registration.session_id);
                    match self.frame(stream, frame).await {
                        Ok(None) => {}
                        Ok(Some(end)) => return end,
                        Err(e) => return dropped_or_io(e),
                    }
                }
            }
        }
    }

    /// Handles one frame from the device; `Some` ends the session.
    async fn frame(&mut self, stream: &mut Stream, frame: Frame) -> io::Result<Option<End>> {
        let id = frame.id;
        match frame.message {
            Message::Heartbeat { uptime_ms } => {
                self.shared.registry.update(
                    &self.device_id,
                    self.registration.session_id,
                    |info| info.uptime_ms = Some(uptime_ms),
                );
                self.send(
                    stream,
                    Frame {
                        id,
                        message: Message::HeartbeatAck,
                    },
                )
                .await?;
            }
            Message::Echo(payload) => {
                self.send(
                    stream,
                    Frame {
                        id,
                        message: Message::EchoReply(payload),
                    },
                )
                .await?
            }
            Message::EchoReply(payload) => match self.pending.remove(&id) {
                Some((sent, reply)) => {
                    let _ = reply.send((sent.elapsed(), payload));
                }
                None => debug!(
                    device_id = self.device_id,
                    id, "ECHO_REPLY for no pending ECHO"
                ),
            },
            Message::Data(data) => self.shared.registry.push_inbound(&self.device_id, data),
            Message::Goodbye { reason } => return Ok(Some(End::Goodbye(reason))),
            other => {
                Metrics::count(&self.shared.metrics.protocol_errors, "unexpected_message");
                let message = format!(
                    "{} is not a message a device sends after HELLO",
                    other.message_type().as_str()
                );
                return Ok(Some(End::Protocol(
                    ErrorCode::UnexpectedMessage,
                    message,
                    id,
                )));
            }
        }
        Ok(None)
    }

    async fn command(&mut self, stream: &mut Stream, command: Command) -> io::Result<()> {
        let id = self.fresh_id();
        match command {
            Command::Data(data) => {
                self.send(
                    stream,
                    Frame {
                        id,
                        message: Message::Data(data),
                    },
                )
                .await
            }
            Command::Echo { payload, reply } => {
                // Answers that never come must not pile up.
                self.pending.retain(|_, (_, reply)| !reply.is_closed());
                self.pending.insert(id, (Instant::now(), reply));
                self.send(
                    stream,
                    Frame {
                        id,
                        message: Message::Echo(payload),
                    },
                )
                .await
            }
        }
    }

    fn fresh_id(&mut self) -> u32 {
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1).max(1);
        id
    }

    /// Sends a frame, giving up when the device does not read for a heartbeat timeout.
    async fn send(&self, stream: &mut Stream, frame: Frame) -> io::Result<()> {
        let message_type = frame.message.message_type();
        send(
            &self.shared,
            stream,
            frame,
            self.shared.config.liveness_timeout(),
        )
        .await?;
        self.shared.metrics.frame(message_type, Direction::Out);
        self.shared
            .registry
            .update(&self.device_id, self.registration.session_id, |info| {
                info.frames_out += 1
            });
        Ok(())
    }

    async fn finish(self, mut stream: Stream, end: End) {
        let goodbye = |reason| Frame {
            id: 0,
            message: Message::Goodbye { reason },
        };
        let (state, last) = match &end {
            End::Silent => (
                DeviceState::Unreachable,
                Some(goodbye(GoodbyeReason::HeartbeatTimeout)),
            ),
            End::TakenOver => (
                DeviceState::Disconnected,
                Some(goodbye(GoodbyeReason::TakenOver)),
            ),
            End::Shutdown => (
                DeviceState::Disconnected,
                Some(goodbye(GoodbyeReason::Shutdown)),
            ),
            End::CredentialsRevoked(_) => (
                DeviceState::Disconnected,
                Some(goodbye(GoodbyeReason::CredentialsRevoked)),
            ),
            End::Protocol(code, message, id) => (
                DeviceState::Disconnected,
                Some(error_frame(
                    *id,
                    *code,
                    message,
                    self.shared.config.max_frame_len,
                )),
            ),
            _ => (DeviceState::Disconnected, None),
        };
        self.shared
            .registry
            .unregister(&self.device_id, self.registration.session_id, state);
        self.shared.metrics.sessions_active.dec();
        Metrics::count(&self.shared.metrics.sessions_closed, end.kind());
        let (device_id, peer, session) = (&self.device_id, self.peer, self.registration.session_id);
        match &end {
            End::Goodbye(reason) => {
                info!(device_id, %peer, session, ?reason, "device said goodbye")
            }
            End::Closed => info!(device_id, %peer, session, "device closed the session"),
            End::Dropped(e) => {
                info!(device_id, %peer, session, error = %e, "device dropped the connection without close_notify (power loss or reset)")
            }
            End::Io(e) => warn!(device_id, %peer, session, error = %e, "device session I/O error"),
            End::Silent => warn!(
                device_id,
                %peer,
                session,
                timeout = ?self.shared.config.liveness_timeout(),
                "device missed 3 heartbeat intervals; closed and marked unreachable"
            ),
            End::TakenOver => {
                info!(device_id, %peer, session, "a newer session for this device took over")
            }
            End::Shutdown => debug!(device_id, %peer, session, "session closed for shutdown"),
            End::CredentialsRevoked(why) => warn!(
                device_id,
                %peer,
                session,
                reason = why,
                "device certificate no longer accepted after a client CA/CRL reload; session ended with GOODBYE(credentials_revoked)"
            ),
            End::Protocol(code, message, _) => {
                if let Some(suppressed) = self.shared.log_limiter.allow("protocol_error") {
                    warn!(device_id, %peer, session, ?code, message, suppressed_since_last = suppressed, "protocol error; session closed");
                }
            }
        }
        if let Some(frame) = last {
            let message_type = frame.message.message_type();
            if send(&self.shared, &mut stream, frame, CLOSE_TIMEOUT)
                .await
                .is_ok()
            {
                self.shared.metrics.frame(message_type, Direction::Out);
            }
        }
        if !matches!(end, End::Dropped(_) | End::Io(_)) {
            let _ = tokio::time::timeout(CLOSE_TIMEOUT, SinkExt::<Frame>::close(&mut stream)).await;
        }
    }
}

fn dropped_or_io(e: io::Error) -> End {
    match e.kind() {
        io::ErrorKind::UnexpectedEof
        | io::ErrorKind::ConnectionReset
        | io::ErrorKind::BrokenPipe => End::Dropped(e),
        _ => End::Io(e),
    }
}

async fn send(
    shared: &Shared,
    stream: &mut Stream,
    frame: Frame,
    limit: Duration,
) -> io::Result<()> {
    match tokio::time::timeout(limit, stream.send(frame)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(ProtocolError::Io(e))) => Err(e),
        Ok(Err(e)) => {
            Metrics::count(&shared.metrics.protocol_errors, "encode");
            Err(io::Error::other(e))
        }
        Err(_) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "device stopped reading",
        )),
    }
}

/// An ERROR frame whose message is cut (at a character boundary) to fit `max_frame_len`.
fn error_frame(id: u32, code: ErrorCode, message: &str, max_frame_len: u32) -> Frame {
    // type (1) + id (4) + code (2)
    let room = (max_frame_len as usize).saturating_sub(7);
    let mut end = message.len().min(room);
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    Frame {
        id,
        message: Message::Error {
            code,
            message: message[..end].to_owned(),
        },
    }
}

/// Sends ERROR and closes: for failures before a session is registered.
async fn close_with_error(
    shared: &Shared,
    mut stream: Stream,
    id: u32,
    code: ErrorCode,
    message: &str,
    peer: SocketAddr,
) {
    if let Some(suppressed) = shared.log_limiter.allow("device_refused") {
        warn!(%peer, ?code, message, suppressed_since_last = suppressed, "closing device connection");
    }
    let frame = error_frame(id, code, message, shared.config.max_frame_len);
    if send(shared, &mut stream, frame, CLOSE_TIMEOUT)
        .await
        .is_ok()
    {
        shared
            .metrics
            .frame(wasmbed_protocol::MessageType::Error, Direction::Out);
    }
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, SinkExt::<Frame>::close(&mut stream)).await;
}

async fn protocol_error(
    shared: &Shared,
    stream: Stream,
    e: ProtocolError,
    peer: SocketAddr,
    _device: Option<&str>,
) {
    if let ProtocolError::Io(e) = &e {
        return debug!(%peer, error = %e, "connection lost before HELLO");
    }
    Metrics::count(&shared.metrics.protocol_errors, e.kind());
    close_with_error(
        shared,
        stream,
        e.frame_id().unwrap_or(0),
        e.error_code(),
        &e.to_string(),
        peer,
    )
    .await;
}

/// A resumed session whose client certificate is no longer accepted (expired, not yet valid,
/// revoked, or no longer from a trusted client CA): GOODBYE `CredentialsRevoked` before any
/// HELLO is read, and a log line.
pub(crate) async fn refuse_credentials(shared: &Shared, tls: Tls, peer: SocketAddr, why: &str) {
    Metrics::count(&shared.metrics.refused, "credentials_revoked");
    if let Some(suppressed) = shared.log_limiter.allow("resumption_refused") {
        warn!(
            %peer,
            reason = why,
            suppressed_since_last = suppressed,
            "refused a resumed TLS session: its client certificate is no longer accepted (a full handshake with it would fail too)"
        );
    }
    let mut stream = framed(tls, BytesMut::new(), shared.config.max_frame_len);
    let frame = Frame {
        id: 0,
        message: Message::Goodbye {
            reason: GoodbyeReason::CredentialsRevoked,
        },
    };
    if send(shared, &mut stream, frame, CLOSE_TIMEOUT)
        .await
        .is_ok()
    {
        shared
            .metrics
            .frame(wasmbed_protocol::MessageType::Goodbye, Direction::Out);
    }
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, SinkExt::<Frame>::close(&mut stream)).await;
}

/// The device sent nothing after the handshake within the hello timeout.
pub(crate) async fn hello_timeout(shared: &Shared, tls: Tls, peer: SocketAddr) {
    let stream = framed(tls, BytesMut::new(), shared.config.max_frame_len);
    let message = format!("no HELLO within {:?}", shared.config.hello_timeout);
    Metrics::count(&shared.metrics.protocol_errors, "hello_timeout");
    close_with_error(shared, stream, 0, ErrorCode::HelloTimeout, &message, peer).await;
}

/// Tells a connection over the limit that the gateway is full.
pub(crate) async fn refuse_overloaded(shared: &Shared, tls: Tls) {
    let peer = tls.get_ref().0.peer_addr().ok();
    let mut stream = framed(tls, BytesMut::new(), shared.config.max_frame_len);
    let message = format!(
        "connection limit of {} reached; retry later",
        shared.config.max_connections
    );
    let frame = error_frame(
        0,
        ErrorCode::Overloaded,
        &message,
        shared.config.max_frame_len,
    );
    let _ = send(shared, &mut stream, frame, CLOSE_TIMEOUT).await;
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, SinkExt::<Frame>::close(&mut stream)).await;
    debug!(?peer, "refused: connection limit");
}

/// The client certificate, if the client presented one with a subject CN: the CN as the
/// device id, with the certificate's issuer and serial.
fn client_certificate(tls: &TlsStream<TcpStream>) -> Option<Binding> {
    use x509_parser::prelude::{FromDer as _, X509Certificate};
    let cert = tls.get_ref().1.peer_certificates()?.first()?;
    let (_, parsed) = X509Certificate::from_der(cert).ok()?;
    let cn = parsed
        .subject()
        .iter_common_name()
        .next()?
        .as_str()
        .ok()?
        .to_owned();
    Some(Binding::new(
        cn,
        parsed.issuer().to_string(),
        parsed.raw_serial_as_string(),
    ))
}

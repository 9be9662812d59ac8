//! TLS I/O that answers every fatal error with its alert (RFC 8446 section 6), during the
//! handshake and after it.
//!
//! # Why not `TlsAcceptor::accept`
//!
//! tokio-rustls drops the `ServerConnection` when the handshake fails and writes what rustls
//! queued at most once, so an alert is lost when that write would block, and nothing at all is
//! sent for the errors rustls 0.23 raises without queuing an alert (an all-zero TLS 1.3 inner
//! plaintext, a record between the fragments of a handshake message, a handshake message over
//! 64 KiB, a TLS 1.2 signing key that cannot use the client's schemes). [`handshake`] drives
//! rustls' own [`Acceptor`] and [`ServerConnection`] over the socket instead, so that on an error
//! it still owns the connection: it writes everything rustls queued and, when that holds no
//! alert, sends the right one itself (in plaintext while the server has not started encrypting,
//! else rustls' encrypted close_notify, the only alert rustls lets an application send). The
//! finished connection then goes to tokio-rustls for the session.
//!
//! After the handshake, [`Alerting`] wraps the session stream: tokio-rustls only writes when
//! the application writes, so a warning alert rustls queues while reading (no_renegotiation for
//! a TLS 1.2 client that tries to renegotiate) would wait for the next frame the gateway sends.

use std::io::{self, Read};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::rustls::server::{Accepted, AcceptedAlert, Acceptor};
use tokio_rustls::rustls::{
    self, AlertDescription, InvalidMessage, PeerIncompatible, PeerMisbehaved, ProtocolVersion,
    ServerConfig, ServerConnection,
};
use tokio_rustls::server::TlsStream;

use crate::handshake_failure::HandshakeFailure;

/// TLS record content types (RFC 8446 section 5.1).
const CHANGE_CIPHER_SPEC: u8 = 0x14;
const ALERT: u8 = 0x15;
const HANDSHAKE: u8 = 0x16;
const APPLICATION_DATA: u8 = 0x17;

/// Bytes of the start of a connection kept to read the ClientHello's `legacy_version` when
/// rustls refuses the hello: enough for six one-byte handshake fragments of 5-byte records.
const HELLO_HEAD_LEN: usize = 64;

/// Why a handshake failed: the class and a one-line detail for the log.
pub(crate) type Failure = (HandshakeFailure, String);

/// Runs the server side of a TLS handshake on `tcp` with `config`; on failure, every alert
/// owed to the client has been written before this returns.
pub(crate) async fn handshake(
    tcp: &mut TcpStream,
    config: &Arc<ServerConfig>,
) -> Result<ServerConnection, Failure> {
    let accepted = read_client_hello(tcp).await?;
    refuse_unusable_signature_schemes(tcp, config, &accepted).await?;
    let mut conn = match accepted.into_connection(config.clone()) {
        Ok(conn) => conn,
        Err((error, alert)) => {
            send_accepted_alert(tcp, alert, &error).await;
            return Err(classify(&error));
        }
    };
    let mut sent = Sent::default();
    loop {
        if let Err(e) = flush(tcp, &mut conn, &mut sent).await {
            return Err(write_failed(e));
        }
        if !conn.is_handshaking() {
            return Ok(conn);
        }
        if let Err(e) = tcp.readable().await {
            return Err(read_failed(e));
        }
        match conn.read_tls(&mut TryRead { tcp, head: None }) {
            Ok(0) => {
                return Err((
                    HandshakeFailure::PeerClosed,
                    "closed the connection in the middle of the handshake".into(),
                ));
            }
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            // rustls refuses to buffer more (a handshake message over 64 KiB in the making).
            Err(e) if e.kind() == io::ErrorKind::InvalidData => {
                let error = rustls::Error::InvalidMessage(InvalidMessage::HandshakePayloadTooLarge);
                fail(tcp, &mut conn, &mut sent, &error).await;
                return Err((HandshakeFailure::MalformedTls, e.to_string()));
            }
            Err(e) => return Err(read_failed(e)),
        }
        if let Err(error) = conn.process_new_packets() {
            fail(tcp, &mut conn, &mut sent, &error).await;
            return Err(classify(&error));
        }
    }
}

/// Reads the ClientHello with rustls' [`Acceptor`], answering a refused one with its alert.
async fn read_client_hello(tcp: &mut TcpStream) -> Result<Accepted, Failure> {
    let mut acceptor = Acceptor::default();
    let mut head = Vec::with_capacity(HELLO_HEAD_LEN);
    loop {
        if let Err(e) = tcp.readable().await {
            return Err(read_failed(e));
        }
        match acceptor.read_tls(&mut TryRead {
            tcp,
            head: Some(&mut head),
        }) {
            Ok(0) => {
                return Err((
                    HandshakeFailure::PeerClosed,
                    "closed the connection before its ClientHello was complete".into(),
                ));
            }
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(e) if e.kind() == io::ErrorKind::InvalidData => {
                write_plaintext_alert(tcp, AlertDescription::DecodeError).await;
                return Err((HandshakeFailure::MalformedTls, e.to_string()));
            }
            Err(e) => return Err(read_failed(e)),
        }
        match acceptor.accept() {
            Ok(None) => {}
            Ok(Some(accepted)) => return Ok(accepted),
            Err((error, alert)) => {
                // RFC 8446 appendix D: a client offering only versions below ours, without the
                // supported_versions extension, gets protocol_version. rustls checks the
                // signature_algorithms extension first, which TLS 1.0 and 1.1 clients lack, and
                // answers handshake_failure.
                if let (Some(version), rustls::Error::PeerIncompatible(_)) =
                    (legacy_version(&head), &error)
                    && version < u16::from(ProtocolVersion::TLSv1_2)
                {
                    write_plaintext_alert(tcp, AlertDescription::ProtocolVersion).await;
                    return Err((
                        HandshakeFailure::UnsupportedVersion,
                        format!(
                            "offered {} only; the gateway speaks TLS 1.2 and 1.3",
                            version_name(version)
                        ),
                    ));
                }
                send_accepted_alert(tcp, alert, &error).await;
                return Err(classify(&error));
            }
        }
    }
}

/// Refuses, with handshake_failure, a client none of whose signature schemes our key can sign
/// with.
///
/// rustls would fail such a TLS 1.2 client without an alert, after sending its ServerHello
/// ("incompatible signing key"). TLS 1.2 would allow signing with the P-256 key and SHA-384
/// (RFC 5246 section 7.4.1.4.1 does not tie the hash to the curve), but rustls' signing keys
/// offer only the scheme of their curve and no device needs another: refusing early and
/// clearly is better than a custom signer.
async fn refuse_unusable_signature_schemes(
    tcp: &mut TcpStream,
    config: &ServerConfig,
    accepted: &Accepted,
) -> Result<(), Failure> {
    let Some(key) = config.cert_resolver.resolve(accepted.client_hello()) else {
        return Ok(());
    };
    let hello = accepted.client_hello();
    let offered = hello.signature_schemes();
    if key.key.choose_scheme(offered).is_some() {
        return Ok(());
    }
    write_plaintext_alert(tcp, AlertDescription::HandshakeFailure).await;
    Err((
        HandshakeFailure::NoSignatureScheme,
        format!(
            "the client offered only {offered:?}; the gateway's {:?} key signs with none of them",
            key.key.algorithm()
        ),
    ))
}

/// Writes an [`AcceptedAlert`]; if it holds no alert, writes the one `error` calls for.
async fn send_accepted_alert(tcp: &mut TcpStream, mut alert: AcceptedAlert, error: &rustls::Error) {
    let mut bytes = Vec::new();
    let _ = alert.write_all(&mut bytes);
    let types = record_types(&bytes);
    if tcp.write_all(&bytes).await.is_err() {
        return;
    }
    // Nothing the Acceptor queues is encrypted: no alert record means none was queued.
    if !types.contains(&ALERT) {
        write_plaintext_alert(tcp, fallback_alert(error)).await;
    }
}

/// What the server has written so far.
#[derive(Debug, Default)]
struct Sent {
    /// Record content types written, in order (the outer type for encrypted records).
    types: Vec<u8>,
}

impl Sent {
    /// Whether the server has started encrypting: a TLS 1.3 server's encrypted records all
    /// show as application data (RFC 8446 section 5.2); a TLS 1.2 server encrypts after its
    /// ChangeCipherSpec. (TLS 1.3 servers also send ChangeCipherSpec, with a
    /// HelloRetryRequest; that alone does not start encryption.)
    fn encrypting(&self, conn: &ServerConnection) -> bool {
        match conn.protocol_version() {
            Some(ProtocolVersion::TLSv1_3) => self.types.contains(&APPLICATION_DATA),
            _ => self.types.contains(&CHANGE_CIPHER_SPEC),
        }
    }
}

/// Writes everything rustls has queued.
async fn flush(
    tcp: &mut TcpStream,
    conn: &mut ServerConnection,
    sent: &mut Sent,
) -> io::Result<()> {
    while conn.wants_write() {
        let mut bytes = Vec::new();
        conn.write_tls(&mut bytes)?;
        sent.types.extend(record_types(&bytes));
        tcp.write_all(&bytes).await?;
    }
    Ok(())
}

/// After rustls failed with `error`: writes what it queued, then `fallback` if that held no
/// alert.
async fn fail(
    tcp: &mut TcpStream,
    conn: &mut ServerConnection,
    sent: &mut Sent,
    error: &rustls::Error,
) {
    let before = sent.types.len();
    if flush(tcp, conn, sent).await.is_err() {
        return;
    }
    // A client that sent a fatal alert is closing already (RFC 8446 section 6.2).
    if sent.types[before..].contains(&ALERT) || matches!(error, rustls::Error::AlertReceived(_)) {
        return;
    }
    if sent.encrypting(conn) {
        // A no-op when rustls queued a fatal alert (its TLS 1.3 records all look alike).
        conn.send_close_notify();
        let _ = flush(tcp, conn, sent).await;
    } else {
        write_plaintext_alert(tcp, fallback_alert(error)).await;
    }
}

/// Writes a fatal alert record in plaintext (RFC 8446 section 6; record version 0x0303 as in
/// section 5.1).
pub(crate) async fn write_plaintext_alert(tcp: &mut TcpStream, description: AlertDescription) {
    let record = plaintext_alert(description);
    let _ = tcp.write_all(&record).await;
}

/// The bytes of a fatal plaintext alert record.
fn plaintext_alert(description: AlertDescription) -> [u8; 7] {
    [ALERT, 0x03, 0x03, 0x00, 0x02, 0x02, u8::from(description)]
}

/// The alert for an error rustls raised without queuing one (an all-zero inner plaintext,
/// interleaved records, a handshake message over 64 KiB, an unusable signing key), as
/// RFC 8446 asks for it.
fn fallback_alert(error: &rustls::Error) -> AlertDescription {
    match error {
        // Section 5.4 (all-zero inner plaintext), 5.1 (interleaved records).
        rustls::Error::PeerMisbehaved(
            PeerMisbehaved::IllegalTlsInnerPlaintext
            | PeerMisbehaved::MessageInterleavedWithHandshakeMessage
            | PeerMisbehaved::RejectedEarlyDataInterleavedWithHandshakeMessage
            | PeerMisbehaved::TooManyEmptyFragments,
        ) => AlertDescription::UnexpectedMessage,
        rustls::Error::InvalidMessage(_) => AlertDescription::DecodeError,
        rustls::Error::PeerSentOversizedRecord => AlertDescription::RecordOverflow,
        rustls::Error::PeerIncompatible(
            PeerIncompatible::Tls12NotOffered
            | PeerIncompatible::Tls12NotOfferedOrEnabled
            | PeerIncompatible::SupportedVersionsExtensionRequired,
        ) => AlertDescription::ProtocolVersion,
        rustls::Error::PeerMisbehaved(_) => AlertDescription::IllegalParameter,
        _ => AlertDescription::HandshakeFailure,
    }
}

/// The content type of each whole record in `bytes`.
fn record_types(bytes: &[u8]) -> Vec<u8> {
    let mut types = Vec::new();
    let mut rest = bytes;
    while rest.len() >= 5 {
        types.push(rest[0]);
        let len = usize::from(u16::from_be_bytes([rest[3], rest[4]]));
        rest = rest.get(5 + len..).unwrap_or_default();
    }
    types
}

/// The `legacy_version` of the ClientHello at the start of `head`, joining handshake fragments
/// across records (RFC 8446 section 4.1.2).
fn legacy_version(head: &[u8]) -> Option<u16> {
    let mut handshake = Vec::with_capacity(6);
    let mut rest = head;
    while handshake.len() < 6 {
        if rest.len() < 5 || rest[0] != HANDSHAKE {
            return None;
        }
        let len = usize::from(u16::from_be_bytes([rest[3], rest[4]]));
        let body = &rest[5..];
        let take = len.min(body.len());
        handshake.extend_from_slice(&body[..take]);
        rest = &body[take..];
    }
    // msg_type client_hello (1), 3-byte length, then legacy_version.
    (handshake[0] == 1).then(|| u16::from_be_bytes([handshake[4], handshake[5]]))
}

fn version_name(version: u16) -> String {
    match version {
        0x0300 => "SSL 3.0".into(),
        0x0301 => "TLS 1.0".into(),
        0x0302 => "TLS 1.1".into(),
        other => format!("version 0x{other:04x}"),
    }
}

/// Non-blocking reads from a socket for rustls, keeping the first bytes in `head`.
struct TryRead<'a> {
    tcp: &'a TcpStream,
    head: Option<&'a mut Vec<u8>>,
}

impl Read for TryRead<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.tcp.try_read(buf)?;
        if let Some(head) = self.head.as_deref_mut() {
            let room = HELLO_HEAD_LEN.saturating_sub(head.len()).min(n);
            head.extend_from_slice(&buf[..room]);
        }
        Ok(n)
    }
}

fn read_failed(e: io::Error) -> Failure {
    match e.kind() {
        io::ErrorKind::UnexpectedEof
        | io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe => (HandshakeFailure::PeerClosed, e.to_string()),
        _ => (
            HandshakeFailure::Other,
            format!("reading from the client: {e}"),
        ),
    }
}

fn write_failed(e: io::Error) -> Failure {
    match e.kind() {
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe => (HandshakeFailure::PeerClosed, e.to_string()),
        _ => (
            HandshakeFailure::Other,
            format!("writing to the client: {e}"),
        ),
    }
}

/// The failure class of a rustls error, and a detail line that names what the client did.
pub(crate) fn classify(error: &rustls::Error) -> Failure {
    use HandshakeFailure as F;
    let class = match error {
        rustls::Error::AlertReceived(
            AlertDescription::CloseNotify | AlertDescription::UserCanceled,
        ) => F::PeerClosed,
        rustls::Error::AlertReceived(alert) => {
            return (
                F::ClientAlert,
                format!("the client sent the alert {}", alert_name(*alert)),
            );
        }
        rustls::Error::PeerIncompatible(
            PeerIncompatible::NoCipherSuitesInCommon
            | PeerIncompatible::NoKxGroupsInCommon
            | PeerIncompatible::NoEcPointFormatsInCommon
            | PeerIncompatible::NullCompressionRequired,
        ) => F::NoSharedCipherSuite,
        rustls::Error::PeerIncompatible(
            PeerIncompatible::NoSignatureSchemesInCommon
            | PeerIncompatible::SignatureAlgorithmsExtensionRequired,
        ) => F::NoSignatureScheme,
        rustls::Error::PeerIncompatible(
            PeerIncompatible::Tls12NotOffered
            | PeerIncompatible::Tls12NotOfferedOrEnabled
            | PeerIncompatible::SupportedVersionsExtensionRequired,
        ) => F::UnsupportedVersion,
        rustls::Error::PeerMisbehaved(
            PeerMisbehaved::ServerNameMustContainOneHostName
            | PeerMisbehaved::ServerNameDifferedOnRetry,
        ) => {
            return (
                F::BadSni,
                "the server_name extension is not one valid DNS host name (RFC 6066 section 3)"
                    .into(),
            );
        }
        rustls::Error::InvalidCertificate(_)
        | rustls::Error::NoCertificatesPresented
        | rustls::Error::InvalidCertRevocationList(_) => F::ClientCertificate,
        rustls::Error::InvalidMessage(InvalidMessage::InvalidContentType) => F::MalformedTls,
        rustls::Error::InvalidMessage(_)
        | rustls::Error::PeerMisbehaved(_)
        | rustls::Error::DecryptError
        | rustls::Error::PeerSentOversizedRecord
        | rustls::Error::InappropriateMessage { .. }
        | rustls::Error::InappropriateHandshakeMessage { .. } => F::MalformedTls,
        _ => F::Other,
    };
    (class, error.to_string())
}

/// The RFC 8446 section 6 name of an alert (`unknown_ca`), for log lines.
pub(crate) fn alert_name(alert: AlertDescription) -> String {
    use AlertDescription as A;
    let name = match alert {
        A::CloseNotify => "close_notify",
        A::UnexpectedMessage => "unexpected_message",
        A::BadRecordMac => "bad_record_mac",
        A::DecryptionFailed => "decryption_failed",
        A::RecordOverflow => "record_overflow",
        A::DecompressionFailure => "decompression_failure",
        A::HandshakeFailure => "handshake_failure",
        A::NoCertificate => "no_certificate",
        A::BadCertificate => "bad_certificate",
        A::UnsupportedCertificate => "unsupported_certificate",
        A::CertificateRevoked => "certificate_revoked",
        A::CertificateExpired => "certificate_expired",
        A::CertificateUnknown => "certificate_unknown",
        A::IllegalParameter => "illegal_parameter",
        A::UnknownCA => "unknown_ca",
        A::AccessDenied => "access_denied",
        A::DecodeError => "decode_error",
        A::DecryptError => "decrypt_error",
        A::ExportRestriction => "export_restriction",
        A::ProtocolVersion => "protocol_version",
        A::InsufficientSecurity => "insufficient_security",
        A::InternalError => "internal_error",
        A::InappropriateFallback => "inappropriate_fallback",
        A::UserCanceled => "user_canceled",
        A::NoRenegotiation => "no_renegotiation",
        A::MissingExtension => "missing_extension",
        A::UnsupportedExtension => "unsupported_extension",
        A::CertificateUnobtainable => "certificate_unobtainable",
        A::UnrecognisedName => "unrecognized_name",
        A::BadCertificateStatusResponse => "bad_certificate_status_response",
        A::BadCertificateHashValue => "bad_certificate_hash_value",
        A::UnknownPSKIdentity => "unknown_psk_identity",
        A::CertificateRequired => "certificate_required",
        A::NoApplicationProtocol => "no_application_protocol",
        A::EncryptedClientHelloRequired => "ech_required",
        other => return format!("{other:?} ({})", u8::from(other)),
    };
    name.into()
}

/// A session's TLS stream that writes what rustls queues while reading, and an alert on a
/// read error (see the module docs).
#[derive(Debug)]
pub(crate) struct Alerting<S> {
    inner: S,
    /// A read error held back until the alert it calls for has been written.
    failed: Option<io::Error>,
}

impl<S> Alerting<S> {
    pub(crate) fn new(inner: S) -> Alerting<S> {
        Alerting {
            inner,
            failed: None,
        }
    }

    /// The wrapped stream.
    pub(crate) fn get_ref(&self) -> &S {
        &self.inner
    }

    pub(crate) fn into_inner(self) -> S {
        self.inner
    }
}

/// A session's TLS stream, boxed: moving it between the nested futures of a session then moves
/// a pointer, not the stream, and the compiler no longer keeps several copies of it in every
/// connection's task (which made the task about 14 KiB).
pub(crate) type Tls = Box<TlsStream<TcpStream>>;

/// The socket and rustls connection of a session stream.
pub(crate) trait HasConnection {
    fn parts(&mut self) -> (&mut TcpStream, &mut ServerConnection);
}

impl HasConnection for Tls {
    fn parts(&mut self) -> (&mut TcpStream, &mut ServerConnection) {
        self.get_mut()
    }
}

/// Writes what rustls queued. (tokio-rustls' `poll_flush` refuses to once the connection has
/// failed, which is when the alert is queued.)
fn poll_write_queued<S: HasConnection>(
    stream: &mut S,
    cx: &mut Context<'_>,
) -> Poll<io::Result<()>> {
    let (tcp, conn) = stream.parts();
    while conn.wants_write() {
        match conn.write_tls(&mut PollWriter {
            tcp: &mut *tcp,
            cx: &mut *cx,
        }) {
            Ok(0) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Poll::Pending,
            Err(e) => return Poll::Ready(Err(e)),
        }
    }
    Poll::Ready(Ok(()))
}

/// A blocking-style writer over a polled socket: `Pending` becomes `WouldBlock`.
struct PollWriter<'a, 'b> {
    tcp: &'a mut TcpStream,
    cx: &'a mut Context<'b>,
}

impl io::Write for PollWriter<'_, '_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match Pin::new(&mut *self.tcp).poll_write(self.cx, buf) {
            Poll::Ready(result) => result,
            Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<S> AsyncRead for Alerting<S>
where
    S: AsyncRead + AsyncWrite + HasConnection + Unpin,
{
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.failed.is_none() {
            match Pin::new(&mut this.inner).poll_read(cx, buf) {
                Poll::Pending => {
                    if let Poll::Ready(Err(e)) = poll_write_queued(&mut this.inner, cx) {
                        return Poll::Ready(Err(e));
                    }
                    return Poll::Pending;
                }
                Poll::Ready(Err(e)) => {
                    let tls = e
                        .get_ref()
                        .and_then(|inner| inner.downcast_ref::<rustls::Error>());
                    let Some(tls) = tls else {
                        return Poll::Ready(Err(e));
                    };
                    // Encrypted by now: close_notify is the one alert rustls lets us send, and a
                    // no-op when rustls queued a fatal alert itself. A client that sent a fatal
                    // alert is closing already.
                    if !matches!(tls, rustls::Error::AlertReceived(_)) {
                        this.inner.parts().1.send_close_notify();
                    }
                    this.failed = Some(e);
                }
                ready => return ready,
            }
        }
        // What rustls queued (its alert, or the close_notify) goes out before the error.
        if poll_write_queued(&mut this.inner, cx).is_pending() {
            return Poll::Pending;
        }
        let error = this
            .failed
            .take()
            .unwrap_or_else(|| io::ErrorKind::Other.into());
        // Later reads see the same error, without writing again.
        this.failed = Some(io::Error::new(error.kind(), error.to_string()));
        Poll::Ready(Err(error))
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Alerting<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_version_joins_fragments() {
        let whole = [0x16, 3, 1, 0, 6, 1, 0, 0, 2, 3, 1];
        assert_eq!(legacy_version(&whole), Some(0x0301));
        let mut split = Vec::new();
        for byte in [1u8, 0, 0, 2, 3, 2] {
            split.extend_from_slice(&[0x16, 3, 1, 0, 1, byte]);
        }
        assert_eq!(legacy_version(&split), Some(0x0302));
        assert_eq!(legacy_version(&[0x16, 3, 1, 0, 9, 1, 0]), None);
        assert_eq!(legacy_version(&[0x17, 3, 3, 0, 6, 1, 0, 0, 2, 3, 3]), None);
    }

    #[test]
    fn record_types_walks_headers() {
        let bytes = [
            0x16, 3, 3, 0, 1, 0xaa, 0x14, 3, 3, 0, 1, 1, 0x15, 3, 3, 0, 2, 2, 10,
        ];
        assert_eq!(record_types(&bytes), vec![0x16, 0x14, 0x15]);
    }

    #[test]
    fn plaintext_alert_bytes() {
        assert_eq!(
            plaintext_alert(AlertDescription::ProtocolVersion),
            [0x15, 3, 3, 0, 2, 2, 70]
        );
    }
}

//! The device wire protocol: the frames a device and the gateway exchange inside their TLS
//! session.
//!
//! Every message is one frame: a big-endian `u32` length, then a `u8` message type, a
//! big-endian `u32` message id and the payload. `docs/protocol.md` is the reference: the byte
//! layout of every message, the session rules (HELLO first, takeover, heartbeats, errors), the
//! numbered [`ErrorCode`]s and [`GoodbyeReason`]s, and the order in which decoding errors are
//! reported. The firmware's C codec implements the same layout; both run the shared test
//! vectors in `wasmbed-protocol/tests/vectors/frames.txt`.
//!
//! This module is the codec only. It checks that a frame is well formed (its length, its type,
//! the exact size and content of its payload), not who sent it or when: the session layer
//! checks direction, order and the protocol version.
//!
//! * [`FrameCodec`] is a [`tokio_util::codec`] `Decoder` and `Encoder` for
//!   [`Framed`](tokio_util::codec::Framed) streams. It reads the 4-byte length first and rejects
//!   a length outside `5..=max_frame_len` before it reserves any memory for the frame.
//! * [`encode_frame`] and [`decode_frame`] do the same on plain byte slices.
//!
//! # Example
//!
//! ```
//! use bytes::BytesMut;
//! use tokio_util::codec::{Decoder, Encoder};
//! use wasmbed_protocol::{Frame, FrameCodec, Message, MessageType, PROTOCOL_VERSION};
//!
//! let hello = Frame {
//!     id: 1,
//!     message: Message::Hello {
//!         version: PROTOCOL_VERSION,
//!         device_id: "dev-01".to_string(),
//!         firmware_version: "1.0.0".to_string(),
//!     },
//! };
//!
//! let mut codec = FrameCodec::default(); // max_frame_len 4096
//! let mut wire = BytesMut::new();
//! codec.encode(&hello, &mut wire)?;
//! assert_eq!(
//!     &wire[..],
//!     b"\x00\x00\x00\x13\x01\x00\x00\x00\x01\x01\x06dev-01\x051.0.0"
//! );
//!
//! // The bytes arrive in pieces: the decoder waits for the whole frame.
//! let mut received = BytesMut::from(&wire[..10]);
//! assert_eq!(codec.decode(&mut received)?, None);
//! received.extend_from_slice(&wire[10..]);
//! let frame = codec.decode(&mut received)?.expect("a whole frame");
//! assert_eq!(frame, hello);
//! assert_eq!(frame.message.message_type(), MessageType::Hello);
//!
//! // A length above max_frame_len is rejected as soon as its 4 bytes are read.
//! let err = codec.decode(&mut BytesMut::from(&b"\xff\xff\xff\xff"[..])).unwrap_err();
//! assert_eq!(err.kind(), "frame_too_large");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::io;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

/// The protocol version this codec speaks, sent in HELLO and HELLO_ACK.
///
/// The codec accepts any version byte; the session answers a HELLO with another version with
/// ERROR [`ErrorCode::UnsupportedVersion`] (`docs/protocol.md`, "Session rules").
pub const PROTOCOL_VERSION: u8 = 1;

/// The default maximum frame length in bytes (message type + id + payload, without the 4-byte
/// length prefix).
///
/// A frame of this length occupies `4 + 4096` bytes on the wire.
pub const DEFAULT_MAX_FRAME_LEN: u32 = 4096;

/// The smallest valid frame length in bytes: the message type (1) and the message id (4), with
/// an empty payload.
pub const MIN_FRAME_LEN: u32 = 5;

/// Size in bytes of the big-endian `u32` length that precedes every frame.
pub const LENGTH_PREFIX_LEN: usize = 4;

/// Maximum length of a device id in bytes (a device id is 1 to 64 bytes of `[A-Za-z0-9._-]`).
pub const MAX_DEVICE_ID_LEN: usize = 64;

/// Maximum length of a HELLO's firmware version in bytes (0 to 64 bytes of UTF-8).
pub const MAX_FIRMWARE_LEN: usize = 64;

/// Length in bytes of the largest valid HELLO frame: type and id (5), version (1), device id
/// length and 64 bytes of device id, firmware length and 64 bytes of firmware version.
///
/// A `max_frame_len` below this (136) can refuse a valid HELLO, so a configuration should not
/// go below it.
pub const MAX_HELLO_FRAME_LEN: u32 =
    MIN_FRAME_LEN + 3 + MAX_DEVICE_ID_LEN as u32 + MAX_FIRMWARE_LEN as u32;

/// The type byte of a frame (`docs/protocol.md`, "Messages").
///
/// [`as_str`](MessageType::as_str) gives the snake_case name used in logs and as the value of
/// Prometheus labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
#[non_exhaustive]
pub enum MessageType {
    /// 0x01, device to gateway: the first frame of a session; protocol version, device id,
    /// firmware version.
    Hello = 0x01,
    /// 0x02, gateway to device: the answer to HELLO; protocol version, heartbeat interval,
    /// maximum frame length.
    HelloAck = 0x02,
    /// 0x03, device to gateway: the device is alive; its uptime.
    Heartbeat = 0x03,
    /// 0x04, gateway to device: the answer to HEARTBEAT; empty.
    HeartbeatAck = 0x04,
    /// 0x05, either direction: asks the peer to send the payload back in an ECHO_REPLY.
    Echo = 0x05,
    /// 0x06, either direction: the answer to ECHO, carrying its payload.
    EchoReply = 0x06,
    /// 0x07, either direction: opaque application bytes.
    Data = 0x07,
    /// 0x08, either direction: the sender closes the session; a reason.
    Goodbye = 0x08,
    /// 0x7f, gateway to device: the gateway refuses something and closes; a code and a message.
    Error = 0x7f,
}

impl MessageType {
    /// Every message type, in type-byte order.
    pub const ALL: [MessageType; 9] = [
        MessageType::Hello,
        MessageType::HelloAck,
        MessageType::Heartbeat,
        MessageType::HeartbeatAck,
        MessageType::Echo,
        MessageType::EchoReply,
        MessageType::Data,
        MessageType::Goodbye,
        MessageType::Error,
    ];

    /// The message type with this type byte, or `None` for a byte no type has (which a decoder
    /// reports as [`ProtocolError::UnknownType`]).
    pub const fn from_u8(b: u8) -> Option<Self> {
        Some(match b {
            0x01 => MessageType::Hello,
            0x02 => MessageType::HelloAck,
            0x03 => MessageType::Heartbeat,
            0x04 => MessageType::HeartbeatAck,
            0x05 => MessageType::Echo,
            0x06 => MessageType::EchoReply,
            0x07 => MessageType::Data,
            0x08 => MessageType::Goodbye,
            0x7f => MessageType::Error,
            _ => return None,
        })
    }

    /// The snake_case name: `hello`, `hello_ack`, `heartbeat`, `heartbeat_ack`, `echo`,
    /// `echo_reply`, `data`, `goodbye` or `error`.
    ///
    /// Used as a Prometheus label value and as the first word of the test vectors' text form.
    pub const fn as_str(self) -> &'static str {
        match self {
            MessageType::Hello => "hello",
            MessageType::HelloAck => "hello_ack",
            MessageType::Heartbeat => "heartbeat",
            MessageType::HeartbeatAck => "heartbeat_ack",
            MessageType::Echo => "echo",
            MessageType::EchoReply => "echo_reply",
            MessageType::Data => "data",
            MessageType::Goodbye => "goodbye",
            MessageType::Error => "error",
        }
    }
}

/// Writes [`as_str`](MessageType::as_str).
impl fmt::Display for MessageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A decoded message: the message type and its payload (`docs/protocol.md`, "Messages").
///
/// The codec checks that payloads are well formed, not the direction they travel in or whether
/// they are expected at this point of the session; that is the session's job.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Message {
    /// HELLO (0x01), device to gateway, the first frame of every session.
    Hello {
        /// The protocol version the device speaks; [`PROTOCOL_VERSION`] today. Any value
        /// decodes; the session refuses other versions.
        version: u8,
        /// The device's id: 1 to [`MAX_DEVICE_ID_LEN`] (64) bytes of `[A-Za-z0-9._-]`. With
        /// mTLS it must equal the device certificate's CN.
        device_id: String,
        /// The firmware version, free text: 0 to [`MAX_FIRMWARE_LEN`] (64) bytes of UTF-8.
        firmware_version: String,
    },
    /// HELLO_ACK (0x02), gateway to device, the answer to HELLO (same message id).
    HelloAck {
        /// The protocol version the gateway speaks.
        version: u8,
        /// How often the device sends HEARTBEAT, in seconds; at least 1. The gateway closes a
        /// session after 3 intervals without a frame.
        heartbeat_interval_secs: u16,
        /// The longest frame the gateway accepts, in bytes (type + id + payload, without the
        /// length prefix); at least [`MIN_FRAME_LEN`] (5).
        max_frame_len: u32,
    },
    /// HEARTBEAT (0x03), device to gateway.
    Heartbeat {
        /// Milliseconds since the device booted (wraps after about 49.7 days).
        uptime_ms: u32,
    },
    /// HEARTBEAT_ACK (0x04), gateway to device, the answer to HEARTBEAT (same message id).
    HeartbeatAck,
    /// ECHO (0x05), either direction: any bytes, 0 to `max_frame_len - 5`; the peer answers
    /// with an ECHO_REPLY carrying the same bytes and message id.
    Echo(Bytes),
    /// ECHO_REPLY (0x06), either direction: the bytes of the ECHO it answers.
    EchoReply(Bytes),
    /// DATA (0x07), either direction: opaque application bytes, 0 to `max_frame_len - 5`.
    Data(Bytes),
    /// GOODBYE (0x08), either direction: the sender closes the session.
    Goodbye {
        /// Why the session ends.
        reason: GoodbyeReason,
    },
    /// ERROR (0x7f), gateway to device: the gateway refuses something and closes the session.
    Error {
        /// What went wrong.
        code: ErrorCode,
        /// A description for people, UTF-8, any length that fits the frame.
        message: String,
    },
}

impl Message {
    /// The type byte this message is sent with.
    pub fn message_type(&self) -> MessageType {
        match self {
            Message::Hello { .. } => MessageType::Hello,
            Message::HelloAck { .. } => MessageType::HelloAck,
            Message::Heartbeat { .. } => MessageType::Heartbeat,
            Message::HeartbeatAck => MessageType::HeartbeatAck,
            Message::Echo(_) => MessageType::Echo,
            Message::EchoReply(_) => MessageType::EchoReply,
            Message::Data(_) => MessageType::Data,
            Message::Goodbye { .. } => MessageType::Goodbye,
            Message::Error { .. } => MessageType::Error,
        }
    }

    /// Payload length in bytes, without type, id or length prefix.
    fn payload_len(&self) -> usize {
        match self {
            Message::Hello {
                device_id,
                firmware_version,
                ..
            } => 3 + device_id.len() + firmware_version.len(),
            Message::HelloAck { .. } => HELLO_ACK_LEN,
            Message::Heartbeat { .. } => HEARTBEAT_LEN,
            Message::HeartbeatAck => 0,
            Message::Echo(b) | Message::EchoReply(b) | Message::Data(b) => b.len(),
            Message::Goodbye { .. } => GOODBYE_LEN,
            Message::Error { message, .. } => 2 + message.len(),
        }
    }
}

/// One frame: a message and its message id (`docs/protocol.md`, "Frame").
///
/// Each side numbers the requests it sends as it likes; a reply (HELLO_ACK, HEARTBEAT_ACK,
/// ECHO_REPLY, and ERROR caused by a frame) carries the id of the frame it answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The message id.
    pub id: u32,
    /// The message.
    pub message: Message,
}

/// Why a session ends: the `u8` payload of GOODBYE (`docs/protocol.md`, "Goodbye reasons").
///
/// Values without a name decode as [`Other`](GoodbyeReason::Other) and encode back to the same
/// byte, so a newer peer's reasons pass through. Decoding never produces `Other` with a value
/// that has a name (`Other(2)` encodes as 2, which decodes as
/// [`TakenOver`](GoodbyeReason::TakenOver)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GoodbyeReason {
    /// 0: an ordinary close (the device restarts, an operator asked for it).
    Normal,
    /// 1: the gateway is shutting down; the device reconnects later, with backoff.
    Shutdown,
    /// 2: a newer session for the same device id replaced this one.
    TakenOver,
    /// 3: no frame arrived for 3 heartbeat intervals.
    HeartbeatTimeout,
    /// 4: the peer broke the protocol (sent by the device to a misbehaving gateway; the
    /// gateway sends ERROR instead).
    ProtocolError,
    /// 5: the device's certificate is no longer accepted: after a reload of the client CAs or
    /// CRLs it is revoked or no longer issued by a trusted CA, or a resumed session's
    /// certificate has expired. Reconnecting with it fails; the device backs off to its
    /// longest delay.
    CredentialsRevoked,
    /// Any other value.
    Other(u8),
}

impl GoodbyeReason {
    /// The reason's byte on the wire.
    pub const fn to_u8(self) -> u8 {
        match self {
            GoodbyeReason::Normal => 0,
            GoodbyeReason::Shutdown => 1,
            GoodbyeReason::TakenOver => 2,
            GoodbyeReason::HeartbeatTimeout => 3,
            GoodbyeReason::ProtocolError => 4,
            GoodbyeReason::CredentialsRevoked => 5,
            GoodbyeReason::Other(b) => b,
        }
    }

    /// The reason with this byte; [`Other`](GoodbyeReason::Other) for values 6 to 255.
    pub const fn from_u8(b: u8) -> Self {
        match b {
            0 => GoodbyeReason::Normal,
            1 => GoodbyeReason::Shutdown,
            2 => GoodbyeReason::TakenOver,
            3 => GoodbyeReason::HeartbeatTimeout,
            4 => GoodbyeReason::ProtocolError,
            5 => GoodbyeReason::CredentialsRevoked,
            b => GoodbyeReason::Other(b),
        }
    }
}

/// What went wrong: the big-endian `u16` code of ERROR (`docs/protocol.md`, "Error codes").
///
/// Values without a name decode as [`Other`](ErrorCode::Other) and encode back to the same
/// value. Decoding never produces `Other` with a value that has a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// 1: a frame is malformed: a length below 5, an unknown message type, a payload of the
    /// wrong size or content.
    MalformedFrame,
    /// 2: a frame's length is above the gateway's `max_frame_len`.
    FrameTooLarge,
    /// 3: a well-formed message the gateway does not accept now: a first frame that is not
    /// HELLO, a second HELLO, or a gateway-to-device type (HELLO_ACK, HEARTBEAT_ACK, ERROR)
    /// sent by a device.
    UnexpectedMessage,
    /// 4: the HELLO's protocol version is not one the gateway speaks.
    UnsupportedVersion,
    /// 5: the HELLO's device id is empty, longer than 64 bytes, or has a byte outside
    /// `[A-Za-z0-9._-]`.
    InvalidDeviceId,
    /// 6: with mTLS, the device certificate's CN differs from the HELLO's device id.
    DeviceIdMismatch,
    /// 7: no HELLO arrived within the hello timeout.
    HelloTimeout,
    /// 8: the gateway is at its connection limit, or the device's outbound queue is full.
    Overloaded,
    /// 9: the gateway failed internally.
    Internal,
    /// Any other value (including 0).
    Other(u16),
}

impl ErrorCode {
    /// The code's value on the wire.
    pub const fn to_u16(self) -> u16 {
        match self {
            ErrorCode::MalformedFrame => 1,
            ErrorCode::FrameTooLarge => 2,
            ErrorCode::UnexpectedMessage => 3,
            ErrorCode::UnsupportedVersion => 4,
            ErrorCode::InvalidDeviceId => 5,
            ErrorCode::DeviceIdMismatch => 6,
            ErrorCode::HelloTimeout => 7,
            ErrorCode::Overloaded => 8,
            ErrorCode::Internal => 9,
            ErrorCode::Other(v) => v,
        }
    }

    /// The code with this value; [`Other`](ErrorCode::Other) for 0 and for 10 to 65535.
    pub const fn from_u16(v: u16) -> Self {
        match v {
            1 => ErrorCode::MalformedFrame,
            2 => ErrorCode::FrameTooLarge,
            3 => ErrorCode::UnexpectedMessage,
            4 => ErrorCode::UnsupportedVersion,
            5 => ErrorCode::InvalidDeviceId,
            6 => ErrorCode::DeviceIdMismatch,
            7 => ErrorCode::HelloTimeout,
            8 => ErrorCode::Overloaded,
            9 => ErrorCode::Internal,
            v => ErrorCode::Other(v),
        }
    }
}

/// A frame that cannot be decoded or encoded, or a failed read or write.
///
/// Decoding checks, in this order (`docs/protocol.md`, "Decoding"): the length prefix
/// ([`FrameTooShort`](ProtocolError::FrameTooShort), [`FrameTooLarge`](ProtocolError::FrameTooLarge),
/// reported as soon as the 4 length bytes are read), then, once the whole frame is there, the
/// type byte ([`UnknownType`](ProtocolError::UnknownType)) and the payload
/// ([`Malformed`](ProtocolError::Malformed)). Incomplete input is not an error: the decoders
/// return `None` and wait for more bytes.
///
/// The session answers a decoding error with ERROR [`error_code`](ProtocolError::error_code),
/// message id [`frame_id`](ProtocolError::frame_id) (0 when unknown), and closes the
/// connection: after a length error the stream cannot be resynchronised.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// The length prefix is below [`MIN_FRAME_LEN`] (5): no room for the type and id.
    #[error("frame length {len} is below the minimum of 5 bytes (message type and id)")]
    FrameTooShort {
        /// The length prefix.
        len: u32,
    },
    /// The length prefix (or, when encoding, the length of the frame) is above the maximum.
    #[error("frame length {len} is above the maximum of {max} bytes")]
    FrameTooLarge {
        /// The length: the prefix read, or type + id + payload of the frame to encode
        /// (`u32::MAX` if it does not fit a `u32`).
        len: u32,
        /// The codec's `max_frame_len`.
        max: u32,
    },
    /// The type byte is not one of [`MessageType::ALL`].
    #[error("unknown message type 0x{message_type:02x} in frame {id}")]
    UnknownType {
        /// The type byte.
        message_type: u8,
        /// The frame's message id.
        id: u32,
    },
    /// The payload does not have the size or content its message type requires; when
    /// encoding, the message holds a value its peer would reject (an invalid device id, a
    /// firmware version longer than 64 bytes, a heartbeat interval of 0, a `max_frame_len`
    /// below 5).
    #[error("malformed {message_type} frame {id}: {reason}")]
    Malformed {
        /// The frame's message type.
        message_type: MessageType,
        /// The frame's message id.
        id: u32,
        /// What is wrong, in a few lower-case words; for people, not a stable interface.
        reason: &'static str,
    },
    /// Reading or writing the connection failed, or it closed in the middle of a frame
    /// ([`io::ErrorKind::UnexpectedEof`]).
    #[error("i/o error on the device connection: {0}")]
    Io(#[from] io::Error),
}

impl ProtocolError {
    /// The code the session puts on the ERROR it answers this error with.
    ///
    /// [`FrameTooLarge`](ProtocolError::FrameTooLarge) gives [`ErrorCode::FrameTooLarge`]; a
    /// HELLO whose device id is empty, longer than 64 bytes or has a byte outside
    /// `[A-Za-z0-9._-]` gives [`ErrorCode::InvalidDeviceId`]; other length, type and payload
    /// errors give [`ErrorCode::MalformedFrame`]; [`Io`](ProtocolError::Io) gives
    /// [`ErrorCode::Internal`].
    pub fn error_code(&self) -> ErrorCode {
        match self {
            ProtocolError::FrameTooLarge { .. } => ErrorCode::FrameTooLarge,
            ProtocolError::Malformed {
                message_type: MessageType::Hello,
                reason,
                ..
            } if DEVICE_ID_REASONS.contains(reason) => ErrorCode::InvalidDeviceId,
            ProtocolError::FrameTooShort { .. }
            | ProtocolError::UnknownType { .. }
            | ProtocolError::Malformed { .. } => ErrorCode::MalformedFrame,
            ProtocolError::Io(_) => ErrorCode::Internal,
        }
    }

    /// A snake_case label for metrics: `frame_too_short`, `frame_too_large`, `unknown_type`,
    /// `malformed` or `io`.
    pub fn kind(&self) -> &'static str {
        match self {
            ProtocolError::FrameTooShort { .. } => "frame_too_short",
            ProtocolError::FrameTooLarge { .. } => "frame_too_large",
            ProtocolError::UnknownType { .. } => "unknown_type",
            ProtocolError::Malformed { .. } => "malformed",
            ProtocolError::Io(_) => "io",
        }
    }

    /// The message id of the offending frame, when it was read: `Some` for
    /// [`UnknownType`](ProtocolError::UnknownType) and [`Malformed`](ProtocolError::Malformed),
    /// `None` for length and I/O errors (reply with id 0).
    pub fn frame_id(&self) -> Option<u32> {
        match self {
            ProtocolError::UnknownType { id, .. } | ProtocolError::Malformed { id, .. } => {
                Some(*id)
            }
            ProtocolError::FrameTooShort { .. }
            | ProtocolError::FrameTooLarge { .. }
            | ProtocolError::Io(_) => None,
        }
    }
}

/// The [`tokio_util::codec`] codec for device sessions: decodes [`Frame`]s, encodes
/// [`Frame`]s and `&Frame`s.
///
/// Holds the maximum frame length (type + id + payload, without the 4-byte length prefix; the
/// default is [`DEFAULT_MAX_FRAME_LEN`], 4096). Use a value of at least
/// [`MAX_HELLO_FRAME_LEN`] (136) so every valid HELLO fits; below [`MIN_FRAME_LEN`] every
/// frame is refused.
///
/// Decoding reads the length prefix first and returns
/// [`FrameTooShort`](ProtocolError::FrameTooShort) or
/// [`FrameTooLarge`](ProtocolError::FrameTooLarge) as soon as its 4 bytes are in, before
/// reserving any memory; it reserves at most `4 + max_frame_len` bytes for a frame. Only a
/// whole frame is decoded; its bytes are removed from the buffer even when its type or payload
/// is invalid, so a caller could go on reading (the gateway closes instead). A length error
/// removes nothing. ECHO, ECHO_REPLY and DATA payloads are copied out of the read buffer, so
/// keeping one does not keep the buffer alive. At end of stream, a partial frame is [`ProtocolError::Io`] with
/// [`io::ErrorKind::UnexpectedEof`].
///
/// Encoding refuses what the peer must reject: a frame longer than `max_frame_len`
/// ([`FrameTooLarge`](ProtocolError::FrameTooLarge)) and the payload values listed at
/// [`Malformed`](ProtocolError::Malformed). On error nothing is written.
#[derive(Debug, Clone)]
pub struct FrameCodec {
    max_frame_len: u32,
}

impl FrameCodec {
    /// A codec that accepts and sends frames of up to `max_frame_len` bytes (type + id +
    /// payload, without the length prefix).
    pub fn new(max_frame_len: u32) -> Self {
        FrameCodec { max_frame_len }
    }

    /// The maximum frame length in bytes, without the length prefix.
    pub fn max_frame_len(&self) -> u32 {
        self.max_frame_len
    }
}

/// A codec with [`DEFAULT_MAX_FRAME_LEN`] (4096).
impl Default for FrameCodec {
    fn default() -> Self {
        FrameCodec::new(DEFAULT_MAX_FRAME_LEN)
    }
}

impl Decoder for FrameCodec {
    type Item = Frame;
    type Error = ProtocolError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, ProtocolError> {
        let Some(len) = frame_len(src, self.max_frame_len)? else {
            return Ok(None);
        };
        let end = LENGTH_PREFIX_LEN + len;
        if src.len() < end {
            // At most 4 + max_frame_len in all: the length was checked above.
            src.reserve(end - src.len());
            return Ok(None);
        }
        // Payloads are copied: a slice of the read buffer would keep all of it alive for as
        // long as the payload is kept (the registry keeps DATA).
        let frame = decode_body(&src[LENGTH_PREFIX_LEN..end]);
        src.advance(end);
        frame.map(Some)
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, ProtocolError> {
        if let Some(frame) = self.decode(src)? {
            return Ok(Some(frame));
        }
        if src.is_empty() {
            return Ok(None);
        }
        let what = match frame_len(src, self.max_frame_len) {
            Ok(Some(len)) => format!("{} of the {} bytes", src.len(), LENGTH_PREFIX_LEN + len),
            _ => format!("{} of the 4 length bytes", src.len()),
        };
        Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("connection closed in the middle of a frame, after {what}"),
        )
        .into())
    }
}

impl Encoder<&Frame> for FrameCodec {
    type Error = ProtocolError;

    fn encode(&mut self, frame: &Frame, dst: &mut BytesMut) -> Result<(), ProtocolError> {
        let len = checked_len(frame, self.max_frame_len)?;
        dst.reserve(LENGTH_PREFIX_LEN + len);
        write_frame(frame, len, dst);
        Ok(())
    }
}

impl Encoder<Frame> for FrameCodec {
    type Error = ProtocolError;

    fn encode(&mut self, frame: Frame, dst: &mut BytesMut) -> Result<(), ProtocolError> {
        self.encode(&frame, dst)
    }
}

/// Encodes one frame, length prefix included, into a new buffer of exactly its size.
///
/// # Errors
///
/// [`ProtocolError::Malformed`] for a message its peer must reject (see there), then
/// [`ProtocolError::FrameTooLarge`] if type + id + payload is longer than `max_frame_len`.
pub fn encode_frame(frame: &Frame, max_frame_len: u32) -> Result<Bytes, ProtocolError> {
    let len = checked_len(frame, max_frame_len)?;
    let mut dst = BytesMut::with_capacity(LENGTH_PREFIX_LEN + len);
    write_frame(frame, len, &mut dst);
    Ok(dst.freeze())
}

/// Decodes the frame at the start of `buf`, and says how many bytes it took (length prefix
/// included); bytes after it are not looked at.
///
/// Returns `Ok(None)` when `buf` holds less than a whole frame and no error can be reported
/// yet: fewer than 4 bytes, or a valid length prefix and fewer than `4 + length` bytes. Payload
/// bytes are copied; strings are allocated. This is what the test vectors run, and what the C
/// codec is compared with.
///
/// # Errors
///
/// In the order of `docs/protocol.md` ("Decoding"): [`ProtocolError::FrameTooShort`] or
/// [`ProtocolError::FrameTooLarge`] once 4 bytes are there, then, once the whole frame is
/// there, [`ProtocolError::UnknownType`] or [`ProtocolError::Malformed`].
pub fn decode_frame(
    buf: &[u8],
    max_frame_len: u32,
) -> Result<Option<(Frame, usize)>, ProtocolError> {
    let Some(len) = frame_len(buf, max_frame_len)? else {
        return Ok(None);
    };
    let end = LENGTH_PREFIX_LEN + len;
    let Some(body) = buf.get(LENGTH_PREFIX_LEN..end) else {
        return Ok(None);
    };
    let frame = decode_body(body)?;
    Ok(Some((frame, end)))
}

/// Whether `id` is a valid device id: 1 to [`MAX_DEVICE_ID_LEN`] (64) bytes, each in
/// `[A-Za-z0-9._-]` (`docs/protocol.md`, "HELLO (0x01)").
pub fn is_valid_device_id(id: &str) -> bool {
    check_device_id(id.as_bytes()).is_ok()
}

// Payload sizes of the fixed-size messages.
const HELLO_ACK_LEN: usize = 7;
const HEARTBEAT_LEN: usize = 4;
const GOODBYE_LEN: usize = 1;
// Type byte and message id.
const HEADER_LEN: usize = MIN_FRAME_LEN as usize;

// Reasons for `ProtocolError::Malformed`. Those about the device id map to
// `ErrorCode::InvalidDeviceId`.
const EMPTY_DEVICE_ID: &str = "device id is empty";
const LONG_DEVICE_ID: &str = "device id is longer than 64 bytes";
const BAD_DEVICE_ID_BYTE: &str = "device id has a byte outside [A-Za-z0-9._-]";
const DEVICE_ID_REASONS: [&str; 3] = [EMPTY_DEVICE_ID, LONG_DEVICE_ID, BAD_DEVICE_ID_BYTE];
const LONG_FIRMWARE: &str = "firmware version is longer than 64 bytes";
const ZERO_HEARTBEAT_INTERVAL: &str = "heartbeat interval is 0";
const SMALL_MAX_FRAME_LEN: &str = "max frame length is below 5";

/// The frame length in `buf`'s length prefix, checked against the limits; `None` if `buf` has
/// fewer than 4 bytes.
fn frame_len(buf: &[u8], max_frame_len: u32) -> Result<Option<usize>, ProtocolError> {
    let Some(prefix) = buf.first_chunk::<LENGTH_PREFIX_LEN>() else {
        return Ok(None);
    };
    let len = u32::from_be_bytes(*prefix);
    if len < MIN_FRAME_LEN {
        return Err(ProtocolError::FrameTooShort { len });
    }
    if len > max_frame_len {
        return Err(ProtocolError::FrameTooLarge {
            len,
            max: max_frame_len,
        });
    }
    // u32 to usize is lossless on every target the gateway runs on (32 and 64 bits).
    Ok(Some(len as usize))
}

/// Decodes type, id and payload of a whole frame (`body` is the frame without its length
/// prefix, at least 5 bytes).
fn decode_body(body: &[u8]) -> Result<Frame, ProtocolError> {
    let (header, payload) = body.split_at(HEADER_LEN);
    let type_byte = header[0];
    let id = u32::from_be_bytes([header[1], header[2], header[3], header[4]]);
    let Some(message_type) = MessageType::from_u8(type_byte) else {
        return Err(ProtocolError::UnknownType {
            message_type: type_byte,
            id,
        });
    };
    let message =
        decode_payload(message_type, payload).map_err(|reason| ProtocolError::Malformed {
            message_type,
            id,
            reason,
        })?;
    Ok(Frame { id, message })
}

/// Reads a payload front to back; every read names what is missing if the payload ends.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, missing: &'static str) -> Result<&'a [u8], &'static str> {
        if self.0.len() < n {
            return Err(missing);
        }
        let (taken, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(taken)
    }

    fn u8(&mut self, missing: &'static str) -> Result<u8, &'static str> {
        Ok(self.take(1, missing)?[0])
    }
}

/// Checks that a payload has exactly `N` bytes.
fn exact<const N: usize>(payload: &[u8], reason: &'static str) -> Result<[u8; N], &'static str> {
    payload.try_into().map_err(|_| reason)
}

/// Decodes a payload; ECHO, ECHO_REPLY and DATA bytes are copied.
fn decode_payload(message_type: MessageType, payload: &[u8]) -> Result<Message, &'static str> {
    Ok(match message_type {
        MessageType::Hello => {
            let mut r = Reader(payload);
            let version = r.u8("payload ends before the protocol version")?;
            let id_len = r.u8("payload ends before the device id length")?;
            let id_len = usize::from(id_len);
            if id_len == 0 {
                return Err(EMPTY_DEVICE_ID);
            }
            if id_len > MAX_DEVICE_ID_LEN {
                return Err(LONG_DEVICE_ID);
            }
            let device_id = r.take(id_len, "payload ends inside the device id")?;
            check_device_id(device_id)?;
            let fw_len = r.u8("payload ends before the firmware version length")?;
            let fw_len = usize::from(fw_len);
            if fw_len > MAX_FIRMWARE_LEN {
                return Err(LONG_FIRMWARE);
            }
            let firmware = r.take(fw_len, "payload ends inside the firmware version")?;
            let firmware =
                std::str::from_utf8(firmware).map_err(|_| "firmware version is not UTF-8")?;
            if !r.0.is_empty() {
                return Err("bytes after the firmware version");
            }
            Message::Hello {
                version,
                // Checked above: ASCII only, so this never fails.
                device_id: std::str::from_utf8(device_id)
                    .map_err(|_| BAD_DEVICE_ID_BYTE)?
                    .to_owned(),
                firmware_version: firmware.to_owned(),
            }
        }
        MessageType::HelloAck => {
            let p: [u8; HELLO_ACK_LEN] = exact(payload, "payload is not exactly 7 bytes")?;
            let heartbeat_interval_secs = u16::from_be_bytes([p[1], p[2]]);
            let max_frame_len = u32::from_be_bytes([p[3], p[4], p[5], p[6]]);
            if heartbeat_interval_secs == 0 {
                return Err(ZERO_HEARTBEAT_INTERVAL);
            }
            if max_frame_len < MIN_FRAME_LEN {
                return Err(SMALL_MAX_FRAME_LEN);
            }
            Message::HelloAck {
                version: p[0],
                heartbeat_interval_secs,
                max_frame_len,
            }
        }
        MessageType::Heartbeat => Message::Heartbeat {
            uptime_ms: u32::from_be_bytes(exact(payload, "payload is not exactly 4 bytes")?),
        },
        MessageType::HeartbeatAck => {
            exact::<0>(payload, "payload is not empty")?;
            Message::HeartbeatAck
        }
        MessageType::Echo => Message::Echo(Bytes::copy_from_slice(payload)),
        MessageType::EchoReply => Message::EchoReply(Bytes::copy_from_slice(payload)),
        MessageType::Data => Message::Data(Bytes::copy_from_slice(payload)),
        MessageType::Goodbye => {
            let [reason] = exact(payload, "payload is not exactly 1 byte")?;
            Message::Goodbye {
                reason: GoodbyeReason::from_u8(reason),
            }
        }
        MessageType::Error => {
            let mut r = Reader(payload);
            let code = r.take(2, "payload ends inside the error code")?;
            let message = std::str::from_utf8(r.0).map_err(|_| "error message is not UTF-8")?;
            Message::Error {
                code: ErrorCode::from_u16(u16::from_be_bytes([code[0], code[1]])),
                message: message.to_owned(),
            }
        }
    })
}

fn check_device_id(id: &[u8]) -> Result<(), &'static str> {
    if id.is_empty() {
        return Err(EMPTY_DEVICE_ID);
    }
    if id.len() > MAX_DEVICE_ID_LEN {
        return Err(LONG_DEVICE_ID);
    }
    if !id
        .iter()
        .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    {
        return Err(BAD_DEVICE_ID_BYTE);
    }
    Ok(())
}

/// Checks that `frame` may be sent with this `max_frame_len`, and returns its length (type +
/// id + payload).
fn checked_len(frame: &Frame, max_frame_len: u32) -> Result<usize, ProtocolError> {
    let message_type = frame.message.message_type();
    let malformed = |reason| ProtocolError::Malformed {
        message_type,
        id: frame.id,
        reason,
    };
    match &frame.message {
        Message::Hello {
            device_id,
            firmware_version,
            ..
        } => {
            check_device_id(device_id.as_bytes()).map_err(malformed)?;
            if firmware_version.len() > MAX_FIRMWARE_LEN {
                return Err(malformed(LONG_FIRMWARE));
            }
        }
        Message::HelloAck {
            heartbeat_interval_secs,
            max_frame_len,
            ..
        } => {
            if *heartbeat_interval_secs == 0 {
                return Err(malformed(ZERO_HEARTBEAT_INTERVAL));
            }
            if *max_frame_len < MIN_FRAME_LEN {
                return Err(malformed(SMALL_MAX_FRAME_LEN));
            }
        }
        _ => {}
    }
    let len = HEADER_LEN.saturating_add(frame.message.payload_len());
    match u32::try_from(len) {
        Ok(len32) if len32 <= max_frame_len => Ok(len),
        _ => Err(ProtocolError::FrameTooLarge {
            len: u32::try_from(len).unwrap_or(u32::MAX),
            max: max_frame_len,
        }),
    }
}

/// Writes a frame that [`checked_len`] accepted; `len` is what it returned.
fn write_frame(frame: &Frame, len: usize, dst: &mut BytesMut) {
    // Fits: checked_len compared it with a u32 maximum.
    dst.put_u32(len as u32);
    dst.put_u8(frame.message.message_type() as u8);
    dst.put_u32(frame.id);
    match &frame.message {
        Message::Hello {
            version,
            device_id,
            firmware_version,
        } => {
            dst.put_u8(*version);
            // At most 64 bytes each: checked by checked_len.
            dst.put_u8(device_id.len() as u8);
            dst.put_slice(device_id.as_bytes());
            dst.put_u8(firmware_version.len() as u8);
            dst.put_slice(firmware_version.as_bytes());
        }
        Message::HelloAck {
            version,
            heartbeat_interval_secs,
            max_frame_len,
        } => {
            dst.put_u8(*version);
            dst.put_u16(*heartbeat_interval_secs);
            dst.put_u32(*max_frame_len);
        }
        Message::Heartbeat { uptime_ms } => dst.put_u32(*uptime_ms),
        Message::HeartbeatAck => {}
        Message::Echo(b) | Message::EchoReply(b) | Message::Data(b) => dst.put_slice(b),
        Message::Goodbye { reason } => dst.put_u8(reason.to_u8()),
        Message::Error { code, message } => {
            dst.put_u16(code.to_u16());
            dst.put_slice(message.as_bytes());
        }
    }
}

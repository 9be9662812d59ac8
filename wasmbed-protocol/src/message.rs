//! The message model: message types, messages and frames (`docs/protocol.md`, "Messages").

use alloc::string::String;
use core::fmt;

use bytes::Bytes;

use crate::code::{ErrorCode, GoodbyeReason};
#[cfg(doc)]
use crate::{DeviceId, MAX_DEVICE_ID_LEN, MIN_FRAME_LEN};

/// The protocol version this codec speaks, sent in HELLO and HELLO_ACK.
///
/// The codec accepts any version byte; the session answers a HELLO with another version with
/// ERROR [`ErrorCode::UnsupportedVersion`] (`docs/protocol.md`, "Session rules").
pub const PROTOCOL_VERSION: u8 = 1;

/// Maximum length of a HELLO's firmware version in bytes (0 to 64 bytes of UTF-8).
pub const MAX_FIRMWARE_LEN: usize = 64;

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
    /// Every message type, in type-byte order. A slice, not an array, so that a new type does
    /// not change its type.
    pub const ALL: &'static [MessageType] = &[
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
    /// reports as [`ProtocolError::UnknownType`](crate::ProtocolError::UnknownType)).
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
        /// The device's id, following the [`DeviceId`] rule (1 to [`MAX_DEVICE_ID_LEN`] bytes of
        /// `[A-Za-z0-9._-]`, no `..`, not starting with `.` or `-`): a decoded HELLO always
        /// holds a valid id, and encoding refuses an invalid one. A `String` rather than a
        /// [`DeviceId`] so that a test or a peer can build the HELLO a broken device would
        /// send and see it refused. With mTLS it must equal the device certificate's CN.
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

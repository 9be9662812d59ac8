//! The error taxonomy of the codec: what can be wrong with a frame, and what the session
//! answers it with.

#[cfg(feature = "std")]
use std::io;

use crate::code::ErrorCode;
use crate::device_id::DEVICE_ID_REASONS;
use crate::message::MessageType;
#[cfg(doc)]
use crate::{DeviceId, MIN_FRAME_LEN};

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
    /// ([`io::ErrorKind::UnexpectedEof`]). Only with the `std` feature; the I/O error is the
    /// [`source`](core::error::Error::source), not repeated in the message.
    #[cfg(feature = "std")]
    #[error("i/o error on the device connection")]
    Io(#[from] io::Error),
}

impl ProtocolError {
    /// The code the session puts on the ERROR it answers this error with.
    ///
    /// [`FrameTooLarge`](ProtocolError::FrameTooLarge) gives [`ErrorCode::FrameTooLarge`]; a
    /// HELLO whose device id breaks the [`DeviceId`] rule gives [`ErrorCode::InvalidDeviceId`];
    /// other length, type and payload errors give [`ErrorCode::MalformedFrame`]; `Io` (feature
    /// `std`) gives [`ErrorCode::Internal`].
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
            #[cfg(feature = "std")]
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
            #[cfg(feature = "std")]
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
            ProtocolError::FrameTooShort { .. } | ProtocolError::FrameTooLarge { .. } => None,
            #[cfg(feature = "std")]
            ProtocolError::Io(_) => None,
        }
    }
}

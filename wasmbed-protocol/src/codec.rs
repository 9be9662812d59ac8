//! The [`tokio_util::codec`] `Decoder` and `Encoder` for device sessions (feature `codec`).

use std::format;
use std::io;

use bytes::{Buf, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use crate::error::ProtocolError;
use crate::message::Frame;
use crate::wire::{
    DEFAULT_MAX_FRAME_LEN, LENGTH_PREFIX_LEN, checked_len, decode_body, frame_len, write_frame,
};
#[cfg(doc)]
use crate::wire::{MAX_HELLO_FRAME_LEN, MIN_FRAME_LEN};

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
/// keeping one does not keep the buffer alive. At end of stream, a partial frame is
/// [`ProtocolError::Io`] with [`io::ErrorKind::UnexpectedEof`].
///
/// Encoding refuses what the peer must reject: a frame longer than `max_frame_len`
/// ([`FrameTooLarge`](ProtocolError::FrameTooLarge)) and the payload values listed at
/// [`Malformed`](ProtocolError::Malformed). On error nothing is written.
///
/// # Example
///
/// ```
/// use wasmbed_protocol::bytes::BytesMut;
/// use wasmbed_protocol::tokio_util::codec::{Decoder, Encoder};
/// use wasmbed_protocol::{Frame, FrameCodec, Message, MessageType};
///
/// let heartbeat = Frame { id: 2, message: Message::Heartbeat { uptime_ms: 1500 } };
/// let mut codec = FrameCodec::default(); // max_frame_len 4096
/// let mut wire = BytesMut::new();
/// codec.encode(&heartbeat, &mut wire)?;
///
/// // The bytes arrive in pieces: the decoder waits for the whole frame.
/// let mut received = BytesMut::from(&wire[..6]);
/// assert_eq!(codec.decode(&mut received)?, None);
/// received.extend_from_slice(&wire[6..]);
/// let frame = codec.decode(&mut received)?.expect("a whole frame");
/// assert_eq!(frame.message.message_type(), MessageType::Heartbeat);
///
/// // A length above max_frame_len is rejected as soon as its 4 bytes are read.
/// let err = codec.decode(&mut BytesMut::from(&b"\xff\xff\xff\xff"[..])).unwrap_err();
/// assert_eq!(err.kind(), "frame_too_large");
/// # Ok::<(), wasmbed_protocol::ProtocolError>(())
/// ```
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

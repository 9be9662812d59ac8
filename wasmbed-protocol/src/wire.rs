//! The frame codec on byte slices: length prefix, header and payloads, in both directions
//! (`docs/protocol.md`, "Frame", "Decoding" and "Encoding").

use alloc::borrow::ToOwned;

use bytes::{BufMut, Bytes, BytesMut};

use crate::code::{ErrorCode, GoodbyeReason};
use crate::device_id::{self, MAX_DEVICE_ID_LEN, Rule};
use crate::error::ProtocolError;
use crate::message::{Frame, MAX_FIRMWARE_LEN, Message, MessageType};

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

/// Length in bytes of the largest valid HELLO frame: type and id (5), version (1), device id
/// length and 64 bytes of device id, firmware length and 64 bytes of firmware version.
///
/// A `max_frame_len` below this (136) can refuse a valid HELLO, so a configuration should not
/// go below it.
pub const MAX_HELLO_FRAME_LEN: u32 =
    MIN_FRAME_LEN + 3 + MAX_DEVICE_ID_LEN as u32 + MAX_FIRMWARE_LEN as u32;

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

// Payload sizes of the fixed-size messages.
const HELLO_ACK_LEN: usize = 7;
const HEARTBEAT_LEN: usize = 4;
const GOODBYE_LEN: usize = 1;
// Type byte and message id.
const HEADER_LEN: usize = MIN_FRAME_LEN as usize;

// Reasons for `ProtocolError::Malformed`; those about the device id come from
// `device_id::Rule::reason`.
const LONG_FIRMWARE: &str = "firmware version is longer than 64 bytes";
const ZERO_HEARTBEAT_INTERVAL: &str = "heartbeat interval is 0";
const SMALL_MAX_FRAME_LEN: &str = "max frame length is below 5";

/// The frame length in `buf`'s length prefix, checked against the limits; `None` if `buf` has
/// fewer than 4 bytes.
pub(crate) fn frame_len(buf: &[u8], max_frame_len: u32) -> Result<Option<usize>, ProtocolError> {
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
pub(crate) fn decode_body(body: &[u8]) -> Result<Frame, ProtocolError> {
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
            // A length of 0 or above 64 breaks the rule before the bytes are there.
            if id_len == 0 {
                return Err(Rule::Empty.reason());
            }
            if id_len > MAX_DEVICE_ID_LEN {
                return Err(Rule::TooLong(id_len).reason());
            }
            let device_id = r.take(id_len, "payload ends inside the device id")?;
            device_id::check(device_id).map_err(Rule::reason)?;
            let fw_len = r.u8("payload ends before the firmware version length")?;
            let fw_len = usize::from(fw_len);
            if fw_len > MAX_FIRMWARE_LEN {
                return Err(LONG_FIRMWARE);
            }
            let firmware = r.take(fw_len, "payload ends inside the firmware version")?;
            let firmware =
                core::str::from_utf8(firmware).map_err(|_| "firmware version is not UTF-8")?;
            if !r.0.is_empty() {
                return Err("bytes after the firmware version");
            }
            Message::Hello {
                version,
                // Never an error: the rule accepted ASCII bytes only.
                device_id: core::str::from_utf8(device_id)
                    .map_err(|_| Rule::BadByte(0).reason())?
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
            let message = core::str::from_utf8(r.0).map_err(|_| "error message is not UTF-8")?;
            Message::Error {
                code: ErrorCode::from_u16(u16::from_be_bytes([code[0], code[1]])),
                message: message.to_owned(),
            }
        }
    })
}

/// Checks that `frame` may be sent with this `max_frame_len`, and returns its length (type +
/// id + payload).
pub(crate) fn checked_len(frame: &Frame, max_frame_len: u32) -> Result<usize, ProtocolError> {
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
            device_id::check(device_id.as_bytes()).map_err(|rule| malformed(rule.reason()))?;
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
    let len = HEADER_LEN.saturating_add(payload_len(&frame.message));
    match u32::try_from(len) {
        Ok(len32) if len32 <= max_frame_len => Ok(len),
        _ => Err(ProtocolError::FrameTooLarge {
            len: u32::try_from(len).unwrap_or(u32::MAX),
            max: max_frame_len,
        }),
    }
}

/// Writes a frame that [`checked_len`] accepted; `len` is what it returned.
pub(crate) fn write_frame(frame: &Frame, len: usize, dst: &mut BytesMut) {
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

/// Payload length in bytes, without type, id or length prefix.
fn payload_len(message: &Message) -> usize {
    match message {
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

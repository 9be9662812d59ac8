//! C against Rust on one input: both decoders, both encoders, every field.

use wasmbed_protocol::{Frame, Message, ProtocolError, decode_frame, encode_frame};

use super::codec::{
    CFrame, CMessage, DecodeError, Decoded, Kind, decode, decode_checked, encode_checked,
};

/// What both decoders said about an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verdict {
    /// Both decoded a frame of this type byte.
    Frame(u8),
    /// Both asked for more bytes.
    Incomplete,
    /// Both refused it with this kind.
    Error(Kind),
}

/// Decodes `input` with C and with [`decode_frame`], and, when both decode a frame, encodes it
/// again with C (encoding is canonical: the same bytes must come back).
///
/// # Errors
///
/// A description of the first difference, or of a C contract violation, with the input.
pub fn compare_decode(input: &[u8], max_frame_len: u32) -> Result<Verdict, String> {
    let shown = || {
        let head: Vec<u8> = input.iter().take(48).copied().collect();
        format!(
            "{} bytes {}{} (max_frame_len {max_frame_len})",
            input.len(),
            hex::encode(&head),
            if input.len() > head.len() { "..." } else { "" }
        )
    };
    let c = decode_checked(input, max_frame_len)
        .map_err(|v| format!("C broke its contract on {}: {v:?}", shown()))?;
    let rust = decode_frame(input, max_frame_len);
    let verdict = match (&c, &rust) {
        (Ok(c), Ok(Some((frame, used)))) => {
            same_frame(&c.frame, frame).map_err(|d| format!("on {}: {d}", shown()))?;
            if c.consumed != *used {
                return Err(format!(
                    "on {}: C consumed {}, Rust {used}",
                    shown(),
                    c.consumed
                ));
            }
            let again = encode_checked(&c.frame, max_frame_len)
                .map_err(|v| format!("C encoder broke its contract on {}: {v:?}", shown()))?;
            if again.as_deref() != Ok(&input[..*used]) {
                return Err(format!(
                    "on {}: C re-encodes its frame as {:?}",
                    shown(),
                    again.map(|b| hex::encode(&b))
                ));
            }
            Verdict::Frame(c.frame.message.type_byte())
        }
        (Err(DecodeError::Incomplete { .. }), Ok(None)) => Verdict::Incomplete,
        (Err(c), Err(r)) => {
            let kind = c
                .kind()
                .filter(|&k| Some(k) == Kind::of(r))
                .ok_or_else(|| format!("on {}: C error {c:?}, Rust error {r:?}", shown()))?;
            let same = match (c, r) {
                (
                    DecodeError::UnknownType {
                        message_type, id, ..
                    },
                    ProtocolError::UnknownType {
                        message_type: r_type,
                        id: r_id,
                    },
                ) => (*message_type, *id) == (*r_type, *r_id),
                (
                    DecodeError::Malformed {
                        message_type, id, ..
                    },
                    ProtocolError::Malformed {
                        message_type: r_type,
                        id: r_id,
                        ..
                    },
                ) => (*message_type, *id) == (*r_type as u8, *r_id),
                _ => true,
            };
            if !same {
                return Err(format!(
                    "on {}: C error {c:?}, Rust error {r:?}: type or id differ",
                    shown()
                ));
            }
            Verdict::Error(kind)
        }
        (c, r) => {
            return Err(format!(
                "disagree on {}: C {}, Rust {}",
                shown(),
                brief_c(c),
                brief_rust(r)
            ));
        }
    };
    Ok(verdict)
}

/// Encodes `frame` with C and with [`encode_frame`]: both must refuse it with the same kind, or
/// both give the same bytes, which both decoders turn back into `frame`.
///
/// Returns the kind when both refused it, `None` when both encoded it.
///
/// # Errors
///
/// A description of the first difference, or of a C contract violation, with the frame.
pub fn compare_encode(frame: &Frame, max_frame_len: u32) -> Result<Option<Kind>, String> {
    let cframe = CFrame::from(frame);
    let c = encode_checked(&cframe, max_frame_len)
        .map_err(|v| format!("C encoder broke its contract on {frame:?}: {v:?}"))?;
    let rust = encode_frame(frame, max_frame_len);
    match (c, rust) {
        (Ok(c), Ok(rust)) => {
            if c != rust[..] {
                return Err(format!(
                    "{frame:?} (max_frame_len {max_frame_len}): C encodes {}, Rust {}",
                    hex::encode(&c),
                    hex::encode(&rust)
                ));
            }
            match decode_frame(&c, max_frame_len) {
                Ok(Some((back, used))) if back == *frame && used == c.len() => {}
                other => return Err(format!("Rust decodes C's {frame:?} as {other:?}")),
            }
            let back = decode(&c, max_frame_len);
            if back.as_ref().map(|d| (&d.frame, d.consumed)) != Ok((&cframe, c.len())) {
                return Err(format!("C decodes Rust's {frame:?} as {back:?}"));
            }
            Ok(None)
        }
        (Err(c), Err(rust)) if c.kind().is_some() && c.kind() == Kind::of(&rust) => Ok(c.kind()),
        (c, rust) => Err(format!(
            "{frame:?} (max_frame_len {max_frame_len}): C {:?}, Rust {:?}",
            c.map(|b| hex::encode(&b)),
            rust.map(|b| hex::encode(&b))
        )),
    }
}

/// The first field that differs between C's frame and Rust's.
fn same_frame(c: &CFrame, rust: &Frame) -> Result<(), String> {
    let rust_type = rust.message.message_type() as u8;
    if c.message.type_byte() != rust_type {
        return Err(format!(
            "type: C 0x{:02x}, Rust 0x{rust_type:02x}",
            c.message.type_byte()
        ));
    }
    if c.id != rust.id {
        return Err(format!("id: C {}, Rust {}", c.id, rust.id));
    }
    let field = |name: &str, c: &dyn std::fmt::Debug, r: &dyn std::fmt::Debug| {
        let (c, r) = (format!("{c:?}"), format!("{r:?}"));
        if c == r {
            Ok(())
        } else {
            Err(format!("{name}: C {c}, Rust {r}"))
        }
    };
    match (&c.message, &rust.message) {
        (
            CMessage::Hello {
                version,
                device_id,
                firmware,
            },
            Message::Hello {
                version: r_version,
                device_id: r_device_id,
                firmware_version,
            },
        ) => {
            field("version", version, r_version)?;
            field("device_id", &bytes_text(device_id), r_device_id)?;
            field("firmware", &bytes_text(firmware), firmware_version)
        }
        (
            CMessage::HelloAck {
                version,
                heartbeat_interval_secs,
                max_frame_len,
            },
            Message::HelloAck {
                version: r_version,
                heartbeat_interval_secs: r_interval,
                max_frame_len: r_max,
            },
        ) => {
            field("version", version, r_version)?;
            field(
                "heartbeat_interval_secs",
                heartbeat_interval_secs,
                r_interval,
            )?;
            field("max_frame_len", max_frame_len, r_max)
        }
        (
            CMessage::Heartbeat { uptime_ms },
            Message::Heartbeat {
                uptime_ms: r_uptime,
            },
        ) => field("uptime_ms", uptime_ms, r_uptime),
        (CMessage::HeartbeatAck, Message::HeartbeatAck) => Ok(()),
        (CMessage::Echo(c), Message::Echo(r))
        | (CMessage::EchoReply(c), Message::EchoReply(r))
        | (CMessage::Data(c), Message::Data(r)) => {
            field("payload", &hex::encode(c), &hex::encode(r))
        }
        (CMessage::Goodbye { reason }, Message::Goodbye { reason: r_reason }) => {
            field("reason", reason, &r_reason.to_u8())
        }
        (
            CMessage::Error { code, message },
            Message::Error {
                code: r_code,
                message: r_message,
            },
        ) => {
            field("code", code, &r_code.to_u16())?;
            field("message", &bytes_text(message), r_message)
        }
        (c, r) => Err(format!("message: C {c:?}, Rust {r:?}")),
    }
}

/// Bytes as a `String` if they are UTF-8, else a marker that never equals a Rust string's
/// `Debug` form.
fn bytes_text(b: &[u8]) -> String {
    String::from_utf8(b.to_vec()).unwrap_or_else(|_| format!("<not UTF-8: {}>", hex::encode(b)))
}

fn brief_c(c: &Result<Decoded, DecodeError>) -> String {
    match c {
        Ok(d) => format!("frame {:?} ({} bytes)", d.frame, d.consumed),
        Err(e) => format!("{e:?}"),
    }
}

fn brief_rust(r: &Result<Option<(Frame, usize)>, ProtocolError>) -> String {
    match r {
        Ok(Some((frame, used))) => format!("frame {frame:?} ({used} bytes)"),
        Ok(None) => "incomplete".into(),
        Err(e) => format!("{e:?}"),
    }
}

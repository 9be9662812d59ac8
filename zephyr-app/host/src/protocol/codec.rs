//! Safe wrappers over the C frame codec: exact-length heap copies in, the header's contract
//! checked on every result (see [`Contract`]).

use std::ffi::{CStr, c_char, c_int};

use wasmbed_protocol::{ErrorCode, Frame, GoodbyeReason, Message, ProtocolError};

use super::ffi;

/// `WASMBED_PROTOCOL_EINCOMPLETE`.
pub const EINCOMPLETE: i32 = 1;
/// `WASMBED_PROTOCOL_ENOSPC`.
pub const ENOSPC: i32 = 6;

/// A decoding error kind: one for one the Rust `ProtocolError` variants the vectors name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// `WASMBED_PROTOCOL_EFRAME_TOO_SHORT`, `ProtocolError::FrameTooShort`.
    FrameTooShort,
    /// `WASMBED_PROTOCOL_EFRAME_TOO_LARGE`, `ProtocolError::FrameTooLarge`.
    FrameTooLarge,
    /// `WASMBED_PROTOCOL_EUNKNOWN_TYPE`, `ProtocolError::UnknownType`.
    UnknownType,
    /// `WASMBED_PROTOCOL_EMALFORMED`, `ProtocolError::Malformed`.
    Malformed,
}

impl Kind {
    /// Every kind.
    pub const ALL: [Kind; 4] = [
        Kind::FrameTooShort,
        Kind::FrameTooLarge,
        Kind::UnknownType,
        Kind::Malformed,
    ];

    /// The positive C code (the functions return its negation).
    pub const fn code(self) -> i32 {
        match self {
            Kind::FrameTooShort => 2,
            Kind::FrameTooLarge => 3,
            Kind::UnknownType => 4,
            Kind::Malformed => 5,
        }
    }

    /// The kind with this positive C code.
    pub const fn from_code(code: i32) -> Option<Kind> {
        match code {
            2 => Some(Kind::FrameTooShort),
            3 => Some(Kind::FrameTooLarge),
            4 => Some(Kind::UnknownType),
            5 => Some(Kind::Malformed),
            _ => None,
        }
    }

    /// The Rust variant name, as `frames.txt` writes it after `err`.
    pub const fn name(self) -> &'static str {
        match self {
            Kind::FrameTooShort => "FrameTooShort",
            Kind::FrameTooLarge => "FrameTooLarge",
            Kind::UnknownType => "UnknownType",
            Kind::Malformed => "Malformed",
        }
    }

    /// The kind of a Rust decoding or encoding error; `None` for `Io` and future variants.
    pub fn of(err: &ProtocolError) -> Option<Kind> {
        match err {
            ProtocolError::FrameTooShort { .. } => Some(Kind::FrameTooShort),
            ProtocolError::FrameTooLarge { .. } => Some(Kind::FrameTooLarge),
            ProtocolError::UnknownType { .. } => Some(Kind::UnknownType),
            ProtocolError::Malformed { .. } => Some(Kind::Malformed),
            _ => None,
        }
    }
}

/// A message as C decoded it (or is to encode it), copied out of `struct wasmbed_frame`.
///
/// Strings are bytes: C does not guarantee UTF-8 unless it says so, and the tests check that it
/// does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CMessage {
    /// HELLO.
    Hello {
        /// Protocol version.
        version: u8,
        /// Device id bytes (`device_id_len` of them).
        device_id: Vec<u8>,
        /// Firmware version bytes (`firmware_len` of them).
        firmware: Vec<u8>,
    },
    /// HELLO_ACK.
    HelloAck {
        /// Protocol version.
        version: u8,
        /// Heartbeat interval in seconds.
        heartbeat_interval_secs: u16,
        /// The gateway's `max_frame_len`.
        max_frame_len: u32,
    },
    /// HEARTBEAT.
    Heartbeat {
        /// Uptime in milliseconds.
        uptime_ms: u32,
    },
    /// HEARTBEAT_ACK.
    HeartbeatAck,
    /// ECHO.
    Echo(Vec<u8>),
    /// ECHO_REPLY.
    EchoReply(Vec<u8>),
    /// DATA.
    Data(Vec<u8>),
    /// GOODBYE.
    Goodbye {
        /// The reason byte.
        reason: u8,
    },
    /// ERROR.
    Error {
        /// The error code.
        code: u16,
        /// The message bytes.
        message: Vec<u8>,
    },
    /// A type byte that is no message type: decoding never gives it, encoding refuses it.
    Unknown(u8),
}

impl CMessage {
    /// The type byte.
    pub fn type_byte(&self) -> u8 {
        match self {
            CMessage::Hello { .. } => 0x01,
            CMessage::HelloAck { .. } => 0x02,
            CMessage::Heartbeat { .. } => 0x03,
            CMessage::HeartbeatAck => 0x04,
            CMessage::Echo(_) => 0x05,
            CMessage::EchoReply(_) => 0x06,
            CMessage::Data(_) => 0x07,
            CMessage::Goodbye { .. } => 0x08,
            CMessage::Error { .. } => 0x7f,
            CMessage::Unknown(b) => *b,
        }
    }
}

/// A frame as C sees it: message id and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CFrame {
    /// The message id.
    pub id: u32,
    /// The message.
    pub message: CMessage,
}

impl CFrame {
    /// The same frame as a Rust [`Frame`]; `None` when a string is not UTF-8 or the type is
    /// unknown.
    pub fn to_rust(&self) -> Option<Frame> {
        let text = |b: &[u8]| String::from_utf8(b.to_vec()).ok();
        let message = match &self.message {
            CMessage::Hello {
                version,
                device_id,
                firmware,
            } => Message::Hello {
                version: *version,
                device_id: text(device_id)?,
                firmware_version: text(firmware)?,
            },
            CMessage::HelloAck {
                version,
                heartbeat_interval_secs,
                max_frame_len,
            } => Message::HelloAck {
                version: *version,
                heartbeat_interval_secs: *heartbeat_interval_secs,
                max_frame_len: *max_frame_len,
            },
            CMessage::Heartbeat { uptime_ms } => Message::Heartbeat {
                uptime_ms: *uptime_ms,
            },
            CMessage::HeartbeatAck => Message::HeartbeatAck,
            CMessage::Echo(b) => Message::Echo(b.clone().into()),
            CMessage::EchoReply(b) => Message::EchoReply(b.clone().into()),
            CMessage::Data(b) => Message::Data(b.clone().into()),
            CMessage::Goodbye { reason } => Message::Goodbye {
                reason: GoodbyeReason::from_u8(*reason),
            },
            CMessage::Error { code, message } => Message::Error {
                code: ErrorCode::from_u16(*code),
                message: text(message)?,
            },
            CMessage::Unknown(_) => return None,
        };
        Some(Frame {
            id: self.id,
            message,
        })
    }
}

/// The C view of a Rust frame.
///
/// # Panics
///
/// On a `Message` variant added to the gateway after this crate was written.
impl From<&Frame> for CFrame {
    fn from(frame: &Frame) -> CFrame {
        let message = match &frame.message {
            Message::Hello {
                version,
                device_id,
                firmware_version,
            } => CMessage::Hello {
                version: *version,
                device_id: device_id.as_bytes().to_vec(),
                firmware: firmware_version.as_bytes().to_vec(),
            },
            Message::HelloAck {
                version,
                heartbeat_interval_secs,
                max_frame_len,
            } => CMessage::HelloAck {
                version: *version,
                heartbeat_interval_secs: *heartbeat_interval_secs,
                max_frame_len: *max_frame_len,
            },
            Message::Heartbeat { uptime_ms } => CMessage::Heartbeat {
                uptime_ms: *uptime_ms,
            },
            Message::HeartbeatAck => CMessage::HeartbeatAck,
            Message::Echo(b) => CMessage::Echo(b.to_vec()),
            Message::EchoReply(b) => CMessage::EchoReply(b.to_vec()),
            Message::Data(b) => CMessage::Data(b.to_vec()),
            Message::Goodbye { reason } => CMessage::Goodbye {
                reason: reason.to_u8(),
            },
            Message::Error { code, message } => CMessage::Error {
                code: code.to_u16(),
                message: message.as_bytes().to_vec(),
            },
            other => panic!("no C form for {other:?}"),
        };
        CFrame {
            id: frame.id,
            message,
        }
    }
}

/// A frame C decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// The frame.
    pub frame: CFrame,
    /// `*consumed`: the frame's size on the wire, length prefix included.
    pub consumed: usize,
}

/// A C decoding failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeError {
    /// `-WASMBED_PROTOCOL_EINCOMPLETE`: more bytes are needed, `needed` in all (`*consumed`).
    Incomplete {
        /// Bytes needed: 4, or 4 + L once the length is known.
        needed: usize,
    },
    /// `-WASMBED_PROTOCOL_EFRAME_TOO_SHORT`.
    FrameTooShort,
    /// `-WASMBED_PROTOCOL_EFRAME_TOO_LARGE`.
    FrameTooLarge,
    /// `-WASMBED_PROTOCOL_EUNKNOWN_TYPE`.
    UnknownType {
        /// `out->type`.
        message_type: u8,
        /// `out->id`.
        id: u32,
        /// `*consumed`: 4 + L.
        consumed: usize,
    },
    /// `-WASMBED_PROTOCOL_EMALFORMED`.
    Malformed {
        /// `out->type`.
        message_type: u8,
        /// `out->id`.
        id: u32,
        /// `*consumed`: 4 + L.
        consumed: usize,
    },
}

impl DecodeError {
    /// The error kind; `None` for [`Incomplete`](DecodeError::Incomplete).
    pub fn kind(&self) -> Option<Kind> {
        match self {
            DecodeError::Incomplete { .. } => None,
            DecodeError::FrameTooShort => Some(Kind::FrameTooShort),
            DecodeError::FrameTooLarge => Some(Kind::FrameTooLarge),
            DecodeError::UnknownType { .. } => Some(Kind::UnknownType),
            DecodeError::Malformed { .. } => Some(Kind::Malformed),
        }
    }
}

/// A C encoding failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncodeError {
    /// `-WASMBED_PROTOCOL_EUNKNOWN_TYPE`.
    UnknownType,
    /// `-WASMBED_PROTOCOL_EMALFORMED`.
    Malformed,
    /// `-WASMBED_PROTOCOL_EFRAME_TOO_LARGE`.
    FrameTooLarge,
    /// `-WASMBED_PROTOCOL_ENOSPC`: the buffer is too small; `needed` is `*written`.
    NoSpace {
        /// Bytes the frame needs.
        needed: usize,
    },
}

impl EncodeError {
    /// The kind shared with decoding errors; `None` for [`NoSpace`](EncodeError::NoSpace).
    pub fn kind(&self) -> Option<Kind> {
        match self {
            EncodeError::UnknownType => Some(Kind::UnknownType),
            EncodeError::Malformed => Some(Kind::Malformed),
            EncodeError::FrameTooLarge => Some(Kind::FrameTooLarge),
            EncodeError::NoSpace { .. } => None,
        }
    }
}

/// A C result that broke the header's contract: the tests fail on these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Contract {
    /// The return value is not one the function documents.
    BadReturn(i32),
    /// `*consumed` or `*written` is not what the header says.
    BadCount {
        /// Which count, and in which case.
        what: &'static str,
        /// What C wrote.
        got: usize,
        /// What the header promises.
        expected: usize,
    },
    /// The output frame holds something it must not (a field not cleared, a string without
    /// its NUL, a length out of range).
    BadOutput(&'static str),
    /// A payload pointer does not point at the payload inside the input.
    BadPointer(&'static str),
    /// The encoder wrote into a buffer too small for the frame.
    WroteOnFailure,
}

/// What the header promises `*consumed` to be, from the length prefix of `input`.
fn promised_consumed(input: &[u8]) -> usize {
    match input.first_chunk::<4>() {
        None => 4,
        Some(prefix) => 4usize.saturating_add(u32::from_be_bytes(*prefix) as usize),
    }
}

/// Runs `wasmbed_frame_decode` on an exact-length heap copy of `input`.
///
/// # Errors
///
/// The [`DecodeError`] C reported.
///
/// # Panics
///
/// When the C code breaks its contract (see [`Contract`]); use [`decode_checked`] to get that as
/// a value.
pub fn decode(input: &[u8], max_frame_len: u32) -> Result<Decoded, DecodeError> {
    decode_checked(input, max_frame_len)
        .unwrap_or_else(|c| panic!("wasmbed_frame_decode broke its contract: {c:?}"))
}

/// Runs `wasmbed_frame_decode` on an exact-length heap copy of `input` and checks the header's
/// contract on its result.
///
/// # Errors
///
/// The outer `Err` is a [`Contract`] violation; the inner result is the decoding outcome.
pub fn decode_checked(
    input: &[u8],
    max_frame_len: u32,
) -> Result<Result<Decoded, DecodeError>, Contract> {
    let exact: Box<[u8]> = input.into();
    // Poisoned, so that "cleared" and "written" are observable.
    let mut out = Box::new(ffi::WasmbedFrame::filled(0xa5));
    let mut consumed = usize::MAX - 1;
    // SAFETY: `exact` is a live allocation of exactly `exact.len()` bytes; `out` and `consumed`
    // point to valid, writable values. C reads at most `len` bytes and keeps no pointer after
    // returning (the payload pointers it writes into `out` point into `exact`, which outlives
    // every use of them below).
    let rc = unsafe {
        ffi::wasmbed_frame_decode(
            exact.as_ptr(),
            exact.len(),
            max_frame_len,
            &mut *out,
            &mut consumed,
        )
    };
    // SAFETY: `hello` is the union's largest member and was fully initialised by `filled`; C
    // writes only integers and pointers into the union, so every byte of `hello` is initialised
    // and any bit pattern is a valid value of its integer and `c_char` fields.
    let hello = unsafe { out.msg.hello };
    let payload_cleared = hello.device_id_len == 0
        && hello.firmware_len == 0
        && hello.version == 0
        && hello.device_id.iter().all(|&c| c == 0)
        && hello.firmware.iter().all(|&c| c == 0);
    let count = |what, expected| {
        if consumed == expected {
            Ok(())
        } else {
            Err(Contract::BadCount {
                what,
                got: consumed,
                expected,
            })
        }
    };
    let promised = promised_consumed(input);
    match rc {
        0 => {}
        _ if rc == -EINCOMPLETE => {
            count("consumed on incomplete", promised)?;
            if out.r#type != 0 || out.id != 0 || !payload_cleared {
                return Err(Contract::BadOutput("not zeroed on incomplete"));
            }
            return Ok(Err(DecodeError::Incomplete { needed: consumed }));
        }
        _ => {
            let kind = rc
                .checked_neg()
                .and_then(Kind::from_code)
                .ok_or(Contract::BadReturn(rc))?;
            if !payload_cleared {
                return Err(Contract::BadOutput("payload not cleared on error"));
            }
            return Ok(Err(match kind {
                Kind::FrameTooShort | Kind::FrameTooLarge => {
                    count("consumed on a length error", 0)?;
                    if out.r#type != 0 || out.id != 0 {
                        return Err(Contract::BadOutput("not zeroed on a length error"));
                    }
                    if kind == Kind::FrameTooShort {
                        DecodeError::FrameTooShort
                    } else {
                        DecodeError::FrameTooLarge
                    }
                }
                Kind::UnknownType | Kind::Malformed => {
                    count("consumed on a type or payload error", promised)?;
                    if input.get(4) != Some(&out.r#type) {
                        return Err(Contract::BadOutput("type is not the frame's type byte"));
                    }
                    let (message_type, id, consumed) = (out.r#type, out.id, consumed);
                    if kind == Kind::UnknownType {
                        DecodeError::UnknownType {
                            message_type,
                            id,
                            consumed,
                        }
                    } else {
                        DecodeError::Malformed {
                            message_type,
                            id,
                            consumed,
                        }
                    }
                }
            }));
        }
    }
    count("consumed on success", promised)?;
    if consumed > input.len() {
        return Err(Contract::BadOutput("consumed is past the input"));
    }
    let payload_start = 9;
    let payload = &exact[payload_start..consumed];
    // Where a pointer C wrote points in `exact`, by address only: it is never dereferenced.
    let at = |ptr: usize, len: usize, start: usize, what| {
        let base = exact.as_ptr() as usize;
        if ptr.wrapping_sub(base) == start && start + len == consumed {
            Ok(exact[start..start + len].to_vec())
        } else {
            Err(Contract::BadPointer(what))
        }
    };
    let message = match out.r#type {
        0x01 => {
            let device_id = c_string(&hello.device_id, hello.device_id_len)
                .ok_or(Contract::BadOutput("device_id"))?;
            let firmware = c_string(&hello.firmware, hello.firmware_len)
                .ok_or(Contract::BadOutput("firmware"))?;
            CMessage::Hello {
                version: hello.version,
                device_id,
                firmware,
            }
        }
        0x02 => {
            // SAFETY: as `hello` above: initialised integer bytes.
            let ack = unsafe { out.msg.hello_ack };
            CMessage::HelloAck {
                version: ack.version,
                heartbeat_interval_secs: ack.heartbeat_interval_secs,
                max_frame_len: ack.max_frame_len,
            }
        }
        0x03 => CMessage::Heartbeat {
            // SAFETY: as `hello` above: initialised integer bytes.
            uptime_ms: unsafe { out.msg.heartbeat.uptime_ms },
        },
        0x04 => {
            if !payload.is_empty() {
                return Err(Contract::BadOutput("HEARTBEAT_ACK with a payload"));
            }
            CMessage::HeartbeatAck
        }
        t @ 0x05..=0x07 => {
            // SAFETY: C set this member for these types; its bytes are initialised and a raw
            // pointer may hold any address (it is only compared, never dereferenced).
            let bytes = unsafe { out.msg.bytes };
            let data = at(bytes.data as usize, bytes.len, payload_start, "bytes.data")?;
            match t {
                0x05 => CMessage::Echo(data),
                0x06 => CMessage::EchoReply(data),
                _ => CMessage::Data(data),
            }
        }
        0x08 => CMessage::Goodbye {
            // SAFETY: as `hello` above: initialised integer bytes.
            reason: unsafe { out.msg.goodbye.reason },
        },
        0x7f => {
            // SAFETY: as for `bytes`: C set this member for this type; the pointer is only
            // compared.
            let error = unsafe { out.msg.error };
            let message = at(
                error.message as usize,
                error.message_len,
                payload_start + 2,
                "error.message",
            )?;
            CMessage::Error {
                code: error.code,
                message,
            }
        }
        _ => return Err(Contract::BadOutput("unknown type on success")),
    };
    Ok(Ok(Decoded {
        frame: CFrame {
            id: out.id,
            message,
        },
        consumed,
    }))
}

/// The first `len` bytes of `buf` if `len` fits and `buf[len]` is NUL.
fn c_string(buf: &[c_char], len: usize) -> Option<Vec<u8>> {
    if len >= buf.len() || buf[len] != 0 {
        return None;
    }
    Some(buf[..len].iter().map(|&c| c as u8).collect())
}

/// A C frame built from a [`CFrame`], with exact-length heap copies of its byte payloads.
struct RawFrame {
    frame: Box<ffi::WasmbedFrame>,
    // Keeps the payload that `frame` points to alive.
    _payload: Option<Box<[u8]>>,
}

fn raw_frame(frame: &CFrame) -> RawFrame {
    let mut raw = Box::new(ffi::WasmbedFrame::filled(0));
    raw.r#type = frame.message.type_byte();
    raw.id = frame.id;
    let mut payload = None;
    let mut bytes = |b: &[u8]| {
        let exact: Box<[u8]> = b.into();
        let ptr = if exact.is_empty() {
            std::ptr::null()
        } else {
            exact.as_ptr()
        };
        payload = Some(exact);
        (ptr, b.len())
    };
    match &frame.message {
        CMessage::Hello {
            version,
            device_id,
            firmware,
        } => {
            // Longer strings are cut to the arrays but keep their length: C must refuse them
            // before reading the arrays.
            let mut hello = ffi::WasmbedMsgHello {
                device_id_len: device_id.len(),
                firmware_len: firmware.len(),
                version: *version,
                device_id: [0; ffi::DEVICE_ID_MAX_LEN + 1],
                firmware: [0; ffi::FIRMWARE_MAX_LEN + 1],
            };
            for (d, &s) in hello.device_id.iter_mut().zip(device_id) {
                *d = s as c_char;
            }
            for (d, &s) in hello.firmware.iter_mut().zip(firmware) {
                *d = s as c_char;
            }
            raw.msg.hello = hello;
        }
        CMessage::HelloAck {
            version,
            heartbeat_interval_secs,
            max_frame_len,
        } => {
            raw.msg.hello_ack = ffi::WasmbedMsgHelloAck {
                version: *version,
                heartbeat_interval_secs: *heartbeat_interval_secs,
                max_frame_len: *max_frame_len,
            };
        }
        CMessage::Heartbeat { uptime_ms } => {
            raw.msg.heartbeat = ffi::WasmbedMsgHeartbeat {
                uptime_ms: *uptime_ms,
            };
        }
        CMessage::HeartbeatAck | CMessage::Unknown(_) => {}
        CMessage::Echo(b) | CMessage::EchoReply(b) | CMessage::Data(b) => {
            let (data, len) = bytes(b);
            raw.msg.bytes = ffi::WasmbedMsgBytes { data, len };
        }
        CMessage::Goodbye { reason } => {
            raw.msg.goodbye = ffi::WasmbedMsgGoodbye { reason: *reason };
        }
        CMessage::Error { code, message } => {
            let (ptr, len) = bytes(message);
            raw.msg.error = ffi::WasmbedMsgError {
                code: *code,
                message: ptr.cast::<c_char>(),
                message_len: len,
            };
        }
    }
    RawFrame {
        frame: raw,
        _payload: payload,
    }
}

/// Calls `wasmbed_frame_encode` on `raw` with `buf` (NULL when `None`).
fn encode_raw(raw: &RawFrame, max_frame_len: u32, buf: Option<&mut [u8]>) -> (c_int, usize) {
    let (ptr, cap) = match buf {
        Some(b) => (b.as_mut_ptr(), b.len()),
        None => (std::ptr::null_mut(), 0),
    };
    let mut written = usize::MAX - 1;
    // SAFETY: `raw.frame` is a valid frame whose payload pointers (if any) point to live
    // exact-length allocations owned by `raw`, or are NULL with length 0; `ptr` is NULL with
    // `cap` 0 or valid for writing `cap` bytes; `written` is valid and writable. C keeps no
    // pointer after returning.
    let rc =
        unsafe { ffi::wasmbed_frame_encode(&*raw.frame, max_frame_len, ptr, cap, &mut written) };
    (rc, written)
}

/// Runs `wasmbed_frame_encode`: asks for the size with a NULL buffer, checks that one byte less
/// is refused without a write, then encodes into a buffer of exactly that size.
///
/// # Errors
///
/// The [`EncodeError`] C reported (never [`NoSpace`](EncodeError::NoSpace): the buffer fits).
///
/// # Panics
///
/// When the C code breaks its contract; use [`encode_checked`] to get that as a value.
pub fn encode(frame: &CFrame, max_frame_len: u32) -> Result<Vec<u8>, EncodeError> {
    encode_checked(frame, max_frame_len)
        .unwrap_or_else(|c| panic!("wasmbed_frame_encode broke its contract: {c:?}"))
}

/// [`encode`], with a contract violation as a value.
///
/// # Errors
///
/// The outer `Err` is a [`Contract`] violation; the inner result is the encoding outcome.
pub fn encode_checked(
    frame: &CFrame,
    max_frame_len: u32,
) -> Result<Result<Vec<u8>, EncodeError>, Contract> {
    let raw = raw_frame(frame);
    let (rc, needed) = encode_raw(&raw, max_frame_len, None);
    let size = match encode_error(rc, needed)? {
        Ok(()) => return Err(Contract::BadReturn(0)),
        Err(EncodeError::NoSpace { needed }) => needed,
        Err(e) => return Ok(Err(e)),
    };
    if size < 9 {
        return Err(Contract::BadCount {
            what: "written on ENOSPC (below the smallest frame)",
            got: size,
            expected: 9,
        });
    }
    let mut short = vec![0x5a; size - 1].into_boxed_slice();
    let (rc, written) = encode_raw(&raw, max_frame_len, Some(&mut short));
    if encode_error(rc, written)? != Err(EncodeError::NoSpace { needed: size }) {
        return Err(Contract::BadCount {
            what: "written with one byte too few",
            got: written,
            expected: size,
        });
    }
    if short.iter().any(|&b| b != 0x5a) {
        return Err(Contract::WroteOnFailure);
    }
    let mut buf = vec![0x5a; size].into_boxed_slice();
    let (rc, written) = encode_raw(&raw, max_frame_len, Some(&mut buf));
    match encode_error(rc, written)? {
        Ok(()) if written == size => Ok(Ok(buf.into_vec())),
        Ok(()) => Err(Contract::BadCount {
            what: "written on success",
            got: written,
            expected: size,
        }),
        Err(_) => Err(Contract::BadReturn(rc)),
    }
}

/// Encodes `frame` into `buf` in place, as firmware does; nothing is written on failure.
///
/// # Errors
///
/// The [`EncodeError`] C reported.
///
/// # Panics
///
/// When the C code breaks its contract.
pub fn encode_into(
    frame: &CFrame,
    max_frame_len: u32,
    buf: &mut [u8],
) -> Result<usize, EncodeError> {
    let raw = raw_frame(frame);
    let (rc, written) = encode_raw(&raw, max_frame_len, Some(buf));
    encode_error(rc, written)
        .unwrap_or_else(|c| panic!("wasmbed_frame_encode broke its contract: {c:?}"))
        .map(|()| written)
}

/// Maps a return value of `wasmbed_frame_encode` and checks `*written` on failure.
fn encode_error(rc: c_int, written: usize) -> Result<Result<(), EncodeError>, Contract> {
    if rc == 0 {
        return Ok(Ok(()));
    }
    if rc == -ENOSPC {
        return Ok(Err(EncodeError::NoSpace { needed: written }));
    }
    let err = match rc.checked_neg().and_then(Kind::from_code) {
        Some(Kind::UnknownType) => EncodeError::UnknownType,
        Some(Kind::Malformed) => EncodeError::Malformed,
        Some(Kind::FrameTooLarge) => EncodeError::FrameTooLarge,
        Some(Kind::FrameTooShort) | None => return Err(Contract::BadReturn(rc)),
    };
    if written != 0 {
        return Err(Contract::BadCount {
            what: "written on an encoding error",
            got: written,
            expected: 0,
        });
    }
    Ok(Err(err))
}

/// `wasmbed_protocol_strerror(code)`.
pub fn strerror(code: i32) -> &'static str {
    // SAFETY: the C function returns a pointer to a static NUL-terminated string for every
    // input.
    let text = unsafe { CStr::from_ptr(ffi::wasmbed_protocol_strerror(code)) };
    text.to_str()
        .expect("wasmbed_protocol_strerror returns ASCII")
}

/// The C layout table (`host/csrc/protocol_layout.c`): each C expression with its value.
pub fn layout() -> Vec<(&'static str, u64)> {
    // SAFETY: both statics are immutable and initialised at compile time in protocol_layout.c;
    // the array has `wasmbed_protocol_layout_len` entries, each a pointer to a static
    // NUL-terminated string literal and a value.
    unsafe {
        let entries = std::slice::from_raw_parts(
            (&raw const ffi::wasmbed_protocol_layout).cast::<ffi::LayoutEntry>(),
            ffi::wasmbed_protocol_layout_len,
        );
        entries
            .iter()
            .map(|e| {
                let name = CStr::from_ptr(e.name)
                    .to_str()
                    .expect("protocol_layout.c names are ASCII");
                (name, e.value)
            })
            .collect()
    }
}

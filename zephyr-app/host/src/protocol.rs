//! The firmware's C frame codec (`zephyr-app/src/wasmbed_protocol.c`), callable from Rust and
//! compared with the gateway's Rust codec (`wasmbed_protocol`).
//!
//! [`decode`] gives the C decoder an exact-length heap copy of its input, so a read past the end
//! is a heap overflow that AddressSanitizer reports; [`encode`] gives the C encoder exact-length
//! heap copies of the payload and an output buffer of exactly the size it asked for. Both check
//! the header's contract on every call (what `*consumed` and `*written` hold, that the output
//! is cleared on failure, that payload pointers point at the payload inside the input) and panic
//! when C breaks it; the `_checked` variants return that as a [`Contract`] value.
//!
//! [`compare_decode`] and [`compare_encode`] run C and Rust on the same input and describe the
//! first difference: verdict, error kind, message type and id, consumed length, every field, and
//! that both encoders produce the same bytes. The tests in `tests/protocol_*.rs` and the
//! `frame_differential` fuzz target use them.
//!
//! # Example
//!
//! ```
//! use wasmbed_zephyr_host::protocol::{self, CMessage, DecodeError};
//!
//! let wire = b"\x00\x00\x00\x09\x03\x01\x02\x03\x04\x07\x5b\xcd\x15";
//! let decoded = protocol::decode(wire, 4096).expect("a whole HEARTBEAT");
//! assert_eq!(decoded.frame.id, 0x0102_0304);
//! assert_eq!(decoded.frame.message, CMessage::Heartbeat { uptime_ms: 123_456_789 });
//! assert_eq!(decoded.consumed, wire.len());
//! assert_eq!(protocol::encode(&decoded.frame, 4096).unwrap(), wire);
//!
//! // 11 of the 13 bytes: C asks for the rest, as Rust's decoder returns Ok(None).
//! let err = protocol::decode(&wire[..11], 4096).unwrap_err();
//! assert_eq!(err, DecodeError::Incomplete { needed: 13 });
//!
//! protocol::compare_decode(wire, 4096).expect("C and Rust agree");
//! ```

use std::ffi::{CStr, c_char, c_int};

use wasmbed_protocol::{
    ErrorCode, Frame, GoodbyeReason, Message, ProtocolError, decode_frame, encode_frame,
};

/// Raw declarations of `zephyr-app/src/wasmbed_protocol.h`.
pub mod ffi {
    use std::ffi::{c_char, c_int};

    /// `WASMBED_DEVICE_ID_MAX_LEN`.
    pub const DEVICE_ID_MAX_LEN: usize = 64;
    /// `WASMBED_FIRMWARE_MAX_LEN`.
    pub const FIRMWARE_MAX_LEN: usize = 64;

    /// Mirror of `struct wasmbed_msg_hello`.
    #[repr(C)]
    #[derive(Debug, Clone, Copy)]
    pub struct WasmbedMsgHello {
        /// Length of `device_id`.
        pub device_id_len: usize,
        /// Length of `firmware`.
        pub firmware_len: usize,
        /// Protocol version.
        pub version: u8,
        /// Device id, NUL-terminated after decoding.
        pub device_id: [c_char; DEVICE_ID_MAX_LEN + 1],
        /// Firmware version, NUL-terminated after decoding.
        pub firmware: [c_char; FIRMWARE_MAX_LEN + 1],
    }

    /// Mirror of `struct wasmbed_msg_hello_ack`.
    #[repr(C)]
    #[derive(Debug, Clone, Copy)]
    pub struct WasmbedMsgHelloAck {
        /// Protocol version.
        pub version: u8,
        /// Heartbeat interval in seconds.
        pub heartbeat_interval_secs: u16,
        /// The gateway's `max_frame_len`.
        pub max_frame_len: u32,
    }

    /// Mirror of `struct wasmbed_msg_heartbeat`.
    #[repr(C)]
    #[derive(Debug, Clone, Copy)]
    pub struct WasmbedMsgHeartbeat {
        /// Uptime in milliseconds.
        pub uptime_ms: u32,
    }

    /// Mirror of `struct wasmbed_msg_bytes` (ECHO, ECHO_REPLY, DATA).
    #[repr(C)]
    #[derive(Debug, Clone, Copy)]
    pub struct WasmbedMsgBytes {
        /// The bytes; after decoding, inside the input buffer.
        pub data: *const u8,
        /// Number of bytes.
        pub len: usize,
    }

    /// Mirror of `struct wasmbed_msg_goodbye`.
    #[repr(C)]
    #[derive(Debug, Clone, Copy)]
    pub struct WasmbedMsgGoodbye {
        /// The reason byte.
        pub reason: u8,
    }

    /// Mirror of `struct wasmbed_msg_error`.
    #[repr(C)]
    #[derive(Debug, Clone, Copy)]
    pub struct WasmbedMsgError {
        /// The error code.
        pub code: u16,
        /// The message; after decoding, inside the input buffer, not NUL-terminated.
        pub message: *const c_char,
        /// Length of `message`.
        pub message_len: usize,
    }

    /// Mirror of the union type of `struct wasmbed_frame`'s member `msg`.
    #[repr(C)]
    #[derive(Clone, Copy)]
    pub union WasmbedMsg {
        /// HELLO.
        pub hello: WasmbedMsgHello,
        /// HELLO_ACK.
        pub hello_ack: WasmbedMsgHelloAck,
        /// HEARTBEAT.
        pub heartbeat: WasmbedMsgHeartbeat,
        /// ECHO, ECHO_REPLY, DATA.
        pub bytes: WasmbedMsgBytes,
        /// GOODBYE.
        pub goodbye: WasmbedMsgGoodbye,
        /// ERROR.
        pub error: WasmbedMsgError,
    }

    /// Mirror of `struct wasmbed_frame`; the tests check its size and offsets against C.
    #[repr(C)]
    #[derive(Clone, Copy)]
    pub struct WasmbedFrame {
        /// Message type byte.
        pub r#type: u8,
        /// Message id.
        pub id: u32,
        /// Payload, selected by `type`.
        pub msg: WasmbedMsg,
    }

    impl WasmbedFrame {
        /// A frame whose every byte outside padding is `byte`; `hello` is the union's largest
        /// member and covers the bytes of every other member.
        pub const fn filled(byte: u8) -> WasmbedFrame {
            let word = usize::from_ne_bytes([byte; size_of::<usize>()]);
            WasmbedFrame {
                r#type: byte,
                id: u32::from_ne_bytes([byte; 4]),
                msg: WasmbedMsg {
                    hello: WasmbedMsgHello {
                        device_id_len: word,
                        firmware_len: word,
                        version: byte,
                        device_id: [byte as c_char; DEVICE_ID_MAX_LEN + 1],
                        firmware: [byte as c_char; FIRMWARE_MAX_LEN + 1],
                    },
                },
            }
        }
    }

    /// Mirror of `struct wasmbed_protocol_layout_entry` (`host/csrc/protocol_layout.c`).
    #[repr(C)]
    #[derive(Debug)]
    pub struct LayoutEntry {
        /// The C expression, NUL-terminated, e.g. `sizeof(struct wasmbed_frame)`.
        pub name: *const c_char,
        /// Its value.
        pub value: u64,
    }

    // SAFETY: these signatures match the prototypes in wasmbed_protocol.h, which build.rs
    // compiles and links into this crate; the layout statics come from
    // host/csrc/protocol_layout.c.
    unsafe extern "C" {
        /// `int wasmbed_frame_decode(const uint8_t *, size_t, uint32_t, struct wasmbed_frame *,
        /// size_t *)`.
        pub fn wasmbed_frame_decode(
            buf: *const u8,
            len: usize,
            max_frame_len: u32,
            out: *mut WasmbedFrame,
            consumed: *mut usize,
        ) -> c_int;

        /// `int wasmbed_frame_encode(const struct wasmbed_frame *, uint32_t, uint8_t *, size_t,
        /// size_t *)`.
        pub fn wasmbed_frame_encode(
            frame: *const WasmbedFrame,
            max_frame_len: u32,
            buf: *mut u8,
            cap: usize,
            written: *mut usize,
        ) -> c_int;

        /// `const char *wasmbed_protocol_strerror(int)`.
        pub fn wasmbed_protocol_strerror(err: c_int) -> *const c_char;

        /// The header's constants, sizes and offsets by name; `wasmbed_protocol_layout_len`
        /// entries (declared empty: the length is only known at run time).
        pub static wasmbed_protocol_layout: [LayoutEntry; 0];

        /// Number of entries in `wasmbed_protocol_layout`.
        pub static wasmbed_protocol_layout_len: usize;
    }
}

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
            hex(&head),
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
                    again.map(|b| hex(&b))
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
                    hex(&c),
                    hex(&rust)
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
            c.map(|b| hex(&b)),
            rust.map(|b| hex(&b))
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
        | (CMessage::Data(c), Message::Data(r)) => field("payload", &hex(c), &hex(r)),
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
    String::from_utf8(b.to_vec()).unwrap_or_else(|_| format!("<not UTF-8: {}>", hex(b)))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::mem::{offset_of, size_of};

    use wasmbed_protocol::{self as rust, MessageType};

    use super::ffi::*;
    use super::*;

    /// The C constants, message types, codes and reasons equal the Rust codec's; the C structs
    /// have the mirror's size and offsets; every entry of the table is checked.
    #[test]
    fn layout_agrees() {
        let table: BTreeMap<&str, u64> = layout().into_iter().collect();
        assert_eq!(table.len(), layout().len(), "duplicate names in the table");
        let mut checked = BTreeMap::new();
        let mut check = |name: &'static str, expected: u64| {
            let got = *table
                .get(name)
                .unwrap_or_else(|| panic!("{name} not in the table"));
            assert_eq!(got, expected, "{name}");
            checked.insert(name, ());
        };
        check(
            "WASMBED_PROTOCOL_VERSION",
            u64::from(rust::PROTOCOL_VERSION),
        );
        check(
            "WASMBED_FRAME_DEFAULT_MAX_LEN",
            u64::from(rust::DEFAULT_MAX_FRAME_LEN),
        );
        check("WASMBED_FRAME_MIN_LEN", u64::from(rust::MIN_FRAME_LEN));
        check("WASMBED_FRAME_PREFIX_LEN", rust::LENGTH_PREFIX_LEN as u64);
        check("WASMBED_FRAME_HEADER_LEN", u64::from(rust::MIN_FRAME_LEN));
        check("WASMBED_DEVICE_ID_MAX_LEN", rust::MAX_DEVICE_ID_LEN as u64);
        check("WASMBED_FIRMWARE_MAX_LEN", rust::MAX_FIRMWARE_LEN as u64);
        check(
            "WASMBED_HELLO_FRAME_MAX_LEN",
            u64::from(rust::MAX_HELLO_FRAME_LEN),
        );
        let types = [
            ("WASMBED_MSG_HELLO", MessageType::Hello),
            ("WASMBED_MSG_HELLO_ACK", MessageType::HelloAck),
            ("WASMBED_MSG_HEARTBEAT", MessageType::Heartbeat),
            ("WASMBED_MSG_HEARTBEAT_ACK", MessageType::HeartbeatAck),
            ("WASMBED_MSG_ECHO", MessageType::Echo),
            ("WASMBED_MSG_ECHO_REPLY", MessageType::EchoReply),
            ("WASMBED_MSG_DATA", MessageType::Data),
            ("WASMBED_MSG_GOODBYE", MessageType::Goodbye),
            ("WASMBED_MSG_ERROR", MessageType::Error),
        ];
        assert_eq!(types.len(), MessageType::ALL.len());
        for (name, t) in types {
            check(name, t as u64);
        }
        let codes = [
            ("WASMBED_ERROR_MALFORMED_FRAME", ErrorCode::MalformedFrame),
            ("WASMBED_ERROR_FRAME_TOO_LARGE", ErrorCode::FrameTooLarge),
            (
                "WASMBED_ERROR_UNEXPECTED_MESSAGE",
                ErrorCode::UnexpectedMessage,
            ),
            (
                "WASMBED_ERROR_UNSUPPORTED_VERSION",
                ErrorCode::UnsupportedVersion,
            ),
            (
                "WASMBED_ERROR_INVALID_DEVICE_ID",
                ErrorCode::InvalidDeviceId,
            ),
            (
                "WASMBED_ERROR_DEVICE_ID_MISMATCH",
                ErrorCode::DeviceIdMismatch,
            ),
            ("WASMBED_ERROR_HELLO_TIMEOUT", ErrorCode::HelloTimeout),
            ("WASMBED_ERROR_OVERLOADED", ErrorCode::Overloaded),
            ("WASMBED_ERROR_INTERNAL", ErrorCode::Internal),
        ];
        for (name, code) in codes {
            check(name, u64::from(code.to_u16()));
        }
        // Every named code is above: the first unnamed one is 10.
        assert_eq!(ErrorCode::from_u16(10), ErrorCode::Other(10));
        let reasons = [
            ("WASMBED_GOODBYE_NORMAL", GoodbyeReason::Normal),
            ("WASMBED_GOODBYE_SHUTDOWN", GoodbyeReason::Shutdown),
            ("WASMBED_GOODBYE_TAKEN_OVER", GoodbyeReason::TakenOver),
            (
                "WASMBED_GOODBYE_HEARTBEAT_TIMEOUT",
                GoodbyeReason::HeartbeatTimeout,
            ),
            (
                "WASMBED_GOODBYE_PROTOCOL_ERROR",
                GoodbyeReason::ProtocolError,
            ),
            (
                "WASMBED_GOODBYE_CREDENTIALS_REVOKED",
                GoodbyeReason::CredentialsRevoked,
            ),
        ];
        for (name, reason) in reasons {
            check(name, u64::from(reason.to_u8()));
        }
        assert_eq!(GoodbyeReason::from_u8(6), GoodbyeReason::Other(6));
        check("WASMBED_PROTOCOL_EINCOMPLETE", EINCOMPLETE as u64);
        check("WASMBED_PROTOCOL_EFRAME_TOO_SHORT", 2);
        check("WASMBED_PROTOCOL_EFRAME_TOO_LARGE", 3);
        check("WASMBED_PROTOCOL_EUNKNOWN_TYPE", 4);
        check("WASMBED_PROTOCOL_EMALFORMED", 5);
        check("WASMBED_PROTOCOL_ENOSPC", ENOSPC as u64);
        for kind in Kind::ALL {
            assert_eq!(Kind::from_code(kind.code()), Some(kind));
        }

        macro_rules! size {
            ($c:literal, $t:ty) => {
                check(concat!("sizeof(struct ", $c, ")"), size_of::<$t>() as u64)
            };
        }
        macro_rules! offset {
            ($c:literal, $t:ty, $f:ident) => {
                check(
                    concat!("offsetof(struct ", $c, ", ", stringify!($f), ")"),
                    offset_of!($t, $f) as u64,
                )
            };
        }
        size!("wasmbed_frame", WasmbedFrame);
        check(
            "offsetof(struct wasmbed_frame, type)",
            offset_of!(WasmbedFrame, r#type) as u64,
        );
        offset!("wasmbed_frame", WasmbedFrame, id);
        offset!("wasmbed_frame", WasmbedFrame, msg);
        size!("wasmbed_msg_hello", WasmbedMsgHello);
        offset!("wasmbed_msg_hello", WasmbedMsgHello, device_id_len);
        offset!("wasmbed_msg_hello", WasmbedMsgHello, firmware_len);
        offset!("wasmbed_msg_hello", WasmbedMsgHello, version);
        offset!("wasmbed_msg_hello", WasmbedMsgHello, device_id);
        offset!("wasmbed_msg_hello", WasmbedMsgHello, firmware);
        size!("wasmbed_msg_hello_ack", WasmbedMsgHelloAck);
        offset!("wasmbed_msg_hello_ack", WasmbedMsgHelloAck, version);
        offset!(
            "wasmbed_msg_hello_ack",
            WasmbedMsgHelloAck,
            heartbeat_interval_secs
        );
        offset!("wasmbed_msg_hello_ack", WasmbedMsgHelloAck, max_frame_len);
        size!("wasmbed_msg_heartbeat", WasmbedMsgHeartbeat);
        offset!("wasmbed_msg_heartbeat", WasmbedMsgHeartbeat, uptime_ms);
        size!("wasmbed_msg_bytes", WasmbedMsgBytes);
        offset!("wasmbed_msg_bytes", WasmbedMsgBytes, data);
        offset!("wasmbed_msg_bytes", WasmbedMsgBytes, len);
        size!("wasmbed_msg_goodbye", WasmbedMsgGoodbye);
        offset!("wasmbed_msg_goodbye", WasmbedMsgGoodbye, reason);
        size!("wasmbed_msg_error", WasmbedMsgError);
        offset!("wasmbed_msg_error", WasmbedMsgError, code);
        offset!("wasmbed_msg_error", WasmbedMsgError, message);
        offset!("wasmbed_msg_error", WasmbedMsgError, message_len);
        // `hello` is the largest member, so `WasmbedFrame::filled` covers the whole union.
        assert_eq!(size_of::<WasmbedMsg>(), size_of::<WasmbedMsgHello>());

        let unchecked: Vec<_> = table.keys().filter(|k| !checked.contains_key(*k)).collect();
        assert!(
            unchecked.is_empty(),
            "table entries no test checks: {unchecked:?}"
        );
    }

    #[test]
    fn strerror_names_every_code() {
        assert_eq!(strerror(0), "success");
        for code in 1..=6 {
            assert_ne!(strerror(code), "unknown error", "{code}");
            assert_eq!(strerror(code), strerror(-code));
        }
        assert_eq!(strerror(-5), "malformed payload");
        for code in [7, -7, i32::MAX, i32::MIN] {
            assert_eq!(strerror(code), "unknown error");
        }
    }

    fn hello(device_id: &[u8], firmware: &[u8]) -> CFrame {
        CFrame {
            id: 1,
            message: CMessage::Hello {
                version: 1,
                device_id: device_id.to_vec(),
                firmware: firmware.to_vec(),
            },
        }
    }

    /// What only C can be asked to encode (Rust's types rule it out) is refused too.
    #[test]
    fn encoder_refuses_what_rust_cannot_express() {
        let unknown = CFrame {
            id: 1,
            message: CMessage::Unknown(0x09),
        };
        assert_eq!(encode(&unknown, 4096), Err(EncodeError::UnknownType));
        assert_eq!(
            encode(&hello(b"dev", b"\xc3"), 4096),
            Err(EncodeError::Malformed)
        );
        assert_eq!(
            encode(&hello(b"dev", b"\xed\xa0\x80"), 4096),
            Err(EncodeError::Malformed)
        );
        let error = CFrame {
            id: 1,
            message: CMessage::Error {
                code: 1,
                message: b"\xff".to_vec(),
            },
        };
        assert_eq!(encode(&error, 4096), Err(EncodeError::Malformed));
        // Malformed comes before FrameTooLarge, as in Rust.
        assert_eq!(encode(&hello(b"", b""), 5), Err(EncodeError::Malformed));
        assert_eq!(
            encode(&hello(b"a", b""), 8),
            Err(EncodeError::FrameTooLarge)
        );
        assert_eq!(encode(&hello(b"a", b""), 9).unwrap().len(), 13);
        // A device id of 65 bytes (the array holds 65 chars) and one of 255.
        assert_eq!(
            encode(&hello(&[b'a'; 65], b""), 4096),
            Err(EncodeError::Malformed)
        );
        assert_eq!(
            encode(&hello(&[b'a'; 255], b""), 4096),
            Err(EncodeError::Malformed)
        );
        assert_eq!(
            encode(&hello(b"a", &[b'f'; 65]), 4096),
            Err(EncodeError::Malformed)
        );
    }

    #[test]
    fn null_payload_pointers() {
        let mut frame = WasmbedFrame::filled(0);
        frame.r#type = 0x07;
        frame.msg.bytes = WasmbedMsgBytes {
            data: std::ptr::null(),
            len: 0,
        };
        let mut buf = [0u8; 16];
        let mut written = 0;
        // SAFETY: `frame` is valid (a NULL pointer with length 0 is allowed); `buf` is valid for
        // 16 bytes; `written` is writable.
        let rc = unsafe { wasmbed_frame_encode(&frame, 4096, buf.as_mut_ptr(), 16, &mut written) };
        assert_eq!((rc, written), (0, 9));
        assert_eq!(buf[..9], *b"\0\0\0\x05\x07\0\0\0\0");
        frame.msg.bytes.len = 1;
        // SAFETY: as above; C must refuse the NULL pointer with a nonzero length without
        // reading it.
        let rc = unsafe { wasmbed_frame_encode(&frame, 4096, buf.as_mut_ptr(), 16, &mut written) };
        assert_eq!((rc, written), (-5, 0));
        frame.r#type = 0x7f;
        frame.msg.error = WasmbedMsgError {
            code: 7,
            message: std::ptr::null(),
            message_len: 3,
        };
        // SAFETY: as above.
        let rc = unsafe { wasmbed_frame_encode(&frame, 4096, buf.as_mut_ptr(), 16, &mut written) };
        assert_eq!((rc, written), (-5, 0));
        // Decoding an empty input from a NULL pointer.
        let mut out = WasmbedFrame::filled(1);
        let mut consumed = 0;
        // SAFETY: a NULL buffer with length 0 is allowed; `out` and `consumed` are writable.
        let rc =
            unsafe { wasmbed_frame_decode(std::ptr::null(), 0, 4096, &mut out, &mut consumed) };
        assert_eq!((rc, consumed), (-EINCOMPLETE, 4));
        // NULL `consumed` and `written` are allowed.
        let wire = b"\0\0\0\x05\x04\0\0\0\x02";
        // SAFETY: `wire` is valid for its length; `out` is writable; NULL `consumed` is allowed.
        let rc = unsafe {
            wasmbed_frame_decode(
                wire.as_ptr(),
                wire.len(),
                4096,
                &mut out,
                std::ptr::null_mut(),
            )
        };
        assert_eq!((rc, out.r#type, out.id), (0, 4, 2));
        // SAFETY: `out` is a valid frame; `buf` is valid for 16 bytes; NULL `written` is allowed.
        let rc =
            unsafe { wasmbed_frame_encode(&out, 4096, buf.as_mut_ptr(), 16, std::ptr::null_mut()) };
        assert_eq!((rc, &buf[..9]), (0, &wire[..]));
    }

    #[test]
    fn encode_into_a_buffer() {
        let frame = CFrame {
            id: 5,
            message: CMessage::Goodbye { reason: 2 },
        };
        let mut buf = [0xee; 10];
        assert_eq!(
            encode_into(&frame, 4096, &mut buf[..9]),
            Err(EncodeError::NoSpace { needed: 10 })
        );
        assert_eq!(buf, [0xee; 10], "nothing written on failure");
        assert_eq!(encode_into(&frame, 4096, &mut buf), Ok(10));
        assert_eq!(buf, *b"\0\0\0\x06\x08\0\0\0\x05\x02");
    }

    /// A length that does not fit in memory: C must not compute 4 + L naively, nor read it.
    #[test]
    fn largest_lengths() {
        let wire = [0xff, 0xff, 0xff, 0xff, 0x07, 0, 0, 0, 1];
        assert_eq!(
            decode(&wire, u32::MAX),
            Err(DecodeError::Incomplete {
                needed: 4 + u32::MAX as usize
            })
        );
        assert_eq!(decode(&wire, u32::MAX - 1), Err(DecodeError::FrameTooLarge));
        // With max_frame_len below 5, a length of 5 is too large and 4 too short, as in Rust.
        assert_eq!(
            decode(b"\0\0\0\x05\x04\0\0\0\x01", 4),
            Err(DecodeError::FrameTooLarge)
        );
        assert_eq!(decode(b"\0\0\0\x04", 0), Err(DecodeError::FrameTooShort));
        compare_decode(b"\0\0\0\x05\x04\0\0\0\x01", 4).unwrap();
        compare_decode(b"\0\0\0\x04", 0).unwrap();
    }
}

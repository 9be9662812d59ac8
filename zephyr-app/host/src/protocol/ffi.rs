//! Raw declarations of `zephyr-app/src/wasmbed_protocol.h`.

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

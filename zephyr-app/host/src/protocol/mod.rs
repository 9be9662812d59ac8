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
//! The module is laid out like the endpoint half of the crate: [`ffi`] holds the raw C
//! declarations, `codec` the safe wrappers and their contract checks, `compare` the Rust-vs-C
//! comparison; all of their public items are re-exported here.
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

mod codec;
mod compare;
pub mod ffi;

#[cfg(test)]
mod tests;

pub use codec::{
    CFrame, CMessage, Contract, DecodeError, Decoded, EINCOMPLETE, ENOSPC, EncodeError, Kind,
    decode, decode_checked, encode, encode_checked, encode_into, layout, strerror,
};
pub use compare::{Verdict, compare_decode, compare_encode};

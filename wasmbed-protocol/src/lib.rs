//! The wasmbed device wire protocol: the frames a device and the gateway exchange inside their
//! TLS session, and the device id every part of wasmbed names a device with.
//!
//! Every message is one frame: a big-endian `u32` length, then a `u8` message type, a
//! big-endian `u32` message id and the payload. `docs/protocol.md` is the reference: the byte
//! layout of every message, the session rules (HELLO first, takeover, heartbeats, errors), the
//! numbered [`ErrorCode`]s and [`GoodbyeReason`]s, the [`DeviceId`] rule, and the order in
//! which decoding errors are reported. The firmware's C codec implements the same layout; both
//! run the shared test vectors in `wasmbed-protocol/tests/vectors/frames.txt`.
//!
//! The crate is the codec only. It checks that a frame is well formed (its length, its type,
//! the exact size and content of its payload), not who sent it or when: the session layer
//! (`wasmbed-server` for the gateway, `wasmbed-client` for a device) checks direction, order
//! and the protocol version. It is `no_std` (with `alloc`), so the same model can run on a
//! device.
//!
//! * [`encode_frame`] and [`decode_frame`] encode and decode on byte slices.
//! * `FrameCodec` (feature `codec`) is a `tokio_util::codec` `Decoder` and `Encoder` for
//!   `Framed` streams. It reads the 4-byte length first and rejects a length outside
//!   `5..=max_frame_len` before it reserves any memory for the frame.
//! * [`DeviceId`] is the one device-id rule, used by the codec, the PKI (`wasmbed-tls`), the
//!   Renode artefacts (`wasmbed-renode`) and the gateway.
//!
//! ```toml
//! [dependencies]
//! wasmbed-protocol = "0.1"
//! ```
//!
//! # Example
//!
//! ```
//! use wasmbed_protocol::{
//!     DEFAULT_MAX_FRAME_LEN, DeviceId, ErrorCode, Frame, Message, MessageType, PROTOCOL_VERSION,
//!     decode_frame, encode_frame,
//! };
//!
//! let device_id: DeviceId = "dev-01".parse()?;
//! let hello = Frame {
//!     id: 1,
//!     message: Message::Hello {
//!         version: PROTOCOL_VERSION,
//!         device_id: device_id.into_string(),
//!         firmware_version: "1.0.0".into(),
//!     },
//! };
//! let wire = encode_frame(&hello, DEFAULT_MAX_FRAME_LEN)?;
//! assert_eq!(
//!     &wire[..],
//!     b"\x00\x00\x00\x13\x01\x00\x00\x00\x01\x01\x06dev-01\x051.0.0"
//! );
//!
//! // Less than a whole frame is not an error yet.
//! assert_eq!(decode_frame(&wire[..10], DEFAULT_MAX_FRAME_LEN)?, None);
//! let (frame, used) = decode_frame(&wire, DEFAULT_MAX_FRAME_LEN)?.expect("a whole frame");
//! assert_eq!((frame.message.message_type(), used), (MessageType::Hello, wire.len()));
//! assert_eq!(frame, hello);
//!
//! // A HELLO whose id breaks the rule is answered with ERROR(invalid_device_id).
//! let err = decode_frame(b"\x00\x00\x00\x0a\x01\x00\x00\x00\x01\x01\x02-x\x00", 4096)
//!     .unwrap_err();
//! assert_eq!(err.error_code(), ErrorCode::InvalidDeviceId);
//! # Ok::<(), Box<dyn core::error::Error>>(())
//! ```
//!
//! # Crate features
//!
//! * `std` (default): implements `std::error::Error` through `core::error::Error` as usual and
//!   adds `ProtocolError::Io` (a failed read or write) with `From<std::io::Error>`.
//! * `codec` (default, implies `std`): `FrameCodec`, the `tokio-util` codec. It adds
//!   `tokio-util` (and through it `tokio` with no runtime features) to the dependencies.
//!
//! Both are on by default because the gateway and the Rust device client, the crate's main
//! users, frame TLS streams with `tokio-util`. A `no_std` user, or one that only needs the
//! message model and the slice codec, sets `default-features = false`; the normal
//! dependencies are then `bytes` and `thiserror` only.

#![no_std]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod code;
#[cfg(feature = "codec")]
mod codec;
mod device_id;
mod error;
mod message;
mod wire;

/// The `bytes` crate, whose [`Bytes`](bytes::Bytes) carries ECHO, ECHO_REPLY and DATA payloads
/// and encoded frames; re-exported so users name the same version.
pub use bytes;
/// The `tokio-util` crate, whose `Decoder` and `Encoder` [`FrameCodec`] implements;
/// re-exported so users name the same version (feature `codec`).
#[cfg(feature = "codec")]
pub use tokio_util;

pub use code::{ErrorCode, GoodbyeReason};
#[cfg(feature = "codec")]
pub use codec::FrameCodec;
pub use device_id::{DeviceId, DeviceIdError, MAX_DEVICE_ID_LEN};
pub use error::ProtocolError;
pub use message::{Frame, MAX_FIRMWARE_LEN, Message, MessageType, PROTOCOL_VERSION};
pub use wire::{
    DEFAULT_MAX_FRAME_LEN, LENGTH_PREFIX_LEN, MAX_HELLO_FRAME_LEN, MIN_FRAME_LEN, decode_frame,
    encode_frame,
};

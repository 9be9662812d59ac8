//! The gateway endpoint a wasmbed device dials, and the RAM mailbox that carries it.
//!
//! A device runs Zephyr in the Renode emulator. Before it boots, a Renode script writes the
//! gateway's endpoint (`10.42.0.12:8081`) into device RAM; the firmware reads it, parses it,
//! and opens a TLS session. This crate is the Rust half of that contract: the endpoint grammar
//! ([`Endpoint`], [`Host`]), the mailbox image ([`MemoryImage`]), the Renode bus writes that
//! put it in device RAM and their `sysbus WriteDoubleWord` lines, rendered and read back
//! ([`sysbus`]), and the pure part of turning the gateway's configured address into the
//! endpoint devices dial ([`resolve`](mod@resolve)). The firmware's C parser
//! (`zephyr-app/src/wasmbed_endpoint.c`) implements the same grammar with the same error kinds
//! and offsets; differential tests and fuzzing check that the two agree. The contract is written down in
//! `docs/endpoint.md`.
//!
//! # Example
//!
//! ```toml
//! [dependencies]
//! wasmbed-endpoint = "0.1"
//! ```
//!
//! ```
//! use wasmbed_endpoint::{Endpoint, MemoryImage, MAILBOX_DEFAULT_BASE};
//!
//! let endpoint: Endpoint = "10.42.0.12:8081".parse()?;
//! let image = MemoryImage::encode(&endpoint)?;
//! for line in image.sysbus_lines(MAILBOX_DEFAULT_BASE)? {
//!     println!("{line}"); // sysbus WriteDoubleWord 0x20001000 0x0000000f ...
//! }
//!
//! // What the firmware does with the region after boot:
//! assert_eq!(MemoryImage::decode(image.as_bytes())?, endpoint);
//!
//! // Errors say what and where.
//! let err = "10.42.0.256:8081".parse::<Endpoint>().unwrap_err();
//! assert_eq!(err.kind(), wasmbed_endpoint::ErrorKind::InvalidIpv4);
//! assert_eq!(err.offset(), 8);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Crate features
//!
//! The crate is `no_std` and allocation-free at its core: endpoints, DNS names, images and
//! errors are stored inline.
//!
//! * `alloc`: `MemoryImage::sysbus_script`, the lines as one `String`, and the script reader
//!   `sysbus::read_writes`.
//! * `std` (default, implies `alloc`): `std::net::ToSocketAddrs` for [`Endpoint`], resolving
//!   DNS names through the operating system.
#![no_std]
#![forbid(unsafe_code)]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod endpoint;
mod error;
pub mod layout;
mod mailbox;
mod parse;
pub mod resolve;
pub mod sysbus;

pub use endpoint::{DnsName, Endpoint, Host};
pub use error::{DecodeError, EncodeError, ErrorKind, ParseError, ResolveError, Snippet};
pub use layout::{
    DEFAULT_API_PORT, DEFAULT_TLS_PORT, MAILBOX_DEFAULT_BASE, MAILBOX_HEADER_LEN, MAILBOX_MAX_LEN,
    MAILBOX_MAX_WORDS, MAX_DNS_LABEL_LEN, MAX_DNS_NAME_LEN, MAX_LEN,
};
pub use mailbox::{MemoryImage, SysbusLines};
pub use sysbus::MemoryOp;

//! Limits of the endpoint grammar and the byte layout of the RAM mailbox.
//!
//! The same values are `#define`d in `zephyr-app/src/wasmbed_endpoint.h`; the differential
//! tests in `zephyr-app/host` assert that both agree.
//!
//! # Mailbox layout
//!
//! | offset | size | type | meaning |
//! | --- | --- | --- | --- |
//! | 0 | 4 | `u32`, little-endian | length `N` of the endpoint text, `1 <= N <= 255` |
//! | 4 | `N` | bytes | endpoint text, printable ASCII (0x21-0x7e), no NUL terminator |
//! | 4 + `N` | 0-3 | zero bytes | padding to the next 32-bit word |
//!
//! Total size: 8 to [`MAILBOX_MAX_LEN`] (260) bytes, a multiple of 4. The base address must be
//! 4-byte aligned. Renode writes the image as 32-bit little-endian bus writes
//! (`sysbus WriteDoubleWord`), so byte 0 of each word lands at its lowest address on a
//! little-endian Cortex-M.

/// Maximum length of endpoint text in bytes (`WASMBED_ENDPOINT_MAX_LEN`).
///
/// The firmware's buffer is this plus one for the NUL terminator.
pub const MAX_LEN: usize = 255;

/// Maximum length of a DNS name in bytes, not counting one final `.`
/// (`WASMBED_ENDPOINT_DNS_NAME_MAX_LEN`; RFC 1035 section 2.3.4).
pub const MAX_DNS_NAME_LEN: usize = 253;

/// Maximum length of one DNS label in bytes (`WASMBED_ENDPOINT_DNS_LABEL_MAX_LEN`; RFC 1035
/// section 2.3.4).
pub const MAX_DNS_LABEL_LEN: usize = 63;

/// The seed's mailbox base address (`WASMBED_MAILBOX_DEFAULT_BASE`).
///
/// Where it lies depends on the board: on `sam_e70_xplained/same70q21` it is outside Zephyr's
/// `sram0`; elsewhere the firmware reserves the mailbox as a devicetree memory region and the
/// Renode generator reads its address from the firmware image.
pub const MAILBOX_DEFAULT_BASE: u32 = 0x2000_1000;

/// Size of the mailbox header, the little-endian length word, in bytes
/// (`WASMBED_MAILBOX_HEADER_LEN`).
pub const MAILBOX_HEADER_LEN: usize = 4;

/// Largest mailbox image in bytes: the header plus [`MAX_LEN`] bytes of text padded to a
/// 32-bit word (`WASMBED_MAILBOX_MAX_LEN`).
pub const MAILBOX_MAX_LEN: usize = MAILBOX_HEADER_LEN + MAX_LEN.next_multiple_of(4);

/// Largest mailbox image in 32-bit words.
pub const MAILBOX_MAX_WORDS: usize = MAILBOX_MAX_LEN / 4;

/// The gateway's default TLS port for devices.
pub const DEFAULT_TLS_PORT: u16 = 8081;

/// The gateway's default HTTP API port.
pub const DEFAULT_API_PORT: u16 = 8080;

//! The wasmbed firmware's portable C, built for the host and callable from Rust.
//!
//! `build.rs` compiles `zephyr-app/src/wasmbed_endpoint.c` with the firmware's warning flags
//! (`-std=c99 -Wall -Wextra -Werror -pedantic ...`). [`parse`] and [`mailbox_read`] call it
//! with exact-length copies of their input, so a C read past the end is a heap overflow that
//! AddressSanitizer (the fuzz targets, and CI's sanitizer run) reports. [`compare`] runs the C
//! and `wasmbed-endpoint` on the same input and requires the same verdict, error kind, offset,
//! host and port; the tests in `tests/` and the fuzz targets use it. This crate is the
//! project's only `unsafe` code.
//!
//! The other C the crate links is reached through its modules: [`protocol`] (the frame codec,
//! split like this endpoint half into `ffi`, safe wrappers and comparison), [`backoff`] (the
//! reconnect delay) and [`device`] (the whole firmware on the host port, which the
//! `wasmbed-device` binary in `zephyr-app/device` runs).
//!
//! # Example
//!
//! ```
//! let endpoint = wasmbed_zephyr_host::parse(b"10.42.0.12:8081").expect("valid endpoint");
//! assert_eq!(endpoint.host, b"10.42.0.12");
//! assert_eq!(endpoint.port, 8081);
//!
//! let err = wasmbed_zephyr_host::parse(b"10.42.0.12").unwrap_err();
//! assert_eq!(err.code, 3); // WASMBED_ENDPOINT_EMISSING_PORT
//! assert_eq!(err.offset, 10);
//! ```

use std::ffi::{CStr, c_char, c_int};

pub mod backoff;
pub mod compare;
pub mod device;
pub mod protocol;

/// Raw declarations of `zephyr-app/src/wasmbed_endpoint.h`.
pub mod ffi {
    use std::ffi::{c_char, c_int};

    /// Mirror of `struct wasmbed_endpoint`; the tests check its size and offsets against C.
    #[repr(C)]
    #[derive(Debug, Clone, Copy)]
    pub struct WasmbedEndpoint {
        /// `enum wasmbed_host_type`: 1 IPv4, 2 IPv6, 3 DNS.
        pub host_type: u8,
        /// Address bytes in network order.
        pub addr: [u8; 16],
        /// Port, host byte order.
        pub port: u16,
        /// Length of `host`.
        pub host_len: usize,
        /// Host text, NUL-terminated.
        pub host: [c_char; 256],
        /// Length of `text`.
        pub text_len: usize,
        /// Endpoint text, NUL-terminated.
        pub text: [c_char; 256],
    }

    impl WasmbedEndpoint {
        /// An all-zero value, as C leaves it on failure.
        pub const ZEROED: WasmbedEndpoint = WasmbedEndpoint {
            host_type: 0,
            addr: [0; 16],
            port: 0,
            host_len: 0,
            host: [0; 256],
            text_len: 0,
            text: [0; 256],
        };
    }

    // SAFETY: these signatures match the prototypes in wasmbed_endpoint.h, which build.rs
    // compiles and links into this crate; the layout statics come from host/csrc/layout.c.
    unsafe extern "C" {
        /// `int wasmbed_endpoint_parse(const char *, size_t, struct wasmbed_endpoint *, size_t *)`.
        pub fn wasmbed_endpoint_parse(
            text: *const c_char,
            len: usize,
            out: *mut WasmbedEndpoint,
            err_offset: *mut usize,
        ) -> c_int;

        /// `int wasmbed_mailbox_read(const uint8_t *, size_t, struct wasmbed_endpoint *, size_t *)`.
        pub fn wasmbed_mailbox_read(
            mem: *const u8,
            mem_len: usize,
            out: *mut WasmbedEndpoint,
            err_offset: *mut usize,
        ) -> c_int;

        /// `const char *wasmbed_endpoint_strerror(int)`.
        pub fn wasmbed_endpoint_strerror(err: c_int) -> *const c_char;

        /// The header's constants and layout, in [`LayoutItem`](crate::LayoutItem) order.
        pub static wasmbed_host_layout: [u64; 17];

        /// Number of entries in `wasmbed_host_layout`.
        pub static wasmbed_host_layout_len: usize;
    }
}

/// Kind of host, `enum wasmbed_host_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostType {
    /// `WASMBED_HOST_IPV4`.
    Ipv4,
    /// `WASMBED_HOST_IPV6`.
    Ipv6,
    /// `WASMBED_HOST_DNS`.
    Dns,
}

/// What the C parser returned on success, copied out of `struct wasmbed_endpoint`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CEndpoint {
    /// The host's kind.
    pub host_type: HostType,
    /// Address bytes in network order (4 used for IPv4, 16 for IPv6, all zero for DNS).
    pub addr: [u8; 16],
    /// The port.
    pub port: u16,
    /// The host as written, without brackets (`host_len` bytes, checked NUL-terminated).
    pub host: Vec<u8>,
    /// The whole endpoint text (`text_len` bytes, checked NUL-terminated).
    pub text: Vec<u8>,
}

/// A C failure: the positive error code (equal to `wasmbed_endpoint::ErrorKind::code()`) and
/// the offset the C function reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CError {
    /// The negated return value, 1..=14.
    pub code: i32,
    /// `*err_offset`.
    pub offset: usize,
}

/// A C result that broke the header's contract: the differential tests fail on these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Contract {
    /// The return value is neither 0 nor a documented negative code.
    BadReturn(i32),
    /// On failure the output struct was not left zeroed.
    OutputNotZeroed,
    /// On success a field is out of its documented range or not NUL-terminated.
    BadField(&'static str),
    /// `*err_offset` was not 0 on success.
    OffsetOnSuccess(usize),
}

/// Outcome of one C call.
pub type Outcome = Result<Result<CEndpoint, CError>, Contract>;

/// Runs `wasmbed_endpoint_parse` on an exact-length heap copy of `text`.
///
/// # Panics
///
/// When the C code breaks its contract (see [`Contract`]); use [`parse_checked`] to get that
/// as a value.
pub fn parse(text: &[u8]) -> Result<CEndpoint, CError> {
    parse_checked(text)
        .unwrap_or_else(|c| panic!("wasmbed_endpoint_parse broke its contract: {c:?}"))
}

/// Runs `wasmbed_endpoint_parse` and checks the header's contract on its result.
///
/// # Errors
///
/// The outer `Err` is a [`Contract`] violation; the inner result is the parse outcome.
pub fn parse_checked(text: &[u8]) -> Outcome {
    let exact: Box<[u8]> = text.into();
    call(|out, offset| {
        // SAFETY: `exact` is a live allocation of exactly `exact.len()` bytes; `out` and
        // `offset` point to valid, writable values owned by `call`. The C function reads at
        // most `len` bytes and keeps no pointer after returning.
        unsafe {
            ffi::wasmbed_endpoint_parse(exact.as_ptr().cast::<c_char>(), exact.len(), out, offset)
        }
    })
}

/// Runs `wasmbed_mailbox_read` on an exact-length heap copy of `region`.
///
/// # Panics
///
/// When the C code breaks its contract, as [`parse`].
pub fn mailbox_read(region: &[u8]) -> Result<CEndpoint, CError> {
    mailbox_read_checked(region)
        .unwrap_or_else(|c| panic!("wasmbed_mailbox_read broke its contract: {c:?}"))
}

/// Runs `wasmbed_mailbox_read` and checks the header's contract on its result.
///
/// # Errors
///
/// As [`parse_checked`].
pub fn mailbox_read_checked(region: &[u8]) -> Outcome {
    let exact: Box<[u8]> = region.into();
    call(|out, offset| {
        // SAFETY: as in `parse_checked`: an exact-length live buffer and valid out-pointers.
        unsafe { ffi::wasmbed_mailbox_read(exact.as_ptr(), exact.len(), out, offset) }
    })
}

/// Runs `wasmbed_endpoint_parse` on `text` in place, writing into `out`: no copy and no
/// allocation, for benchmarks and the host port. `out` is zeroed on failure, as C leaves it.
///
/// # Errors
///
/// The [`CError`] the C function reported.
pub fn parse_into(text: &[u8], out: &mut ffi::WasmbedEndpoint) -> Result<(), CError> {
    let mut offset = 0;
    // SAFETY: `text` is valid for `text.len()` bytes and C reads no more; `out` and `offset`
    // are valid and writable; C keeps no pointer after returning.
    let rc = unsafe {
        ffi::wasmbed_endpoint_parse(text.as_ptr().cast::<c_char>(), text.len(), out, &mut offset)
    };
    status(rc, offset)
}

/// Runs `wasmbed_mailbox_read` on `region` in place, writing into `out`; see [`parse_into`].
///
/// # Errors
///
/// The [`CError`] the C function reported.
pub fn mailbox_read_into(region: &[u8], out: &mut ffi::WasmbedEndpoint) -> Result<(), CError> {
    let mut offset = 0;
    // SAFETY: as in `parse_into`.
    let rc = unsafe { ffi::wasmbed_mailbox_read(region.as_ptr(), region.len(), out, &mut offset) };
    status(rc, offset)
}

fn status(rc: c_int, offset: usize) -> Result<(), CError> {
    if rc == 0 {
        Ok(())
    } else {
        Err(CError {
            code: rc.saturating_neg(),
            offset,
        })
    }
}

/// `wasmbed_endpoint_strerror(code)`.
pub fn strerror(code: i32) -> &'static str {
    // SAFETY: the C function returns a pointer to a static NUL-terminated string for every
    // input.
    let text = unsafe { CStr::from_ptr(ffi::wasmbed_endpoint_strerror(code)) };
    text.to_str()
        .expect("wasmbed_endpoint_strerror returns ASCII")
}

/// Entries of the C layout table (`host/csrc/layout.c`), in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayoutItem {
    /// `WASMBED_ENDPOINT_MAX_LEN`.
    MaxLen,
    /// `WASMBED_ENDPOINT_DNS_NAME_MAX_LEN`.
    DnsNameMaxLen,
    /// `WASMBED_ENDPOINT_DNS_LABEL_MAX_LEN`.
    DnsLabelMaxLen,
    /// `WASMBED_MAILBOX_DEFAULT_BASE`.
    MailboxDefaultBase,
    /// `WASMBED_MAILBOX_HEADER_LEN`.
    MailboxHeaderLen,
    /// `WASMBED_MAILBOX_MAX_LEN`.
    MailboxMaxLen,
    /// `sizeof(struct wasmbed_endpoint)`.
    EndpointSize,
    /// `offsetof(struct wasmbed_endpoint, host_type)`.
    OffsetHostType,
    /// `offsetof(struct wasmbed_endpoint, addr)`.
    OffsetAddr,
    /// `offsetof(struct wasmbed_endpoint, port)`.
    OffsetPort,
    /// `offsetof(struct wasmbed_endpoint, host_len)`.
    OffsetHostLen,
    /// `offsetof(struct wasmbed_endpoint, host)`.
    OffsetHost,
    /// `offsetof(struct wasmbed_endpoint, text_len)`.
    OffsetTextLen,
    /// `offsetof(struct wasmbed_endpoint, text)`.
    OffsetText,
    /// `WASMBED_HOST_IPV4`.
    HostIpv4,
    /// `WASMBED_HOST_IPV6`.
    HostIpv6,
    /// `WASMBED_HOST_DNS`.
    HostDns,
}

/// The C value of one layout item.
pub fn layout(item: LayoutItem) -> u64 {
    // SAFETY: both statics are immutable and initialised at compile time in layout.c; the
    // index is checked against the length C reports.
    unsafe {
        let table = &ffi::wasmbed_host_layout;
        assert_eq!(
            ffi::wasmbed_host_layout_len,
            table.len(),
            "layout.c and LayoutItem disagree"
        );
        table[item as usize]
    }
}

fn call(f: impl FnOnce(*mut ffi::WasmbedEndpoint, *mut usize) -> c_int) -> Outcome {
    // Poison the output so "zeroed on failure" and "written on success" are observable.
    let mut out = ffi::WasmbedEndpoint {
        host_type: 0xa5,
        addr: [0xa5; 16],
        port: 0xa5a5,
        host_len: usize::MAX,
        host: [0x5a; 256],
        text_len: usize::MAX,
        text: [0x5a; 256],
    };
    let mut offset = usize::MAX;
    let rc = f(&mut out, &mut offset);
    if rc < 0 {
        if !(1..=14).contains(&-rc) {
            return Err(Contract::BadReturn(rc));
        }
        if !is_zeroed(&out) {
            return Err(Contract::OutputNotZeroed);
        }
        return Ok(Err(CError { code: -rc, offset }));
    }
    if rc != 0 {
        return Err(Contract::BadReturn(rc));
    }
    if offset != 0 {
        return Err(Contract::OffsetOnSuccess(offset));
    }
    let host_type = match out.host_type {
        1 => HostType::Ipv4,
        2 => HostType::Ipv6,
        3 => HostType::Dns,
        _ => return Err(Contract::BadField("host_type")),
    };
    let host = c_text(&out.host, out.host_len).ok_or(Contract::BadField("host"))?;
    let text = c_text(&out.text, out.text_len).ok_or(Contract::BadField("text"))?;
    Ok(Ok(CEndpoint {
        host_type,
        addr: out.addr,
        port: out.port,
        host,
        text,
    }))
}

fn is_zeroed(out: &ffi::WasmbedEndpoint) -> bool {
    out.host_type == 0
        && out.addr == [0; 16]
        && out.port == 0
        && out.host_len == 0
        && out.host.iter().all(|&c| c == 0)
        && out.text_len == 0
        && out.text.iter().all(|&c| c == 0)
}

/// The first `len` bytes of `buf` if `len` is in 1..=255 and `buf[len]` is NUL.
fn c_text(buf: &[c_char; 256], len: usize) -> Option<Vec<u8>> {
    if !(1..=255).contains(&len) || buf[len] != 0 {
        return None;
    }
    Some(buf[..len].iter().map(|&c| c as u8).collect())
}

//! Error types. Kinds are numbered like the C firmware's `enum wasmbed_endpoint_error`.

use core::fmt;

/// What is wrong with endpoint text or a mailbox image.
///
/// The numeric [`code`](ErrorKind::code) of each kind equals the C firmware's
/// `WASMBED_ENDPOINT_E*` value (the C functions return it negated), and the
/// [`Display`](fmt::Display) text equals `wasmbed_endpoint_strerror()`; the differential tests
/// in `zephyr-app/host` check both. `docs/endpoint.md` says exactly when each kind is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
#[repr(u8)]
pub enum ErrorKind {
    /// The input is empty.
    Empty = 1,
    /// The input is longer than [`MAX_LEN`](crate::MAX_LEN) (255) bytes.
    TooLong = 2,
    /// No `:` separates host and port.
    MissingPort = 3,
    /// More than one `:` outside brackets: IPv6 addresses are written `[::1]:8081`.
    UnbracketedIpv6 = 4,
    /// Nothing before the `:`.
    MissingHost = 5,
    /// The host's last label is numeric (decimal digits, or `0x` and hex digits), but the host
    /// is not a strict dotted quad.
    InvalidIpv4 = 6,
    /// The bracketed host is not an RFC 4291 IPv6 address, or the `]` is missing.
    InvalidIpv6 = 7,
    /// The host is not an RFC 1123 DNS name.
    InvalidDnsName = 8,
    /// The port is not a decimal number in 1..=65535 without sign or leading zeros.
    InvalidPort = 9,
    /// Bytes follow a complete port (or, for [`Host::parse`](crate::Host::parse), a closing
    /// bracket).
    TrailingBytes = 10,
    /// The mailbox region is shorter than its header or than the length it declares.
    MailboxTruncated = 11,
    /// The mailbox length word is 0: no endpoint was written.
    MailboxEmpty = 12,
    /// The mailbox length word is above [`MAX_LEN`](crate::MAX_LEN).
    MailboxLengthOutOfRange = 13,
    /// A byte of the mailbox text is outside printable ASCII (0x21-0x7e).
    MailboxNonPrintable = 14,
}

impl ErrorKind {
    /// Every kind, in code order.
    pub const ALL: [ErrorKind; 14] = [
        ErrorKind::Empty,
        ErrorKind::TooLong,
        ErrorKind::MissingPort,
        ErrorKind::UnbracketedIpv6,
        ErrorKind::MissingHost,
        ErrorKind::InvalidIpv4,
        ErrorKind::InvalidIpv6,
        ErrorKind::InvalidDnsName,
        ErrorKind::InvalidPort,
        ErrorKind::TrailingBytes,
        ErrorKind::MailboxTruncated,
        ErrorKind::MailboxEmpty,
        ErrorKind::MailboxLengthOutOfRange,
        ErrorKind::MailboxNonPrintable,
    ];

    /// The kind's number, 1..=14, shared with the C firmware (which returns it negated).
    pub const fn code(self) -> i32 {
        self as i32
    }

    /// The kind with this number; also accepts the negated value C functions return.
    ///
    /// Returns `None` for 0 and for numbers no kind has.
    pub fn from_code(code: i32) -> Option<ErrorKind> {
        let index = usize::try_from(code.checked_abs()?).ok()?.checked_sub(1)?;
        ErrorKind::ALL.get(index).copied()
    }

    /// A short lower-case description, identical to C's `wasmbed_endpoint_strerror()`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Empty => "empty endpoint",
            ErrorKind::TooLong => "endpoint longer than 255 bytes",
            ErrorKind::MissingPort => "missing ':' and port",
            ErrorKind::UnbracketedIpv6 => "IPv6 address must be in brackets",
            ErrorKind::MissingHost => "missing host",
            ErrorKind::InvalidIpv4 => "invalid IPv4 address",
            ErrorKind::InvalidIpv6 => "invalid IPv6 address",
            ErrorKind::InvalidDnsName => "invalid DNS name",
            ErrorKind::InvalidPort => {
                "invalid port (expected 1-65535 without sign or leading zeros)"
            }
            ErrorKind::TrailingBytes => "unexpected trailing bytes",
            ErrorKind::MailboxTruncated => "mailbox truncated",
            ErrorKind::MailboxEmpty => "mailbox empty (no endpoint written)",
            ErrorKind::MailboxLengthOutOfRange => "mailbox length above 255",
            ErrorKind::MailboxNonPrintable => "non-printable byte in mailbox text",
        }
    }

    /// What to do about it, for messages shown to people.
    const fn hint(self) -> &'static str {
        match self {
            ErrorKind::Empty | ErrorKind::MissingPort => "; write HOST:PORT, e.g. 10.42.0.12:8081",
            ErrorKind::UnbracketedIpv6 => "; write e.g. [fd00::1]:8081",
            ErrorKind::InvalidIpv4 => {
                "; a host whose last label is a number must be a dotted quad with octets 0-255 and no leading zeros"
            }
            ErrorKind::MailboxEmpty | ErrorKind::MailboxTruncated => {
                "; check that the Renode script writes the mailbox at the address the firmware reads"
            }
            _ => "",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Up to 64 bytes of the offending input around where the problem is, kept inline so errors
/// need no allocation.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Snippet {
    bytes: [u8; Snippet::CAPACITY],
    len: u8,
    start: u8,
    truncated_end: bool,
}

impl Snippet {
    /// Number of input bytes kept.
    pub const CAPACITY: usize = 64;

    /// The first [`CAPACITY`](Snippet::CAPACITY) bytes of `input`.
    pub(crate) fn new(input: &[u8]) -> Snippet {
        Snippet::around(input, 0)
    }

    /// A window of `input` that shows the byte at `offset` (the whole input if it fits).
    pub(crate) fn around(input: &[u8], offset: usize) -> Snippet {
        let start = if input.len() <= Snippet::CAPACITY {
            0
        } else {
            offset
                .saturating_sub(Snippet::CAPACITY / 2)
                .min(input.len() - Snippet::CAPACITY)
                .min(usize::from(u8::MAX))
        };
        let window = &input[start..input.len().min(start + Snippet::CAPACITY)];
        let mut bytes = [0; Snippet::CAPACITY];
        bytes[..window.len()].copy_from_slice(window);
        Snippet {
            bytes,
            // At most CAPACITY (64) bytes, and start is capped at 255 above.
            len: window.len() as u8,
            start: start as u8,
            truncated_end: start + window.len() < input.len(),
        }
    }

    /// The kept bytes: up to [`CAPACITY`](Snippet::CAPACITY) bytes of the input, starting at
    /// [`start`](Snippet::start).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    /// Offset in the input of the first kept byte.
    pub fn start(&self) -> usize {
        usize::from(self.start)
    }

    /// Whether bytes of the input were left out, before or after the kept window.
    pub fn is_truncated(&self) -> bool {
        self.start > 0 || self.truncated_end
    }
}

/// Quoted, with non-printable bytes escaped (`\x00`) and `...` where bytes were left out.
impl fmt::Display for Snippet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dots = |left_out: bool| if left_out { "..." } else { "" };
        write!(
            f,
            "\"{}{}{}\"",
            dots(self.start > 0),
            self.as_bytes().escape_ascii(),
            dots(self.truncated_end)
        )
    }
}

impl fmt::Debug for Snippet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Endpoint text (or a host, DNS name or gateway address) that does not follow the grammar of
/// `docs/endpoint.md`.
///
/// Carries the [`ErrorKind`], the byte offset into the input where the problem was found, and
/// up to 64 bytes of the input around it. Displays as
/// `invalid endpoint "10.42.0.12:80801": invalid port (...) at byte 11`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[error("invalid {what} {input}: {kind} at byte {offset}{hint}", hint = kind.hint())]
pub struct ParseError {
    kind: ErrorKind,
    offset: usize,
    input: Snippet,
    what: &'static str,
}

impl ParseError {
    pub(crate) fn new(kind: ErrorKind, offset: usize, input: &[u8]) -> ParseError {
        ParseError {
            kind,
            offset,
            input: Snippet::around(input, offset),
            what: "endpoint",
        }
    }

    /// What is wrong; one of the parse kinds ([`ErrorKind::Empty`] ..= [`ErrorKind::TrailingBytes`]).
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// Byte offset into the input where the problem was found (`docs/endpoint.md` defines it
    /// for every kind).
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// The rejected input, or the part of it around [`offset`](ParseError::offset).
    pub fn input(&self) -> &Snippet {
        &self.input
    }

    /// The same error describing what was parsed ("host", "DNS name") in its message.
    pub(crate) fn of(self, what: &'static str) -> ParseError {
        ParseError { what, ..self }
    }

    /// The same error found at `by` bytes into `input`, a larger string described as `what`.
    pub(crate) fn within(self, by: usize, input: &[u8], what: &'static str) -> ParseError {
        let offset = self.offset + by;
        ParseError {
            offset,
            input: Snippet::around(input, offset),
            what,
            ..self
        }
    }
}

/// A mailbox image that does not hold a valid endpoint.
///
/// Returned by [`MemoryImage::decode`](crate::MemoryImage::decode); the checks run in the order
/// of `docs/endpoint.md` ("RAM mailbox"), the same order as the firmware's
/// `wasmbed_mailbox_read()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The region is shorter than the header (4 bytes) or than header plus declared length.
    #[error(
        "mailbox truncated: the image needs {needed} bytes but the region has {available}{hint}",
        hint = ErrorKind::MailboxTruncated.hint()
    )]
    Truncated {
        /// Bytes the image needs: 4, or 4 + the declared length.
        needed: usize,
        /// Bytes the region has.
        available: usize,
    },
    /// The length word is 0.
    #[error("mailbox empty: the length word is 0, so no endpoint was written{hint}", hint = ErrorKind::MailboxEmpty.hint())]
    Empty,
    /// The length word is above 255.
    #[error("mailbox length {length} is above the maximum of 255 bytes")]
    LengthOutOfRange {
        /// The declared length.
        length: u32,
    },
    /// A byte of the text is not printable ASCII (0x21-0x7e).
    #[error("mailbox text byte {offset} is 0x{byte:02x}, not printable ASCII (0x21-0x7e)")]
    NonPrintable {
        /// Offset of the byte in the endpoint text (the image offset minus 4).
        offset: usize,
        /// The byte.
        byte: u8,
    },
    /// The text is printable but not a valid endpoint.
    #[error("mailbox text is not an endpoint")]
    Parse(#[source] ParseError),
}

impl DecodeError {
    /// The kind, numbered like the C reader's return value.
    pub fn kind(&self) -> ErrorKind {
        match self {
            DecodeError::Truncated { .. } => ErrorKind::MailboxTruncated,
            DecodeError::Empty => ErrorKind::MailboxEmpty,
            DecodeError::LengthOutOfRange { .. } => ErrorKind::MailboxLengthOutOfRange,
            DecodeError::NonPrintable { .. } => ErrorKind::MailboxNonPrintable,
            DecodeError::Parse(e) => e.kind(),
        }
    }

    /// The offset the C reader reports: bytes needed for [`Truncated`](DecodeError::Truncated),
    /// the offset into the text for [`NonPrintable`](DecodeError::NonPrintable) and
    /// [`Parse`](DecodeError::Parse), otherwise 0.
    pub fn offset(&self) -> usize {
        match self {
            DecodeError::Truncated { needed, .. } => *needed,
            DecodeError::Empty | DecodeError::LengthOutOfRange { .. } => 0,
            DecodeError::NonPrintable { offset, .. } => *offset,
            DecodeError::Parse(e) => e.offset(),
        }
    }
}

/// An endpoint or mailbox placement that cannot be written as a mailbox image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// The endpoint's port is 0, which no device can dial and the grammar rejects.
    #[error("endpoint port is 0; use a port in 1-65535")]
    PortZero,
    /// The endpoint's text is longer than 255 bytes (a long DNS name with a long port).
    #[error("endpoint text is {len} bytes, above the maximum of 255")]
    TooLong {
        /// Length of the endpoint text.
        len: usize,
    },
    /// The base address is not 4-byte aligned, so `WriteDoubleWord` would split words.
    #[error("mailbox base 0x{base:08x} is not 4-byte aligned")]
    Misaligned {
        /// The base address.
        base: u32,
    },
    /// The image would run past the end of the 32-bit address space.
    #[error("mailbox of {len} bytes at 0x{base:08x} runs past the end of the 32-bit address space")]
    AddressOverflow {
        /// The base address.
        base: u32,
        /// The image length in bytes.
        len: usize,
    },
    /// The output buffer is too small for what is written into it.
    #[error("buffer of {available} bytes is too small; {needed} bytes are needed")]
    BufferTooSmall {
        /// Bytes needed.
        needed: usize,
        /// Bytes the buffer has.
        available: usize,
    },
}

/// A configured gateway address or URL that cannot be turned into a device endpoint.
///
/// Returned by [`resolve`](crate::resolve::resolve).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum ResolveError {
    /// The configured address is empty.
    #[error("gateway address is empty; set it to e.g. https://10.42.0.12:8080 or gw.example:8080")]
    Empty,
    /// The URL scheme is not `http` or `https`.
    #[error("gateway address has scheme {scheme}; only http and https are understood")]
    UnsupportedScheme {
        /// The scheme as written.
        scheme: Snippet,
    },
    /// The URL carries user information (`user@host`), which the device endpoint cannot use.
    #[error("gateway address {input} has user information before '@'; remove it")]
    UserInfo {
        /// The configured address.
        input: Snippet,
    },
    /// The host or port is invalid; the offset is into the configured address.
    #[error(transparent)]
    Address(ParseError),
    /// The device endpoint's text would be longer than 255 bytes.
    #[error(
        "device endpoint would be {len} bytes, above the maximum of 255; use a shorter host name"
    )]
    TooLong {
        /// Length of the endpoint text.
        len: usize,
    },
    /// The TLS port to put on the endpoint is 0.
    #[error("device TLS port is 0; use a port in 1-65535 (the default is 8081)")]
    PortZero,
}

//! [`Endpoint`], [`Host`] and [`DnsName`].

use core::fmt::{self, Write as _};
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use core::str::FromStr;

use crate::error::{EncodeError, ErrorKind, ParseError};
use crate::layout::{MAX_DNS_NAME_LEN, MAX_LEN};
use crate::parse;

/// A gateway endpoint: the host and TLS port a device dials, such as `10.42.0.12:8081`.
///
/// Parsed from and displayed as text following the grammar of `docs/endpoint.md`: an IPv4
/// dotted quad, an IPv6 address in brackets or an RFC 1123 DNS name, then `:` and a port in
/// 1..=65535. Parsing the [`Display`](fmt::Display) text gives back an equal value, and
/// [`MemoryImage`](crate::MemoryImage) writes that text into the firmware's RAM mailbox.
///
/// Holds no heap memory (a DNS name is stored inline), so it is `Copy` and works without
/// `alloc`.
///
/// # Examples
///
/// ```
/// use wasmbed_endpoint::{Endpoint, Host};
///
/// let endpoint: Endpoint = "10.42.0.12:8081".parse()?;
/// assert_eq!(endpoint.host, Host::Ipv4([10, 42, 0, 12].into()));
/// assert_eq!(endpoint.port, 8081);
///
/// let v6: Endpoint = "[2001:DB8:0:0::1]:8081".parse()?;
/// assert_eq!(v6.to_string(), "[2001:db8::1]:8081"); // RFC 5952 form
/// # Ok::<(), wasmbed_endpoint::ParseError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Endpoint {
    /// Where the gateway is.
    pub host: Host,
    /// The gateway's TLS port for devices. The grammar requires 1..=65535.
    ///
    /// Endpoints built from parts rather than parsed can break the grammar: port 0, or a DNS
    /// name of more than about 248 bytes whose text with the port exceeds 255 bytes. Such an
    /// endpoint displays as text that does not parse, and [`MemoryImage::encode`](crate::MemoryImage::encode)
    /// refuses it.
    pub port: u16,
}

impl Endpoint {
    /// An endpoint from its parts.
    pub const fn new(host: Host, port: u16) -> Endpoint {
        Endpoint { host, port }
    }

    /// Parses endpoint text such as `gw.example:8081`, `10.42.0.12:8081` or `[fd00::1]:8081`.
    ///
    /// # Errors
    ///
    /// A [`ParseError`] whose [`kind`](ParseError::kind) and [`offset`](ParseError::offset)
    /// are those `docs/endpoint.md` prescribes (the firmware's parser reports the same).
    pub fn parse(text: &str) -> Result<Endpoint, ParseError> {
        Endpoint::parse_bytes(text.as_bytes())
    }

    /// Parses endpoint text given as bytes, such as a mailbox's contents.
    ///
    /// Bytes outside the grammar, including non-ASCII and NUL, are errors.
    ///
    /// # Errors
    ///
    /// As [`Endpoint::parse`].
    pub fn parse_bytes(text: &[u8]) -> Result<Endpoint, ParseError> {
        parse::endpoint(text)
            .map(|(host, port)| Endpoint { host, port })
            .map_err(|f| ParseError::new(f.kind, f.offset, text))
    }

    /// The address to connect to, when the host is an IP address (`None` for a DNS name).
    pub fn socket_addr(&self) -> Option<SocketAddr> {
        self.host.ip().map(|ip| SocketAddr::new(ip, self.port))
    }

    /// Writes the [`Display`](fmt::Display) text into `buf` and returns its length in bytes.
    ///
    /// For callers without an allocator, such as firmware tools; the text is at most
    /// [`MAX_LEN`] bytes.
    ///
    /// # Errors
    ///
    /// [`EncodeError::PortZero`] for port 0, [`EncodeError::TooLong`] when the text exceeds
    /// [`MAX_LEN`] (a DNS name near 253 bytes with a long port), and
    /// [`EncodeError::BufferTooSmall`] when `buf` cannot hold it.
    pub fn encode_into(&self, buf: &mut [u8]) -> Result<usize, EncodeError> {
        if self.port == 0 {
            return Err(EncodeError::PortZero);
        }
        let mut text = TextBuf::new();
        // TextBuf holds MAX_LEN + 8 bytes, more than the longest Display text (a 254-byte DNS
        // name, ':' and 5 digits: 260), so the write cannot fail.
        fmt::write(&mut text, format_args!("{self}"))
            .map_err(|_| EncodeError::TooLong { len: text.len + 1 })?;
        let text = text.as_bytes();
        if text.len() > MAX_LEN {
            return Err(EncodeError::TooLong { len: text.len() });
        }
        let available = buf.len();
        let out = buf
            .get_mut(..text.len())
            .ok_or(EncodeError::BufferTooSmall {
                needed: text.len(),
                available,
            })?;
        out.copy_from_slice(text);
        Ok(text.len())
    }
}

/// `host:port`, with IPv6 in brackets in RFC 5952 form.
/// Honours width, fill and alignment (`{:>40}`) like `str`.
impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = TextBuf::new();
        match &self.host {
            Host::Ipv6(ip) => write!(text, "[{ip}]:{}", self.port)?,
            host => write!(text, "{host}:{}", self.port)?,
        }
        f.pad(text.as_str())
    }
}

impl FromStr for Endpoint {
    type Err = ParseError;

    fn from_str(text: &str) -> Result<Endpoint, ParseError> {
        Endpoint::parse(text)
    }
}

impl TryFrom<&str> for Endpoint {
    type Error = ParseError;

    fn try_from(text: &str) -> Result<Endpoint, ParseError> {
        Endpoint::parse(text)
    }
}

impl TryFrom<&[u8]> for Endpoint {
    type Error = ParseError;

    fn try_from(text: &[u8]) -> Result<Endpoint, ParseError> {
        Endpoint::parse_bytes(text)
    }
}

/// The address and port; an IPv6 scope id is dropped (the grammar has no zone ids) and port 0
/// is kept (such an endpoint does not encode).
impl From<SocketAddr> for Endpoint {
    fn from(addr: SocketAddr) -> Endpoint {
        Endpoint::new(addr.ip().into(), addr.port())
    }
}

impl<H: Into<Host>> From<(H, u16)> for Endpoint {
    fn from((host, port): (H, u16)) -> Endpoint {
        Endpoint::new(host.into(), port)
    }
}

/// Resolves a DNS name through the operating system's resolver; IP hosts resolve to
/// themselves without a lookup.
#[cfg(feature = "std")]
impl std::net::ToSocketAddrs for Endpoint {
    type Iter = std::vec::IntoIter<SocketAddr>;

    fn to_socket_addrs(&self) -> std::io::Result<Self::Iter> {
        match &self.host {
            Host::Dns(name) => (name.as_str(), self.port).to_socket_addrs(),
            _ => Ok(self
                .socket_addr()
                .into_iter()
                .collect::<std::vec::Vec<_>>()
                .into_iter()),
        }
    }
}

/// The host of an [`Endpoint`].
///
/// Which variant a text becomes is decided by the grammar, not by trying alternatives: brackets
/// make an IPv6 address; a host whose last label is a number (digits, or `0x` and hex digits)
/// must be a dotted quad (so
/// `10.42.0.256` is an error, not a DNS name); anything else is a DNS name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
// A DNS name is stored inline (255 bytes) so that endpoints need no allocator on devices and
// in no_std tools; boxing it would make the crate require `alloc`.
#[allow(clippy::large_enum_variant)]
pub enum Host {
    /// An IPv4 address, written as a strict dotted quad.
    Ipv4(Ipv4Addr),
    /// An IPv6 address, written in brackets in an endpoint.
    Ipv6(Ipv6Addr),
    /// A DNS name, kept as written.
    Dns(DnsName),
}

impl Host {
    /// Parses a host without a port: `10.42.0.12`, `gw.example`, `[fd00::1]` or `fd00::1`.
    ///
    /// # Errors
    ///
    /// A [`ParseError`] with the host kinds of `docs/endpoint.md`: [`ErrorKind::MissingHost`]
    /// for empty input, [`ErrorKind::TooLong`] above [`MAX_LEN`] bytes,
    /// [`ErrorKind::InvalidIpv6`] for text with `:` or brackets that is not IPv6,
    /// [`ErrorKind::TrailingBytes`] after a closing bracket, [`ErrorKind::InvalidIpv4`] and
    /// [`ErrorKind::InvalidDnsName`] as in an endpoint.
    pub fn parse(text: &str) -> Result<Host, ParseError> {
        Host::parse_bytes(text.as_bytes())
    }

    /// Parses a host given as bytes; see [`Host::parse`].
    ///
    /// # Errors
    ///
    /// As [`Host::parse`].
    pub fn parse_bytes(text: &[u8]) -> Result<Host, ParseError> {
        let fail = |kind, offset| ParseError::new(kind, offset, text).of("host");
        if text.len() > MAX_LEN {
            return Err(fail(ErrorKind::TooLong, MAX_LEN));
        }
        if let Some(rest) = text.strip_prefix(b"[") {
            let close = rest
                .iter()
                .position(|&b| b == b']')
                .ok_or(fail(ErrorKind::InvalidIpv6, 0))?;
            let ip = parse::ipv6(&rest[..close]).ok_or(fail(ErrorKind::InvalidIpv6, 1))?;
            if close + 2 != text.len() {
                return Err(fail(ErrorKind::TrailingBytes, close + 2));
            }
            return Ok(Host::Ipv6(ip));
        }
        if text.contains(&b':') {
            return parse::ipv6(text)
                .map(Host::Ipv6)
                .ok_or(fail(ErrorKind::InvalidIpv6, 0));
        }
        parse::unbracketed_host(text).map_err(|f| fail(f.kind, f.offset))
    }

    /// The IP address, or `None` for a DNS name.
    pub fn ip(&self) -> Option<IpAddr> {
        match self {
            Host::Ipv4(ip) => Some(IpAddr::V4(*ip)),
            Host::Ipv6(ip) => Some(IpAddr::V6(*ip)),
            Host::Dns(_) => None,
        }
    }

    /// Whether the host names this machine only: `127.0.0.0/8`, `::1`, `::ffff:127.0.0.0/104`,
    /// `localhost` and names under `.localhost` (RFC 6761 section 6.3), in any case and with
    /// or without a final `.`.
    ///
    /// A device in an emulator cannot reach its gateway at such an address (the seed's "local
    /// address" case).
    pub fn is_loopback(&self) -> bool {
        match self {
            Host::Ipv4(ip) => ip.is_loopback(),
            Host::Ipv6(ip) => {
                ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
            }
            Host::Dns(name) => {
                let name = name
                    .as_bytes()
                    .strip_suffix(b".")
                    .unwrap_or(name.as_bytes());
                let suffix = b".localhost";
                name.eq_ignore_ascii_case(&suffix[1..])
                    || (name.len() > suffix.len()
                        && name[name.len() - suffix.len()..].eq_ignore_ascii_case(suffix))
            }
        }
    }

    /// Whether the host is the unspecified address (`0.0.0.0`, `::` or `::ffff:0.0.0.0`): a
    /// listening address, never one to dial.
    pub fn is_unspecified(&self) -> bool {
        match self {
            Host::Ipv4(ip) => ip.is_unspecified(),
            Host::Ipv6(ip) => {
                ip.is_unspecified() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_unspecified())
            }
            Host::Dns(_) => false,
        }
    }
}

/// IPv4 dotted quad, IPv6 in RFC 5952 form without brackets, DNS names as written.
impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Ipv4(ip) => ip.fmt(f),
            Host::Ipv6(ip) => ip.fmt(f),
            Host::Dns(name) => f.pad(name.as_str()),
        }
    }
}

impl FromStr for Host {
    type Err = ParseError;

    fn from_str(text: &str) -> Result<Host, ParseError> {
        Host::parse(text)
    }
}

impl TryFrom<&str> for Host {
    type Error = ParseError;

    fn try_from(text: &str) -> Result<Host, ParseError> {
        Host::parse(text)
    }
}

impl From<IpAddr> for Host {
    fn from(ip: IpAddr) -> Host {
        match ip {
            IpAddr::V4(ip) => Host::Ipv4(ip),
            IpAddr::V6(ip) => Host::Ipv6(ip),
        }
    }
}

impl From<Ipv4Addr> for Host {
    fn from(ip: Ipv4Addr) -> Host {
        Host::Ipv4(ip)
    }
}

impl From<Ipv6Addr> for Host {
    fn from(ip: Ipv6Addr) -> Host {
        Host::Ipv6(ip)
    }
}

impl From<DnsName> for Host {
    fn from(name: DnsName) -> Host {
        Host::Dns(name)
    }
}

/// A validated RFC 1123 DNS name, stored inline (at most 254 bytes: 253 and a final `.`).
///
/// Labels are 1-63 bytes of `[A-Za-z0-9-]` that neither start nor end with `-`; the last label
/// is not a number (such a host is an IPv4 address or invalid; see [`Host`]). Comparison, hashing and
/// display use the name exactly as written: `Gw.Example.` and `gw.example` are different
/// values, as they are different endpoint texts.
#[derive(Clone, Copy)]
pub struct DnsName {
    bytes: [u8; MAX_DNS_NAME_LEN + 1],
    len: u8,
}

impl DnsName {
    /// Parses a DNS name.
    ///
    /// # Errors
    ///
    /// A [`ParseError`] of kind [`ErrorKind::InvalidDnsName`] (or [`ErrorKind::InvalidIpv4`] /
    /// [`ErrorKind::MissingHost`] for a numeric last label / empty input, as in an endpoint)
    /// at the offending byte. An IP address is not a DNS name: it is rejected too.
    pub fn parse(text: &str) -> Result<DnsName, ParseError> {
        match Host::parse_bytes(text.as_bytes()).map_err(|e| e.of("DNS name"))? {
            Host::Dns(name) => Ok(name),
            Host::Ipv4(_) | Host::Ipv6(_) => {
                Err(ParseError::new(ErrorKind::InvalidDnsName, 0, text.as_bytes()).of("DNS name"))
            }
        }
    }

    /// Builds a name the parser has already validated (at most 254 bytes of ASCII).
    pub(crate) fn from_validated(text: &[u8]) -> DnsName {
        let mut bytes = [0; MAX_DNS_NAME_LEN + 1];
        bytes[..text.len()].copy_from_slice(text);
        DnsName {
            bytes,
            // The parser allows at most 254 bytes, which fits in a u8.
            len: text.len() as u8,
        }
    }

    /// The name as written.
    pub fn as_str(&self) -> &str {
        core::str::from_utf8(self.as_bytes()).expect("a validated DNS name is ASCII")
    }

    /// The name as written, in bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    /// Whether the name ends with `.` (fully qualified, never completed with a search domain).
    pub fn is_fully_qualified(&self) -> bool {
        self.as_bytes().ends_with(b".")
    }
}

impl PartialEq for DnsName {
    fn eq(&self, other: &DnsName) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for DnsName {}

impl core::hash::Hash for DnsName {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state);
    }
}

impl PartialOrd for DnsName {
    fn partial_cmp(&self, other: &DnsName) -> Option<core::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for DnsName {
    fn cmp(&self, other: &DnsName) -> core::cmp::Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl fmt::Debug for DnsName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for DnsName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl AsRef<str> for DnsName {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl TryFrom<&str> for DnsName {
    type Error = ParseError;

    fn try_from(text: &str) -> Result<DnsName, ParseError> {
        DnsName::parse(text)
    }
}

impl FromStr for DnsName {
    type Err = ParseError;

    fn from_str(text: &str) -> Result<DnsName, ParseError> {
        DnsName::parse(text)
    }
}

/// A fixed buffer for formatting an endpoint without allocating.
struct TextBuf {
    bytes: [u8; MAX_LEN + 8],
    len: usize,
}

impl TextBuf {
    fn new() -> TextBuf {
        TextBuf {
            bytes: [0; MAX_LEN + 8],
            len: 0,
        }
    }

    fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    fn as_str(&self) -> &str {
        core::str::from_utf8(self.as_bytes()).expect("endpoint display text is ASCII")
    }
}

impl fmt::Write for TextBuf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        self.bytes
            .get_mut(self.len..end)
            .ok_or(fmt::Error)?
            .copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

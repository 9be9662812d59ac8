//! From the gateway's configured address to the endpoint devices dial.
//!
//! The pure part of the seed's "Gateway Endpoint Resolution": the control plane knows the
//! gateway by an address or URL (`http://gw:8080`, `https://10.42.0.12`, `[::1]:8080`); devices
//! need `host:tls_port`. [`resolve`] keeps the host, puts the TLS port on it, and reports when
//! the host is loopback or unspecified so the caller substitutes a routable address (on
//! Kubernetes the pod IP from the Downward API, or a headless Service's DNS name) instead of
//! the seed's `kubectl get pods`.
//!
//! # Why is `127.0.0.1` flagged instead of replaced?
//!
//! Which address is routable from the emulator depends on where it runs (host network, a TAP,
//! a pod); a pure function cannot know. Replacing silently is how the seed ended up with
//! devices dialling `127.0.0.1`. [`DeviceEndpoint::needs_routable_address`] makes the caller
//! decide, and [`DeviceEndpoint::with_host`] applies its decision.

use core::net::SocketAddr;

use crate::endpoint::{Endpoint, Host};
use crate::error::{EncodeError, ErrorKind, ParseError, ResolveError, Snippet};
use crate::layout::{DEFAULT_TLS_PORT, MAX_LEN};
use crate::parse;

/// Where a device-facing host points, as far as the text alone tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HostScope {
    /// This machine only (see [`Host::is_loopback`]); unreachable from an emulated device on
    /// another network stack.
    Loopback,
    /// The unspecified address (`0.0.0.0`, `::`): a bind address, never a destination.
    Unspecified,
    /// An IPv6 link-local address (`fe80::/10`): dialable only with a zone id (the interface),
    /// which the endpoint grammar does not carry.
    LinkLocal,
    /// Anything else: an address or name that may be routable from the device.
    Other,
}

impl HostScope {
    /// The scope of `host`.
    pub fn of(host: &Host) -> HostScope {
        if host.is_loopback() {
            HostScope::Loopback
        } else if host.is_unspecified() {
            HostScope::Unspecified
        } else if matches!(host, Host::Ipv6(ip) if ip.is_unicast_link_local()) {
            HostScope::LinkLocal
        } else {
            HostScope::Other
        }
    }
}

/// The endpoint a device dials, with what [`resolve`] learned about its host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DeviceEndpoint {
    endpoint: Endpoint,
    scope: HostScope,
}

impl DeviceEndpoint {
    /// The endpoint: the configured host on the TLS port.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// What kind of host it is.
    pub fn scope(&self) -> HostScope {
        self.scope
    }

    /// Whether the host is loopback (the seed's "local address" case).
    pub fn is_loopback(&self) -> bool {
        self.scope == HostScope::Loopback
    }

    /// Whether a device cannot dial the host as it stands (loopback, unspecified or IPv6
    /// link-local), so the caller must put a routable host in, found by
    /// [`substitute`](DeviceEndpoint::substitute).
    pub fn needs_routable_address(&self) -> bool {
        matches!(
            self.scope,
            HostScope::Loopback | HostScope::Unspecified | HostScope::LinkLocal
        )
    }

    /// The endpoint a device dials with `candidate` in place of this host, or `None` when the
    /// candidate is no use: a host that itself [needs a routable
    /// address](DeviceEndpoint::needs_routable_address), or an IPv6 address while this host
    /// is `0.0.0.0` (a socket bound to it accepts IPv4 only). DNS names are always taken.
    ///
    /// This and [`dial`](DeviceEndpoint::dial) are the one rule for "which address should a
    /// device dial", shared by the gateway's start-up hints and Renode provisioning.
    ///
    /// # Errors
    ///
    /// [`ResolveError::TooLong`] when the endpoint text would exceed 255 bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// use wasmbed_endpoint::resolve::resolve;
    /// use wasmbed_endpoint::Host;
    ///
    /// let bound = resolve("0.0.0.0", 8081)?;
    /// let lan = bound.substitute(Host::parse("192.168.1.20")?)?.unwrap();
    /// assert_eq!(lan.endpoint().to_string(), "192.168.1.20:8081");
    /// assert!(bound.substitute(Host::parse("fd00::2")?)?.is_none());
    /// assert!(bound.substitute(Host::parse("127.0.0.1")?)?.is_none());
    /// # Ok::<(), Box<dyn core::error::Error>>(())
    /// ```
    pub fn substitute(&self, candidate: Host) -> Result<Option<DeviceEndpoint>, ResolveError> {
        let other_family = matches!(
            (&self.endpoint.host, &candidate),
            (Host::Ipv4(bound), Host::Ipv6(_)) if bound.is_unspecified()
        );
        if other_family || HostScope::of(&candidate) != HostScope::Other {
            return Ok(None);
        }
        self.with_host(candidate).map(Some)
    }

    /// The endpoints a device should dial, best first: this one alone when its host is
    /// dialable, else each of `candidates` (say, the gateway machine's interface addresses)
    /// that [`substitute`](DeviceEndpoint::substitute) takes, in order. Candidates that would
    /// make the endpoint longer than 255 bytes are skipped. Empty when none will do.
    ///
    /// # Examples
    ///
    /// ```
    /// use wasmbed_endpoint::resolve::DeviceEndpoint;
    /// use wasmbed_endpoint::Host;
    ///
    /// let bound = DeviceEndpoint::from("0.0.0.0:8081".parse::<core::net::SocketAddr>()?);
    /// let interfaces = ["127.0.0.1", "10.42.0.12", "fe80::1", "fd00::2"].map(|a| Host::parse(a).unwrap());
    /// let dial: Vec<String> = bound.dial(interfaces).map(|d| d.endpoint().to_string()).collect();
    /// assert_eq!(dial, ["10.42.0.12:8081"]);
    /// # Ok::<(), Box<dyn core::error::Error>>(())
    /// ```
    pub fn dial<I>(self, candidates: I) -> impl Iterator<Item = DeviceEndpoint>
    where
        I: IntoIterator<Item = Host>,
    {
        let dialable = !self.needs_routable_address();
        core::iter::once(self).filter(move |_| dialable).chain(
            candidates
                .into_iter()
                .filter(move |_| !dialable)
                .filter_map(move |candidate| self.substitute(candidate).ok().flatten()),
        )
    }

    /// The same port on another host, such as the pod IP the caller found.
    ///
    /// # Errors
    ///
    /// [`ResolveError::TooLong`] when the endpoint text would exceed 255 bytes (a DNS name of
    /// more than about 248 bytes).
    pub fn with_host(self, host: Host) -> Result<DeviceEndpoint, ResolveError> {
        DeviceEndpoint::new(Endpoint::new(host, self.endpoint.port))
    }

    fn new(endpoint: Endpoint) -> Result<DeviceEndpoint, ResolveError> {
        match endpoint.encode_into(&mut [0; MAX_LEN]) {
            Err(EncodeError::TooLong { len }) => Err(ResolveError::TooLong { len }),
            _ => Ok(DeviceEndpoint {
                scope: HostScope::of(&endpoint.host),
                endpoint,
            }),
        }
    }
}

/// The endpoint of a listening socket, as devices would dial it before any substitution: the
/// bound address and port (an IP endpoint always fits the 255-byte limit).
impl From<SocketAddr> for DeviceEndpoint {
    fn from(bound: SocketAddr) -> DeviceEndpoint {
        let endpoint = Endpoint::from(bound);
        DeviceEndpoint {
            scope: HostScope::of(&endpoint.host),
            endpoint,
        }
    }
}

/// Resolves a configured gateway address or URL to the endpoint devices dial on `tls_port`.
///
/// Accepts `http://` or `https://` URLs (scheme in any case, with optional port, path, query
/// and fragment, all dropped) and bare `host` or `host:port` (IPv6 in brackets; a path is
/// dropped there too). Text before
/// `://` counts as a scheme only if it is one by RFC 3986 section 3.1. The host is
/// checked with the endpoint grammar; any port given must itself be valid, then `tls_port`
/// replaces it.
///
/// # Errors
///
/// [`ResolveError::Empty`], [`ResolveError::UnsupportedScheme`], [`ResolveError::UserInfo`],
/// [`ResolveError::PortZero`] when `tls_port` is 0, [`ResolveError::Address`] with a
/// [`ParseError`] whose offset is into `configured` (an IPv6 address without brackets is
/// [`ErrorKind::UnbracketedIpv6`], with or without a port), and [`ResolveError::TooLong`] when
/// the resulting endpoint text would exceed 255 bytes.
///
/// # Examples
///
/// ```
/// use wasmbed_endpoint::resolve::{resolve, HostScope};
///
/// let device = resolve("https://10.42.0.12:8080/api", 8081)?;
/// assert_eq!(device.endpoint().to_string(), "10.42.0.12:8081");
/// assert_eq!(device.scope(), HostScope::Other);
///
/// let local = resolve("http://localhost:8080", 8081)?;
/// assert!(local.needs_routable_address());
/// let routed = local.with_host("10.42.0.12".parse()?)?;
/// assert_eq!(routed.endpoint().to_string(), "10.42.0.12:8081");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn resolve(configured: &str, tls_port: u16) -> Result<DeviceEndpoint, ResolveError> {
    let input = configured.as_bytes();
    if input.is_empty() {
        return Err(ResolveError::Empty);
    }
    if tls_port == 0 {
        return Err(ResolveError::PortZero);
    }
    let (authority_start, authority) = match scheme(configured) {
        Some(scheme) => {
            if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
                return Err(ResolveError::UnsupportedScheme {
                    scheme: Snippet::new(scheme.as_bytes()),
                });
            }
            (scheme.len() + 3, &configured[scheme.len() + 3..])
        }
        None => (0, configured),
    };
    let authority =
        &authority.as_bytes()[..authority.find(['/', '?', '#']).unwrap_or(authority.len())];
    if authority.contains(&b'@') {
        return Err(ResolveError::UserInfo {
            input: Snippet::new(input),
        });
    }
    let fail = |kind, offset| {
        ResolveError::Address(ParseError::new(kind, authority_start + offset, input).of(WHAT))
    };
    let (host, port_start) = split_authority(authority).map_err(|(kind, at)| fail(kind, at))?;
    let host = Host::parse_bytes(host)
        .map_err(|e| ResolveError::Address(e.within(authority_start, input, WHAT)))?;
    if let Some(at) = port_start {
        parse::port(&authority[at..]).map_err(|f| fail(f.kind, at + f.offset))?;
    }
    DeviceEndpoint::new(Endpoint::new(host, tls_port))
}

/// How [`ParseError`]s from [`resolve`] describe their input.
const WHAT: &str = "gateway address";

/// Resolves with the default TLS port, [`DEFAULT_TLS_PORT`] (8081).
///
/// # Errors
///
/// As [`resolve`].
pub fn resolve_default(configured: &str) -> Result<DeviceEndpoint, ResolveError> {
    resolve(configured, DEFAULT_TLS_PORT)
}

/// The scheme of `configured` if it starts with an RFC 3986 section 3.1 scheme and `://`.
fn scheme(configured: &str) -> Option<&str> {
    let (scheme, _) = configured.split_once("://")?;
    let mut bytes = scheme.bytes();
    let valid = bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    valid.then_some(scheme)
}

/// The host text of an authority and where its port starts, if it has one.
type HostAndPort<'a> = (&'a [u8], Option<usize>);

/// Splits `host[:port]` (IPv6 in brackets) into the host text and where the port starts.
fn split_authority(authority: &[u8]) -> Result<HostAndPort<'_>, (ErrorKind, usize)> {
    if authority.starts_with(b"[") {
        let close = authority
            .iter()
            .position(|&b| b == b']')
            .ok_or((ErrorKind::InvalidIpv6, 0))?;
        return match authority.get(close + 1) {
            None => Ok((authority, None)),
            Some(b':') => Ok((&authority[..=close], Some(close + 2))),
            Some(_) => Err((ErrorKind::TrailingBytes, close + 1)),
        };
    }
    let mut colons = authority.iter().enumerate().filter(|&(_, &b)| b == b':');
    match (colons.next(), colons.next()) {
        (None, _) => Ok((authority, None)),
        (Some((at, _)), None) => Ok((&authority[..at], Some(at + 1))),
        // A bare IPv6 address, with or without a port: ambiguous, so refused.
        (Some(_), Some(_)) => Err((ErrorKind::UnbracketedIpv6, 0)),
    }
}

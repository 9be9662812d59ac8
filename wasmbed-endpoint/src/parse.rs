//! The endpoint grammar of `docs/endpoint.md`, with nom.
//!
//! Every function here reports the first failure in the order the document gives, as a
//! [`Failure`] whose offset is into the slice it was handed; callers shift offsets. The C
//! parser in `zephyr-app/src/wasmbed_endpoint.c` walks the same steps in the same order, which
//! is what makes the differential tests able to compare offsets, not just verdicts.

use core::net::{Ipv4Addr, Ipv6Addr};

use nom::IResult;
use nom::bytes::complete::{tag, take_till, take_until, take_while};
use nom::character::complete::digit0;

use crate::endpoint::{DnsName, Host};
use crate::error::ErrorKind;
use crate::layout::{MAX_DNS_LABEL_LEN, MAX_DNS_NAME_LEN, MAX_LEN};

/// A failure: what and where (offset into the slice the function was given).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Failure {
    pub(crate) kind: ErrorKind,
    pub(crate) offset: usize,
}

impl Failure {
    fn at(kind: ErrorKind, offset: usize) -> Failure {
        Failure { kind, offset }
    }

    fn shifted(self, by: usize) -> Failure {
        Failure {
            offset: self.offset + by,
            ..self
        }
    }
}

type Input<'a> = &'a [u8];

/// Where the host and port sit in the endpoint text.
struct Split<'a> {
    host: Input<'a>,
    host_start: usize,
    bracketed: bool,
    port_start: usize,
}

/// Parses a whole endpoint: `host ":" port`, steps 1-5 of the document.
pub(crate) fn endpoint(input: Input<'_>) -> Result<(Host, u16), Failure> {
    if input.is_empty() {
        return Err(Failure::at(ErrorKind::Empty, 0));
    }
    if input.len() > MAX_LEN {
        return Err(Failure::at(ErrorKind::TooLong, MAX_LEN));
    }
    let split = split(input)?;
    let host = if split.bracketed {
        Host::Ipv6(ipv6(split.host).ok_or(Failure::at(ErrorKind::InvalidIpv6, split.host_start))?)
    } else {
        unbracketed_host(split.host)?
    };
    let port = port(&input[split.port_start..]).map_err(|f| f.shifted(split.port_start))?;
    Ok((host, port))
}

fn split(input: Input<'_>) -> Result<Split<'_>, Failure> {
    let n = input.len();
    if let Ok((rest, _)) = tag::<_, _, ()>(&b"["[..])(input) {
        let (after, host) = take_until::<_, _, ()>(&b"]"[..])(rest)
            .map_err(|_| Failure::at(ErrorKind::InvalidIpv6, 0))?;
        let close = n - after.len();
        return match after.get(1) {
            None => Err(Failure::at(ErrorKind::MissingPort, n)),
            Some(b':') => Ok(Split {
                host,
                host_start: 1,
                bracketed: true,
                port_start: close + 2,
            }),
            Some(_) => Err(Failure::at(ErrorKind::MissingPort, close + 1)),
        };
    }
    let (rest, host) = until_colon(input);
    let Some(port) = rest.strip_prefix(b":") else {
        return Err(Failure::at(ErrorKind::MissingPort, n));
    };
    if port.contains(&b':') {
        return Err(Failure::at(ErrorKind::UnbracketedIpv6, 0));
    }
    Ok(Split {
        host,
        host_start: 0,
        bracketed: false,
        port_start: host.len() + 1,
    })
}

fn until_colon(input: Input<'_>) -> (Input<'_>, Input<'_>) {
    let parsed: IResult<_, _, ()> = take_till(|b| b == b':')(input);
    // take_till on complete input cannot fail: at worst it takes everything.
    parsed.unwrap_or((&[], input))
}

/// Parses an unbracketed host (IPv4 or DNS name), step 4 of the document.
pub(crate) fn unbracketed_host(host: Input<'_>) -> Result<Host, Failure> {
    if host.is_empty() {
        return Err(Failure::at(ErrorKind::MissingHost, 0));
    }
    if ends_in_number(host) {
        ipv4(host).map(Host::Ipv4)
    } else {
        dns_name(host).map(Host::Dns)
    }
}

/// The WHATWG URL standard's "ends in a number" test: the last label (ignoring one final `.`)
/// is decimal digits, or `0x`/`0X` followed by hex digits. Such a host is an IPv4 address or
/// invalid, never a DNS name: resolvers such as glibc's `inet_aton` read `0x7f000001` and
/// `10.1` as addresses, so letting them through as names would hide loopback hosts.
fn ends_in_number(host: Input<'_>) -> bool {
    let without_dot = host.strip_suffix(b".").unwrap_or(host);
    let last = without_dot
        .rsplit(|&b| b == b'.')
        .next()
        .unwrap_or(without_dot);
    match last
        .strip_prefix(b"0x")
        .or_else(|| last.strip_prefix(b"0X"))
    {
        Some(hex) => hex.iter().all(u8::is_ascii_hexdigit),
        None => !last.is_empty() && last.iter().all(u8::is_ascii_digit),
    }
}

/// A strict dotted quad: exactly four parts of 1-3 digits, no leading zeros, at most 255.
pub(crate) fn ipv4(host: Input<'_>) -> Result<Ipv4Addr, Failure> {
    let mut octets = [0u8; 4];
    let mut count = 0;
    for (start, part) in parts(host) {
        let octet = octets
            .get_mut(count)
            .ok_or(Failure::at(ErrorKind::InvalidIpv4, start))?;
        *octet = decimal(part, 3)
            .and_then(|v| u8::try_from(v).ok())
            .ok_or(Failure::at(ErrorKind::InvalidIpv4, start))?;
        count += 1;
    }
    if count < octets.len() {
        return Err(Failure::at(ErrorKind::InvalidIpv4, host.len()));
    }
    Ok(Ipv4Addr::from(octets))
}

/// An RFC 1123 name: labels of 1-63 `[A-Za-z0-9-]` without a leading or trailing `-`, at
/// most 253 bytes without one final `.`.
pub(crate) fn dns_name(host: Input<'_>) -> Result<DnsName, Failure> {
    let name = host.strip_suffix(b".").unwrap_or(host);
    if name.is_empty() {
        return Err(Failure::at(ErrorKind::InvalidDnsName, 0));
    }
    for (start, label) in parts(name) {
        label_check(label).map_err(|f| f.shifted(start))?;
    }
    if name.len() > MAX_DNS_NAME_LEN {
        return Err(Failure::at(ErrorKind::InvalidDnsName, MAX_DNS_NAME_LEN));
    }
    Ok(DnsName::from_validated(host))
}

fn label_check(label: Input<'_>) -> Result<(), Failure> {
    let bad = |offset| Err(Failure::at(ErrorKind::InvalidDnsName, offset));
    if label.is_empty() {
        return bad(0);
    }
    let (rest, valid) = label_bytes(label);
    if !rest.is_empty() {
        return bad(valid.len());
    }
    if label.len() > MAX_DNS_LABEL_LEN {
        return bad(MAX_DNS_LABEL_LEN);
    }
    if label.starts_with(b"-") {
        return bad(0);
    }
    if label.ends_with(b"-") {
        return bad(label.len() - 1);
    }
    Ok(())
}

fn label_bytes(label: Input<'_>) -> (Input<'_>, Input<'_>) {
    let parsed: IResult<_, _, ()> =
        take_while(|b: u8| b.is_ascii_alphanumeric() || b == b'-')(label);
    // take_while on complete input cannot fail: at worst it takes nothing.
    parsed.unwrap_or((label, &[]))
}

/// RFC 4291 section 2.2 text form (RFC 3986 `IPv6address`): core's parser implements exactly
/// that grammar, including a strict embedded dotted quad and no zone id.
pub(crate) fn ipv6(text: Input<'_>) -> Option<Ipv6Addr> {
    core::str::from_utf8(text).ok()?.parse().ok()
}

/// A port: 1-65535 in decimal, no sign, no leading zeros, nothing after it.
pub(crate) fn port(input: Input<'_>) -> Result<u16, Failure> {
    let (rest, digits) = digit_run(input);
    let value = decimal(digits, 5)
        .and_then(|v| u16::try_from(v).ok())
        .filter(|&v| v != 0)
        .ok_or(Failure::at(ErrorKind::InvalidPort, 0))?;
    if !rest.is_empty() {
        return Err(Failure::at(ErrorKind::TrailingBytes, digits.len()));
    }
    Ok(value)
}

fn digit_run(input: Input<'_>) -> (Input<'_>, Input<'_>) {
    let parsed: IResult<_, _, ()> = digit0(input);
    // digit0 on complete input cannot fail: at worst it takes nothing.
    parsed.unwrap_or((input, &[]))
}

/// The value of 1..=`max_digits` ASCII digits without a leading zero (a lone "0" is fine).
fn decimal(digits: Input<'_>, max_digits: usize) -> Option<u32> {
    let valid = !digits.is_empty()
        && digits.len() <= max_digits
        && digits.iter().all(u8::is_ascii_digit)
        && !(digits.len() > 1 && digits[0] == b'0');
    valid.then(|| {
        digits
            .iter()
            .fold(0, |acc, &d| acc * 10 + u32::from(d - b'0'))
    })
}

/// `text` split on `.`, each part with its offset.
fn parts(text: Input<'_>) -> impl Iterator<Item = (usize, Input<'_>)> {
    text.split(|&b| b == b'.').scan(0, |start, part| {
        let here = *start;
        *start += part.len() + 1;
        Some((here, part))
    })
}

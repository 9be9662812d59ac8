//! proptest strategies for endpoint text, shared by this crate's tests and `zephyr-app/host`'s.
//!
//! `valid_endpoint` builds only grammatical text. `near_miss` builds text from the grammar's
//! pieces with the mistakes people and bugs make (leading zeros, 256, 65536, missing brackets,
//! empty and 64-byte labels, stray bytes, NUL, non-ASCII), so about half of it is rejected at
//! every step of the error order in `docs/endpoint.md`.

// Shared by several test binaries in two crates; each uses a subset of it.
#![allow(dead_code, unreachable_pub)]

use proptest::prelude::*;
use proptest::sample::select;

/// A DNS label that the grammar accepts (1-63 bytes, no leading or trailing '-').
pub fn label() -> impl Strategy<Value = String> {
    "[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
}

/// A DNS name the grammar accepts whose last label is not all digits.
pub fn dns_name() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(label(), 0..4),
        "[A-Za-z][A-Za-z0-9-]{0,20}[A-Za-z0-9]|[A-Za-z]",
        any::<bool>(),
    )
        .prop_map(|(mut labels, last, dot)| {
            labels.push(last);
            let mut name = labels.join(".");
            name.truncate(200);
            // Truncating may leave a '-' or '.' at the end, or an all-digit last label.
            while name.ends_with(['-', '.']) || name.rsplit('.').next().is_some_and(is_number) {
                name.pop();
                if name.is_empty() {
                    name.push('x');
                }
            }
            if dot {
                name.push('.');
            }
            name
        })
}

/// Whether a label is a number in the grammar's sense: digits, or `0x`/`0X` and hex digits.
pub fn is_number(label: &str) -> bool {
    match label
        .strip_prefix("0x")
        .or_else(|| label.strip_prefix("0X"))
    {
        Some(hex) => hex.bytes().all(|b| b.is_ascii_hexdigit()),
        None => !label.is_empty() && label.bytes().all(|b| b.is_ascii_digit()),
    }
}

/// Text of a valid endpoint: `ipv4:port`, `[ipv6]:port` (any text form) or `dns:port`.
pub fn valid_endpoint() -> impl Strategy<Value = String> {
    let host = prop_oneof![
        any::<std::net::Ipv4Addr>().prop_map(|ip| ip.to_string()),
        ipv6_text().prop_map(|t| format!("[{t}]")),
        dns_name(),
    ];
    (host, 1u16..=65535).prop_map(|(host, port)| format!("{host}:{port}"))
}

/// IPv6 text in several forms: compressed, fully expanded with leading zeros, upper case,
/// with an embedded IPv4.
pub fn ipv6_text() -> impl Strategy<Value = String> {
    (any::<[u16; 8]>(), 0u8..4, 0usize..8, 0usize..8).prop_map(|(groups, form, a, b)| {
        let mut groups = groups;
        let (lo, hi) = (a.min(b), a.max(b));
        for g in &mut groups[lo..hi] {
            *g = 0;
        }
        let ip = std::net::Ipv6Addr::from(groups);
        match form {
            0 => ip.to_string(),
            1 => groups
                .iter()
                .map(|g| format!("{g:04x}"))
                .collect::<Vec<_>>()
                .join(":"),
            2 => ip.to_string().to_uppercase(),
            _ => {
                let [a, b, c, d] = [
                    groups[6] >> 8,
                    groups[6] & 0xff,
                    groups[7] >> 8,
                    groups[7] & 0xff,
                ];
                let head = groups[..6]
                    .iter()
                    .map(|g| format!("{g:x}"))
                    .collect::<Vec<_>>()
                    .join(":");
                format!("{head}:{a}.{b}.{c}.{d}")
            }
        }
    })
}

/// One piece of endpoint-like text, valid or nearly so.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        // Octets and numbers around every limit.
        select(OCTETS).prop_map(String::from),
        select(
            &[
                "1",
                "80",
                "8081",
                "65535",
                "65536",
                "0",
                "08081",
                "99999",
                "100000",
                "+80",
                "-1",
                "4294967297"
            ][..]
        )
        .prop_map(String::from),
        // Separators and brackets, doubled and missing.
        select(
            &[
                ".", ".", ".", ":", ":", "::", ":::", "[", "]", "[]", "%", "/", "@"
            ][..]
        )
        .prop_map(String::from),
        // Labels: valid, empty-making, edge lengths 63/64, hyphens, underscores.
        label(),
        select(
            &[
                "-",
                "a-",
                "-a",
                "a_b",
                "xn--p1ai",
                "localhost",
                "A",
                "z9",
                "0x",
                "0x7f",
                "0XfF",
                "0xg",
                "0x0x"
            ][..]
        )
        .prop_map(String::from),
        (62usize..=65).prop_map(|n| "a".repeat(n)),
        // IPv6 groups and whole addresses.
        select(&["ffff", "FFFF", "0", "12345", "fe80", "g", "0db8", "1"][..])
            .prop_map(String::from),
        ipv6_text(),
        any::<std::net::Ipv4Addr>().prop_map(|ip| ip.to_string()),
        // Bytes that never belong: NUL, space, controls, non-ASCII, DEL.
        select(&["\0", " ", "\n", "\t", "\u{7f}", "é", "\u{ff}"][..]).prop_map(String::from),
    ]
}

/// Decimal octets around every limit, valid and not.
const OCTETS: &[&str] = &[
    "0", "1", "9", "10", "99", "100", "199", "249", "255", "256", "260", "300", "999", "01", "00",
    "001", "0255", "1a", "", "0x7f", "0X1", "0x",
];

/// A dotted quad that is often wrong: 3-5 parts from [`OCTETS`].
pub fn dotted_near_miss() -> impl Strategy<Value = String> {
    prop::collection::vec(select(OCTETS), 3..=5).prop_map(|parts| parts.join("."))
}

/// IPv6 text that is often wrong: a valid address in some text form with one `:`-separated
/// token replaced, inserted or removed (a group of 0 or 5 digits, a bad hex digit, a dotted quad
/// that is wrong or misplaced, one `::` too many).
pub fn ipv6_near_miss() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        select(&["0", "ffff", "FFFF", "00000", "12345", "g", "", "0db8"][..])
            .prop_map(String::from),
        dotted_near_miss(),
        any::<std::net::Ipv4Addr>().prop_map(|ip| ip.to_string()),
    ];
    (ipv6_text(), 0u8..3, any::<prop::sample::Index>(), token).prop_map(
        |(text, op, index, token)| {
            let mut tokens: Vec<String> = text.split(':').map(String::from).collect();
            let i = index.index(tokens.len());
            match op {
                0 => tokens[i] = token,
                1 => tokens.insert(i, token),
                _ if tokens.len() > 1 => {
                    tokens.remove(i);
                }
                _ => tokens[i] = token,
            }
            tokens.join(":")
        },
    )
}

/// Text assembled from pieces, usually shaped `host:port`, often subtly wrong.
pub fn near_miss() -> impl Strategy<Value = Vec<u8>> {
    let shaped = (
        any::<u8>(),
        prop::collection::vec(piece(), 1..8),
        prop::collection::vec(piece(), 0..3),
    )
        .prop_map(|(shape, host, port)| {
            let host: String = host.concat();
            let port: String = port.concat();
            match shape % 5 {
                0 => format!("{host}:{port}"),
                1 => format!("[{host}]:{port}"),
                2 => format!("{host}{port}"),
                3 => format!("[{host}:{port}"),
                _ => format!("{host}:{port}{}", if shape & 0x80 != 0 { "\0" } else { "" }),
            }
        });
    let mutated = (
        valid_endpoint(),
        any::<prop::sample::Index>(),
        any::<u8>(),
        0u8..4,
    )
        .prop_map(|(text, index, byte, op)| {
            let mut bytes = text.into_bytes();
            let i = index.index(bytes.len() + 1);
            match op {
                0 => bytes.insert(i, byte),
                1 if i < bytes.len() => {
                    bytes.remove(i);
                }
                2 if i < bytes.len() => bytes[i] = byte,
                _ => bytes.truncate(i),
            }
            bytes
        });
    let port = select(&["1", "80", "8081", "65535", "65536", "0", "08081", ""][..]);
    // Names near the 253-byte limit; only "name:" with an empty port fits 255 bytes at 254.
    let long_name = (240usize..=258, 1usize..=63, port.clone()).prop_map(|(len, label, port)| {
        let mut name: String = (0..len)
            .map(|i| if i % (label + 1) == label { '.' } else { 'a' })
            .collect();
        if name.ends_with('.') {
            name.pop();
            name.push('b');
        }
        format!("{name}:{port}")
    });
    let addresses = prop_oneof![
        (ipv6_near_miss(), port.clone()).prop_map(|(ip, port)| format!("[{ip}]:{port}")),
        (dotted_near_miss(), port).prop_map(|(ip, port)| format!("{ip}:{port}")),
    ];
    prop_oneof![
        3 => shaped.prop_map(String::into_bytes),
        3 => mutated,
        2 => addresses.prop_map(String::into_bytes),
        1 => long_name.prop_map(String::into_bytes),
        1 => valid_endpoint().prop_map(String::into_bytes),
    ]
}

/// A mailbox region: a length word (often right, often not), text, padding and a region size
/// that may cut it short.
pub fn mailbox_region() -> impl Strategy<Value = Vec<u8>> {
    let text = prop_oneof![
        valid_endpoint().prop_map(String::into_bytes),
        near_miss(),
        prop::collection::vec(any::<u8>(), 0..300),
    ];
    (
        text,
        prop_oneof![
            Just(None),
            Just(Some(0u32)),
            (1u32..=300).prop_map(Some),
            any::<u32>().prop_map(Some)
        ],
        prop::collection::vec(any::<u8>(), 0..8),
        prop::option::of(0usize..300),
    )
        .prop_map(|(text, length, padding, cut)| {
            let length = length.unwrap_or(text.len() as u32);
            let mut region = length.to_le_bytes().to_vec();
            region.extend_from_slice(&text);
            region.extend_from_slice(&padding);
            if let Some(cut) = cut {
                region.truncate(cut);
            }
            region
        })
}

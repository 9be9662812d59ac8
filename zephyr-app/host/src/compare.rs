//! Rust against C on one input: the check the differential tests and fuzz targets share.
//!
//! Both sides must give the same verdict; on success the same host kind, address bytes, port,
//! DNS name, and C's host and text must be the input's own bytes; on failure the same
//! [`ErrorKind`] and offset. C must also keep its header's contract ([`Contract`](crate::Contract)).

use wasmbed_endpoint::{Endpoint, ErrorKind, Host, MemoryImage};

use crate::{CEndpoint, HostType, Outcome, mailbox_read_checked, parse_checked};

/// Runs both parsers on `input`.
///
/// Returns the error kind when both rejected it, `None` when both accepted it.
///
/// # Errors
///
/// A description of the first difference, or of a C contract violation, with the input.
pub fn parse(input: &[u8]) -> Result<Option<ErrorKind>, String> {
    let c = parse_checked(input);
    let rust = Endpoint::parse_bytes(input).map_err(|e| (e.kind(), e.offset()));
    verdict(input, c, rust.as_ref(), Some(input))
}

/// Runs both mailbox readers on `region`.
///
/// # Errors
///
/// As [`parse`].
pub fn mailbox(region: &[u8]) -> Result<Option<ErrorKind>, String> {
    let c = mailbox_read_checked(region);
    let rust = MemoryImage::decode(region).map_err(|e| (e.kind(), e.offset()));
    verdict(region, c, rust.as_ref(), None)
}

fn verdict(
    input: &[u8],
    c: Outcome,
    rust: Result<&Endpoint, &(ErrorKind, usize)>,
    text: Option<&[u8]>,
) -> Result<Option<ErrorKind>, String> {
    let shown = input.escape_ascii();
    let c = c.map_err(|v| format!("C broke its contract on \"{shown}\": {v:?}"))?;
    match (c, rust) {
        (Ok(c), Ok(rust)) => {
            same_endpoint(&c, rust, text).map_err(|d| format!("on \"{shown}\": {d}"))?;
            Ok(None)
        }
        (Err(c), Err(&(kind, offset))) => {
            if (c.code, c.offset) != (kind.code(), offset) {
                return Err(format!(
                    "on \"{shown}\": C error {} at {}, Rust {kind:?} ({}) at {offset}",
                    c.code,
                    c.offset,
                    kind.code()
                ));
            }
            Ok(Some(kind))
        }
        (c, rust) => Err(format!("disagree on \"{shown}\": C {c:?}, Rust {rust:?}")),
    }
}

fn same_endpoint(c: &CEndpoint, rust: &Endpoint, text: Option<&[u8]>) -> Result<(), String> {
    let (host_type, addr) = match rust.host {
        Host::Ipv4(ip) => {
            let mut addr = [0; 16];
            addr[..4].copy_from_slice(&ip.octets());
            (HostType::Ipv4, addr)
        }
        Host::Ipv6(ip) => (HostType::Ipv6, ip.octets()),
        Host::Dns(name) => {
            if c.host != name.as_bytes() {
                return Err(format!(
                    "DNS name: C {:?}, Rust {name:?}",
                    c.host.escape_ascii().to_string()
                ));
            }
            (HostType::Dns, [0; 16])
        }
    };
    if (c.host_type, c.addr, c.port) != (host_type, addr, rust.port) {
        return Err(format!(
            "C {:?} {:?} port {}, Rust {host_type:?} {addr:?} port {}",
            c.host_type, c.addr, c.port, rust.port
        ));
    }
    if let Some(text) = text {
        if c.text != text {
            return Err("C text is not the input".into());
        }
        // C's host is the input's host text as written, without brackets.
        let bracketed = text.first() == Some(&b'[');
        let colon = text.iter().rposition(|&b| b == b':').unwrap_or(text.len());
        let written = &text[usize::from(bracketed)..colon - usize::from(bracketed)];
        if c.host != written {
            return Err(format!(
                "C host {:?} is not the written host",
                c.host.escape_ascii().to_string()
            ));
        }
    }
    Ok(())
}

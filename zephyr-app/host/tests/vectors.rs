//! The shared vectors in `wasmbed-endpoint/tests/vectors/`, run against the C implementation.

#[path = "../../../wasmbed-endpoint/tests/support/vectors.rs"]
mod vectors;

use std::net::Ipv6Addr;

use vectors::Expected;
use wasmbed_endpoint::ErrorKind;
use wasmbed_zephyr_host::{CEndpoint, CError, HostType, mailbox_read, parse};

fn kind_name(code: i32) -> String {
    format!(
        "{:?}",
        ErrorKind::from_code(code).expect("C returns a known code")
    )
}

/// C's view of an endpoint in the vector file's terms (IPv6 shown RFC 5952 from its bytes).
fn describe(e: &CEndpoint) -> (String, String) {
    let host = String::from_utf8(e.host.clone()).unwrap();
    match e.host_type {
        HostType::Ipv4 => ("ipv4".into(), host),
        HostType::Ipv6 => ("ipv6".into(), Ipv6Addr::from(e.addr).to_string()),
        HostType::Dns => ("dns".into(), host),
    }
}

fn error(e: CError) -> Expected {
    Expected::Error {
        kind: kind_name(e.code),
        offset: e.offset,
    }
}

#[test]
fn endpoint_vectors() {
    for case in vectors::endpoints() {
        let got = match parse(&case.input) {
            Ok(e) => {
                let (host_type, host) = describe(&e);
                assert_eq!(e.text, case.input, "line {}", case.line);
                Expected::Endpoint {
                    host_type,
                    host,
                    port: e.port,
                }
            }
            Err(e) => error(e),
        };
        assert_eq!(got, case.expected, "endpoints.txt line {}", case.line);
    }
}

#[test]
fn mailbox_vectors() {
    for case in vectors::mailboxes() {
        let got = match mailbox_read(&case.input) {
            Ok(e) => Expected::Display(match e.host_type {
                HostType::Ipv6 => format!("[{}]:{}", Ipv6Addr::from(e.addr), e.port),
                _ => String::from_utf8(e.text).unwrap(),
            }),
            Err(e) => error(e),
        };
        assert_eq!(got, case.expected, "mailbox.txt line {}", case.line);
    }
}

/// The mailbox reader must not depend on the region's alignment (Renode writes words, but the
/// firmware may hand the reader any pointer).
#[test]
fn mailbox_at_every_alignment() {
    let image = b"\x0f\0\0\x0010.42.0.12:8081\0";
    for shift in 0..4 {
        let mut region = vec![0xee; shift];
        region.extend_from_slice(image);
        let e = mailbox_read(&region[shift..]).unwrap();
        assert_eq!((e.addr[..4].to_vec(), e.port), (vec![10, 42, 0, 12], 8081));
    }
}

//! The firmware's C parser (under AddressSanitizer) and the Rust parser agree on every input:
//! verdict, error kind and offset, host kind, address, host text and port.
//!
//! Run: `cargo +nightly fuzz run endpoint_differential fuzz/corpus/endpoint_differential fuzz/seeds/endpoint_differential`
#![no_main]

use libfuzzer_sys::{Corpus, fuzz_target};
use wasmbed_endpoint::{Endpoint, Host, MAX_LEN};
use wasmbed_zephyr_host::{HostType, parse_checked};

fuzz_target!(|data: &[u8]| -> Corpus {
    if data.len() > MAX_LEN + 8 {
        return Corpus::Reject;
    }
    let c = parse_checked(data).unwrap_or_else(|v| panic!("C broke its contract: {v:?}"));
    match (Endpoint::parse_bytes(data), c) {
        (Ok(rust), Ok(c)) => {
            assert_eq!(c.port, rust.port);
            assert_eq!(c.text, data);
            match rust.host {
                Host::Ipv4(ip) => {
                    assert_eq!(c.host_type, HostType::Ipv4);
                    assert_eq!(c.addr[..4], ip.octets());
                }
                Host::Ipv6(ip) => {
                    assert_eq!(c.host_type, HostType::Ipv6);
                    assert_eq!(c.addr, ip.octets());
                }
                Host::Dns(name) => {
                    assert_eq!(c.host_type, HostType::Dns);
                    assert_eq!(c.host, name.as_bytes());
                }
            }
        }
        (Err(rust), Err(c)) => {
            assert_eq!(
                (c.code, c.offset),
                (rust.kind().code(), rust.offset()),
                "{rust}"
            );
        }
        (rust, c) => panic!(
            "disagree on {:?}: rust {rust:?}, C {c:?}",
            data.escape_ascii().to_string()
        ),
    }
    Corpus::Keep
});

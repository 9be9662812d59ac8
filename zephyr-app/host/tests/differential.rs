//! Rust (`wasmbed-endpoint`) and C (`zephyr-app/src/wasmbed_endpoint.c`) agree on every input:
//! accept or reject, error kind and offset, host kind, address bytes, host text and port.
//!
//! Each property runs `WASMBED_DIFF_CASES` cases (default 100,000). The C code gets exact-length
//! heap copies, so an over-read is caught by the fuzz targets' AddressSanitizer build.

#[path = "../../../wasmbed-endpoint/tests/support/strategies.rs"]
mod strategies;

use std::collections::BTreeSet;
use std::sync::Mutex;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use wasmbed_endpoint::{Endpoint, ErrorKind, Host, MemoryImage};
use wasmbed_zephyr_host::{CEndpoint, HostType, mailbox_read_checked, parse_checked};

/// What both sides said, in one comparable shape.
#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    Accepted {
        host_type: HostType,
        addr: [u8; 16],
        host: Vec<u8>,
        port: u16,
    },
    Rejected {
        code: i32,
        offset: usize,
    },
}

fn rust_verdict(endpoint: &Endpoint) -> Verdict {
    let (host_type, addr, host) = match endpoint.host {
        Host::Ipv4(ip) => {
            let mut addr = [0; 16];
            addr[..4].copy_from_slice(&ip.octets());
            (HostType::Ipv4, addr, None)
        }
        Host::Ipv6(ip) => (HostType::Ipv6, ip.octets(), None),
        Host::Dns(name) => (HostType::Dns, [0; 16], Some(name.as_bytes().to_vec())),
    };
    Verdict::Accepted {
        host_type,
        addr,
        host: host.unwrap_or_default(),
        port: endpoint.port,
    }
}

fn c_verdict(c: &CEndpoint) -> Verdict {
    Verdict::Accepted {
        host_type: c.host_type,
        addr: c.addr,
        // IP hosts are compared by address; C keeps their text as written, which is checked
        // against the input separately.
        host: if c.host_type == HostType::Dns {
            c.host.clone()
        } else {
            Vec::new()
        },
        port: c.port,
    }
}

fn cases() -> u32 {
    std::env::var("WASMBED_DIFF_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000)
}

/// Runs `strategy` through `check` for `cases()` cases and returns the error kinds seen.
fn run<S: Strategy>(
    strategy: S,
    check: impl Fn(&S::Value) -> Result<Option<ErrorKind>, TestCaseError>,
) -> BTreeSet<ErrorKind> {
    let seen = Mutex::new(BTreeSet::new());
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&strategy, |value| {
            if let Some(kind) = check(&value)? {
                seen.lock().unwrap().insert(kind);
            }
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
    seen.into_inner().unwrap()
}

fn compare_parse(input: &[u8]) -> Result<Option<ErrorKind>, TestCaseError> {
    let c = parse_checked(input)
        .map_err(|v| TestCaseError::fail(format!("C broke its contract: {v:?}")))?;
    let rust = Endpoint::parse_bytes(input);
    let shown = input.escape_ascii().to_string();
    match (&rust, &c) {
        (Ok(r), Ok(c)) => {
            prop_assert_eq!(c_verdict(c), rust_verdict(r), "input {}", shown);
            prop_assert_eq!(&c.text[..], input, "C text, input {}", shown);
            let bracketed = input.first() == Some(&b'[');
            let host_end = input.iter().rposition(|&b| b == b':').unwrap();
            let written = &input[usize::from(bracketed)..host_end - usize::from(bracketed)];
            prop_assert_eq!(&c.host[..], written, "C host text, input {}", shown);
            Ok(None)
        }
        (Err(r), Err(c)) => {
            prop_assert_eq!(
                Verdict::Rejected {
                    code: c.code,
                    offset: c.offset
                },
                Verdict::Rejected {
                    code: r.kind().code(),
                    offset: r.offset()
                },
                "input {} ({})",
                shown,
                r
            );
            Ok(Some(r.kind()))
        }
        _ => Err(TestCaseError::fail(format!(
            "disagree on {shown}: Rust {rust:?}, C {c:?}"
        ))),
    }
}

/// Arbitrary byte strings: mostly rejected early, but any byte anywhere.
#[test]
fn arbitrary_bytes() {
    let seen = run(prop::collection::vec(any::<u8>(), 0..300), |b| {
        compare_parse(b)
    });
    assert!(seen.len() >= 5, "arbitrary bytes reached only {seen:?}");
}

/// Text built from the grammar's pieces, valid and almost valid.
#[test]
fn grammar_pieces() {
    let seen = run(strategies::near_miss(), |b| compare_parse(b));
    let parse_kinds: BTreeSet<_> = ErrorKind::ALL[..10].iter().copied().collect();
    assert_eq!(
        seen, parse_kinds,
        "the generator must reach every parse error kind"
    );
}

/// Valid endpoints in every text form, and their canonical display.
#[test]
fn valid_endpoints() {
    run(strategies::valid_endpoint(), |text| {
        prop_assert_eq!(
            compare_parse(text.as_bytes())?,
            None,
            "valid text rejected: {}",
            text
        );
        let canonical = text.parse::<Endpoint>().unwrap().to_string();
        compare_parse(canonical.as_bytes())
    });
}

/// Mailbox regions: lengths right and wrong, truncated regions, any text.
#[test]
fn mailbox_regions() {
    let seen = run(strategies::mailbox_region(), |region| {
        let c = mailbox_read_checked(region)
            .map_err(|v| TestCaseError::fail(format!("C broke its contract: {v:?}")))?;
        let rust = MemoryImage::decode(region);
        match (&rust, &c) {
            (Ok(r), Ok(c)) => {
                prop_assert_eq!(c_verdict(c), rust_verdict(r));
                Ok(None)
            }
            (Err(r), Err(c)) => {
                prop_assert_eq!((c.code, c.offset), (r.kind().code(), r.offset()), "{}", r);
                Ok(Some(r.kind()))
            }
            _ => Err(TestCaseError::fail(format!(
                "disagree on region {}: Rust {rust:?}, C {c:?}",
                region.escape_ascii()
            ))),
        }
    });
    for kind in [
        ErrorKind::MailboxTruncated,
        ErrorKind::MailboxEmpty,
        ErrorKind::MailboxLengthOutOfRange,
        ErrorKind::MailboxNonPrintable,
    ] {
        assert!(
            seen.contains(&kind),
            "mailbox generator never produced {kind:?}: {seen:?}"
        );
    }
}

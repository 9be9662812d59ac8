//! Rust (`wasmbed-endpoint`) and C (`zephyr-app/src/wasmbed_endpoint.c`) agree on every input:
//! accept or reject, error kind and offset, host kind, address bytes, host text and port.
//!
//! Each property runs `WASMBED_DIFF_CASES` cases (default 100,000). The C code gets exact-length
//! heap copies, so an over-read is caught when CI runs these tests under AddressSanitizer.

#[path = "../../../wasmbed-endpoint/tests/support/strategies.rs"]
mod strategies;

use std::collections::BTreeSet;
use std::sync::Mutex;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use wasmbed_endpoint::{Endpoint, ErrorKind};
use wasmbed_zephyr_host::compare;

fn cases() -> u32 {
    std::env::var("WASMBED_DIFF_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000)
}

/// Runs `strategy` through `check` for `cases()` cases and returns the error kinds seen.
fn run<S: Strategy>(
    strategy: S,
    check: impl Fn(&S::Value) -> Result<Option<ErrorKind>, String>,
) -> BTreeSet<ErrorKind> {
    let seen = Mutex::new(BTreeSet::new());
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&strategy, |value| {
            if let Some(kind) = check(&value).map_err(TestCaseError::fail)? {
                seen.lock().unwrap().insert(kind);
            }
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
    seen.into_inner().unwrap()
}

/// Arbitrary byte strings: mostly rejected early, but any byte anywhere.
#[test]
fn arbitrary_bytes() {
    let seen = run(prop::collection::vec(any::<u8>(), 0..300), |b| {
        compare::parse(b)
    });
    assert!(seen.len() >= 5, "arbitrary bytes reached only {seen:?}");
}

/// Text built from the grammar's pieces, valid and almost valid.
#[test]
fn grammar_pieces() {
    let seen = run(strategies::near_miss(), |b| compare::parse(b));
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
        if let Some(kind) = compare::parse(text.as_bytes())? {
            return Err(format!("valid text {text:?} rejected: {kind:?}"));
        }
        let canonical = text.parse::<Endpoint>().unwrap().to_string();
        compare::parse(canonical.as_bytes())
    });
}

/// Mailbox regions: lengths right and wrong, truncated regions, any text.
#[test]
fn mailbox_regions() {
    let seen = run(strategies::mailbox_region(), |region| {
        compare::mailbox(region)
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

//! One reconnect policy for the firmware and the Rust device client: for the same settings,
//! attempt and random value, C (`wasmbed_backoff_delay_ms`) and Rust
//! (`wasmbed_client::Backoff::delay_with`) give the same delay, and the Rust defaults are the
//! firmware's Kconfig defaults.
//!
//! The property runs `WASMBED_DIFF_CASES` cases (default 100,000), as the other differential
//! tests.

use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use wasmbed_client::Backoff;
use wasmbed_zephyr_host::backoff::delay_ms;

fn cases() -> u32 {
    std::env::var("WASMBED_DIFF_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000)
}

fn rust_ms(min_ms: u32, max_ms: u32, attempt: u32, random: u32) -> u64 {
    let backoff = Backoff::new(
        Duration::from_millis(min_ms.into()),
        Duration::from_millis(max_ms.into()),
    )
    .expect("settings the firmware's configuration check accepts");
    u64::try_from(backoff.delay_with(attempt, random).as_millis()).expect("at most u32::MAX ms")
}

/// The settings: mostly the Kconfig ranges, sometimes any the firmware's configuration check
/// accepts (`1 <= min <= max <= i32::MAX`; `Backoff::new` refuses the others as it does).
fn settings() -> impl Strategy<Value = (u32, u32)> {
    prop_oneof![
        3 => (100u32..=600_000).prop_flat_map(|min| (Just(min), min..=3_600_000u32)),
        1 => (1u32..=I32_MAX).prop_flat_map(|min| (Just(min), min..=I32_MAX)),
    ]
}

const I32_MAX: u32 = i32::MAX.unsigned_abs();

/// Attempts: the doubling range and its end often, any `u32` sometimes.
fn attempt() -> impl Strategy<Value = u32> {
    prop_oneof![3 => 0u32..=40, 1 => any::<u32>()]
}

#[test]
fn c_and_rust_give_the_same_delay() {
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(
            &(settings(), attempt(), any::<u32>()),
            |((min, max), attempt, random)| {
                let c = delay_ms(min, max, attempt, random);
                prop_assert_eq!(
                    u64::from(c),
                    rust_ms(min, max, attempt, random),
                    "min {} max {} attempt {} random {}",
                    min,
                    max,
                    attempt,
                    random
                );
                let cap = (u64::from(min) << attempt.min(31)).min(u64::from(max));
                prop_assert!(cap / 2 <= u64::from(c) && u64::from(c) <= cap);
                Ok(())
            },
        )
        .unwrap();
}

#[test]
fn edges_agree() {
    // (min, max, attempt, random)
    let cases: &[(u32, u32, u32, u32)] = &[
        (1_000, 60_000, 0, 0),
        (1_000, 60_000, 0, u32::MAX),
        (1_000, 60_000, 31, 12_345),
        (1_000, 60_000, u32::MAX, u32::MAX),
        (1, I32_MAX, 40, 1),
        (I32_MAX, I32_MAX, 0, u32::MAX),
        (I32_MAX, I32_MAX, 31, u32::MAX - 1),
        (1, 1, 0, 1),
    ];
    for &(min, max, attempt, random) in cases {
        assert_eq!(
            u64::from(delay_ms(min, max, attempt, random)),
            rust_ms(min, max, attempt, random),
            "min {min} max {max} attempt {attempt} random {random}"
        );
    }
}

/// `default N` of `config NAME` in the firmware's Kconfig.
fn kconfig_default(name: &str) -> u64 {
    let kconfig = include_str!("../../Kconfig");
    let (_, rest) = kconfig
        .split_once(&format!("config {name}\n"))
        .unwrap_or_else(|| panic!("zephyr-app/Kconfig has no {name}"));
    rest.lines()
        .take_while(|line| !line.starts_with("config "))
        .find_map(|line| line.trim().strip_prefix("default "))
        .unwrap_or_else(|| panic!("{name} has no default"))
        .parse()
        .unwrap_or_else(|_| panic!("{name}'s default is not a number"))
}

#[test]
fn rust_defaults_are_the_kconfig_defaults() {
    let backoff = Backoff::default();
    assert_eq!(
        backoff.initial(),
        Duration::from_millis(kconfig_default("WASMBED_RECONNECT_BACKOFF_MIN_MS"))
    );
    assert_eq!(
        backoff.max(),
        Duration::from_millis(kconfig_default("WASMBED_RECONNECT_BACKOFF_MAX_MS"))
    );
}

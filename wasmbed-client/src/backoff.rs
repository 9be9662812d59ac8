//! The reconnect delay: the firmware's backoff policy.

use std::time::Duration;

/// The device's reconnect policy: exponential backoff with "equal jitter" (AWS Architecture
/// Blog, "Exponential Backoff And Jitter"), exactly as the firmware computes it
/// (`zephyr-app/src/wasmbed_backoff.c`, docs/protocol.md "Reconnecting").
///
/// Attempt `n` (0-based) has the cap `min(max, initial * 2^min(n, 31))` and waits a random time
/// in `[cap/2, cap]`. Both bounds count whole milliseconds up to `u32::MAX` (about 49 days), as
/// the firmware's `uint32_t` settings do; longer durations are treated as `u32::MAX` ms.
///
/// # Defaults
///
/// The firmware's Kconfig defaults:
///
/// * `initial`: 1 s (`CONFIG_WASMBED_RECONNECT_BACKOFF_MIN_MS`)
/// * `max`: 60 s (`CONFIG_WASMBED_RECONNECT_BACKOFF_MAX_MS`)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Backoff {
    /// Cap of the first wait (which lies in `[initial/2, initial]`); doubles every attempt.
    pub initial: Duration,
    /// Cap of every wait.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Backoff {
        Backoff::new(Duration::from_secs(1), Duration::from_secs(60))
    }
}

impl Backoff {
    /// Attempts after which the cap is `max` whatever `initial` is (`initial * 2^31` exceeds
    /// any `u32` millisecond count), as `WASMBED_BACKOFF_MAX_SHIFT` in the firmware.
    pub const MAX_SHIFT: u32 = 31;

    /// A policy whose first wait is capped at `initial` and every wait at `max` (a `max`
    /// below `initial` caps every wait at `max`).
    pub fn new(initial: Duration, max: Duration) -> Backoff {
        Backoff { initial, max }
    }

    /// The wait before attempt `attempt` (0-based), with fresh randomness.
    pub fn delay(&self, attempt: u32) -> Duration {
        self.delay_with(attempt, rand::random())
    }

    /// The wait before attempt `attempt` for the random value `random`: what the firmware's
    /// `wasmbed_backoff_delay_ms(initial_ms, max_ms, attempt, random)` returns, in
    /// milliseconds. [`Backoff::delay`] is this with a uniformly random `random`.
    pub fn delay_with(&self, attempt: u32, random: u32) -> Duration {
        let millis = |d: Duration| u32::try_from(d.as_millis()).unwrap_or(u32::MAX);
        let cap = (u64::from(millis(self.initial)) << attempt.min(Backoff::MAX_SHIFT))
            .min(u64::from(millis(self.max)));
        let half = cap / 2;
        Duration::from_millis(half + u64::from(random) % (cap - half + 1))
    }
}

#[cfg(test)]
mod tests {
    use super::Backoff;
    use std::time::Duration;

    fn ms(millis: u64) -> Duration {
        Duration::from_millis(millis)
    }

    #[test]
    fn defaults_are_the_firmware_kconfig_defaults() {
        assert_eq!(Backoff::default(), Backoff::new(ms(1_000), ms(60_000)));
    }

    #[test]
    fn known_delays() {
        let backoff = Backoff::default();
        // (attempt, random, delay in ms)
        let cases: &[(u32, u32, u64)] = &[
            (0, 0, 500),
            (0, 500, 1_000),
            (0, 501, 500),
            (1, 0, 1_000),
            (1, 1_000, 2_000),
            (5, 0, 16_000),
            (6, 0, 30_000),
            (6, 30_000, 60_000),
            (31, 7, 30_007),
            (u32::MAX, u32::MAX, 30_000 + u64::from(u32::MAX) % 30_001),
        ];
        for &(attempt, random, expected) in cases {
            assert_eq!(
                backoff.delay_with(attempt, random),
                ms(expected),
                "attempt {attempt}, random {random}"
            );
        }
    }

    #[test]
    fn max_below_initial_caps_every_attempt() {
        let backoff = Backoff::new(ms(5_000), ms(300));
        assert_eq!(backoff.delay_with(0, 0), ms(150));
        assert_eq!(backoff.delay_with(9, 150), ms(300));
    }

    #[test]
    fn bounds_beyond_u32_millis_saturate() {
        let backoff = Backoff::new(Duration::MAX, Duration::MAX);
        let cap = u64::from(u32::MAX);
        assert_eq!(backoff.delay_with(0, 0), ms(cap / 2));
        assert_eq!(
            backoff.delay_with(40, u32::MAX),
            ms(cap / 2 + cap % (cap - cap / 2 + 1))
        );
    }

    #[test]
    fn every_delay_lies_between_half_the_cap_and_the_cap() {
        let backoff = Backoff::new(ms(100), ms(2_000));
        for attempt in 0..40 {
            let cap = ms(100 << attempt.min(5)).min(ms(2_000));
            for random in [0, 1, 99, 1_000, u32::MAX / 2, u32::MAX] {
                let delay = backoff.delay_with(attempt, random);
                assert!(
                    cap / 2 <= delay && delay <= cap,
                    "{attempt} {random}: {delay:?}"
                );
            }
            let delay = backoff.delay(attempt);
            assert!(cap / 2 <= delay && delay <= cap, "{attempt}: {delay:?}");
        }
    }
}

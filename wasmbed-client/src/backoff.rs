//! The reconnect delay: the firmware's backoff policy.

use std::time::Duration;

/// The device's reconnect policy: exponential backoff with "equal jitter" (AWS Architecture
/// Blog, "Exponential Backoff And Jitter"), exactly as the firmware computes it
/// (`zephyr-app/src/wasmbed_backoff.c`, docs/protocol.md "Reconnecting").
///
/// Attempt `n` (0-based) has the cap `min(max, initial * 2^min(n, 31))` and waits a random time
/// in `[cap/2, cap]`. Both bounds count whole milliseconds (sub-millisecond parts are dropped)
/// and obey the firmware's configuration check (`gateway_client.c`): `1 ms <= initial <= max
/// <= i32::MAX ms` (about 24.8 days); [`Backoff::new`] refuses anything else.
///
/// # Defaults
///
/// The firmware's Kconfig defaults:
///
/// * `initial`: 1 s (`CONFIG_WASMBED_RECONNECT_BACKOFF_MIN_MS`)
/// * `max`: 60 s (`CONFIG_WASMBED_RECONNECT_BACKOFF_MAX_MS`)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
}

impl Default for Backoff {
    fn default() -> Backoff {
        Backoff {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(60),
        }
    }
}

/// Why [`Backoff::new`] refused its bounds: the firmware refuses the same settings
/// (`backoff_min_ms`, `backoff_max_ms` in `gateway_client.c`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BackoffError {
    /// `initial` is below 1 ms, which would retry in a busy loop.
    #[error("backoff initial delay {initial:?} is below 1 ms: give 1 ms or more")]
    ZeroInitial {
        /// The refused value.
        initial: Duration,
    },
    /// `initial` is above `max`.
    #[error("backoff initial delay {initial:?} is above the maximum {max:?}: give initial <= max")]
    InitialAboveMax {
        /// The first delay's cap.
        initial: Duration,
        /// The cap of every delay.
        max: Duration,
    },
    /// `max` is above [`Backoff::MAX_DELAY`].
    #[error(
        "backoff maximum {max:?} is above {:?} (i32::MAX ms)",
        Backoff::MAX_DELAY
    )]
    MaxTooLarge {
        /// The refused value.
        max: Duration,
    },
}

impl Backoff {
    /// Attempts after which the cap is `max` whatever `initial` is (`initial * 2^31` exceeds
    /// any `u32` millisecond count), as `WASMBED_BACKOFF_MAX_SHIFT` in the firmware.
    pub const MAX_SHIFT: u32 = 31;

    /// The longest `max` the firmware accepts: `i32::MAX` ms (its delays go to
    /// `k_sleep(K_MSEC())`, a signed 32-bit millisecond count).
    pub const MAX_DELAY: Duration = Duration::from_millis(0x7fff_ffff);

    /// A policy whose first wait is capped at `initial` and every wait at `max`.
    ///
    /// # Errors
    ///
    /// [`BackoffError`] unless `1 ms <= initial <= max <= MAX_DELAY` (counted in whole
    /// milliseconds), the settings the firmware accepts.
    pub fn new(initial: Duration, max: Duration) -> Result<Backoff, BackoffError> {
        let (initial, max) = (whole_millis(initial), whole_millis(max));
        if initial.is_zero() {
            Err(BackoffError::ZeroInitial { initial })
        } else if max > Backoff::MAX_DELAY {
            Err(BackoffError::MaxTooLarge { max })
        } else if initial > max {
            Err(BackoffError::InitialAboveMax { initial, max })
        } else {
            Ok(Backoff { initial, max })
        }
    }

    /// Cap of the first wait (which lies in `[initial/2, initial]`); doubles every attempt.
    pub fn initial(&self) -> Duration {
        self.initial
    }

    /// Cap of every wait.
    pub fn max(&self) -> Duration {
        self.max
    }

    /// The wait before attempt `attempt` (0-based), with fresh randomness.
    pub fn delay(&self, attempt: u32) -> Duration {
        self.delay_with(attempt, rand::random())
    }

    /// The wait before attempt `attempt` for the random value `random`: what the firmware's
    /// `wasmbed_backoff_delay_ms(initial_ms, max_ms, attempt, random)` returns, in
    /// milliseconds. [`Backoff::delay`] is this with a uniformly random `random`.
    pub fn delay_with(&self, attempt: u32, random: u32) -> Duration {
        // `new` keeps both bounds at most i32::MAX ms.
        let millis = |d: Duration| u32::try_from(d.as_millis()).unwrap_or(u32::MAX);
        let cap = (u64::from(millis(self.initial)) << attempt.min(Backoff::MAX_SHIFT))
            .min(u64::from(millis(self.max)));
        let half = cap / 2;
        Duration::from_millis(half + u64::from(random) % (cap - half + 1))
    }
}

fn whole_millis(d: Duration) -> Duration {
    Duration::from_millis(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::{Backoff, BackoffError};
    use std::time::Duration;

    fn ms(millis: u64) -> Duration {
        Duration::from_millis(millis)
    }

    #[test]
    fn defaults_are_the_firmware_kconfig_defaults() {
        assert_eq!(
            Backoff::default(),
            Backoff::new(ms(1_000), ms(60_000)).unwrap()
        );
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

    /// The firmware's configuration check (`gateway_client.c`) refuses these settings.
    #[test]
    fn the_settings_the_firmware_refuses_are_refused() {
        assert_eq!(
            Backoff::new(ms(0), ms(300)),
            Err(BackoffError::ZeroInitial { initial: ms(0) })
        );
        assert_eq!(
            Backoff::new(Duration::from_micros(999), ms(300)),
            Err(BackoffError::ZeroInitial { initial: ms(0) })
        );
        assert_eq!(
            Backoff::new(ms(5_000), ms(300)),
            Err(BackoffError::InitialAboveMax {
                initial: ms(5_000),
                max: ms(300)
            })
        );
        let max = Backoff::MAX_DELAY + ms(1);
        assert_eq!(
            Backoff::new(ms(1), max),
            Err(BackoffError::MaxTooLarge { max })
        );
        assert!(Backoff::new(ms(1), ms(1)).is_ok());
        assert!(Backoff::new(ms(1), Backoff::MAX_DELAY).is_ok());
    }

    #[test]
    fn the_largest_settings_do_not_overflow() {
        let backoff = Backoff::new(Backoff::MAX_DELAY, Backoff::MAX_DELAY).unwrap();
        let cap = u64::from(i32::MAX.unsigned_abs());
        assert_eq!(backoff.delay_with(0, 0), ms(cap / 2));
        assert_eq!(
            backoff.delay_with(40, u32::MAX),
            ms(cap / 2 + u64::from(u32::MAX) % (cap - cap / 2 + 1))
        );
        let one = Backoff::new(ms(1), Backoff::MAX_DELAY).unwrap();
        assert_eq!(one.delay_with(Backoff::MAX_SHIFT, 0), ms(cap / 2));
    }

    #[test]
    fn every_delay_lies_between_half_the_cap_and_the_cap() {
        let backoff = Backoff::new(ms(100), ms(2_000)).unwrap();
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

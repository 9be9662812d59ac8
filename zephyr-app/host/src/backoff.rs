//! The firmware's reconnect delay (`zephyr-app/src/wasmbed_backoff.c`), callable from Rust so
//! that `tests/backoff_differential.rs` can hold it against `wasmbed_client::Backoff`.
//!
//! # Example
//!
//! ```
//! // CONFIG_WASMBED_RECONNECT_BACKOFF_MIN_MS=1000, _MAX_MS=60000, the third retry:
//! // cap = 4000 ms, so the delay is 2000 ms plus the random value modulo 2001.
//! assert_eq!(wasmbed_zephyr_host::backoff::delay_ms(1_000, 60_000, 2, 7), 2_007);
//! ```

/// Raw declaration of `zephyr-app/src/wasmbed_backoff.h`.
pub mod ffi {
    // SAFETY: the signature matches the prototype in wasmbed_backoff.h, which build.rs compiles
    // and links into this crate.
    unsafe extern "C" {
        /// `uint32_t wasmbed_backoff_delay_ms(uint32_t, uint32_t, uint32_t, uint32_t)`.
        pub fn wasmbed_backoff_delay_ms(
            min_ms: u32,
            max_ms: u32,
            attempt: u32,
            random_value: u32,
        ) -> u32;
    }
}

/// `wasmbed_backoff_delay_ms(min_ms, max_ms, attempt, random_value)`: the delay in milliseconds
/// before reconnect attempt `attempt` (0-based), in `[cap/2, cap]` with
/// `cap = min(max_ms, min_ms * 2^min(attempt, 31))`.
pub fn delay_ms(min_ms: u32, max_ms: u32, attempt: u32, random_value: u32) -> u32 {
    // SAFETY: a pure function of its four integer arguments: no pointers, no global state.
    unsafe { ffi::wasmbed_backoff_delay_ms(min_ms, max_ms, attempt, random_value) }
}

/*
 * Copyright (c) 2026 The wasmbed authors
 * SPDX-License-Identifier: Apache-2.0 OR MIT
 */

/**
 * @file
 * @brief The device's reconnect delay: exponential backoff with "equal jitter".
 *
 * Portable C99 with no Zephyr headers. This is the one reconnect policy of wasmbed devices
 * (docs/protocol.md, "Reconnecting"): the firmware (gateway_client.c) uses it, and the Rust
 * device client (wasmbed_client::Backoff) computes the same delay from the same inputs, which
 * zephyr-app/host/tests/backoff_differential.rs checks.
 */

#ifndef WASMBED_BACKOFF_H_
#define WASMBED_BACKOFF_H_

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Attempts after which the cap is max_ms whatever min_ms is (min_ms * 2^31 > UINT32_MAX). */
#define WASMBED_BACKOFF_MAX_SHIFT 31u

/**
 * @brief Compute the delay before reconnect attempt @p attempt.
 *
 * With cap = min(max_ms, min_ms * 2^min(attempt, 31)) (computed without overflow), the delay
 * is cap/2 (rounded down) plus @p random_value modulo (cap - cap/2 + 1): a value in [cap/2, cap]
 * (AWS Architecture Blog, "Exponential Backoff And Jitter", "equal jitter"). Pure: the same
 * inputs always give the same delay.
 *
 * @param min_ms Base delay in milliseconds, the cap of attempt 0
 *        (CONFIG_WASMBED_RECONNECT_BACKOFF_MIN_MS).
 * @param max_ms Largest delay in milliseconds (CONFIG_WASMBED_RECONNECT_BACKOFF_MAX_MS); a
 *        max_ms below min_ms caps every attempt at max_ms.
 * @param attempt Attempts since the last stable session, 0 for the first retry.
 * @param random_value A uniformly random 32-bit value (sys_rand32_get() on the device).
 *
 * @return The delay in milliseconds, in [cap/2, cap].
 */
uint32_t wasmbed_backoff_delay_ms(uint32_t min_ms, uint32_t max_ms, uint32_t attempt,
				  uint32_t random_value);

#ifdef __cplusplus
}
#endif

#endif /* WASMBED_BACKOFF_H_ */

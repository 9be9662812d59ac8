/*
 * Copyright (c) 2026 The wasmbed authors
 * SPDX-License-Identifier: Apache-2.0 OR MIT
 */

#include "wasmbed_backoff.h"

uint32_t wasmbed_backoff_delay_ms(uint32_t min_ms, uint32_t max_ms, uint32_t attempt,
				  uint32_t random_value)
{
	uint32_t shift = attempt < WASMBED_BACKOFF_MAX_SHIFT ? attempt : WASMBED_BACKOFF_MAX_SHIFT;
	/* 64 bits: min_ms * 2^31 cannot overflow them. */
	uint64_t cap = (uint64_t)min_ms << shift;
	uint32_t half;

	if (cap > max_ms) {
		cap = max_ms;
	}
	half = (uint32_t)(cap / 2u);
	/* cap - half + 1 <= 2^31 + 1: no wrap even for cap = UINT32_MAX. */
	return half + random_value % ((uint32_t)cap - half + 1u);
}

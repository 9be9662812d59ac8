/*
 * Host port of <zephyr/kernel.h>: the subset the wasmbed firmware uses.
 *
 * Zephyr: "Kernel timing" (k_uptime_get, k_msleep, k_sleep). Time is CLOCK_MONOTONIC since
 * the process started, as uptime is time since boot on the device.
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#ifndef WASMBED_HOST_ZEPHYR_KERNEL_H_
#define WASMBED_HOST_ZEPHYR_KERNEL_H_

#include <stdint.h>

#include "wasmbed_host_util.h"

/** @brief A timeout in milliseconds; K_FOREVER is -1 (Zephyr's k_timeout_t, simplified). */
typedef struct {
	/** Milliseconds, or -1 for ever. */
	int64_t ms;
} k_timeout_t;

/** @brief A timeout of ms milliseconds. */
#define K_MSEC(ms) ((k_timeout_t){(int64_t)(ms)})
/** @brief A timeout of s seconds. */
#define K_SECONDS(s) K_MSEC((int64_t)(s) * 1000)
/** @brief No wait. */
#define K_NO_WAIT K_MSEC(0)
/** @brief Wait for ever. */
#define K_FOREVER ((k_timeout_t){-1})

/** @brief Milliseconds since boot (process start). */
int64_t k_uptime_get(void);

/** @brief Milliseconds since boot, truncated to 32 bits. */
uint32_t k_uptime_get_32(void);

/** @brief Sleep; returns 0 (the time left, always 0 on the host). K_FOREVER sleeps for ever. */
int32_t k_sleep(k_timeout_t timeout);

/** @brief Sleep for ms milliseconds; returns 0. */
int32_t k_msleep(int32_t ms);

#endif /* WASMBED_HOST_ZEPHYR_KERNEL_H_ */

/*
 * Host port of <zephyr/random/random.h>: sys_rand32_get() from getrandom(2).
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#ifndef WASMBED_HOST_ZEPHYR_RANDOM_RANDOM_H_
#define WASMBED_HOST_ZEPHYR_RANDOM_RANDOM_H_

#include <stdint.h>

/** @brief A random 32-bit value (Zephyr: "Random Function APIs"). */
uint32_t sys_rand32_get(void);

#endif /* WASMBED_HOST_ZEPHYR_RANDOM_RANDOM_H_ */

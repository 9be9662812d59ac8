/*
 * Host port: the <zephyr/sys/util.h> helpers that Zephyr's kernel.h brings in.
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#ifndef WASMBED_HOST_UTIL_H_
#define WASMBED_HOST_UTIL_H_

#ifndef ARRAY_SIZE
/** @brief Number of elements of an array. */
#define ARRAY_SIZE(array) (sizeof(array) / sizeof((array)[0]))
#endif
#ifndef MIN
/** @brief The smaller of a and b (evaluates one of them twice). */
#define MIN(a, b) (((a) < (b)) ? (a) : (b))
#endif
#ifndef MAX
/** @brief The larger of a and b (evaluates one of them twice). */
#define MAX(a, b) (((a) > (b)) ? (a) : (b))
#endif
/** @brief Mark an argument as unused. */
#define ARG_UNUSED(x) (void)(x)

#endif /* WASMBED_HOST_UTIL_H_ */

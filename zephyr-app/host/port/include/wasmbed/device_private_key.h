/*
 * Host port of the mTLS build's <wasmbed/device_private_key.h>.
 *
 * On the device CMake copies the header `wasmbed-gateway pki device` wrote (named by
 * CONFIG_WASMBED_DEVICE_KEY_HEADER) to this name; it defines device_private_key[] and DEVICE_PRIVATE_KEY_LEN.
 * The host build reads that same header at start-up instead (`wasmbed-device --device-key-header FILE`,
 * through wasmbed_host_set_device_credentials()).
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#ifndef WASMBED_HOST_DEVICE_PRIVATE_KEY_H_
#define WASMBED_HOST_DEVICE_PRIVATE_KEY_H_

#include <stddef.h>

/** @brief The device private key (PKCS #8 DER); set by wasmbed_host_set_device_credentials(). */
extern const unsigned char *wasmbed_host_device_private_key;
/** @brief Its length in bytes. */
extern size_t wasmbed_host_device_private_key_len;

/** @brief The header's array name. */
#define device_private_key wasmbed_host_device_private_key
/** @brief The header's length macro. */
#define DEVICE_PRIVATE_KEY_LEN wasmbed_host_device_private_key_len

#endif /* WASMBED_HOST_DEVICE_PRIVATE_KEY_H_ */

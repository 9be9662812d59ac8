/*
 * Host port of the mTLS build's <wasmbed/device_certificate.h>.
 *
 * On the device CMake copies the header `wasmbed-gateway pki device` wrote (named by
 * CONFIG_WASMBED_DEVICE_CERT_HEADER) to this name; it defines device_certificate[] and DEVICE_CERTIFICATE_LEN.
 * The host build reads that same header at start-up instead (`wasmbed-device --device-cert-header FILE`,
 * through wasmbed_host_set_device_credentials()).
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#ifndef WASMBED_HOST_DEVICE_CERTIFICATE_H_
#define WASMBED_HOST_DEVICE_CERTIFICATE_H_

#include <stddef.h>

/** @brief The device certificate (DER); set by wasmbed_host_set_device_credentials(). */
extern const unsigned char *wasmbed_host_device_certificate;
/** @brief Its length in bytes. */
extern size_t wasmbed_host_device_certificate_len;

/** @brief The header's array name. */
#define device_certificate wasmbed_host_device_certificate
/** @brief The header's length macro. */
#define DEVICE_CERTIFICATE_LEN wasmbed_host_device_certificate_len

#endif /* WASMBED_HOST_DEVICE_CERTIFICATE_H_ */

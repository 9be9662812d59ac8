/*
 * Host port of the production build's <wasmbed/ca_certificate.h>.
 *
 * On the device CMake copies CONFIG_WASMBED_CA_HEADER (the header `wasmbed-gateway pki ca`
 * writes) to this name, and it defines ca_certificate[] and CA_CERTIFICATE_LEN. The host
 * build of the production image reads that same header at start-up instead
 * (`wasmbed-device --image production --ca-header FILE`, through wasmbed_host_set_ca()), so
 * one executable serves any CA. The names are the header's.
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#ifndef WASMBED_HOST_CA_CERTIFICATE_H_
#define WASMBED_HOST_CA_CERTIFICATE_H_

#include <stddef.h>

/** @brief The CA certificate, DER; set by wasmbed_host_set_ca(). */
extern const unsigned char *wasmbed_host_ca_certificate;
/** @brief Its length in bytes. */
extern size_t wasmbed_host_ca_certificate_len;

/** @brief The header's array name. */
#define ca_certificate wasmbed_host_ca_certificate
/** @brief The header's length macro. */
#define CA_CERTIFICATE_LEN wasmbed_host_ca_certificate_len

#endif /* WASMBED_HOST_CA_CERTIFICATE_H_ */

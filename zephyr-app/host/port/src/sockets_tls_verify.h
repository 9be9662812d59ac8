/*
 * Host port: certificate verification of a TLS socket where Debian's mbedTLS 2.28 differs
 * from the device's mbedTLS 3.6, and its log lines.
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#ifndef WASMBED_SOCKETS_TLS_VERIFY_H_
#define WASMBED_SOCKETS_TLS_VERIFY_H_

#include <stdint.h>

#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

/**
 * @brief mbedTLS verification callback (mbedtls_ssl_conf_verify()) that matches an IP address
 *        TLS_HOSTNAME against the leaf's iPAddress subjectAltNames, as mbedTLS 3.5 and later do.
 *
 * @param p The session's TLS_HOSTNAME, a NUL-terminated string ("" when not set); not owned.
 * @param crt The certificate being verified.
 * @param depth Its depth in the chain (0: the leaf).
 * @param flags mbedTLS's verification flags; MBEDTLS_X509_BADCERT_CN_MISMATCH is cleared when
 *        an iPAddress SAN equals the hostname's address.
 *
 * @retval 0 Always: verification continues with the flags.
 */
int wasmbed_tls_verify_ip_san(void *p, mbedtls_x509_crt *crt, int depth, uint32_t *flags);

/**
 * @brief Log why the peer's certificate failed verification, one LOG_ERR line per reason
 *        (nothing when it did not fail).
 */
void wasmbed_tls_log_verify_failure(const mbedtls_ssl_context *ssl);

#endif /* WASMBED_SOCKETS_TLS_VERIFY_H_ */

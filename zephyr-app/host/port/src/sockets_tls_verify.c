/*
 * Host port: certificate verification of a TLS socket (see sockets_tls_verify.h).
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#include "sockets_tls_verify.h"

#include <string.h>

#include <zephyr/logging/log.h>
#include <zephyr/net/socket.h>

LOG_MODULE_DECLARE(net_sock_tls, LOG_LEVEL_INF);

/*
 * mbedTLS 3.5 and later (the device's 3.6) match a TLS_HOSTNAME that is an IP address against
 * the certificate's iPAddress subjectAltNames (RFC 5280 section 4.2.1.6); Debian's 2.28 only
 * compares names. Adding the match for the leaf accepts a gateway certificate that names its
 * address only as an iPAddress, as the device does.
 */
int wasmbed_tls_verify_ip_san(void *p, mbedtls_x509_crt *crt, int depth, uint32_t *flags)
{
	const char *hostname = p;
	unsigned char ip[16];
	size_t ip_len;
	const mbedtls_x509_sequence *san;

	if (depth != 0 || (*flags & MBEDTLS_X509_BADCERT_CN_MISMATCH) == 0) {
		return 0;
	}
	if (inet_pton(AF_INET, hostname, ip) == 1) {
		ip_len = 4;
	} else if (inet_pton(AF_INET6, hostname, ip) == 1) {
		ip_len = 16;
	} else {
		return 0;
	}
	for (san = &crt->subject_alt_names; san != NULL; san = san->next) {
		/* [7] iPAddress OCTET STRING, context-specific and primitive. */
		if (san->buf.tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7) && san->buf.len == ip_len &&
		    san->buf.p != NULL && memcmp(san->buf.p, ip, ip_len) == 0) {
			*flags &= ~(uint32_t)MBEDTLS_X509_BADCERT_CN_MISMATCH;
			break;
		}
	}
	return 0;
}

void wasmbed_tls_log_verify_failure(const mbedtls_ssl_context *ssl)
{
	uint32_t flags = mbedtls_ssl_get_verify_result(ssl);
	char info[512];
	char *line;
	char *next;

	if (flags == 0 || flags == (uint32_t)-1) {
		return;
	}
	if (mbedtls_x509_crt_verify_info(info, sizeof(info), "", flags) < 0) {
		return;
	}
	for (line = info; *line != '\0'; line = next) {
		next = strchr(line, '\n');
		if (next != NULL) {
			*next++ = '\0';
		} else {
			next = line + strlen(line);
		}
		if (*line != '\0') {
			LOG_ERR("Certificate verification failed: %s", line);
		}
	}
}

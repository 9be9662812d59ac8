/*
 * Host port: the device's TLS record-size guard (see sockets_tls_record.h).
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#include "sockets_tls_record.h"

#include <errno.h>
#include <string.h>

#include <mbedtls/net_sockets.h>

#include <zephyr/logging/log.h>
#include <zephyr/net/socket.h>

#include "wasmbed_host_defaults.h"

LOG_MODULE_DECLARE(net_sock_tls, LOG_LEVEL_INF);

/* ChangeCipherSpec content type (RFC 5246 section 6.2.1). */
#define RECORD_TYPE_CHANGE_CIPHER_SPEC 20
/* Record expansion assumed before the transform is known (only the server's Finished of an
 * abbreviated handshake, a few dozen bytes, is read then): ChaCha20-Poly1305's 16-byte tag,
 * the smallest of the device's suites, so the guard can only be stricter than the device. */
#define AEAD_MIN_EXPANSION 16
/*
 * mbedTLS's MBEDTLS_SSL_PAYLOAD_OVERHEAD for the device's configuration (ssl_misc.h): the
 * input buffer holds MBEDTLS_SSL_IN_CONTENT_LEN plus MBEDTLS_MAX_IV_LENGTH (16) plus
 * MBEDTLS_SSL_MAC_ADD (16: only AEAD suites, so the tag) plus MBEDTLS_SSL_PADDING_ADD (0:
 * no CBC suite, prj.conf) plus no CID expansion. A record whose body is larger does not fit
 * and fails in mbedtls_ssl_fetch_input() ("requesting more data than fits").
 */
#define DEVICE_IN_PAYLOAD_OVERHEAD (16 + 16)
/* TLS record content types (RFC 5246 section 6.2.1): change_cipher_spec .. application_data. */
#define RECORD_TYPE_FIRST 20
#define RECORD_TYPE_LAST 23

void wasmbed_record_guard_init(struct wasmbed_record_guard *guard, int fd,
			       const mbedtls_ssl_context *ssl)
{
	memset(guard, 0, sizeof(*guard));
	guard->fd = fd;
	guard->ssl = ssl;
}

/* The protection bytes a record from the peer carries beyond its content. */
static size_t record_expansion(const struct wasmbed_record_guard *guard)
{
	int expansion;

	if (!guard->peer_encrypts) {
		return 0;
	}
	expansion = mbedtls_ssl_get_record_expansion(guard->ssl);
	/* The expansion includes the header; without a transform it is the header. */
	if (expansion > WASMBED_RECORD_HEADER_LEN) {
		return (size_t)expansion - WASMBED_RECORD_HEADER_LEN;
	}
	return AEAD_MIN_EXPANSION;
}

/*
 * What mbedTLS on the device does with a record of this length, given its buffer: 0 when it
 * fits, else the error it returns (and logs the reason). Records of other types, or not
 * TLS 1.x, are left to mbedTLS, which refuses them itself.
 */
static int check_record(const struct wasmbed_record_guard *guard)
{
	const uint8_t *h = guard->header;
	size_t length = ((size_t)h[3] << 8) | h[4];
	size_t expansion;

	if (h[0] < RECORD_TYPE_FIRST || h[0] > RECORD_TYPE_LAST || h[1] != 3) {
		return 0;
	}
	if (length > CONFIG_MBEDTLS_SSL_MAX_CONTENT_LEN + DEVICE_IN_PAYLOAD_OVERHEAD) {
		LOG_ERR("TLS record of %u bytes (type %u) does not fit the device's input buffer: "
			"CONFIG_MBEDTLS_SSL_MAX_CONTENT_LEN=%u holds records of at most %u",
			(unsigned int)length, (unsigned int)h[0],
			(unsigned int)CONFIG_MBEDTLS_SSL_MAX_CONTENT_LEN,
			(unsigned int)(CONFIG_MBEDTLS_SSL_MAX_CONTENT_LEN +
				       DEVICE_IN_PAYLOAD_OVERHEAD));
		return MBEDTLS_ERR_SSL_BAD_INPUT_DATA;
	}
	expansion = record_expansion(guard);
	if (length > CONFIG_MBEDTLS_SSL_MAX_CONTENT_LEN + expansion) {
		LOG_ERR("TLS record with %u bytes of content (type %u) exceeds the device's "
			"CONFIG_MBEDTLS_SSL_MAX_CONTENT_LEN=%u",
			(unsigned int)(length - expansion), (unsigned int)h[0],
			(unsigned int)CONFIG_MBEDTLS_SSL_MAX_CONTENT_LEN);
		return MBEDTLS_ERR_SSL_INVALID_RECORD;
	}
	return 0;
}

int wasmbed_record_guard_send(void *p, const unsigned char *buf, size_t len)
{
	struct wasmbed_record_guard *guard = p;
	ssize_t n = send(guard->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);

	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
			return MBEDTLS_ERR_SSL_WANT_WRITE;
		}
		guard->os_errno = errno;
		return MBEDTLS_ERR_NET_SEND_FAILED;
	}
	return (int)n;
}

/*
 * A record whose content exceeds the device's buffer fails as mbedTLS on the device fails it
 * (ssl_msg.c: "bad message length", MBEDTLS_ERR_SSL_INVALID_RECORD).
 */
int wasmbed_record_guard_recv(void *p, unsigned char *buf, size_t len)
{
	struct wasmbed_record_guard *guard = p;
	size_t want;
	ssize_t n;

	if (guard->header_len < WASMBED_RECORD_HEADER_LEN) {
		want = WASMBED_RECORD_HEADER_LEN - guard->header_len;
	} else {
		want = guard->body_left;
	}
	if (want > len) {
		want = len;
	}
	n = recv(guard->fd, buf, want, MSG_DONTWAIT);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
			return MBEDTLS_ERR_SSL_WANT_READ;
		}
		guard->os_errno = errno;
		return MBEDTLS_ERR_NET_RECV_FAILED;
	}
	if (n == 0) {
		return 0;
	}

	if (guard->header_len < WASMBED_RECORD_HEADER_LEN) {
		memcpy(guard->header + guard->header_len, buf, (size_t)n);
		guard->header_len += (size_t)n;
		if (guard->header_len == WASMBED_RECORD_HEADER_LEN) {
			int verdict = check_record(guard);

			if (verdict != 0) {
				return verdict;
			}
			guard->body_left = ((size_t)guard->header[3] << 8) | guard->header[4];
			guard->body_is_ccs = guard->header[0] == RECORD_TYPE_CHANGE_CIPHER_SPEC;
		}
	} else {
		guard->body_left -= (size_t)n;
	}
	if (guard->header_len == WASMBED_RECORD_HEADER_LEN && guard->body_left == 0) {
		guard->header_len = 0;
		if (guard->body_is_ccs) {
			/* Every later record from the peer is protected (RFC 5246 section 7.1). */
			guard->peer_encrypts = true;
		}
	}
	return (int)n;
}

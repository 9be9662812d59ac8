/*
 * Host port: the device's TLS record-size guard, the mbedTLS BIO of a TLS socket.
 *
 * mbedTLS 2.28 on the host has a larger input buffer than the device's mbedTLS build
 * (CONFIG_MBEDTLS_SSL_MAX_CONTENT_LEN); the guard sees every record header from the peer and
 * fails a record the device could not hold with the error mbedTLS on the device returns.
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#ifndef WASMBED_SOCKETS_TLS_RECORD_H_
#define WASMBED_SOCKETS_TLS_RECORD_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mbedtls/ssl.h>

/** TLS record header: type, version (2), length (2) (RFC 5246 section 6.2.1). */
#define WASMBED_RECORD_HEADER_LEN 5

/** @brief Where the peer's byte stream is, and the socket under it. */
struct wasmbed_record_guard {
	/** The TCP socket. */
	int fd;
	/** errno of the last failing send(2)/recv(2), 0 if none failed. */
	int os_errno;
	/** The session the records belong to (for its record expansion); not owned. */
	const mbedtls_ssl_context *ssl;
	/** The current record header, header_len bytes of it read. */
	uint8_t header[WASMBED_RECORD_HEADER_LEN];
	/** Bytes of header read, 0..=WASMBED_RECORD_HEADER_LEN. */
	size_t header_len;
	/** Bytes of the current record's body still to read. */
	size_t body_left;
	/** The current record is a ChangeCipherSpec. */
	bool body_is_ccs;
	/** The peer's ChangeCipherSpec went by: its later records are protected. */
	bool peer_encrypts;
};

/**
 * @brief Start a guard for the socket fd of the session ssl (both outlive the guard).
 */
void wasmbed_record_guard_init(struct wasmbed_record_guard *guard, int fd,
			       const mbedtls_ssl_context *ssl);

/**
 * @brief mbedTLS send callback (mbedtls_ssl_send_t); p is a struct wasmbed_record_guard.
 *
 * @retval >=0 Bytes sent.
 * @retval MBEDTLS_ERR_SSL_WANT_WRITE The socket would block.
 * @retval MBEDTLS_ERR_NET_SEND_FAILED send(2) failed; its errno is in os_errno.
 */
int wasmbed_record_guard_send(void *p, const unsigned char *buf, size_t len);

/**
 * @brief mbedTLS receive callback (mbedtls_ssl_recv_t); p is a struct wasmbed_record_guard.
 *
 * Reads at most to the end of the current record header or body, so every header is seen.
 *
 * @retval >0 Bytes read.
 * @retval 0 The peer closed the connection.
 * @retval MBEDTLS_ERR_SSL_WANT_READ The socket would block.
 * @retval MBEDTLS_ERR_NET_RECV_FAILED recv(2) failed; its errno is in os_errno.
 * @retval MBEDTLS_ERR_SSL_BAD_INPUT_DATA A record longer than the device's input buffer
 *         (logged).
 * @retval MBEDTLS_ERR_SSL_INVALID_RECORD A record with more content than
 *         CONFIG_MBEDTLS_SSL_MAX_CONTENT_LEN (logged).
 */
int wasmbed_record_guard_recv(void *p, unsigned char *buf, size_t len);

#endif /* WASMBED_SOCKETS_TLS_RECORD_H_ */

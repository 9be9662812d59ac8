/*
 * wasmbed device: the TLS connection to the gateway over Zephyr's socket API.
 *
 * One TLS socket (IPPROTO_TLS_1_2) at a time, configured as Zephyr's "TLS credentials and
 * secure sockets" documentation describes: TLS_SEC_TAG_LIST, TLS_HOSTNAME (SNI and the
 * certificate name check) and TLS_PEER_VERIFY set before connect(), which runs the handshake.
 * Every call's return value is checked and a failure is logged with the call and errno.
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#ifndef NETWORK_HANDLER_H_
#define NETWORK_HANDLER_H_

#include <stddef.h>
#include <stdint.h>

#include "wasmbed_endpoint.h"

/**
 * @brief Register the credentials the TLS socket names (production mode: the gateway CA from
 * CONFIG_WASMBED_CA_HEADER under CONFIG_WASMBED_CA_SEC_TAG). Development mode registers
 * nothing. Call once at boot, before network_connect().
 *
 * @retval 0 Registered (or already registered, e.g. after a soft restart), or nothing to do.
 * @retval <0 tls_credential_add() failed; its negative errno is returned and logged.
 */
int network_credentials_init(void);

/**
 * @brief Resolve the endpoint's host, open a TLS socket and connect (TCP plus TLS handshake).
 *
 * An IPv4 or IPv6 literal is used as it is; a DNS name is resolved with zsock_getaddrinfo().
 * TLS_HOSTNAME is the host without a DNS name's final dot (RFC 6066 section 3). The socket has
 * TCP_NODELAY set so that small frames are not held back by Nagle's algorithm.
 *
 * @retval 0 Connected; the socket stays open until network_close().
 * @retval <0 A negative errno; the failing call and errno are logged.
 */
int network_connect(const struct wasmbed_endpoint *endpoint);

/**
 * @brief Wait up to timeout_ms until the socket accepts bytes (zsock_poll() for POLLOUT), then
 * send some without blocking (zsock_send() with ZSOCK_MSG_DONTWAIT).
 *
 * @return The number of bytes sent (1..len; a TLS socket sends at most one record's worth,
 *         CONFIG_MBEDTLS_SSL_MAX_CONTENT_LEN), -EAGAIN when nothing could be sent in time
 *         (call again with the same bytes), or another negative errno (logged).
 */
int network_send(const uint8_t *buf, size_t len, int32_t timeout_ms);

/**
 * @brief Wait up to timeout_ms for input (zsock_poll()) and read what is there (zsock_recv()).
 *
 * @return The number of bytes read (>= 1), 0 when the gateway closed the connection, -EAGAIN
 *         when nothing arrived in time, or another negative errno (logged).
 */
int network_recv(uint8_t *buf, size_t cap, int32_t timeout_ms);

/** @brief Close the socket (sends TLS close_notify). Safe to call when nothing is open. */
void network_close(void);

#endif /* NETWORK_HANDLER_H_ */

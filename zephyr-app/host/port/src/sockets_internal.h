/*
 * Host port: what the plain socket layer (sockets.c) and the TLS sockets (sockets_tls.c)
 * call in each other, as Zephyr's subsys/net/lib/sockets/sockets_internal.h joins its
 * sockets.c and sockets_tls.c.
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#ifndef WASMBED_SOCKETS_INTERNAL_H_
#define WASMBED_SOCKETS_INTERNAL_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <zephyr/net/socket.h>

/* --- sockets.c ----------------------------------------------------------------------- */

/**
 * @brief Wait until fd is ready for events (POLLIN or POLLOUT).
 *
 * @param deadline_ms k_uptime_get() time to give up at; negative: wait as long as it takes.
 *
 * @retval 0 Ready.
 * @retval -ETIMEDOUT The deadline passed.
 * @retval -errno poll(2) failed.
 */
int wasmbed_sock_wait(int fd, short events, int64_t deadline_ms);

/* --- sockets_tls.c: the TLS sockets (Zephyr: sockets_tls.c's ztls_* calls) -------------- */

/**
 * @brief Open a TLS socket (proto IPPROTO_TLS_1_2 or IPPROTO_TLS_1_3) over a new TCP socket.
 *
 * @return The descriptor, or -1 with errno: EPROTOTYPE (not SOCK_STREAM), EPROTONOSUPPORT
 *         (TLS 1.3), ENOMEM (CONFIG_NET_SOCKETS_TLS_MAX_CONTEXTS in use), or socket(2)'s.
 */
int wasmbed_tls_socket(int family, int type, int proto);

/** @brief Whether sock is a TLS socket from wasmbed_tls_socket() not yet closed. */
bool wasmbed_tls_owns(int sock);

/** @brief zsock_setsockopt(sock, SOL_TLS, ...): 0, or -1 with errno (ENOPROTOOPT, EINVAL). */
int wasmbed_tls_setsockopt(int sock, int optname, const void *optval, socklen_t optlen);

/** @brief zsock_getsockopt(sock, SOL_TLS, ...): 0, or -1 with errno. */
int wasmbed_tls_getsockopt(int sock, int optname, void *optval, socklen_t *optlen);

/**
 * @brief Set up TLS on a connected TLS socket and run the handshake (Zephyr does it in
 *        connect()).
 *
 * @return 0, or -1 with errno ECONNABORTED (failed, logged) or ETIMEDOUT.
 */
int wasmbed_tls_connect(int sock);

/** @brief zsock_send() on a TLS socket: at most one record's worth; -1 with errno. */
ssize_t wasmbed_tls_send(int sock, const void *buf, size_t len, int flags);

/** @brief zsock_recv() on a TLS socket: 0 at the end of the session; -1 with errno. */
ssize_t wasmbed_tls_recv(int sock, void *buf, size_t max_len, int flags);

/**
 * @brief Whether a TLS socket is readable without new input: decrypted bytes are buffered,
 *        or the session ended or failed (Zephyr: ztls_poll_update_pollin()).
 */
bool wasmbed_tls_readable_now(int sock);

/** @brief Send close_notify if the session is up and free the TLS state; the caller closes. */
void wasmbed_tls_release(int sock);

#endif /* WASMBED_SOCKETS_INTERNAL_H_ */

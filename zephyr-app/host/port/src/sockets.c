/*
 * Host port: Zephyr's socket API over POSIX sockets (Zephyr: subsys/net/lib/sockets/sockets.c).
 *
 * The zsock_* calls the firmware makes, with Zephyr's semantics: only the address families
 * prj.conf builds in, a TCP connect bounded by CONFIG_NET_SOCKETS_CONNECT_TIMEOUT, and poll.
 * A socket opened with IPPROTO_TLS_1_2 is handed to the TLS sockets of sockets_tls.c for
 * everything TLS changes (options, the handshake in connect, send, recv, readiness, close).
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <unistd.h>

#include <zephyr/kernel.h>
#include <zephyr/net/socket.h>

#include "sockets_internal.h"
#include "wasmbed_host.h"
#include "wasmbed_host_defaults.h"

int wasmbed_sock_wait(int fd, short events, int64_t deadline_ms)
{
	struct pollfd pfd;
	int timeout = -1;
	int ret;

	if (deadline_ms >= 0) {
		int64_t left = deadline_ms - k_uptime_get();

		if (left <= 0) {
			return -ETIMEDOUT;
		}
		timeout = left > INT32_MAX ? INT32_MAX : (int)left;
	}
	pfd.fd = fd;
	pfd.events = events;
	pfd.revents = 0;
	do {
		ret = poll(&pfd, 1, timeout);
	} while (ret < 0 && errno == EINTR);
	if (ret < 0) {
		return -errno;
	}
	if (ret == 0) {
		return -ETIMEDOUT;
	}
	return 0;
}

int zsock_socket(int family, int type, int proto)
{
	/* Only the address families prj.conf builds in (CONFIG_NET_IPV4, CONFIG_NET_IPV6). */
	if (
#if !defined(CONFIG_NET_IPV4)
		family == AF_INET ||
#endif
#if !defined(CONFIG_NET_IPV6)
		family == AF_INET6 ||
#endif
		(family != AF_INET && family != AF_INET6)) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	if (proto == IPPROTO_TLS_1_2 || proto == IPPROTO_TLS_1_3) {
		return wasmbed_tls_socket(family, type, proto);
	}
	return socket(family, type | SOCK_CLOEXEC, proto);
}

int zsock_setsockopt(int sock, int level, int optname, const void *optval, socklen_t optlen)
{
	if (level == SOL_TLS) {
		return wasmbed_tls_setsockopt(sock, optname, optval, optlen);
	}
	return setsockopt(sock, level, optname, optval, optlen);
}

int zsock_getsockopt(int sock, int level, int optname, void *optval, socklen_t *optlen)
{
	if (level == SOL_TLS) {
		return wasmbed_tls_getsockopt(sock, optname, optval, optlen);
	}
	return getsockopt(sock, level, optname, optval, optlen);
}

/* TCP connect bounded by CONFIG_NET_SOCKETS_CONNECT_TIMEOUT, as Zephyr's blocking connect is.
 * 0 or -1 with errno. */
static int tcp_connect(int sock, const struct sockaddr *addr, socklen_t addrlen)
{
	int flags = fcntl(sock, F_GETFL, 0);
	int err = 0;
	socklen_t err_len = sizeof(err);
	int ret;

	if (flags < 0 || fcntl(sock, F_SETFL, flags | O_NONBLOCK) < 0) {
		return -1;
	}
	ret = connect(sock, addr, addrlen);
	if (ret != 0 && errno == EINPROGRESS) {
		ret = wasmbed_sock_wait(sock, POLLOUT,
					k_uptime_get() + CONFIG_NET_SOCKETS_CONNECT_TIMEOUT);
		if (ret < 0) {
			(void)fcntl(sock, F_SETFL, flags);
			errno = -ret;
			return -1;
		}
		if (getsockopt(sock, SOL_SOCKET, SO_ERROR, &err, &err_len) != 0) {
			err = errno;
		}
		ret = err == 0 ? 0 : -1;
	} else if (ret != 0) {
		err = errno;
	}
	if (fcntl(sock, F_SETFL, flags) < 0 && ret == 0) {
		return -1;
	}
	if (ret != 0) {
		errno = err;
	}
	return ret;
}

int zsock_connect(int sock, const struct sockaddr *addr, socklen_t addrlen)
{
	if (tcp_connect(sock, addr, addrlen) != 0) {
		return -1;
	}
	if (!wasmbed_tls_owns(sock)) {
		return 0;
	}
	return wasmbed_tls_connect(sock);
}

ssize_t zsock_send(int sock, const void *buf, size_t len, int flags)
{
	if (wasmbed_tls_owns(sock)) {
		return wasmbed_tls_send(sock, buf, len, flags);
	}
	return send(sock, buf, len, MSG_NOSIGNAL | ((flags & ZSOCK_MSG_DONTWAIT) ? MSG_DONTWAIT : 0));
}

ssize_t zsock_recv(int sock, void *buf, size_t max_len, int flags)
{
	if (wasmbed_tls_owns(sock)) {
		return wasmbed_tls_recv(sock, buf, max_len, flags);
	}
	return recv(sock, buf, max_len, (flags & ZSOCK_MSG_DONTWAIT) ? MSG_DONTWAIT : 0);
}

int zsock_poll(struct zsock_pollfd *fds, int nfds, int timeout)
{
	struct pollfd pfds[8];
	int ready_now = 0;
	int i;
	int ret;

	if (nfds < 0 || nfds > (int)(sizeof(pfds) / sizeof(pfds[0])) || (nfds > 0 && fds == NULL)) {
		errno = EINVAL;
		return -1;
	}
	for (i = 0; i < nfds; i++) {
		fds[i].revents = 0;
		pfds[i].fd = fds[i].fd;
		pfds[i].events = (short)(((fds[i].events & ZSOCK_POLLIN) ? POLLIN : 0) |
					 ((fds[i].events & ZSOCK_POLLOUT) ? POLLOUT : 0) |
					 ((fds[i].events & ZSOCK_POLLPRI) ? POLLPRI : 0));
		pfds[i].revents = 0;
		if ((fds[i].events & ZSOCK_POLLIN) != 0 && wasmbed_tls_readable_now(fds[i].fd)) {
			fds[i].revents |= ZSOCK_POLLIN;
			ready_now++;
		}
	}
	do {
		ret = poll(pfds, (nfds_t)nfds, ready_now > 0 ? 0 : timeout);
	} while (ret < 0 && errno == EINTR && ready_now == 0 && timeout < 0);
	if (ret < 0) {
		return -1;
	}
	ret = 0;
	for (i = 0; i < nfds; i++) {
		short r = pfds[i].revents;

		fds[i].revents = (short)(fds[i].revents | ((r & POLLIN) ? ZSOCK_POLLIN : 0) |
					 ((r & POLLOUT) ? ZSOCK_POLLOUT : 0) |
					 ((r & POLLPRI) ? ZSOCK_POLLPRI : 0) |
					 ((r & POLLERR) ? ZSOCK_POLLERR : 0) |
					 ((r & POLLHUP) ? ZSOCK_POLLHUP : 0) |
					 ((r & POLLNVAL) ? ZSOCK_POLLNVAL : 0));
		if (fds[i].revents != 0) {
			ret++;
		}
	}
	return ret;
}

int zsock_close(int sock)
{
	wasmbed_tls_release(sock);
	return close(sock);
}

int zsock_getaddrinfo(const char *host, const char *service, const struct zsock_addrinfo *hints,
		      struct zsock_addrinfo **res)
{
	return getaddrinfo(host, service, hints, res);
}

void zsock_freeaddrinfo(struct zsock_addrinfo *ai)
{
	freeaddrinfo(ai);
}

const char *zsock_gai_strerror(int errcode)
{
	return gai_strerror(errcode);
}

const char *zsock_inet_ntop(int family, const void *src, char *dst, size_t size)
{
	if (size > (size_t)INT32_MAX) {
		size = (size_t)INT32_MAX;
	}
	return inet_ntop(family, src, dst, (socklen_t)size);
}

size_t wasmbed_host_max_content_len(void)
{
	return CONFIG_MBEDTLS_SSL_MAX_CONTENT_LEN;
}

/*
 * wasmbed device: the TLS connection to the gateway over Zephyr's socket API.
 *
 * Follows Zephyr's "TLS credentials" and "BSD Sockets: secure sockets" documentation:
 * the socket is created with IPPROTO_TLS_1_2 (an IPPROTO_TCP socket never does TLS and
 * refuses the SOL_TLS options), the options are set after socket() and before connect(),
 * and connect() performs the handshake.
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#include "network_handler.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <zephyr/kernel.h>
#include <zephyr/logging/log.h>
#include <zephyr/net/socket.h>
#include <zephyr/net/tls_credentials.h>

LOG_MODULE_REGISTER(wasmbed_net, CONFIG_LOG_DEFAULT_LEVEL);

#if defined(CONFIG_WASMBED_TLS_VERIFY_REQUIRED)
/* ca_certificate[] and CA_CERTIFICATE_LEN, from `wasmbed-gateway pki ca` (CMakeLists.txt copies
 * CONFIG_WASMBED_CA_HEADER to this name). */
#include <wasmbed/ca_certificate.h>

#define PEER_VERIFY TLS_PEER_VERIFY_REQUIRED

#if defined(CONFIG_WASMBED_DEVICE_CERT)
/* device_certificate[]/DEVICE_CERTIFICATE_LEN and device_private_key[]/DEVICE_PRIVATE_KEY_LEN,
 * from `wasmbed-gateway pki device` (CMakeLists.txt copies the configured headers). */
#include <wasmbed/device_certificate.h>
#include <wasmbed/device_private_key.h>

#if CONFIG_WASMBED_DEVICE_SEC_TAG == CONFIG_WASMBED_CA_SEC_TAG
#error "CONFIG_WASMBED_DEVICE_SEC_TAG must differ from CONFIG_WASMBED_CA_SEC_TAG"
#endif

static const sec_tag_t sec_tags[] = {CONFIG_WASMBED_CA_SEC_TAG, CONFIG_WASMBED_DEVICE_SEC_TAG};
#else
/* tls_credential_add() keeps a pointer to the certificate, so it must be static: it is. */
static const sec_tag_t sec_tags[] = {CONFIG_WASMBED_CA_SEC_TAG};
#endif
#else
#define PEER_VERIFY TLS_PEER_VERIFY_NONE
#endif

/* The one open socket, or -1. */
static int sock = -1;

/* TLS_HOSTNAME: a DNS name (253 bytes at most) or an IP address's text, NUL-terminated. */
static char tls_hostname[WASMBED_ENDPOINT_MAX_LEN + 1];

union gateway_addr {
	struct sockaddr sa;
	struct sockaddr_in in4;
	struct sockaddr_in6 in6;
};

static const char *errno_name(int err)
{
	switch (err) {
	case EAGAIN:
		return "EAGAIN";
	case ECONNREFUSED:
		return "ECONNREFUSED";
	case ECONNRESET:
		return "ECONNRESET";
	case ECONNABORTED:
		return "ECONNABORTED";
	case ETIMEDOUT:
		return "ETIMEDOUT";
	case EHOSTUNREACH:
		return "EHOSTUNREACH";
	case ENETUNREACH:
		return "ENETUNREACH";
	case ENOTCONN:
		return "ENOTCONN";
	case EPIPE:
		return "EPIPE";
	case ENOMEM:
		return "ENOMEM";
	case ENOENT:
		return "ENOENT";
	case EINVAL:
		return "EINVAL";
	case EBADF:
		return "EBADF";
	case EEXIST:
		return "EEXIST";
	case ENOBUFS:
		return "ENOBUFS";
	case EAFNOSUPPORT:
		return "EAFNOSUPPORT";
	case EPROTONOSUPPORT:
		return "EPROTONOSUPPORT";
	case ENOPROTOOPT:
		return "ENOPROTOOPT";
	case EIO:
		return "EIO";
	default:
		return "errno";
	}
}

/* What to check after connect() failed with err. */
static const char *connect_hint(int err)
{
	switch (err) {
	case ECONNREFUSED:
		return "nothing listens on that address and port: is the gateway running, and "
		       "is the mailbox endpoint its device port?";
	case ETIMEDOUT:
		return "no answer in time (TCP connect, or the TLS handshake where Zephyr bounds "
		       "it): check the network path, the gateway's address, and that the peer "
		       "is a wasmbed gateway";
	case EHOSTUNREACH:
	case ENETUNREACH:
		return "no route to the gateway: check the device's IP configuration";
	case ECONNABORTED:
#if defined(CONFIG_WASMBED_TLS_VERIFY_REQUIRED)
		return "TLS handshake failed (the socket layer logged the mbedTLS error above): "
		       "check that CONFIG_WASMBED_CA_HEADER holds the CA that signed the gateway "
		       "certificate, that the certificate names the mailbox host in its "
		       "subjectAltName, that the gateway sends TLS records of at most "
		       "CONFIG_MBEDTLS_SSL_MAX_CONTENT_LEN bytes, and, if the gateway requires "
		       "client certificates, that its --client-ca issued this device's";
#else
		return "TLS handshake failed (the socket layer logged the mbedTLS error above): "
		       "check that the gateway offers an ECDHE-ECDSA AES-GCM suite and sends TLS "
		       "records of at most CONFIG_MBEDTLS_SSL_MAX_CONTENT_LEN bytes";
#endif
	case ENOENT:
		return "a security tag named in TLS_SEC_TAG_LIST has no credential: was "
		       "network_credentials_init() called?";
	case ENOMEM:
		return "out of memory: raise CONFIG_MBEDTLS_HEAP_SIZE";
	default:
		return "see the errno";
	}
}

#if defined(CONFIG_WASMBED_TLS_VERIFY_REQUIRED)
/* Register one credential; an existing one (soft restart) is kept. 0 or a negative errno. */
static int add_credential(sec_tag_t tag, enum tls_credential_type type, const char *what,
			  const void *buf, size_t len)
{
	int ret = tls_credential_add(tag, type, buf, len);

	if (ret == -EEXIST) {
		LOG_INF("%s already registered under sec tag %d", what, (int)tag);
		return 0;
	}
	if (ret < 0) {
		LOG_ERR("tls_credential_add(sec tag %d, %s, %u bytes) failed: %d (%s)", (int)tag,
			what, (unsigned int)len, ret, errno_name(-ret));
		return ret;
	}
	LOG_INF("%s registered under sec tag %d (%u bytes DER)", what, (int)tag,
		(unsigned int)len);
	return 0;
}
#endif

int network_credentials_init(void)
{
#if defined(CONFIG_WASMBED_TLS_VERIFY_REQUIRED)
	int ret = add_credential(CONFIG_WASMBED_CA_SEC_TAG, TLS_CREDENTIAL_CA_CERTIFICATE,
				 "Gateway CA", ca_certificate, CA_CERTIFICATE_LEN);

	if (ret < 0) {
		return ret;
	}
#if defined(CONFIG_WASMBED_DEVICE_CERT)
	ret = add_credential(CONFIG_WASMBED_DEVICE_SEC_TAG, TLS_CREDENTIAL_PUBLIC_CERTIFICATE,
			     "Device certificate", device_certificate, DEVICE_CERTIFICATE_LEN);
	if (ret < 0) {
		return ret;
	}
	ret = add_credential(CONFIG_WASMBED_DEVICE_SEC_TAG, TLS_CREDENTIAL_PRIVATE_KEY,
			     "Device private key", device_private_key, DEVICE_PRIVATE_KEY_LEN);
	if (ret < 0) {
		return ret;
	}
#endif
	return 0;
#else
	LOG_WRN("Development TLS mode: the gateway's certificate is NOT verified");
	return 0;
#endif
}

/* Fill addr for the endpoint; returns its length, or a negative errno (logged). */
static int resolve(const struct wasmbed_endpoint *endpoint, union gateway_addr *addr)
{
	struct zsock_addrinfo hints;
	struct zsock_addrinfo *res = NULL;
	char port_text[6];
	int ret;

	memset(addr, 0, sizeof(*addr));
	if (endpoint->host_type == WASMBED_HOST_IPV4) {
		addr->in4.sin_family = AF_INET;
		addr->in4.sin_port = htons(endpoint->port);
		memcpy(&addr->in4.sin_addr, endpoint->addr, 4);
		return (int)sizeof(addr->in4);
	}
	if (endpoint->host_type == WASMBED_HOST_IPV6) {
		addr->in6.sin6_family = AF_INET6;
		addr->in6.sin6_port = htons(endpoint->port);
		memcpy(&addr->in6.sin6_addr, endpoint->addr, 16);
		return (int)sizeof(addr->in6);
	}

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	ret = snprintf(port_text, sizeof(port_text), "%u", (unsigned int)endpoint->port);
	if (ret < 0 || (size_t)ret >= sizeof(port_text)) {
		LOG_ERR("Cannot format port %u", (unsigned int)endpoint->port);
		return -EINVAL;
	}
	ret = zsock_getaddrinfo(endpoint->host, port_text, &hints, &res);
	if (ret != 0) {
		LOG_ERR("zsock_getaddrinfo(\"%s\") failed: %d (%s)", endpoint->host, ret,
			zsock_gai_strerror(ret));
		return -EHOSTUNREACH;
	}
	if (res == NULL || res->ai_addr == NULL || res->ai_addrlen > sizeof(*addr)) {
		LOG_ERR("zsock_getaddrinfo(\"%s\") returned no usable address", endpoint->host);
		if (res != NULL) {
			zsock_freeaddrinfo(res);
		}
		return -EHOSTUNREACH;
	}
	memcpy(addr, res->ai_addr, res->ai_addrlen);
	ret = (int)res->ai_addrlen;
	zsock_freeaddrinfo(res);
	return ret;
}

static void log_address(const struct wasmbed_endpoint *endpoint, const union gateway_addr *addr)
{
	char text[48];
	const void *raw = addr->sa.sa_family == AF_INET6 ? (const void *)&addr->in6.sin6_addr
							 : (const void *)&addr->in4.sin_addr;

	if (zsock_inet_ntop(addr->sa.sa_family, raw, text, sizeof(text)) == NULL) {
		LOG_WRN("zsock_inet_ntop() failed: errno %d (%s)", errno, errno_name(errno));
		return;
	}
	if (endpoint->host_type == WASMBED_HOST_DNS) {
		LOG_INF("Resolved %s to %s", endpoint->host, text);
	}
}

static int set_tls_options(int fd, const struct wasmbed_endpoint *endpoint)
{
	int verify = PEER_VERIFY;
	size_t host_len = endpoint->host_len;
	int ret;

#if defined(CONFIG_WASMBED_TLS_VERIFY_REQUIRED)
	ret = zsock_setsockopt(fd, SOL_TLS, TLS_SEC_TAG_LIST, sec_tags, sizeof(sec_tags));
	if (ret < 0) {
		LOG_ERR("zsock_setsockopt(TLS_SEC_TAG_LIST, %u tags) failed: errno %d (%s)",
			(unsigned int)ARRAY_SIZE(sec_tags), errno, errno_name(errno));
		return -errno;
	}
#endif

	/* SNI and the certificate name check take the name without its final dot. */
	if (endpoint->host_type == WASMBED_HOST_DNS && host_len > 1u &&
	    endpoint->host[host_len - 1u] == '.') {
		host_len--;
	}
	memcpy(tls_hostname, endpoint->host, host_len);
	tls_hostname[host_len] = '\0';
	ret = zsock_setsockopt(fd, SOL_TLS, TLS_HOSTNAME, tls_hostname, (socklen_t)(host_len + 1u));
	if (ret < 0) {
		LOG_ERR("zsock_setsockopt(TLS_HOSTNAME, \"%s\") failed: errno %d (%s)", tls_hostname,
			errno, errno_name(errno));
		return -errno;
	}

	ret = zsock_setsockopt(fd, SOL_TLS, TLS_PEER_VERIFY, &verify, sizeof(verify));
	if (ret < 0) {
		LOG_ERR("zsock_setsockopt(TLS_PEER_VERIFY, %d) failed: errno %d (%s)", verify, errno,
			errno_name(errno));
		return -errno;
	}
	return 0;
}

int network_connect(const struct wasmbed_endpoint *endpoint)
{
	union gateway_addr addr;
	int one = 1;
	int addr_len;
	int fd;
	int ret;
	int err;

	if (sock >= 0) {
		network_close();
	}

	addr_len = resolve(endpoint, &addr);
	if (addr_len < 0) {
		return addr_len;
	}
	log_address(endpoint, &addr);

	fd = zsock_socket(addr.sa.sa_family, SOCK_STREAM, IPPROTO_TLS_1_2);
	if (fd < 0) {
		err = errno;
		LOG_ERR("zsock_socket(%s, SOCK_STREAM, IPPROTO_TLS_1_2) failed: errno %d (%s)",
			addr.sa.sa_family == AF_INET6 ? "AF_INET6" : "AF_INET", err,
			errno_name(err));
		return -err;
	}

	ret = set_tls_options(fd, endpoint);
	if (ret < 0) {
		(void)zsock_close(fd);
		return ret;
	}

	/* Not fatal: without it small frames may wait for the delayed ACK of the previous one. */
	if (zsock_setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0) {
		LOG_WRN("zsock_setsockopt(TCP_NODELAY) failed: errno %d (%s)", errno,
			errno_name(errno));
	}

	ret = zsock_connect(fd, &addr.sa, (socklen_t)addr_len);
	if (ret < 0) {
		err = errno;
		LOG_ERR("zsock_connect() to %s port %u failed: errno %d (%s): %s", tls_hostname,
			(unsigned int)endpoint->port, err, errno_name(err), connect_hint(err));
		if (zsock_close(fd) < 0) {
			LOG_WRN("zsock_close() failed: errno %d (%s)", errno, errno_name(errno));
		}
		return -err;
	}
	sock = fd;
	return 0;
}

/*
 * Wait up to timeout_ms for `events` (ZSOCK_POLLIN or ZSOCK_POLLOUT) on the open socket.
 * 0 when ready, -EAGAIN when the time ran out (or a signal came), else a negative errno
 * (logged; -EBADF for a socket that is not open).
 */
static int wait_ready(short events, int32_t timeout_ms, const char *what)
{
	struct zsock_pollfd fds;
	int ret;
	int err;

	if (sock < 0) {
		LOG_ERR("%s without a connection", what);
		return -ENOTCONN;
	}
	fds.fd = sock;
	fds.events = events;
	fds.revents = 0;
	ret = zsock_poll(&fds, 1, (int)timeout_ms);
	if (ret < 0) {
		err = errno;
		if (err == EINTR) {
			return -EAGAIN;
		}
		LOG_ERR("zsock_poll() for %s failed: errno %d (%s)", what, err, errno_name(err));
		return -err;
	}
	if (ret == 0) {
		return -EAGAIN;
	}
	if ((fds.revents & ZSOCK_POLLNVAL) != 0) {
		LOG_ERR("zsock_poll() for %s: the socket is not open (POLLNVAL)", what);
		return -EBADF;
	}
	return 0;
}

/* The result of a non-blocking zsock_send()/zsock_recv(): n, -EAGAIN, or a logged -errno. */
static int io_result(ssize_t n, const char *what, size_t len)
{
	int err;

	if (n >= 0) {
		return (int)n;
	}
	err = errno;
	if (err == EAGAIN) {
		return -EAGAIN;
	}
	LOG_ERR("%s(%u bytes) failed: errno %d (%s)", what, (unsigned int)len, err,
		errno_name(err));
	return -err;
}

int network_send(const uint8_t *buf, size_t len, int32_t timeout_ms)
{
	int ret = wait_ready(ZSOCK_POLLOUT, timeout_ms, "network_send()");

	if (ret != 0) {
		return ret;
	}
	return io_result(zsock_send(sock, buf, len, ZSOCK_MSG_DONTWAIT), "zsock_send", len);
}

int network_recv(uint8_t *buf, size_t cap, int32_t timeout_ms)
{
	int ret = wait_ready(ZSOCK_POLLIN, timeout_ms, "network_recv()");

	if (ret != 0) {
		return ret;
	}
	/* Readable may mean only part of a TLS record has arrived: do not block on the rest. */
	return io_result(zsock_recv(sock, buf, cap, ZSOCK_MSG_DONTWAIT), "zsock_recv", cap);
}

void network_close(void)
{
	if (sock < 0) {
		return;
	}
	if (zsock_close(sock) < 0) {
		LOG_WRN("zsock_close() failed: errno %d (%s)", errno, errno_name(errno));
	}
	sock = -1;
}

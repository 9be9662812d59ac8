/*
 * Host port of <zephyr/net/socket.h>: zsock_* calls over POSIX sockets, TLS sockets over
 * mbedTLS (Debian's libmbedtls-dev).
 *
 * Zephyr semantics kept (Zephyr: "BSD Sockets", "Secure sockets"):
 * - zsock_socket() with IPPROTO_TLS_1_2 makes a TLS socket; IPPROTO_TCP a plain one.
 * - SOL_TLS options (level 282) fail with ENOPROTOOPT on a plain socket; on a TLS socket
 *   they are recorded and applied at connect(), which runs the TLS handshake. The TCP connect
 *   gives up after CONFIG_NET_SOCKETS_CONNECT_TIMEOUT ms (ETIMEDOUT); the handshake has no
 *   bound, as on Zephyr 3.7 (CONFIG_NET_SOCKETS_TLS_CONNECT_TIMEOUT arrives in 4.4).
 * - Only the address families prj.conf enables (CONFIG_NET_IPV4, CONFIG_NET_IPV6) open;
 *   others fail with EAFNOSUPPORT.
 * - TLS_PEER_VERIFY defaults to required for a client; a client without TLS_HOSTNAME checks
 *   the certificate against the empty name, which fails.
 * - A failed handshake logs "TLS handshake error: -0x...." (the mbedTLS error) and sets
 *   errno to ECONNABORTED; a read or write failure after it does the same with "TLS recv
 *   error"/"TLS send error".
 * - The TLS input and output buffers hold CONFIG_MBEDTLS_SSL_MAX_CONTENT_LEN bytes, as on the
 *   device: a record from the peer too long for the input buffer (content plus 32 bytes of
 *   AEAD overhead) fails with MBEDTLS_ERR_SSL_BAD_INPUT_DATA (-0x7100), one that fits but
 *   whose content is larger with MBEDTLS_ERR_SSL_INVALID_RECORD (-0x7200); one zsock_send()
 *   sends at most MAX_CONTENT_LEN bytes.
 * - The ClientHello offers what prj.conf enables: TLS 1.2, ECDHE-ECDSA with AES-GCM and
 *   ChaCha20-Poly1305, curve secp256r1, extended master secret, SNI, and max_fragment_length
 *   from the buffer size. An IP TLS_HOSTNAME matches an iPAddress subjectAltName, as in
 *   mbedTLS 3.5 and later.
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#ifndef WASMBED_HOST_ZEPHYR_NET_SOCKET_H_
#define WASMBED_HOST_ZEPHYR_NET_SOCKET_H_

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <zephyr/net/tls_credentials.h>

/** @brief TLS 1.2 over TCP (Zephyr's enum net_ip_protocol_secure). */
#define IPPROTO_TLS_1_2 258
/** @brief TLS 1.3 over TCP; refused on the host (mbedTLS 2.28 has no TLS 1.3 client). */
#define IPPROTO_TLS_1_3 259

/** @brief Socket option level for TLS. */
#define SOL_TLS 282
/** @brief Option: array of sec_tag_t naming the credentials to use. */
#define TLS_SEC_TAG_LIST 1
/** @brief Option: NUL-terminated host name for SNI and the certificate name check. */
#define TLS_HOSTNAME 2
/** @brief Option: int array of IANA cipher suite ids. */
#define TLS_CIPHERSUITE_LIST 3
/** @brief Option (read-only): the suite chosen by the handshake, an int. */
#define TLS_CIPHERSUITE_USED 4
/** @brief Option: an int, TLS_PEER_VERIFY_NONE, _OPTIONAL or _REQUIRED. */
#define TLS_PEER_VERIFY 5

/** @brief Do not verify the peer. */
#define TLS_PEER_VERIFY_NONE 0
/** @brief Verify, but go on when verification fails. */
#define TLS_PEER_VERIFY_OPTIONAL 1
/** @brief Verify and fail the handshake when verification fails. */
#define TLS_PEER_VERIFY_REQUIRED 2

/** @brief zsock_poll(): readable. */
#define ZSOCK_POLLIN 1
/** @brief zsock_poll(): exceptional condition. */
#define ZSOCK_POLLPRI 2
/** @brief zsock_poll(): writable. */
#define ZSOCK_POLLOUT 4
/** @brief zsock_poll(): error (output only). */
#define ZSOCK_POLLERR 8
/** @brief zsock_poll(): hang-up (output only). */
#define ZSOCK_POLLHUP 0x10
/** @brief zsock_poll(): not an open socket (output only). */
#define ZSOCK_POLLNVAL 0x20

/** @brief zsock_recv()/zsock_send(): do not block. */
#define ZSOCK_MSG_DONTWAIT 0x40

/** @brief One entry for zsock_poll(). */
struct zsock_pollfd {
	/** The socket. */
	int fd;
	/** ZSOCK_POLL* events to wait for. */
	short events;
	/** ZSOCK_POLL* events that happened. */
	short revents;
};

/** @brief Zephyr's addrinfo is POSIX's. */
#define zsock_addrinfo addrinfo

/** @brief Create a socket; a TLS socket with IPPROTO_TLS_1_2. -1 and errno on failure. */
int zsock_socket(int family, int type, int proto);
/** @brief Connect; on a TLS socket also run the handshake. -1 and errno on failure. */
int zsock_connect(int sock, const struct sockaddr *addr, socklen_t addrlen);
/** @brief Send; returns the bytes sent, or -1 and errno. */
ssize_t zsock_send(int sock, const void *buf, size_t len, int flags);
/** @brief Receive; returns the bytes read, 0 at the end of the stream, or -1 and errno. */
ssize_t zsock_recv(int sock, void *buf, size_t max_len, int flags);
/** @brief Close (a TLS socket sends close_notify first). 0, or -1 and errno. */
int zsock_close(int sock);
/** @brief Set an option; SOL_TLS options as described above. 0, or -1 and errno. */
int zsock_setsockopt(int sock, int level, int optname, const void *optval, socklen_t optlen);
/** @brief Get an option (SOL_TLS: TLS_CIPHERSUITE_USED). 0, or -1 and errno. */
int zsock_getsockopt(int sock, int level, int optname, void *optval, socklen_t *optlen);
/** @brief Wait for events; a TLS socket with decrypted bytes pending is readable. */
int zsock_poll(struct zsock_pollfd *fds, int nfds, int timeout);
/** @brief Resolve a host name (getaddrinfo(3)). 0 or an EAI_* code. */
int zsock_getaddrinfo(const char *host, const char *service, const struct zsock_addrinfo *hints,
		      struct zsock_addrinfo **res);
/** @brief Free zsock_getaddrinfo()'s result. */
void zsock_freeaddrinfo(struct zsock_addrinfo *ai);
/** @brief Describe an EAI_* code. */
const char *zsock_gai_strerror(int errcode);
/** @brief Address to text (inet_ntop(3)). */
const char *zsock_inet_ntop(int family, const void *src, char *dst, size_t size);

#endif /* WASMBED_HOST_ZEPHYR_NET_SOCKET_H_ */

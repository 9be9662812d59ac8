/*
 * Host port: TLS sockets over mbedTLS 2.28 (Zephyr: subsys/net/lib/sockets/sockets_tls.c).
 *
 * The options a TLS socket records, when they apply (connect), its default verification, its
 * log lines and errno values follow Zephyr's sockets_tls.c. What the device's mbedTLS build
 * limits, this file limits too (see <zephyr/net/socket.h>); the values come from prj.conf
 * through wasmbed_host_defaults.h. The record-size guard is in sockets_tls_record.c, the
 * certificate checks that differ between mbedTLS versions in sockets_tls_verify.c.
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_ciphersuites.h>
#include <mbedtls/x509_crt.h>

#include <zephyr/kernel.h>
#include <zephyr/logging/log.h>
#include <zephyr/net/socket.h>
#include <zephyr/net/tls_credentials.h>

#include "sockets_internal.h"
#include "sockets_tls_record.h"
#include "sockets_tls_verify.h"
#include "wasmbed_host_defaults.h"
#include "wasmbed_host_port.h"

LOG_MODULE_REGISTER(net_sock_tls, LOG_LEVEL_INF);

/* Zephyr's TLS_SEC_TAG_LIST limit, CONFIG_NET_SOCKETS_TLS_MAX_CREDENTIALS (default 4). */
#define MAX_SEC_TAGS 4
/* Zephyr's TLS_CIPHERSUITE_LIST limit, CONFIG_NET_SOCKETS_TLS_MAX_CIPHERSUITES (default 4). */
#define MAX_CIPHERSUITES 4

/* What prj.conf enables: ECDHE-ECDSA key exchange with AES-GCM and ChaCha20-Poly1305 (CBC is
 * off). The default ClientHello of the device offers these. */
static const int device_ciphersuites[] = {
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	0,
};

/* prj.conf: CONFIG_MBEDTLS_ECP_DP_SECP256R1_ENABLED only. */
static const mbedtls_ecp_group_id device_curves[] = {
	MBEDTLS_ECP_DP_SECP256R1,
	MBEDTLS_ECP_DP_NONE,
};

struct tls_context {
	bool used;
	int fd;
	bool initialized;
	bool handshake_done;
	bool session_closed;
	/* Sticky errno after a fatal TLS error, 0 otherwise. */
	int error;
	sec_tag_t sec_tags[MAX_SEC_TAGS];
	size_t sec_tag_count;
	int ciphersuites[MAX_CIPHERSUITES + 1];
	bool hostname_set;
	char hostname[256];
	int verify_level;
	/* The BIO under ssl: the socket and the device's record-size limit. */
	struct wasmbed_record_guard guard;
	mbedtls_ssl_context ssl;
	mbedtls_ssl_config config;
	mbedtls_x509_crt ca_chain;
	mbedtls_x509_crt own_cert;
	mbedtls_pk_context own_key;
};

static struct tls_context contexts[CONFIG_NET_SOCKETS_TLS_MAX_CONTEXTS];

static mbedtls_entropy_context entropy;
static mbedtls_ctr_drbg_context drbg;
static bool drbg_ready;

static struct tls_context *find_tls(int fd)
{
	size_t i;

	for (i = 0; i < CONFIG_NET_SOCKETS_TLS_MAX_CONTEXTS; i++) {
		if (contexts[i].used && contexts[i].fd == fd) {
			return &contexts[i];
		}
	}
	return NULL;
}

static void release_tls(struct tls_context *ctx)
{
	if (ctx->initialized) {
		mbedtls_ssl_free(&ctx->ssl);
		mbedtls_ssl_config_free(&ctx->config);
		mbedtls_x509_crt_free(&ctx->ca_chain);
		mbedtls_x509_crt_free(&ctx->own_cert);
		mbedtls_pk_free(&ctx->own_key);
	}
	memset(ctx, 0, sizeof(*ctx));
}

int wasmbed_tls_socket(int family, int type, int proto)
{
	struct tls_context *ctx = NULL;
	size_t i;
	int fd;

	if (type != SOCK_STREAM) {
		errno = EPROTOTYPE;
		return -1;
	}
	if (proto == IPPROTO_TLS_1_3) {
		/* Like a Zephyr build whose mbedTLS has no TLS 1.3. */
		errno = EPROTONOSUPPORT;
		return -1;
	}
	for (i = 0; i < CONFIG_NET_SOCKETS_TLS_MAX_CONTEXTS; i++) {
		if (!contexts[i].used) {
			ctx = &contexts[i];
			break;
		}
	}
	if (ctx == NULL) {
		/* CONFIG_NET_SOCKETS_TLS_MAX_CONTEXTS reached. */
		errno = ENOMEM;
		return -1;
	}
	fd = socket(family, type | SOCK_CLOEXEC, IPPROTO_TCP);
	if (fd < 0) {
		return -1;
	}
	memset(ctx, 0, sizeof(*ctx));
	ctx->used = true;
	ctx->fd = fd;
	ctx->verify_level = -1;
	wasmbed_record_guard_init(&ctx->guard, fd, &ctx->ssl);
	return fd;
}

bool wasmbed_tls_owns(int sock)
{
	return find_tls(sock) != NULL;
}

static int set_tls_option(struct tls_context *ctx, int optname, const void *optval,
			  socklen_t optlen)
{
	size_t i;

	switch (optname) {
	case TLS_SEC_TAG_LIST:
		if (optval == NULL || optlen == 0 || optlen % sizeof(sec_tag_t) != 0 ||
		    optlen / sizeof(sec_tag_t) > MAX_SEC_TAGS) {
			return -EINVAL;
		}
		ctx->sec_tag_count = optlen / sizeof(sec_tag_t);
		memcpy(ctx->sec_tags, optval, optlen);
		return 0;
	case TLS_HOSTNAME: {
		const char *name = optval;
		size_t len = 0;

		if (name == NULL) {
			return -EINVAL;
		}
		while (len < optlen && name[len] != '\0') {
			len++;
		}
		if (len >= sizeof(ctx->hostname)) {
			return -EINVAL;
		}
		memcpy(ctx->hostname, name, len);
		ctx->hostname[len] = '\0';
		ctx->hostname_set = true;
		return 0;
	}
	case TLS_CIPHERSUITE_LIST:
		if (optval == NULL || optlen == 0 || optlen % sizeof(int) != 0 ||
		    optlen / sizeof(int) > MAX_CIPHERSUITES) {
			return -EINVAL;
		}
		memset(ctx->ciphersuites, 0, sizeof(ctx->ciphersuites));
		memcpy(ctx->ciphersuites, optval, optlen);
		for (i = 0; i < optlen / sizeof(int); i++) {
			if (mbedtls_ssl_ciphersuite_from_id(ctx->ciphersuites[i]) == NULL) {
				return -EINVAL;
			}
		}
		return 0;
	case TLS_PEER_VERIFY: {
		int level;

		if (optval == NULL || optlen != sizeof(int)) {
			return -EINVAL;
		}
		memcpy(&level, optval, sizeof(level));
		if (level != TLS_PEER_VERIFY_NONE && level != TLS_PEER_VERIFY_OPTIONAL &&
		    level != TLS_PEER_VERIFY_REQUIRED) {
			return -EINVAL;
		}
		ctx->verify_level = level;
		return 0;
	}
	default:
		return -ENOPROTOOPT;
	}
}

int wasmbed_tls_setsockopt(int sock, int optname, const void *optval, socklen_t optlen)
{
	struct tls_context *ctx = find_tls(sock);
	int ret;

	if (ctx == NULL) {
		/* A plain socket: Zephyr has no TLS option there. (Linux's own SOL_TLS, also 282,
		 * is kernel TLS: never passed down.) */
		errno = ENOPROTOOPT;
		return -1;
	}
	ret = set_tls_option(ctx, optname, optval, optlen);
	if (ret < 0) {
		errno = -ret;
		return -1;
	}
	return 0;
}

int wasmbed_tls_getsockopt(int sock, int optname, void *optval, socklen_t *optlen)
{
	struct tls_context *ctx = find_tls(sock);
	int id;

	if (ctx == NULL) {
		errno = ENOPROTOOPT;
		return -1;
	}
	if (optname != TLS_CIPHERSUITE_USED || optval == NULL || optlen == NULL ||
	    *optlen < sizeof(int)) {
		errno = optname == TLS_CIPHERSUITE_USED ? EINVAL : ENOPROTOOPT;
		return -1;
	}
	if (!ctx->handshake_done) {
		errno = ENOTCONN;
		return -1;
	}
	id = mbedtls_ssl_get_ciphersuite_id(mbedtls_ssl_get_ciphersuite(&ctx->ssl));
	memcpy(optval, &id, sizeof(id));
	*optlen = sizeof(int);
	return 0;
}

/* The socket readiness mbedTLS asked for. */
static short wanted_events(int mbedtls_ret)
{
	return mbedtls_ret == MBEDTLS_ERR_SSL_WANT_WRITE ? POLLOUT : POLLIN;
}

static int seed_drbg(void)
{
	static const unsigned char personalization[] = "wasmbed-device host port";
	int ret;

	if (drbg_ready) {
		return 0;
	}
	mbedtls_entropy_init(&entropy);
	mbedtls_ctr_drbg_init(&drbg);
	ret = mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, personalization,
				    sizeof(personalization) - 1);
	if (ret != 0) {
		LOG_ERR("mbedtls_ctr_drbg_seed() failed: -0x%x", (unsigned int)-ret);
		return -EIO;
	}
	drbg_ready = true;
	return 0;
}

/* Like Zephyr's tls_set_max_frag_len(): the largest RFC 6066 fragment length that fits the
 * buffer. */
static unsigned char max_frag_len_code(void)
{
	size_t len = CONFIG_MBEDTLS_SSL_MAX_CONTENT_LEN;

	if (len >= 4096) {
		return MBEDTLS_SSL_MAX_FRAG_LEN_4096;
	}
	if (len >= 2048) {
		return MBEDTLS_SSL_MAX_FRAG_LEN_2048;
	}
	if (len >= 1024) {
		return MBEDTLS_SSL_MAX_FRAG_LEN_1024;
	}
	return MBEDTLS_SSL_MAX_FRAG_LEN_512;
}

static int set_credentials(struct tls_context *ctx)
{
	bool have_ca = false;
	bool have_cert = false;
	bool have_key = false;
	size_t i;

	for (i = 0; i < ctx->sec_tag_count; i++) {
		const struct wasmbed_host_credential *cred = NULL;
		bool found = false;

		while ((cred = wasmbed_host_credential_next(ctx->sec_tags[i], cred)) != NULL) {
			found = true;
			if (cred->type == TLS_CREDENTIAL_CA_CERTIFICATE) {
				/* Zephyr: mbedtls_x509_crt_parse(); DER here (no PEM in prj.conf's
				 * production overlay). */
				int ret = mbedtls_x509_crt_parse(&ctx->ca_chain, cred->buf, cred->len);

				if (ret != 0) {
					LOG_ERR("CA certificate under sec tag %d does not parse: -0x%x",
						ctx->sec_tags[i], (unsigned int)-ret);
					return -EINVAL;
				}
				have_ca = true;
			} else if (cred->type == TLS_CREDENTIAL_PUBLIC_CERTIFICATE) {
				/* Zephyr: tls_set_own_cert(), mbedtls_x509_crt_parse(). */
				int ret = mbedtls_x509_crt_parse(&ctx->own_cert, cred->buf, cred->len);

				if (ret != 0) {
					LOG_ERR("Certificate under sec tag %d does not parse: -0x%x",
						ctx->sec_tags[i], (unsigned int)-ret);
					return -EINVAL;
				}
				have_cert = true;
			} else if (cred->type == TLS_CREDENTIAL_PRIVATE_KEY) {
				/* Zephyr: tls_set_private_key(), mbedtls_pk_parse_key(). */
				int ret = mbedtls_pk_parse_key(&ctx->own_key, cred->buf, cred->len, NULL,
							       0);

				if (ret != 0) {
					LOG_ERR("Private key under sec tag %d does not parse: -0x%x",
						ctx->sec_tags[i], (unsigned int)-ret);
					return -EINVAL;
				}
				have_key = true;
			} else {
				LOG_ERR("Credential type %d under sec tag %d is not supported by the "
					"host port",
					(int)cred->type, ctx->sec_tags[i]);
				return -ENOTSUP;
			}
		}
		if (!found) {
			return -ENOENT;
		}
	}
	if (have_ca) {
		mbedtls_ssl_conf_ca_chain(&ctx->config, &ctx->ca_chain, NULL);
	}
	if (have_cert != have_key) {
		LOG_ERR("A device certificate needs its private key (and the reverse) in the "
			"sec tags of TLS_SEC_TAG_LIST");
		return -EINVAL;
	}
	if (have_cert &&
	    mbedtls_ssl_conf_own_cert(&ctx->config, &ctx->own_cert, &ctx->own_key) != 0) {
		return -ENOMEM;
	}
	return 0;
}

static int tls_init(struct tls_context *ctx)
{
	int ret;

	ret = seed_drbg();
	if (ret < 0) {
		return ret;
	}
	mbedtls_ssl_init(&ctx->ssl);
	mbedtls_ssl_config_init(&ctx->config);
	mbedtls_x509_crt_init(&ctx->ca_chain);
	mbedtls_x509_crt_init(&ctx->own_cert);
	mbedtls_pk_init(&ctx->own_key);
	ctx->initialized = true;

	ret = mbedtls_ssl_config_defaults(&ctx->config, MBEDTLS_SSL_IS_CLIENT,
					  MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
	if (ret != 0) {
		return -ENOMEM;
	}
	mbedtls_ssl_conf_min_version(&ctx->config, MBEDTLS_SSL_MAJOR_VERSION_3,
				     MBEDTLS_SSL_MINOR_VERSION_3);
	mbedtls_ssl_conf_max_version(&ctx->config, MBEDTLS_SSL_MAJOR_VERSION_3,
				     MBEDTLS_SSL_MINOR_VERSION_3);
	mbedtls_ssl_conf_rng(&ctx->config, mbedtls_ctr_drbg_random, &drbg);
	ret = mbedtls_ssl_conf_max_frag_len(&ctx->config, max_frag_len_code());
	if (ret != 0) {
		return -EINVAL;
	}
	mbedtls_ssl_conf_curves(&ctx->config, device_curves);
	mbedtls_ssl_conf_ciphersuites(&ctx->config, ctx->ciphersuites[0] != 0
							    ? ctx->ciphersuites
							    : device_ciphersuites);
	/* Zephyr sets the verification mode only when TLS_PEER_VERIFY was given; mbedTLS's
	 * default for a client is required. */
	if (ctx->verify_level != -1) {
		mbedtls_ssl_conf_authmode(&ctx->config, ctx->verify_level);
	}
	mbedtls_ssl_conf_verify(&ctx->config, wasmbed_tls_verify_ip_san, ctx->hostname);
	ret = set_credentials(ctx);
	if (ret < 0) {
		return ret;
	}
	ret = mbedtls_ssl_setup(&ctx->ssl, &ctx->config);
	if (ret != 0) {
		return -ENOMEM;
	}
	/* Zephyr: "For TLS clients, set hostname to empty string to enforce its verification"
	 * when TLS_HOSTNAME was not set. */
	ret = mbedtls_ssl_set_hostname(&ctx->ssl, ctx->hostname_set ? ctx->hostname : "");
	if (ret != 0) {
		return -ENOMEM;
	}
	mbedtls_ssl_set_bio(&ctx->ssl, &ctx->guard, wasmbed_record_guard_send,
			    wasmbed_record_guard_recv, NULL);
	return 0;
}

static int tls_handshake(struct tls_context *ctx)
{
#if defined(CONFIG_NET_SOCKETS_TLS_CONNECT_TIMEOUT)
	/* Zephyr 4.4 and later bound the handshake in connect(). */
	int64_t deadline = k_uptime_get() + CONFIG_NET_SOCKETS_TLS_CONNECT_TIMEOUT;
#else
	/* Zephyr 3.7 does not: connect() waits as long as the peer keeps the connection open. */
	int64_t deadline = -1;
#endif
	int ret;

	while ((ret = mbedtls_ssl_handshake(&ctx->ssl)) != 0) {
		if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE) {
			int err = wasmbed_sock_wait(ctx->fd, wanted_events(ret), deadline);

			if (err == -ETIMEDOUT) {
				LOG_ERR("TLS handshake timeout");
				return -ETIMEDOUT;
			}
			if (err < 0) {
				return err;
			}
			continue;
		}
		LOG_ERR("TLS handshake error: -0x%x", (unsigned int)-ret);
		if (ret == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) {
			wasmbed_tls_log_verify_failure(&ctx->ssl);
		} else if (ctx->guard.os_errno != 0) {
			LOG_ERR("TLS handshake: socket error %d (%s)", ctx->guard.os_errno,
				strerror(ctx->guard.os_errno));
		}
		return -ECONNABORTED;
	}
	ctx->handshake_done = true;
	return 0;
}

int wasmbed_tls_connect(int sock)
{
	struct tls_context *ctx = find_tls(sock);
	int ret;

	if (ctx == NULL) {
		errno = EBADF;
		return -1;
	}
	ret = tls_init(ctx);
	if (ret == 0) {
		ret = tls_handshake(ctx);
	}
	if (ret < 0) {
		ctx->error = ret == -ETIMEDOUT ? ETIMEDOUT : ECONNABORTED;
		errno = -ret;
		return -1;
	}
	return 0;
}

/* After MBEDTLS_ERR_SSL_WANT_READ/WRITE: EAGAIN for a non-blocking call, else wait for the
 * socket. 0 to call mbedTLS again, -1 with errno. */
static int wait_to_retry(struct tls_context *ctx, int mbedtls_ret, int flags)
{
	int err;

	if (flags & ZSOCK_MSG_DONTWAIT) {
		errno = EAGAIN;
		return -1;
	}
	err = wasmbed_sock_wait(ctx->fd, wanted_events(mbedtls_ret), -1);
	if (err < 0) {
		errno = -err;
		return -1;
	}
	return 0;
}

/* A fatal mbedTLS error on an established session, as Zephyr reports it: the log line, a
 * sticky ECONNABORTED, -1. */
static ssize_t session_failed(struct tls_context *ctx, const char *what, int mbedtls_ret)
{
	LOG_ERR("TLS %s error: -0x%x", what, (unsigned int)-mbedtls_ret);
	if (ctx->guard.os_errno != 0) {
		LOG_ERR("TLS %s: socket error %d (%s)", what, ctx->guard.os_errno,
			strerror(ctx->guard.os_errno));
	}
	ctx->error = ECONNABORTED;
	errno = ECONNABORTED;
	return -1;
}

ssize_t wasmbed_tls_send(int sock, const void *buf, size_t len, int flags)
{
	struct tls_context *ctx = find_tls(sock);
	int ret;

	if (ctx == NULL) {
		errno = EBADF;
		return -1;
	}
	if (ctx->error != 0) {
		errno = ctx->error;
		return -1;
	}
	if (!ctx->handshake_done || ctx->session_closed) {
		errno = ctx->session_closed ? ECONNABORTED : ENOTCONN;
		return -1;
	}
	/* One record's worth at most: the device's output buffer is MAX_CONTENT_LEN bytes. */
	if (len > CONFIG_MBEDTLS_SSL_MAX_CONTENT_LEN) {
		len = CONFIG_MBEDTLS_SSL_MAX_CONTENT_LEN;
	}
	for (;;) {
		ret = mbedtls_ssl_write(&ctx->ssl, buf, len);
		if (ret >= 0) {
			return ret;
		}
		if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE) {
			if (wait_to_retry(ctx, ret, flags) != 0) {
				return -1;
			}
			continue;
		}
		return session_failed(ctx, "send", ret);
	}
}

ssize_t wasmbed_tls_recv(int sock, void *buf, size_t max_len, int flags)
{
	struct tls_context *ctx = find_tls(sock);
	int ret;

	if (ctx == NULL) {
		errno = EBADF;
		return -1;
	}
	if (ctx->error != 0) {
		errno = ctx->error;
		return -1;
	}
	if (ctx->session_closed) {
		return 0;
	}
	if (!ctx->handshake_done) {
		errno = ENOTCONN;
		return -1;
	}
	for (;;) {
		ret = mbedtls_ssl_read(&ctx->ssl, buf, max_len);
		if (ret >= 0) {
			if (ret == 0) {
				ctx->session_closed = true;
			}
			return ret;
		}
		if (ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY || ret == MBEDTLS_ERR_SSL_CONN_EOF) {
			ctx->session_closed = true;
			return 0;
		}
		if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE) {
			if (wait_to_retry(ctx, ret, flags) != 0) {
				return -1;
			}
			continue;
		}
		return session_failed(ctx, "recv", ret);
	}
}

bool wasmbed_tls_readable_now(int sock)
{
	struct tls_context *ctx = find_tls(sock);

	return ctx != NULL &&
	       (ctx->error != 0 || ctx->session_closed ||
		(ctx->handshake_done && mbedtls_ssl_get_bytes_avail(&ctx->ssl) > 0));
}

void wasmbed_tls_release(int sock)
{
	struct tls_context *ctx = find_tls(sock);

	if (ctx == NULL) {
		return;
	}
	if (ctx->handshake_done && ctx->error == 0 && !ctx->session_closed) {
		/* Best effort, as Zephyr's ztls_close_ctx(). */
		(void)mbedtls_ssl_close_notify(&ctx->ssl);
	}
	release_tls(ctx);
}

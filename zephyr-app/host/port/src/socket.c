/*
 * Host port: Zephyr's socket API over POSIX sockets, TLS sockets over mbedTLS 2.28.
 *
 * Modelled on Zephyr's subsys/net/lib/sockets/sockets_tls.c: the options a TLS socket records,
 * when they apply (connect), its default verification, its log lines and errno values. What
 * the device's mbedTLS build limits, this file limits too (see <zephyr/net/socket.h>); the
 * values come from prj.conf through wasmbed_host_defaults.h.
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_ciphersuites.h>
#include <mbedtls/x509_crt.h>

#include <zephyr/kernel.h>
#include <zephyr/logging/log.h>
#include <zephyr/net/socket.h>
#include <zephyr/net/tls_credentials.h>

#include "wasmbed_host.h"
#include "wasmbed_host_defaults.h"
#include "wasmbed_host_port.h"

LOG_MODULE_REGISTER(net_sock_tls, LOG_LEVEL_INF);

/* TLS record header: type, version (2), length (2) (RFC 5246 section 6.2.1). */
#define RECORD_HEADER_LEN 5
/* ChangeCipherSpec content type (RFC 5246 section 6.2.1). */
#define RECORD_TYPE_CHANGE_CIPHER_SPEC 20
/* Zephyr's TLS_SEC_TAG_LIST limit, CONFIG_NET_SOCKETS_TLS_MAX_CREDENTIALS (default 4). */
#define MAX_SEC_TAGS 4
/* Zephyr's TLS_CIPHERSUITE_LIST limit, CONFIG_NET_SOCKETS_TLS_MAX_CIPHERSUITES (default 4). */
#define MAX_CIPHERSUITES 4
/* Record expansion assumed before the transform is known (only the server's Finished of an
 * abbreviated handshake, a few dozen bytes, is read then): ChaCha20-Poly1305's 16-byte tag,
 * the smallest of the suites below, so the guard can only be stricter than the device. */
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
	/* errno of the last failing send(2)/recv(2) in the BIO callbacks. */
	int os_errno;
	sec_tag_t sec_tags[MAX_SEC_TAGS];
	size_t sec_tag_count;
	int ciphersuites[MAX_CIPHERSUITES + 1];
	bool hostname_set;
	char hostname[256];
	int verify_level;
	/* Record guard: where the peer's byte stream is. */
	uint8_t header[RECORD_HEADER_LEN];
	size_t header_len;
	size_t body_left;
	bool body_is_ccs;
	bool peer_encrypts;
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

int zsock_socket(int family, int type, int proto)
{
	struct tls_context *ctx = NULL;
	bool tls = false;
	size_t i;
	int fd;

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
		tls = true;
		proto = IPPROTO_TCP;
	}
	fd = socket(family, type | SOCK_CLOEXEC, proto);
	if (fd < 0) {
		return -1;
	}
	if (tls) {
		memset(ctx, 0, sizeof(*ctx));
		ctx->used = true;
		ctx->fd = fd;
		ctx->verify_level = -1;
	}
	return fd;
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

int zsock_setsockopt(int sock, int level, int optname, const void *optval, socklen_t optlen)
{
	if (level == SOL_TLS) {
		struct tls_context *ctx = find_tls(sock);
		int ret;

		if (ctx == NULL) {
			/* A plain socket: Zephyr has no TLS option there. (Linux's own SOL_TLS,
			 * also 282, is kernel TLS: never passed down.) */
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
	return setsockopt(sock, level, optname, optval, optlen);
}

int zsock_getsockopt(int sock, int level, int optname, void *optval, socklen_t *optlen)
{
	if (level == SOL_TLS) {
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
	return getsockopt(sock, level, optname, optval, optlen);
}

/* --- mbedTLS BIO with the device's record buffer limit -------------------------------- */

/* The protection bytes a record from the peer carries beyond its content. */
static size_t record_expansion(struct tls_context *ctx)
{
	int expansion;

	if (!ctx->peer_encrypts) {
		return 0;
	}
	expansion = mbedtls_ssl_get_record_expansion(&ctx->ssl);
	/* The expansion includes the header; without a transform it is the header. */
	if (expansion > RECORD_HEADER_LEN) {
		return (size_t)expansion - RECORD_HEADER_LEN;
	}
	return AEAD_MIN_EXPANSION;
}

/*
 * What mbedTLS on the device does with a record of this length, given its buffer: 0 when it
 * fits, else the error it returns (and logs the reason). Records of other types, or not
 * TLS 1.x, are left to mbedTLS, which refuses them itself.
 */
static int check_record(struct tls_context *ctx)
{
	const uint8_t *h = ctx->header;
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
	expansion = record_expansion(ctx);
	if (length > CONFIG_MBEDTLS_SSL_MAX_CONTENT_LEN + expansion) {
		LOG_ERR("TLS record with %u bytes of content (type %u) exceeds the device's "
			"CONFIG_MBEDTLS_SSL_MAX_CONTENT_LEN=%u",
			(unsigned int)(length - expansion), (unsigned int)h[0],
			(unsigned int)CONFIG_MBEDTLS_SSL_MAX_CONTENT_LEN);
		return MBEDTLS_ERR_SSL_INVALID_RECORD;
	}
	return 0;
}

static int bio_send(void *p, const unsigned char *buf, size_t len)
{
	struct tls_context *ctx = p;
	ssize_t n = send(ctx->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);

	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
			return MBEDTLS_ERR_SSL_WANT_WRITE;
		}
		ctx->os_errno = errno;
		return MBEDTLS_ERR_NET_SEND_FAILED;
	}
	return (int)n;
}

/*
 * Reads at most to the end of the current record header or body, so that every header is
 * seen: a record whose content exceeds the device's buffer fails as mbedTLS on the device
 * fails it (ssl_msg.c: "bad message length", MBEDTLS_ERR_SSL_INVALID_RECORD).
 */
static int bio_recv(void *p, unsigned char *buf, size_t len)
{
	struct tls_context *ctx = p;
	size_t want;
	ssize_t n;

	if (ctx->header_len < RECORD_HEADER_LEN) {
		want = RECORD_HEADER_LEN - ctx->header_len;
	} else {
		want = ctx->body_left;
	}
	if (want > len) {
		want = len;
	}
	n = recv(ctx->fd, buf, want, MSG_DONTWAIT);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
			return MBEDTLS_ERR_SSL_WANT_READ;
		}
		ctx->os_errno = errno;
		return MBEDTLS_ERR_NET_RECV_FAILED;
	}
	if (n == 0) {
		return 0;
	}

	if (ctx->header_len < RECORD_HEADER_LEN) {
		memcpy(ctx->header + ctx->header_len, buf, (size_t)n);
		ctx->header_len += (size_t)n;
		if (ctx->header_len == RECORD_HEADER_LEN) {
			int verdict = check_record(ctx);

			if (verdict != 0) {
				return verdict;
			}
			ctx->body_left = ((size_t)ctx->header[3] << 8) | ctx->header[4];
			ctx->body_is_ccs = ctx->header[0] == RECORD_TYPE_CHANGE_CIPHER_SPEC;
		}
	} else {
		ctx->body_left -= (size_t)n;
	}
	if (ctx->header_len == RECORD_HEADER_LEN && ctx->body_left == 0) {
		ctx->header_len = 0;
		if (ctx->body_is_ccs) {
			/* Every later record from the peer is protected (RFC 5246 section 7.1). */
			ctx->peer_encrypts = true;
		}
	}
	return (int)n;
}

/* --- connect and the handshake ------------------------------------------------------- */

static int64_t now_ms(void)
{
	return k_uptime_get();
}

/* Wait for the socket to be ready for what mbedTLS asked; -ETIMEDOUT past the deadline
 * (deadline < 0: none). */
static int wait_for(int fd, int mbedtls_ret, int64_t deadline)
{
	struct pollfd pfd;
	int timeout = -1;
	int ret;

	if (deadline >= 0) {
		int64_t left = deadline - now_ms();

		if (left <= 0) {
			return -ETIMEDOUT;
		}
		timeout = left > INT32_MAX ? INT32_MAX : (int)left;
	}
	pfd.fd = fd;
	pfd.events = mbedtls_ret == MBEDTLS_ERR_SSL_WANT_WRITE ? POLLOUT : POLLIN;
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

static int verify_ip_san(void *p, mbedtls_x509_crt *crt, int depth, uint32_t *flags);

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
	mbedtls_ssl_conf_verify(&ctx->config, verify_ip_san, ctx);
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
	mbedtls_ssl_set_bio(&ctx->ssl, ctx, bio_send, bio_recv, NULL);
	return 0;
}

/*
 * mbedTLS 3.5 and later (the device's 3.6) match a TLS_HOSTNAME that is an IP address against
 * the certificate's iPAddress subjectAltNames (RFC 5280 section 4.2.1.6); Debian's 2.28 only
 * compares names. This verification callback adds the match for the leaf, so a gateway
 * certificate that names its address only as an iPAddress is accepted as on the device.
 */
static int verify_ip_san(void *p, mbedtls_x509_crt *crt, int depth, uint32_t *flags)
{
	struct tls_context *ctx = p;
	unsigned char ip[16];
	size_t ip_len;
	const mbedtls_x509_sequence *san;

	if (depth != 0 || (*flags & MBEDTLS_X509_BADCERT_CN_MISMATCH) == 0) {
		return 0;
	}
	if (inet_pton(AF_INET, ctx->hostname, ip) == 1) {
		ip_len = 4;
	} else if (inet_pton(AF_INET6, ctx->hostname, ip) == 1) {
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

static void log_verify_failure(struct tls_context *ctx)
{
	uint32_t flags = mbedtls_ssl_get_verify_result(&ctx->ssl);
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

static int tls_handshake(struct tls_context *ctx)
{
#if defined(CONFIG_NET_SOCKETS_TLS_CONNECT_TIMEOUT)
	/* Zephyr 4.4 and later bound the handshake in connect(). */
	int64_t deadline = now_ms() + CONFIG_NET_SOCKETS_TLS_CONNECT_TIMEOUT;
#else
	/* Zephyr 3.7 does not: connect() waits as long as the peer keeps the connection open. */
	int64_t deadline = -1;
#endif
	int ret;

	while ((ret = mbedtls_ssl_handshake(&ctx->ssl)) != 0) {
		if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE) {
			int err = wait_for(ctx->fd, ret, deadline);

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
			log_verify_failure(ctx);
		} else if (ctx->os_errno != 0) {
			LOG_ERR("TLS handshake: socket error %d (%s)", ctx->os_errno,
				strerror(ctx->os_errno));
		}
		return -ECONNABORTED;
	}
	ctx->handshake_done = true;
	return 0;
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
		ret = wait_for(sock, MBEDTLS_ERR_SSL_WANT_WRITE,
			       now_ms() + CONFIG_NET_SOCKETS_CONNECT_TIMEOUT);
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
	struct tls_context *ctx = find_tls(sock);
	int ret;

	if (tcp_connect(sock, addr, addrlen) != 0) {
		return -1;
	}
	if (ctx == NULL) {
		return 0;
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

/* --- data ---------------------------------------------------------------------------- */

/* After MBEDTLS_ERR_SSL_WANT_READ/WRITE: EAGAIN for a non-blocking call, else wait for the
 * socket. 0 to call mbedTLS again, -1 with errno. */
static int wait_to_retry(struct tls_context *ctx, int mbedtls_ret, int flags)
{
	int err;

	if (flags & ZSOCK_MSG_DONTWAIT) {
		errno = EAGAIN;
		return -1;
	}
	err = wait_for(ctx->fd, mbedtls_ret, -1);
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
	if (ctx->os_errno != 0) {
		LOG_ERR("TLS %s: socket error %d (%s)", what, ctx->os_errno,
			strerror(ctx->os_errno));
	}
	ctx->error = ECONNABORTED;
	errno = ECONNABORTED;
	return -1;
}

ssize_t zsock_send(int sock, const void *buf, size_t len, int flags)
{
	struct tls_context *ctx = find_tls(sock);
	int ret;

	if (ctx == NULL) {
		return send(sock, buf, len,
			    MSG_NOSIGNAL | ((flags & ZSOCK_MSG_DONTWAIT) ? MSG_DONTWAIT : 0));
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

ssize_t zsock_recv(int sock, void *buf, size_t max_len, int flags)
{
	struct tls_context *ctx = find_tls(sock);
	int ret;

	if (ctx == NULL) {
		return recv(sock, buf, max_len, (flags & ZSOCK_MSG_DONTWAIT) ? MSG_DONTWAIT : 0);
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
		struct tls_context *ctx = find_tls(fds[i].fd);

		fds[i].revents = 0;
		pfds[i].fd = fds[i].fd;
		pfds[i].events = (short)(((fds[i].events & ZSOCK_POLLIN) ? POLLIN : 0) |
					 ((fds[i].events & ZSOCK_POLLOUT) ? POLLOUT : 0) |
					 ((fds[i].events & ZSOCK_POLLPRI) ? POLLPRI : 0));
		pfds[i].revents = 0;
		/* Decrypted bytes already buffered, or a failed session, make a TLS socket
		 * readable without new input (Zephyr: ztls_poll_update_pollin()). */
		if (ctx != NULL && (fds[i].events & ZSOCK_POLLIN) != 0 &&
		    (ctx->error != 0 || ctx->session_closed ||
		     (ctx->handshake_done && mbedtls_ssl_get_bytes_avail(&ctx->ssl) > 0))) {
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
	struct tls_context *ctx = find_tls(sock);

	if (ctx != NULL) {
		if (ctx->handshake_done && ctx->error == 0 && !ctx->session_closed) {
			/* Best effort, as Zephyr's ztls_close_ctx(). */
			(void)mbedtls_ssl_close_notify(&ctx->ssl);
		}
		release_tls(ctx);
	}
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

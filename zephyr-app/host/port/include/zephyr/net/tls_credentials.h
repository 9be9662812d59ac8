/*
 * Host port of <zephyr/net/tls_credentials.h> (Zephyr: "TLS credentials").
 *
 * Credentials are kept by reference, as on Zephyr: the buffer must outlive its use. The store
 * holds CONFIG_TLS_MAX_CREDENTIALS_NUMBER entries (from prj.conf).
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#ifndef WASMBED_HOST_ZEPHYR_NET_TLS_CREDENTIALS_H_
#define WASMBED_HOST_ZEPHYR_NET_TLS_CREDENTIALS_H_

#include <stddef.h>
#include <stdint.h>

/** @brief A security tag: names a set of credentials. */
typedef int sec_tag_t;

/** @brief Credential types, numbered as in Zephyr. */
enum tls_credential_type {
	/** Unspecified. */
	TLS_CREDENTIAL_NONE = 0,
	/** A trusted CA certificate (DER, or PEM with the trailing NUL). */
	TLS_CREDENTIAL_CA_CERTIFICATE = 1,
	/** This peer's certificate. */
	TLS_CREDENTIAL_PUBLIC_CERTIFICATE = 2,
	/** This peer's private key. */
	TLS_CREDENTIAL_PRIVATE_KEY = 3,
	/** A pre-shared key. */
	TLS_CREDENTIAL_PSK = 4,
	/** A pre-shared key's identity. */
	TLS_CREDENTIAL_PSK_ID = 5,
};

/**
 * @brief Register a credential under a tag.
 *
 * @retval 0 Registered.
 * @retval -EINVAL NULL buffer, zero length or an unknown type.
 * @retval -EEXIST The tag already has a credential of this type.
 * @retval -ENOMEM The store is full (CONFIG_TLS_MAX_CREDENTIALS_NUMBER).
 */
int tls_credential_add(sec_tag_t tag, enum tls_credential_type type, const void *cred,
		       size_t credlen);

/**
 * @brief Remove a credential.
 *
 * @retval 0 Removed.
 * @retval -ENOENT No such credential.
 */
int tls_credential_delete(sec_tag_t tag, enum tls_credential_type type);

#endif /* WASMBED_HOST_ZEPHYR_NET_TLS_CREDENTIALS_H_ */

/*
 * Host port internals shared between its source files.
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#ifndef WASMBED_HOST_PORT_H_
#define WASMBED_HOST_PORT_H_

#include <stddef.h>

#include <zephyr/net/tls_credentials.h>

/** @brief One stored credential (by reference, as Zephyr keeps it). */
struct wasmbed_host_credential {
	/** Slot in use. */
	int used;
	/** Its tag. */
	sec_tag_t tag;
	/** Its type. */
	enum tls_credential_type type;
	/** The caller's buffer. */
	const void *buf;
	/** Its length in bytes. */
	size_t len;
};

/** @brief The next credential under tag after prev (NULL: the first); NULL when none is left. */
const struct wasmbed_host_credential *wasmbed_host_credential_next(sec_tag_t tag,
								   const struct wasmbed_host_credential *prev);

#endif /* WASMBED_HOST_PORT_H_ */

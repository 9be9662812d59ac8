/*
 * Host port: the TLS credential store (Zephyr: subsys/net/lib/tls_credentials).
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#include <errno.h>
#include <stddef.h>

#include <zephyr/net/tls_credentials.h>

#include "wasmbed/ca_certificate.h"
#include "wasmbed/device_certificate.h"
#include "wasmbed/device_private_key.h"
#include "wasmbed_host.h"
#include "wasmbed_host_defaults.h"
#include "wasmbed_host_port.h"

static struct wasmbed_host_credential store[CONFIG_TLS_MAX_CREDENTIALS_NUMBER];

const unsigned char *wasmbed_host_ca_certificate;
size_t wasmbed_host_ca_certificate_len;
const unsigned char *wasmbed_host_device_certificate;
size_t wasmbed_host_device_certificate_len;
const unsigned char *wasmbed_host_device_private_key;
size_t wasmbed_host_device_private_key_len;

int tls_credential_add(sec_tag_t tag, enum tls_credential_type type, const void *cred,
		       size_t credlen)
{
	size_t i;
	struct wasmbed_host_credential *slot = NULL;

	if (cred == NULL || credlen == 0 || type < TLS_CREDENTIAL_CA_CERTIFICATE ||
	    type > TLS_CREDENTIAL_PSK_ID) {
		return -EINVAL;
	}
	for (i = 0; i < CONFIG_TLS_MAX_CREDENTIALS_NUMBER; i++) {
		if (store[i].used && store[i].tag == tag && store[i].type == type) {
			return -EEXIST;
		}
		if (!store[i].used && slot == NULL) {
			slot = &store[i];
		}
	}
	if (slot == NULL) {
		return -ENOMEM;
	}
	slot->used = 1;
	slot->tag = tag;
	slot->type = type;
	slot->buf = cred;
	slot->len = credlen;
	return 0;
}

int tls_credential_delete(sec_tag_t tag, enum tls_credential_type type)
{
	size_t i;

	for (i = 0; i < CONFIG_TLS_MAX_CREDENTIALS_NUMBER; i++) {
		if (store[i].used && store[i].tag == tag && store[i].type == type) {
			store[i].used = 0;
			return 0;
		}
	}
	return -ENOENT;
}

const struct wasmbed_host_credential *wasmbed_host_credential_next(sec_tag_t tag,
								   const struct wasmbed_host_credential *prev)
{
	size_t i = prev == NULL ? 0 : (size_t)(prev - store) + 1;

	for (; i < CONFIG_TLS_MAX_CREDENTIALS_NUMBER; i++) {
		if (store[i].used && store[i].tag == tag) {
			return &store[i];
		}
	}
	return NULL;
}

void wasmbed_host_set_ca(const unsigned char *der, size_t len)
{
	wasmbed_host_ca_certificate = der;
	wasmbed_host_ca_certificate_len = len;
}

void wasmbed_host_set_device_credentials(const unsigned char *cert, size_t cert_len,
					 const unsigned char *key, size_t key_len)
{
	wasmbed_host_device_certificate = cert;
	wasmbed_host_device_certificate_len = cert_len;
	wasmbed_host_device_private_key = key;
	wasmbed_host_device_private_key_len = key_len;
}

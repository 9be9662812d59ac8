/*
 * Copyright (c) 2026 The wasmbed authors
 * SPDX-License-Identifier: Apache-2.0 OR MIT
 */

/*
 * The header's constants and struct layout as symbols, so the Rust tests can check them against
 * wasmbed-endpoint's layout module and this crate's #[repr(C)] mirror. Host builds only.
 */

#include <stddef.h>
#include <stdint.h>

#include "wasmbed_endpoint.h"

/* Values of the header's macros, in the order of enum wasmbed_host_layout_item. */
extern const uint64_t wasmbed_host_layout[];
const uint64_t wasmbed_host_layout[] = {
	WASMBED_ENDPOINT_MAX_LEN,
	WASMBED_ENDPOINT_DNS_NAME_MAX_LEN,
	WASMBED_ENDPOINT_DNS_LABEL_MAX_LEN,
	WASMBED_MAILBOX_DEFAULT_BASE,
	WASMBED_MAILBOX_HEADER_LEN,
	WASMBED_MAILBOX_MAX_LEN,
	sizeof(struct wasmbed_endpoint),
	offsetof(struct wasmbed_endpoint, host_type),
	offsetof(struct wasmbed_endpoint, addr),
	offsetof(struct wasmbed_endpoint, port),
	offsetof(struct wasmbed_endpoint, host_len),
	offsetof(struct wasmbed_endpoint, host),
	offsetof(struct wasmbed_endpoint, text_len),
	offsetof(struct wasmbed_endpoint, text),
	WASMBED_HOST_IPV4,
	WASMBED_HOST_IPV6,
	WASMBED_HOST_DNS,
};

extern const size_t wasmbed_host_layout_len;
const size_t wasmbed_host_layout_len = sizeof(wasmbed_host_layout) / sizeof(wasmbed_host_layout[0]);

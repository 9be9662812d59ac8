/*
 * Copyright (c) 2026 The wasmbed authors
 * SPDX-License-Identifier: Apache-2.0 OR MIT
 */

/*
 * wasmbed_protocol.h's constants and struct layout as a table of named values, so the Rust tests
 * can check them against wasmbed_protocol and this crate's #[repr(C)] mirror
 * (src/protocol.rs) by name. Host builds only.
 */

#include <stddef.h>
#include <stdint.h>

#include "wasmbed_protocol.h"

/* One value; name is the C expression it was computed from, e.g. "sizeof(struct wasmbed_frame)". */
struct wasmbed_protocol_layout_entry {
	const char *name;
	uint64_t value;
};

#define ENTRY(expr) {#expr, (uint64_t)(expr)}

extern const struct wasmbed_protocol_layout_entry wasmbed_protocol_layout[];
const struct wasmbed_protocol_layout_entry wasmbed_protocol_layout[] = {
	ENTRY(WASMBED_PROTOCOL_VERSION),
	ENTRY(WASMBED_FRAME_DEFAULT_MAX_LEN),
	ENTRY(WASMBED_FRAME_MIN_LEN),
	ENTRY(WASMBED_FRAME_PREFIX_LEN),
	ENTRY(WASMBED_FRAME_HEADER_LEN),
	ENTRY(WASMBED_DEVICE_ID_MAX_LEN),
	ENTRY(WASMBED_FIRMWARE_MAX_LEN),
	ENTRY(WASMBED_HELLO_FRAME_MAX_LEN),
	ENTRY(WASMBED_MSG_HELLO),
	ENTRY(WASMBED_MSG_HELLO_ACK),
	ENTRY(WASMBED_MSG_HEARTBEAT),
	ENTRY(WASMBED_MSG_HEARTBEAT_ACK),
	ENTRY(WASMBED_MSG_ECHO),
	ENTRY(WASMBED_MSG_ECHO_REPLY),
	ENTRY(WASMBED_MSG_DATA),
	ENTRY(WASMBED_MSG_GOODBYE),
	ENTRY(WASMBED_MSG_ERROR),
	ENTRY(WASMBED_ERROR_MALFORMED_FRAME),
	ENTRY(WASMBED_ERROR_FRAME_TOO_LARGE),
	ENTRY(WASMBED_ERROR_UNEXPECTED_MESSAGE),
	ENTRY(WASMBED_ERROR_UNSUPPORTED_VERSION),
	ENTRY(WASMBED_ERROR_INVALID_DEVICE_ID),
	ENTRY(WASMBED_ERROR_DEVICE_ID_MISMATCH),
	ENTRY(WASMBED_ERROR_HELLO_TIMEOUT),
	ENTRY(WASMBED_ERROR_OVERLOADED),
	ENTRY(WASMBED_ERROR_INTERNAL),
	ENTRY(WASMBED_GOODBYE_NORMAL),
	ENTRY(WASMBED_GOODBYE_SHUTDOWN),
	ENTRY(WASMBED_GOODBYE_TAKEN_OVER),
	ENTRY(WASMBED_GOODBYE_HEARTBEAT_TIMEOUT),
	ENTRY(WASMBED_GOODBYE_PROTOCOL_ERROR),
	ENTRY(WASMBED_GOODBYE_CREDENTIALS_REVOKED),
	ENTRY(WASMBED_PROTOCOL_EINCOMPLETE),
	ENTRY(WASMBED_PROTOCOL_EFRAME_TOO_SHORT),
	ENTRY(WASMBED_PROTOCOL_EFRAME_TOO_LARGE),
	ENTRY(WASMBED_PROTOCOL_EUNKNOWN_TYPE),
	ENTRY(WASMBED_PROTOCOL_EMALFORMED),
	ENTRY(WASMBED_PROTOCOL_ENOSPC),
	ENTRY(sizeof(struct wasmbed_frame)),
	ENTRY(offsetof(struct wasmbed_frame, type)),
	ENTRY(offsetof(struct wasmbed_frame, id)),
	ENTRY(offsetof(struct wasmbed_frame, msg)),
	ENTRY(sizeof(struct wasmbed_msg_hello)),
	ENTRY(offsetof(struct wasmbed_msg_hello, device_id_len)),
	ENTRY(offsetof(struct wasmbed_msg_hello, firmware_len)),
	ENTRY(offsetof(struct wasmbed_msg_hello, version)),
	ENTRY(offsetof(struct wasmbed_msg_hello, device_id)),
	ENTRY(offsetof(struct wasmbed_msg_hello, firmware)),
	ENTRY(sizeof(struct wasmbed_msg_hello_ack)),
	ENTRY(offsetof(struct wasmbed_msg_hello_ack, version)),
	ENTRY(offsetof(struct wasmbed_msg_hello_ack, heartbeat_interval_secs)),
	ENTRY(offsetof(struct wasmbed_msg_hello_ack, max_frame_len)),
	ENTRY(sizeof(struct wasmbed_msg_heartbeat)),
	ENTRY(offsetof(struct wasmbed_msg_heartbeat, uptime_ms)),
	ENTRY(sizeof(struct wasmbed_msg_bytes)),
	ENTRY(offsetof(struct wasmbed_msg_bytes, data)),
	ENTRY(offsetof(struct wasmbed_msg_bytes, len)),
	ENTRY(sizeof(struct wasmbed_msg_goodbye)),
	ENTRY(offsetof(struct wasmbed_msg_goodbye, reason)),
	ENTRY(sizeof(struct wasmbed_msg_error)),
	ENTRY(offsetof(struct wasmbed_msg_error, code)),
	ENTRY(offsetof(struct wasmbed_msg_error, message)),
	ENTRY(offsetof(struct wasmbed_msg_error, message_len)),
};

extern const size_t wasmbed_protocol_layout_len;
const size_t wasmbed_protocol_layout_len =
	sizeof(wasmbed_protocol_layout) / sizeof(wasmbed_protocol_layout[0]);

/*
 * Copyright (c) 2026 The wasmbed authors
 * SPDX-License-Identifier: Apache-2.0 OR MIT
 */

/*
 * docs/protocol.md is the specification and wasmbed_protocol the reference
 * implementation. Differential tests (zephyr-app/host) compare the two on every outcome, so
 * the checks below keep the document's order even where another order would be simpler.
 */

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "wasmbed_protocol.h"

/* Fixed payload sizes. */
#define HELLO_ACK_LEN 7u
#define HEARTBEAT_LEN 4u
#define GOODBYE_LEN 1u
#define ERROR_CODE_LEN 2u
/* Version byte, device id length byte, firmware length byte. */
#define HELLO_FIXED_LEN 3u

static uint32_t get_be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) |
	       (uint32_t)p[3];
}

static uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(((unsigned int)p[0] << 8) | (unsigned int)p[1]);
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static size_t add_sat(size_t a, size_t b)
{
	return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

static int is_known_type(uint8_t type)
{
	return (type >= WASMBED_MSG_HELLO && type <= WASMBED_MSG_GOODBYE) ||
	       type == WASMBED_MSG_ERROR;
}

/* [A-Za-z0-9._-], in plain ASCII: <ctype.h> depends on the C locale. */
static int is_device_id_byte(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-';
}

int wasmbed_device_id_is_valid(const uint8_t *id, size_t len)
{
	if (len == 0u || len > WASMBED_DEVICE_ID_MAX_LEN) {
		return 0;
	}
	/* A leading '-' reads as an option, a leading '.' hides the file named after the id. */
	if (id[0] == '.' || id[0] == '-') {
		return 0;
	}
	for (size_t i = 0; i < len; i++) {
		if (!is_device_id_byte(id[i])) {
			return 0;
		}
		if (id[i] == '.' && i + 1u < len && id[i + 1u] == '.') {
			return 0;
		}
	}
	return 1;
}

static int is_cont(uint8_t c)
{
	return (c & 0xc0u) == 0x80u;
}

/*
 * UTF-8 as RFC 3629 (and Rust's std::str::from_utf8) define it: no overlong forms, no
 * surrogates, nothing above U+10FFFF, no truncated sequences.
 */
static int is_utf8(const uint8_t *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint8_t c = s[i];
		size_t extra;
		uint8_t lo = 0x80u;
		uint8_t hi = 0xbfu;

		if (c < 0x80u) {
			i++;
			continue;
		}
		if (c >= 0xc2u && c <= 0xdfu) {
			extra = 1;
		} else if (c >= 0xe0u && c <= 0xefu) {
			extra = 2;
			if (c == 0xe0u) {
				lo = 0xa0u;
			} else if (c == 0xedu) {
				hi = 0x9fu;
			}
		} else if (c >= 0xf0u && c <= 0xf4u) {
			extra = 3;
			if (c == 0xf0u) {
				lo = 0x90u;
			} else if (c == 0xf4u) {
				hi = 0x8fu;
			}
		} else {
			return 0;
		}
		if (n - i - 1u < extra) {
			return 0;
		}
		/* The second byte carries the range that excludes overlong forms and the rest. */
		if (s[i + 1u] < lo || s[i + 1u] > hi) {
			return 0;
		}
		for (size_t k = 2; k <= extra; k++) {
			if (!is_cont(s[i + k])) {
				return 0;
			}
		}
		i += extra + 1u;
	}
	return 1;
}

/*
 * HELLO payload p[0..n), checked in the order of docs/protocol.md: version byte present; n
 * present; n != 0; n <= 64; n bytes present; device id bytes; m present; m <= 64; m bytes
 * present; UTF-8; nothing after.
 */
static int decode_hello(const uint8_t *p, size_t n, struct wasmbed_msg_hello *hello)
{
	size_t pos = 0;
	size_t id_len;
	size_t fw_len;
	const uint8_t *id;
	const uint8_t *fw;

	if (n - pos < 1u) {
		return -WASMBED_PROTOCOL_EMALFORMED;
	}
	hello->version = p[pos++];
	if (n - pos < 1u) {
		return -WASMBED_PROTOCOL_EMALFORMED;
	}
	id_len = p[pos++];
	if (id_len == 0u || id_len > WASMBED_DEVICE_ID_MAX_LEN) {
		return -WASMBED_PROTOCOL_EMALFORMED;
	}
	if (n - pos < id_len) {
		return -WASMBED_PROTOCOL_EMALFORMED;
	}
	id = &p[pos];
	pos += id_len;
	if (!wasmbed_device_id_is_valid(id, id_len)) {
		return -WASMBED_PROTOCOL_EMALFORMED;
	}
	if (n - pos < 1u) {
		return -WASMBED_PROTOCOL_EMALFORMED;
	}
	fw_len = p[pos++];
	if (fw_len > WASMBED_FIRMWARE_MAX_LEN) {
		return -WASMBED_PROTOCOL_EMALFORMED;
	}
	if (n - pos < fw_len) {
		return -WASMBED_PROTOCOL_EMALFORMED;
	}
	fw = &p[pos];
	pos += fw_len;
	if (!is_utf8(fw, fw_len)) {
		return -WASMBED_PROTOCOL_EMALFORMED;
	}
	if (pos != n) {
		return -WASMBED_PROTOCOL_EMALFORMED;
	}
	hello->device_id_len = id_len;
	memcpy(hello->device_id, id, id_len);
	hello->device_id[id_len] = '\0';
	hello->firmware_len = fw_len;
	if (fw_len > 0u) {
		memcpy(hello->firmware, fw, fw_len);
	}
	hello->firmware[fw_len] = '\0';
	return 0;
}

/* Payload p[0..n) of a frame of known type; writes only out->msg. */
static int decode_payload(uint8_t type, const uint8_t *p, size_t n, struct wasmbed_frame *out)
{
	switch (type) {
	case WASMBED_MSG_HELLO:
		return decode_hello(p, n, &out->msg.hello);
	case WASMBED_MSG_HELLO_ACK:
		if (n != HELLO_ACK_LEN) {
			return -WASMBED_PROTOCOL_EMALFORMED;
		}
		out->msg.hello_ack.version = p[0];
		out->msg.hello_ack.heartbeat_interval_secs = get_be16(&p[1]);
		out->msg.hello_ack.max_frame_len = get_be32(&p[3]);
		if (out->msg.hello_ack.heartbeat_interval_secs == 0u ||
		    out->msg.hello_ack.max_frame_len < WASMBED_FRAME_MIN_LEN) {
			return -WASMBED_PROTOCOL_EMALFORMED;
		}
		return 0;
	case WASMBED_MSG_HEARTBEAT:
		if (n != HEARTBEAT_LEN) {
			return -WASMBED_PROTOCOL_EMALFORMED;
		}
		out->msg.heartbeat.uptime_ms = get_be32(p);
		return 0;
	case WASMBED_MSG_HEARTBEAT_ACK:
		return n == 0u ? 0 : -WASMBED_PROTOCOL_EMALFORMED;
	case WASMBED_MSG_ECHO:
	case WASMBED_MSG_ECHO_REPLY:
	case WASMBED_MSG_DATA:
		out->msg.bytes.data = p;
		out->msg.bytes.len = n;
		return 0;
	case WASMBED_MSG_GOODBYE:
		if (n != GOODBYE_LEN) {
			return -WASMBED_PROTOCOL_EMALFORMED;
		}
		out->msg.goodbye.reason = p[0];
		return 0;
	case WASMBED_MSG_ERROR:
		if (n < ERROR_CODE_LEN) {
			return -WASMBED_PROTOCOL_EMALFORMED;
		}
		if (!is_utf8(&p[ERROR_CODE_LEN], n - ERROR_CODE_LEN)) {
			return -WASMBED_PROTOCOL_EMALFORMED;
		}
		out->msg.error.code = get_be16(p);
		out->msg.error.message = (const char *)&p[ERROR_CODE_LEN];
		out->msg.error.message_len = n - ERROR_CODE_LEN;
		return 0;
	default:
		return -WASMBED_PROTOCOL_EUNKNOWN_TYPE;
	}
}

/*
 * The steps of docs/protocol.md "Decoding". *used receives 4 + L once the length is valid (or
 * 4 while it is not yet known). out has been zeroed; on a type or payload error its payload
 * may be half written.
 */
static int decode(const uint8_t *buf, size_t len, uint32_t max_frame_len,
		  struct wasmbed_frame *out, size_t *used)
{
	size_t frame_len;
	uint32_t prefix;

	/* 1. The length prefix. */
	if (len < WASMBED_FRAME_PREFIX_LEN) {
		*used = WASMBED_FRAME_PREFIX_LEN;
		return -WASMBED_PROTOCOL_EINCOMPLETE;
	}
	/* 2. Its value, whatever follows. */
	prefix = get_be32(buf);
	if (prefix < WASMBED_FRAME_MIN_LEN) {
		return -WASMBED_PROTOCOL_EFRAME_TOO_SHORT;
	}
	if (prefix > max_frame_len) {
		return -WASMBED_PROTOCOL_EFRAME_TOO_LARGE;
	}
	/* 3. The whole frame; compared without computing 4 + L, which may not fit a size_t. */
	frame_len = (size_t)prefix;
	*used = add_sat(WASMBED_FRAME_PREFIX_LEN, frame_len);
	if (len - WASMBED_FRAME_PREFIX_LEN < frame_len) {
		return -WASMBED_PROTOCOL_EINCOMPLETE;
	}
	/* 4. The type, 5. the payload. */
	out->type = buf[WASMBED_FRAME_PREFIX_LEN];
	out->id = get_be32(&buf[WASMBED_FRAME_PREFIX_LEN + 1u]);
	if (!is_known_type(out->type)) {
		return -WASMBED_PROTOCOL_EUNKNOWN_TYPE;
	}
	return decode_payload(out->type, &buf[WASMBED_FRAME_PREFIX_LEN + WASMBED_FRAME_HEADER_LEN],
			      frame_len - WASMBED_FRAME_HEADER_LEN, out);
}

int wasmbed_frame_decode(const uint8_t *buf, size_t len, uint32_t max_frame_len,
			 struct wasmbed_frame *out, size_t *consumed)
{
	size_t used = 0;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = decode(buf, len, max_frame_len, out, &used);
	if (ret == -WASMBED_PROTOCOL_EUNKNOWN_TYPE || ret == -WASMBED_PROTOCOL_EMALFORMED) {
		/* Keep what identifies the frame, drop a half-written payload. */
		memset(&out->msg, 0, sizeof(out->msg));
	}
	if (consumed != NULL) {
		*consumed = used;
	}
	return ret;
}

/*
 * Checks what the peer must reject and returns the payload length in *payload_len (saturated
 * at SIZE_MAX), in the order of wasmbed_frame_encode()'s documentation.
 */
static int check_payload(const struct wasmbed_frame *frame, size_t *payload_len)
{
	const struct wasmbed_msg_hello *hello = &frame->msg.hello;
	const struct wasmbed_msg_hello_ack *ack = &frame->msg.hello_ack;
	const struct wasmbed_msg_bytes *bytes = &frame->msg.bytes;
	const struct wasmbed_msg_error *error = &frame->msg.error;

	switch (frame->type) {
	case WASMBED_MSG_HELLO:
		/* Both check the length before reading the array. */
		if (!wasmbed_device_id_is_valid((const uint8_t *)hello->device_id,
						hello->device_id_len)) {
			return -WASMBED_PROTOCOL_EMALFORMED;
		}
		if (hello->firmware_len > WASMBED_FIRMWARE_MAX_LEN ||
		    !is_utf8((const uint8_t *)hello->firmware, hello->firmware_len)) {
			return -WASMBED_PROTOCOL_EMALFORMED;
		}
		*payload_len = HELLO_FIXED_LEN + hello->device_id_len + hello->firmware_len;
		return 0;
	case WASMBED_MSG_HELLO_ACK:
		if (ack->heartbeat_interval_secs == 0u ||
		    ack->max_frame_len < WASMBED_FRAME_MIN_LEN) {
			return -WASMBED_PROTOCOL_EMALFORMED;
		}
		*payload_len = HELLO_ACK_LEN;
		return 0;
	case WASMBED_MSG_HEARTBEAT:
		*payload_len = HEARTBEAT_LEN;
		return 0;
	case WASMBED_MSG_HEARTBEAT_ACK:
		*payload_len = 0;
		return 0;
	case WASMBED_MSG_ECHO:
	case WASMBED_MSG_ECHO_REPLY:
	case WASMBED_MSG_DATA:
		if (bytes->data == NULL && bytes->len != 0u) {
			return -WASMBED_PROTOCOL_EMALFORMED;
		}
		*payload_len = bytes->len;
		return 0;
	case WASMBED_MSG_GOODBYE:
		*payload_len = GOODBYE_LEN;
		return 0;
	case WASMBED_MSG_ERROR:
		if (error->message == NULL && error->message_len != 0u) {
			return -WASMBED_PROTOCOL_EMALFORMED;
		}
		if (!is_utf8((const uint8_t *)error->message, error->message_len)) {
			return -WASMBED_PROTOCOL_EMALFORMED;
		}
		*payload_len = add_sat(ERROR_CODE_LEN, error->message_len);
		return 0;
	default:
		return -WASMBED_PROTOCOL_EUNKNOWN_TYPE;
	}
}

static void write_payload(const struct wasmbed_frame *frame, uint8_t *p)
{
	switch (frame->type) {
	case WASMBED_MSG_HELLO: {
		const struct wasmbed_msg_hello *hello = &frame->msg.hello;

		p[0] = hello->version;
		p[1] = (uint8_t)hello->device_id_len;
		memcpy(&p[2], hello->device_id, hello->device_id_len);
		p[2u + hello->device_id_len] = (uint8_t)hello->firmware_len;
		if (hello->firmware_len > 0u) {
			memcpy(&p[3u + hello->device_id_len], hello->firmware, hello->firmware_len);
		}
		break;
	}
	case WASMBED_MSG_HELLO_ACK:
		p[0] = frame->msg.hello_ack.version;
		put_be16(&p[1], frame->msg.hello_ack.heartbeat_interval_secs);
		put_be32(&p[3], frame->msg.hello_ack.max_frame_len);
		break;
	case WASMBED_MSG_HEARTBEAT:
		put_be32(p, frame->msg.heartbeat.uptime_ms);
		break;
	case WASMBED_MSG_ECHO:
	case WASMBED_MSG_ECHO_REPLY:
	case WASMBED_MSG_DATA:
		if (frame->msg.bytes.len > 0u) {
			memcpy(p, frame->msg.bytes.data, frame->msg.bytes.len);
		}
		break;
	case WASMBED_MSG_GOODBYE:
		p[0] = frame->msg.goodbye.reason;
		break;
	case WASMBED_MSG_ERROR:
		put_be16(p, frame->msg.error.code);
		if (frame->msg.error.message_len > 0u) {
			memcpy(&p[ERROR_CODE_LEN], frame->msg.error.message,
			       frame->msg.error.message_len);
		}
		break;
	default:
		/* HEARTBEAT_ACK: no payload. Unknown types were refused by check_payload(). */
		break;
	}
}

int wasmbed_frame_encode(const struct wasmbed_frame *frame, uint32_t max_frame_len, uint8_t *buf,
			 size_t cap, size_t *written)
{
	size_t payload_len = 0;
	size_t frame_len;
	size_t total;
	int ret;

	if (written != NULL) {
		*written = 0;
	}
	ret = check_payload(frame, &payload_len);
	if (ret != 0) {
		return ret;
	}
	frame_len = add_sat(WASMBED_FRAME_HEADER_LEN, payload_len);
	if (frame_len > (size_t)max_frame_len) {
		return -WASMBED_PROTOCOL_EFRAME_TOO_LARGE;
	}
	total = add_sat(WASMBED_FRAME_PREFIX_LEN, frame_len);
	if (buf == NULL || cap < total) {
		if (written != NULL) {
			*written = total;
		}
		return -WASMBED_PROTOCOL_ENOSPC;
	}
	/* frame_len <= max_frame_len, so it fits the 32-bit prefix. */
	put_be32(buf, (uint32_t)frame_len);
	buf[WASMBED_FRAME_PREFIX_LEN] = frame->type;
	put_be32(&buf[WASMBED_FRAME_PREFIX_LEN + 1u], frame->id);
	write_payload(frame, &buf[WASMBED_FRAME_PREFIX_LEN + WASMBED_FRAME_HEADER_LEN]);
	if (written != NULL) {
		*written = total;
	}
	return 0;
}

const char *wasmbed_protocol_strerror(int err)
{
	static const char *const messages[] = {
		"success",
		"incomplete frame (more bytes needed)",
		"frame length below 5",
		"frame length above the maximum",
		"unknown message type",
		"malformed payload",
		"output buffer too small",
	};
	const int count = (int)(sizeof(messages) / sizeof(messages[0]));

	/* Range-check before negating so that INT_MIN is never negated. */
	if (err <= -count || err >= count) {
		return "unknown error";
	}
	if (err < 0) {
		err = -err;
	}
	return messages[err];
}

/*
 * Copyright (c) 2026 The wasmbed authors
 * SPDX-License-Identifier: Apache-2.0 OR MIT
 */

/**
 * @file
 * @brief Device wire protocol: frame decoder and encoder.
 *
 * Portable C99 with no Zephyr headers: the firmware, the host port and the Rust differential
 * tests compile this same file. docs/protocol.md is the specification: the frame layout, every
 * payload, the numbered error codes and goodbye reasons, and the order in which decoding errors
 * are reported. The gateway's Rust codec (wasmbed_protocol) implements the same
 * document, and both run the shared vectors in wasmbed-protocol/tests/vectors/frames.txt.
 *
 * A frame on the wire is a big-endian 32-bit length L, then L bytes: the message type (1 byte),
 * the big-endian message id (4 bytes) and the payload (L - 5 bytes).
 *
 * Neither function allocates, recurses, keeps a pointer after returning, or reads or writes
 * past the lengths it is given.
 */

#ifndef WASMBED_PROTOCOL_H_
#define WASMBED_PROTOCOL_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The protocol version of docs/protocol.md, sent in HELLO and HELLO_ACK. */
#define WASMBED_PROTOCOL_VERSION 1
/** The gateway's default max_frame_len: the longest L it accepts and sends. */
#define WASMBED_FRAME_DEFAULT_MAX_LEN 4096
/** The smallest valid L: the message type and id with an empty payload. */
#define WASMBED_FRAME_MIN_LEN 5
/** Size of the length prefix in bytes; a frame occupies PREFIX_LEN + L bytes on the wire. */
#define WASMBED_FRAME_PREFIX_LEN 4
/** Size of the message type and id that start every frame, in bytes. */
#define WASMBED_FRAME_HEADER_LEN 5
/** Maximum length of a device id in bytes (see wasmbed_device_id_is_valid() for the rule). */
#define WASMBED_DEVICE_ID_MAX_LEN 64
/** Maximum length of a HELLO's firmware version in bytes (0 to 64 bytes of UTF-8). */
#define WASMBED_FIRMWARE_MAX_LEN 64
/**
 * L of the largest valid HELLO (5 + 1 + 1 + 64 + 1 + 64): a max_frame_len below it can refuse a
 * valid HELLO.
 */
#define WASMBED_HELLO_FRAME_MAX_LEN 136

/** @brief Message types: the type byte of a frame (docs/protocol.md, "Messages"). */
enum wasmbed_msg_type {
	/** Device to gateway: version, device id, firmware version. */
	WASMBED_MSG_HELLO = 0x01,
	/** Gateway to device: version, heartbeat interval, the gateway's max_frame_len. */
	WASMBED_MSG_HELLO_ACK = 0x02,
	/** Device to gateway: the device's uptime in milliseconds. */
	WASMBED_MSG_HEARTBEAT = 0x03,
	/** Gateway to device, the answer to HEARTBEAT: empty. */
	WASMBED_MSG_HEARTBEAT_ACK = 0x04,
	/** Either direction: bytes the peer sends back in an ECHO_REPLY. */
	WASMBED_MSG_ECHO = 0x05,
	/** Either direction: the bytes of the ECHO it answers. */
	WASMBED_MSG_ECHO_REPLY = 0x06,
	/** Either direction: opaque application bytes. */
	WASMBED_MSG_DATA = 0x07,
	/** Either direction: the sender closes the session; a reason. */
	WASMBED_MSG_GOODBYE = 0x08,
	/** Gateway to device: the gateway refuses something and closes; a code and a message. */
	WASMBED_MSG_ERROR = 0x7f,
};

/**
 * @brief ERROR codes (docs/protocol.md, "Error codes"); other values decode and encode as they
 * are.
 */
enum wasmbed_error_code {
	/** A length below 5, an unknown message type, a malformed payload. */
	WASMBED_ERROR_MALFORMED_FRAME = 1,
	/** A length above the gateway's max_frame_len. */
	WASMBED_ERROR_FRAME_TOO_LARGE = 2,
	/** A frame the gateway does not accept at this point of the session. */
	WASMBED_ERROR_UNEXPECTED_MESSAGE = 3,
	/** A HELLO version the gateway does not speak. */
	WASMBED_ERROR_UNSUPPORTED_VERSION = 4,
	/** A HELLO device id that breaks the rule of wasmbed_device_id_is_valid(). */
	WASMBED_ERROR_INVALID_DEVICE_ID = 5,
	/** With mTLS, the certificate CN is not the HELLO device id. */
	WASMBED_ERROR_DEVICE_ID_MISMATCH = 6,
	/** No HELLO within the gateway's hello timeout. */
	WASMBED_ERROR_HELLO_TIMEOUT = 7,
	/** The gateway's connection limit is reached, or the device's outbound queue is full. */
	WASMBED_ERROR_OVERLOADED = 8,
	/** The gateway failed. */
	WASMBED_ERROR_INTERNAL = 9,
};

/**
 * @brief GOODBYE reasons (docs/protocol.md, "Goodbye reasons"); other values decode and encode
 * as they are.
 */
enum wasmbed_goodbye_reason {
	/** An ordinary close. */
	WASMBED_GOODBYE_NORMAL = 0,
	/** The gateway is shutting down. */
	WASMBED_GOODBYE_SHUTDOWN = 1,
	/** A newer session for the same device id replaced this one. */
	WASMBED_GOODBYE_TAKEN_OVER = 2,
	/** Nothing heard for 3 heartbeat intervals. */
	WASMBED_GOODBYE_HEARTBEAT_TIMEOUT = 3,
	/** The peer broke the protocol (what a device sends on a frame it cannot decode). */
	WASMBED_GOODBYE_PROTOCOL_ERROR = 4,
	/** The device's certificate is no longer accepted (revoked, CA no longer trusted, expired). */
	WASMBED_GOODBYE_CREDENTIALS_REVOKED = 5,
};

/**
 * @brief Return codes of this module; functions return the negated value.
 *
 * EFRAME_TOO_SHORT, EFRAME_TOO_LARGE, EUNKNOWN_TYPE and EMALFORMED are, one for one, the Rust
 * ProtocolError variants FrameTooShort, FrameTooLarge, UnknownType and Malformed, which the
 * vectors name. EINCOMPLETE is the Rust decoder's "no frame yet" (Ok(None)).
 */
enum wasmbed_protocol_error {
	/** Not an error yet: fewer bytes than a whole frame; read more and decode again. */
	WASMBED_PROTOCOL_EINCOMPLETE = 1,
	/** The length prefix is below WASMBED_FRAME_MIN_LEN. */
	WASMBED_PROTOCOL_EFRAME_TOO_SHORT = 2,
	/** The length prefix, or the length of the frame to encode, is above max_frame_len. */
	WASMBED_PROTOCOL_EFRAME_TOO_LARGE = 3,
	/** The type byte is not one of enum wasmbed_msg_type. */
	WASMBED_PROTOCOL_EUNKNOWN_TYPE = 4,
	/** The payload breaks the rules of its message type (or, when encoding, holds a value the
	 *  peer must reject). */
	WASMBED_PROTOCOL_EMALFORMED = 5,
	/** Encoding only: the output buffer is too small for the frame. */
	WASMBED_PROTOCOL_ENOSPC = 6,
};

/** @brief HELLO payload. The strings are copies: they do not point into any buffer. */
struct wasmbed_msg_hello {
	/** Length of device_id in bytes, 1..WASMBED_DEVICE_ID_MAX_LEN. */
	size_t device_id_len;
	/** Length of firmware in bytes, 0..WASMBED_FIRMWARE_MAX_LEN. */
	size_t firmware_len;
	/** Protocol version the device speaks; any value decodes and encodes. */
	uint8_t version;
	/**
	 * Device id, following wasmbed_device_id_is_valid(). Decoding NUL-terminates it; encoding reads
	 * device_id_len bytes and needs no NUL.
	 */
	char device_id[WASMBED_DEVICE_ID_MAX_LEN + 1];
	/**
	 * Firmware version, UTF-8, which may contain NUL bytes: firmware_len is authoritative.
	 * Decoding NUL-terminates it; encoding reads firmware_len bytes and needs no NUL.
	 */
	char firmware[WASMBED_FIRMWARE_MAX_LEN + 1];
};

/** @brief HELLO_ACK payload. */
struct wasmbed_msg_hello_ack {
	/** Protocol version the gateway speaks. */
	uint8_t version;
	/** Heartbeat interval in seconds, at least 1. */
	uint16_t heartbeat_interval_secs;
	/** The gateway's max_frame_len, at least WASMBED_FRAME_MIN_LEN. */
	uint32_t max_frame_len;
};

/** @brief HEARTBEAT payload. */
struct wasmbed_msg_heartbeat {
	/** Milliseconds since the device booted (wraps after about 49.7 days). */
	uint32_t uptime_ms;
};

/**
 * @brief ECHO, ECHO_REPLY and DATA payload: any bytes.
 *
 * After decoding, data points INTO the buffer given to wasmbed_frame_decode() and is valid
 * only as long as that buffer is, unmodified.
 */
struct wasmbed_msg_bytes {
	/** The bytes; may be NULL when len is 0. */
	const uint8_t *data;
	/** Number of bytes, 0..max_frame_len - 5. */
	size_t len;
};

/** @brief GOODBYE payload. */
struct wasmbed_msg_goodbye {
	/** One of enum wasmbed_goodbye_reason, or any other value. */
	uint8_t reason;
};

/**
 * @brief ERROR payload.
 *
 * After decoding, message points INTO the buffer given to wasmbed_frame_decode() and is valid
 * only as long as that buffer is, unmodified. It is not NUL-terminated.
 */
struct wasmbed_msg_error {
	/** One of enum wasmbed_error_code, or any other value. */
	uint16_t code;
	/** The message for people, UTF-8 (it may contain NUL bytes); may be NULL when
	 *  message_len is 0. */
	const char *message;
	/** Length of message in bytes. */
	size_t message_len;
};

/**
 * @brief One frame: message type, message id and payload.
 *
 * Owned by the caller. The member of msg that type selects is meaningful: hello, hello_ack,
 * heartbeat, bytes (ECHO, ECHO_REPLY and DATA), goodbye or error; HEARTBEAT_ACK has none. About
 * 160 bytes on a 64-bit host, 148 on a 32-bit MCU.
 */
struct wasmbed_frame {
	/** Message type, one of enum wasmbed_msg_type. */
	uint8_t type;
	/** Message id. */
	uint32_t id;
	/** Payload, by type. */
	union {
		/** WASMBED_MSG_HELLO. */
		struct wasmbed_msg_hello hello;
		/** WASMBED_MSG_HELLO_ACK. */
		struct wasmbed_msg_hello_ack hello_ack;
		/** WASMBED_MSG_HEARTBEAT. */
		struct wasmbed_msg_heartbeat heartbeat;
		/** WASMBED_MSG_ECHO, WASMBED_MSG_ECHO_REPLY and WASMBED_MSG_DATA. */
		struct wasmbed_msg_bytes bytes;
		/** WASMBED_MSG_GOODBYE. */
		struct wasmbed_msg_goodbye goodbye;
		/** WASMBED_MSG_ERROR. */
		struct wasmbed_msg_error error;
	} msg;
};

/**
 * @brief Decode the frame at the start of buf (docs/protocol.md, "Decoding").
 *
 * The checks run in the document's order: with fewer than 4 bytes, incomplete; once the 4
 * length bytes are there, a length below 5 or above max_frame_len is an error whatever follows;
 * with fewer than 4 + L bytes, incomplete, even when the type or payload already seen is
 * invalid; then the type byte; then the payload. Bytes after the frame are not looked at.
 *
 * @param buf           Bytes received so far; only buf[0..len) is read. May be NULL when len
 *                      is 0.
 * @param len           Number of bytes in buf.
 * @param max_frame_len Largest L accepted (the device's receive buffer less the 4 prefix bytes,
 *                      or WASMBED_FRAME_DEFAULT_MAX_LEN).
 * @param out           Receives the frame on success; its byte payloads point into buf. On
 *                      -EUNKNOWN_TYPE and -EMALFORMED, type and id are set and the payload is
 *                      zeroed; on every other failure all of it is zeroed. Must not be NULL.
 * @param consumed      If not NULL, receives: on success and on -EUNKNOWN_TYPE or -EMALFORMED,
 *                      the size of the frame on the wire (4 + L), where the next frame starts;
 *                      on -EINCOMPLETE the number of bytes needed to go on: 4 + L once the
 *                      length is known (SIZE_MAX if that does not fit a size_t), otherwise 4;
 *                      on a length error 0 (the stream cannot be resynchronised).
 *
 * @retval 0 Success; out holds the frame.
 * @retval -WASMBED_PROTOCOL_EINCOMPLETE Fewer than 4 bytes, or a valid length and fewer than
 *         4 + L bytes.
 * @retval -WASMBED_PROTOCOL_EFRAME_TOO_SHORT L is below 5.
 * @retval -WASMBED_PROTOCOL_EFRAME_TOO_LARGE L is above max_frame_len.
 * @retval -WASMBED_PROTOCOL_EUNKNOWN_TYPE The type byte is not a message type.
 * @retval -WASMBED_PROTOCOL_EMALFORMED The payload is not what its type requires.
 */
int wasmbed_frame_decode(const uint8_t *buf, size_t len, uint32_t max_frame_len,
			 struct wasmbed_frame *out, size_t *consumed);

/**
 * @brief Check a device id against the rule of docs/protocol.md ("HELLO (0x01)").
 *
 * A device id is 1 to WASMBED_DEVICE_ID_MAX_LEN bytes of [A-Za-z0-9._-], contains no "..", and
 * does not start with '.' or '-' (ids name files and are passed as command-line arguments). The
 * HELLO decoder and encoder and the gateway client's configuration check all use this function;
 * the Rust side is wasmbed_protocol::DeviceId.
 *
 * @param id  The id's bytes; no NUL is needed. Must not be NULL when len is nonzero.
 * @param len Length of id in bytes; checked before any byte is read, and no byte past it is read.
 *
 * @retval 1 The id follows the rule.
 * @retval 0 It does not.
 */
int wasmbed_device_id_is_valid(const uint8_t *id, size_t len);

/**
 * @brief Encode one frame, length prefix included (docs/protocol.md, "Encoding").
 *
 * Refuses what the peer must reject, in this order: an unknown type; a HELLO whose device id
 * breaks the rule of wasmbed_device_id_is_valid() or whose firmware
 * version is longer than 64 bytes or not UTF-8; a HELLO_ACK with a heartbeat interval of 0 or a
 * max_frame_len below 5; an ERROR message that is not UTF-8; a NULL payload pointer with a
 * nonzero length; then a frame whose L is above max_frame_len. Any version byte, goodbye reason
 * and error code is written as it is.
 *
 * @param frame         The frame to encode. Must not be NULL.
 * @param max_frame_len Largest L allowed (the gateway's value from HELLO_ACK; before it, a HELLO
 *                      is at most WASMBED_HELLO_FRAME_MAX_LEN).
 * @param buf           Output buffer; only buf[0..cap) is written, and nothing on failure. May
 *                      be NULL when cap is 0 (to ask for the size).
 * @param cap           Size of buf in bytes.
 * @param written       If not NULL, receives the bytes written on success, the bytes needed on
 *                      -ENOSPC (SIZE_MAX if that does not fit a size_t), otherwise 0.
 *
 * @retval 0 Success: buf[0..*written) holds the frame.
 * @retval -WASMBED_PROTOCOL_EUNKNOWN_TYPE frame->type is not a message type.
 * @retval -WASMBED_PROTOCOL_EMALFORMED The payload holds a value the peer must reject.
 * @retval -WASMBED_PROTOCOL_EFRAME_TOO_LARGE L would be above max_frame_len.
 * @retval -WASMBED_PROTOCOL_ENOSPC cap is below the size of the frame.
 */
int wasmbed_frame_encode(const struct wasmbed_frame *frame, uint32_t max_frame_len, uint8_t *buf,
			 size_t cap, size_t *written);

/**
 * @brief Describe a return code in a short lower-case phrase for log lines.
 *
 * @param err A return value of this module (negative), or its absolute value.
 *
 * @return A static NUL-terminated string: "success" for 0, "unknown error" for values this
 *         module never returns.
 */
const char *wasmbed_protocol_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif /* WASMBED_PROTOCOL_H_ */

/*
 * Copyright (c) 2026 The wasmbed authors
 * SPDX-License-Identifier: Apache-2.0 OR MIT
 */

/**
 * @file
 * @brief Gateway endpoint parser and RAM mailbox reader.
 *
 * Portable C99 with no Zephyr headers: the firmware, the host port and the Rust differential
 * tests compile this same file. The grammar, the error kinds and the order in which errors are
 * reported are specified in docs/endpoint.md and implemented identically by the Rust crate
 * wasmbed-endpoint (ErrorKind::code() equals the negated return values below).
 *
 * Neither function allocates, keeps a pointer to its input, or reads past the length it is
 * given; inputs need not be NUL-terminated.
 */

#ifndef WASMBED_ENDPOINT_H_
#define WASMBED_ENDPOINT_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Maximum length of endpoint text in bytes, not counting a NUL terminator. */
#define WASMBED_ENDPOINT_MAX_LEN 255
/** Maximum length of a DNS name in bytes, not counting one final '.' (RFC 1035 2.3.4). */
#define WASMBED_ENDPOINT_DNS_NAME_MAX_LEN 253
/** Maximum length of one DNS label in bytes (RFC 1035 2.3.4). */
#define WASMBED_ENDPOINT_DNS_LABEL_MAX_LEN 63

/** Default mailbox base address (the seed's), used where the board's devicetree allows it. */
#define WASMBED_MAILBOX_DEFAULT_BASE 0x20001000u
/** Size of the mailbox header (the little-endian length word) in bytes. */
#define WASMBED_MAILBOX_HEADER_LEN 4
/** Largest mailbox image in bytes: header plus 255 bytes of text padded to a 32-bit word. */
#define WASMBED_MAILBOX_MAX_LEN 260

/**
 * @brief Error kinds, numbered as Rust's wasmbed_endpoint::ErrorKind::code().
 *
 * Functions return the negated value; see docs/endpoint.md for the exact conditions.
 */
enum wasmbed_endpoint_error {
	/** The input is empty. */
	WASMBED_ENDPOINT_EEMPTY = 1,
	/** The input is longer than WASMBED_ENDPOINT_MAX_LEN bytes. */
	WASMBED_ENDPOINT_ETOO_LONG = 2,
	/** No ':' separates host and port. */
	WASMBED_ENDPOINT_EMISSING_PORT = 3,
	/** More than one ':' outside brackets: an IPv6 address must be written in brackets. */
	WASMBED_ENDPOINT_EUNBRACKETED_IPV6 = 4,
	/** Nothing before the ':'. */
	WASMBED_ENDPOINT_EMISSING_HOST = 5,
	/** The host's last label is numeric (digits, or 0x and hex) but the host is not a strict
	 *  dotted quad. */
	WASMBED_ENDPOINT_EINVALID_IPV4 = 6,
	/** The bracketed host is not an IPv6 address, or the ']' is missing. */
	WASMBED_ENDPOINT_EINVALID_IPV6 = 7,
	/** The host is not an RFC 1123 DNS name. */
	WASMBED_ENDPOINT_EINVALID_DNS_NAME = 8,
	/** The port is not a decimal number in 1..65535 without sign or leading zeros. */
	WASMBED_ENDPOINT_EINVALID_PORT = 9,
	/** Bytes follow a complete port. */
	WASMBED_ENDPOINT_ETRAILING_BYTES = 10,
	/** The mailbox region is shorter than its header or than the length it declares. */
	WASMBED_ENDPOINT_EMAILBOX_TRUNCATED = 11,
	/** The mailbox length word is 0: no endpoint was written. */
	WASMBED_ENDPOINT_EMAILBOX_EMPTY = 12,
	/** The mailbox length word is above WASMBED_ENDPOINT_MAX_LEN. */
	WASMBED_ENDPOINT_EMAILBOX_LENGTH_OUT_OF_RANGE = 13,
	/** A byte of the mailbox text is outside printable ASCII 0x21-0x7e. */
	WASMBED_ENDPOINT_EMAILBOX_NON_PRINTABLE = 14,
};

/** @brief Kind of host in a parsed endpoint. */
enum wasmbed_host_type {
	/** Dotted-quad IPv4 address; addr[0..4] holds it in network order. */
	WASMBED_HOST_IPV4 = 1,
	/** IPv6 address; addr[0..16] holds it in network order. */
	WASMBED_HOST_IPV6 = 2,
	/** DNS name; addr is all zero. */
	WASMBED_HOST_DNS = 3,
};

/**
 * @brief A parsed endpoint.
 *
 * Owned by the caller; holds no pointers. About 530 bytes, so firmware keeps it static rather
 * than on a small thread stack.
 */
struct wasmbed_endpoint {
	/** Kind of host, one of enum wasmbed_host_type. */
	uint8_t host_type;
	/** Address bytes in network order: 4 for IPv4, 16 for IPv6, the rest zero. */
	uint8_t addr[16];
	/** Port in host byte order, 1..65535. */
	uint16_t port;
	/** Length of host in bytes, 1..253. */
	size_t host_len;
	/**
	 * Host as written in the endpoint, without brackets, NUL-terminated: the string to
	 * resolve or pass to inet_pton. A DNS name keeps a final '.' if it was written; drop it
	 * before using the name as TLS_HOSTNAME (SNI and certificate name checks expect none,
	 * RFC 6066 section 3).
	 */
	char host[WASMBED_ENDPOINT_MAX_LEN + 1];
	/** Length of text in bytes, 1..WASMBED_ENDPOINT_MAX_LEN. */
	size_t text_len;
	/** The whole endpoint text as parsed, NUL-terminated, for logging. */
	char text[WASMBED_ENDPOINT_MAX_LEN + 1];
};

/**
 * @brief Parse endpoint text such as "10.42.0.12:8081", "[fd00::1]:8081" or "gw.local:8081".
 *
 * @param text       Endpoint text; need not be NUL-terminated; only text[0..len) is read.
 *                   May be NULL when len is 0.
 * @param len        Length of text in bytes.
 * @param out        Receives the endpoint on success. On failure it is zeroed. Must not be NULL.
 * @param err_offset If not NULL, receives the byte offset into text where the error was found
 *                   (0 on success).
 *
 * @retval 0 Success; out holds the endpoint.
 * @retval -WASMBED_ENDPOINT_EEMPTY .. -WASMBED_ENDPOINT_ETRAILING_BYTES The text is invalid;
 *         the kind and offset follow docs/endpoint.md.
 */
int wasmbed_endpoint_parse(const char *text, size_t len, struct wasmbed_endpoint *out,
			   size_t *err_offset);

/**
 * @brief Read and parse the endpoint from a RAM mailbox image.
 *
 * The image is a little-endian 32-bit length N, then N bytes of endpoint text (docs/endpoint.md).
 * The length word is never trusted: nothing beyond mem[0..mem_len) is read.
 *
 * @param mem        Start of the mailbox region (e.g. the devicetree memory region's address),
 *                   any alignment. May be NULL when mem_len is 0.
 * @param mem_len    Size of the region in bytes (for example the region's devicetree size).
 * @param out        Receives the endpoint on success. On failure it is zeroed. Must not be NULL.
 * @param err_offset If not NULL, receives: for -WASMBED_ENDPOINT_EMAILBOX_TRUNCATED the number of
 *                   bytes the image needs; for -WASMBED_ENDPOINT_EMAILBOX_NON_PRINTABLE and for
 *                   parse errors the offset into the endpoint text; otherwise 0.
 *
 * @retval 0 Success; out holds the endpoint and its text.
 * @retval -WASMBED_ENDPOINT_EMAILBOX_TRUNCATED The region is shorter than 4 or than 4 + N bytes.
 * @retval -WASMBED_ENDPOINT_EMAILBOX_EMPTY N is 0.
 * @retval -WASMBED_ENDPOINT_EMAILBOX_LENGTH_OUT_OF_RANGE N is above WASMBED_ENDPOINT_MAX_LEN.
 * @retval -WASMBED_ENDPOINT_EMAILBOX_NON_PRINTABLE A text byte is outside 0x21-0x7e.
 * @retval -WASMBED_ENDPOINT_EMISSING_PORT .. -WASMBED_ENDPOINT_ETRAILING_BYTES The text is not a
 *         valid endpoint, as for wasmbed_endpoint_parse() (EEMPTY and ETOO_LONG cannot occur:
 *         the length checks come first).
 */
int wasmbed_mailbox_read(const uint8_t *mem, size_t mem_len, struct wasmbed_endpoint *out,
			 size_t *err_offset);

/**
 * @brief Describe an error code in a short lower-case phrase for log lines.
 *
 * @param err A return value of this module (negative), or its absolute value.
 *
 * @return A static NUL-terminated string: "success" for 0, "unknown error" for values this
 *         module never returns.
 */
const char *wasmbed_endpoint_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif /* WASMBED_ENDPOINT_H_ */

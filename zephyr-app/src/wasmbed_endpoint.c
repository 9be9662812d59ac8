/*
 * Copyright (c) 2026 The wasmbed authors
 * SPDX-License-Identifier: Apache-2.0 OR MIT
 */

/*
 * docs/endpoint.md is the specification. The Rust crate wasmbed-endpoint implements the same
 * text and differential tests compare the two on kind and offset, so every check below follows
 * the document's order even where another order would be simpler.
 */

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "wasmbed_endpoint.h"

#define IPV6_GROUPS 8
#define PORT_MAX_DIGITS 5
#define PORT_MAX 65535u

/* Own classifiers: <ctype.h> depends on the C locale, the grammar is plain ASCII. */
static int is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

static int hex_value(uint8_t c)
{
	if (is_digit(c)) {
		return c - '0';
	}
	if (c >= 'a' && c <= 'f') {
		return c - 'a' + 10;
	}
	if (c >= 'A' && c <= 'F') {
		return c - 'A' + 10;
	}
	return -1;
}

static int is_ldh(uint8_t c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
}

static size_t find_byte(const uint8_t *s, size_t from, size_t end, uint8_t b)
{
	while (from < end && s[from] != b) {
		from++;
	}
	return from;
}

/*
 * The IPv6 reader mirrors the algorithm of Rust's core::net parser (Ipv6Addr::from_str), which
 * the Rust side uses, so that the two agree on every input and not only on the RFC 3986
 * examples. Each reader advances *pos only when it succeeds.
 */
static int v6_read_sep(const uint8_t *s, size_t *pos, size_t end, size_t index)
{
	if (index == 0) {
		return 1;
	}
	if (*pos < end && s[*pos] == ':') {
		(*pos)++;
		return 1;
	}
	return 0;
}

static int v6_read_ipv4(const uint8_t *s, size_t *pos, size_t end, uint8_t v4[4])
{
	size_t p = *pos;

	for (size_t i = 0; i < 4; i++) {
		size_t start;
		uint32_t value = 0;

		if (i > 0) {
			if (p >= end || s[p] != '.') {
				return 0;
			}
			p++;
		}
		start = p;
		while (p < end && is_digit(s[p])) {
			if (p - start == 3) {
				return 0;
			}
			value = value * 10u + (uint32_t)(s[p] - '0');
			p++;
		}
		if (p == start || value > 255u || (p - start > 1 && s[start] == '0')) {
			return 0;
		}
		v4[i] = (uint8_t)value;
	}
	*pos = p;
	return 1;
}

static int v6_read_h16(const uint8_t *s, size_t *pos, size_t end, uint16_t *group)
{
	size_t p = *pos;
	uint32_t value = 0;

	while (p < end && hex_value(s[p]) >= 0) {
		if (p - *pos == 4) {
			return 0;
		}
		value = (value << 4) | (uint32_t)hex_value(s[p]);
		p++;
	}
	if (p == *pos) {
		return 0;
	}
	*group = (uint16_t)value;
	*pos = p;
	return 1;
}

/*
 * Reads up to limit colon-separated groups; an embedded IPv4 address is tried first wherever
 * two groups are still free, as in Rust. Returns the number of groups filled.
 */
static size_t v6_read_groups(const uint8_t *s, size_t *pos, size_t end, uint16_t *groups,
			     size_t limit, int *saw_ipv4)
{
	*saw_ipv4 = 0;
	for (size_t i = 0; i < limit; i++) {
		size_t p;
		uint16_t group;

		if (i + 1 < limit) {
			uint8_t v4[4];

			p = *pos;
			if (v6_read_sep(s, &p, end, i) && v6_read_ipv4(s, &p, end, v4)) {
				groups[i] = (uint16_t)((v4[0] << 8) | v4[1]);
				groups[i + 1] = (uint16_t)((v4[2] << 8) | v4[3]);
				*pos = p;
				*saw_ipv4 = 1;
				return i + 2;
			}
		}
		p = *pos;
		if (!v6_read_sep(s, &p, end, i) || !v6_read_h16(s, &p, end, &group)) {
			return i;
		}
		groups[i] = group;
		*pos = p;
	}
	return limit;
}

static int parse_ipv6(const uint8_t *s, size_t start, size_t end, uint8_t addr[16])
{
	uint16_t head[IPV6_GROUPS] = {0};
	uint16_t tail[IPV6_GROUPS - 1] = {0};
	size_t pos = start;
	size_t head_len;
	size_t tail_len;
	int saw_ipv4;

	head_len = v6_read_groups(s, &pos, end, head, IPV6_GROUPS, &saw_ipv4);
	if (head_len < IPV6_GROUPS) {
		if (saw_ipv4) {
			return 0;
		}
		/* "::" stands for at least one zero group, so the tail has one group less. */
		if (end - pos < 2 || s[pos] != ':' || s[pos + 1] != ':') {
			return 0;
		}
		pos += 2;
		tail_len = v6_read_groups(s, &pos, end, tail, IPV6_GROUPS - head_len - 1,
					  &saw_ipv4);
		memcpy(&head[IPV6_GROUPS - tail_len], tail, tail_len * sizeof(tail[0]));
	}
	if (pos != end) {
		return 0;
	}
	for (size_t i = 0; i < IPV6_GROUPS; i++) {
		addr[2 * i] = (uint8_t)(head[i] >> 8);
		addr[2 * i + 1] = (uint8_t)(head[i] & 0xffu);
	}
	return 1;
}

/* Host text [0, end) whose last label is all digits: the walk of docs/endpoint.md step 4. */
static int check_ipv4(const uint8_t *s, size_t end, uint8_t addr[16], size_t *off)
{
	size_t pos = 0;
	size_t index = 0;

	for (;;) {
		size_t part_end = find_byte(s, pos, end, '.');
		size_t part_len = part_end - pos;
		uint32_t value = 0;
		int ok = index < 4 && part_len >= 1 && part_len <= 3 &&
			 !(part_len > 1 && s[pos] == '0');

		for (size_t i = pos; ok && i < part_end; i++) {
			if (!is_digit(s[i])) {
				ok = 0;
			} else {
				value = value * 10u + (uint32_t)(s[i] - '0');
			}
		}
		if (!ok || value > 255u) {
			*off = pos;
			return -WASMBED_ENDPOINT_EINVALID_IPV4;
		}
		addr[index] = (uint8_t)value;
		index++;
		if (part_end == end) {
			break;
		}
		pos = part_end + 1;
	}
	if (index < 4) {
		*off = end;
		return -WASMBED_ENDPOINT_EINVALID_IPV4;
	}
	return 0;
}

/* Host text [0, end) as a DNS name, one final '.' allowed. */
static int check_dns(const uint8_t *s, size_t end, size_t *off)
{
	size_t name_end = end;
	size_t pos = 0;

	if (name_end > 0 && s[name_end - 1] == '.') {
		name_end--;
	}
	if (name_end == 0) {
		*off = 0;
		return -WASMBED_ENDPOINT_EINVALID_DNS_NAME;
	}
	for (;;) {
		size_t label_end = find_byte(s, pos, name_end, '.');

		if (label_end == pos) {
			*off = pos;
			return -WASMBED_ENDPOINT_EINVALID_DNS_NAME;
		}
		for (size_t i = pos; i < label_end; i++) {
			if (!is_ldh(s[i])) {
				*off = i;
				return -WASMBED_ENDPOINT_EINVALID_DNS_NAME;
			}
		}
		if (label_end - pos > WASMBED_ENDPOINT_DNS_LABEL_MAX_LEN) {
			*off = pos + WASMBED_ENDPOINT_DNS_LABEL_MAX_LEN;
			return -WASMBED_ENDPOINT_EINVALID_DNS_NAME;
		}
		if (s[pos] == '-') {
			*off = pos;
			return -WASMBED_ENDPOINT_EINVALID_DNS_NAME;
		}
		if (s[label_end - 1] == '-') {
			*off = label_end - 1;
			return -WASMBED_ENDPOINT_EINVALID_DNS_NAME;
		}
		if (label_end == name_end) {
			break;
		}
		pos = label_end + 1;
	}
	if (name_end > WASMBED_ENDPOINT_DNS_NAME_MAX_LEN) {
		*off = WASMBED_ENDPOINT_DNS_NAME_MAX_LEN;
		return -WASMBED_ENDPOINT_EINVALID_DNS_NAME;
	}
	return 0;
}

/*
 * Decides IPv4 against DNS by the last label of the host without one final '.'. A hex label
 * counts as numeric because resolvers such as glibc's inet_aton read "0x7f000001" as 127.0.0.1.
 */
static int last_label_is_numeric(const uint8_t *s, size_t end)
{
	size_t t_end = end;
	size_t start;

	if (t_end > 0 && s[t_end - 1] == '.') {
		t_end--;
	}
	start = t_end;
	while (start > 0 && s[start - 1] != '.') {
		start--;
	}
	if (start == t_end) {
		return 0;
	}
	/* WHATWG URL "ends in a number": decimal digits, or "0x"/"0X" and hex digits. */
	if (t_end - start >= 2 && s[start] == '0' && (s[start + 1] == 'x' || s[start + 1] == 'X')) {
		for (size_t i = start + 2; i < t_end; i++) {
			if (hex_value(s[i]) < 0) {
				return 0;
			}
		}
		return 1;
	}
	for (size_t i = start; i < t_end; i++) {
		if (!is_digit(s[i])) {
			return 0;
		}
	}
	return 1;
}

static int parse_port(const uint8_t *s, size_t p, size_t n, uint16_t *port, size_t *off)
{
	size_t run_end = p;
	uint32_t value = 0;

	while (run_end < n && is_digit(s[run_end])) {
		run_end++;
	}
	if (run_end == p || run_end - p > PORT_MAX_DIGITS || (run_end - p > 1 && s[p] == '0')) {
		*off = p;
		return -WASMBED_ENDPOINT_EINVALID_PORT;
	}
	for (size_t i = p; i < run_end; i++) {
		value = value * 10u + (uint32_t)(s[i] - '0');
	}
	if (value == 0u || value > PORT_MAX) {
		*off = p;
		return -WASMBED_ENDPOINT_EINVALID_PORT;
	}
	if (run_end < n) {
		*off = run_end;
		return -WASMBED_ENDPOINT_ETRAILING_BYTES;
	}
	*port = (uint16_t)value;
	return 0;
}

/* Writes out only on success; the callers have zeroed it. */
static int parse(const uint8_t *s, size_t n, struct wasmbed_endpoint *out, size_t *off)
{
	uint8_t addr[16] = {0};
	uint8_t host_type;
	size_t host_start;
	size_t host_end;
	size_t port_start;
	uint16_t port = 0;
	int bracketed;
	int ret;

	*off = 0;
	if (n == 0) {
		return -WASMBED_ENDPOINT_EEMPTY;
	}
	if (n > WASMBED_ENDPOINT_MAX_LEN) {
		*off = WASMBED_ENDPOINT_MAX_LEN;
		return -WASMBED_ENDPOINT_ETOO_LONG;
	}

	bracketed = s[0] == '[';
	if (bracketed) {
		size_t c = find_byte(s, 1, n, ']');

		if (c == n) {
			return -WASMBED_ENDPOINT_EINVALID_IPV6;
		}
		if (c + 1 == n) {
			*off = n;
			return -WASMBED_ENDPOINT_EMISSING_PORT;
		}
		if (s[c + 1] != ':') {
			*off = c + 1;
			return -WASMBED_ENDPOINT_EMISSING_PORT;
		}
		host_start = 1;
		host_end = c;
		port_start = c + 2;
	} else {
		size_t c = find_byte(s, 0, n, ':');

		if (c == n) {
			*off = n;
			return -WASMBED_ENDPOINT_EMISSING_PORT;
		}
		if (find_byte(s, c + 1, n, ':') != n) {
			return -WASMBED_ENDPOINT_EUNBRACKETED_IPV6;
		}
		host_start = 0;
		host_end = c;
		port_start = c + 1;
	}

	if (bracketed) {
		if (!parse_ipv6(s, 1, host_end, addr)) {
			*off = 1;
			return -WASMBED_ENDPOINT_EINVALID_IPV6;
		}
		host_type = WASMBED_HOST_IPV6;
	} else if (host_end == 0) {
		return -WASMBED_ENDPOINT_EMISSING_HOST;
	} else if (last_label_is_numeric(s, host_end)) {
		ret = check_ipv4(s, host_end, addr, off);
		if (ret != 0) {
			return ret;
		}
		host_type = WASMBED_HOST_IPV4;
	} else {
		ret = check_dns(s, host_end, off);
		if (ret != 0) {
			return ret;
		}
		host_type = WASMBED_HOST_DNS;
	}

	ret = parse_port(s, port_start, n, &port, off);
	if (ret != 0) {
		return ret;
	}

	out->host_type = host_type;
	memcpy(out->addr, addr, sizeof(out->addr));
	out->port = port;
	out->host_len = host_end - host_start;
	memcpy(out->host, &s[host_start], out->host_len);
	out->host[out->host_len] = '\0';
	out->text_len = n;
	memcpy(out->text, s, n);
	out->text[n] = '\0';
	return 0;
}

static int finish(int ret, size_t off, struct wasmbed_endpoint *out, size_t *err_offset)
{
	if (ret != 0) {
		memset(out, 0, sizeof(*out));
	} else {
		off = 0;
	}
	if (err_offset != NULL) {
		*err_offset = off;
	}
	return ret;
}

int wasmbed_endpoint_parse(const char *text, size_t len, struct wasmbed_endpoint *out,
			   size_t *err_offset)
{
	size_t off = 0;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = parse((const uint8_t *)text, len, out, &off);
	return finish(ret, off, out, err_offset);
}

int wasmbed_mailbox_read(const uint8_t *mem, size_t mem_len, struct wasmbed_endpoint *out,
			 size_t *err_offset)
{
	uint32_t n;
	size_t off = 0;
	int ret;

	memset(out, 0, sizeof(*out));
	if (mem_len < WASMBED_MAILBOX_HEADER_LEN) {
		return finish(-WASMBED_ENDPOINT_EMAILBOX_TRUNCATED, WASMBED_MAILBOX_HEADER_LEN, out,
			      err_offset);
	}
	/* Byte by byte: the region may be unaligned and the word is little-endian on any host. */
	n = (uint32_t)mem[0] | ((uint32_t)mem[1] << 8) | ((uint32_t)mem[2] << 16) |
	    ((uint32_t)mem[3] << 24);
	if (n == 0u) {
		return finish(-WASMBED_ENDPOINT_EMAILBOX_EMPTY, 0, out, err_offset);
	}
	if (n > WASMBED_ENDPOINT_MAX_LEN) {
		return finish(-WASMBED_ENDPOINT_EMAILBOX_LENGTH_OUT_OF_RANGE, 0, out, err_offset);
	}
	if (mem_len - WASMBED_MAILBOX_HEADER_LEN < n) {
		return finish(-WASMBED_ENDPOINT_EMAILBOX_TRUNCATED,
			      (size_t)WASMBED_MAILBOX_HEADER_LEN + n, out, err_offset);
	}
	for (size_t i = 0; i < n; i++) {
		uint8_t c = mem[WASMBED_MAILBOX_HEADER_LEN + i];

		if (c < 0x21u || c > 0x7eu) {
			return finish(-WASMBED_ENDPOINT_EMAILBOX_NON_PRINTABLE, i, out, err_offset);
		}
	}
	ret = parse(&mem[WASMBED_MAILBOX_HEADER_LEN], n, out, &off);
	return finish(ret, off, out, err_offset);
}

const char *wasmbed_endpoint_strerror(int err)
{
	static const char *const messages[] = {
		"success",
		"empty endpoint",
		"endpoint longer than 255 bytes",
		"missing ':' and port",
		"IPv6 address must be in brackets",
		"missing host",
		"invalid IPv4 address",
		"invalid IPv6 address",
		"invalid DNS name",
		"invalid port (expected 1-65535 without sign or leading zeros)",
		"unexpected trailing bytes",
		"mailbox truncated",
		"mailbox empty (no endpoint written)",
		"mailbox length above 255",
		"non-printable byte in mailbox text",
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

/*
 * wasmbed device: the gateway session state machine (portable C99, no Zephyr headers).
 *
 * See gateway_client.h for the contract and docs/protocol.md for the frames.
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#include "gateway_client.h"

#include <string.h>

#include "wasmbed_backoff.h"

/* The id of the HELLO frame; later frames the device starts count up from 2. */
#define HELLO_FRAME_ID 1u

/* The smallest frame the device must be able to send after HELLO_ACK: a HEARTBEAT (type, id
 * and a 4-byte uptime). */
#define HEARTBEAT_FRAME_LEN (WASMBED_FRAME_HEADER_LEN + 4u)

/* Backoff attempts that make the cap backoff_max_ms whatever the minimum. */
#define FAILURES_FOR_MAX_BACKOFF WASMBED_BACKOFF_MAX_SHIFT

static int check_hello(struct gateway_client *client);

static const char *goodbye_reason_str(uint8_t reason)
{
	switch (reason) {
	case WASMBED_GOODBYE_NORMAL:
		return "normal close";
	case WASMBED_GOODBYE_SHUTDOWN:
		return "gateway shutting down";
	case WASMBED_GOODBYE_TAKEN_OVER:
		return "taken over by a newer session with the same device id";
	case WASMBED_GOODBYE_HEARTBEAT_TIMEOUT:
		return "heartbeat timeout";
	case WASMBED_GOODBYE_PROTOCOL_ERROR:
		return "protocol error";
	case WASMBED_GOODBYE_CREDENTIALS_REVOKED:
		return "device certificate no longer accepted (revoked, untrusted CA or expired)";
	default:
		return "unknown reason";
	}
}

static const char *error_code_str(uint16_t code)
{
	switch (code) {
	case WASMBED_ERROR_MALFORMED_FRAME:
		return "malformed frame";
	case WASMBED_ERROR_FRAME_TOO_LARGE:
		return "frame too large";
	case WASMBED_ERROR_UNEXPECTED_MESSAGE:
		return "unexpected message";
	case WASMBED_ERROR_UNSUPPORTED_VERSION:
		return "unsupported version";
	case WASMBED_ERROR_INVALID_DEVICE_ID:
		return "invalid device id";
	case WASMBED_ERROR_DEVICE_ID_MISMATCH:
		return "device id does not match the client certificate";
	case WASMBED_ERROR_HELLO_TIMEOUT:
		return "hello timeout";
	case WASMBED_ERROR_OVERLOADED:
		return "gateway overloaded";
	case WASMBED_ERROR_INTERNAL:
		return "gateway internal error";
	default:
		return "unknown error code";
	}
}

const char *gateway_client_end_str(int end)
{
	switch (end) {
	case GATEWAY_CLIENT_END_CONNECT_FAILED:
		return "connect failed";
	case GATEWAY_CLIENT_END_PEER_CLOSED:
		return "closed by the gateway";
	case GATEWAY_CLIENT_END_IO_ERROR:
		return "I/O error";
	case GATEWAY_CLIENT_END_HELLO_TIMEOUT:
		return "no HELLO_ACK in time";
	case GATEWAY_CLIENT_END_HEARTBEAT_TIMEOUT:
		return "gateway silent for 3 heartbeat intervals";
	case GATEWAY_CLIENT_END_GOODBYE:
		return "GOODBYE from the gateway";
	case GATEWAY_CLIENT_END_ERROR_FRAME:
		return "ERROR from the gateway";
	case GATEWAY_CLIENT_END_PROTOCOL_ERROR:
		return "protocol error";
	default:
		return "unknown";
	}
}

static size_t bounded_strlen(const char *s, size_t max)
{
	size_t n = 0;

	while (n <= max && s[n] != '\0') {
		n++;
	}
	return n;
}

int gateway_client_init(struct gateway_client *client, const struct gateway_client_config *cfg,
			const struct gateway_client_io *io)
{
	size_t id_len;
	size_t fw_len;

	if (client == NULL || cfg == NULL || io == NULL) {
		return -1;
	}
	if (io->connect == NULL || io->send == NULL || io->recv == NULL || io->close == NULL ||
	    io->uptime_ms == NULL || io->sleep_ms == NULL || io->random == NULL ||
	    io->log == NULL) {
		return -1;
	}
	if (cfg->device_id == NULL || cfg->firmware_version == NULL) {
		io->log(io->ctx, GATEWAY_CLIENT_LOG_ERR, "Gateway client: device id or firmware "
			"version missing");
		return -1;
	}
	id_len = bounded_strlen(cfg->device_id, WASMBED_DEVICE_ID_MAX_LEN);
	if (!wasmbed_device_id_is_valid((const uint8_t *)cfg->device_id, id_len)) {
		io->log(io->ctx, GATEWAY_CLIENT_LOG_ERR,
			"Device id \"%.*s\" is invalid: it must be 1 to %d bytes of "
			"[A-Za-z0-9._-], without \"..\" and not starting with '.' or '-' "
			"(set CONFIG_WASMBED_DEVICE_ID)",
			(int)(id_len > WASMBED_DEVICE_ID_MAX_LEN ? WASMBED_DEVICE_ID_MAX_LEN
								 : id_len),
			cfg->device_id, WASMBED_DEVICE_ID_MAX_LEN);
		return -1;
	}
	fw_len = bounded_strlen(cfg->firmware_version, WASMBED_FIRMWARE_MAX_LEN);
	if (fw_len > WASMBED_FIRMWARE_MAX_LEN) {
		io->log(io->ctx, GATEWAY_CLIENT_LOG_ERR,
			"Firmware version is longer than %d bytes (set "
			"CONFIG_WASMBED_FIRMWARE_VERSION)",
			WASMBED_FIRMWARE_MAX_LEN);
		return -1;
	}
	if (cfg->heartbeat_interval_s == 0u || cfg->heartbeat_interval_s > 65535u ||
	    cfg->hello_timeout_ms == 0u || cfg->send_timeout_ms == 0u ||
	    cfg->send_timeout_ms > INT32_MAX || cfg->backoff_min_ms == 0u ||
	    cfg->backoff_min_ms > cfg->backoff_max_ms || cfg->backoff_max_ms > INT32_MAX) {
		io->log(io->ctx, GATEWAY_CLIENT_LOG_ERR,
			"Gateway client timing out of range: heartbeat %u s (1..65535), hello "
			"timeout %u ms (>= 1), send timeout %u ms (>= 1), backoff %u..%u ms "
			"(1 <= min <= max)",
			(unsigned int)cfg->heartbeat_interval_s,
			(unsigned int)cfg->hello_timeout_ms, (unsigned int)cfg->send_timeout_ms,
			(unsigned int)cfg->backoff_min_ms, (unsigned int)cfg->backoff_max_ms);
		return -1;
	}

	memset(client, 0, sizeof(*client));
	client->cfg = *cfg;
	client->io = *io;
	client->next_id = HELLO_FRAME_ID + 1u;
	if (check_hello(client) != 0) {
		return -1;
	}
	return 0;
}

const struct gateway_client_stats *gateway_client_stats(const struct gateway_client *client)
{
	return &client->stats;
}

uint32_t gateway_client_next_delay_ms(struct gateway_client *client)
{
	uint32_t delay = wasmbed_backoff_delay_ms(client->cfg.backoff_min_ms,
						  client->cfg.backoff_max_ms, client->failures,
						  client->io.random(client->io.ctx));

	if (client->failures < UINT32_MAX) {
		client->failures++;
	}
	return delay;
}

static uint32_t take_id(struct gateway_client *client)
{
	uint32_t id = client->next_id;

	client->next_id = client->next_id == UINT32_MAX ? HELLO_FRAME_ID + 1u : client->next_id + 1u;
	return id;
}

/* Encode and send one frame; 0 or -1 (logged). */
static int send_frame(struct gateway_client *client, const struct wasmbed_frame *frame,
		      uint32_t max_frame_len)
{
	size_t len = 0;
	size_t off = 0;
	int64_t deadline;
	int ret;

	if (client->broken) {
		return -1;
	}
	ret = wasmbed_frame_encode(frame, max_frame_len, client->tx, sizeof(client->tx), &len);
	if (ret != 0) {
		client->io.log(client->io.ctx, GATEWAY_CLIENT_LOG_ERR,
			       "Cannot encode frame type 0x%02x (id %u): %s", (unsigned int)frame->type,
			       (unsigned int)frame->id, wasmbed_protocol_strerror(ret));
		return -1;
	}
	deadline = client->io.uptime_ms(client->io.ctx) + (int64_t)client->cfg.send_timeout_ms;
	while (off < len) {
		int64_t left = deadline - client->io.uptime_ms(client->io.ctx);
		int n = left <= 0 ? GATEWAY_CLIENT_IO_TIMEOUT
				  : client->io.send(client->io.ctx, client->tx + off, len - off,
						    (int32_t)left);

		if (n == GATEWAY_CLIENT_IO_TIMEOUT && left > 0) {
			continue;
		}
		if (n <= 0) {
			client->broken = true;
			client->io.log(client->io.ctx, GATEWAY_CLIENT_LOG_ERR,
				       "Sending frame type 0x%02x (id %u) failed after %u of %u bytes%s",
				       (unsigned int)frame->type, (unsigned int)frame->id,
				       (unsigned int)off, (unsigned int)len,
				       n == GATEWAY_CLIENT_IO_TIMEOUT
					       ? ": the gateway accepted nothing within the send "
						 "timeout (it is not reading)"
					       : "");
			return -1;
		}
		off += (size_t)n;
	}
	client->stats.frames_sent++;
	return 0;
}

static void build_hello(const struct gateway_client *client, struct wasmbed_frame *frame)
{
	memset(frame, 0, sizeof(*frame));
	frame->type = WASMBED_MSG_HELLO;
	frame->id = HELLO_FRAME_ID;
	frame->msg.hello.version = WASMBED_PROTOCOL_VERSION;
	frame->msg.hello.device_id_len = bounded_strlen(client->cfg.device_id,
							WASMBED_DEVICE_ID_MAX_LEN);
	memcpy(frame->msg.hello.device_id, client->cfg.device_id, frame->msg.hello.device_id_len);
	frame->msg.hello.firmware_len = bounded_strlen(client->cfg.firmware_version,
						       WASMBED_FIRMWARE_MAX_LEN);
	memcpy(frame->msg.hello.firmware, client->cfg.firmware_version,
	       frame->msg.hello.firmware_len);
}

/* Refuse at start-up a HELLO the codec would refuse on every connection (for example a
 * firmware version that is not UTF-8). */
static int check_hello(struct gateway_client *client)
{
	struct wasmbed_frame frame;
	size_t len = 0;
	int ret;

	build_hello(client, &frame);
	ret = wasmbed_frame_encode(&frame, WASMBED_HELLO_FRAME_MAX_LEN, client->tx,
				   sizeof(client->tx), &len);
	if (ret != 0) {
		client->io.log(client->io.ctx, GATEWAY_CLIENT_LOG_ERR,
			       "HELLO cannot carry this configuration: %s (the firmware version "
			       "must be UTF-8; set CONFIG_WASMBED_FIRMWARE_VERSION)",
			       wasmbed_protocol_strerror(ret));
		return -1;
	}
	return 0;
}

static int send_hello(struct gateway_client *client)
{
	struct wasmbed_frame frame;

	build_hello(client, &frame);
	return send_frame(client, &frame, WASMBED_HELLO_FRAME_MAX_LEN);
}

static int send_goodbye(struct gateway_client *client, uint8_t reason)
{
	struct wasmbed_frame frame;

	memset(&frame, 0, sizeof(frame));
	frame.type = WASMBED_MSG_GOODBYE;
	frame.id = take_id(client);
	frame.msg.goodbye.reason = reason;
	return send_frame(client, &frame, WASMBED_FRAME_MIN_LEN + 1u);
}

static int send_heartbeat(struct gateway_client *client, int64_t now_ms)
{
	struct wasmbed_frame frame;

	memset(&frame, 0, sizeof(frame));
	frame.type = WASMBED_MSG_HEARTBEAT;
	frame.id = take_id(client);
	/* Uptime modulo 2^32 ms (docs/protocol.md: it wraps after about 49.7 days). */
	frame.msg.heartbeat.uptime_ms = (uint32_t)((uint64_t)now_ms & 0xffffffffu);
	return send_frame(client, &frame, client->send_max_frame_len);
}

int gateway_client_send_data(struct gateway_client *client, const uint8_t *data, size_t len)
{
	struct wasmbed_frame frame;

	if (!client->established) {
		client->io.log(client->io.ctx, GATEWAY_CLIENT_LOG_WRN,
			       "DATA (%u bytes) not sent: no established session",
			       (unsigned int)len);
		return -1;
	}
	memset(&frame, 0, sizeof(frame));
	frame.type = WASMBED_MSG_DATA;
	frame.id = take_id(client);
	frame.msg.bytes.data = data;
	frame.msg.bytes.len = len;
	if (send_frame(client, &frame, client->send_max_frame_len) != 0) {
		return -1;
	}
	client->stats.data_sent++;
	return 0;
}

/* What handling a frame decided. */
enum verdict {
	VERDICT_CONTINUE = 0,
	VERDICT_END = 1,
};

static enum verdict protocol_error(struct gateway_client *client, int *end, const char *what,
				   unsigned int type)
{
	client->io.log(client->io.ctx, GATEWAY_CLIENT_LOG_ERR,
		       "Gateway broke the protocol: %s (frame type 0x%02x); sending GOODBYE", what,
		       type);
	(void)send_goodbye(client, WASMBED_GOODBYE_PROTOCOL_ERROR);
	*end = GATEWAY_CLIENT_END_PROTOCOL_ERROR;
	return VERDICT_END;
}

static enum verdict handle_frame(struct gateway_client *client, const struct wasmbed_frame *frame,
				 int *end)
{
	struct gateway_client_io *io = &client->io;

	client->stats.frames_received++;
	switch (frame->type) {
	case WASMBED_MSG_HELLO_ACK: {
		const struct wasmbed_msg_hello_ack *ack = &frame->msg.hello_ack;

		if (client->established) {
			return protocol_error(client, end, "a second HELLO_ACK", frame->type);
		}
		if (ack->version != WASMBED_PROTOCOL_VERSION) {
			io->log(io->ctx, GATEWAY_CLIENT_LOG_ERR,
				"Gateway speaks protocol version %u, this firmware %u",
				(unsigned int)ack->version, (unsigned int)WASMBED_PROTOCOL_VERSION);
			(void)send_goodbye(client, WASMBED_GOODBYE_PROTOCOL_ERROR);
			*end = GATEWAY_CLIENT_END_PROTOCOL_ERROR;
			return VERDICT_END;
		}
		if (ack->max_frame_len < HEARTBEAT_FRAME_LEN) {
			io->log(io->ctx, GATEWAY_CLIENT_LOG_ERR,
				"Gateway max_frame_len %u is below the %u bytes of a HEARTBEAT",
				(unsigned int)ack->max_frame_len, (unsigned int)HEARTBEAT_FRAME_LEN);
			(void)send_goodbye(client, WASMBED_GOODBYE_PROTOCOL_ERROR);
			*end = GATEWAY_CLIENT_END_PROTOCOL_ERROR;
			return VERDICT_END;
		}
		client->heartbeat_interval_ms = (uint32_t)ack->heartbeat_interval_secs * 1000u;
		client->send_max_frame_len = ack->max_frame_len < GATEWAY_CLIENT_MAX_FRAME_LEN
						     ? ack->max_frame_len
						     : GATEWAY_CLIENT_MAX_FRAME_LEN;
		client->established = true;
		client->established_at = io->uptime_ms(io->ctx);
		client->stats.sessions_established++;
		io->log(io->ctx, GATEWAY_CLIENT_LOG_INF,
			"Session established as \"%s\": heartbeat every %u s, frames up to %u bytes",
			client->cfg.device_id, (unsigned int)ack->heartbeat_interval_secs,
			(unsigned int)client->send_max_frame_len);
		if (io->on_established != NULL) {
			io->on_established(io->ctx);
		}
		return VERDICT_CONTINUE;
	}
	case WASMBED_MSG_GOODBYE:
		io->log(io->ctx, GATEWAY_CLIENT_LOG_WRN, "Gateway said GOODBYE: %s (reason %u)",
			goodbye_reason_str(frame->msg.goodbye.reason),
			(unsigned int)frame->msg.goodbye.reason);
		if (frame->msg.goodbye.reason == WASMBED_GOODBYE_TAKEN_OVER) {
			/* Two devices with one id take each other over for ever: retry rarely. */
			io->log(io->ctx, GATEWAY_CLIENT_LOG_ERR,
				"Another session uses device id \"%s\": give every device its own "
				"(CONFIG_WASMBED_DEVICE_ID); retrying after the longest backoff",
				client->cfg.device_id);
			client->failures = FAILURES_FOR_MAX_BACKOFF;
		} else if (frame->msg.goodbye.reason == WASMBED_GOODBYE_CREDENTIALS_REVOKED) {
			/* The same certificate is refused again: only a new one helps. */
			io->log(io->ctx, GATEWAY_CLIENT_LOG_ERR,
				"The gateway no longer accepts this device's certificate: issue a new "
				"one (wasmbed-gateway pki device); retrying after the longest backoff");
			client->failures = FAILURES_FOR_MAX_BACKOFF;
		}
		*end = GATEWAY_CLIENT_END_GOODBYE;
		return VERDICT_END;
	case WASMBED_MSG_ERROR: {
		const struct wasmbed_msg_error *err = &frame->msg.error;
		int shown = err->message_len > 200u ? 200 : (int)err->message_len;

		io->log(io->ctx, GATEWAY_CLIENT_LOG_ERR, "Gateway sent ERROR %u (%s): %.*s",
			(unsigned int)err->code, error_code_str(err->code), shown,
			err->message != NULL ? err->message : "");
		*end = GATEWAY_CLIENT_END_ERROR_FRAME;
		return VERDICT_END;
	}
	default:
		break;
	}

	if (!client->established) {
		return protocol_error(client, end, "a frame before HELLO_ACK", frame->type);
	}

	switch (frame->type) {
	case WASMBED_MSG_HEARTBEAT_ACK:
		io->log(io->ctx, GATEWAY_CLIENT_LOG_DBG, "HEARTBEAT_ACK (id %u)",
			(unsigned int)frame->id);
		/* A session that has lasted an interval and is answered is stable: reset the
		 * backoff (not at HELLO_ACK, so that accept-then-drop loops slow down). */
		if (client->failures != 0u &&
		    io->uptime_ms(io->ctx) - client->established_at >=
			    (int64_t)client->heartbeat_interval_ms) {
			client->failures = 0;
		}
		return VERDICT_CONTINUE;
	case WASMBED_MSG_ECHO: {
		struct wasmbed_frame reply;

		memset(&reply, 0, sizeof(reply));
		reply.type = WASMBED_MSG_ECHO_REPLY;
		reply.id = frame->id;
		reply.msg.bytes = frame->msg.bytes;
		io->log(io->ctx, GATEWAY_CLIENT_LOG_INF, "ECHO (id %u, %u bytes): replying",
			(unsigned int)frame->id, (unsigned int)frame->msg.bytes.len);
		if (send_frame(client, &reply, client->send_max_frame_len) != 0) {
			*end = GATEWAY_CLIENT_END_IO_ERROR;
			return VERDICT_END;
		}
		client->stats.echoes_answered++;
		return VERDICT_CONTINUE;
	}
	case WASMBED_MSG_ECHO_REPLY:
		io->log(io->ctx, GATEWAY_CLIENT_LOG_DBG, "ECHO_REPLY (id %u, %u bytes)",
			(unsigned int)frame->id, (unsigned int)frame->msg.bytes.len);
		return VERDICT_CONTINUE;
	case WASMBED_MSG_DATA:
		client->stats.data_received++;
		io->log(io->ctx, GATEWAY_CLIENT_LOG_INF, "DATA from gateway (id %u, %u bytes)",
			(unsigned int)frame->id, (unsigned int)frame->msg.bytes.len);
		if (io->on_data != NULL) {
			io->on_data(io->ctx, frame->msg.bytes.data, frame->msg.bytes.len);
		}
		return VERDICT_CONTINUE;
	default:
		/* HELLO and HEARTBEAT only travel from the device to the gateway. */
		return protocol_error(client, end, "a device-to-gateway message", frame->type);
	}
}

/* Decode and handle every whole frame in rx; keep a partial one. *decoded counts the frames. */
static enum verdict drain_frames(struct gateway_client *client, int *end, unsigned int *decoded)
{
	size_t start = 0;
	enum verdict verdict = VERDICT_CONTINUE;

	*decoded = 0;

	while (verdict == VERDICT_CONTINUE && start < client->rx_len) {
		struct wasmbed_frame frame;
		size_t consumed = 0;
		int ret = wasmbed_frame_decode(client->rx + start, client->rx_len - start,
					       GATEWAY_CLIENT_MAX_FRAME_LEN, &frame, &consumed);

		if (ret == -WASMBED_PROTOCOL_EINCOMPLETE) {
			break;
		}
		if (ret != 0) {
			client->io.log(client->io.ctx, GATEWAY_CLIENT_LOG_ERR,
				       "Gateway sent a frame this device cannot decode: %s "
				       "(largest accepted: %u bytes)",
				       wasmbed_protocol_strerror(ret),
				       (unsigned int)GATEWAY_CLIENT_MAX_FRAME_LEN);
			(void)send_goodbye(client, WASMBED_GOODBYE_PROTOCOL_ERROR);
			*end = GATEWAY_CLIENT_END_PROTOCOL_ERROR;
			return VERDICT_END;
		}
		verdict = handle_frame(client, &frame, end);
		start += consumed;
		(*decoded)++;
	}
	if (start > 0u) {
		memmove(client->rx, client->rx + start, client->rx_len - start);
		client->rx_len -= start;
	}
	return verdict;
}

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/* The session after connect(): HELLO, then frames until the end. */
static int serve(struct gateway_client *client)
{
	struct gateway_client_io *io = &client->io;
	int64_t hello_deadline;
	int64_t last_rx;
	int64_t next_heartbeat = 0;
	int end = GATEWAY_CLIENT_END_IO_ERROR;

	if (send_hello(client) != 0) {
		return GATEWAY_CLIENT_END_IO_ERROR;
	}
	io->log(io->ctx, GATEWAY_CLIENT_LOG_INF, "HELLO sent as \"%s\", firmware \"%s\"",
		client->cfg.device_id, client->cfg.firmware_version);
	last_rx = io->uptime_ms(io->ctx);
	hello_deadline = last_rx + (int64_t)client->cfg.hello_timeout_ms;

	for (;;) {
		int64_t now = io->uptime_ms(io->ctx);
		int64_t wake;
		unsigned int decoded = 0;
		int n;

		if (!client->established) {
			if (now >= hello_deadline) {
				io->log(io->ctx, GATEWAY_CLIENT_LOG_ERR,
					"No HELLO_ACK within %u ms of HELLO",
					(unsigned int)client->cfg.hello_timeout_ms);
				return GATEWAY_CLIENT_END_HELLO_TIMEOUT;
			}
			wake = hello_deadline;
		} else {
			int64_t silence_limit =
				(int64_t)client->heartbeat_interval_ms * GATEWAY_CLIENT_MISSED_HEARTBEATS;

			if (now - last_rx >= silence_limit) {
				io->log(io->ctx, GATEWAY_CLIENT_LOG_ERR,
					"Nothing from the gateway for %u ms (%d heartbeat intervals)",
					(unsigned int)(now - last_rx),
					GATEWAY_CLIENT_MISSED_HEARTBEATS);
				return GATEWAY_CLIENT_END_HEARTBEAT_TIMEOUT;
			}
			if (next_heartbeat == 0) {
				next_heartbeat = now;
			}
			if (now >= next_heartbeat) {
				if (send_heartbeat(client, now) != 0) {
					return GATEWAY_CLIENT_END_IO_ERROR;
				}
				io->log(io->ctx, GATEWAY_CLIENT_LOG_DBG, "HEARTBEAT (uptime %u ms)",
					(unsigned int)((uint64_t)now & 0xffffffffu));
				next_heartbeat = now + (int64_t)client->heartbeat_interval_ms;
			}
			wake = min64(next_heartbeat, last_rx + silence_limit);
		}

		wake = min64(wake - now, GATEWAY_CLIENT_POLL_SLICE_MS);
		n = io->recv(io->ctx, client->rx + client->rx_len,
			     sizeof(client->rx) - client->rx_len, (int32_t)(wake < 0 ? 0 : wake));
		if (n == GATEWAY_CLIENT_IO_TIMEOUT) {
			continue;
		}
		if (n == GATEWAY_CLIENT_IO_CLOSED) {
			io->log(io->ctx, GATEWAY_CLIENT_LOG_WRN,
				"Gateway closed the connection without GOODBYE");
			return GATEWAY_CLIENT_END_PEER_CLOSED;
		}
		if (n < 0) {
			return GATEWAY_CLIENT_END_IO_ERROR;
		}
		client->rx_len += (size_t)n;
		if (drain_frames(client, &end, &decoded) == VERDICT_END) {
			return end;
		}
		if (client->broken) {
			/* A reply or an application send failed: part of a frame may be out. */
			return GATEWAY_CLIENT_END_IO_ERROR;
		}
		/* Only whole frames count as signs of life: a trickle of bytes does not. */
		if (decoded > 0u) {
			last_rx = io->uptime_ms(io->ctx);
		}
	}
}

int gateway_client_session(struct gateway_client *client, const struct wasmbed_endpoint *endpoint)
{
	struct gateway_client_io *io = &client->io;
	int end;

	client->stats.sessions_started++;
	client->established = false;
	client->broken = false;
	client->rx_len = 0;
	client->heartbeat_interval_ms = client->cfg.heartbeat_interval_s * 1000u;
	client->send_max_frame_len = WASMBED_HELLO_FRAME_MAX_LEN;

	if (endpoint->host_type == WASMBED_HOST_IPV6) {
		io->log(io->ctx, GATEWAY_CLIENT_LOG_INF, "Connecting to gateway with TLS: [%s]:%u",
			endpoint->host, (unsigned int)endpoint->port);
	} else {
		io->log(io->ctx, GATEWAY_CLIENT_LOG_INF, "Connecting to gateway with TLS: %s:%u",
			endpoint->host, (unsigned int)endpoint->port);
	}
	if (io->connect(io->ctx, endpoint) != 0) {
		return GATEWAY_CLIENT_END_CONNECT_FAILED;
	}
	client->connected = true;
	io->log(io->ctx, GATEWAY_CLIENT_LOG_INF, "Connected to gateway via TLS");

	end = serve(client);

	io->close(io->ctx);
	client->connected = false;
	client->established = false;
	io->log(io->ctx, GATEWAY_CLIENT_LOG_WRN, "Session ended: %s", gateway_client_end_str(end));
	return end;
}

void gateway_client_run(struct gateway_client *client, const struct wasmbed_endpoint *endpoint)
{
	for (;;) {
		uint32_t delay;

		(void)gateway_client_session(client, endpoint);
		delay = gateway_client_next_delay_ms(client);
		client->io.log(client->io.ctx, GATEWAY_CLIENT_LOG_INF,
			       "Reconnecting in %u ms (attempt %u)", (unsigned int)delay,
			       (unsigned int)client->failures);
		client->io.sleep_ms(client->io.ctx, (int32_t)(delay > INT32_MAX ? INT32_MAX : delay));
	}
}

/*
 * wasmbed device: the gateway session state machine (portable C99, no Zephyr headers).
 *
 * One persistent session with the gateway over a byte stream the caller provides (on the
 * device a Zephyr TLS socket, see network_handler.c): connect, HELLO, wait for HELLO_ACK,
 * heartbeats, ECHO answered with ECHO_REPLY, DATA both ways, GOODBYE and ERROR handled, and
 * reconnects with exponential backoff and jitter. The frames are those of docs/protocol.md,
 * through the portable codec in wasmbed_protocol.c.
 *
 * The state machine does no I/O, timing, randomness or logging of its own: struct
 * gateway_client_io supplies them, so the same code runs on Zephyr and in the host build.
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#ifndef GATEWAY_CLIENT_H_
#define GATEWAY_CLIENT_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wasmbed_endpoint.h"
#include "wasmbed_protocol.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief Largest frame length (type + id + payload) the device sends or accepts, in bytes.
 *
 * CONFIG_WASMBED_MAX_FRAME_LEN (Kconfig, 136..16384, default 4096) when the build defines it.
 * The receive and transmit buffers of struct gateway_client are sized from it.
 */
#if defined(CONFIG_WASMBED_MAX_FRAME_LEN)
#define GATEWAY_CLIENT_MAX_FRAME_LEN CONFIG_WASMBED_MAX_FRAME_LEN
#else
#define GATEWAY_CLIENT_MAX_FRAME_LEN WASMBED_FRAME_DEFAULT_MAX_LEN
#endif

/** @brief Missed heartbeat intervals after which the device gives the session up, as the
 *  gateway does (docs/protocol.md, "Heartbeats"). */
#define GATEWAY_CLIENT_MISSED_HEARTBEATS 3

/** @brief Longest single wait for input, in milliseconds, so deadlines are re-checked. */
#define GATEWAY_CLIENT_POLL_SLICE_MS 1000

/** @brief Log levels, numbered as Zephyr's LOG_LEVEL_ERR .. LOG_LEVEL_DBG. */
enum gateway_client_log_level {
	/** A failure: the session ends or cannot start. */
	GATEWAY_CLIENT_LOG_ERR = 1,
	/** Something unusual that the device recovers from. */
	GATEWAY_CLIENT_LOG_WRN = 2,
	/** Session milestones. */
	GATEWAY_CLIENT_LOG_INF = 3,
	/** Every frame. */
	GATEWAY_CLIENT_LOG_DBG = 4,
};

/** @brief What gateway_client_io.recv() returns besides a byte count. */
enum gateway_client_io_status {
	/** The peer closed the stream (TLS close_notify or TCP FIN). */
	GATEWAY_CLIENT_IO_CLOSED = 0,
	/** No input within the timeout. */
	GATEWAY_CLIENT_IO_TIMEOUT = -1,
	/** The stream failed; the io implementation has logged why. */
	GATEWAY_CLIENT_IO_ERROR = -2,
};

/**
 * @brief The services the state machine needs. Every function pointer must be set.
 *
 * All calls come from the thread running gateway_client_run() or gateway_client_session().
 */
struct gateway_client_io {
	/** Passed back as the first argument of every call. */
	void *ctx;
	/**
	 * Open the stream to the endpoint (on the device: TCP connect plus TLS handshake).
	 * Returns 0, or a negative value after logging the precise reason.
	 */
	int (*connect)(void *ctx, const struct wasmbed_endpoint *endpoint);
	/**
	 * Wait at most timeout_ms (>= 0) until the stream accepts bytes and send some of
	 * buf[0..len), len >= 1. Returns the number of bytes accepted (1..len),
	 * GATEWAY_CLIENT_IO_TIMEOUT when nothing could be sent in time (the peer does not read),
	 * or GATEWAY_CLIENT_IO_ERROR after logging why. After a timeout the next call must pass
	 * the same bytes again (TLS stacks require it).
	 */
	int (*send)(void *ctx, const uint8_t *buf, size_t len, int32_t timeout_ms);
	/**
	 * Wait at most timeout_ms (>= 0) for input and read up to cap (>= 1) bytes. Returns the
	 * number read (>= 1), GATEWAY_CLIENT_IO_CLOSED, GATEWAY_CLIENT_IO_TIMEOUT or
	 * GATEWAY_CLIENT_IO_ERROR (after logging why).
	 */
	int (*recv)(void *ctx, uint8_t *buf, size_t cap, int32_t timeout_ms);
	/** Close the stream opened by connect (sending TLS close_notify). */
	void (*close)(void *ctx);
	/** Milliseconds since boot, monotonic. */
	int64_t (*uptime_ms)(void *ctx);
	/** Sleep for ms milliseconds (ms >= 0). */
	void (*sleep_ms)(void *ctx, int32_t ms);
	/** A random 32-bit value (for reconnect jitter; need not be cryptographic). */
	uint32_t (*random)(void *ctx);
	/** Log one line; level is enum gateway_client_log_level; fmt is printf-style. */
	void (*log)(void *ctx, int level, const char *fmt, ...);
	/**
	 * Called once the gateway has accepted the session (HELLO_ACK received). May call
	 * gateway_client_send_data(). May be NULL.
	 */
	void (*on_established)(void *ctx);
	/**
	 * Called for every DATA frame from the gateway; data points into the receive buffer and
	 * is valid during the call only. May call gateway_client_send_data(). May be NULL (the
	 * DATA is then only counted).
	 */
	void (*on_data)(void *ctx, const uint8_t *data, size_t len);
};

/** @brief Session parameters; see zephyr-app/Kconfig for each one's range and default. */
struct gateway_client_config {
	/** Device id sent in HELLO, NUL-terminated; wasmbed_device_id_is_valid() gives the rule. */
	const char *device_id;
	/** Firmware version sent in HELLO: 0..64 bytes of UTF-8, NUL-terminated. */
	const char *firmware_version;
	/** Heartbeat interval until HELLO_ACK gives the gateway's, in seconds, 1..65535. */
	uint32_t heartbeat_interval_s;
	/** Longest wait for HELLO_ACK after HELLO, in milliseconds, >= 1. */
	uint32_t hello_timeout_ms;
	/** Longest time to send one frame, in milliseconds, >= 1: a gateway that stops reading
	 *  ends the session instead of blocking the device. */
	uint32_t send_timeout_ms;
	/** First reconnect delay, in milliseconds, >= 1. */
	uint32_t backoff_min_ms;
	/** Largest reconnect delay, in milliseconds, >= backoff_min_ms. */
	uint32_t backoff_max_ms;
};

/** @brief Why a session ended (the value gateway_client_session() returns). */
enum gateway_client_end {
	/** connect() failed: no TCP connection or no TLS handshake. */
	GATEWAY_CLIENT_END_CONNECT_FAILED = 1,
	/** The gateway closed the stream without GOODBYE. */
	GATEWAY_CLIENT_END_PEER_CLOSED = 2,
	/** Sending or receiving failed. */
	GATEWAY_CLIENT_END_IO_ERROR = 3,
	/** No HELLO_ACK within hello_timeout_ms. */
	GATEWAY_CLIENT_END_HELLO_TIMEOUT = 4,
	/** Nothing from the gateway for GATEWAY_CLIENT_MISSED_HEARTBEATS intervals. */
	GATEWAY_CLIENT_END_HEARTBEAT_TIMEOUT = 5,
	/** The gateway sent GOODBYE. */
	GATEWAY_CLIENT_END_GOODBYE = 6,
	/** The gateway sent ERROR. */
	GATEWAY_CLIENT_END_ERROR_FRAME = 7,
	/** The gateway sent something the device cannot accept; the device said GOODBYE. */
	GATEWAY_CLIENT_END_PROTOCOL_ERROR = 8,
};

/** @brief Counters since gateway_client_init(). */
struct gateway_client_stats {
	/** Sessions attempted (connect() calls). */
	uint32_t sessions_started;
	/** Sessions the gateway accepted (HELLO_ACK received). */
	uint32_t sessions_established;
	/** Frames sent. */
	uint32_t frames_sent;
	/** Frames received. */
	uint32_t frames_received;
	/** ECHO frames answered. */
	uint32_t echoes_answered;
	/** DATA frames received. */
	uint32_t data_received;
	/** DATA frames sent. */
	uint32_t data_sent;
};

/**
 * @brief The client. Owned by the caller; about 2 * GATEWAY_CLIENT_MAX_FRAME_LEN + 200 bytes,
 * so firmware keeps it static rather than on a thread stack. Fields are private.
 */
struct gateway_client {
	/** Private: the configuration. */
	struct gateway_client_config cfg;
	/** Private: the services. */
	struct gateway_client_io io;
	/** Private: counters. */
	struct gateway_client_stats stats;
	/** Private: id of the next frame the device starts. */
	uint32_t next_id;
	/** Private: the heartbeat interval in force, in milliseconds. */
	uint32_t heartbeat_interval_ms;
	/** Private: the largest frame the gateway accepts, capped at ours. */
	uint32_t send_max_frame_len;
	/** Private: reconnect attempts since the last established session. */
	uint32_t failures;
	/** Private: true between HELLO_ACK and the end of the session. */
	bool established;
	/** Private: uptime at HELLO_ACK, in milliseconds. */
	int64_t established_at;
	/** Private: true once a send failed; the stream may hold part of a frame. */
	bool broken;
	/** Private: true inside gateway_client_session(), after connect() succeeded. */
	bool connected;
	/** Private: bytes in rx. */
	size_t rx_len;
	/** Private: received bytes not yet decoded. */
	uint8_t rx[WASMBED_FRAME_PREFIX_LEN + GATEWAY_CLIENT_MAX_FRAME_LEN];
	/** Private: the frame being sent. */
	uint8_t tx[WASMBED_FRAME_PREFIX_LEN + GATEWAY_CLIENT_MAX_FRAME_LEN];
};

/**
 * @brief Check the configuration and prepare a client.
 *
 * @retval 0 Ready.
 * @retval -1 A NULL pointer, an io function missing, a device id or firmware version that
 *         HELLO cannot carry (docs/protocol.md), or a zero interval, timeout or backoff, or
 *         backoff_min_ms above backoff_max_ms. The reason is logged through io->log when
 *         io->log is set.
 */
int gateway_client_init(struct gateway_client *client, const struct gateway_client_config *cfg,
			const struct gateway_client_io *io);

/**
 * @brief Run one session to its end: connect, HELLO, then serve frames until the session ends.
 *
 * Logs "Connecting to gateway with TLS: <host>:<port>" before connecting and "Connected to
 * gateway via TLS" after, then one line for the end. The stream is closed on return.
 *
 * @return Why the session ended, one of enum gateway_client_end.
 */
int gateway_client_session(struct gateway_client *client,
			   const struct wasmbed_endpoint *endpoint);

/**
 * @brief Keep a session with the gateway forever: gateway_client_session(), then wait
 * gateway_client_next_delay_ms() and start again. Never returns.
 */
void gateway_client_run(struct gateway_client *client, const struct wasmbed_endpoint *endpoint);

/**
 * @brief The delay before the next reconnect attempt, and count the attempt.
 *
 * wasmbed_backoff_delay_ms() with n attempts since the last stable session and io->random:
 * cap = min(backoff_max_ms, backoff_min_ms * 2^n) and the delay is cap/2 plus a random part in
 * [0, cap - cap/2] ("equal jitter"). A session
 * counts as stable once it has lasted a heartbeat interval and the gateway answered a
 * heartbeat; that resets n to 0, so the first retry after a drop waits between
 * backoff_min_ms/2 and backoff_min_ms. A session the gateway accepts and then ends at once
 * (GOODBYE, ERROR, a protocol error) does not reset it, so such loops slow down; GOODBYE
 * "taken over" (another device with the same id) and GOODBYE "credentials revoked" (the gateway
 * no longer accepts the device certificate) wait backoff_max_ms at once.
 *
 * @return The delay in milliseconds, in [cap/2, cap].
 */
uint32_t gateway_client_next_delay_ms(struct gateway_client *client);

/**
 * @brief Send application bytes to the gateway as one DATA frame.
 *
 * Only while a session is established (for example from on_established or on_data).
 *
 * @retval 0 Sent.
 * @retval -1 No established session, the payload does not fit the gateway's max_frame_len, or
 *         sending failed (logged).
 */
int gateway_client_send_data(struct gateway_client *client, const uint8_t *data, size_t len);

/** @brief The counters. */
const struct gateway_client_stats *gateway_client_stats(const struct gateway_client *client);

/**
 * @brief Describe a session end for log lines.
 *
 * @return A static NUL-terminated phrase; "unknown" for values not in enum gateway_client_end.
 */
const char *gateway_client_end_str(int end);

#ifdef __cplusplus
}
#endif

#endif /* GATEWAY_CLIENT_H_ */

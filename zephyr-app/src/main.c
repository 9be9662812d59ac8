/*
 * wasmbed device firmware: read the gateway endpoint from the RAM mailbox, then keep one TLS
 * session with the gateway for ever.
 *
 * The mailbox is the devicetree node labelled gw_mailbox (a zephyr,memory-region, NOLOAD,
 * see boards/<board>.overlay); the Renode script writes it before the firmware runs
 * (docs/endpoint.md, "RAM mailbox"). The sample application on top of the session sends one
 * DATA frame when the gateway accepts it and answers every DATA from the gateway with a DATA
 * carrying the same bytes.
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <zephyr/devicetree.h>
#include <zephyr/kernel.h>
#include <zephyr/linker/devicetree_regions.h>
#include <zephyr/logging/log.h>
#include <zephyr/random/random.h>

#include "gateway_client.h"
#include "network_handler.h"
#include "wasmbed_endpoint.h"

LOG_MODULE_REGISTER(wasmbed, CONFIG_LOG_DEFAULT_LEVEL);

#define MAILBOX_NODE DT_NODELABEL(gw_mailbox)

#if !DT_NODE_EXISTS(MAILBOX_NODE)
#error "No gw_mailbox devicetree node: add boards/<board>.overlay declaring the mailbox memory region (see boards/sam_e70_xplained_same70q21.overlay)"
#endif

#if defined(CONFIG_WASMBED_TLS_VERIFY_REQUIRED)
#define TLS_MODE_TEXT "required (production)"
#else
#define TLS_MODE_TEXT "none (development)"
#endif

/*
 * Fill the mailbox's linker section. Zephyr sizes a zephyr,memory-region section by what is
 * placed in it, so without this the ELF's __GWMAILBOX_start/_size would describe an empty
 * region and `wasmbed-gateway renode script --elf` could not place the endpoint. The largest
 * mailbox image fits; a region smaller than that fails the link ("region GWMAILBOX
 * overflowed"). The section is NOLOAD: start-up code does not clear it and LoadELF does not
 * write it. Never used through this name: read_mailbox() reads the region at DT_REG_ADDR.
 */
static uint8_t mailbox_reservation[WASMBED_MAILBOX_MAX_LEN]
	__attribute__((section(LINKER_DT_NODE_REGION_NAME(MAILBOX_NODE)), used));

/* Longest log line the session state machine produces, NUL included. */
#define CLIENT_LOG_LINE_MAX 256

/* Static: both are too large for the main thread's stack. */
static struct wasmbed_endpoint endpoint;
static struct gateway_client client;

static uint32_t read_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
	       ((uint32_t)p[3] << 24);
}

/* Read and parse the mailbox; 0, or -EINVAL after logging exactly what is wrong. */
static int read_mailbox(void)
{
	const volatile uint8_t *mailbox =
		(const volatile uint8_t *)(uintptr_t)DT_REG_ADDR(MAILBOX_NODE);
	const size_t region = (size_t)DT_REG_SIZE(MAILBOX_NODE);
	uint8_t image[WASMBED_MAILBOX_MAX_LEN];
	char text[WASMBED_ENDPOINT_MAX_LEN + 1];
	size_t len = region < sizeof(image) ? region : sizeof(image);
	size_t offset = 0;
	uint32_t declared = 0;
	size_t i;
	int ret;

	/* One copy with volatile reads: the emulator wrote this memory, not the program. */
	for (i = 0; i < len; i++) {
		image[i] = mailbox[i];
	}
	if (len >= WASMBED_MAILBOX_HEADER_LEN) {
		declared = read_le32(image);
	}
	LOG_DBG("Gateway endpoint mailbox at 0x%08lx, %u bytes", (unsigned long)(uintptr_t)mailbox,
		(unsigned int)region);

	ret = wasmbed_mailbox_read(image, len, &endpoint, &offset);
	switch (-ret) {
	case 0:
		LOG_INF("Read gateway endpoint from memory: %s (length: %u)", endpoint.text,
			(unsigned int)endpoint.text_len);
		return 0;
	case WASMBED_ENDPOINT_EMAILBOX_EMPTY:
		LOG_ERR("Gateway endpoint mailbox at 0x%08lx is empty (length word 0): the Renode "
			"script must write the endpoint before the firmware starts "
			"(wasmbed-gateway endpoint encode HOST:PORT prints the lines)",
			(unsigned long)(uintptr_t)mailbox);
		break;
	case WASMBED_ENDPOINT_EMAILBOX_LENGTH_OUT_OF_RANGE:
		LOG_ERR("Gateway endpoint mailbox at 0x%08lx declares %u bytes, above the %d-byte "
			"maximum: the memory holds no endpoint written by wasmbed (wrong base "
			"address in the Renode script?)",
			(unsigned long)(uintptr_t)mailbox, (unsigned int)declared,
			WASMBED_ENDPOINT_MAX_LEN);
		break;
	case WASMBED_ENDPOINT_EMAILBOX_TRUNCATED:
		if (len < WASMBED_MAILBOX_HEADER_LEN) {
			LOG_ERR("Gateway endpoint mailbox at 0x%08lx is %u bytes, smaller than its "
				"%d-byte length word: fix the gw_mailbox size in the board overlay",
				(unsigned long)(uintptr_t)mailbox, (unsigned int)region,
				WASMBED_MAILBOX_HEADER_LEN);
			break;
		}
		LOG_ERR("Gateway endpoint mailbox at 0x%08lx declares %u bytes but the region holds "
			"only %u: the image needs %u bytes",
			(unsigned long)(uintptr_t)mailbox, (unsigned int)declared,
			(unsigned int)region, (unsigned int)offset);
		break;
	case WASMBED_ENDPOINT_EMAILBOX_NON_PRINTABLE:
		LOG_ERR("Gateway endpoint mailbox at 0x%08lx: byte 0x%02x at text offset %u is not "
			"printable ASCII (0x21-0x7e): the memory holds no endpoint text",
			(unsigned long)(uintptr_t)mailbox,
			(unsigned int)image[WASMBED_MAILBOX_HEADER_LEN + offset], (unsigned int)offset);
		break;
	default:
		/* A parse error: the length and bytes are valid, so the text can be shown. */
		if (declared > WASMBED_ENDPOINT_MAX_LEN || declared > len - WASMBED_MAILBOX_HEADER_LEN) {
			declared = 0;
		}
		memcpy(text, image + WASMBED_MAILBOX_HEADER_LEN, declared);
		text[declared] = '\0';
		LOG_ERR("Gateway endpoint \"%s\" from the mailbox at 0x%08lx is invalid at byte %u: "
			"%s (expected HOST:PORT, e.g. 10.42.0.12:8081)",
			text, (unsigned long)(uintptr_t)mailbox, (unsigned int)offset,
			wasmbed_endpoint_strerror(ret));
		break;
	}
	return -EINVAL;
}

/* --- struct gateway_client_io over Zephyr --------------------------------------------- */

static int io_connect(void *ctx, const struct wasmbed_endpoint *ep)
{
	(void)ctx;
	return network_connect(ep);
}

static int io_send(void *ctx, const uint8_t *buf, size_t len, int32_t timeout_ms)
{
	int n;

	(void)ctx;
	n = network_send(buf, len, timeout_ms);
	if (n == -EAGAIN) {
		return GATEWAY_CLIENT_IO_TIMEOUT;
	}
	return n > 0 ? n : GATEWAY_CLIENT_IO_ERROR;
}

static int io_recv(void *ctx, uint8_t *buf, size_t cap, int32_t timeout_ms)
{
	int n;

	(void)ctx;
	n = network_recv(buf, cap, timeout_ms);
	if (n == -EAGAIN) {
		return GATEWAY_CLIENT_IO_TIMEOUT;
	}
	if (n == 0) {
		return GATEWAY_CLIENT_IO_CLOSED;
	}
	return n > 0 ? n : GATEWAY_CLIENT_IO_ERROR;
}

static void io_close(void *ctx)
{
	(void)ctx;
	network_close();
}

static int64_t io_uptime_ms(void *ctx)
{
	(void)ctx;
	return k_uptime_get();
}

static void io_sleep_ms(void *ctx, int32_t ms)
{
	(void)ctx;
	(void)k_msleep(ms);
}

static uint32_t io_random(void *ctx)
{
	(void)ctx;
	return sys_rand32_get();
}

static void io_log(void *ctx, int level, const char *fmt, ...)
{
	char line[CLIENT_LOG_LINE_MAX];
	va_list args;
	int ret;

	(void)ctx;
	va_start(args, fmt);
	ret = vsnprintf(line, sizeof(line), fmt, args);
	va_end(args);
	if (ret < 0) {
		LOG_ERR("Cannot format a log line (%s)", fmt);
		return;
	}
	switch (level) {
	case GATEWAY_CLIENT_LOG_ERR:
		LOG_ERR("%s", line);
		break;
	case GATEWAY_CLIENT_LOG_WRN:
		LOG_WRN("%s", line);
		break;
	case GATEWAY_CLIENT_LOG_INF:
		LOG_INF("%s", line);
		break;
	default:
		LOG_DBG("%s", line);
		break;
	}
}

/* The sample application: say hello once the gateway accepts the session. */
static void on_established(void *ctx)
{
	char status[128];
	int len;

	(void)ctx;
	len = snprintf(status, sizeof(status), "device %s up: firmware %s, uptime %lld ms",
		       CONFIG_WASMBED_DEVICE_ID, CONFIG_WASMBED_FIRMWARE_VERSION,
		       (long long)k_uptime_get());
	if (len < 0) {
		LOG_ERR("Cannot format the status DATA");
		return;
	}
	if ((size_t)len >= sizeof(status)) {
		len = (int)sizeof(status) - 1;
	}
	if (gateway_client_send_data(&client, (const uint8_t *)status, (size_t)len) != 0) {
		LOG_WRN("Status DATA not sent");
	}
}

/* The sample application: answer every DATA with the same bytes. */
static void on_data(void *ctx, const uint8_t *data, size_t len)
{
	(void)ctx;
	if (gateway_client_send_data(&client, data, len) != 0) {
		LOG_WRN("DATA (%u bytes) not returned to the gateway", (unsigned int)len);
	}
}

int main(void)
{
	struct gateway_client_config cfg;
	struct gateway_client_io io;
	int ret;

	LOG_INF("wasmbed device firmware %s: device id \"%s\", TLS peer verification %s",
		CONFIG_WASMBED_FIRMWARE_VERSION, CONFIG_WASMBED_DEVICE_ID, TLS_MODE_TEXT);

	ret = read_mailbox();
	if (ret != 0) {
		LOG_ERR("Not connecting: no usable gateway endpoint");
		return ret;
	}

	ret = network_credentials_init();
	if (ret != 0) {
		LOG_ERR("Not connecting: the TLS credentials could not be registered");
		return ret;
	}

	memset(&cfg, 0, sizeof(cfg));
	cfg.device_id = CONFIG_WASMBED_DEVICE_ID;
	cfg.firmware_version = CONFIG_WASMBED_FIRMWARE_VERSION;
	cfg.heartbeat_interval_s = (uint32_t)CONFIG_WASMBED_HEARTBEAT_INTERVAL_SEC;
	cfg.hello_timeout_ms = (uint32_t)CONFIG_WASMBED_HELLO_TIMEOUT_MS;
	cfg.send_timeout_ms = (uint32_t)CONFIG_WASMBED_SEND_TIMEOUT_MS;
	cfg.backoff_min_ms = (uint32_t)CONFIG_WASMBED_RECONNECT_BACKOFF_MIN_MS;
	cfg.backoff_max_ms = (uint32_t)CONFIG_WASMBED_RECONNECT_BACKOFF_MAX_MS;

	memset(&io, 0, sizeof(io));
	io.connect = io_connect;
	io.send = io_send;
	io.recv = io_recv;
	io.close = io_close;
	io.uptime_ms = io_uptime_ms;
	io.sleep_ms = io_sleep_ms;
	io.random = io_random;
	io.log = io_log;
	io.on_established = on_established;
	io.on_data = on_data;

	ret = gateway_client_init(&client, &cfg, &io);
	if (ret != 0) {
		LOG_ERR("Not connecting: invalid gateway client configuration");
		return -EINVAL;
	}

	gateway_client_run(&client, &endpoint);
	return 0;
}

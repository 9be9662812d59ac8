/*
 * Host port: kernel timing, randomness and logging.
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <zephyr/kernel.h>
#include <zephyr/logging/log.h>
#include <zephyr/random/random.h>

#include "wasmbed_host.h"
#include "wasmbed_host_defaults.h"

/* Boot time: the first call of any timing function (wasmbed-device calls k_uptime_get()
 * before main()). */
static struct timespec boot;
static int booted;

static int64_t monotonic_ms(const struct timespec *t)
{
	return (int64_t)t->tv_sec * 1000 + (int64_t)(t->tv_nsec / 1000000);
}

int64_t k_uptime_get(void)
{
	struct timespec now;

	if (clock_gettime(CLOCK_MONOTONIC, &now) != 0) {
		return 0;
	}
	if (!booted) {
		boot = now;
		booted = 1;
	}
	return monotonic_ms(&now) - monotonic_ms(&boot);
}

uint32_t k_uptime_get_32(void)
{
	return (uint32_t)((uint64_t)k_uptime_get() & 0xffffffffu);
}

static void sleep_ms(int64_t ms)
{
	struct timespec req;
	struct timespec rem;

	req.tv_sec = (time_t)(ms / 1000);
	req.tv_nsec = (long)((ms % 1000) * 1000000);
	while (nanosleep(&req, &rem) != 0 && errno == EINTR) {
		req = rem;
	}
}

int32_t k_sleep(k_timeout_t timeout)
{
	if (timeout.ms < 0) {
		for (;;) {
			sleep_ms(3600000);
		}
	}
	sleep_ms(timeout.ms);
	return 0;
}

int32_t k_msleep(int32_t ms)
{
	if (ms > 0) {
		sleep_ms(ms);
	}
	return 0;
}

uint32_t sys_rand32_get(void)
{
	uint32_t value = 0;
	ssize_t n;

	do {
		n = getrandom(&value, sizeof(value), 0);
	} while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(value)) {
		/* getrandom() on a 4-byte request does not fail once the pool is initialised;
		 * fall back to the clock rather than stop the device. */
		return (uint32_t)k_uptime_get() * 2654435761u;
	}
	return value;
}

static const char *level_tag(int level)
{
	switch (level) {
	case LOG_LEVEL_ERR:
		return "err";
	case LOG_LEVEL_WRN:
		return "wrn";
	case LOG_LEVEL_INF:
		return "inf";
	default:
		return "dbg";
	}
}

void wasmbed_host_log(const char *module, int max_level, int level, const char *fmt, ...)
{
	char line[WASMBED_HOST_LOG_LINE_MAX];
	va_list args;
	int64_t ms;
	int ret;

	if (level > max_level) {
		return;
	}
	va_start(args, fmt);
	ret = vsnprintf(line, sizeof(line), fmt, args);
	va_end(args);
	if (ret < 0) {
		(void)snprintf(line, sizeof(line), "(unformattable log message: %s)", fmt);
	}
	ms = k_uptime_get();
	/* Zephyr's default log format (LOG_BACKEND_UART with timestamps). */
	(void)printf("[%02d:%02d:%02d.%03d,000] <%s> %s: %s\n", (int)(ms / 3600000 % 100),
		     (int)(ms / 60000 % 60), (int)(ms / 1000 % 60), (int)(ms % 1000),
		     level_tag(level), module, line);
	(void)fflush(stdout);
}

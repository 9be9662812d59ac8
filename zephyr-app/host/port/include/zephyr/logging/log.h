/*
 * Host port of <zephyr/logging/log.h>: LOG_MODULE_REGISTER/DECLARE and LOG_ERR/WRN/INF/DBG.
 *
 * Lines go to standard output (the device's UART) in Zephyr's default format:
 * "[hh:mm:ss.mmm,uuu] <inf> module: message". A message is printed when its level is at or
 * below the module's level (Zephyr: "Logging", "Module registration").
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#ifndef WASMBED_HOST_ZEPHYR_LOGGING_LOG_H_
#define WASMBED_HOST_ZEPHYR_LOGGING_LOG_H_

/** @brief Level numbers, as in Zephyr. */
#define LOG_LEVEL_NONE 0
/** @brief Errors. */
#define LOG_LEVEL_ERR 1
/** @brief Warnings. */
#define LOG_LEVEL_WRN 2
/** @brief Information. */
#define LOG_LEVEL_INF 3
/** @brief Debugging. */
#define LOG_LEVEL_DBG 4

/**
 * @brief Print one log line if level <= max_level.
 *
 * @param module    Module name, as registered.
 * @param max_level The module's level.
 * @param level     LOG_LEVEL_ERR .. LOG_LEVEL_DBG.
 * @param fmt       printf-style format.
 */
void wasmbed_host_log(const char *module, int max_level, int level, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/** @brief Register a log module in this file, at the given level. */
#define LOG_MODULE_REGISTER(name, level)                                                           \
	static const char wasmbed_host_log_module[] __attribute__((unused)) = #name;               \
	static const int wasmbed_host_log_level __attribute__((unused)) = (level)

/** @brief Use a module registered in another file (level: that of this file). */
#define LOG_MODULE_DECLARE(name, level) LOG_MODULE_REGISTER(name, level)

/** @brief Log an error. */
#define LOG_ERR(...)                                                                               \
	wasmbed_host_log(wasmbed_host_log_module, wasmbed_host_log_level, LOG_LEVEL_ERR, __VA_ARGS__)
/** @brief Log a warning. */
#define LOG_WRN(...)                                                                               \
	wasmbed_host_log(wasmbed_host_log_module, wasmbed_host_log_level, LOG_LEVEL_WRN, __VA_ARGS__)
/** @brief Log information. */
#define LOG_INF(...)                                                                               \
	wasmbed_host_log(wasmbed_host_log_module, wasmbed_host_log_level, LOG_LEVEL_INF, __VA_ARGS__)
/** @brief Log a debugging message. */
#define LOG_DBG(...)                                                                               \
	wasmbed_host_log(wasmbed_host_log_module, wasmbed_host_log_level, LOG_LEVEL_DBG, __VA_ARGS__)

#endif /* WASMBED_HOST_ZEPHYR_LOGGING_LOG_H_ */

/*
 * Host port: the run-time values of the Kconfig options wasmbed-device lets a run override.
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#include "wasmbed_host.h"
#include "wasmbed_host_defaults.h"

struct wasmbed_host_kconfig wasmbed_host_kconfig = {
	WASMBED_HOST_DEFAULT_WASMBED_DEVICE_ID,
	WASMBED_HOST_DEFAULT_WASMBED_FIRMWARE_VERSION,
	WASMBED_HOST_DEFAULT_WASMBED_HEARTBEAT_INTERVAL_SEC,
	WASMBED_HOST_DEFAULT_WASMBED_HELLO_TIMEOUT_MS,
	WASMBED_HOST_DEFAULT_WASMBED_SEND_TIMEOUT_MS,
	WASMBED_HOST_DEFAULT_WASMBED_RECONNECT_BACKOFF_MIN_MS,
	WASMBED_HOST_DEFAULT_WASMBED_RECONNECT_BACKOFF_MAX_MS,
};

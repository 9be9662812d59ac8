/*
 * The host port's own interface, for the wasmbed-device runner (zephyr-app/host/src/device.rs).
 * Firmware code never includes this.
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#ifndef WASMBED_HOST_H_
#define WASMBED_HOST_H_

#include <stddef.h>
#include <stdint.h>

/**
 * @brief Map the mailbox region at its device address and fill it.
 *
 * Maps the pages covering [addr, addr + size) (MAP_FIXED_NOREPLACE, so nothing already mapped
 * is replaced), then copies image[0..size) to addr. The gw_mailbox devicetree node then names
 * this region.
 *
 * @retval 0 Mapped.
 * @retval -errno mmap(2) failed (for example EEXIST: the address is in use in this process).
 */
int wasmbed_host_mailbox_map(uintptr_t addr, size_t size, const uint8_t *image);

/** @brief Run-time values of the Kconfig options the host build lets a run override. */
struct wasmbed_host_kconfig {
	/** CONFIG_WASMBED_DEVICE_ID. */
	const char *device_id;
	/** CONFIG_WASMBED_FIRMWARE_VERSION. */
	const char *firmware_version;
	/** CONFIG_WASMBED_HEARTBEAT_INTERVAL_SEC. */
	int heartbeat_interval_sec;
	/** CONFIG_WASMBED_HELLO_TIMEOUT_MS. */
	int hello_timeout_ms;
	/** CONFIG_WASMBED_SEND_TIMEOUT_MS. */
	int send_timeout_ms;
	/** CONFIG_WASMBED_RECONNECT_BACKOFF_MIN_MS. */
	int backoff_min_ms;
	/** CONFIG_WASMBED_RECONNECT_BACKOFF_MAX_MS. */
	int backoff_max_ms;
};

/** @brief The values in force; initialised from Kconfig defaults and prj.conf at build time. */
extern struct wasmbed_host_kconfig wasmbed_host_kconfig;

/** @brief Set the production images' CA certificate (DER, kept by reference). */
void wasmbed_host_set_ca(const unsigned char *der, size_t len);

/** @brief Set the mTLS image's certificate and PKCS #8 key (DER, kept by reference). */
void wasmbed_host_set_device_credentials(const unsigned char *cert, size_t cert_len,
					 const unsigned char *key, size_t key_len);

/** @brief CONFIG_MBEDTLS_SSL_MAX_CONTENT_LEN, the TLS record buffer size the port enforces. */
size_t wasmbed_host_max_content_len(void);

/** @brief The development image's main() (CONFIG_WASMBED_TLS_VERIFY_NONE). */
int wasmbed_image_development_main(void);

/** @brief The production image's main() (CONFIG_WASMBED_TLS_VERIFY_REQUIRED). */
int wasmbed_image_production_main(void);

/** @brief The mTLS image's main() (production plus CONFIG_WASMBED_DEVICE_CERT). */
int wasmbed_image_production_mtls_main(void);

#endif /* WASMBED_HOST_H_ */

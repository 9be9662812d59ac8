/*
 * Host port of <zephyr/devicetree.h>: the nodes and macros the wasmbed firmware uses.
 *
 * On Zephyr these expand to constants generated from the board's devicetree. Here the one
 * node the firmware reads, gw_mailbox (the endpoint mailbox, boards/<board>.overlay), expands
 * to the region that wasmbed-device mapped before it called main(): its --board or
 * --mailbox-base/--mailbox-size options choose it. The macro spelling is Zephyr's
 * (DT_NODELABEL, DT_NODE_EXISTS, DT_REG_ADDR, DT_REG_SIZE), so firmware code is unchanged.
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#ifndef WASMBED_HOST_ZEPHYR_DEVICETREE_H_
#define WASMBED_HOST_ZEPHYR_DEVICETREE_H_

#include <stddef.h>
#include <stdint.h>

/** @brief A memory region: base address and size in bytes. */
struct wasmbed_host_dt_region {
	/** Base address. */
	uintptr_t addr;
	/** Size in bytes. */
	size_t size;
};

/** @brief The gw_mailbox region, set by wasmbed_host_mailbox_map(). */
extern struct wasmbed_host_dt_region wasmbed_host_dt_gw_mailbox;

/** @brief Paste two tokens after expanding them. */
#define DT_CAT(a, b) DT_CAT_I(a, b)
/** @brief Paste two tokens. */
#define DT_CAT_I(a, b) a##b

/** @brief The node with a label (Zephyr: DT_NODELABEL). */
#define DT_NODELABEL(label) DT_CAT(DT_N_NODELABEL_, label)
/** @brief 1 if the node exists, else 0; usable in #if (Zephyr: DT_NODE_EXISTS). */
#define DT_NODE_EXISTS(node) DT_CAT(node, _EXISTS)
/** @brief The node's base address (Zephyr: DT_REG_ADDR). */
#define DT_REG_ADDR(node) DT_CAT(node, _REG_ADDR)
/** @brief The node's size in bytes (Zephyr: DT_REG_SIZE). */
#define DT_REG_SIZE(node) DT_CAT(node, _REG_SIZE)

/* The gw_mailbox node. */
#define DT_N_NODELABEL_gw_mailbox DT_N_S_gw_mailbox
#define DT_N_S_gw_mailbox_EXISTS 1
#define DT_N_S_gw_mailbox_REG_ADDR (wasmbed_host_dt_gw_mailbox.addr)
#define DT_N_S_gw_mailbox_REG_SIZE (wasmbed_host_dt_gw_mailbox.size)
#define DT_N_S_gw_mailbox_REGION_NAME "GWMAILBOX"

#endif /* WASMBED_HOST_ZEPHYR_DEVICETREE_H_ */

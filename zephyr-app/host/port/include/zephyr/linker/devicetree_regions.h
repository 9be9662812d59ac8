/*
 * Host port of <zephyr/linker/devicetree_regions.h>: the linker region name of a devicetree
 * memory-region node (its zephyr,memory-region property), for section attributes.
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#ifndef WASMBED_HOST_ZEPHYR_LINKER_DEVICETREE_REGIONS_H_
#define WASMBED_HOST_ZEPHYR_LINKER_DEVICETREE_REGIONS_H_

#include <zephyr/devicetree.h>

/** @brief The node's zephyr,memory-region name as a string, e.g. "GWMAILBOX". */
#define LINKER_DT_NODE_REGION_NAME(node) DT_CAT(node, _REGION_NAME)

#endif /* WASMBED_HOST_ZEPHYR_LINKER_DEVICETREE_REGIONS_H_ */

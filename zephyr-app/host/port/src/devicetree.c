/*
 * Host port: the gw_mailbox devicetree region, mapped at its device address.
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <zephyr/devicetree.h>

#include "wasmbed_host.h"

struct wasmbed_host_dt_region wasmbed_host_dt_gw_mailbox;

int wasmbed_host_mailbox_map(uintptr_t addr, size_t size, const uint8_t *image)
{
	long page_size = sysconf(_SC_PAGESIZE);
	uintptr_t page;
	uintptr_t start;
	uintptr_t end;
	void *mapped;

	if (page_size <= 0 || size == 0 || image == NULL || addr > UINTPTR_MAX - size) {
		return -EINVAL;
	}
	page = (uintptr_t)page_size;
	start = addr - addr % page;
	end = addr + size;
	if (end % page != 0) {
		if (end > UINTPTR_MAX - page) {
			return -EINVAL;
		}
		end += page - end % page;
	}
	mapped = mmap((void *)start, end - start, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (mapped == MAP_FAILED) {
		return -errno;
	}
	if ((uintptr_t)mapped != start) {
		/* A kernel older than 4.17 ignores MAP_FIXED_NOREPLACE and may map elsewhere. */
		(void)munmap(mapped, end - start);
		return -EEXIST;
	}
	memcpy((void *)addr, image, size);
	wasmbed_host_dt_gw_mailbox.addr = addr;
	wasmbed_host_dt_gw_mailbox.size = size;
	return 0;
}

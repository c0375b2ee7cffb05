/*
 * kernel/boot.h — what boot (kernel/boot.cpp) knows after it handed the
 * board's memory map to mm, for the tests, the workload and the report.
 */
#ifndef KMM_KERNEL_BOOT_H
#define KMM_KERNEL_BOOT_H

#include <stddef.h>
#include <stdint.h>

#include <kernel/board.h>

#define KMM_BOOT_MAX_REGIONS 8

struct kmm_boot_info {
	struct kmm_board_region regions[KMM_BOOT_MAX_REGIONS];
	size_t nr_regions;
	size_t zone_bytes[2];   /* bytes given to KMM_ZONE_NORMAL, KMM_ZONE_DMA */
	uint64_t counter_at_boot;
	/* Slab layer at boot: pages its own metadata took (the kmem_cache
	 * structs of the kmalloc caches, from its boot cache), and how many
	 * caches it started with. */
	size_t slab_boot_bytes;
	unsigned int slab_boot_caches;
};

extern struct kmm_boot_info boot_info;

/* The end-of-boot report: pages, buddyinfo, slabinfo, slab path counters,
 * misuse/OOM counts, mm footprint, stack use, counter (kernel/report.cpp).
 * Returns the problems validate() of both layers finds at the end, plus
 * one if the stack reached its end (its lowest word was written). */
unsigned long report_print(void);
/* Fills the stack below the current frame with a pattern, so report_print
 * can tell how deep it ever got. */
void stack_paint(void);

#endif /* KMM_KERNEL_BOOT_H */

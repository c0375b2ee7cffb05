/*
 * kernel/workload.h — the demo workload: a seeded random mix of allocations
 * and frees of varied sizes, held in a fixed table of live blocks, driven
 * through every registered backend. Each live block carries a stamp (its
 * slot and generation) at the start of every page and in its last word;
 * the stamp is checked before the free, so overlapping or corrupted blocks
 * show up. kmm_validate() runs every KMM_WORKLOAD_VALIDATE_EVERY ops and at
 * the end of each backend, after everything was freed and the free page
 * count must be back to its start.
 *
 * A backend is one way to get memory: the page allocator (pages, exact,
 * DMA) today; kmalloc and kmem_cache backends register themselves the same
 * way when mm/ grows them (one file each, KMM_WORKLOAD_BACKEND). Backends
 * run in the order of their ids.
 */
#ifndef KMM_KERNEL_WORKLOAD_H
#define KMM_KERNEL_WORKLOAD_H

#include <stddef.h>
#include <stdint.h>

#ifndef KMM_WORKLOAD_OPS
#define KMM_WORKLOAD_OPS 4000u       /* alloc-or-free steps per backend */
#endif
#ifndef KMM_WORKLOAD_SLOTS
#define KMM_WORKLOAD_SLOTS 64u       /* live blocks at most */
#endif
#ifndef KMM_WORKLOAD_VALIDATE_EVERY
#define KMM_WORKLOAD_VALIDATE_EVERY 500u
#endif
#ifndef KMM_WORKLOAD_SEED
#define KMM_WORKLOAD_SEED 0x6b6d6d31u /* "kmm1" */
#endif

struct kmm_workload_backend {
	const char *name;
	/* Largest request in bytes; 0 = not available on this board. */
	size_t (*max_size)(void);
	/* Smallest request in bytes (sizes are drawn in [min, max]). */
	size_t min_size;
	void *(*alloc)(size_t size);
	void (*free)(void *block, size_t size);
};

#define KMM_WORKLOAD_BACKEND(id, ...)                                                            \
	__attribute__((used, section(".kmm_workloads." #id))) const struct kmm_workload_backend \
		kmm_workload_backend_##id = __VA_ARGS__

/* Figures of one backend's run. */
struct kmm_workload_stats {
	unsigned long allocs, frees, failures; /* failures: NULL returns (memory full) */
	unsigned long problems;                /* stamp mismatches, validate, leaks */
	size_t peak_live_bytes;
	uint64_t alloc_ticks, free_ticks;      /* kmm_arch_counter() sums */
	uint64_t alloc_ticks_max, free_ticks_max;
};

/* Runs every available backend with the same seed; prints one result line
 * per backend and returns the number of problems found (0 = all good). */
unsigned long workload_run_all(uint32_t seed);

#endif /* KMM_KERNEL_WORKLOAD_H */

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
 * DMA: workload_pages.cpp), kmalloc and a kmem_cache (workload_slab.cpp),
 * one file per family, registered with KMM_WORKLOAD_BACKEND. A backend may
 * instead bring a scenario of its own (`run`): the firmware-like mix of
 * workload_firmware.cpp. Backends run in the order of their ids. After
 * each, every cache is shrunk and the free page count must be back where
 * it started; kmm_validate() and kmm_slab_validate() run along the way.
 */
#ifndef KMM_KERNEL_WORKLOAD_H
#define KMM_KERNEL_WORKLOAD_H

#include <stddef.h>
#include <stdint.h>

#include <kmm/gfp.h>

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

struct kmm_workload_stats;

struct kmm_workload_backend {
	const char *name;
	/* Largest request in bytes; 0 = not available on this board. */
	size_t (*max_size)(void);
	/* Smallest request in bytes (sizes are drawn in [min, max]). */
	size_t min_size;
	void *(*alloc)(size_t size);
	void (*free)(void *block, size_t size);
	/* A scenario with its own loop instead of the slot mix (alloc, free
	 * and min_size unused; max_size() 0 still skips it): fills *st. */
	void (*run)(uint32_t seed, struct kmm_workload_stats *st);
	/* Optional: after the result line of a run with failures, says why
	 * they are expected (e.g. a zone smaller than the slots can ask for). */
	void (*explain_failures)(const struct kmm_workload_stats *st);
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

/* A backend that belongs on this board could not be set up (e.g. its
 * kmem_cache_create failed): prints why, and workload_run_all counts it
 * as a problem (a skip would hide it). */
void workload_setup_failed(const char *who, const char *what);

/* Both layers' validate(); adds what it finds to st->problems (with a
 * line naming `who` and `op`). For scenarios too. */
void workload_validate(const char *who, struct kmm_workload_stats *st, unsigned long op);

/* How many blocks of `order` alloc_pages(gfp) hands out at once right now,
 * counting up to `limit`: allocates them (no OOM hook, no warning), then
 * frees them all. How a backend sizes its use to the board's zones. */
size_t workload_blocks_available(gfp_t gfp, unsigned int order, size_t limit);

/* xorshift32: tiny, seedable, good enough to pick slots and sizes. */
struct kmm_workload_rng {
	uint32_t state;
	uint32_t next()
	{
		state ^= state << 13;
		state ^= state >> 17;
		state ^= state << 5;
		return state;
	}
	uint32_t below(uint32_t n) { return n != 0 ? next() % n : 0; }
};

/* Runs every available backend with the same seed; prints one result line
 * per backend and returns the number of problems found (0 = all good). */
unsigned long workload_run_all(uint32_t seed);

#endif /* KMM_KERNEL_WORKLOAD_H */

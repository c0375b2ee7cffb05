/*
 * kmm/config.h — every build-time knob of kmm with its documented default.
 *
 * Boards and builds override a knob by defining it before this header is seen
 * (in CMake: target_compile_definitions(kmm_mm PUBLIC KMM_PAGE_SHIFT=8)).
 * This header is valid C and C++ and uses no library header.
 */
#ifndef KMM_CONFIG_H
#define KMM_CONFIG_H

/* Page size is 1 << KMM_PAGE_SHIFT bytes: 256 B (8) … 64 KiB (16).
 * Small MCUs want 256 B–1 KiB pages; 4 KiB pages waste a 64 KiB part. */
#ifndef KMM_PAGE_SHIFT
#define KMM_PAGE_SHIFT 12
#endif
#if KMM_PAGE_SHIFT < 8 || KMM_PAGE_SHIFT > 16
#error "KMM_PAGE_SHIFT must be 8 (256 B) ... 16 (64 KiB)"
#endif
#define KMM_PAGE_SIZE (1UL << KMM_PAGE_SHIFT)

/* Largest buddy order, inclusive (Linux >= 6.4 calls this MAX_PAGE_ORDER):
 * blocks of 2^0 … 2^KMM_MAX_ORDER pages. */
#ifndef KMM_MAX_ORDER
#define KMM_MAX_ORDER 10
#endif
#if KMM_MAX_ORDER < 0 || KMM_MAX_ORDER > 20
#error "KMM_MAX_ORDER must be 0 ... 20"
#endif
#define KMM_NR_ORDERS (KMM_MAX_ORDER + 1)

/* Physical RAM regions kmm_add_region() accepts, and reserved ranges
 * kmm_reserve() accepts (fixed tables: kmm never allocates its own bookkeeping). */
#ifndef KMM_MAX_REGIONS
#define KMM_MAX_REGIONS 8
#endif
#ifndef KMM_MAX_RESERVED
#define KMM_MAX_RESERVED 16
#endif

/* CPUs with per-CPU data (slab fast path, per-CPU page lists). */
#ifndef KMM_NR_CPUS
#define KMM_NR_CPUS 1
#endif

/* Per-CPU page lists (Linux pcp): orders 0 … KMM_PCP_MAX_ORDER are freed to
 * and allocated from a short per-CPU list without the zone lock. A list of
 * order o holds at most max(1, KMM_PCP_HIGH >> o) blocks; past that, half of
 * it goes back to the buddy lists; an empty list is refilled with half as
 * many. Drained completely when an allocation finds no block (memory
 * pressure), by kmm_drain_pages() and by shrink. KMM_PCP_HIGH 0 disables. */
#ifndef KMM_PCP_MAX_ORDER
#define KMM_PCP_MAX_ORDER 3
#endif
#ifndef KMM_PCP_HIGH
#define KMM_PCP_HIGH 32
#endif

/* Debug level: 0 = release (misuse is refused and counted),
 * 1 = debug (pre/postconditions; misuse panics by default),
 * 2 = expensive (whole-structure walks after operations). */
#ifndef KMM_DEBUG
#define KMM_DEBUG 0
#endif

/* ---- slab layer (mm/slub.cpp, mm/slab_common.cpp, mm/kmalloc.cpp) ---- */

/* Slab caches one SlabAllocator can hold at once (its fixed cache table,
 * indexed by struct page::cache_id). Counts the internal "kmem_cache" boot
 * cache and the kmalloc-* caches (up to 13) as well as kmem_cache_create()'s. */
#ifndef KMM_MAX_CACHES
#define KMM_MAX_CACHES 64
#endif
#if KMM_MAX_CACHES < 16 || KMM_MAX_CACHES > 65535
#error "KMM_MAX_CACHES must be 16 ... 65535"
#endif

/* Largest slab order (Linux slub_max_order, PAGE_ALLOC_COSTLY_ORDER = 3).
 * The slab order is the smallest that wastes at most 1/16 of the slab,
 * searched up to this; also capped by KMM_MAX_ORDER and by the 16-bit
 * freelist encoding of struct page (slab <= 0xFFFF * sizeof(void *)). */
#ifndef KMM_SLAB_MAX_ORDER
#define KMM_SLAB_MAX_ORDER 3
#endif

/* Empty slabs a cache keeps for reuse (per cache, Linux min_partial): the
 * cache's value is ilog2(object size) / 2 clamped to [LO, HI]; further empty
 * slabs go back to the buddy allocator at once. */
#ifndef KMM_SLAB_MIN_PARTIAL_LO
#define KMM_SLAB_MIN_PARTIAL_LO 5
#endif
#ifndef KMM_SLAB_MIN_PARTIAL_HI
#define KMM_SLAB_MIN_PARTIAL_HI 10
#endif

/* Bytes kept of a cache's name (longer names are truncated), incl. the NUL. */
#ifndef KMM_SLAB_NAME_LEN
#define KMM_SLAB_NAME_LEN 32
#endif

/* Cache-line size used by SLAB_HWCACHE_ALIGN. */
#ifndef KMM_L1_CACHE_BYTES
#define KMM_L1_CACHE_BYTES 64
#endif

/* 1: every cache gets SLAB_CONSISTENCY_CHECKS (Linux slub_debug=F): no
 * per-CPU fast path, full double-free and freelist checks on every call.
 * Defaults to on in debug builds. */
#ifndef KMM_SLAB_DEBUG_ALL
#define KMM_SLAB_DEBUG_ALL (KMM_DEBUG >= 1)
#endif

/* Per-CPU magazines (mm/slub_fast.h): every cache keeps, per CPU, a LIFO
 * array of free objects from any of its slabs in front of the CPU slab.
 * kmem_cache_free/kfree push into it, allocation pops from it first. A
 * cache's capacity is KMM_SLAB_MAGAZINE_BYTES / object stride, clamped to
 * [2, KMM_SLAB_MAGAZINE] (e.g. 4 KiB pages: 32 up to 256-byte objects, 16
 * at 512, 4 at 2 KiB, 2 at 8 KiB); when full, its older half goes back to
 * the slabs in one batch under the cache lock. So at most
 * KMM_SLAB_MAGAZINE_BYTES (or 2 objects) per cache and CPU sit in a
 * magazine; kmem_cache_shrink, kmm_slab_shrink_all, destroy and a failing
 * slab allocation (memory pressure) empty them. KMM_SLAB_MAGAZINE is also
 * the array size in each kmem_cache (one pointer more per CPU); 0 disables
 * magazines (the CPU slab's freelist is then the fast path).
 * SLAB_CONSISTENCY_CHECKS caches never use one. */
#ifndef KMM_SLAB_MAGAZINE
#define KMM_SLAB_MAGAZINE 32
#endif
#if KMM_SLAB_MAGAZINE < 0 || KMM_SLAB_MAGAZINE > 1024
#error "KMM_SLAB_MAGAZINE must be 0 ... 1024"
#endif
#ifndef KMM_SLAB_MAGAZINE_BYTES
#define KMM_SLAB_MAGAZINE_BYTES (2 * KMM_PAGE_SIZE)
#endif

/* 1: per-cache fast/slow path counters (one increment per call). */
#ifndef KMM_SLAB_STATS
#define KMM_SLAB_STATS 1
#endif

#endif /* KMM_CONFIG_H */

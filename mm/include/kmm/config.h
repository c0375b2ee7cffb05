/*
 * kmm/config.h — every build-time knob of kmm with its documented default.
 *
 * Builds override a knob by defining it before this header is seen. In
 * CMake: -DKMM_CONFIG_DEFINES="KMM_PAGE_SHIFT=8;KMM_MAX_ORDER=6" (a cache
 * variable, set before add_subdirectory(kmm) when kmm is a subproject):
 * mm/CMakeLists.txt applies it to both kmm_mm and the arch library (through
 * kmm_config), which must agree. target_compile_definitions(kmm_mm …)
 * reaches kmm_mm alone, not the arch. Boards add their own (boards/).
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
/* The largest block, PAGE_SIZE << KMM_MAX_ORDER bytes, must be a size_t
 * (pointer-wide) value: past that it wraps to 0, and alloc_pages_exact and
 * large kmalloc would refuse every size. Bites on 32-bit targets only. */
#if defined(__SIZEOF_POINTER__) && KMM_PAGE_SHIFT + KMM_MAX_ORDER >= __SIZEOF_POINTER__ * 8
#error "KMM_PAGE_SHIFT + KMM_MAX_ORDER must be below the pointer width (the largest block, PAGE_SIZE << KMM_MAX_ORDER, must fit a size_t)"
#endif

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
 * pressure) and by kmm_drain_pages() (kmem_cache_shrink does not: it gives
 * slabs back to these lists). KMM_PCP_HIGH 0 disables. */
#ifndef KMM_PCP_MAX_ORDER
#define KMM_PCP_MAX_ORDER 3
#endif
#ifndef KMM_PCP_HIGH
#define KMM_PCP_HIGH 32
#endif

/* Debug level: 0 = release: misuse is refused and counted; caches take
 * their per-CPU fast paths.
 * >= 1 = debug: misuse panics by default (kmm_set_bug_policy changes it),
 * and every slab cache, kmalloc's too, is a SLAB_CONSISTENCY_CHECKS cache
 * (KMM_SLAB_DEBUG_ALL): each alloc and free runs the full checks in the
 * slow path, without CPU slab, magazine or the kmalloc fallback to a larger
 * class. Higher values add nothing: the whole-structure walks are
 * kmm_validate() and kmm_slab_validate(), for the firmware (or a test) to
 * call where it wants them. Host tests run this build too (*_debug1). */
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
/* At most 65534: ids are 16-bit (page::cache_id) and 0xffff marks a
 * destroyed cache (kDeadCacheId, mm/slub.h), so no live cache may have it. */
#if KMM_MAX_CACHES < 16 || KMM_MAX_CACHES > 65534
#error "KMM_MAX_CACHES must be 16 ... 65534 (0xffff is the id of a destroyed cache)"
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
 * [2, KMM_SLAB_MAGAZINE] (e.g. 4 KiB pages: 31 up to 256-byte objects, 16
 * at 512, 4 at 2 KiB, 2 at 8 KiB); a free into a full one gives the object
 * itself back to its slab (KMM_SLAB_MAGAZINE_EVICT=n: the n oldest entries
 * go back instead and the object is pushed; bounded work per free). So at
 * most KMM_SLAB_MAGAZINE_BYTES (or 2 objects) per cache and CPU sit in a
 * magazine; kmem_cache_shrink, kmm_slab_shrink_all, destroy and a failing
 * slab allocation (memory pressure) empty them. The magazine is a ring of
 * KMM_SLAB_MAGAZINE + 1 pointers (a power of two: the value is rounded down
 * to 2^k - 1) after a NULL wall, per CPU in each kmem_cache; 0 disables
 * magazines (the
 * CPU slab's freelist is then the fast path).
 * SLAB_CONSISTENCY_CHECKS caches never use one. */
#ifndef KMM_SLAB_MAGAZINE
#define KMM_SLAB_MAGAZINE 31
#endif
#if KMM_SLAB_MAGAZINE < 0 || KMM_SLAB_MAGAZINE > 1024
#error "KMM_SLAB_MAGAZINE must be 0 ... 1024"
#endif
#ifndef KMM_SLAB_MAGAZINE_BYTES
#define KMM_SLAB_MAGAZINE_BYTES (2 * KMM_PAGE_SIZE)
#endif

/* What a free into a full magazine does (bounded work either way): 0 (the
 * default) gives the freed object itself back to its slab, the magazine
 * stays as it is (the shortest path); n > 0 gives the n oldest entries
 * back and pushes the object, keeping the newest (cache-hot) ones. */
#ifndef KMM_SLAB_MAGAZINE_EVICT
#define KMM_SLAB_MAGAZINE_EVICT 0
#endif
#if KMM_SLAB_MAGAZINE_EVICT < 0
#error "KMM_SLAB_MAGAZINE_EVICT must be 0, or the number of entries to evict"
#endif

/* Per-CPU partial slabs per cache and CPU, beside the CPU slab (SMP
 * builds only; a uniprocessor build keeps none). */
#ifndef KMM_SLAB_CPU_PARTIAL
#define KMM_SLAB_CPU_PARTIAL 2
#endif
#if KMM_SLAB_CPU_PARTIAL < 0
#error "KMM_SLAB_CPU_PARTIAL must be 0 or more"
#endif

/* 1: per-cache fast/slow path counters (one increment per call). */
#ifndef KMM_SLAB_STATS
#define KMM_SLAB_STATS 1
#endif

/* ---- slab debugging and hardening (mm/slab_debug*, mm/slab_harden.cpp, docs/DEBUGGING.md) ---- */

/* 1: the debug features are compiled in: per-cache flags SLAB_RED_ZONE,
 * SLAB_POISON, SLAB_STORE_USER, SLAB_TRACE (with SLAB_CONSISTENCY_CHECKS),
 * the kmm_slub_debug() boot option and validate_slab_cache(). They cost
 * nothing until a cache has a debug flag: such caches never use the per-CPU
 * fast path. 0: compiled out; debug flags are accepted and only
 * SLAB_CONSISTENCY_CHECKS keeps its meaning. */
#ifndef KMM_SLAB_DEBUG
#define KMM_SLAB_DEBUG 1
#endif

/* 1: kmalloc, kzalloc, kmalloc_array, kcalloc, kfree, kmem_cache_alloc and
 * kmem_cache_free hand their return address to the slab layer themselves
 * for debug caches, so slub_debug U and T record their caller. 0: the
 * caller is the return address the out-of-line path sees, which is right
 * only when the entry reaches it by a tail call (GCC: -O1 with
 * -foptimize-sibling-calls, -O2, -Os; never -O0 or -Og). Default: 1 in
 * builds without __OPTIMIZE__ (-O0); mm's CMake sets 1 for the Debug
 * configuration too (-Og there); set it yourself for -Og or -O1 builds in
 * other configurations. Costs nothing when no cache is debugged beyond a
 * test on each of those calls. */
#ifndef KMM_EXPLICIT_CALLER
#ifdef __OPTIMIZE__
#define KMM_EXPLICIT_CALLER 0
#else
#define KMM_EXPLICIT_CALLER 1
#endif
#endif

/* The boot option in effect before kmm_slub_debug() is called, as Linux's
 * slub_debug=: "<letters>[,<cache>...][;<letters>[,<cache>...]]...", letters
 * F (checks) Z (red zones) P (poison) U (alloc/free tracking) T (trace),
 * O (no Z P U where they raise the slab order), A (ignored), '-' for none. "" (the default): no cache is debugged (but see
 * KMM_SLAB_DEBUG_ALL). */
#ifndef KMM_SLUB_DEBUG
#define KMM_SLUB_DEBUG ""
#endif
/* Bytes kept of the boot option string, incl. the NUL. */
#ifndef KMM_SLUB_DEBUG_LEN
#define KMM_SLUB_DEBUG_LEN 128
#endif

/* 1: free pointers are stored as ptr ^ secret ^ bswap(slot address) with a
 * per-cache secret, and checked on every use (Linux
 * CONFIG_SLAB_FREELIST_HARDENED). Costs a few instructions on each
 * CPU-freelist pop (not on magazine hits). */
#ifndef KMM_SLAB_FREELIST_HARDENED
#define KMM_SLAB_FREELIST_HARDENED 0
#endif
/* 1: each new slab links its objects in a random order (Linux
 * CONFIG_SLAB_FREELIST_RANDOM), from a PRNG seeded by kmm_arch_entropy().
 * Costs only at slab creation. */
#ifndef KMM_SLAB_FREELIST_RANDOM
#define KMM_SLAB_FREELIST_RANDOM 0
#endif

/* Host builds only: mark free objects and red zones for AddressSanitizer
 * (when built with -fsanitize=address; 0 turns it off) and for Valgrind's
 * memcheck (KMM_VALGRIND=1; needs <valgrind/memcheck.h>). */
#ifndef KMM_ASAN_ANNOTATE
#define KMM_ASAN_ANNOTATE 1
#endif
#ifndef KMM_VALGRIND
#define KMM_VALGRIND 0
#endif

/* Tests only: 1 compiles in page-allocation fault injection (mm/fault_inject.h),
 * which makes chosen page requests fail as if memory were exhausted, so the
 * host tests can walk every allocating path with "fail the Nth request".
 * 0 (the default, and every firmware build): nothing of it is compiled. */
#ifndef KMM_FAULT_INJECT
#define KMM_FAULT_INJECT 0
#endif

#endif /* KMM_CONFIG_H */

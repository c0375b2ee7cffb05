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

/* Debug level: 0 = release (misuse is refused and counted),
 * 1 = debug (pre/postconditions; misuse panics by default),
 * 2 = expensive (whole-structure walks after operations). */
#ifndef KMM_DEBUG
#define KMM_DEBUG 0
#endif

#endif /* KMM_CONFIG_H */

/*
 * kmm/gfp.h — allocation flags (gfp_t) with Linux's names and meanings.
 *
 * Zone selection: GFP_DMA allocates from KMM_ZONE_DMA only, never from
 * the Normal zone: alloc_pages and friends, kmalloc (dma-kmalloc-<class>
 * caches up to its largest class, DMA pages above), and kmem_cache_alloc
 * from a SLAB_CACHE_DMA cache (any other cache refuses GFP_DMA: its
 * objects may sit in either zone). Every other request tries
 * KMM_ZONE_NORMAL first and then falls back to KMM_ZONE_DMA, so
 * DMA-capable memory is used for ordinary data only when normal memory is
 * exhausted.
 */
#ifndef KMM_GFP_H
#define KMM_GFP_H

typedef unsigned int gfp_t;

#define ___GFP_DMA     0x01u
#define ___GFP_ATOMIC  0x02u /* caller may not sleep: interrupt context */
#define ___GFP_ZERO    0x04u
#define ___GFP_COMP    0x08u
#define ___GFP_NOWARN  0x10u /* no report on allocation failure */
#define ___GFP_NORETRY 0x20u /* do not run the OOM hook */

#define __GFP_DMA     ((gfp_t)___GFP_DMA)
#define __GFP_ATOMIC  ((gfp_t)___GFP_ATOMIC)
#define __GFP_ZERO    ((gfp_t)___GFP_ZERO)
#define __GFP_COMP    ((gfp_t)___GFP_COMP)
#define __GFP_NOWARN  ((gfp_t)___GFP_NOWARN)
#define __GFP_NORETRY ((gfp_t)___GFP_NORETRY)

/* kmm never sleeps, so GFP_KERNEL and GFP_ATOMIC differ only in intent today:
 * both are safe in interrupt context on kmm's own locks. */
#define GFP_KERNEL  ((gfp_t)0)
#define GFP_ATOMIC  (__GFP_ATOMIC)
#define GFP_NOWAIT  (__GFP_ATOMIC)
#define GFP_DMA     (__GFP_DMA)

/* Linux names whose meaning holds trivially in kmm, so driver code compiles
 * unchanged: kmm never sleeps, does no I/O or filesystem reclaim, has no
 * memory cgroups, no emergency reserves and no user/kernel split, and it
 * fails rather than retries. __GFP_NOFAIL, GFP_DMA32, __GFP_HIGHMEM and
 * __GFP_MOVABLE are deliberately not defined: kmm cannot keep their
 * promises (an allocation that never fails, a 4 GiB zone, highmem,
 * migration), so code that relies on them must not compile. */
#define __GFP_ACCOUNT       ((gfp_t)0)
#define __GFP_HIGH          ((gfp_t)0)
#define __GFP_RETRY_MAYFAIL ((gfp_t)0)
#define GFP_NOIO            GFP_KERNEL
#define GFP_NOFS            GFP_KERNEL
#define GFP_USER            GFP_KERNEL
#define GFP_KERNEL_ACCOUNT  GFP_KERNEL

/* Bits outside it: alloc_pages and friends refuse the request (a report);
 * kmalloc and kmem_cache_alloc ignore them on their inline paths and drop
 * them with a warning where they need pages (a new slab, a large block),
 * as Linux's kmalloc_fix_flags does, so the result never depends on how
 * warm the cache is. */
#define KMM_GFP_VALID_MASK ((gfp_t)0x3fu)

/* Memory zones: a region belongs to exactly one. */
#define KMM_ZONE_NORMAL 0u
#define KMM_ZONE_DMA    1u
#define KMM_NR_ZONES    2u

#endif /* KMM_GFP_H */

/*
 * kmm/page_alloc.h — the memory map and the page allocator's C API.
 *
 * Boot sequence: kmm_add_region() for each RAM range, kmm_reserve() for ranges
 * kmm must not hand out, then kmm_init(). The page-descriptor array (one
 * struct page per frame, 16 bytes on 32-bit targets) is carved from the
 * managed memory itself; kmm_memmap_bytes() tells how much.
 *
 * All calls are safe from interrupt context: they hold kmm's page lock with
 * IRQs masked, for O(KMM_MAX_ORDER) steps at most (plus zeroing with
 * __GFP_ZERO and linking tails with __GFP_COMP, both O(pages)).
 */
#ifndef KMM_PAGE_ALLOC_H
#define KMM_PAGE_ALLOC_H

#include <stddef.h>
#include <stdint.h>
#include <kmm/config.h>
#include <kmm/gfp.h>
#include <kmm/report.h>

#ifdef __cplusplus
extern "C" {
#endif

struct page; /* opaque to users: a page frame descriptor */

#ifndef PAGE_SHIFT
#define PAGE_SHIFT KMM_PAGE_SHIFT
#define PAGE_SIZE  KMM_PAGE_SIZE
#endif

/* ---- memory map (before kmm_init) ----
 * Any start and size: partial pages at either edge are dropped. Regions may
 * not overlap. Returns 0, -KMM_EINVAL (bad zone, empty, overlap, wraps),
 * -KMM_ENOSPC (table full) or -KMM_EBUSY (already initialised). */
int kmm_add_region(uintptr_t start, size_t size, unsigned int zone);
/* Pages touching [start, start+size) are never handed out. Same codes. */
int kmm_reserve(uintptr_t start, size_t size);
/* Builds descriptors and free lists. -KMM_EINVAL if there is no region or
 * a region is reserved whole, -KMM_ENOMEM if a region cannot hold its own
 * descriptors plus one page, -KMM_EBUSY if already initialised. A failure
 * warns naming the region and why. */
int kmm_init(void);
/* Forgets all memory and returns to the pre-init state (tests, re-boot). */
void kmm_shutdown(void);

/* ---- pages ---- */
struct page *alloc_pages(gfp_t gfp, unsigned int order);
struct page *alloc_page(gfp_t gfp);
void __free_pages(struct page *page, unsigned int order);
void __free_page(struct page *page);
unsigned long __get_free_pages(gfp_t gfp, unsigned int order);
unsigned long get_zeroed_page(gfp_t gfp);
void free_pages(unsigned long addr, unsigned int order);
void free_page(unsigned long addr);
/* Exactly ceil(size / PAGE_SIZE) pages, physically contiguous; the rest of
 * the power-of-two block goes back to the allocator at once. Only
 * free_pages_exact (same size, page-rounded) frees it: free_pages and
 * __free_pages refuse its pages. */
void *alloc_pages_exact(size_t size, gfp_t gfp);
void free_pages_exact(void *addr, size_t size);

void *page_address(const struct page *page);
/* NULL (and a report) if addr is not in managed memory. */
struct page *virt_to_page(const void *addr);
/* The head of the compound page (or the page itself). */
struct page *compound_head(struct page *page);
unsigned int compound_order(const struct page *page);

/* Order of the smallest block holding size bytes (Linux get_order). */
unsigned int get_order(size_t size);

/* ---- figures ---- */
size_t kmm_managed_pages(void);  /* pages handed to the buddy allocator */
size_t kmm_free_pages(void);     /* of those, free now */
size_t kmm_reserved_pages(void); /* reserved by kmm_reserve() */
size_t kmm_memmap_bytes(void);   /* bytes of RAM used by page descriptors */

/* Returns every page parked on the per-CPU page lists to the buddy lists
 * (Linux drain_all_pages); allocation does this by itself under pressure. */
void kmm_drain_pages(void);

/* Walks every free list and descriptor; returns the number of problems. */
unsigned long kmm_validate(void);
/* /proc/buddyinfo layout, then counts and the fragmentation index per order. */
void kmm_buddyinfo(kmm_sink_fn sink, void *ctx);

#ifdef __cplusplus
}
#endif

#endif /* KMM_PAGE_ALLOC_H */

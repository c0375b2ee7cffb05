/*
 * kmm/page_alloc.h — the memory map and the page allocator's C API.
 *
 * Boot sequence: kmm_add_region() for each RAM range, kmm_reserve() for ranges
 * kmm must not hand out, then kmm_init(). The page-descriptor array (one
 * struct page per frame, 16 bytes on 32-bit targets) is carved from the
 * managed memory itself; kmm_memmap_bytes() tells how much.
 *
 * Context: every call may run in interrupt context and with IRQs masked,
 * on any CPU (kmm never sleeps; its locks mask IRQs), except the memory-map
 * calls, kmm_init and kmm_shutdown: boot only, with no other kmm call
 * running. IRQs stay masked for O(KMM_MAX_ORDER) steps per block moved; a
 * per-CPU list refill or drain moves a batch of about KMM_PCP_HIGH/2
 * blocks in one hold. Per-block O(pages) work — zeroing (__GFP_ZERO),
 * poisoning (kmm_page_poison), compound tails (__GFP_COMP) — runs outside
 * every lock. Measured windows: docs/BARE_METAL.md, "Longest IRQ-masked
 * window".
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
#ifndef PAGE_MASK
#define PAGE_MASK (~(PAGE_SIZE - 1))
#endif
#ifndef PAGE_ALIGN /* addr rounded up to the next page boundary */
#define PAGE_ALIGN(addr) (((addr) + PAGE_SIZE - 1) & PAGE_MASK)
#endif
#ifndef offset_in_page /* p's byte offset within its page */
#define offset_in_page(p) ((unsigned long)(p) & ~PAGE_MASK)
#endif

/* ---- memory map (boot: before kmm_init, no concurrent kmm call) ----
 * Any start and size: partial pages at either edge are dropped; a range
 * that ends exactly at the top of the address space (start + size = 2^N)
 * is accepted and loses its last page (its end is kept as UINTPTR_MAX).
 * Regions may not overlap. Returns 0, -KMM_EINVAL (bad zone, empty, no
 * whole page inside, overlap, wraps), -KMM_ENOSPC (table full) or
 * -KMM_EBUSY (already initialised). */
int kmm_add_region(uintptr_t start, size_t size, unsigned int zone);
/* Pages touching [start, start+size) are never handed out. Returns 0,
 * -KMM_EINVAL (empty, wraps), -KMM_ENOSPC or -KMM_EBUSY. */
int kmm_reserve(uintptr_t start, size_t size);
/* Builds descriptors and free lists. -KMM_EINVAL if there is no region or
 * a region is reserved whole, -KMM_ENOMEM if a region cannot hold its own
 * descriptors plus one page, -KMM_EBUSY if already initialised. A failure
 * warns naming the region and why. O(pages * reserved ranges). */
int kmm_init(void);
/* Forgets all memory and returns to the pre-init state (tests, re-boot):
 * every pointer kmm handed out is invalid after it. No other kmm call may
 * run meanwhile. */
void kmm_shutdown(void);

/* ---- pages ----
 * Allocations fail (NULL, or 0 for the address forms) when no block is
 * free even after the memory-pressure steps (every CPU's page lists and
 * the slab caches given back, then the OOM hook: report.h), with a "page
 * allocation failure" warning unless __GFP_NOWARN; and with a BUG report
 * for order > KMM_MAX_ORDER or gfp bits outside KMM_GFP_VALID_MASK.
 * GFP_DMA takes KMM_ZONE_DMA memory only (gfp.h).
 * Frees: NULL (0) is a no-op. Anything but exactly a block the matching
 * call handed out — a double free, another order, a page inside a block,
 * an address kmm does not manage, a page of alloc_pages_exact, a slab or
 * a large kmalloc — is reported and refused, nothing changed.
 * Both O(KMM_MAX_ORDER) with IRQs masked (see the top). */
/* __GFP_ZERO: zeroed; __GFP_COMP: a compound block (compound_head and
 * compound_order work on its pages). */
struct page *alloc_pages(gfp_t gfp, unsigned int order);
struct page *alloc_page(gfp_t gfp);
/* Linux's NUMA form: kmm has one node, so nid is ignored. */
static inline struct page *alloc_pages_node(int nid, gfp_t gfp, unsigned int order)
{
	(void)nid;
	return alloc_pages(gfp, order);
}
/* order must be the allocation's. */
void __free_pages(struct page *page, unsigned int order);
void __free_page(struct page *page);
/* page_address() of alloc_pages(gfp, order); __GFP_COMP is ignored. */
unsigned long __get_free_pages(gfp_t gfp, unsigned int order);
/* Linux's __get_free_page: __get_free_pages(gfp, 0). */
static inline unsigned long __get_free_page(gfp_t gfp) { return __get_free_pages(gfp, 0); }
/* One page, zeroed. */
unsigned long get_zeroed_page(gfp_t gfp);
/* addr: a block's first byte (page-aligned), as __get_free_pages gave it;
 * an unaligned or unmanaged addr is reported and refused. */
void free_pages(unsigned long addr, unsigned int order);
void free_page(unsigned long addr);
/* Exactly ceil(size / PAGE_SIZE) pages, physically contiguous; the rest of
 * the power-of-two block goes back to the allocator at once. Only
 * free_pages_exact (same size, page-rounded) frees it: free_pages and
 * __free_pages refuse its pages. Size 0 or above PAGE_SIZE <<
 * KMM_MAX_ORDER: NULL with a warning (unless __GFP_NOWARN). __GFP_ZERO
 * zeroes the pages kept; __GFP_COMP is ignored. IRQs masked for
 * O(KMM_MAX_ORDER^2) steps (the split), zeroing outside. */
void *alloc_pages_exact(size_t size, gfp_t gfp);
/* NULL is a no-op; an addr or size that is not exactly one
 * alloc_pages_exact allocation is reported and refused.
 * O(KMM_MAX_ORDER^2) with IRQs masked. */
void free_pages_exact(void *addr, size_t size);

/* The first byte of the page's frame; NULL for a descriptor kmm does not
 * manage (no report). O(regions), no lock. */
void *page_address(const struct page *page);
/* The descriptor of addr's page, whatever its state. NULL and a report if
 * addr is on no page kmm manages: outside every region, on a partial page
 * a region's edge dropped, or any address before kmm_init (no report for
 * NULL). O(regions), no lock. */
struct page *virt_to_page(const void *addr);
/* Page frame numbers: a page's address >> PAGE_SHIFT (kmm maps memory
 * 1:1). page_to_pfn of a descriptor kmm does not manage is 0, which no
 * handed-out page has (a region's page at address 0 is kept reserved).
 * pfn_to_page reports and returns NULL for a pfn kmm does not manage, as
 * virt_to_page does; pfn_valid asks without a report. O(regions), no lock. */
unsigned long page_to_pfn(const struct page *page);
struct page *pfn_to_page(unsigned long pfn);
int pfn_valid(unsigned long pfn);
/* The head of the compound page (or the page itself); NULL for NULL. */
struct page *compound_head(struct page *page);
/* Linux's virt_to_head_page: compound_head(virt_to_page(addr)), so the
 * head of a compound block, large kmalloc or slab; NULL as virt_to_page. */
static inline struct page *virt_to_head_page(const void *addr) { return compound_head(virt_to_page(addr)); }
/* The order of a compound head (__GFP_COMP, large kmalloc, slab); 0 for
 * any other page and for NULL. */
unsigned int compound_order(const struct page *page);

/* Order of the smallest block holding size bytes (Linux get_order); 0 for
 * sizes up to a page, 0 included. */
unsigned int get_order(size_t size);

/* ---- figures ----
 * Each a consistent snapshot: every lock held (IRQs masked) while it is
 * read, O(KMM_NR_CPUS + regions). */
size_t kmm_managed_pages(void);  /* pages handed to the buddy allocator */
size_t kmm_free_pages(void);     /* of those, free now */
size_t kmm_reserved_pages(void); /* reserved by kmm_reserve(), and page 0 of a region at address 0 */
size_t kmm_memmap_bytes(void);   /* bytes of RAM used by page descriptors */

/* Returns every page parked on the per-CPU page lists to the buddy lists
 * (Linux drain_all_pages); allocation does this by itself under pressure.
 * IRQs masked while one CPU's lists drain, all of them in one hold: the
 * longest window of the allocation paths (docs/BARE_METAL.md). */
void kmm_drain_pages(void);

/* Walks every free list and descriptor; returns the number of problems
 * (each also a line on the report hook; not counted by kmm_bug_count),
 * 0 before kmm_init. Every lock held, so IRQs are masked for the whole
 * walk, O(managed pages): not for latency-critical moments (measured:
 * docs/BARE_METAL.md, "Longest IRQ-masked window"). */
unsigned long kmm_validate(void);
/* /proc/buddyinfo layout, then counts and the fragmentation index per
 * order. Never allocates; O(KMM_MAX_ORDER^2) per zone. Each figure is
 * read under the locks, but the sink is called with no kmm lock held and
 * IRQs as the caller left them, so lines read at different moments may
 * disagree while others allocate. */
void kmm_buddyinfo(kmm_sink_fn sink, void *ctx);

#ifdef __cplusplus
}
#endif

#endif /* KMM_PAGE_ALLOC_H */

/*
 * kmm/slab.h — object caches (kmem_cache_*) and kmalloc, with Linux's names
 * and meanings, over the global page allocator. Design and figures:
 * docs/SLAB.md.
 *
 * The slab layer starts itself on first use after kmm_init(); kmm_shutdown()
 * forgets it together with the page allocator.
 *
 * Misuse (a pointer kmm never handed out, a pointer into the middle of an
 * object, a free to the wrong cache, a detectable double free, destroying a
 * cache with live objects) is reported as "BUG <cache>: …" through the report
 * hook and refused: the allocator's state is unchanged by a refused call.
 *
 * Context: kmm never sleeps. Allocation and free calls (kmem_cache_alloc
 * and _free and their bulk and zalloc forms, kmalloc and its helpers,
 * kfree, ksize) may run in interrupt context and with IRQs masked, on any
 * CPU: the fast path (this CPU's magazine of free objects, then its CPU
 * slab) touches only this CPU's data, with IRQs masked; slow paths hold
 * the cache's lock (a spinlock on SMP builds) with IRQs masked. So may
 * kmem_cache_create, kmem_cache_shrink and kmm_slab_shrink_all. Except:
 * kmem_cache_destroy, process context only; the figures and checks
 * (kmem_cache_get_info, kmm_slabinfo, kmm_slabstats, kmm_slab_validate),
 * which on SMP builds stop the other CPUs while they read and so want IRQs
 * enabled and no lock held (with IRQs masked they cannot stop them and are
 * exact only if those CPUs are quiescent), and mask IRQs for long (see
 * each); kmm_slub_debug and kmm_page_poison, boot only. Measured
 * IRQ-masked windows: docs/BARE_METAL.md, "Longest IRQ-masked window".
 */
#ifndef KMM_SLAB_H
#define KMM_SLAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <kmm/config.h>
#include <kmm/gfp.h>
#include <kmm/report.h>

#ifdef __cplusplus
extern "C" {
#endif

struct kmem_cache; /* opaque to users */

typedef unsigned int slab_flags_t;

/* Linux's values. */
#define SLAB_CONSISTENCY_CHECKS ((slab_flags_t)0x00000100u) /* no fast path; full checks */
#define SLAB_HWCACHE_ALIGN      ((slab_flags_t)0x00002000u) /* align objects to a cache line */
#define SLAB_PANIC              ((slab_flags_t)0x00040000u) /* kmem_cache_create panics on failure */
/* Slabs from KMM_ZONE_DMA only: every object is DMA-capable. The only
 * caches kmem_cache_alloc(GFP_DMA) accepts (see kmem_cache_alloc). */
#define SLAB_CACHE_DMA          ((slab_flags_t)0x00004000u)
/* Debug flags (Linux's values and slub_debug letters; docs/DEBUGGING.md). A
 * cache with any of them runs every alloc and free in the checked slow
 * path, so each implies SLAB_CONSISTENCY_CHECKS (F). */
#define SLAB_RED_ZONE           ((slab_flags_t)0x00000400u) /* Z: red zones around each object */
#define SLAB_POISON             ((slab_flags_t)0x00000800u) /* P: free objects hold a pattern */
#define SLAB_STORE_USER         ((slab_flags_t)0x00010000u) /* U: last alloc/free caller, CPU, time */
#define SLAB_TRACE              ((slab_flags_t)0x00200000u) /* T: a report line per alloc/free */
#define SLAB_DEBUG_FLAGS        (SLAB_CONSISTENCY_CHECKS | SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER | SLAB_TRACE)
/* Linux flags whose meaning holds trivially in kmm, accepted (and dropped)
 * so a driver's kmem_cache_create call works unchanged: kmm has no memory
 * cgroups (SLAB_ACCOUNT), no grouping of pages by mobility
 * (SLAB_RECLAIM_ACCOUNT, SLAB_TEMPORARY), no cpusets (SLAB_MEM_SPREAD), no
 * kmemleak (SLAB_NOLEAKTRACE), and it never merges caches (SLAB_NO_MERGE).
 * SLAB_TYPESAFE_BY_RCU is deliberately not defined: kmm has no RCU and
 * gives an empty slab's pages back at once, so code that relies on it
 * must not compile. */
#define SLAB_RECLAIM_ACCOUNT    ((slab_flags_t)0x00020000u)
#define SLAB_TEMPORARY          SLAB_RECLAIM_ACCOUNT
#define SLAB_MEM_SPREAD         ((slab_flags_t)0x00100000u)
#define SLAB_NOLEAKTRACE        ((slab_flags_t)0x00800000u)
#define SLAB_NO_MERGE           ((slab_flags_t)0x01000000u)
#define SLAB_ACCOUNT            ((slab_flags_t)0x04000000u)
#define KMM_SLAB_IGNORED_FLAGS  (SLAB_RECLAIM_ACCOUNT | SLAB_MEM_SPREAD | SLAB_NOLEAKTRACE | SLAB_NO_MERGE | SLAB_ACCOUNT)
#define KMM_SLAB_VALID_FLAGS \
	(SLAB_DEBUG_FLAGS | SLAB_HWCACHE_ALIGN | SLAB_PANIC | SLAB_CACHE_DMA | KMM_SLAB_IGNORED_FLAGS)

/* kmalloc(0) returns ZERO_SIZE_PTR (as Linux): not NULL, never valid to
 * dereference; kfree() and ksize() accept it (ksize gives 0). */
#define ZERO_SIZE_PTR ((void *)16)
#define ZERO_OR_NULL_PTR(x) ((uintptr_t)(x) <= (uintptr_t)ZERO_SIZE_PTR)

/* ---- object caches ----
 * kmem_cache_create: objects of `size` bytes aligned to `align` (0 = the
 * default: sizeof(void *); else a power of two, at least sizeof(void *) is
 * used). The ctor, if any, runs once per object when its slab is created,
 * never on allocation; a freed object keeps its constructed state (the
 * free pointer lives outside such objects). The name is copied (at most
 * KMM_SLAB_NAME_LEN - 1 bytes). Returns NULL with a report on a NULL name,
 * size 0, an alignment that is not a power of two, a size or alignment no
 * slab can hold, unknown flags, a full cache table, no memory, or
 * SLAB_CACHE_DMA without a DMA zone — or panics then under SLAB_PANIC.
 * O(objects per slab). */
struct kmem_cache *kmem_cache_create(const char *name, unsigned int size, unsigned int align,
				     slab_flags_t flags, void (*ctor)(void *));
/* Frees every slab. With live objects: reports "Objects remaining in <name>
 * on destroy" with their addresses (the first 16, then a count) and keeps
 * the cache (and those objects) valid. NULL is a no-op. Process context
 * only (as Linux's, which may sleep): it waits for a memory-pressure
 * reclaim running on another CPU to finish walking the caches; on one CPU,
 * called from an IRQ handler that interrupted such a reclaim, it is refused
 * with a report. O(slabs of the cache + managed pages). */
void kmem_cache_destroy(struct kmem_cache *s);
/* Linux's shorthand: a cache named after `struct type`, of its size and
 * alignment, no ctor. KMEM_CACHE(pkt, SLAB_HWCACHE_ALIGN). */
#define KMEM_CACHE(type, flags) \
	kmem_cache_create(#type, sizeof(struct type), __alignof__(struct type), (flags), NULL)
/* Linux's kmem_cache_create_usercopy: kmm has no user space to copy to,
 * so the whitelisted range [useroffset, useroffset + usersize) is not
 * kept; the cache is kmem_cache_create's. */
static inline struct kmem_cache *kmem_cache_create_usercopy(const char *name, unsigned int size, unsigned int align,
							    slab_flags_t flags, unsigned int useroffset,
							    unsigned int usersize, void (*ctor)(void *))
{
	(void)useroffset;
	(void)usersize;
	return kmem_cache_create(name, size, align, flags, ctor);
}
/* O(1) on the fast path; a new slab costs O(objects per slab). NULL if out
 * of memory. __GFP_ZERO zeroes the object (also in a ctor cache). The zone
 * is the cache's: __GFP_DMA is accepted only by a SLAB_CACHE_DMA cache
 * (whose objects are all DMA-capable anyway); any other cache refuses it
 * as misuse (a BUG report, NULL), since its objects may sit in either
 * zone. */
void *kmem_cache_alloc(struct kmem_cache *s, gfp_t gfp);
/* NULL is a no-op. Misuse is reported and refused (see above). */
void kmem_cache_free(struct kmem_cache *s, void *x);
/* Allocates nr objects into p[]: returns nr, or 0 with nothing allocated
 * (also for nr > INT_MAX; p NULL with nr > 0 is reported and refused). */
int kmem_cache_alloc_bulk(struct kmem_cache *s, gfp_t gfp, size_t nr, void **p);
/* Frees p[0..nr); s == NULL means kfree() each (as Linux). p NULL with
 * nr > 0 is reported and refused. */
void kmem_cache_free_bulk(struct kmem_cache *s, size_t nr, void **p);
/* Linux's kfree_bulk: kfree() of p[0..nr) (NULL entries are no-ops). */
static inline void kfree_bulk(size_t nr, void **p) { kmem_cache_free_bulk(NULL, nr, p); }
/* Empties the cache's per-CPU magazines into their slabs, puts each CPU
 * slab (and CPU partial slab) back on the cache's lists, then returns every
 * empty slab to the page allocator. Returns 0 if the cache holds no slab
 * after that, 1 if some remain (live objects; on SMP also what another CPU
 * that could not be drained at once still caches), as Linux; -KMM_EINVAL
 * (reported) for NULL or a cache that is not live. Process or IRQ context;
 * O(slabs + magazine entries). */
int kmem_cache_shrink(struct kmem_cache *s);
/* The object size given at creation, and the name as kept (valid until
 * the cache is destroyed); 0 and NULL for anything but a live cache (NULL,
 * destroyed, never created), without a report. O(KMM_MAX_CACHES): s is
 * looked up in the cache table. */
unsigned int kmem_cache_size(struct kmem_cache *s);
const char *kmem_cache_name(struct kmem_cache *s);

/* ---- kmalloc ----
 * Size classes 8, 16, 32, 64, 96, 128, 192, 256, 512, 1K, 2K, 4K, 8K; classes
 * above two pages are dropped (with 256 B pages the largest is 512). Larger
 * requests are whole pages from the buddy allocator (a compound block of
 * get_order(size)). A power-of-two size is aligned to itself; any other
 * size to at least 8 bytes (16 on 64-bit). kmalloc(0) returns ZERO_SIZE_PTR.
 * Returns NULL if out of memory or if size exceeds the largest block.
 * GFP_DMA: the object is in KMM_ZONE_DMA — from the dma-kmalloc-<class>
 * caches (SLAB_CACHE_DMA, created at init when the board has a DMA zone),
 * or DMA pages above the largest class; with no DMA zone, NULL and a
 * report. O(1) on the fast path; a new slab costs O(objects per slab), a
 * large block O(KMM_MAX_ORDER) masked plus O(pages) unmasked (its tails). */
void *kmalloc(size_t size, gfp_t gfp);
/* kmalloc(size, gfp | __GFP_ZERO): the memory comes zeroed. */
void *kzalloc(size_t size, gfp_t gfp);
/* n * size bytes; NULL (no report) if n * size overflows. */
void *kmalloc_array(size_t n, size_t size, gfp_t gfp);
/* kmalloc_array(n, size, gfp | __GFP_ZERO): zeroed; NULL (no report) if
 * n * size overflows. */
void *kcalloc(size_t n, size_t size, gfp_t gfp);
/* NULL or ZERO_SIZE_PTR p: kmalloc(new_size). new_size 0: kfree(p), returns
 * ZERO_SIZE_PTR. If new_size fits ksize(p), p is returned unchanged (also when
 * shrinking: the data stays). Else a new object gets min(ksize(p), new_size)
 * bytes copied and p is freed; on failure NULL is returned and p is intact.
 * With __GFP_ZERO the bytes past the caller's data are zero afterwards:
 * moved, those from the old ksize() up to new_size; shrunk in place, those
 * from new_size up to the old ksize(). */
void *krealloc(const void *p, size_t new_size, gfp_t gfp);
/* kmalloc for code that allocates on its caller's behalf (a dup helper,
 * a libc shim): slub_debug U and T record `caller` as the allocating code
 * instead of the helper (Linux's kmalloc_track_caller, which passes
 * _RET_IP_). kmalloc's cost otherwise. */
void *kmm_kmalloc_track_caller(size_t size, gfp_t gfp, const void *caller);
#define kmalloc_track_caller(size, gfp) kmm_kmalloc_track_caller((size), (gfp), __builtin_return_address(0))
/* krealloc and kmm_kmalloc_aligned (below) for such code: `caller` is
 * recorded for the object they allocate (krealloc's new one, when it
 * moves or p is NULL). Their cost otherwise. */
void *kmm_krealloc_track_caller(const void *p, size_t new_size, gfp_t gfp, const void *caller);
void *kmm_kmalloc_aligned_track_caller(size_t size, size_t align, gfp_t gfp, const void *caller);
/* NULL and ZERO_SIZE_PTR are no-ops. Also frees large kmalloc blocks. */
void kfree(const void *x);
/* Usable size of a kmalloc'ed (or kmem_cache) object: its class size, or the
 * whole block for a large kmalloc; 0 for NULL/ZERO_SIZE_PTR and for misuse. */
size_t ksize(const void *x);
/* kmm's own: ksize's value without granting the caller the whole object
 * (ksize lifts a debug cache's kmalloc red zone and the sanitizers'
 * poisoning to the class size; this leaves them where the request put
 * them). For code that only decides by the size, e.g. a libc realloc.
 * Misuse is reported as ksize's is, naming `who` ("realloc"); 0 then and
 * for NULL/ZERO_SIZE_PTR. Any context; O(1), or O(free objects of the
 * slab) on a SLAB_CONSISTENCY_CHECKS cache (the use-after-free search). */
size_t kmm_kmalloc_size(const void *x, const char *who);
/* Largest request served by a slab cache (KMALLOC_MAX_CACHE_SIZE); above
 * it, pages. Starts the slab layer if needed; 0 if it cannot (before
 * kmm_init). */
size_t kmalloc_max_cache_size(void);

/* Linux's limits as constants, derived as kmalloc.cpp does at init:
 * KMALLOC_MAX_CACHE_SIZE, the largest size class: 8 KiB, or two pages
 * where that is less, or one page where slabs are (KMM_SLAB_MAX_ORDER or
 * KMM_MAX_ORDER 0). KMALLOC_MAX_SIZE, the largest kmalloc: one max-order
 * block (less with kmm_kmalloc_guard_pages on: the guards take two of its
 * pages). Either may still fail for lack of memory. */
#define KMM_KMALLOC_SLAB_SHIFT (KMM_PAGE_SHIFT + ((KMM_SLAB_MAX_ORDER) > 0 && KMM_MAX_ORDER > 0 ? 1 : 0))
#define KMALLOC_MAX_CACHE_SIZE (1UL << (KMM_KMALLOC_SLAB_SHIFT < 13 ? KMM_KMALLOC_SLAB_SHIFT : 13))
#define KMALLOC_MAX_SIZE       (KMM_PAGE_SIZE << KMM_MAX_ORDER)

/* The helpers that only forward to an entry point are always inlined, so
 * the entry records the driver's call site (slub_debug U, T) even at -O0. */
#define KMM_FORWARD_INLINE static inline __attribute__((always_inline))

/* Linux's NUMA forms: kmm has one node, so `node` is ignored. */
#ifndef NUMA_NO_NODE
#define NUMA_NO_NODE (-1)
#endif
KMM_FORWARD_INLINE void *kmalloc_node(size_t size, gfp_t gfp, int node)
{
	(void)node;
	return kmalloc(size, gfp);
}
KMM_FORWARD_INLINE void *kzalloc_node(size_t size, gfp_t gfp, int node)
{
	(void)node;
	return kzalloc(size, gfp);
}
KMM_FORWARD_INLINE void *kmalloc_array_node(size_t n, size_t size, gfp_t gfp, int node)
{
	(void)node;
	return kmalloc_array(n, size, gfp);
}
KMM_FORWARD_INLINE void *kcalloc_node(size_t n, size_t size, gfp_t gfp, int node)
{
	(void)node;
	return kcalloc(n, size, gfp);
}
KMM_FORWARD_INLINE void *kmem_cache_alloc_node(struct kmem_cache *s, gfp_t gfp, int node)
{
	(void)node;
	return kmem_cache_alloc(s, gfp);
}

/* ---- Linux's helpers over the calls above (mm/kmalloc_util.cpp; linked
 * only if used). Each allocates with kmalloc(…, gfp), so GFP_DMA and
 * GFP_ATOMIC work as there, and is freed with kfree. ---- */
/* kmem_cache_alloc with __GFP_ZERO: the whole object zeroed (a ctor
 * cache's object too: the ctor's state is overwritten). */
KMM_FORWARD_INLINE void *kmem_cache_zalloc(struct kmem_cache *s, gfp_t gfp)
{
	return kmem_cache_alloc(s, gfp | __GFP_ZERO);
}
/* A copy of len bytes of src; len 0 gives ZERO_SIZE_PTR (as kmalloc(0)). */
void *kmemdup(const void *src, size_t len, gfp_t gfp);
/* A NUL-terminated copy of the first len bytes of s. */
char *kmemdup_nul(const char *s, size_t len, gfp_t gfp);
/* A copy of the string s; NULL s gives NULL. */
char *kstrdup(const char *s, gfp_t gfp);
/* A copy of at most max bytes of s, NUL-terminated; NULL s gives NULL. */
char *kstrndup(const char *s, size_t max, gfp_t gfp);
/* Linux's kstrdup_const/kfree_const: a string in the image's read-only
 * data is returned as it is (no allocation) and kfree_const skips it;
 * anything else is a kstrdup copy and a kfree. kmm knows the read-only data
 * from two symbols the firmware's linker script defines around it,
 * kmm_rodata_start and kmm_rodata_end (kmm's scripts in linker/ do; the
 * range must not overlap a region handed to kmm). Without them (the host,
 * or a script that lacks them) kstrdup_const always copies, and kfree_const
 * of a string literal is reported and refused as by kfree. Any context;
 * O(1) beyond kstrdup/kfree. */
const char *kstrdup_const(const char *s, gfp_t gfp);
void kfree_const(const void *x);
/* krealloc to n * size bytes; NULL (p intact, no report) on overflow. */
void *krealloc_array(void *p, size_t n, size_t size, gfp_t gfp);
/* kmalloc aligned to `align` (a power of two): kmalloc of size (at least
 * 1) rounded up to a multiple of align, which kmalloc aligns to align (a
 * power-of-two size to itself; the 96/192 classes' objects sit at
 * multiples of 32/64; larger sizes get a power-of-two class or a page
 * block). Checked all the same (a debug layout may move objects), with a
 * power-of-two size as the fallback. NULL: align not a power of two, the
 * rounding overflows, or no memory. kmm's own (no Linux name); the libc
 * shim's aligned_alloc and kmm::KmallocResource use it. Free with kfree. */
void *kmm_kmalloc_aligned(size_t size, size_t align, gfp_t gfp);
/* What ksize() of kmalloc(size) would be: the class size, or the whole
 * page block above the largest class (whole pages with the debug guard
 * pages of kmm_kmalloc_guard_pages); 0 for 0; size itself where kmalloc
 * fails (beyond the largest block; with guard pages, where the block and
 * its two guards do not fit). Allocates nothing. */
size_t kmalloc_size_roundup(size_t size);
/* Zeroes all ksize(p) bytes (a store the compiler keeps), then kfree(p):
 * for keys and passwords. An object of a cache with a ctor is then
 * constructed again (the ctor runs on the zeroed object, in the caller's
 * context) before the free, so that its cache still hands out only
 * constructed objects. NULL / ZERO_SIZE_PTR are no-ops. Reported once
 * and neither touched nor freed: a pointer kmalloc never gave, and an
 * object that is visibly free already (among the first 16 entries of its
 * slab's or this CPU's freelist, in this CPU's magazine, or its slab
 * empty), whose free pointer the zeroing would wipe. A free object deeper
 * in a freelist is not seen (the walk is bounded so that IRQs stay masked
 * for O(1)); as with a double kfree, that is undetected misuse. */
void kfree_sensitive(const void *p);
/* Linux's kvmalloc family for code ported from it: kmm has no vmalloc (no
 * MMU remapping), so these are kmalloc, kzalloc, kmalloc_array, kcalloc
 * and kfree — a large request is contiguous pages or fails. */
void *kvmalloc(size_t size, gfp_t gfp);
void *kvzalloc(size_t size, gfp_t gfp);
void *kvmalloc_array(size_t n, size_t size, gfp_t gfp);
void *kvcalloc(size_t n, size_t size, gfp_t gfp);
void kvfree(const void *p);
/* Linux 6.12's kvrealloc(p, size, gfp): krealloc (kmm has no vmalloc to
 * move to). Older kernels' kvrealloc(p, oldsize, newsize, gfp) ports by
 * dropping oldsize. */
void *kvrealloc(const void *p, size_t size, gfp_t gfp);
/* kmemdup under its kv name (Linux's kvmemdup). */
void *kvmemdup(const void *src, size_t len, gfp_t gfp);
/* A copy of count elements of element_size bytes (Linux 6.11's argument
 * order); NULL, no report, when count * element_size overflows. */
void *kmemdup_array(const void *src, size_t count, size_t element_size, gfp_t gfp);

/* ---- figures ---- */
struct kmem_cache_info {
	const char *name;
	unsigned long active_objs;    /* objects handed out to callers (not counting
	                                 magazine_objs, which are free) */
	unsigned long num_objs;       /* objects in all slabs */
	unsigned long active_slabs;   /* slabs with an object handed out */
	unsigned long num_slabs;
	unsigned long partial_slabs;  /* on the partial list */
	unsigned long empty_slabs;    /* kept for reuse (<= min_partial) */
	unsigned long full_slabs;
	unsigned long cpu_slabs;
	unsigned int object_size;     /* as created */
	unsigned int size;            /* stride: object + free pointer + padding */
	unsigned int align;
	unsigned int objects_per_slab;
	unsigned int pages_per_slab;
	unsigned int min_partial;
	unsigned long alloc_fastpath, alloc_slowpath;
	unsigned long free_fastpath, free_slowpath;
	unsigned long slabs_allocated, slabs_freed;
	/* Per-CPU magazines: free objects cached there (taken from their slabs,
	 * so num_objs - active_objs - magazine_objs are on slab freelists),
	 * the capacity per CPU (0: none) and the flushes of a full one. */
	unsigned long magazine_objs;
	unsigned int magazine_size;
	unsigned long magazine_flushes;
};
/* Fills *info; returns 0, or -KMM_EINVAL (reported) if s is not a live
 * cache. IRQs masked for O(partial slabs + CPU freelists + magazine
 * entries^2) under the cache's lock. */
int kmem_cache_get_info(struct kmem_cache *s, struct kmem_cache_info *info);

/* /proc/slabinfo version 2.1, one line per cache, never allocating.
 * The whole dump, sink calls included, runs with the cache-registry lock
 * held and IRQs masked (on SMP builds with the other CPUs stopped): the
 * sink must not call into kmm (kmem_cache_create or _destroy take that
 * lock: a deadlock on SMP builds) nor allocate (with the libc shim, malloc
 * is kmalloc), and should be quick. O(caches * kmem_cache_get_info). */
void kmm_slabinfo(kmm_sink_fn sink, void *ctx);
/* Per-cache path counters, one line per cache: name, alloc fast/slow, free
 * fast/slow, slabs allocated/freed. Never allocates; the sink runs as
 * kmm_slabinfo's (lock held, IRQs masked: no kmm calls, no allocation). */
void kmm_slabstats(kmm_sink_fn sink, void *ctx);
/* Checks every cache's lists, counters and freelists (inside their slab, on
 * object boundaries, no cycles) and every slab page; returns the number of
 * problems (each also described on the report hook), 0 before the slab
 * layer starts. IRQs masked per cache for O(managed pages + its objects);
 * on SMP builds the other CPUs are stopped for the whole call. Not for
 * latency-critical moments (docs/BARE_METAL.md). */
unsigned long kmm_slab_validate(void);
/* kmem_cache_shrink() on every cache (magazines included). Any page
 * allocation under memory pressure does this by itself (the slab layer's
 * reclaim hook in the page allocator), after draining the per-CPU page
 * lists and before the OOM hook, each followed by a retry: so it also runs
 * in IRQ context, for a GFP_ATOMIC allocation there. IRQs are masked per
 * cache and CPU for O(magazine entries + objects per slab) (a CPU slab's
 * freelist goes back to its page), then per empty slab freed; the whole
 * call is O(caches * (slabs + magazine entries)). Measured:
 * docs/BARE_METAL.md, "Longest IRQ-masked window". */
void kmm_slab_shrink_all(void);

/* ---- debugging (docs/DEBUGGING.md) ----
 * kmm_slub_debug: Linux's slub_debug= boot option, e.g. "FZPU" (every cache),
 * "Z,kmalloc-32,kmalloc-64" or "FZ;U,dentry". Applies to caches created
 * after the call, so call it before the first slab use (the kmalloc caches
 * are created then). Returns 0, or -KMM_EINVAL with a report for an unknown
 * letter or a string of KMM_SLUB_DEBUG_LEN bytes or more (the option is then
 * unchanged). Letters F Z P U T, and Linux's O (no Z P U where they would
 * raise a cache's slab order) and A (failslab: ignored). "" or "-": no
 * debugging; an empty block (";;") is skipped. */
int kmm_slub_debug(const char *options);
/* Checks every object of s: free pointers, object counts and, by the
 * cache's debug flags, poison, red zones and kmalloc red zones. Each problem
 * is reported ("BUG <cache>: ...") and repaired (patterns restored, a broken
 * freelist cut and its count fixed); returns the number of problems (1,
 * reported, if s is not a live cache). IRQs masked under the cache's lock
 * for O(objects of s); on SMP the other CPUs are stopped meanwhile (as for
 * kmm_slab_validate), and called with IRQs masked, when they cannot be,
 * it leaves their CPU freelists unchecked. */
unsigned long kmm_validate_slab_cache(struct kmem_cache *s);
/* Page allocator poisoning: free pages are filled with 0xaa and checked
 * when allocated ("BUG page_alloc: Poison overwritten"). Switching it on
 * poisons every free page and routes all page calls around the per-CPU
 * lists: boot only, with no page call running. Switching on fills every
 * free page with IRQs masked (zone lock held): O(free pages). Off: O(1). */
void kmm_page_poison(int on);
/* Guard pages: a large kmalloc gets a guard page before and after it,
 * checked (and on ASan builds poisoned) until kfree. A block keeps what it
 * was allocated with: kfree of one from before a switch works. */
void kmm_kmalloc_guard_pages(int on);
/* Linux's kmem_dump_obj: if `object` points anywhere into a slab of a live
 * cache, prints on the report hook (uncounted lines, as a report's detail)
 * "slab <cache> start <object> pointer offset <n> size <object size>:
 * allocated|free" and, for a SLAB_STORE_USER cache, who allocated and
 * freed it last; returns true. Anything else: prints nothing, false. On
 * SMP builds an object that is neither on its slab's freelist nor in the
 * running CPU's caches is "allocated, or free in another CPU's cache".
 * For debugging (a fault handler, a watchdog): never allocates, changes
 * nothing; IRQs masked under the cache's lock for O(objects per slab). */
bool kmem_dump_obj(const void *object);
/* Linux's mem_dump_obj: kmem_dump_obj's answer for a slab object; else what
 * the page allocator knows of the address: the page block it lies in (free,
 * from alloc_pages, compound, large kmalloc, alloc_pages_exact) with its
 * start, order and the offset, a reserved page, "not memory kmm manages",
 * or NULL/ZERO_SIZE_PTR. One line (plus tracks); as kmem_dump_obj. */
void mem_dump_obj(const void *object);

/* Entropy for the freelist secrets and randomisation: mm has a weak default
 * (the arch counter mixed with addresses); a board with a hardware RNG
 * overrides it by defining this function. */
uint64_t kmm_arch_entropy(void);

#ifdef __cplusplus
}
#endif

#endif /* KMM_SLAB_H */

/*
 * mm/slub.h — SlabAllocator: SLUB object caches and kmalloc over one
 * PageAllocator, reporting misuse to one Reporter. The design (lock order,
 * slab states, freelist encoding) is written at the top of slub.cpp; the
 * layout of a slab in slab_common.h; a cache's per-CPU part (CacheCpu,
 * the magazine ring) in slub_cpu.h; the inline fast paths in slub_fast.h.
 *
 * Instances are independent: tests build private ones over their own page
 * allocator; the C facade (slab_api.cpp) owns the global one. An instance
 * starts (init) explicitly or on first use, once its PageAllocator is
 * initialised: it then builds its "kmem_cache" boot cache — a static cache
 * whose objects are the kmem_cache structs of every other cache — and the
 * kmalloc caches. It needs no other allocator.
 *
 * Field ownership in struct kmem_cache:
 *   cpu[]       the owning CPU with IRQs masked (the fast path), no lock —
 *               except CacheCpu::flush_req and mag_limit, which another CPU
 *               may write to ask for a flush (slub.cpp "SMP");
 *   layout      written once by create, then read-only;
 *   lists and   kmem_cache::lock (IRQs masked);
 *   counters
 *   caches_[]   registry_lock_ for writes; reads of a live cache's slot are
 *               lock-free (a slot changes only on create and destroy);
 *               shrink_all's walk reads every slot and is counted in
 *               reclaimers_[], which destroy waits out before it frees.
 */
#ifndef KMM_MM_SLUB_H
#define KMM_MM_SLUB_H

#include <stddef.h>
#include <stdint.h>

#include <kmm/slab.h>

#include "page.h"
#include "page_alloc.h"
#include "reporter.h"
#include <arch/arch.h>

#include "slab_common.h"
#include "slab_debug.h"
#include "slub_cpu.h"
#include "spinlock.h"

namespace kmm {

/* A slab's page::inuse and page::freelist change under its cache's lock,
 * and the free paths read them without it (kfree_fast, free_object: a
 * test that can only hold for an object already free). Relaxed atomics:
 * plain halfword loads and stores on every target. */
__attribute__((always_inline)) inline uint16_t slab_inuse(const struct page *p)
{
	if constexpr (KMM_NR_CPUS > 1)
		return __atomic_load_n(&p->inuse, __ATOMIC_RELAXED);
	else
		return p->inuse;
}
__attribute__((always_inline)) inline uint16_t slab_freelist(const struct page *p)
{
	if constexpr (KMM_NR_CPUS > 1)
		return __atomic_load_n(&p->freelist, __ATOMIC_RELAXED);
	else
		return p->freelist;
}
inline void set_slab_inuse(struct page *p, unsigned inuse)
{
	__atomic_store_n(&p->inuse, static_cast<uint16_t>(inuse), __ATOMIC_RELAXED);
}
/* The lazy start (SlabAllocator::init, on the first call that needs the
 * slab layer) fills the kmalloc class table, kmalloc_max_ and the copy of
 * region 0's map, which the inline paths read before they know whether
 * the layer has started. With several CPUs another CPU's first kmalloc or
 * kfree may run while one CPU starts it: the start writes them last, with
 * release stores (publish), and the inline paths read them with
 * published(). On SMP host builds that is an acquire load (a plain load
 * on x86): such a CPU sees either the unstarted values (and takes the
 * slow path, which waits for the start) or everything the start wrote —
 * race-free in the C++ model, as ThreadSanitizer checks
 * (SlabSmpLazyStart). SMP targets keep a relaxed load (no barrier on the
 * fast path; the cache is read through the loaded pointer, an address
 * dependency ARMv7 and RVWMO order) and start the slab layer before
 * their secondary CPUs (kernel/boot.cpp). One CPU: plain loads and
 * stores, as before (kfree's inline path loads map_start_ and map_bytes_
 * as one pair there). */
inline constexpr int kPublishedLoad =
#if defined(KMM_HOST)
	__ATOMIC_ACQUIRE;
#else
	__ATOMIC_RELAXED;
#endif
template <typename T> __attribute__((always_inline)) inline T published(const T &v)
{
	if constexpr (KMM_NR_CPUS > 1)
		return __atomic_load_n(&v, kPublishedLoad);
	else
		return v;
}
template <typename T> inline void publish(T &v, T value)
{
	if constexpr (KMM_NR_CPUS > 1)
		__atomic_store_n(&v, value, __ATOMIC_RELEASE);
	else
		v = value;
}
/* Every page of a slab, head and tails, carries its cache's id (0 on every
 * page that is not a slab's): kfree's inline path maps an address to its
 * cache in one load, without going through the head page. */
inline void set_slab_cache_id(struct page *head, unsigned order, uint16_t id)
{
	for (size_t i = 0; i < (size_t{1} << order); ++i)
		__atomic_store_n(&head[i].cache_id, id, __ATOMIC_RELAXED);
}
__attribute__((always_inline)) inline uint16_t page_cache_id(const struct page *p)
{
	if constexpr (KMM_NR_CPUS > 1)
		return __atomic_load_n(&p->cache_id, __ATOMIC_RELAXED);
	else
		return p->cache_id;
}
inline void set_slab_freelist(struct page *p, uint16_t encoded)
{
	__atomic_store_n(&p->freelist, encoded, __ATOMIC_RELAXED);
}

inline constexpr unsigned kNrKmallocClasses = 13;

/* kmem_cache::id of the boot cache ("kmem_cache"); id 0 is no cache. */
inline constexpr uint16_t kBootCacheId = 1;
/* kmem_cache::id of a destroyed cache's descriptor (kmem_cache_destroy):
 * no page carries it and it names no table slot, so a late
 * kmem_cache_free finds x's page of another cache and a late
 * kmem_cache_alloc fails registered() — both report instead of touching a
 * dead cache. */
inline constexpr uint16_t kDeadCacheId = 0xffff;

/* kmem_cache::lock: protects a cache's lists and counters and the page
 * freelists of its slabs. On one CPU, masking IRQs is all the exclusion
 * there is, and every slab path masks them; so the lock word is real only
 * when KMM_NR_CPUS > 1. Uniprocessor builds, the host's included, pay
 * nothing for it. */
using SlabLock = RawSpinLock<(KMM_NR_CPUS > 1)>;

/* Takes a SlabLock with IRQs already masked by the caller. */
class SlabLockIrqsOff {
public:
	explicit SlabLockIrqsOff(SlabLock &lock) : lock_(lock) { lock_.acquire(); }
	~SlabLockIrqsOff() { lock_.release(); }
	SlabLockIrqsOff(const SlabLockIrqsOff &) = delete;
	SlabLockIrqsOff &operator=(const SlabLockIrqsOff &) = delete;

private:
	SlabLock &lock_;
};

/* Masks IRQs, then takes a SlabLock. */
class SlabLockGuard {
public:
	explicit SlabLockGuard(SlabLock &lock) : lock_(lock), flags_(kmm_arch_irq_save()) { lock_.acquire(); }
	~SlabLockGuard()
	{
		lock_.release();
		kmm_arch_irq_restore(flags_);
	}
	SlabLockGuard(const SlabLockGuard &) = delete;
	SlabLockGuard &operator=(const SlabLockGuard &) = delete;

private:
	SlabLock &lock_;
	unsigned long flags_;
};

/* SMP: the other CPUs stopped (kmm_arch_cpus_stop) for the guard's
 * lifetime, so their per-CPU data (CPU freelists, magazines, CPU partial
 * slabs) holds still while it is read (slab_stats.cpp: the figures and
 * validate; slab_debug.cpp: validate_slab_cache). Taken before any lock.
 * Refused for a caller with IRQs masked (stopped() false): the others
 * then run on, and their per-CPU data may change under the reader. */
class OtherCpusStopped {
public:
	OtherCpusStopped() : stopped_(KMM_NR_CPUS > 1 && kmm_arch_cpus_stop() == 0) {}
	~OtherCpusStopped()
	{
		if (stopped_)
			kmm_arch_cpus_resume();
	}
	OtherCpusStopped(const OtherCpusStopped &) = delete;
	OtherCpusStopped &operator=(const OtherCpusStopped &) = delete;
	/* One CPU, or the others stopped: every CPU's data holds still. */
	bool all_still() const { return KMM_NR_CPUS == 1 || stopped_; }

private:
	bool stopped_;
};

} // namespace kmm

struct kmem_cache {
	kmm::CacheCpu cpu[KMM_NR_CPUS];

	/* ---- layout: set by create, read-only after (see slab_common.h) ---- */
	uint32_t offset = 0;         /* free pointer offset in an object's stride */
	uint32_t size = 0;           /* stride */
	uint64_t div_magic = 0;      /* divisibility test by size */
	uint32_t index_inverse = 0;  /* object_index_ok: odd part of size, inverted mod 2^32 */
	uint32_t index_shift = 0;    /* ... and the power of two of size */
	uint32_t object_size = 0;
	uint32_t align = 0;
	uint32_t slab_bytes = 0;     /* kPageSize << order */
	uintptr_t slab_mask = 0;     /* slab_bytes - 1: x & slab_mask = x's offset in its slab */
	uintptr_t object_area = 0;   /* objects * size: offsets of objects lie below it */
	uint16_t objects = 0;        /* per slab */
	uint16_t id = 0;             /* index in the cache table = page::cache_id (1 ...) */
	uint8_t order = 0;
	slab_flags_t flags = 0;
	void (*ctor)(void *) = nullptr;
	uintptr_t random = 0;        /* KMM_SLAB_FREELIST_HARDENED: this cache's secret */
	/* debug caches (slab_debug.h): users get slot + red_left */
	uint32_t red_left = 0;
	uint32_t inuse = 0;          /* end of object + right red zone in the slot */
	uint32_t track_offset = 0;   /* SLAB_STORE_USER records; 0: none */
	uint32_t orig_offset = 0;    /* SLAB_RED_ZONE: kmalloc's requested size; 0: none */

	/* ---- under lock ---- */
	alignas(kmm::kCacheCpuAlign) kmm::SlabLock lock; /* SMP: a line apart from the layout */
	kmm::PageList partial;       /* kSlab, 0 < inuse < objects; refills from the head */
	kmm::PageList empty;         /* kSlab, inuse == 0; at most min_partial */
	kmm::PageList full;          /* kSlab, inuse == objects; SLAB_CONSISTENCY_CHECKS only */
	unsigned long nr_slabs = 0;  /* all slabs: cpu + partial + empty + full */
	unsigned long nr_full = 0;   /* full slabs, listed or not */
	unsigned min_partial = 0;
	uint32_t mag_capacity = 0;   /* what each CPU's mag_limit returns to */
	unsigned long slabs_allocated = 0;
	unsigned long slabs_freed = 0;
	/* Atomic, any context: slab pages that carry this cache's id but are
	 * not counted in nr_slabs — being built (allocate_slab until counted)
	 * or given back (from uncounting until discard_slab clears the id).
	 * validate() allows for them while other CPUs run; 0 when quiet. */
	unsigned long slabs_in_flight = 0;
	bool kmalloc = false;        /* a kmalloc-* or the boot cache: never destroyed */
	char name[KMM_SLAB_NAME_LEN] = {};
};

namespace kmm {

class SlabAllocator;
void slab_free_fast(SlabAllocator &a, kmem_cache *s, void *x);
void *kmalloc_fast(SlabAllocator &a, size_t size, gfp_t gfp);
void kfree_fast(SlabAllocator &a, const void *x);
struct page *fast_page(const SlabAllocator &a, uintptr_t addr);

class SlabAllocator {
public:
	constexpr SlabAllocator(PageAllocator &pages, Reporter &reporter) : pages_(pages), reporter_(reporter)
	{
		for (auto &k : kmalloc_caches_)
			k = &unready_;
	}
	SlabAllocator(const SlabAllocator &) = delete;
	SlabAllocator &operator=(const SlabAllocator &) = delete;

	/* Builds the boot cache and the kmalloc caches. 0, -KMM_EINVAL if the
	 * page allocator is not initialised, -KMM_ENOMEM. Idempotent. gfp:
	 * the flags of the call that starts the slab layer (its first
	 * kmalloc); its __GFP_NOWARN, __GFP_NORETRY and __GFP_ATOMIC apply to
	 * the descriptors' allocations, so a failed start warns and runs the
	 * OOM hook only if that call allows it (kInitGfp). */
	int init(gfp_t gfp = GFP_KERNEL);
	/* Forgets every cache without touching memory: for use together with
	 * PageAllocator::reset() (kmm_shutdown). */
	void reset();
	bool initialized() const { return initialized_; }

	/* ---- caches (see kmm/slab.h for the contract of each) ---- */
	kmem_cache *create(const char *name, unsigned int size, unsigned int align, slab_flags_t flags,
			   void (*ctor)(void *));
	void destroy(kmem_cache *s);
	int shrink(kmem_cache *s);
	/* shrink() of every cache; safe against a concurrent destroy. */
	void shrink_all();
	void *alloc(kmem_cache *s, gfp_t gfp);
	void free(kmem_cache *s, void *x);
	/* caller: what SLAB_STORE_USER/SLAB_TRACE record for a debug cache
	 * (the C API passes its return address) */
	int alloc_bulk(kmem_cache *s, gfp_t gfp, size_t nr, void **p, const void *caller = nullptr);
	void free_bulk(kmem_cache *s, size_t nr, void **p, const void *caller = nullptr);
	/* Linux's /sys/kernel/slab/<cache>/min_partial. */
	void set_min_partial(kmem_cache *s, unsigned min_partial);
	/* Sets s's per-CPU magazine capacity (clamped to kMagazineMax; 0
	 * disables it) after emptying every magazine of s. Ignored for
	 * SLAB_CONSISTENCY_CHECKS caches (they never have one). */
	void set_magazine_size(kmem_cache *s, unsigned entries);
	/* Memory pressure: empties every magazine and returns every empty slab
	 * of every cache (shrink_all). init() registers it as the page
	 * allocator's reclaim hook, so any page allocation under pressure runs
	 * it (this allocator must then outlive the page allocator's use, or
	 * reset()); a new slab that the page allocator refuses runs it too,
	 * then retries the partial lists before asking for pages again. */
	void reclaim();
	/* Tests: fn(arg) runs in every reclaim walk once the walk counted
	 * itself, before it reads the cache table — standing for an interrupt
	 * that arrives mid-walk (say, one that destroys a cache). */
	void set_reclaim_walk_hook(void (*fn)(void *), void *arg)
	{
		walk_hook_arg_ = arg;
		walk_hook_ = fn;
	}
	/* Tests: how many times destroy() flipped the walks' epoch. */
	unsigned long reclaim_epoch() const { return __atomic_load_n(&reclaim_epoch_, __ATOMIC_SEQ_CST); }
	/* True if s is a cache of this allocator that has not been destroyed. */
	bool is_live(const kmem_cache *s) const;
	/* kmem_cache_alloc/free/alloc_bulk with a NULL cache: reported as no
	 * live cache; returns NULL. */
	__attribute__((noinline, cold)) void *refuse_null_cache(const char *caller);
	/* alloc_bulk/free_bulk with nr > 0 and a NULL array: reported. */
	__attribute__((noinline, cold)) void refuse_null_array(const char *caller, size_t nr);
	/* SMP: how shrink/reclaim/destroy reach other CPUs' caches (slub.cpp
	 * "SMP"). kSync (the default): drained at once on that CPU through
	 * kmm_arch_cpu_call (an IPI; on the host, holding its slot), falling
	 * back to a request where the call is refused; kRequest: always asked
	 * to flush at their next slow path. */
	enum class RemoteDrain : uint8_t { kSync, kRequest };
	void set_remote_drain(RemoteDrain mode) { remote_drain_ = mode; }
	RemoteDrain remote_drain() const { return remote_drain_; }
	/* Other CPUs' drains that were asked for rather than done (kRequest,
	 * or a refused cross-CPU call) since init. */
	unsigned long remote_drain_requests() const { return __atomic_load_n(&remote_drain_requests_, __ATOMIC_RELAXED); }
	kmem_cache *cache(unsigned id) const { return id <= KMM_MAX_CACHES ? slot(id) : nullptr; }
	/* A slot of caches_[], read without registry_lock_ (create and destroy
	 * of other caches write it meanwhile): relaxed, one plain load. */
	kmem_cache *slot(unsigned id) const { return __atomic_load_n(&caches_[id], __ATOMIC_RELAXED); }
	kmem_cache *boot_cache() { return &boot_cache_; }

	/* ---- kmalloc (kmalloc.cpp) ---- */
	void *kmalloc(size_t size, gfp_t gfp);
	void kfree(const void *x);
	size_t ksize(const void *x);
	/* kmm_kmalloc_size: ksize's value without its side effects (misuse
	 * reported naming `who`); 0 for NULL/ZERO_SIZE_PTR. */
	size_t kmalloc_size(const void *x, const char *who)
	{
		if (ZERO_OR_NULL_PTR(x))
			return 0;
		kmem_cache *s;
		return usable_size(x, who, &s);
	}
	/* caller: what SLAB_STORE_USER/SLAB_TRACE record for the new object
	 * (the C API passes its return address; NULL: krealloc's own) */
	void *krealloc(const void *p, size_t new_size, gfp_t gfp, const void *caller = nullptr);
	/* Zeroes ksize(p) bytes, then kfree; refused (a report) for a pointer
	 * kmalloc never gave or an object that is visibly free (object_free:
	 * bounded, so its IRQ-masked window is O(1)). */
	void kfree_sensitive(const void *p);
	/* The cache serving kmalloc(size), or NULL for 0 and large sizes. */
	kmem_cache *kmalloc_cache(size_t size) const;
	size_t kmalloc_max_cache_size() const { return kmalloc_max_; }

	/* ---- figures (slab_stats.cpp) ----
	 * info, slabinfo, slabstats and validate stop the other CPUs while
	 * they read (kmm_arch_cpus_stop): safe while those allocate. Call
	 * them with IRQs enabled and no lock held; with IRQs masked they read
	 * without stopping, exact only if the other CPUs are quiescent. */
	int info(kmem_cache *s, struct kmem_cache_info *out);
	void slabinfo(kmm_sink_fn sink, void *ctx);
	void slabstats(kmm_sink_fn sink, void *ctx);
	/* Returns the number of problems found (see kmm_slab_validate). */
	unsigned long validate();
	/* kmem_dump_obj / mem_dump_obj (kmm/slab.h; mem_dump.cpp). */
	bool dump_object(const void *x);
	void dump_memory(const void *x);

	PageAllocator &pages() const { return pages_; }
	Reporter &reporter() const { return reporter_; }

	/* ---- slow paths behind the inline fast paths (slub_fast.h) ---- */
	/* `caller` (SLAB_STORE_USER): NULL from the inline paths, which must
	 * not read their return address (GCC then sets up a frame on the hit
	 * path too); the slow path takes its own return address instead, which
	 * is the API caller's when the API function tail-calls it (GCC and
	 * Clang do at -O2), else an address inside kmm's API function.
	 * Out of pages, it runs reclaim() and tries again, unless gfp has
	 * __GFP_NORETRY (no reclaim, no OOM hook: gfp.h). At most three
	 * arguments besides `this`: a fourth would go on the stack on 32-bit
	 * ARM, and kmem_cache_alloc could not tail-call it (a stack frame on
	 * its hit path). */
	__attribute__((noinline, cold)) void *alloc_slow(kmem_cache *s, gfp_t gfp, const void *caller = nullptr);
	__attribute__((noinline, cold)) void free_slow(kmem_cache *s, void *x, const void *caller = nullptr);
	__attribute__((noinline, cold)) void *kmalloc_slow(size_t size, gfp_t gfp, const void *caller = nullptr);
	/* kmalloc's inline path found s's magazine and CPU freelist empty:
	 * the next slab from s's lists (no new slab), else kmalloc_slow. */
	__attribute__((noinline)) void *kmalloc_refill(kmem_cache *s, size_t size, gfp_t gfp);
	__attribute__((noinline, cold)) void kfree_slow(const void *x, const void *caller = nullptr);
	/* kmalloc recording `caller` in a debug class (Linux's
	 * kmalloc_track_caller), for kmm's own callers (krealloc). */
	void *kmalloc_caller(size_t size, gfp_t gfp, const void *caller);
	/* False only if kmalloc(size) cannot record a caller: the slab layer
	 * is up, size is a class size, and no kmalloc class is a debug cache.
	 * kmm_kmalloc_track_caller's inline test: kmalloc's inline path when
	 * false, else kmalloc_caller (the libc shim's malloc hit path). */
	bool kmalloc_may_track(size_t size) const
	{
		if constexpr (KMM_NR_CPUS > 1) /* kmalloc_max_ first: it publishes kmalloc_tracked_ */
			return size - 1 >= published(kmalloc_max_) || kmalloc_tracked_;
		return kmalloc_tracked_ || size - 1 >= kmalloc_max_;
	}
	/* Does a kmalloc class record callers (a debug class)? */
	bool kmalloc_tracked() const { return kmalloc_tracked_; }
	/* kfree/kmem_cache_free of a slab's object that the inline path could
	 * not push: full checks, then the magazine (evicting its kMagazineEvict
	 * oldest entries when full) or, without one, the slab. */
	void free_object(kmem_cache *s, struct page *slab, void *x, const void *caller);
	/* The same from the inline paths: `page` is any page of x's slab (a
	 * tail too); three arguments and no frame, so the inline path can
	 * tail-call it. The caller for SLAB_STORE_USER is its return address. */
	__attribute__((noinline)) void free_object_inline(kmem_cache *s, struct page *page, void *x);
	/* The inline paths' free that found the magazine at its bound: x
	 * passed all their checks; on SMP (and whenever free_overflow_masked
	 * does not apply) IRQs were restored and this is called (four
	 * arguments, a tail call). It masks them again and looks afresh: a
	 * full magazine (kMagazineEvict 0, the default) leaves x on its own
	 * slab (`slab`, its head page), with the list moves and a slab
	 * release; kMagazineEvict > 0
	 * evicts that many oldest entries and pushes x; room again (an IRQ
	 * popped) or the array's end: the push, wrapping the ring. Without a
	 * magazine, with a flush request pending, or for a debug cache it
	 * takes free_object's way instead. */
	__attribute__((noinline)) void free_overflow(kmem_cache *s, struct page *slab, void *x);
	/* One CPU, kMagazineEvict 0 (kMaskedOverflow): the same, entered
	 * with IRQs still masked by the inline path, which first left its
	 * saved flags with hand_over_irq_flags() (a fifth argument would cost
	 * the tail call). A magazine that is exactly full goes straight to
	 * the slab (no second mask, nothing re-read); any other case restores
	 * IRQs and takes free_overflow. */
	__attribute__((noinline)) void free_overflow_masked(kmem_cache *s, struct page *slab, void *x);
	void hand_over_irq_flags(unsigned long flags) { overflow_flags_ = flags; }
	/* The inline paths' out-of-line twins (slub_fast.h fast_hold): the
	 * same operation with the full hold, for the calls whose try of the
	 * common case failed. kmem_cache_alloc; kmalloc from its class's
	 * cache s; the free of x (a pointer into `page`, a page of a slab of
	 * s) that passed the inline checks. */
	__attribute__((noinline)) void *alloc_full_hold(kmem_cache *s, gfp_t gfp);
	__attribute__((noinline)) void *kmalloc_full_hold(kmem_cache *s, size_t size, gfp_t gfp);
	__attribute__((noinline)) void push_full_hold(kmem_cache *s, struct page *page, void *x);
	/* The inline paths popped `object` for a request with __GFP_ZERO or
	 * __GFP_DMA (one flag test, kColdGfp): zeroing, or __GFP_DMA —
	 * kmem_cache_alloc refuses it unless s is SLAB_CACHE_DMA (the object
	 * goes back); kmalloc puts the object back and takes one from its
	 * dma-kmalloc class (kmalloc_slow). kmalloc_flagged finds the cache
	 * from size (the class the inline path popped from), so the call
	 * needs no fifth argument: on 32-bit ARM that would go on the stack
	 * and give the inline path a frame. */
	__attribute__((noinline, cold)) void *alloc_flagged(kmem_cache *s, void *object, gfp_t gfp);
	__attribute__((noinline, cold)) void *kmalloc_flagged(void *object, size_t size, gfp_t gfp);
	/* Puts back an object the inline pop of alloc_flagged/kmalloc_flagged
	 * took for a call it cannot serve: neither the pop nor the put-back
	 * shows in the statistics (no phantom alloc and free). */
	void unpop(kmem_cache *s, void *object);

	/* ---- debugging (slab_debug*.cpp, slab_harden.cpp; docs/DEBUGGING.md) ---- */
	/* The boot option (kmm_slub_debug syntax) for caches created from now
	 * on; 0 or -KMM_EINVAL (unchanged) for an unknown letter. */
	int set_debug_options(const char *options);
	/* Checks and repairs every object of s; returns the problems found. */
	unsigned long validate_slab_cache(kmem_cache *s);
	/* Large kmalloc blocks get a guard page on each side (checked at kfree). */
	void set_kmalloc_guard(bool on) { kmalloc_guard_ = on; }
	bool kmalloc_guard() const { return kSlabDebug && kmalloc_guard_; }
	/* What kmalloc(size) above the largest class hands out: whole pages,
	 * with guard pages (debug) the data pages between them; 0 where
	 * kmalloc fails (beyond the largest block). kmalloc_size_roundup. */
	size_t large_usable_size(size_t size) const;

private:
	friend void slab_free_fast(SlabAllocator &, kmem_cache *, void *);
	friend void *kmalloc_fast(SlabAllocator &, size_t, gfp_t);
	friend void kfree_fast(SlabAllocator &, const void *);
	friend ::page *fast_page(const SlabAllocator &, uintptr_t);

	/* slab_common.cpp */
	static constexpr gfp_t kInitGfp = __GFP_NOWARN | __GFP_NORETRY | __GFP_ATOMIC;
	int init_locked(gfp_t gfp);
	/* gfp: of the descriptor's allocation; __GFP_NOWARN also silences
	 * the "out of memory" warning */
	kmem_cache *create_cache(const char *name, const CacheLayout &layout, slab_flags_t flags,
				 void (*ctor)(void *), bool kmalloc, gfp_t gfp = GFP_KERNEL);
	void setup_cache(kmem_cache *s, const char *name, const CacheLayout &layout, slab_flags_t flags,
			 void (*ctor)(void *));
	int register_cache_locked(kmem_cache *s);
	bool check_cache(const kmem_cache *s, const char *caller);
	/* s (which the caller already dereferenced) is the cache in its own
	 * table slot: live. Cheap, for slow paths; is_live() never
	 * dereferences s. */
	bool registered(const kmem_cache *s) const
	{
		uint16_t id = s->id;
		return id <= KMM_MAX_CACHES && __atomic_load_n(&caches_[id], __ATOMIC_ACQUIRE) == s;
	}
	/* Frees a descriptor this allocator no longer lists (destroy, a
	 * create or an init that failed) to the boot cache. */
	void free_descriptor(kmem_cache *s);

	/* slub.cpp */
	struct page *allocate_slab(kmem_cache *s, gfp_t gfp);
	__attribute__((cold)) gfp_t fix_gfp(gfp_t gfp, const char *who);
	void discard_slab(kmem_cache *s, struct page *slab);
	inline bool release_slab_masked(kmem_cache *s, struct page *slab);
	inline void overflow_to_slab(kmem_cache *s, CacheCpu &c, struct page *slab, void *x, unsigned long flags);
	/* A slab from allocate_slab joins s's count, or one leaves it for
	 * discard_slab (nr_slabs, slabs_in_flight and the stats). Lock held. */
	static void count_slab_locked(kmem_cache *s)
	{
		++s->nr_slabs;
		if constexpr (KMM_NR_CPUS > 1)
			__atomic_fetch_sub(&s->slabs_in_flight, 1ul, __ATOMIC_RELAXED);
		else
			--s->slabs_in_flight; /* IRQs masked: only this CPU's IRQs look */
		++s->slabs_allocated;
	}
	static void uncount_slab_locked(kmem_cache *s)
	{
		--s->nr_slabs;
		if constexpr (KMM_NR_CPUS > 1)
			__atomic_fetch_add(&s->slabs_in_flight, 1ul, __ATOMIC_RELAXED); /* until discard_slab */
		else
			++s->slabs_in_flight;
		++s->slabs_freed;
	}
	/* The same outside the lock, IRQs on (allocate_slab, discard_slab):
	 * a slab counter any CPU or interrupt may change. SMP: seq_cst,
	 * ordered with the cache ids another CPU's validate reads; one CPU: a
	 * plain update with IRQs masked for it (only an interrupt on this CPU
	 * can look or change it meanwhile). delta: +1 or -1. */
	static void count_unlocked(unsigned long &counter, long delta)
	{
		if constexpr (KMM_NR_CPUS > 1) {
			__atomic_fetch_add(&counter, static_cast<unsigned long>(delta), __ATOMIC_SEQ_CST);
		} else {
			unsigned long flags = arch::irq_save();
			counter += static_cast<unsigned long>(delta);
			arch::irq_restore(flags);
		}
	}
	/* A slab page with no cache id — allocate_slab before it sets the id,
	 * discard_slab after it clears it — is counted in transit_begun_ and
	 * transit_ended_ (count_unlocked), so validate() can tell it from a
	 * lost id. */
	bool place_slab_locked(kmem_cache *s, struct page *slab);
	inline void place_full_locked(kmem_cache *s, struct page *slab);
	inline void install_cpu_slab_locked(kmem_cache *s, CacheCpu &c, struct page *slab);
	inline void refill_cpu_slab(kmem_cache *s, CacheCpu &c);
	inline void *pop_or_refill(kmem_cache *s, CacheCpu &c);
	void *alloc_from_lists(kmem_cache *s, gfp_t gfp, size_t size);
	struct page *deactivate_cpu_slab(kmem_cache *s, CacheCpu &c);
	void *alloc_checked(kmem_cache *s, gfp_t gfp, size_t orig_size, const void *caller);
	bool take_object_locked(kmem_cache *s, struct page *slab, void *&object);
	enum class FreeResult : uint8_t { kFreed, kDoubleFree };
	FreeResult free_to_slab_locked(kmem_cache *s, CacheCpu &c, struct page *slab, void *x, PageList &discard,
				       bool searched = false);
	unsigned long flush_magazine(kmem_cache *s, CacheCpu &c, uint32_t count, PageList &discard, void *&bad);
	/* Address of a slab's first page: region 0 without the region loop
	 * (as slab_of), any other through the page allocator. */
	uintptr_t slab_address(const struct page *slab) const
	{
		uintptr_t i = static_cast<uintptr_t>(slab - map_pages_);
		if (__builtin_expect(i < (map_bytes_ >> kPageShift), 1))
			return map_start_ + (i << kPageShift);
		return reinterpret_cast<uintptr_t>(pages_.page_address(slab));
	}
	/* The bodies of the two above, inline in free_overflow (slub.cpp).
	 * kCountOut false: an empty slab beyond min_partial is returned in
	 * `discard` still counted in, for release_slab_masked. */
	template <bool kMayCheck, bool kCountOut = true, bool kSearch = true>
	inline FreeResult free_to_slab(kmem_cache *s, CacheCpu &c, struct page *slab, void *x, struct page *&discard);
	inline unsigned long evict_oldest(kmem_cache *s, CacheCpu &c, uint32_t count, PageList &discard, void *&bad);
	__attribute__((noinline, cold)) void report_double_free(kmem_cache *s, void *x);
	void report_flush_double_frees(kmem_cache *s, unsigned long n, void *first);
	void drain_magazines(kmem_cache *s);
	/* SMP (slub.cpp): everything c caches goes back to the lists; c is the
	 * running CPU's (a cross-CPU call runs it there), or on the host
	 * another's whose slot the caller holds. IRQs masked. */
	unsigned long drain_cpu_held(kmem_cache *s, CacheCpu &c, bool slabs, PageList &discard, void *&bad);
	void drain_cpu(kmem_cache *s, unsigned cpu, bool slabs);
	static void drain_cpu_call(void *arg); /* kmm_arch_cpu_call's fn */
	void drain_all_cpus(kmem_cache *s, bool slabs);
	__attribute__((noinline, cold)) void honour_flush(kmem_cache *s);
	bool flush_pending(const CacheCpu &c) const
	{
		return KMM_NR_CPUS > 1 && __atomic_load_n(&c.flush_req, __ATOMIC_ACQUIRE) !=
						  __atomic_load_n(&c.flush_done, __ATOMIC_RELAXED);
	}
	inline struct page *slab_of(const void *x) const;
	/* x's slab head if x is in a slab of s, else NULL (never reports). */
	struct page *cache_slab_of(const kmem_cache *s, const void *x) const;
	struct page *find_slab(const void *x, const char *who, const char *action);
	bool check_object(kmem_cache *s, const void *x, const char *action);
	__attribute__((noinline, cold)) void report_bad_object(kmem_cache *s, const void *x, const char *action);
	__attribute__((noinline, cold)) void free_misuse(kmem_cache *s, void *x);
	/* shrink() without the liveness check (shrink_all: s is pinned). */
	void shrink_cache(kmem_cache *s);
	size_t drain_empty_locked(kmem_cache *s, PageList &out);

	/* Whether x, an object of s (check_object passed), is free as far as
	 * this CPU can see: its slab is empty, it is among the first max_steps
	 * entries of its slab's page freelist or of the CPU freelist, or in
	 * this CPU's magazine. Not in other CPUs' magazines. IRQs masked for
	 * O(max_steps): the default keeps it O(1) (kfree_sensitive);
	 * kmem_dump_obj searches the whole lists. */
	bool object_free(kmem_cache *s, const void *x, unsigned max_steps = kVisibleFreelist);
	/* x (an object of slab, a slab of s) is free by the tests kfree's
	 * inline path makes: its slab is empty, or x heads the slab's or the
	 * CPU freelist, or tops this CPU's magazine: O(1). On a
	 * SLAB_CONSISTENCY_CHECKS cache: x is anywhere on its slab's
	 * freelist (O(free objects), under the cache lock). */
	bool visibly_free(kmem_cache *s, struct page *slab, const void *x);
	static constexpr unsigned kVisibleFreelist = 16;
	/* Whether slot is on the freelist starting at head (at most
	 * min(s->objects, max_steps) steps; false at a corrupt free pointer).
	 * Lock held. */
	bool on_freelist(const kmem_cache *s, void *head, uintptr_t slot, unsigned max_steps = ~0u) const;
	/* GFP_DMA asked of a cache whose objects may lie outside the DMA zone. */
	static bool dma_refused(const kmem_cache *s, gfp_t gfp)
	{
		return (gfp & __GFP_DMA) != 0 && (s->flags & SLAB_CACHE_DMA) == 0;
	}

	/* kmalloc.cpp */
	int create_kmalloc_caches_locked(gfp_t gfp);
	kmem_cache *create_kmalloc_cache(unsigned index, bool dma, gfp_t gfp);
	/* kmem_cache_alloc(GFP_DMA) from a cache without SLAB_CACHE_DMA: a
	 * misuse report (bad flags, as alloc_pages reports them); NULL. */
	__attribute__((noinline, cold)) void *refuse_dma(kmem_cache *s);
	/* ksize without its side effects (misuse is reported): the class size. */
	size_t usable_size(const void *x, const char *action, kmem_cache **cache);
	void *kmalloc_large(size_t size, gfp_t gfp);
	void *kmalloc_fallback(unsigned index, size_t size, gfp_t gfp);
	/* kmalloc's class table for gfp: the dma-kmalloc twins for GFP_DMA
	 * (entries NULL where none was made), else the Normal classes. */
	kmem_cache *const *kmalloc_classes(gfp_t gfp) const
	{
		return (gfp & __GFP_DMA) != 0 ? kmalloc_dma_caches_ : kmalloc_caches_;
	}
	bool has_dma_zone() const { return pages_.counts(KMM_ZONE_DMA).managed != 0; }

	/* slab_debug_options.cpp */
	slab_flags_t debug_flags_for(const char *name) const;
	slab_flags_t drop_order_raising_debug(unsigned size, unsigned align, slab_flags_t flags, bool has_ctor) const;
	/* slab_harden.cpp */
	uint64_t random_next();
	void *randomize_freelist(kmem_cache *s, uintptr_t base);
	void *kmalloc_large_guarded(size_t size, gfp_t gfp);
	bool kfree_large_guarded(struct page *head, const void *x);
	/* slab_debug.cpp */
	unsigned check_slot_locked(kmem_cache *s, struct page *slab, uintptr_t slot, bool free, bool report_only_first);
	void hold_cut_objects_locked(kmem_cache *s, struct page *slab);
	void report_bytes(kmem_cache *s, struct page *slab, uintptr_t slot, const char *what, uintptr_t start,
			  uintptr_t end, const uint8_t *bad, uint8_t expected);
	unsigned long repair_freelist_locked(kmem_cache *s, struct page *slab, bool debug);
	bool check_freelist_locked(kmem_cache *s, struct page *slab, struct page *&discard);
	unsigned long validate_slab_locked(kmem_cache *s, struct page *slab, bool debug);
	void debug_init_slab(kmem_cache *s, uintptr_t base);
	void debug_check_discarded_slab(kmem_cache *s, struct page *slab);
	void report_freepointer(kmem_cache *s, const void *object, const void *next, const char *fix);
	bool debug_alloc_locked(kmem_cache *s, struct page *slab, void *&object, size_t orig_size, const void *caller);
	void free_debug(kmem_cache *s, struct page *slab, void *x, const void *caller);
	void debug_print_tracks(const kmem_cache *s, uintptr_t slot);
	size_t debug_orig_size(const kmem_cache *s, const void *object) const;
	void debug_krealloc_in_place(kmem_cache *s, void *object, size_t old, size_t new_size, gfp_t gfp);

	/* slab_stats.cpp */
	void report_leaks_locked(kmem_cache *s);
	/* info() with the other CPUs already stopped (or refused to stop). */
	int info_stopped(kmem_cache *s, struct kmem_cache_info *out);
	template <typename Fn> void for_each_cache_info(Fn fn);
	/* fn(head) for every slab's head page; other(p) for every page that
	 * is neither a slab's head nor one of its tails. */
	template <typename Fn, typename Other> void for_each_slab_page(Fn fn, Other other) const;
	template <typename Fn> void for_each_slab_page(Fn fn) const
	{
		for_each_slab_page(fn, [](struct page *) {});
	}

	PageAllocator &pages_;
	Reporter &reporter_;
	SpinLock registry_lock_;
	bool initialized_ = false;
	RemoteDrain remote_drain_ = RemoteDrain::kSync;
	unsigned long remote_drain_requests_ = 0;
	size_t kmalloc_max_ = 0;
	/* some kmalloc class is a debug cache (records callers): set with the
	 * classes at each init, read with kmalloc_max_ (0 until then) */
	bool kmalloc_tracked_ = false;
	kmem_cache *kmalloc_caches_[kNrKmallocClasses] = {};
	/* Region 0 of the page allocator, copied at init: kfree's inline
	 * address -> struct page lookup (other regions: virt_to_page). */
	uintptr_t map_start_ = 0;
	uintptr_t map_bytes_ = 0;
	struct page *map_pages_ = nullptr;
	/* Indexed by kmem_cache::id = page::cache_id, 1 ... KMM_MAX_CACHES
	 * (1: the boot cache); caches_[0] stays NULL: page::cache_id 0 means
	 * "no slab", so kfree's inline path needs no page-state test. */
	kmem_cache *caches_[KMM_MAX_CACHES + 1] = {};
	/* kmalloc(GFP_DMA)'s classes (SLAB_CACHE_DMA), created at init when
	 * the page allocator has a DMA zone, else NULL; up to kmalloc_max_. */
	kmem_cache *kmalloc_dma_caches_[kNrKmallocClasses] = {};
	/* IRQ flags of the inline free that calls free_overflow_masked: set
	 * and read with IRQs masked on the one CPU, so no one else sees it.
	 * (Not among the fields above: kfree's inline path loads map_start_
	 * and map_bytes_ as one pair.) */
	unsigned long overflow_flags_ = 0;
	/* Slab pages in transit (allocate_slab, discard_slab): validate() may
	 * meet at most begun-after-its-walk - ended-before-it of them. */
	unsigned long transit_begun_ = 0;
	unsigned long transit_ended_ = 0;
	/* shrink_all walks in progress, counted on the side (parity) of
	 * reclaim_epoch_ they started in; destroy flips the epoch and waits
	 * until it has seen each side drained before it frees a cache it took
	 * out of the table (slab_common.cpp). Away from the fast paths' fields. */
	unsigned long reclaim_epoch_ = 0;
	unsigned long reclaimers_[2] = {};
	/* Reclaim walks each CPU is inside (an IRQ may nest one in another):
	 * a destroy on a CPU inside one interrupted that walk and must not
	 * wait for it (walk_depth(); the host counts per thread). */
	unsigned walking_[KMM_NR_CPUS] = {};
	unsigned &walk_depth();
	void (*walk_hook_)(void *) = nullptr;
	void *walk_hook_arg_ = nullptr;
	kmem_cache boot_cache_;  /* caches_[kBootCacheId]: holds every other kmem_cache */
	kmem_cache unready_;     /* kmalloc_caches_[] before init: an empty cache */
	/* the boot option (slab_debug_options.cpp); the PRNG, large kmalloc guards (slab_harden.cpp) */
	char debug_options_[KMM_SLUB_DEBUG_LEN] = KMM_SLUB_DEBUG;
	uint64_t random_seed_ = 0;      /* kmm_arch_entropy() at init */
	uintptr_t random_counter_ = 0;  /* atomic: one step per random_next() */
	bool kmalloc_guard_ = false;
};

/* Address of a slab's first object (the head page's address). */
inline uintptr_t slab_base(const PageAllocator &pages, const struct page *slab)
{
	return reinterpret_cast<uintptr_t>(pages.page_address(slab));
}

/* Address of the slab holding x, a pointer into one of s's slabs: a slab
 * of 2^order pages is a buddy block, naturally aligned to its size. */
inline uintptr_t slab_start_of(const kmem_cache *s, const void *x)
{
	return reinterpret_cast<uintptr_t>(x) & ~(uintptr_t{s->slab_bytes} - 1);
}

/* page::freelist <-> object pointer (see page.h). */
inline void *freelist_decode(uintptr_t base, uint16_t encoded)
{
	return encoded == 0 ? nullptr : reinterpret_cast<void *>(base + (uintptr_t{encoded} - 1u) * kSlabUnit);
}
inline uint16_t freelist_encode_offset(uintptr_t offset)
{
	return static_cast<uint16_t>(1u + offset / kSlabUnit);
}
inline uint16_t freelist_encode(uintptr_t base, const void *object)
{
	if (object == nullptr)
		return 0;
	return static_cast<uint16_t>(1u + (reinterpret_cast<uintptr_t>(object) - base) / kSlabUnit);
}

/* The free-pointer word of one cache's objects: where it sits (offset)
 * and, with KMM_SLAB_FREELIST_HARDENED, how it is encoded: ptr ^ secret ^
 * bswap(address of the stored word) (Linux's freelist_ptr_encode), so a
 * pointer leaked or overwritten by a use after free does not decode to
 * anything useful, and freepointer_ok() catches what it decodes to. Every
 * free-pointer access goes through it. A copy in locals keeps both fields
 * in registers across a loop over many objects (whose stores the compiler
 * must assume may alias the cache): allocate_slab, deactivate_cpu_slab. */
struct FreePointerCodec {
	/* The free-pointer word: aligned (objects and offsets are multiples
	 * of sizeof(void *)), so one load or store, never a memcpy call on
	 * targets without fast unaligned access; may_alias, since it lies in
	 * memory the user types as anything. (Not __builtin_assume_aligned
	 * inside a __builtin_memcpy: clang 14 with -fsanitize=undefined
	 * crashes on it.) */
	typedef uintptr_t __attribute__((may_alias)) FreeWord;

	uintptr_t offset;
	uintptr_t random;

	explicit FreePointerCodec(const kmem_cache *s) : offset(s->offset), random(kFreelistHardened ? s->random : 0) {}

	__attribute__((always_inline)) uintptr_t mask(uintptr_t where) const
	{
		if constexpr (!kFreelistHardened)
			return 0;
		else if constexpr (sizeof(uintptr_t) == 8)
			return random ^ static_cast<uintptr_t>(__builtin_bswap64(where));
		else
			return random ^ static_cast<uintptr_t>(__builtin_bswap32(static_cast<uint32_t>(where)));
	}
	__attribute__((always_inline)) void *load(const void *object) const
	{
		uintptr_t where = reinterpret_cast<uintptr_t>(object) + offset;
		uintptr_t v = *reinterpret_cast<const FreeWord *>(where);
		return reinterpret_cast<void *>(v ^ mask(where));
	}
	__attribute__((always_inline)) void store(void *object, const void *next) const
	{
		uintptr_t where = reinterpret_cast<uintptr_t>(object) + offset;
		uintptr_t v = reinterpret_cast<uintptr_t>(next) ^ mask(where);
		*reinterpret_cast<FreeWord *>(where) = v;
	}
};

__attribute__((always_inline)) inline void *get_freepointer(const kmem_cache *s, const void *object)
{
	return FreePointerCodec(s).load(object);
}
inline void set_freepointer(const kmem_cache *s, void *object, void *next)
{
	FreePointerCodec(s).store(object, next);
}

/* Which of the slots first … first + 63 of the slab at base are on its
 * freelist: bit k for slot first + k. The walk stops after `objects`
 * entries, so a cycle cannot hang it. Diagnostics only (O(objects)). */
inline uint64_t free_slot_bits(const kmem_cache *s, const struct page *slab, uintptr_t base, unsigned first)
{
	uint64_t bits = 0;
	unsigned long n = 0;
	for (void *p = freelist_decode(base, slab->freelist); p != nullptr && n <= s->objects;
	     p = get_freepointer(s, p), ++n) {
		uintptr_t idx = (reinterpret_cast<uintptr_t>(p) - base) / s->size;
		if (idx >= first && idx < first + 64u)
			bits |= uint64_t{1} << (idx - first);
	}
	return bits;
}

/* offset % size == 0, for offset < 2^32, without a division. */
inline bool on_object_boundary(const kmem_cache *s, uintptr_t offset)
{
	return static_cast<uint64_t>(offset) * s->div_magic < s->div_magic;
}

/* offset (x & slab_mask) is an object's: below the object area and on a
 * boundary. On 32-bit targets in one test: size = odd * 2^shift; with inverse = odd^-1 mod
 * 2^32, rotr(offset * inverse, shift) is offset / size when size divides
 * offset, and above (2^32 - 1) / size >= objects when it does not (the
 * exact-division test of Granlund and Montgomery), so the index is below
 * `objects` exactly for the offsets of objects. offset < 2^32: a slab is
 * smaller. */
__attribute__((always_inline)) inline bool object_index_ok(const kmem_cache *s, uintptr_t offset)
{
	if constexpr (sizeof(uintptr_t) == 8) /* a 64-bit multiply is as cheap: Lemire's test */
		return offset < s->object_area && static_cast<uint64_t>(offset) * s->div_magic < s->div_magic;
	uint32_t q = static_cast<uint32_t>(offset) * s->index_inverse;
	uint32_t k = s->index_shift;
	if (k > 31u)
		__builtin_unreachable();
	q = (q >> k) | (q << ((32u - k) & 31u));
	return q < s->objects;
}

/* object_index_ok for an offset already known to lie below the object area
 * (slab_free_fast's CPU-slab range test, slab_bytes = objects * size): on
 * 64-bit only the boundary test is left to do; 32-bit's one test is both. */
__attribute__((always_inline)) inline bool object_index_ok_below_area(const kmem_cache *s, uintptr_t offset)
{
	if constexpr (sizeof(uintptr_t) == 8)
		return on_object_boundary(s, offset);
	return object_index_ok(s, offset);
}

/* A decoded free pointer `next` read from the free object `object`: NULL,
 * or another object (slot) of the same slab. Catches a pointer to itself
 * (a naive double free) or out of the slab (corruption). */
inline bool freepointer_ok(const kmem_cache *s, const void *object, const void *next)
{
	uintptr_t n = reinterpret_cast<uintptr_t>(next);
	uintptr_t o = reinterpret_cast<uintptr_t>(object);
	return next == nullptr ||
	       (next != object && ((n ^ o) & ~s->slab_mask) == 0 && (n & s->slab_mask) < s->object_area &&
		on_object_boundary(s, n & s->slab_mask));
}

} // namespace kmm

#endif

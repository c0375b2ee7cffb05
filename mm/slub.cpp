/*
 * mm/slub.cpp — SLUB: the design of the slab layer (below), new slabs
 * from the buddy allocator and their place on a cache's lists, and the
 * allocation slow paths behind slub_fast.h (refill, the checked path of
 * debug caches, bulk). The way back — free checks, the return to a slab,
 * magazine flushes and per-CPU drains — is slub_free.cpp.
 *
 * Lock order (outermost first; a lock is never taken while a later one is held)
 *   1. IRQs masked on the local CPU — protects the CPU's CacheCpu of every
 *      cache (the fast path holds nothing else). On an SMP host build this
 *      is the thread's CPU-slot hold (arch_host.cpp), and a drain of another
 *      CPU holds that CPU's slot instead (never while holding its own);
 *   2. SlabAllocator::registry_lock_ — the cache table (slab_common.cpp);
 *   3. kmem_cache::lock (a SlabLock) — the cache's partial/empty/full lists
 *      and counters, and page::freelist/inuse/state of its slabs (for a CPU
 *      slab: only its page::freelist and inuse, which remote frees change).
 *      Its word is taken only when KMM_NR_CPUS > 1: on one CPU the masked
 *      IRQs of level 1 are all the exclusion there is;
 *   4. PerCpuPages::lock — one per CPU, that CPU's page lists (page_alloc.h;
 *      PageAllocator::validate() takes all of them, in CPU index order);
 *   5. PageAllocator::lock_ — the zone lock, innermost of kmm.
 * The same order heads mm/page_alloc.h and mm/page_alloc.cpp. One exception,
 * at boot: init() holds registry_lock_ while it builds the kmalloc caches
 * (reclaim() does nothing until it is done), and if it runs out of pages
 * it shrinks the boot cache under it, which may drain other CPUs (level 1).
 * The kernel starts the slab layer before any secondary CPU
 * (kernel/boot.cpp slab_init, then smp_boot_cpus), so no other CPU holds
 * anything then.
 * New slabs are allocated with no cache lock held (the page allocator may
 * run the OOM hook); empty slabs are freed after the cache lock is dropped.
 *
 * Slab states (page::state of the head page; tails are kTail -> head)
 *
 *   state     where                  inuse                      page::freelist
 *   kSlabCpu  CacheCpu::slab of one  objects - |page freelist|  remote frees only;
 *             CPU                    (objects on the CPU        the CPU freelist
 *                                    freelist count as in use)  holds the rest
 *   kSlab     partial list (slabs    0 < inuse < objects        the free objects
 *             that just became
 *             partial join its tail)
 *   kSlab     empty list             0                          all objects
 *             (at most min_partial)
 *   kSlab     full: on no list, or   objects                    empty
 *             the full list with
 *             SLAB_CONSISTENCY_CHECKS
 *
 * Transitions
 *   buddy  -> kSlabCpu       alloc slow path: no CPU slab and no partial/empty slab
 *   partial/empty -> kSlabCpu  alloc slow path refill (partial first)
 *   kSlabCpu -> kSlab        deactivate: the CPU freelist ran out (-> full), or
 *                            shrink/destroy flush (-> full/partial/empty)
 *   full -> partial          a free into it
 *   partial -> empty         its last object freed; if the cache already keeps
 *                            min_partial empty slabs: -> buddy instead
 *   empty -> buddy           kmem_cache_shrink, kmem_cache_destroy
 * SLAB_CONSISTENCY_CHECKS caches have no CPU slab: every alloc and free runs
 * here under the lock, from the partial list (buddy -> partial -> full ...).
 *
 * Magazines (per CPU, per cache; CacheCpu::mag, config.h KMM_SLAB_MAGAZINE)
 *   A bounded LIFO array of free objects of the cache, from any of its slabs,
 *   in front of the CPU slab, guarded by IRQ masking like the rest of the
 *   CacheCpu. Objects in it stay "in use" for their slab (page::inuse) and
 *   keep their contents (a ctor object its constructed state): the array
 *   holds pointers, nothing is written into the object. Every free with
 *   room pushes (inline, or via free_object after the page lookup, no
 *   lock); allocation pops it before the CPU freelist. It is a ring whose
 *   fast paths are a plain stack's (slub.h: pop stops at a NULL, push below
 *   mag_end; the wrap at the array's end is out of line). A free into a
 *   full magazine (free_overflow) gives the object itself back to its slab
 *   under the cache lock (free_to_slab: onto the CPU freelist for the CPU
 *   slab's, else onto its page freelist with the usual list transitions),
 *   the magazine untouched — the shortest bounded path. Built with
 *   KMM_SLAB_MAGAZINE_EVICT=n > 0 it instead gives the n oldest entries
 *   back (the same way) and pushes, keeping the newest (cache-hot) ones.
 *   shrink/destroy, set_magazine_size and reclaim() (a refused slab
 *   allocation) empty them (flush_magazine).
 *   Remote frees: a magazine is per CPU, so an object freed on another CPU
 *   than its slab's simply lands in the freeing CPU's magazine; only frees
 *   past it and flushes touch slabs, and they hold the cache lock (into another CPU's kSlabCpu
 *   slab: onto its page::freelist, which that CPU takes over when its CPU
 *   freelist runs dry — SLUB's model).
 *
 * SMP (KMM_NR_CPUS > 1)
 *   Per CPU and cache (CacheCpu, IRQs masked, no lock): the magazine, the
 *   CPU slab and its CPU freelist, and up to kCpuPartialMax per-CPU partial
 *   slabs (kSlabCpu, chained through page::next; a refill that finds the
 *   CPU partial list empty takes one slab for the CPU and up to
 *   kCpuPartialMax more from the cache's partial list in one lock hold).
 *   The cache lock (level 3) protects the lists, counters, page::freelist
 *   and inuse of every slab and page::state of slab heads. Fields the free
 *   paths read without the lock (state, inuse, freelist; mag_limit, mag_end) are
 *   written with relaxed atomics.
 *   Other CPUs' per-CPU data (shrink, shrink_all/reclaim, destroy,
 *   set_magazine_size) is reached in one of two ways (RemoteDrain):
 *     kSync     the default: the CPU drains itself now, in a cross-CPU
 *               call (kmm_arch_cpu_call: an IPI whose handler runs with
 *               its IRQs masked; on the host, holding its slot), and the
 *               caller frees the slabs that emptied. Where the call is
 *               refused (a CPU that takes no calls, a caller with IRQs
 *               masked, e.g. reclaim() under GFP_ATOMIC) it falls back to:
 *     kRequest  flush_req is bumped and mag_limit and mag_end set to 0,
 *               so that CPU's next free (and its next alloc once its
 *               magazine and CPU freelist are empty) leaves the fast
 *               path; its slow path then drains everything (honour_flush)
 *               and restores mag_limit. Until then the objects it caches
 *               stay there: at most its magazine, CPU slab and
 *               kCpuPartialMax partial slabs per cache — bounded.
 *   The calling CPU is always drained at once.
 *
 * Freelists: a free object holds a pointer to the next free object of the
 * same slab at kmem_cache::offset (only get_freepointer/set_freepointer touch
 * it; with KMM_SLAB_FREELIST_HARDENED it is stored encoded and checked with
 * freepointer_ok before it is followed), NULL-terminated. Debug caches
 * (slab_debug.cpp) run every alloc/free in alloc_checked/free_object ->
 * free_debug; their freelists hold slot addresses (user pointer - red_left). page::freelist holds the first one encoded as
 * 1 + offset_from_slab_start / kSlabUnit (0 = none); CacheCpu::freelist holds
 * the CPU slab's as a plain pointer.
 */
#include "slub.h"

#include "slub_fast.h"

namespace kmm {

/* ---- slabs ---- */

/* Chains a new slab's objects in address order, the last one's free
 * pointer NULL. The cache's fields are read once (FreePointerCodec and
 * the locals): the stores could alias them, so the compiler would reload
 * each per object (16 instructions an object on the M3, 4 like this; the
 * largest part of a new slab's cost: 512 objects in a 4 KiB kmalloc-8
 * slab). */
static void thread_new_slab(const kmem_cache *s, uintptr_t base)
{
	const FreePointerCodec codec(s);
	const uintptr_t size = s->size;
	const uintptr_t end = base + uintptr_t{s->objects} * size;
	/* walks the next object (one register fewer in the loop than the
	 * object itself: 4 instructions, not 5) */
	for (uintptr_t next = base + size; next != end; next += size)
		codec.store(reinterpret_cast<void *>(next - size), reinterpret_cast<void *>(next));
	codec.store(reinterpret_cast<void *>(end - size), nullptr);
}

/* Flags outside KMM_GFP_VALID_MASK reach the slab layer's page requests
 * only: the inline paths never test them. As Linux (kmalloc_fix_flags):
 * warn and go on without them, so the request does not depend on whether
 * the cache needed a new slab. */
gfp_t SlabAllocator::fix_gfp(gfp_t gfp, const char *who)
{
	reporter_.warn("%s: unexpected gfp bits %#x (outside KMM_GFP_VALID_MASK %#x): dropped", who,
		       gfp & ~KMM_GFP_VALID_MASK, KMM_GFP_VALID_MASK);
	return gfp & KMM_GFP_VALID_MASK;
}

struct page *SlabAllocator::allocate_slab(kmem_cache *s, gfp_t gfp)
{
	if (__builtin_expect((gfp & ~KMM_GFP_VALID_MASK) != 0, 0))
		gfp = fix_gfp(gfp, s->name);
	count_unlocked(transit_begun_, 1); /* the page is kSlab with id 0 until the id is set */
	/* the zone is the cache's (SLAB_CACHE_DMA), never the caller's */
	gfp_t page_gfp = (gfp & ~(__GFP_ZERO | __GFP_COMP | __GFP_DMA)) | ((s->flags & SLAB_CACHE_DMA) != 0 ? __GFP_DMA : 0);
	struct page *slab = pages_.alloc(page_gfp, s->order, kSlab);
	if (slab == nullptr) {
		count_unlocked(transit_ended_, 1);
		return nullptr;
	}
	uintptr_t base = slab_base(pages_, slab);
	set_slab_inuse(slab, 0);
	count_unlocked(s->slabs_in_flight, 1); /* before the id shows */
	set_slab_cache_id(slab, s->order, s->id);
	count_unlocked(transit_ended_, 1);
	slab->next = slab->prev = nullptr;
	if (s->ctor != nullptr) {
		char *object = reinterpret_cast<char *>(base);
		for (unsigned i = 0; i < s->objects; ++i, object += s->size)
			s->ctor(object + s->red_left);
	}
	thread_new_slab(s, base);
	void *first = reinterpret_cast<void *>(base);
	if constexpr (kFreelistRandom)
		first = randomize_freelist(s, base);
	set_slab_freelist(slab, freelist_encode(base, first));
	if constexpr (kSlabDebug)
		if ((s->flags & kSlabDebugFlags) != 0)
			debug_init_slab(s, base);
	if constexpr (kSanitize)
		for (unsigned i = 0; i < s->objects; ++i)
			san_fresh(s, reinterpret_cast<char *>(base) + uintptr_t{i} * s->size);
	return slab;
}

void SlabAllocator::discard_slab(kmem_cache *s, struct page *slab)
{
	if constexpr (kSanitize)
		san_unpoison(pages_.page_address(slab), s->slab_bytes);
	if constexpr (kSlabDebug)
		if ((s->flags & (SLAB_RED_ZONE | SLAB_POISON)) != 0)
			debug_check_discarded_slab(s, slab);
	if constexpr (KMM_NR_CPUS > 1) {
		count_unlocked(transit_begun_, 1); /* kSlab with id 0 until free_owned */
		set_page_state(slab, kSlab);
		set_slab_cache_id(slab, s->order, 0);
		count_unlocked(s->slabs_in_flight, -1); /* after the id is gone */
	} else {
		/* one masked step (not across free_owned: its checks and a
		 * per-CPU list drain would lengthen the IRQ-masked window) */
		unsigned long flags = arch::irq_save();
		++transit_begun_;
		set_page_state(slab, kSlab);
		set_slab_cache_id(slab, s->order, 0);
		--s->slabs_in_flight;
		arch::irq_restore(flags);
	}
	pages_.free_owned(slab, s->order, kSlab);
	count_unlocked(transit_ended_, 1);
}

/* Counts (and with SLAB_CONSISTENCY_CHECKS lists) a full slab that is on
 * no list. Lock held. */
__attribute__((always_inline)) inline void SlabAllocator::place_full_locked(kmem_cache *s, struct page *slab)
{
	set_page_state(slab, kSlab);
	++s->nr_full;
	if ((s->flags & SLAB_CONSISTENCY_CHECKS) != 0)
		s->full.push_front(slab);
}

/* Puts a slab that is on no list where its inuse says. Returns true if it
 * is an empty slab beyond min_partial: the caller frees it after unlocking
 * (the counters already say it is gone). */
bool SlabAllocator::place_slab_locked(kmem_cache *s, struct page *slab)
{
	if (slab->inuse == s->objects) {
		place_full_locked(s, slab);
		return false;
	}
	set_page_state(slab, kSlab);
	if (slab->inuse == 0) {
		if (s->empty.count < s->min_partial) {
			s->empty.push_front(slab);
			return false;
		}
		uncount_slab_locked(s);
		return true;
	}
	s->partial.push_back(slab);
	return false;
}

/* Makes a slab that is on no list the CPU slab of c, moving its whole
 * freelist to the CPU (Linux "freezing"). IRQs masked, lock held. */
__attribute__((always_inline)) inline void SlabAllocator::install_cpu_slab_locked(kmem_cache *s, CacheCpu &c,
										  struct page *slab)
{
	uintptr_t base = slab_address(slab);
	set_page_state(slab, kSlabCpu);
	c.freelist = freelist_decode(base, slab->freelist);
	set_slab_freelist(slab, 0);
	set_slab_inuse(slab, s->objects);
	c.slab = slab;
	c.slab_start = base;
	c.slab_bytes = uintptr_t{s->objects} * s->size;
}

/* Gives c's slab back to the lists, its CPU freelist merged into the page
 * freelist. IRQs masked. Returns a slab to free (see place_slab_locked). */
struct page *SlabAllocator::deactivate_cpu_slab(kmem_cache *s, CacheCpu &c)
{
	struct page *slab = c.slab;
	if (slab == nullptr)
		return nullptr;
	uintptr_t base = c.slab_start;
	void *head = c.freelist;
	c.freelist = nullptr;
	c.slab = nullptr;
	c.slab_start = 0;
	c.slab_bytes = 0;
	/* O(objects) with IRQs masked: the cache's fields in locals, so the
	 * walk does not reload them per step */
	const FreePointerCodec codec(s);
	const unsigned limit = s->objects;
	unsigned n = 0;
	void *tail = nullptr;
	for (void *p = head; p != nullptr && n < limit; p = codec.load(p)) {
		tail = p;
		++n;
	}
	SlabLockIrqsOff guard(s->lock);
	if (n != 0) {
		set_freepointer(s, tail, freelist_decode(base, slab->freelist));
		set_slab_freelist(slab, freelist_encode(base, head));
		set_slab_inuse(slab, slab->inuse - n);
	}
	return place_slab_locked(s, slab) ? slab : nullptr;
}

/* ---- allocation ---- */

namespace {
inline void *finish_alloc(const kmem_cache *s, void *object, gfp_t gfp)
{
	zero_or_mark(s, object, s->object_size, gfp);
	return object;
}
} // namespace

void *zero_object(const kmem_cache *s, void *object)
{
	san_allocated(s, object, s->object_size, true);
	__builtin_memset(object, 0, s->object_size);
	return object;
}

void *SlabAllocator::alloc(kmem_cache *s, gfp_t gfp) { return slab_alloc_fast(*this, s, gfp); }
void *SlabAllocator::alloc_full_hold(kmem_cache *s, gfp_t gfp) { return slab_alloc_fast<false>(*this, s, gfp); }
void *SlabAllocator::kmalloc_full_hold(kmem_cache *s, size_t size, gfp_t gfp)
{
	return kmalloc_cache_fast<false>(*this, s, size, gfp);
}
void SlabAllocator::push_full_hold(kmem_cache *s, struct page *page, void *x)
{
	push_slab_object<false>(*this, s, page, x);
}
void SlabAllocator::free(kmem_cache *s, void *x) { slab_free_fast(*this, s, x); }

void *SlabAllocator::refuse_dma(kmem_cache *s)
{
	reporter_.bug(s->name, "kmem_cache_alloc with GFP_DMA from a cache without SLAB_CACHE_DMA "
		      "(its objects may lie outside the DMA zone): refused");
	reporter_.finish_bug();
	return nullptr;
}

void SlabAllocator::unpop(kmem_cache *s, void *object)
{
	unsigned long flags = fast_irq_save();
	CacheCpu &c = this_cpu(s, flags);
	/* Onto the magazine (a pop from it left room), else, without one,
	 * back onto the CPU freelist it came from; either way the pop's count
	 * is taken back. Only if an IRQ (or, on the host, a thread sharing
	 * the CPU slot) changed both since the pop, the general free, which
	 * counts a free: the pop's count stays, a balanced pair. */
	bool back = true;
	if (cpu_push(c, object) == Push::kDone) {
		slab_unstat(c.free_fast);
	} else if (mag_limit_of(c) == 0 && reinterpret_cast<uintptr_t>(object) - c.slab_start < c.slab_bytes &&
		   object != c.freelist) {
		set_freepointer(s, object, c.freelist);
		c.freelist = object;
	} else {
		back = false;
	}
	if (back) {
		slab_unstat(c.alloc_fast); /* the pop's count, whichever CPU slot it was */
		san_freed(s, object);
	}
	fast_irq_restore(flags);
	if (!back) {
		san_allocated(s, object, s->object_size, true);
		free(s, object);
	}
}

void *SlabAllocator::alloc_flagged(kmem_cache *s, void *object, gfp_t gfp)
{
	if (dma_refused(s, gfp)) {
		unpop(s, object); /* back: the state is as before the call */
		return refuse_dma(s);
	}
	return zero_or_mark(s, object, s->object_size, gfp);
}

void *SlabAllocator::kmalloc_flagged(void *object, size_t size, gfp_t gfp)
{
	kmem_cache *s = kmalloc_cache(size); /* the class the inline path popped from */
	if (dma_refused(s, gfp)) {
		unpop(s, object);
		return kmalloc_slow(size, gfp); /* its dma-kmalloc class */
	}
	return zero_or_mark(s, object, size, gfp);
}

/* The CPU freelist is empty: takes the CPU slab's remote frees, else
 * retires it (full) and installs this CPU's next partial slab (SMP), else
 * the cache's first partial (then empty) slab. No new slab. IRQs masked. */
__attribute__((always_inline)) inline void SlabAllocator::refill_cpu_slab(kmem_cache *s, CacheCpu &c)
{
	SlabLockIrqsOff guard(s->lock);
	struct page *slab = c.slab;
	if (slab != nullptr && slab->freelist != 0) {
		c.freelist = freelist_decode(c.slab_start, slab->freelist);
		set_slab_freelist(slab, 0);
		set_slab_inuse(slab, s->objects);
	} else {
		if (slab != nullptr) { /* exhausted: it is full */
			c.slab = nullptr;
			c.slab_start = 0;
			c.slab_bytes = 0;
			place_full_locked(s, slab);
		}
		slab = c.partial; /* SMP: this CPU's partial slabs first */
		if (slab != nullptr) {
			c.partial = slab->next;
			--c.nr_partial;
			slab->next = nullptr;
		} else {
			slab = s->partial.pop_front();
			if (slab == nullptr)
				slab = s->empty.pop_front();
			/* SMP: and a batch for the CPU partial list, in
			 * the same lock hold (none on one CPU) */
			while (slab != nullptr && c.nr_partial < kCpuPartialMax && !s->partial.empty()) {
				struct page *p = s->partial.pop_front();
				set_page_state(p, kSlabCpu);
				p->next = c.partial;
				c.partial = p;
				++c.nr_partial;
			}
		}
		if (slab != nullptr)
			install_cpu_slab_locked(s, c, slab);
	}
}

/* An object popped (an IRQ may have freed one), else popped from the
 * slab refill_cpu_slab installs (not over a CPU freelist whose free
 * pointer the pop refused: alloc_slow reports that one); counts a slow
 * alloc. NULL: the lists are empty. IRQs masked. */
__attribute__((always_inline)) inline void *SlabAllocator::pop_or_refill(kmem_cache *s, CacheCpu &c)
{
	void *object = cpu_pop(s, c);
	if (object == nullptr && c.freelist == nullptr) {
		/* the magazine is empty (cpu_pop continues a wrapped ring) and
		 * refill_cpu_slab leaves it so: the pop is the CPU freelist's */
		refill_cpu_slab(s, c);
		object = cpu_freelist_pop(s, c);
	}
	if (object != nullptr)
		slab_stat(c.alloc_slow);
	return object;
}

void *SlabAllocator::kmalloc_refill(kmem_cache *s, size_t size, gfp_t gfp)
{
	/* GFP_DMA: kmalloc_slow takes the dma-kmalloc class (s is a Normal
	 * class: nothing of it may be taken); a pending flush: kmalloc_slow ->
	 * alloc_slow honours it */
	if ((gfp & __GFP_DMA) == 0 && !flush_pending(this_cpu(s)))
		if (void *object = alloc_from_lists(s, gfp, size))
			return object;
	return kmalloc_slow(size, gfp, kSlabDebug ? __builtin_return_address(0) : nullptr);
}

/* The CPU freelist is empty: take the CPU slab's remote frees, else the
 * next partial (then empty) slab, else a new slab. */
void *SlabAllocator::alloc_slow(kmem_cache *s, gfp_t gfp, const void *caller)
{
	if (__builtin_expect(!s->kmalloc && !registered(s), 0)) { /* destroyed: empty magazine, no CPU slab, so here */
		check_cache(s, "kmem_cache_alloc");
		return nullptr;
	}
	if (kSlabDebug && caller == nullptr)
		caller = __builtin_return_address(0);
	if (dma_refused(s, gfp))
		return refuse_dma(s);
	if ((s->flags & SLAB_CONSISTENCY_CHECKS) != 0)
		return alloc_checked(s, gfp, s->object_size, caller);
	/* __GFP_NORETRY: one new-slab attempt with the caller's flags, no
	 * reclaim (reclaimed says so from the start) */
	bool reclaimed = (gfp & __GFP_NORETRY) != 0;
	for (;;) {
		if (flush_pending(this_cpu(s))) /* SMP: another CPU asked */
			honour_flush(s);
		unsigned long flags = fast_irq_save();
		CacheCpu &c = this_cpu(s, flags);
		if constexpr (kFreelistHardened) {
			/* The pop refused a corrupt free pointer: drop the CPU
			 * freelist (its objects stay counted in use: leaked). */
			void *head = c.freelist;
			void *next = head != nullptr ? get_freepointer(s, head) : nullptr;
			if (head != nullptr && !freepointer_ok(s, head, next)) {
				c.freelist = nullptr;
				fast_irq_restore(flags);
				report_freepointer(s, head, next, "CPU freelist dropped, its objects leaked");
				reporter_.finish_bug();
				continue;
			}
		}
		if (void *object = pop_or_refill(s, c)) {
			fast_irq_restore(flags);
			return finish_alloc(s, object, gfp);
		}
		fast_irq_restore(flags);

		/* First without the OOM hook: magazines and empty slabs of every
		 * cache go back (reclaim) before anyone else is asked. */
		struct page *slab = allocate_slab(s, reclaimed ? gfp : gfp | __GFP_NOWARN | __GFP_NORETRY);
		if (slab == nullptr) {
			if (reclaimed)
				return nullptr;
			reclaim();
			reclaimed = true;
			continue; /* the flushed objects may have refilled the partial list */
		}
		struct page *discard = nullptr;
		flags = fast_irq_save();
		{
			CacheCpu &cpu = this_cpu(s);
			SlabLockIrqsOff guard(s->lock);
			count_slab_locked(s);
			if (cpu.slab == nullptr)
				install_cpu_slab_locked(s, cpu, slab);
			else if (place_slab_locked(s, slab)) /* an IRQ got one meanwhile */
				discard = slab;
		}
		fast_irq_restore(flags);
		if (discard != nullptr)
			discard_slab(s, discard);
	}
}

/* An object of s for `size` bytes from what s already holds (its
 * magazine, CPU slab, partial and empty slabs), never a new slab:
 * kmalloc's refill, and its fallback to a larger class when pages run
 * out. NULL if s has no free object. */
void *SlabAllocator::alloc_from_lists(kmem_cache *s, gfp_t gfp, size_t size)
{
	if ((s->flags & kSlabDebugFlags) != 0)
		return nullptr; /* debug caches keep their own checks and red zones */
	unsigned long flags = fast_irq_save();
	void *object = pop_or_refill(s, this_cpu(s, flags));
	fast_irq_restore(flags);
	/* never a Normal class for GFP_DMA: kmalloc_refill sends that to
	 * kmalloc_slow, kmalloc_fallback uses the dma-kmalloc classes */
	return object != nullptr ? zero_or_mark(s, object, size, gfp) : nullptr;
}

/* SLAB_CONSISTENCY_CHECKS: one object from the first partial slab, with
 * its free pointer checked before it is followed (alloc_checked has had
 * check_freelist_locked count the list first: a loop passes this check).
 * Lock held. False if the slab's freelist was corrupt (reported; the slab
 * is isolated as full). */
bool SlabAllocator::take_object_locked(kmem_cache *s, struct page *slab, void *&object)
{
	uintptr_t base = slab_base(pages_, slab);
	object = freelist_decode(base, slab->freelist);
	void *next = get_freepointer(s, object);
	if (!freepointer_ok(s, object, next)) {
		report_freepointer(s, object, next, "slab isolated as full, its free objects leaked");
		s->partial.remove(slab);
		set_slab_freelist(slab, 0);
		set_slab_inuse(slab, s->objects);
		if constexpr (kSlabDebug)
			hold_cut_objects_locked(s, slab);
		place_slab_locked(s, slab);
		return false;
	}
	set_slab_freelist(slab, freelist_encode(base, next));
	set_slab_inuse(slab, slab->inuse + 1u);
	if (slab->inuse == s->objects) {
		s->partial.remove(slab);
		place_slab_locked(s, slab);
	}
	return true;
}

void *SlabAllocator::alloc_checked(kmem_cache *s, gfp_t gfp, size_t orig_size, const void *caller)
{
	bool reclaimed = (gfp & __GFP_NORETRY) != 0; /* as alloc_slow */
	struct page *fresh = nullptr;
	for (;;) {
		bool corrupt = false;
		struct page *discard = nullptr;
		{
			SlabLockGuard guard(s->lock);
			if (fresh != nullptr) {
				/* listed and taken from under one lock: no CPU sees
				 * an empty slab on the partial list */
				count_slab_locked(s);
				s->partial.push_front(fresh);
				fresh = nullptr;
			}
			struct page *slab = s->partial.head;
			if (slab == nullptr && (slab = s->empty.pop_front()) != nullptr)
				s->partial.push_front(slab);
			if (slab != nullptr) {
				void *object;
				if (check_freelist_locked(s, slab, discard) && take_object_locked(s, slab, object)) {
					if constexpr (kSlabDebug) {
						/* object becomes the user's pointer; false:
						 * damaged, reported and leaked */
						if (debug_alloc_locked(s, slab, object, orig_size, caller)) {
							slab_stat(this_cpu(s).alloc_slow);
							if ((gfp & __GFP_ZERO) != 0)
								__builtin_memset(object, 0, s->orig_offset != 0 ? orig_size : s->object_size);
							return object;
						}
					} else {
						(void)orig_size;
						(void)caller;
						slab_stat(this_cpu(s).alloc_slow);
						return finish_alloc(s, object, gfp);
					}
				}
				corrupt = true;
			}
		}
		if (corrupt) {
			if (discard != nullptr)
				discard_slab(s, discard);
			reporter_.finish_bug();
			continue;
		}
		fresh = allocate_slab(s, reclaimed ? gfp : gfp | __GFP_NOWARN | __GFP_NORETRY);
		if (fresh == nullptr) {
			if (reclaimed)
				return nullptr;
			reclaim();
			reclaimed = true;
		}
	}
}

/* Bulk calls with nr > 0 and no array: refused with a report, before any
 * p[i] is read or written (on a Cortex-M, address 0 is the vector table,
 * so neither would fault). */
void SlabAllocator::refuse_null_array(const char *caller, size_t nr)
{
	reporter_.bug("kmem_cache", "%s of %zu objects with a NULL array: refused", caller, nr);
	reporter_.finish_bug();
}

/* A debug cache's objects go through its slow paths with the caller the
 * API entry passed (SLAB_STORE_USER, SLAB_TRACE): through the inline
 * paths they would be recorded as allocated or freed by this file. */
int SlabAllocator::alloc_bulk(kmem_cache *s, gfp_t gfp, size_t nr, void **p, const void *caller)
{
	if (s == nullptr) {
		refuse_null_cache("kmem_cache_alloc_bulk");
		return 0;
	}
	if (nr > static_cast<size_t>(__INT_MAX__))
		return 0;
	if (__builtin_expect(p == nullptr && nr != 0, 0)) {
		refuse_null_array("kmem_cache_alloc_bulk", nr);
		return 0;
	}
	const bool debug = kSlabDebug && (s->flags & kSlabDebugFlags) != 0;
	for (size_t i = 0; i < nr; ++i) {
		p[i] = debug ? alloc_slow(s, gfp, caller) : slab_alloc_fast(*this, s, gfp);
		if (p[i] == nullptr) {
			free_bulk(s, i, p, caller);
			return 0;
		}
	}
	return static_cast<int>(nr);
}

void SlabAllocator::free_bulk(kmem_cache *s, size_t nr, void **p, const void *caller)
{
	if (__builtin_expect(p == nullptr && nr != 0, 0)) {
		refuse_null_array("kmem_cache_free_bulk", nr);
		return;
	}
	const bool debug = kSlabDebug && s != nullptr && (s->flags & kSlabDebugFlags) != 0;
	for (size_t i = 0; i < nr; ++i) {
		if (debug)
			free_slow(s, p[i], caller);
		else if (s != nullptr)
			slab_free_fast(*this, s, p[i]);
		else
			kfree_fast(*this, p[i]);
	}
}

} // namespace kmm

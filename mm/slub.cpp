/*
 * mm/slub.cpp — SLUB: the slab lists of a cache, the slow paths of
 * allocation and free, new slabs from the buddy allocator and the misuse
 * checks of every free that leaves the fast path (slub_fast.h).
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

/* One CPU, IRQs still masked from the step that emptied `slab`, which is
 * still counted in (free_to_slab<.., false>): if the page allocator takes
 * it on its fast path (owned_fast: region 0, an order with a per-CPU
 * list), the slab is counted out, its ids cleared and it goes onto this
 * CPU's page list, all in that masked step. Nothing (an IRQ; there is no
 * other CPU) can run in between, so it is never in transit and none of
 * discard_slab's bookkeeping (transit counts, three masked steps) is
 * needed: on the M3 a kfree that releases a slab takes about 40
 * instructions less. Otherwise it is counted out as free_to_slab would
 * have, and false says the caller must discard_slab() it once IRQs are
 * restored. */
inline bool SlabAllocator::release_slab_masked(kmem_cache *s, struct page *slab)
{
	/* (SMP: another CPU's validate could see the slab between its ids
	 * and the push, so there discard_slab counts it in transit.) */
	if (!kOneStepRelease || __builtin_expect(!pages_.owned_fast(slab, s->order, kSlab), 0)) {
		uncount_slab_locked(s); /* IRQs masked: on one CPU that is the lock */
		return false;
	}
	/* locals: the byte stores below would make GCC load both again */
	PageAllocator &pages = pages_;
	unsigned order = s->order;
	--s->nr_slabs;
	++s->slabs_freed;
	if constexpr (kSanitize)
		san_unpoison(pages.page_address(slab), s->slab_bytes);
	set_slab_cache_id(slab, order, 0);
	pages.give_owned_masked(slab, order);
	return true;
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
	bool reclaimed = false;
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
	bool reclaimed = false;
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

/* ---- free ---- */

namespace {
const char *page_state_name(uint8_t state)
{
	switch (state) {
	case kFree: return "a free page";
	case kInterior: return "the inside of a page block";
	case kAllocated: return "a page from alloc_pages";
	case kExact: return "a page from alloc_pages_exact";
	case kCompound: return "a compound page";
	case kLargeKmalloc: return "a large kmalloc block";
	case kReserved: return "a reserved page";
	case kPcp: return "a free page (per-CPU list)";
	default: return "a page in a corrupt state";
	}
}
} // namespace

/* The slab holding x, or NULL after reporting that x is no slab object. */
struct page *SlabAllocator::find_slab(const void *x, const char *who, const char *action)
{
	struct page *page = pages_.virt_to_page(x);
	if (page == nullptr) {
		reporter_.bug(who, "%s of pointer %p that kmm never handed out (not managed memory)", action, x);
		reporter_.finish_bug();
		return nullptr;
	}
	struct page *head = page_head(page);
	uint8_t head_state = page_state(head);
	if (head_state != kSlab && head_state != kSlabCpu) {
		reporter_.bug(who, "%s of pointer %p that kmm never handed out (it is in %s)", action, x,
			      page_state_name(head_state));
		reporter_.finish_bug();
		return nullptr;
	}
	if (head->cache_id > KMM_MAX_CACHES || slot(head->cache_id) == nullptr) {
		reporter_.bug(who, "%s of pointer %p in a slab of no live cache (cache id %u)", action, x,
			      head->cache_id);
		reporter_.finish_bug();
		return nullptr;
	}
	return head;
}

/* Is x the start of one of the slab's objects? Reports if not. */
bool SlabAllocator::check_object(kmem_cache *s, const void *x, const char *action)
{
	uintptr_t base = slab_start_of(s, x);
	uintptr_t off = reinterpret_cast<uintptr_t>(x) - base;
	if constexpr (kSlabDebug)
		off -= s->red_left; /* debug caches: users get slot + red_left */
	if (__builtin_expect(off < uintptr_t{s->objects} * s->size && on_object_boundary(s, off), 1))
		return true;
	report_bad_object(s, x, action);
	return false;
}

void SlabAllocator::report_bad_object(kmem_cache *s, const void *x, const char *action)
{
	uintptr_t base = slab_start_of(s, x);
	uintptr_t at = reinterpret_cast<uintptr_t>(x) - base;
	uintptr_t off = at - s->red_left;
	if (at < s->red_left) { /* in the first object's left red zone */
		reporter_.bug(s->name, "%s of pointer %p before the first object %p of slab %p (in its red zone)", action,
			      x, reinterpret_cast<void *>(base + s->red_left), reinterpret_cast<void *>(base));
	} else if (off >= uintptr_t{s->objects} * s->size) {
		reporter_.bug(s->name, "%s of pointer %p past the last object of slab %p", action, x,
			      reinterpret_cast<void *>(base));
	} else if (!on_object_boundary(s, off)) {
		uintptr_t start = base + off / s->size * s->size + s->red_left;
		reporter_.bug(s->name, "%s of pointer %p into the middle of object %p (offset %lu of %u)", action, x,
			      reinterpret_cast<void *>(start), static_cast<unsigned long>(off % s->size), static_cast<unsigned>(s->size));
	}
	reporter_.finish_bug();
}

/* kmem_cache_free off the fast path: x is not in the CPU slab, or is
 * suspect. If x's slab belongs to s, s is a live cache and x is freed;
 * anything else is diagnosed by free_misuse. */
void SlabAllocator::free_slow(kmem_cache *s, void *x, const void *caller)
{
	if (kSlabDebug && caller == nullptr)
		caller = __builtin_return_address(0);
	if (x == nullptr)
		return;
	struct page *page = pages_.virt_to_page(x);
	if (page != nullptr) {
		struct page *slab = page_head(page);
		uint8_t state = page_state(slab);
		if ((state == kSlab || state == kSlabCpu) && slab->cache_id <= KMM_MAX_CACHES &&
		    slot(slab->cache_id) == s) {
			if (kMagazineMax > 0 && (!kSlabDebug || (s->flags & kSlabDebugFlags) == 0)) /* outside region 0: the inline checks and push */
				push_slab_object(*this, s, slab, x);
			else
				free_object(s, slab, x, caller);
			return;
		}
	}
	free_misuse(s, x);
}

void SlabAllocator::free_misuse(kmem_cache *s, void *x)
{
	if (!check_cache(s, "kmem_cache_free"))
		return;
	struct page *slab = find_slab(x, s->name, "kmem_cache_free");
	if (slab == nullptr)
		return;
	const kmem_cache *owner = slot(slab->cache_id); /* one load: it may be destroyed meanwhile */
	reporter_.bug(s->name, "kmem_cache_free of object %p to the wrong cache: it belongs to %s", x,
		      owner != nullptr ? owner->name : "a cache destroyed meanwhile");
	reporter_.finish_bug();
}

/* The head page of the slab holding x, a pointer into some slab: region
 * 0 without the region loop (as kfree_fast). */
__attribute__((always_inline)) inline struct page *SlabAllocator::slab_of(const void *x) const
{
	uintptr_t off = reinterpret_cast<uintptr_t>(x) - map_start_;
	struct page *p = off < map_bytes_ ? map_pages_ + (off >> kPageShift) : pages_.virt_to_page(x);
	return page_head(p);
}

struct page *SlabAllocator::cache_slab_of(const kmem_cache *s, const void *x) const
{
	struct page *page = pages_.virt_to_page(x);
	if (page == nullptr)
		return nullptr;
	struct page *head = page_head(page);
	uint8_t state = page_state(head);
	if ((state != kSlab && state != kSlabCpu) || head->cache_id != s->id)
		return nullptr;
	return head;
}

/* Gives x, a checked object of slab, back to its slab: onto c's CPU
 * freelist if slab is c's CPU slab, else onto the page freelist with the
 * list transitions; an empty slab beyond min_partial is counted out and
 * returned in `discard`, to be freed after the lock (at most one a call).
 * Catches the double frees the cache affords: x at the CPU or page
 * freelist head, an empty slab; with SLAB_CONSISTENCY_CHECKS (kMayCheck:
 * the caller may see such a cache; it keeps a full list too) x anywhere
 * on the freelist, unless the caller has searched already (kSearch false:
 * free_debug). IRQs masked, lock held. */
template <bool kMayCheck, bool kCountOut, bool kSearch>
__attribute__((always_inline)) inline SlabAllocator::FreeResult
SlabAllocator::free_to_slab(kmem_cache *s, CacheCpu &c, struct page *slab, void *x, struct page *&discard)
{
	bool checked = kMayCheck && (s->flags & SLAB_CONSISTENCY_CHECKS) != 0;
	bool search = kSearch && checked;
	uintptr_t base = slab_start_of(s, x);
	void *head = freelist_decode(base, slab->freelist);
	if (slab == c.slab) {
		if (x == c.freelist || x == head ||
		    (search && on_freelist(s, c.freelist, reinterpret_cast<uintptr_t>(x))))
			return FreeResult::kDoubleFree;
		set_freepointer(s, x, c.freelist);
		c.freelist = x;
		return FreeResult::kFreed;
	}
	uint16_t inuse = slab->inuse;
	if (inuse == 0 || x == head || (search && on_freelist(s, head, reinterpret_cast<uintptr_t>(x))))
		return FreeResult::kDoubleFree;
	set_freepointer(s, x, head);
	set_slab_freelist(slab, freelist_encode_offset(reinterpret_cast<uintptr_t>(x) - base));
	set_slab_inuse(slab, static_cast<uint16_t>(inuse - 1u));
	/* another CPU's slab (SMP: its CPU slab or a CPU partial one; with one
	 * CPU the only kSlabCpu slab is c.slab, tested above) */
	if (KMM_NR_CPUS > 1 && slab->state != kSlab)
		return FreeResult::kFreed;
	if (inuse == s->objects) { /* it was full */
		--s->nr_full;
		if (checked)
			s->full.remove(slab);
		if (inuse != 1) { /* full -> partial, the common move */
			s->partial.push_back(slab);
			return FreeResult::kFreed;
		}
	} else if (inuse != 1) {
		return FreeResult::kFreed; /* stays partial */
	} else {
		s->partial.remove(slab);
	}
	/* empty (place_slab_locked's case, inline): kept up to min_partial */
	if (s->empty.count < s->min_partial) {
		s->empty.push_front(slab);
	} else {
		if constexpr (kCountOut)
			uncount_slab_locked(s);
		discard = slab;
	}
	return FreeResult::kFreed;
}

SlabAllocator::FreeResult SlabAllocator::free_to_slab_locked(kmem_cache *s, CacheCpu &c, struct page *slab, void *x,
							      PageList &discard, bool searched)
{
	struct page *empty = nullptr;
	/* searched: the caller (free_debug) has looked for x on the whole
	 * freelist already; the full list is kept all the same */
	FreeResult r = searched ? free_to_slab<true, true, false>(s, c, slab, x, empty)
				: free_to_slab<true>(s, c, slab, x, empty);
	if (empty != nullptr)
		discard.push_front(empty);
	return r;
}

/* Gives the `count` oldest objects of c's magazine back to their slabs in
 * one batch under the cache lock (the ring's base moves past them; nothing
 * else moves; the caller updates mag_end). Returns the double frees found on the way (skipped: the
 * first in `bad`), which the caller reports once IRQs are restored. IRQs
 * masked. O(count). */
__attribute__((always_inline)) inline unsigned long SlabAllocator::evict_oldest(kmem_cache *s, CacheCpu &c, uint32_t count,
										 PageList &discard, void *&bad)
{
	unsigned long double_frees = 0;
	uint32_t entries = mag_count(c);
	if (count > entries)
		count = entries;
	if (count == 0)
		return 0;
	{
		SlabLockIrqsOff guard(s->lock);
		for (uint32_t i = 0; i < count; ++i) {
			void *x = mag_take_oldest(c);
			struct page *empty = nullptr;
			if (free_to_slab<false>(s, c, slab_of(x), x, empty) == FreeResult::kDoubleFree) {
				if (double_frees++ == 0)
					bad = x;
			}
			if (empty != nullptr)
				discard.push_front(empty);
		}
	}
	slab_stat(c.mag_flushes);
	return double_frees;
}

unsigned long SlabAllocator::flush_magazine(kmem_cache *s, CacheCpu &c, uint32_t count, PageList &discard, void *&bad)
{
	return evict_oldest(s, c, count, discard, bad);
}

void SlabAllocator::report_flush_double_frees(kmem_cache *s, unsigned long n, void *first)
{
	reporter_.bug(s->name, "double free of object %p found in a magazine flush (%lu such objects, skipped)",
		      first, n);
	reporter_.finish_bug();
}

/* Empties every CPU's magazine of s (other CPUs' through drain_cpu). */
void SlabAllocator::drain_magazines(kmem_cache *s)
{
	drain_all_cpus(s, false);
}

/* Gives back what c caches of s: its magazine, and with `slabs` its CPU
 * slab and CPU partial slabs; mag_limit is s's capacity again after. c is
 * the running CPU's, or another CPU's held from outside (a sync drain).
 * IRQs masked. Returns the double frees found (see flush_magazine). */
unsigned long SlabAllocator::drain_cpu_held(kmem_cache *s, CacheCpu &c, bool slabs, PageList &discard, void *&bad)
{
	unsigned long double_frees = flush_magazine(s, c, mag_count(c), discard, bad);
	if (slabs) {
		if (struct page *slab = deactivate_cpu_slab(s, c))
			discard.push_front(slab);
		if (c.partial != nullptr) {
			SlabLockIrqsOff guard(s->lock);
			while (struct page *slab = c.partial) {
				c.partial = slab->next;
				--c.nr_partial;
				if (place_slab_locked(s, slab))
					discard.push_front(slab);
			}
		}
	}
	set_mag_limit(c, __atomic_load_n(&s->mag_capacity, __ATOMIC_RELAXED));
	mag_update_end(c);
	return double_frees;
}

namespace {
/* A sync drain of another CPU, run on it by kmm_arch_cpu_call. */
struct RemoteDrainCall {
	SlabAllocator *slab;
	kmem_cache *s;
	unsigned cpu;
	bool slabs;
	unsigned long double_frees;
	void *bad;
	PageList discard; /* freed by the caller, off that CPU's IRQ-masked time */
};
} // namespace

void SlabAllocator::drain_cpu_call(void *arg)
{
	auto *call = static_cast<RemoteDrainCall *>(arg);
	kmem_cache *s = call->s;
	call->double_frees = call->slab->drain_cpu_held(s, s->cpu[call->cpu], call->slabs, call->discard, call->bad);
}

/* Drains CPU `cpu`'s caches of s (drain_cpu_held): at once if it is the
 * running CPU; else (RemoteDrain::kSync) on that CPU through
 * kmm_arch_cpu_call (an IPI; on the host, holding its slot); where that is
 * refused (kRequest, a CPU that takes no calls, or a caller with IRQs
 * masked) it asks it to: a flush at its next slow path, which then drains
 * its slabs too. Call with no lock held. */
void SlabAllocator::drain_cpu(kmem_cache *s, unsigned cpu, bool slabs)
{
	RemoteDrainCall call{this, s, cpu, slabs, 0, nullptr, PageList{}};
	unsigned long flags = fast_irq_save();
	bool local = KMM_NR_CPUS == 1 || kmm_arch_cpu_id() == cpu;
	if (local)
		drain_cpu_call(&call);
	fast_irq_restore(flags);
	if constexpr (KMM_NR_CPUS > 1) {
		if (!local && (remote_drain_ != RemoteDrain::kSync || kmm_arch_cpu_call(cpu, drain_cpu_call, &call) != 0)) {
			CacheCpu &c = s->cpu[cpu];
			/* The order matters (honour_flush): the request, then
			 * the trigger that sends its next free off the fast path. */
			__atomic_fetch_add(&c.flush_req, 1u, __ATOMIC_SEQ_CST);
			__atomic_store_n(&c.mag_limit, 0u, __ATOMIC_SEQ_CST);
			__atomic_store_n(&c.mag_end, 0u, __ATOMIC_SEQ_CST); /* after: mag_update_end */
			__atomic_fetch_add(&remote_drain_requests_, 1ul, __ATOMIC_RELAXED);
		}
	}
	if (call.double_frees != 0)
		report_flush_double_frees(s, call.double_frees, call.bad);
	while (struct page *slab = call.discard.pop_front())
		discard_slab(s, slab);
}

void SlabAllocator::drain_all_cpus(kmem_cache *s, bool slabs)
{
	for (unsigned cpu = 0; cpu < KMM_NR_CPUS; ++cpu)
		drain_cpu(s, cpu, slabs);
}

/* SMP: another CPU asked this one to flush its caches of s (drain_cpu,
 * RemoteDrain::kRequest). Drains everything, restores mag_limit, then
 * looks again: a request that raced with the restore is not lost (its
 * mag_limit = 0 lands after ours, or we see its flush_req). */
void SlabAllocator::honour_flush(kmem_cache *s)
{
	PageList discard;
	void *bad = nullptr;
	unsigned long double_frees = 0;
	unsigned long flags = fast_irq_save();
	CacheCpu &c = this_cpu(s, flags);
	for (;;) {
		uint32_t req = __atomic_load_n(&c.flush_req, __ATOMIC_SEQ_CST);
		if (req == __atomic_load_n(&c.flush_done, __ATOMIC_RELAXED))
			break;
		double_frees += drain_cpu_held(s, c, true, discard, bad);
		__atomic_store_n(&c.flush_done, req, __ATOMIC_RELAXED);
		/* mag_limit again as a seq_cst store, then flush_req (seq_cst): a
		 * requester's mag_limit = 0 after our load lands after this */
		__atomic_store_n(&c.mag_limit, __atomic_load_n(&s->mag_capacity, __ATOMIC_RELAXED), __ATOMIC_SEQ_CST);
	}
	mag_update_end(c); /* after the loop: a newer request's 0 is kept */
	fast_irq_restore(flags);
	if (double_frees != 0)
		report_flush_double_frees(s, double_frees, bad);
	while (struct page *slab = discard.pop_front())
		discard_slab(s, slab);
}

void SlabAllocator::free_object_inline(kmem_cache *s, struct page *page, void *x)
{
	free_object(s, page_head(page), x, kSlabDebug ? __builtin_return_address(0) : nullptr);
}

namespace {
/* The slow frees' push onto a magazine with room (entries < limit): wraps
 * the ring at the array's end, then recomputes mag_end. IRQs masked. */
__attribute__((always_inline)) inline void push_out_of_line(const kmem_cache *s, CacheCpu &c, void *x)
{
	san_freed(s, x); /* before anyone can take it */
	if (c.mag_top == kMagazineRing)
		c.mag_top = 0; /* the array's end: the ring goes on at slot 1 */
	c.mag[++c.mag_top] = x;
	mag_update_end(c);
	slab_stat(c.free_slow);
}
} // namespace

/* A free into a magazine that is full (kMagazineEvict 0): x goes back to
 * its own slab (`slab`, its head page), the
 * magazine stays as it is, an emptied slab beyond min_partial is released;
 * IRQs (masked by the caller, `flags`) restored. free_to_slab repeats the
 * inline path's not-visibly-free tests under the lock (they cannot fail
 * for a live object). */
__attribute__((always_inline)) inline void SlabAllocator::overflow_to_slab(kmem_cache *s, CacheCpu &c,
									    struct page *slab, void *x,
									    unsigned long flags)
{
	struct page *empty = nullptr;
	FreeResult r;
	{
		SlabLockIrqsOff guard(s->lock);
		r = free_to_slab<false, !kOneStepRelease>(s, c, slab, x, empty);
		/* under the lock: once it is dropped another CPU may take x
		 * from its slab and hand it out, and a late annotation would
		 * then poison a live object (host sanitizers) */
		if (__builtin_expect(r == FreeResult::kFreed, 1))
			san_freed(s, x);
	}
	if (__builtin_expect(r == FreeResult::kFreed, 1))
		slab_stat(c.free_slow);
	if constexpr (kOneStepRelease)
		if (empty != nullptr && release_slab_masked(s, empty))
			empty = nullptr;
	fast_irq_restore(flags);
	if (empty != nullptr)
		discard_slab(s, empty);
	if (r == FreeResult::kDoubleFree)
		report_double_free(s, x);
}

void SlabAllocator::free_overflow_masked(kmem_cache *s, struct page *slab, void *x)
{
	unsigned long flags = overflow_flags_;
	if constexpr (kMaskedOverflow) {
		CacheCpu &c = this_cpu(s, flags);
		uint32_t limit = mag_limit_of(c);
		/* exactly full, and a magazine at all: free_overflow's common
		 * case, without its other tests (one CPU: no flush requests;
		 * every debug cache has F and so no magazine — setup_cache and
		 * set_magazine_size see to it, validate() checks it — nor has
		 * the boot cache: init and set_magazine_size see to that) */
		if (__builtin_expect(mag_count(c) == limit && limit != 0, 1)) {
			overflow_to_slab(s, c, slab, x, flags);
			return;
		}
	}
	fast_irq_restore(flags);
	free_overflow(s, slab, x);
}

void SlabAllocator::free_overflow(kmem_cache *s, struct page *slab, void *x)
{
	unsigned long flags = fast_irq_save();
	CacheCpu &c = this_cpu(s, flags);
	uint32_t limit = mag_limit_of(c);
	uint32_t entries = mag_count(c);
	/* No magazine, a flush request, a debug cache, or more entries than
	 * the limit (not after a drain, which every limit change makes):
	 * free_object's general way. */
	if (__builtin_expect(limit == 0 || entries > limit || flush_pending(c) ||
				     (kSlabDebug && (s->flags & kSlabDebugFlags) != 0), 0)) {
		fast_irq_restore(flags);
		free_object(s, slab, x, kSlabDebug ? __builtin_return_address(0) : nullptr);
		return;
	}
	if (kMagazineEvict == 0 && entries == limit) {
		overflow_to_slab(s, c, slab, x, flags);
		return;
	}
	PageList discard;
	void *bad = nullptr;
	unsigned long flush_double_frees = 0;
	if (kMagazineEvict != 0 && entries == limit) /* full: evict kMagazineEvict (at most all of them) */
		flush_double_frees = evict_oldest(s, c, kMagazineEvict, discard, bad);
	push_out_of_line(s, c, x);
	fast_irq_restore(flags);
	if (flush_double_frees != 0)
		report_flush_double_frees(s, flush_double_frees, bad);
	while (struct page *p = discard.pop_front())
		discard_slab(s, p);
}

bool SlabAllocator::on_freelist(const kmem_cache *s, void *head, uintptr_t slot, unsigned max_steps) const
{
	unsigned steps = 0;
	const unsigned limit = max_steps < s->objects ? max_steps : s->objects;
	for (void *p = head; p != nullptr && ++steps <= limit;) {
		if (p == reinterpret_cast<void *>(slot))
			return true;
		void *next = get_freepointer(s, p);
		if (!freepointer_ok(s, p, next))
			return false; /* corrupt: validate reports (and repairs) it */
		p = next;
	}
	return false;
}

namespace {
/* The tests kfree's inline path makes, for the slow paths: x (slot: x less
 * the left red zone) heads its slab's or the CPU freelist, tops c's
 * magazine, or its slab is empty. No lock: each can only hold for an object
 * that is already free (x is not ours to race for otherwise). IRQs masked. */
inline bool visibly_free_masked(const CacheCpu &c, const struct page *slab, const void *x, const void *slot,
				uintptr_t base)
{
	return __atomic_load_n(&slab->inuse, __ATOMIC_RELAXED) == 0 ||
	       slot == freelist_decode(base, __atomic_load_n(&slab->freelist, __ATOMIC_RELAXED)) ||
	       slot == c.freelist || (mag_count(c) != 0 && x == mag_newest(c));
}
} // namespace

bool SlabAllocator::visibly_free(kmem_cache *s, struct page *slab, const void *x)
{
	const void *slot = static_cast<const char *>(x) - s->red_left;
	uintptr_t base = slab_start_of(s, slot);
	unsigned long flags = fast_irq_save();
	bool is_free = visibly_free_masked(this_cpu(s), slab, x, slot, base);
	fast_irq_restore(flags);
	return is_free;
}

bool SlabAllocator::object_free(kmem_cache *s, const void *x)
{
	uintptr_t slot = reinterpret_cast<uintptr_t>(x) - s->red_left;
	struct page *slab = slab_of(x);
	bool is_free;
	unsigned long flags = fast_irq_save();
	{
		CacheCpu &c = this_cpu(s);
		SlabLockIrqsOff guard(s->lock);
		uintptr_t base = slab_start_of(s, reinterpret_cast<void *>(slot));
		/* bounded walks: a whole kmalloc-8 freelist (512 entries) took
		 * ~19,000 instructions with IRQs masked on the M3 */
		is_free = slab->inuse == 0 ||
			  on_freelist(s, freelist_decode(base, slab->freelist), slot, kVisibleFreelist) ||
			  on_freelist(s, c.freelist, slot, kVisibleFreelist);
		for (uint32_t j = 1; !is_free && j <= mag_count(c) && j <= kMagazineMax; ++j)
			is_free = c.mag[mag_slot(c, j)] == x;
	}
	fast_irq_restore(flags);
	return is_free;
}

void SlabAllocator::report_double_free(kmem_cache *s, void *x)
{
	reporter_.bug(s->name, "double free of object %p: it is already free", x);
	reporter_.finish_bug();
}

/* Frees x, a pointer into slab, a slab of s, that the inline path did not
 * push: checks that it is an object and not visibly free, then pushes it
 * onto the magazine if it has room (full: with kMagazineEvict > 0 after
 * evicting that many oldest entries to their slabs: bounded work) — else,
 * full or without a magazine, gives it back to its slab under the lock. */
void SlabAllocator::free_object(kmem_cache *s, struct page *slab, void *x, const void *caller)
{
	if (__builtin_expect(s == &boot_cache_, 0) && is_live(static_cast<kmem_cache *>(x))) {
		/* only free_descriptor frees a descriptor, once it is unlisted */
		reporter_.bug("kmem_cache", "free of %p, the descriptor of live cache %s: refused (kmem_cache_destroy frees it)",
			      x, static_cast<kmem_cache *>(x)->name);
		reporter_.finish_bug();
		return;
	}
	if constexpr (kSlabDebug) {
		if ((s->flags & kSlabDebugFlags) != 0) {
			free_debug(s, slab, x, caller != nullptr ? caller : __builtin_return_address(0));
			return;
		}
	}
	(void)caller;
	if (!check_object(s, x, "free"))
		return;
	if (flush_pending(this_cpu(s))) /* SMP: another CPU asked */
		honour_flush(s);
	bool double_free = false;
	unsigned long flush_double_frees = 0;
	void *bad = nullptr;
	PageList discard;
	uintptr_t base = slab_start_of(s, x);
	unsigned long flags = fast_irq_save();
	{
		CacheCpu &c = this_cpu(s);
		uint32_t mag_limit = mag_limit_of(c);
		uint32_t entries = mag_count(c);
		if (kMagazineEvict == 0 && mag_limit != 0 && entries > mag_limit) {
			/* more than the limit (never after a drain): back to it */
			flush_double_frees = flush_magazine(s, c, entries - mag_limit, discard, bad);
			entries = mag_limit;
		}
		if (mag_limit != 0) /* (a debug cache, red zones, went to free_debug: slot = x) */
			double_free = visibly_free_masked(c, slab, x, x, base);
		bool push = mag_limit != 0 && (kMagazineEvict != 0 || entries < mag_limit);
		if (!double_free && push) {
			if (entries >= mag_limit)
				flush_double_frees =
					flush_magazine(s, c, entries - mag_limit + kMagazineEvict, discard, bad);
			push_out_of_line(s, c, x);
		} else if (!double_free) { /* no magazine, or a full one (kMagazineEvict 0): the slab */
			SlabLockIrqsOff guard(s->lock);
			double_free = free_to_slab_locked(s, c, slab, x, discard) == FreeResult::kDoubleFree;
			if (!double_free) {
				san_freed(s, x);
				slab_stat(c.free_slow);
			}
		}
	}
	fast_irq_restore(flags);
	if (double_free) {
		report_double_free(s, x);
		return;
	}
	if (flush_double_frees != 0)
		report_flush_double_frees(s, flush_double_frees, bad);
	while (struct page *p = discard.pop_front())
		discard_slab(s, p);
}

} // namespace kmm

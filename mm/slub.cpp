/*
 * mm/slub.cpp — SLUB: the slab lists of a cache, the slow paths of
 * allocation and free, new slabs from the buddy allocator and the misuse
 * checks of every free that leaves the fast path (slub_fast.h).
 *
 * Lock order (outermost first; a lock is never taken while a later one is held)
 *   1. IRQs masked on the local CPU — protects the CPU's CacheCpu of every
 *      cache (the fast path holds nothing else);
 *   2. SlabAllocator::registry_lock_ — the cache table (slab_common.cpp);
 *   3. kmem_cache::lock (a SlabLock) — the cache's partial/empty/full lists
 *      and counters, and page::freelist/inuse/state of its slabs (for a CPU
 *      slab: only its page::freelist and inuse, which remote frees change).
 *      Its word is taken only when KMM_NR_CPUS > 1: on one CPU the masked
 *      IRQs of level 1 are all the exclusion there is;
 *   4. PageAllocator's lock — innermost (taken inside alloc/free).
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
 * Freelists: a free object holds a raw pointer to the next free object of the
 * same slab at kmem_cache::offset (only get_freepointer/set_freepointer touch
 * it), NULL-terminated. page::freelist holds the first one encoded as
 * 1 + offset_from_slab_start / kSlabUnit (0 = none); CacheCpu::freelist holds
 * the CPU slab's as a plain pointer.
 */
#include "slub.h"

#include "slub_fast.h"

namespace kmm {

/* ---- slabs ---- */

struct page *SlabAllocator::allocate_slab(kmem_cache *s, gfp_t gfp)
{
	struct page *slab = pages_.alloc(gfp & ~(__GFP_ZERO | __GFP_COMP), s->order, kSlab);
	if (slab == nullptr)
		return nullptr;
	uintptr_t base = slab_base(pages_, slab);
	slab->inuse = 0;
	slab->cache_id = s->id;
	slab->next = slab->prev = nullptr;
	char *object = reinterpret_cast<char *>(base);
	for (unsigned i = 0; i < s->objects; ++i, object += s->size) {
		if (s->ctor != nullptr)
			s->ctor(object);
		set_freepointer(s, object, i + 1 < s->objects ? object + s->size : nullptr);
	}
	slab->freelist = freelist_encode(base, reinterpret_cast<void *>(base));
	return slab;
}

void SlabAllocator::discard_slab(kmem_cache *s, struct page *slab)
{
	slab->state = kSlab;
	pages_.free(slab, s->order, kSlab);
}

/* Puts a slab that is on no list where its inuse says. Returns true if it
 * is an empty slab beyond min_partial: the caller frees it after unlocking
 * (the counters already say it is gone). */
bool SlabAllocator::place_slab_locked(kmem_cache *s, struct page *slab)
{
	slab->state = kSlab;
	if (slab->inuse == s->objects) {
		++s->nr_full;
		if ((s->flags & SLAB_CONSISTENCY_CHECKS) != 0)
			s->full.push_front(slab);
		return false;
	}
	if (slab->inuse == 0) {
		if (s->empty.count < s->min_partial) {
			s->empty.push_front(slab);
			return false;
		}
		--s->nr_slabs;
		++s->slabs_freed;
		return true;
	}
	s->partial.push_back(slab);
	return false;
}

/* Makes a slab that is on no list the CPU slab of c, moving its whole
 * freelist to the CPU (Linux "freezing"). IRQs masked, lock held. */
void SlabAllocator::install_cpu_slab_locked(kmem_cache *s, CacheCpu &c, struct page *slab)
{
	uintptr_t base = slab_base(pages_, slab);
	slab->state = kSlabCpu;
	c.freelist = freelist_decode(base, slab->freelist);
	slab->freelist = 0;
	slab->inuse = s->objects;
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
	unsigned n = 0;
	void *tail = nullptr;
	for (void *p = head; p != nullptr && n < s->objects; p = get_freepointer(s, p)) {
		tail = p;
		++n;
	}
	SlabLockIrqsOff guard(s->lock);
	if (n != 0) {
		set_freepointer(s, tail, freelist_decode(base, slab->freelist));
		slab->freelist = freelist_encode(base, head);
		slab->inuse = static_cast<uint16_t>(slab->inuse - n);
	}
	return place_slab_locked(s, slab) ? slab : nullptr;
}

/* ---- allocation ---- */

namespace {
inline void *finish_alloc(const kmem_cache *s, void *object, gfp_t gfp)
{
	if ((gfp & __GFP_ZERO) != 0)
		__builtin_memset(object, 0, s->object_size);
	return object;
}
} // namespace

void *SlabAllocator::alloc(kmem_cache *s, gfp_t gfp) { return slab_alloc_fast(*this, s, gfp); }
void SlabAllocator::free(kmem_cache *s, void *x) { slab_free_fast(*this, s, x); }

/* The CPU freelist is empty: take the CPU slab's remote frees, else the
 * next partial (then empty) slab, else a new slab. */
void *SlabAllocator::alloc_slow(kmem_cache *s, gfp_t gfp)
{
	if ((s->flags & SLAB_CONSISTENCY_CHECKS) != 0)
		return alloc_checked(s, gfp);
	for (;;) {
		unsigned long flags = fast_irq_save();
		CacheCpu &c = this_cpu(s);
		void *object = c.freelist;
		if (object == nullptr) {
			SlabLockIrqsOff guard(s->lock);
			struct page *slab = c.slab;
			if (slab != nullptr && slab->freelist != 0) {
				c.freelist = freelist_decode(c.slab_start, slab->freelist);
				slab->freelist = 0;
				slab->inuse = s->objects;
			} else {
				if (slab != nullptr) { /* exhausted: it is full */
					c.slab = nullptr;
					c.slab_start = 0;
					c.slab_bytes = 0;
					place_slab_locked(s, slab);
				}
				slab = s->partial.pop_front();
				if (slab == nullptr)
					slab = s->empty.pop_front();
				if (slab != nullptr)
					install_cpu_slab_locked(s, c, slab);
			}
			object = c.freelist;
		}
		if (object != nullptr) {
			c.freelist = get_freepointer(s, object);
			slab_stat(c.alloc_slow);
			fast_irq_restore(flags);
			return finish_alloc(s, object, gfp);
		}
		fast_irq_restore(flags);

		struct page *slab = allocate_slab(s, gfp);
		if (slab == nullptr)
			return nullptr;
		struct page *discard = nullptr;
		flags = fast_irq_save();
		{
			CacheCpu &cpu = this_cpu(s);
			SlabLockIrqsOff guard(s->lock);
			++s->nr_slabs;
			++s->slabs_allocated;
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

/* SLAB_CONSISTENCY_CHECKS: one object from the first partial slab, with
 * its free pointer checked before it is followed. Lock held. False if the
 * slab's freelist was corrupt (reported; the slab is isolated as full). */
bool SlabAllocator::take_object_locked(kmem_cache *s, struct page *slab, void *&object)
{
	uintptr_t base = slab_base(pages_, slab);
	object = freelist_decode(base, slab->freelist);
	void *next = get_freepointer(s, object);
	uintptr_t off = reinterpret_cast<uintptr_t>(next) - base;
	if (next != nullptr && (off >= uintptr_t{s->objects} * s->size || !on_object_boundary(s, off))) {
		reporter_.bug(s->name, "freelist corrupted: free object %p holds free pointer %p, not an object "
			      "of slab %p; slab isolated", object, next, reinterpret_cast<void *>(base));
		s->partial.remove(slab);
		slab->freelist = 0;
		slab->inuse = s->objects;
		place_slab_locked(s, slab);
		return false;
	}
	slab->freelist = freelist_encode(base, next);
	++slab->inuse;
	if (slab->inuse == s->objects) {
		s->partial.remove(slab);
		place_slab_locked(s, slab);
	}
	return true;
}

void *SlabAllocator::alloc_checked(kmem_cache *s, gfp_t gfp)
{
	for (;;) {
		bool corrupt = false;
		{
			SlabLockGuard guard(s->lock);
			struct page *slab = s->partial.head;
			if (slab == nullptr && (slab = s->empty.pop_front()) != nullptr)
				s->partial.push_front(slab);
			if (slab != nullptr) {
				void *object;
				if (take_object_locked(s, slab, object)) {
					slab_stat(this_cpu(s).alloc_slow);
					return finish_alloc(s, object, gfp);
				}
				corrupt = true;
			}
		}
		if (corrupt) {
			reporter_.finish_bug();
			continue;
		}
		struct page *slab = allocate_slab(s, gfp);
		if (slab == nullptr)
			return nullptr;
		SlabLockGuard guard(s->lock);
		++s->nr_slabs;
		++s->slabs_allocated;
		s->partial.push_front(slab);
	}
}

int SlabAllocator::alloc_bulk(kmem_cache *s, gfp_t gfp, size_t nr, void **p)
{
	if (nr > static_cast<size_t>(__INT_MAX__))
		return 0;
	for (size_t i = 0; i < nr; ++i) {
		p[i] = slab_alloc_fast(*this, s, gfp);
		if (p[i] == nullptr) {
			free_bulk(s, i, p);
			return 0;
		}
	}
	return static_cast<int>(nr);
}

void SlabAllocator::free_bulk(kmem_cache *s, size_t nr, void **p)
{
	for (size_t i = 0; i < nr; ++i) {
		if (s != nullptr)
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
	case kInterior: return "inside a page block";
	case kAllocated: return "a page from alloc_pages";
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
	if (head->state != kSlab && head->state != kSlabCpu) {
		reporter_.bug(who, "%s of pointer %p that kmm never handed out (it is in %s)", action, x,
			      page_state_name(head->state));
		reporter_.finish_bug();
		return nullptr;
	}
	if (head->cache_id >= KMM_MAX_CACHES || caches_[head->cache_id] == nullptr) {
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
	if (__builtin_expect(off < uintptr_t{s->objects} * s->size && on_object_boundary(s, off), 1))
		return true;
	report_bad_object(s, x, action);
	return false;
}

void SlabAllocator::report_bad_object(kmem_cache *s, const void *x, const char *action)
{
	uintptr_t base = slab_start_of(s, x);
	uintptr_t off = reinterpret_cast<uintptr_t>(x) - base;
	if (off >= uintptr_t{s->objects} * s->size) {
		reporter_.bug(s->name, "%s of pointer %p past the last object of slab %p", action, x,
			      reinterpret_cast<void *>(base));
	} else if (!on_object_boundary(s, off)) {
		uintptr_t start = base + off / s->size * s->size;
		reporter_.bug(s->name, "%s of pointer %p into the middle of object %p (offset %lu of %u)", action, x,
			      reinterpret_cast<void *>(start), static_cast<unsigned long>(off % s->size), static_cast<unsigned>(s->size));
	}
	reporter_.finish_bug();
}

/* kmem_cache_free off the fast path: x is not in the CPU slab, or is
 * suspect. If x's slab belongs to s, s is a live cache and x is freed;
 * anything else is diagnosed by free_misuse. */
void SlabAllocator::free_slow(kmem_cache *s, void *x)
{
	if (x == nullptr)
		return;
	struct page *page = pages_.virt_to_page(x);
	if (page != nullptr) {
		struct page *slab = page_head(page);
		if ((slab->state == kSlab || slab->state == kSlabCpu) && slab->cache_id < KMM_MAX_CACHES &&
		    caches_[slab->cache_id] == s) {
			free_object(s, slab, x);
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
	reporter_.bug(s->name, "kmem_cache_free of object %p to the wrong cache: it belongs to %s", x,
		      caches_[slab->cache_id]->name);
	reporter_.finish_bug();
}

namespace {
bool on_chain(const kmem_cache *s, void *head, const void *x)
{
	unsigned n = 0;
	for (void *p = head; p != nullptr && n <= s->objects; p = get_freepointer(s, p), ++n)
		if (p == x)
			return true;
	return false;
}
} // namespace

/* Frees x, a checked pointer into slab, with the double-free checks the
 * cache affords: always the CPU and page freelist heads and inuse == 0;
 * with SLAB_CONSISTENCY_CHECKS the whole page freelist. */
void SlabAllocator::free_object(kmem_cache *s, struct page *slab, void *x)
{
	if (!check_object(s, x, "free"))
		return;
	bool checked = (s->flags & SLAB_CONSISTENCY_CHECKS) != 0;
	bool double_free = false;
	struct page *discard = nullptr;
	uintptr_t base = slab_start_of(s, x);
	unsigned long flags = fast_irq_save();
	{
		CacheCpu &c = this_cpu(s);
		SlabLockIrqsOff guard(s->lock);
		void *head = freelist_decode(base, slab->freelist);
		if (slab == c.slab) {
			double_free = x == c.freelist || x == head || (checked && on_chain(s, c.freelist, x));
			if (!double_free) {
				set_freepointer(s, x, c.freelist);
				c.freelist = x;
				slab_stat(c.free_slow);
			}
		} else {
			double_free = slab->inuse == 0 || x == head || (checked && on_chain(s, head, x));
			if (!double_free) {
				bool was_full = slab->inuse == s->objects;
				set_freepointer(s, x, head);
				slab->freelist = freelist_encode(base, x);
				--slab->inuse;
				slab_stat(c.free_slow);
				if (slab->state == kSlab) { /* not another CPU's slab */
					if (was_full) {
						--s->nr_full;
						if (checked)
							s->full.remove(slab);
					} else if (slab->inuse == 0) {
						s->partial.remove(slab);
					}
					if ((was_full || slab->inuse == 0) && place_slab_locked(s, slab))
						discard = slab;
				}
			}
		}
	}
	fast_irq_restore(flags);
	if (double_free) {
		reporter_.bug(s->name, "double free of object %p: it is already free", x);
		reporter_.finish_bug();
		return;
	}
	if (discard != nullptr)
		discard_slab(s, discard);
}

} // namespace kmm

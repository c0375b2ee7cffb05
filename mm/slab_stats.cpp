/*
 * mm/slab_stats.cpp — what the slab layer tells about itself: per-cache
 * figures (kmem_cache_info), /proc/slabinfo 2.1, the leak report of a
 * refused kmem_cache_destroy, and validate(), the whole-structure check.
 * None of these allocates. validate() and the leak report walk every page
 * descriptor (O(managed pages)); info and slabinfo are O(slabs on lists +
 * objects on the CPU freelists).
 */
#include "format.h"
#include "slub.h"
#include "slub_fast.h"

namespace kmm {

/* Calls fn(head) for every slab head page of every region. The memory map
 * is fixed after init; states of other caches' slabs may change under us,
 * which callers tolerate (they only act on slabs of a cache they lock). */
template <typename Fn, typename Other> void SlabAllocator::for_each_slab_page(Fn fn, Other other) const
{
	for (unsigned ri = 0; ri < pages_.nr_regions(); ++ri) {
		const Region &r = pages_.region(ri);
		size_t idx = 0;
		while (idx < r.nr_pages) {
			struct page *p = &r.pages[idx];
			uint8_t state = __atomic_load_n(&p->state, __ATOMIC_RELAXED);
			if (state == kSlab || state == kSlabCpu) {
				fn(p);
				idx += size_t{1} << (p->order <= kMaxOrder ? p->order : 0);
			} else {
				other(p);
				++idx;
			}
		}
	}
}

namespace {

unsigned long chain_length(const kmem_cache *s, void *head)
{
	unsigned long n = 0;
	for (void *p = head; p != nullptr && n <= s->objects; p = get_freepointer(s, p))
		++n;
	return n;
}

bool chain_holds(const kmem_cache *s, uintptr_t base, void *head, const void *x)
{
	unsigned long n = 0;
	uintptr_t area = uintptr_t{s->objects} * s->size;
	for (void *p = head; p != nullptr && n <= s->objects; p = get_freepointer(s, p), ++n) {
		if (p == x)
			return true;
		if (reinterpret_cast<uintptr_t>(p) - base >= area) /* corrupt: validate reports it */
			return false;
	}
	return false;
}

/* Calls fn(cpu, index, object) for every magazine entry of s (none for a
 * CPU whose mag_top or mag_base is out of the ring, at most kMagazineMax
 * if they are corrupt otherwise: validate reports both). */
template <typename Fn> void for_each_magazine_entry(const kmem_cache *s, Fn fn)
{
	for (unsigned cpu = 0; cpu < KMM_NR_CPUS; ++cpu) {
		const CacheCpu &c = s->cpu[cpu];
		if (c.mag_top > kMagazineRing || c.mag_base >= kMagazineRing)
			continue;
		uint32_t count = mag_count(c);
		uint32_t n = count < kMagazineMax ? count : kMagazineMax;
		for (uint32_t j = 1; j <= n; ++j)
			fn(cpu, j, c.mag[mag_slot(c, j)]);
	}
}

} // namespace

/* ---- figures ---- */

int SlabAllocator::info(kmem_cache *s, kmem_cache_info *out)
{
	OtherCpusStopped stop;
	return info_stopped(s, out);
}

int SlabAllocator::info_stopped(kmem_cache *s, kmem_cache_info *out)
{
	if (out == nullptr || !check_cache(s, "kmem_cache_info"))
		return -KMM_EINVAL;
	kmem_cache_info i{};
	unsigned long flags = fast_irq_save();
	{
		SlabLockIrqsOff guard(s->lock);
		unsigned long free_objs = 0, idle_slabs = 0;
		for (struct page *p = s->partial.head; p != nullptr; p = p->next)
			free_objs += s->objects - p->inuse;
		free_objs += s->empty.count * s->objects;
		/* Objects of `slab` in magazines: O(magazine entries). */
		auto in_magazines = [&](const struct page *slab) {
			unsigned long n = 0;
			for_each_magazine_entry(s, [&](unsigned, uint32_t, void *x) {
				if (cache_slab_of(s, x) == slab)
					++n;
			});
			return n;
		};
		auto is_cpu_slab = [&](const struct page *slab) {
			for (const CacheCpu &c : s->cpu) {
				if (c.slab == slab)
					return true;
				unsigned n = 0;
				for (const struct page *p = c.partial; p != nullptr && n < kCpuPartialMax; p = p->next, ++n)
					if (p == slab)
						return true;
			}
			return false;
		};
		for (const CacheCpu &c : s->cpu) {
			if (c.slab != nullptr) {
				++i.cpu_slabs;
				unsigned long cpu_free = chain_length(s, c.freelist);
				free_objs += s->objects - c.slab->inuse + cpu_free;
				if (c.slab->inuse == cpu_free + in_magazines(c.slab))
					++idle_slabs;
			}
			/* SMP: CPU partial slabs (their free objects are on
			 * their page freelists) */
			unsigned n = 0;
			for (const struct page *p = c.partial; p != nullptr && n < kCpuPartialMax; p = p->next, ++n) {
				++i.cpu_slabs;
				free_objs += s->objects - p->inuse;
				if (p->inuse == in_magazines(p))
					++idle_slabs;
			}
			i.alloc_fastpath += c.alloc_fast;
			i.alloc_slowpath += c.alloc_slow;
			i.free_fastpath += c.free_fast;
			i.free_slowpath += c.free_slow;
			i.magazine_objs += mag_count(c);
			i.magazine_flushes += c.mag_flushes;
			if (c.mag_limit > i.magazine_size)
				i.magazine_size = c.mag_limit;
		}
		free_objs += i.magazine_objs;
		/* Other slabs whose objects in use all sit in magazines: idle.
		 * Each slab once (at its first entry): O(entries^2). */
		for_each_magazine_entry(s, [&](unsigned cpu, uint32_t j, void *x) {
			const struct page *slab = cache_slab_of(s, x);
			if (slab == nullptr || is_cpu_slab(slab))
				return;
			bool first = true;
			for_each_magazine_entry(s, [&](unsigned cpu2, uint32_t j2, void *y) {
				if ((cpu2 < cpu || (cpu2 == cpu && j2 < j)) && cache_slab_of(s, y) == slab)
					first = false;
			});
			if (first && slab->inuse == in_magazines(slab))
				++idle_slabs;
		});
		i.name = s->name;
		i.num_slabs = s->nr_slabs;
		i.num_objs = s->nr_slabs * s->objects;
		i.active_objs = i.num_objs - free_objs;
		i.active_slabs = s->nr_slabs - s->empty.count - idle_slabs;
		i.partial_slabs = s->partial.count;
		i.empty_slabs = s->empty.count;
		i.full_slabs = s->nr_full;
		i.object_size = s->object_size;
		i.size = s->size;
		i.align = s->align;
		i.objects_per_slab = s->objects;
		i.pages_per_slab = 1u << s->order;
		i.min_partial = s->min_partial;
		i.slabs_allocated = s->slabs_allocated;
		i.slabs_freed = s->slabs_freed;
	}
	fast_irq_restore(flags);
	*out = i;
	return 0;
}

/* fn(info) for every live cache, the other CPUs stopped, under the
 * registry lock (slabinfo, slabstats). */
template <typename Fn> void SlabAllocator::for_each_cache_info(Fn fn)
{
	OtherCpusStopped stop;
	LockGuard guard(registry_lock_);
	for (kmem_cache *s : caches_) {
		kmem_cache_info i;
		if (s != nullptr && info_stopped(s, &i) == 0)
			fn(i);
	}
}

namespace {
/* slabinfo's <batchcount>: the objects a free at the magazine's bound
 * moves to the slabs (the object itself with KMM_SLAB_MAGAZINE_EVICT 0). */
unsigned batchcount(unsigned magazine_size)
{
	if (magazine_size == 0)
		return 0;
	unsigned n = kMagazineEvict == 0 ? 1u : kMagazineEvict;
	return magazine_size < n ? magazine_size : n;
}
} // namespace

void SlabAllocator::slabinfo(kmm_sink_fn sink, void *ctx)
{
	static const char kHeader[] =
		"slabinfo - version: 2.1\n"
		"# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab>"
		" : tunables <limit> <batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs> <sharedavail>\n";
	SinkWriter w(sink, ctx);
	w.write(kHeader, sizeof(kHeader) - 1);
	for_each_cache_info([&](const kmem_cache_info &i) {
		w.print("%-17s %6lu %6lu %6u %4u %4u : tunables %4u %4u %4u : slabdata %6lu %6lu %6u\n", i.name,
			i.active_objs, i.num_objs, i.size, i.objects_per_slab, i.pages_per_slab, i.magazine_size,
			batchcount(i.magazine_size), 0u,
			i.active_slabs, i.num_slabs, 0u);
	});
}

void SlabAllocator::slabstats(kmm_sink_fn sink, void *ctx)
{
	SinkWriter w(sink, ctx);
	w.print("# name            alloc_fast alloc_slow  free_fast  free_slow slabs_alloc slabs_freed"
		" mag_objs mag_flush\n");
	for_each_cache_info([&](const kmem_cache_info &i) {
		w.print("%-17s %10lu %10lu %10lu %10lu %11lu %11lu %8lu %9lu\n", i.name, i.alloc_fastpath,
			i.alloc_slowpath, i.free_fastpath, i.free_slowpath, i.slabs_allocated, i.slabs_freed,
			i.magazine_objs, i.magazine_flushes);
	});
}

/* ---- leaks ---- */

void SlabAllocator::report_leaks_locked(kmem_cache *s)
{
	constexpr unsigned long kMaxLines = 16;
	reporter_.bug(s->name, "Objects remaining in %s on destroy", s->name);
	unsigned long total = 0;
	for_each_slab_page([&](struct page *slab) {
		if (slab->cache_id != s->id)
			return;
		uintptr_t base = slab_base(pages_, slab);
		/* Free objects of 64 at a time, marked in a bitmap: O(objects^2 / 64). */
		for (unsigned first = 0; first < s->objects; first += 64) {
			const uint64_t is_free = free_slot_bits(s, slab, base, first);
			for (unsigned k = 0; k < 64 && first + k < s->objects; ++k) {
				if ((is_free & (uint64_t{1} << k)) != 0)
					continue;
				if (++total <= kMaxLines) {
					uintptr_t slot = base + uintptr_t{first + k} * s->size;
					reporter_.detail("Object %p @offset=%lu in slab %p",
							 reinterpret_cast<void *>(slot + s->red_left),
							 static_cast<unsigned long>(uintptr_t{first + k} * s->size + s->red_left),
							 reinterpret_cast<void *>(base));
					if constexpr (kSlabDebug)
						if (s->track_offset != 0) /* SLAB_STORE_USER: who allocated it */
							debug_print_tracks(s, slot);
				}
			}
		}
	});
	if (total > kMaxLines)
		reporter_.detail("... %lu more objects", total - kMaxLines);
	reporter_.detail("%lu objects remaining in %lu slabs of %s; the cache is kept", total, s->nr_slabs, s->name);
}

/* ---- validate ---- */

unsigned long SlabAllocator::validate()
{
	if (!__atomic_load_n(&initialized_, __ATOMIC_ACQUIRE))
		return 0;
	OtherCpusStopped stop;
	unsigned long problems = 0;
	const kmem_cache *cur = nullptr;
	auto problem = [&](const char *what, const void *where) {
		++problems;
		reporter_.detail("validate: slab %s: %s at %p", cur != nullptr ? cur->name : "-", what, where);
	};
	/* Walks a freelist of the slab at base; returns its length, or
	 * objects + 1 after a problem (outside the objects, or a cycle). */
	auto walk = [&](const kmem_cache *s, uintptr_t base, void *head) -> unsigned long {
		unsigned long n = 0;
		uintptr_t area = uintptr_t{s->objects} * s->size;
		for (void *p = head; p != nullptr; p = get_freepointer(s, p)) {
			uintptr_t off = reinterpret_cast<uintptr_t>(p) - base;
			if (off >= area || !on_object_boundary(s, off)) {
				problem("free pointer not at an object of its slab", p);
				return s->objects + 1ul;
			}
			if (++n > s->objects) {
				problem("freelist longer than its slab (a cycle)", reinterpret_cast<void *>(base));
				return n;
			}
		}
		return n;
	};
	auto check_listed = [&](const kmem_cache *s, const PageList &list, const char *name, bool (*ok)(const kmem_cache *, const struct page *)) {
		size_t n = 0;
		const struct page *prev = nullptr;
		for (struct page *p = list.head; p != nullptr; prev = p, p = p->next) {
			if (++n > s->nr_slabs + 1) {
				problem("slab list longer than the cache's slabs (a cycle)", p);
				return;
			}
			if (p->prev != prev)
				problem("slab list link broken", p);
			if (p->state != kSlab || p->cache_id != s->id || pages_.region_of(p) == nullptr) {
				problem(name, p);
				continue;
			}
			if (!ok(s, p))
				problem(name, pages_.page_address(p));
			uintptr_t base = slab_base(pages_, p);
			if (walk(s, base, freelist_decode(base, p->freelist)) != static_cast<unsigned long>(s->objects - p->inuse))
				problem("page freelist length != objects - inuse", reinterpret_cast<void *>(base));
		}
		if (n != list.count)
			problem("slab list count differs from its length", list.head);
		if (list.tail != prev)
			problem("slab list tail is not its last slab", list.tail);
	};

	for (unsigned id = 1; id <= KMM_MAX_CACHES; ++id) {
		kmem_cache *s = slot(id);
		if (s == nullptr)
			continue;
		cur = s;
		if (s->id != id)
			problem("cache id differs from its table slot", s);
		unsigned long flags = fast_irq_save();
		s->lock.acquire();
		/* Slabs given back before we took the lock may still carry the
		 * id; those being built are counted when we read it again after
		 * the walk (they cannot be counted while we hold the lock). */
		const unsigned long in_flight_before = __atomic_load_n(&s->slabs_in_flight, __ATOMIC_SEQ_CST);
		check_listed(s, s->partial, "bad slab on the partial list",
			     [](const kmem_cache *c, const struct page *p) { return p->inuse > 0 && p->inuse < c->objects; });
		check_listed(s, s->empty, "bad slab on the empty list",
			     [](const kmem_cache *, const struct page *p) { return p->inuse == 0; });
		check_listed(s, s->full, "bad slab on the full list",
			     [](const kmem_cache *c, const struct page *p) { return p->inuse == c->objects; });
		if (s->empty.count > s->min_partial)
			problem("more empty slabs than min_partial", s);
		if ((s->flags & SLAB_CONSISTENCY_CHECKS) != 0 && s->full.count != s->nr_full)
			problem("full list count differs from nr_full", s);
		unsigned long cpu_slabs = 0;
		for (const CacheCpu &c : s->cpu) {
			if (c.slab == nullptr) {
				if (c.freelist != nullptr || c.slab_bytes != 0)
					problem("CPU freelist without a CPU slab", c.freelist);
				continue;
			}
			++cpu_slabs;
			struct page *p = c.slab;
			if (p->state != kSlabCpu || p->cache_id != s->id || pages_.region_of(p) == nullptr) {
				problem("CPU slab is not a kSlabCpu page of this cache", p);
				continue;
			}
			uintptr_t base = slab_base(pages_, p);
			if (c.slab_start != base || c.slab_bytes != uintptr_t{s->objects} * s->size)
				problem("CPU slab range differs from its page", reinterpret_cast<void *>(base));
			unsigned long page_free = walk(s, base, freelist_decode(base, p->freelist));
			if (page_free != static_cast<unsigned long>(s->objects - p->inuse))
				problem("CPU slab's page freelist length != objects - inuse", reinterpret_cast<void *>(base));
			if (walk(s, base, c.freelist) > p->inuse)
				problem("CPU freelist longer than the slab's objects in use", reinterpret_cast<void *>(base));
		}
		/* SMP: CPU partial slabs, kSlabCpu with their free objects on
		 * their page freelists (remote flushes push there). */
		for (const CacheCpu &c : s->cpu) {
			uint32_t n = 0;
			for (struct page *p = c.partial; p != nullptr; p = p->next) {
				if (++n > kCpuPartialMax) {
					problem("CPU partial list longer than its limit", p);
					break;
				}
				++cpu_slabs;
				if (p->state != kSlabCpu || p->cache_id != s->id || pages_.region_of(p) == nullptr ||
				    p == c.slab || p->inuse >= s->objects) {
					problem("bad slab on a CPU partial list", p);
					continue;
				}
				uintptr_t base = slab_base(pages_, p);
				if (walk(s, base, freelist_decode(base, p->freelist)) != static_cast<unsigned long>(s->objects - p->inuse))
					problem("page freelist length != objects - inuse", reinterpret_cast<void *>(base));
			}
			if (n != c.nr_partial)
				problem("CPU partial count differs from its list", s);
		}
		/* Magazines: each entry a distinct free object of this cache, on no
		 * freelist (it counts as in use for its slab). */
		for (const CacheCpu &c : s->cpu) {
			if (c.mag_top > kMagazineRing || c.mag_base >= kMagazineRing) {
				problem("magazine top or base out of the ring", s);
				continue;
			}
			if (c.mag[0] != nullptr)
				problem("magazine sentinel mag[0] (the wall) is not NULL", c.mag[0]);
			else if (c.mag[c.mag_base] != nullptr)
				problem("magazine sentinel mag[base] is not NULL", c.mag[c.mag_base]);
			/* a CPU asked to flush has mag_limit (and mag_end) 0 until it
			 * does (SMP) */
			bool pending = flush_pending(c);
			uint32_t limit = pending ? s->mag_capacity : c.mag_limit;
			if (limit > kMagazineMax || mag_count(c) > limit)
				problem("magazine count above its limit", s);
			else if (c.mag_end != mag_end_for(c, c.mag_limit) && !(pending && c.mag_end == 0))
				problem("magazine push bound (mag_end) differs from its base and limit", s);
			if (c.mag_limit != 0 && (s->flags & SLAB_CONSISTENCY_CHECKS) != 0)
				problem("SLAB_CONSISTENCY_CHECKS cache with a magazine", s);
		}
		for_each_magazine_entry(s, [&](unsigned cpu, uint32_t j, void *x) {
			struct page *slab = cache_slab_of(s, x);
			uintptr_t off = reinterpret_cast<uintptr_t>(x) & s->slab_mask;
			if (slab == nullptr || off >= s->object_area || !on_object_boundary(s, off)) {
				problem("magazine entry is not an object of this cache", x);
				return;
			}
			bool twice = false;
			for_each_magazine_entry(s, [&](unsigned cpu2, uint32_t j2, void *y) {
				twice |= y == x && (cpu2 < cpu || (cpu2 == cpu && j2 < j));
			});
			if (twice) {
				problem("object twice in the magazines", x);
				return;
			}
			uintptr_t base = slab_base(pages_, slab);
			bool listed = chain_holds(s, base, freelist_decode(base, slab->freelist), x);
			for (const CacheCpu &c : s->cpu)
				listed |= c.slab == slab && chain_holds(s, base, c.freelist, x);
			if (listed)
				problem("magazine entry is also on a freelist", x);
		});
		/* Every slab page of this cache, counted from the page descriptors. */
		unsigned long seen = 0, full = 0, seen_cpu = 0;
		for_each_slab_page([&](struct page *p) {
			if (p->cache_id != s->id)
				return;
			++seen;
			if (p->state == kSlabCpu)
				++seen_cpu;
			else if (p->inuse == s->objects)
				++full;
			if (p->order != s->order)
				problem("slab page order differs from the cache's", pages_.page_address(p));
		});
		const unsigned long in_flight = in_flight_before + __atomic_load_n(&s->slabs_in_flight, __ATOMIC_SEQ_CST);
		if (seen < s->nr_slabs || seen > s->nr_slabs + in_flight)
			problem("slab pages found != nr_slabs (+ slabs being built or given back)", s);
		if (full != s->nr_full)
			problem("full slab pages found != nr_full", s);
		if (seen_cpu != cpu_slabs)
			problem("kSlabCpu pages found != CPU slabs", s);
		if (s->partial.count + s->empty.count + s->nr_full + cpu_slabs != s->nr_slabs)
			problem("partial + empty + full + CPU slabs != nr_slabs", s);
		s->lock.release();
		fast_irq_restore(flags);
		cur = nullptr;
	}
	/* page::cache_id: the cache's on every page of a slab (kfree's inline
	 * lookup reads whichever page the pointer is on), 0 on every other.
	 * What another CPU (or a stopped one) building or giving back a slab
	 * can show the walk — a slab page with id 0, a tail whose id is not
	 * (or no longer) its head's, an id on a page that became a slab after
	 * the walk read its state — counts as in transit: at most the
	 * transits that had not ended before the walk and had begun by its
	 * end. */
	const unsigned long transit_ended = __atomic_load_n(&transit_ended_, __ATOMIC_SEQ_CST); /* acquire: before the walk */
	unsigned long unowned = 0;
	const void *first_unowned = nullptr;
	const char *first_what = nullptr;
	auto in_transit = [&](const char *what, const void *where) {
		if (++unowned == 1) {
			first_unowned = where;
			first_what = what;
		}
	};
	for_each_slab_page(
		[&](struct page *p) {
			const uint16_t id = page_cache_id(p);
			const kmem_cache *owner = id <= KMM_MAX_CACHES ? slot(id) : nullptr; /* one load */
			if (id > KMM_MAX_CACHES || (id != 0 && owner == nullptr))
				problem("slab page of no live cache", pages_.page_address(p));
			else if (const Region *r = pages_.region_of(p);
				 id != 0 && (owner->flags & SLAB_CACHE_DMA) != 0 && r != nullptr &&
				 r->zone != KMM_ZONE_DMA)
				problem("slab of a SLAB_CACHE_DMA cache outside the DMA zone", pages_.page_address(p));
			if (id == 0) {
				in_transit("slab page without a cache id (none being built or given back)",
					   pages_.page_address(p));
				return;
			}
			if (p->order <= kMaxOrder)
				for (size_t i = 1; i < (size_t{1} << p->order); ++i)
					if (page_cache_id(&p[i]) != id) {
						in_transit("slab tail page without its slab's cache id",
							   pages_.page_address(&p[i]));
						return;
					}
		},
		[&](struct page *p) {
			if (__atomic_load_n(&p->cache_id, __ATOMIC_ACQUIRE) == 0)
				return;
			uint8_t state = __atomic_load_n(&p->state, __ATOMIC_RELAXED);
			if (state == kSlab || state == kSlabCpu || state == kTail)
				in_transit("cache id on a page that is no slab's", pages_.page_address(p));
			else
				problem("cache id on a page that is no slab's", pages_.page_address(p));
		});
	/* A read-modify-write (release too: the walk's loads stay before it;
	 * a plain fence is what ThreadSanitizer cannot check) */
	if (unowned > __atomic_fetch_add(&transit_begun_, 0ul, __ATOMIC_SEQ_CST) - transit_ended)
		problem(first_what, first_unowned);
	for (unsigned i = 0; i < kNrKmallocClasses; ++i) {
		kmem_cache *k = kmalloc_caches_[i];
		if (k != &unready_ && (k == nullptr || !is_live(k) || !k->kmalloc))
			problem("kmalloc class table entry is not a live kmalloc cache", k);
		kmem_cache *d = kmalloc_dma_caches_[i];
		if (d != nullptr && (!is_live(d) || !d->kmalloc || (d->flags & SLAB_CACHE_DMA) == 0))
			problem("dma-kmalloc class table entry is not a live SLAB_CACHE_DMA kmalloc cache", d);
	}
	return problems;
}

} // namespace kmm

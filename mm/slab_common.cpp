/*
 * mm/slab_common.cpp — the cache registry and lifecycle: object layout and
 * slab order (pure functions, see slab_common.h), init/reset of a
 * SlabAllocator, kmem_cache create/destroy/shrink, min_partial.
 *
 * Locks: registry_lock_ (the cache table) is taken before any cache lock;
 * cache locks before the page allocator's (see slub.cpp for the full order).
 * kmem_cache structs come from the allocator's own boot cache ("kmem_cache",
 * caches_[kBootCacheId]), a static kmem_cache whose slabs come from the buddy allocator
 * like any other: the slab layer needs no other allocator.
 */
#include "slab_common.h"

#include <arch/arch.h>

#include "slub.h"
#include "slub_fast.h"

namespace kmm {

/* ---- layout ---- */

unsigned calculate_slab_order(size_t size)
{
	unsigned min_order = page_order_for(size);
	static const unsigned kFractions[] = {16, 8, 4};
	for (unsigned fraction : kFractions) {
		for (unsigned order = min_order; order <= kMaxSlabOrder; ++order) {
			size_t slab = size_t{kPageSize} << order;
			if ((slab % size) * fraction <= slab)
				return order;
		}
	}
	return min_order;
}

const char *calculate_layout(unsigned int size, unsigned int align, slab_flags_t flags, bool has_ctor,
			     CacheLayout &out)
{
	if (size == 0)
		return "size 0";
	if ((align & (align - 1)) != 0)
		return "alignment is not a power of two";
	if ((flags & ~KMM_SLAB_VALID_FLAGS) != 0)
		return "unknown flags";
	if (size > kMaxSlabBytes)
		return "size is larger than the largest slab";
	size_t a = align == 0 ? kSlabUnit : align;
	if ((flags & SLAB_HWCACHE_ALIGN) != 0) {
		/* Linux: a cache line, or a fraction of it for small objects. */
		size_t ralign = KMM_L1_CACHE_BYTES;
		while (size <= ralign / 2)
			ralign /= 2;
		if (ralign > a)
			a = ralign;
	}
	if (a < kSlabUnit)
		a = kSlabUnit;
	if (a > kMaxSlabBytes)
		return "alignment is larger than the largest slab";
	size_t object = (size_t{size} + kSlabUnit - 1) & ~(kSlabUnit - 1);
	size_t offset = has_ctor ? object : 0;
	size_t stride = has_ctor ? object + sizeof(void *) : object;
	out = CacheLayout{};
	if (KMM_SLAB_DEBUG != 0 && (flags & SLAB_DEBUG_FLAGS) != 0) {
		DebugLayout d = debug_layout(size, a, flags, has_ctor);
		offset = d.offset;
		stride = d.size;
		out.red_left = d.red_left;
		out.inuse = d.inuse;
		out.track_offset = d.track_offset;
		out.orig_offset = d.orig_offset;
	}
	stride = (stride + a - 1) & ~(a - 1);
	if (stride > kMaxSlabBytes)
		return "size is larger than the largest slab";

	out.object_size = size;
	out.align = static_cast<uint32_t>(a);
	out.offset = static_cast<uint32_t>(offset);
	out.size = static_cast<uint32_t>(stride);
	out.order = calculate_slab_order(stride);
	out.slab_bytes = static_cast<uint32_t>(size_t{kPageSize} << out.order);
	out.objects = static_cast<uint32_t>(out.slab_bytes / stride);
	out.div_magic = divisibility_magic(out.size);
	return nullptr;
}

unsigned min_partial_for(uint32_t size)
{
	unsigned ilog2 = 31u - static_cast<unsigned>(__builtin_clz(size));
	unsigned m = ilog2 / 2;
	if (m < KMM_SLAB_MIN_PARTIAL_LO)
		m = KMM_SLAB_MIN_PARTIAL_LO;
	if (m > KMM_SLAB_MIN_PARTIAL_HI)
		m = KMM_SLAB_MIN_PARTIAL_HI;
	return m;
}

/* ---- registry ---- */

void SlabAllocator::setup_cache(kmem_cache *s, const char *name, const CacheLayout &layout, slab_flags_t flags,
				void (*ctor)(void *))
{
	kmem_cache init{};
	init.offset = layout.offset;
	init.size = layout.size;
	init.div_magic = layout.div_magic;
	init.index_inverse = odd_inverse(layout.size);
	init.index_shift = static_cast<uint32_t>(__builtin_ctz(layout.size));
	init.object_size = layout.object_size;
	init.align = layout.align;
	init.slab_bytes = layout.slab_bytes;
	init.slab_mask = uintptr_t{layout.slab_bytes} - 1;
	init.object_area = uintptr_t{layout.objects} * layout.size;
	unsigned magazine = (flags & SLAB_CONSISTENCY_CHECKS) != 0 ? 0 : magazine_capacity(layout.size);
	for (CacheCpu &c : init.cpu) {
		c.mag_limit = magazine;
		c.mag_end = mag_end_for(c, magazine);
	}
	init.mag_capacity = magazine;
	init.objects = static_cast<uint16_t>(layout.objects);
	init.order = static_cast<uint8_t>(layout.order);
	init.flags = flags;
	init.ctor = ctor;
	init.red_left = layout.red_left;
	init.inuse = layout.inuse;
	init.track_offset = layout.track_offset;
	init.orig_offset = layout.orig_offset;
	if constexpr (kFreelistHardened)
		init.random = static_cast<uintptr_t>(random_next());
	init.min_partial = min_partial_for(layout.size);
	size_t n = 0;
	while (n + 1 < sizeof(init.name) && name[n] != '\0') {
		init.name[n] = name[n];
		++n;
	}
	/* A byte copy starts the object's lifetime in raw slab memory (C++20
	 * implicit object creation), without <new>. */
	__builtin_memcpy(static_cast<void *>(s), &init, sizeof(init));
	san_pool_create(s);
}

bool SlabAllocator::is_live(const kmem_cache *s) const
{
	if (s == nullptr)
		return false;
	for (unsigned id = 0; id <= KMM_MAX_CACHES; ++id) /* never dereferences s: it may be garbage */
		if (slot(id) == s)
			return true;
	return false;
}

void *SlabAllocator::refuse_null_cache(const char *caller)
{
	(void)check_cache(nullptr, caller);
	return nullptr;
}

void SlabAllocator::free_descriptor(kmem_cache *s)
{
	/* What a late call through a stale pointer meets until the descriptor
	 * is handed out again (the boot cache keeps a free object's bytes: its
	 * free pointer lies past the object): an id no page carries and no
	 * magazine to push to. */
	s->id = kDeadCacheId;
	for (CacheCpu &c : s->cpu) {
		set_mag_limit(c, 0);
		__atomic_store_n(&c.mag_end, 0u, __ATOMIC_RELAXED);
	}
	free(&boot_cache_, s);
}

bool SlabAllocator::check_cache(const kmem_cache *s, const char *caller)
{
	if (is_live(s))
		return true;
	reporter_.bug("kmem_cache", "%s: %p is not a live cache", caller, static_cast<const void *>(s));
	reporter_.finish_bug();
	return false;
}

/* Gives s the lowest free id after the boot cache's. registry_lock_ held. */
int SlabAllocator::register_cache_locked(kmem_cache *s)
{
	for (unsigned id = kBootCacheId + 1; id <= KMM_MAX_CACHES; ++id) {
		if (caches_[id] == nullptr) {
			s->id = static_cast<uint16_t>(id);
			/* release: shrink_all reads the table without the lock */
			__atomic_store_n(&caches_[id], s, __ATOMIC_RELEASE);
			return 0;
		}
	}
	return -KMM_ENOSPC;
}

kmem_cache *SlabAllocator::create_cache(const char *name, const CacheLayout &layout, slab_flags_t flags,
					void (*ctor)(void *), bool kmalloc, gfp_t gfp)
{
	void *mem = alloc(&boot_cache_, gfp);
	if (mem == nullptr) {
		if ((gfp & __GFP_NOWARN) == 0)
			reporter_.warn("kmem_cache_create(%s): out of memory", name);
		return nullptr;
	}
	kmem_cache *s = static_cast<kmem_cache *>(mem);
	if constexpr (KMM_SLAB_DEBUG_ALL)
		flags |= SLAB_CONSISTENCY_CHECKS;
	setup_cache(s, name, layout, flags, ctor);
	s->kmalloc = kmalloc;
	int err;
	if (kmalloc) { /* during init, under registry_lock_ */
		err = register_cache_locked(s);
	} else {
		LockGuard guard(registry_lock_);
		err = register_cache_locked(s);
	}
	if (err != 0) {
		free_descriptor(s);
		reporter_.warn("kmem_cache_create(%s): all %u cache slots in use (KMM_MAX_CACHES)", name,
			       static_cast<unsigned>(KMM_MAX_CACHES));
		return nullptr;
	}
	return s;
}

/* ---- init / reset ---- */

int SlabAllocator::init(gfp_t gfp)
{
	if (__atomic_load_n(&initialized_, __ATOMIC_ACQUIRE))
		return 0;
	LockGuard guard(registry_lock_);
	return init_locked(gfp & kInitGfp);
}

int SlabAllocator::init_locked(gfp_t gfp)
{
	if (initialized_)
		return 0;
	if (!pages_.initialized()) {
		reporter_.warn("slab: used before kmm_init()");
		return -KMM_EINVAL;
	}
	/* Region 0 for kfree's inline lookup: map_bytes_ last, published
	 * (slub.h): a kfree on another CPU reads it first. */
	const Region &r0 = pages_.region(0);
	__atomic_store_n(&map_start_, r0.start, __ATOMIC_RELAXED);
	map_pages_ = r0.pages;
	publish(map_bytes_, uintptr_t{r0.nr_pages} << kPageShift);
	random_seed_ = kmm_arch_entropy();
	CacheLayout layout;
	/* has_ctor: a ctor cache's debug flags (no SLAB_POISON, which would
	 * overwrite what a free descriptor keeps) */
	slab_flags_t boot_flags = normalize_debug_flags(debug_flags_for("kmem_cache"), true);
	/* The boot cache is a ctor cache (a no-op ctor: the free pointer lies
	 * past the object, and the sanitizers keep a free object addressable),
	 * so a freed descriptor keeps what free_descriptor left in it for a
	 * stale pointer to meet; and it has no magazine, so every free of a
	 * descriptor reaches free_object, which refuses a live cache's
	 * (kfree(cache) for kmem_cache_destroy(cache)). */
	/* Cache-line aligned descriptors only on SMP, where CPUs write them
	 * (their per-CPU parts are aligned apart anyway): on one CPU the slot
	 * would be 448 B instead of 388 (one per 512-byte slab on 256-byte
	 * pages, five per 2 KiB slab without). */
	const slab_flags_t align = KMM_NR_CPUS > 1 ? SLAB_HWCACHE_ALIGN : 0;
	boot_flags = drop_order_raising_debug(static_cast<unsigned>(sizeof(kmem_cache)), alignof(kmem_cache),
					      align | boot_flags, true) & ~align;
	if (calculate_layout(sizeof(kmem_cache), alignof(kmem_cache), align | boot_flags, true, layout) != nullptr) {
		boot_flags = 0; /* a debug layout too big for a slab: no debugging */
		calculate_layout(sizeof(kmem_cache), alignof(kmem_cache), align, true, layout);
	}
	setup_cache(&boot_cache_, "kmem_cache", layout, boot_flags | (KMM_SLAB_DEBUG_ALL ? SLAB_CONSISTENCY_CHECKS : 0),
		    [](void *) {});
	boot_cache_.mag_capacity = 0;
	for (CacheCpu &c : boot_cache_.cpu) {
		c.mag_limit = 0;
		c.mag_end = 0;
	}
	boot_cache_.kmalloc = true;
	boot_cache_.id = kBootCacheId;
	caches_[kBootCacheId] = &boot_cache_;
	int err = create_kmalloc_caches_locked(gfp);
	if (err != 0) {
		/* Out of memory this early: give back what was taken. */
		for (unsigned id = kBootCacheId + 1; id <= KMM_MAX_CACHES; ++id) {
			if (kmem_cache *k = caches_[id]) {
				caches_[id] = nullptr; /* first: a listed descriptor's free is refused */
				free_descriptor(k);
			}
		}
		/* (the class table was not published: create_kmalloc_caches_locked
		 * publishes it only once every class exists) */
		for (auto &k : kmalloc_dma_caches_)
			k = nullptr;
		int shrunk = shrink(&boot_cache_);
		(void)shrunk;
		caches_[kBootCacheId] = nullptr;
		return err;
	}
	__atomic_store_n(&initialized_, true, __ATOMIC_RELEASE);
	/* page allocations under pressure get back what the caches hold */
	pages_.set_reclaim_hook([](void *self) { static_cast<SlabAllocator *>(self)->reclaim(); }, this);
	return 0;
}

void SlabAllocator::reset()
{
	LockGuard guard(registry_lock_);
	for (auto &c : caches_)
		c = nullptr;
	for (auto &k : kmalloc_caches_)
		k = &unready_;
	for (auto &k : kmalloc_dma_caches_)
		k = nullptr;
	kmalloc_max_ = 0;
	map_start_ = map_bytes_ = 0;
	map_pages_ = nullptr;
	kmem_cache blank{};
	__builtin_memcpy(static_cast<void *>(&boot_cache_), &blank, sizeof(blank));
	set_debug_options(KMM_SLUB_DEBUG);
	kmalloc_guard_ = false;
	if (pages_.reclaim_hook_is(this))
		pages_.set_reclaim_hook(nullptr, nullptr);
	__atomic_store_n(&initialized_, false, __ATOMIC_RELEASE);
}

/* ---- create / destroy / shrink ---- */

kmem_cache *SlabAllocator::create(const char *name, unsigned int size, unsigned int align, slab_flags_t flags,
				  void (*ctor)(void *))
{
	CacheLayout layout;
	slab_flags_t asked = flags;
	if (name != nullptr && (flags & ~KMM_SLAB_VALID_FLAGS) == 0) {
		flags = normalize_debug_flags(flags | debug_flags_for(name), ctor != nullptr);
		flags = drop_order_raising_debug(size, align, flags, ctor != nullptr);
	}
	const char *why = name == nullptr ? "NULL name" : calculate_layout(size, align, flags, ctor != nullptr, layout);
	if (why != nullptr && name != nullptr && (flags & ~KMM_SLAB_VALID_FLAGS) == 0) {
		/* The boot option's debug layout (red zones, tracking) may not
		 * fit a slab where the plain one does: that cache then goes
		 * without the option's flags, as the kmalloc caches do, rather
		 * than fail (or panic with SLAB_PANIC) only because of it. */
		slab_flags_t own = normalize_debug_flags(asked, ctor != nullptr);
		if (own != flags && calculate_layout(size, align, own, ctor != nullptr, layout) == nullptr) {
			reporter_.warn("kmem_cache_create(%s): slub_debug flags %#x do not fit (%s): created without them",
				       name, static_cast<unsigned>(flags & ~own), why);
			flags = own;
			why = nullptr;
		}
	}
	kmem_cache *s = nullptr;
	if (why != nullptr) {
		reporter_.bug(name != nullptr ? name : "kmem_cache", "kmem_cache_create: %s (size %u, align %u, flags %#x)",
			      why, size, align, flags);
		reporter_.finish_bug();
	} else if (init() == 0) {
		if ((flags & SLAB_CACHE_DMA) != 0 && !has_dma_zone())
			reporter_.warn("kmem_cache_create(%s): SLAB_CACHE_DMA, but there is no DMA zone", name);
		else
			s = create_cache(name, layout, flags & ~(SLAB_PANIC | KMM_SLAB_IGNORED_FLAGS), ctor, false);
	}
	if (s == nullptr && (flags & SLAB_PANIC) != 0)
		kmm_arch_panic("kmem_cache_create failed with SLAB_PANIC");
	return s;
}

size_t SlabAllocator::drain_empty_locked(kmem_cache *s, PageList &out)
{
	size_t n = 0;
	while (struct page *slab = s->empty.pop_front()) {
		out.push_front(slab);
		uncount_slab_locked(s);
		++n;
	}
	return n;
}

int SlabAllocator::shrink(kmem_cache *s)
{
	if (!check_cache(s, "kmem_cache_shrink"))
		return -KMM_EINVAL;
	shrink_cache(s);
	/* Linux's value: 0 if every slab went back, 1 if some remain (live
	 * objects, or another CPU's caches left to its next slow path) */
	SlabLockGuard guard(s->lock);
	return s->nr_slabs != 0 ? 1 : 0;
}

void SlabAllocator::shrink_cache(kmem_cache *s)
{
	/* Every CPU's magazine, CPU slab and CPU partial slabs: the running
	 * CPU's now, the others' now or at their next slow path (RemoteDrain,
	 * slub.cpp "SMP"). */
	drain_all_cpus(s, true);
	PageList discard;
	{
		SlabLockGuard guard(s->lock);
		drain_empty_locked(s, discard);
	}
	while (struct page *slab = discard.pop_front())
		discard_slab(s, slab);
}

void SlabAllocator::shrink_all()
{
	/* Memory pressure on one CPU may walk the table while another CPU
	 * destroys a cache in it. A walk counts itself on the side of
	 * reclaim_epoch_ it read, before it loads any slot, and uncounts
	 * itself there when it ends. destroy() empties the slot, then waits
	 * until it has seen each side's count at 0 (flipping the epoch, so
	 * that new walks go to the other side) before it frees the
	 * kmem_cache. Everything is sequentially consistent: a walk that
	 * loaded the cache counted itself before the slot emptied, so it is in
	 * one of the two counts until it ends; a walk that counts itself later
	 * loads the empty slot. (shrink() would report such a cache as not
	 * live: shrink_cache, no check.) */
	unsigned &depth = walk_depth(); /* this CPU's (only it and its IRQs touch it) */
	__atomic_add_fetch(&depth, 1u, __ATOMIC_RELAXED);
	const unsigned side = static_cast<unsigned>(__atomic_load_n(&reclaim_epoch_, __ATOMIC_SEQ_CST) & 1);
	__atomic_add_fetch(&reclaimers_[side], 1ul, __ATOMIC_SEQ_CST);
	if (walk_hook_ != nullptr)
		walk_hook_(walk_hook_arg_);
	for (unsigned id = 1; id <= KMM_MAX_CACHES; ++id)
		if (kmem_cache *s = __atomic_load_n(&caches_[id], __ATOMIC_SEQ_CST))
			shrink_cache(s);
	__atomic_sub_fetch(&reclaimers_[side], 1ul, __ATOMIC_SEQ_CST);
	__atomic_sub_fetch(&depth, 1u, __ATOMIC_RELAXED);
}

#if defined(KMM_HOST)
namespace {
/* The host: threads sharing a CPU slot run at the same time, so only a
 * walk of the calling thread itself cannot go on while it waits; per
 * allocator instance (tests run several), a few per thread. */
struct WalkDepth {
	const void *owner;
	unsigned depth;
};
thread_local WalkDepth t_walk_depth[4] = {};
} // namespace
#endif

unsigned &SlabAllocator::walk_depth()
{
#if defined(KMM_HOST)
	WalkDepth *free_slot = nullptr;
	for (WalkDepth &w : t_walk_depth) {
		if (w.owner == this)
			return w.depth;
		if (free_slot == nullptr && w.depth == 0)
			free_slot = &w;
	}
	if (free_slot == nullptr)
		kmm_arch_panic("slab: reclaim walks of more than 4 allocators nested on one thread");
	free_slot->owner = this;
	return free_slot->depth;
#else
	return walking_[KMM_NR_CPUS == 1 ? 0u : kmm_arch_cpu_id()];
#endif
}

void SlabAllocator::reclaim()
{
	/* Not while init() builds the kmalloc caches (registry_lock_ held:
	 * a drain of other CPUs would break the lock order, and there is
	 * nothing cached to give back yet). */
	if (__atomic_load_n(&initialized_, __ATOMIC_ACQUIRE))
		shrink_all();
}

void SlabAllocator::set_magazine_size(kmem_cache *s, unsigned entries)
{
	if (!check_cache(s, "set_magazine_size") || (s->flags & SLAB_CONSISTENCY_CHECKS) != 0 || s == &boot_cache_)
		return; /* the boot cache has none: its every free reaches free_object */
	uint32_t limit = entries < kMagazineMax ? entries : kMagazineMax;
	/* Each CPU takes the new capacity when its magazine is drained. */
	__atomic_store_n(&s->mag_capacity, limit, __ATOMIC_RELAXED);
	drain_magazines(s);
}

void SlabAllocator::set_min_partial(kmem_cache *s, unsigned min_partial)
{
	if (!check_cache(s, "set_min_partial"))
		return;
	PageList discard;
	{
		SlabLockGuard guard(s->lock);
		s->min_partial = min_partial;
		while (s->empty.count > min_partial) {
			discard.push_front(s->empty.pop_front());
			uncount_slab_locked(s);
		}
	}
	while (struct page *slab = discard.pop_front())
		discard_slab(s, slab);
}

void SlabAllocator::destroy(kmem_cache *s)
{
	if (s == nullptr || !check_cache(s, "kmem_cache_destroy"))
		return;
	if (s->kmalloc) {
		reporter_.bug(s->name, "kmem_cache_destroy of a kmalloc cache refused");
		reporter_.finish_bug();
		return;
	}
	shrink(s);
	bool leaked;
	{
		SlabLockGuard guard(s->lock);
		leaked = s->nr_slabs != 0;
		if (leaked)
			report_leaks_locked(s);
	}
	if (leaked) {
		/* Linux keeps such a cache: its objects stay valid, freeable, and
		 * nothing points at freed memory. */
		reporter_.finish_bug();
		return;
	}
	bool reclaiming = false;
	{
		LockGuard guard(registry_lock_);
		/* A reclaim walk in progress on this CPU means this call
		 * interrupted it (destroy from an IRQ handler): waiting for it
		 * would never end. Walks on other CPUs are waited for below. */
		reclaiming = __atomic_load_n(&walk_depth(), __ATOMIC_RELAXED) != 0;
		if (!reclaiming)
			__atomic_store_n(&caches_[s->id], nullptr, __ATOMIC_SEQ_CST);
	}
	if (reclaiming) {
		reporter_.bug(s->name, "kmem_cache_destroy from interrupt context during a reclaim: refused");
		reporter_.finish_bug();
		return;
	}
	/* SMP: a reclaim walk on another CPU may still hold s (shrink_all).
	 * Such a walk counted itself, on one side, before the slot emptied,
	 * and stays counted there until it ends. So once each side's count has
	 * been seen at 0 since then, every such walk is over — whatever other
	 * destroys flip meanwhile (waiting for "the side before my flip" alone
	 * missed a walk whose side an earlier, still-waiting destroy had
	 * flipped away: two destroys during one walk). While it waits for a
	 * side, new walks must go to the other: if the epoch sends them to
	 * this one, it flips it (extra flips, other destroys' too, cost
	 * nothing), so a stream of walks cannot hold the wait back. */
	for (unsigned side = 0; side < 2; ++side) {
		while (__atomic_load_n(&reclaimers_[side], __ATOMIC_SEQ_CST) != 0) {
			if ((__atomic_load_n(&reclaim_epoch_, __ATOMIC_SEQ_CST) & 1) == side)
				__atomic_fetch_add(&reclaim_epoch_, 1ul, __ATOMIC_SEQ_CST);
			spin_pause(); /* the decrement sends no event: no WFE */
			/* Called with IRQs masked (an IRQ handler): a walk on
			 * another CPU may wait for a drain call to this one. */
			if constexpr (KMM_NR_CPUS > 1)
				kmm_arch_cpu_call_poll();
		}
	}
	free_descriptor(s);
}

} // namespace kmm

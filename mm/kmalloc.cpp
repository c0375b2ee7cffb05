/*
 * mm/kmalloc.cpp — kmalloc on top of the slab caches: the size classes and
 * the size -> class table, large requests as whole page blocks (head state
 * kLargeKmalloc), kfree/ksize telling the two apart from the page
 * descriptor, and krealloc.
 *
 * Classes: 8, 16, 32, 64, 96, 128, 192, 256, 512, 1K, 2K, 4K, 8K bytes,
 * keeping only those of at most two pages (256 B pages: up to 512; 1 KiB
 * pages: up to 2K) that a slab can hold. Alignment: a power-of-two request
 * gets its own size (the class is that size, and the caches align objects
 * to it); any other gets at least kKmallocMinAlign (16 on 64-bit, else 8):
 * 96 and 192 objects sit at multiples of 32 and 64 from a page start, and
 * the table sends 3, 5, 6 and 7 bytes on 64-bit to the 16-byte class.
 */
#include "format.h"
#include "slub.h"
#include "slub_fast.h"

namespace kmm {
namespace {

constexpr uint32_t kKmallocSizes[kNrKmallocClasses] = {8, 16, 32, 64, 96, 128, 192, 256,
						       512, 1024, 2048, 4096, 8192};
const char *const kKmallocNames[kNrKmallocClasses] = {
	"kmalloc-8",   "kmalloc-16",  "kmalloc-32", "kmalloc-64", "kmalloc-96", "kmalloc-128", "kmalloc-192",
	"kmalloc-256", "kmalloc-512", "kmalloc-1k", "kmalloc-2k", "kmalloc-4k", "kmalloc-8k"};
constexpr uint32_t kKmallocMinAlign = sizeof(void *) >= 8 ? 16 : 8;

/* The alignment every object of a class has: its lowest set bit. */
constexpr uint32_t class_align(uint32_t size) { return size & (0u - size); }

constexpr KmallocSizeIndex make_size_index()
{
	KmallocSizeIndex t{};
	for (uint32_t size = 1; size <= 192; ++size) {
		uint32_t need = (size & (size - 1)) == 0 ? size : kKmallocMinAlign;
		for (unsigned i = 0; i < kNrKmallocClasses; ++i) {
			if (kKmallocSizes[i] >= size && class_align(kKmallocSizes[i]) >= need) {
				t.index[size] = static_cast<uint8_t>(i);
				break;
			}
		}
	}
	return t;
}

static_assert(make_size_index().index[1] == 0 && make_size_index().index[8] == 0);
static_assert(make_size_index().index[5] == (sizeof(void *) >= 8 ? 1 : 0));
static_assert(make_size_index().index[65] == 4 && make_size_index().index[129] == 6);
static_assert(make_size_index().index[192] == 6 && make_size_index().index[128] == 5);

unsigned kmalloc_index(size_t size)
{
	if (size <= 192)
		return kKmallocSizeIndex.index[size];
	return kmalloc_index_above_192(size);
}

/* kmalloc_index_above_192's table covers sizes up to 8K, and agrees with
 * fls wherever it is used */
static_assert(kKmallocSizes[kNrKmallocClasses - 1] == 8192);
constexpr bool index_table_matches_fls()
{
	for (uint32_t size = 193; size <= 8192; ++size) {
		unsigned fls = 0;
		for (uint32_t v = size - 1; v != 0; v >>= 1)
			++fls;
		if (kKmallocIndexAbove192[(size - 1) >> 8] != fls - 1)
			return false;
	}
	return true;
}
static_assert(index_table_matches_fls());

} // namespace

constinit const KmallocSizeIndex kKmallocSizeIndex = make_size_index();

/* Class `index` of kmalloc (dma: its SLAB_CACHE_DMA twin); NULL with
 * a report if it cannot be made. During init, under registry_lock_. */
kmem_cache *SlabAllocator::create_kmalloc_cache(unsigned index, bool dma, gfp_t gfp)
{
	uint32_t size = kKmallocSizes[index];
	char dma_name[KMM_SLAB_NAME_LEN];
	if (dma)
		format(dma_name, sizeof(dma_name), "dma-%s", kKmallocNames[index]);
	const char *name = dma ? dma_name : kKmallocNames[index];
	uint32_t align = class_align(size) == size ? size : kKmallocMinAlign;
	CacheLayout layout;
	slab_flags_t flags = normalize_debug_flags(debug_flags_for(name), false);
	flags = drop_order_raising_debug(size, align, flags, false);
	if (flags != 0 && calculate_layout(size, align, flags, false, layout) != nullptr)
		flags = 0; /* a debug layout too big for a slab: no debugging */
	if (calculate_layout(size, align, flags, false, layout) != nullptr)
		return nullptr;
	return create_cache(name, layout, flags | (dma ? SLAB_CACHE_DMA : 0), nullptr, true, gfp);
}

int SlabAllocator::create_kmalloc_caches_locked(gfp_t gfp)
{
	/* Built here, published at the end (slub.h, published): another CPU's
	 * first kmalloc reads the table without registry_lock_. */
	kmem_cache *classes[kNrKmallocClasses] = {};
	size_t max = 0;
	for (unsigned i = 0; i < kNrKmallocClasses; ++i) {
		uint32_t size = kKmallocSizes[i];
		if (size > 2 * kPageSize || size > kMaxSlabBytes)
			break; /* dropped: kmalloc(size) takes pages instead */
		kmem_cache *s = create_kmalloc_cache(i, false, gfp);
		if (s == nullptr)
			return -KMM_ENOMEM;
		classes[i] = s;
		max = size;
	}
	/* kmalloc(GFP_DMA)'s twins, if there is DMA memory for them, smallest
	 * first, while a quarter of the cache table stays free for
	 * kmem_cache_create. Not fatal: kmalloc(GFP_DMA) of a class without
	 * its twin fails with a report. */
	if (has_dma_zone()) {
		unsigned free_slots = 0;
		for (unsigned id = kBootCacheId + 1; id <= KMM_MAX_CACHES; ++id)
			free_slots += caches_[id] == nullptr ? 1u : 0u;
		constexpr unsigned kUserReserve = KMM_MAX_CACHES / 4;
		for (unsigned i = 0; i < kNrKmallocClasses && kKmallocSizes[i] <= max; ++i) {
			if (free_slots > kUserReserve) {
				kmalloc_dma_caches_[i] = create_kmalloc_cache(i, true, gfp);
				/* with a slot free, only memory is short: a boot-time
				 * shortage, not a reason to go without the twin for
				 * good (init gives everything back and a later call
				 * tries again) */
				if (kmalloc_dma_caches_[i] == nullptr)
					return -KMM_ENOMEM;
			}
			if (kmalloc_dma_caches_[i] == nullptr) { /* one warning, then no more tries */
				reporter_.warn("dma-%s and larger not created (KMM_MAX_CACHES %u: %u slots free, "
					       "%u kept for kmem_cache_create): kmalloc(GFP_DMA) of those sizes will fail",
					       kKmallocNames[i], static_cast<unsigned>(KMM_MAX_CACHES), free_slots,
					       kUserReserve);
				break;
			}
			--free_slots;
		}
	}
	kmalloc_tracked_ = false;
	for (unsigned i = 0; i < kNrKmallocClasses; ++i) {
		const kmem_cache *s = classes[i], *dma = kmalloc_dma_caches_[i];
		if ((s != nullptr && (s->flags & SLAB_CONSISTENCY_CHECKS) != 0) ||
		    (dma != nullptr && (dma->flags & SLAB_CONSISTENCY_CHECKS) != 0))
			kmalloc_tracked_ = true;
	}
	/* Each class, then kmalloc_max_, which kmalloc_may_track reads first. */
	for (unsigned i = 0; i < kNrKmallocClasses; ++i)
		if (classes[i] != nullptr)
			publish(kmalloc_caches_[i], classes[i]);
	publish(kmalloc_max_, max);
	return 0;
}

kmem_cache *SlabAllocator::kmalloc_cache(size_t size) const
{
	if (size == 0 || size > kmalloc_max_)
		return nullptr;
	return kmalloc_caches_[kmalloc_index(size)];
}

void *SlabAllocator::kmalloc(size_t size, gfp_t gfp) { return kmalloc_fast(*this, size, gfp); }
void SlabAllocator::kfree(const void *x) { kfree_fast(*this, x); }

size_t SlabAllocator::large_usable_size(size_t size) const
{
	constexpr size_t kLargest = size_t{kPageSize} << kMaxOrder;
	if (kmalloc_guard()) { /* a guard page on each side of the data pages */
		size_t data_pages = (size + kPageMask) >> kPageShift;
		return data_pages > 0xFFFFu || (data_pages + 2) << kPageShift > kLargest ? 0 : data_pages << kPageShift;
	}
	return size > kLargest ? 0 : size_t{kPageSize} << size_to_order(size);
}

void *SlabAllocator::kmalloc_large(size_t size, gfp_t gfp)
{
	if (__builtin_expect((gfp & ~KMM_GFP_VALID_MASK) != 0, 0))
		gfp = fix_gfp(gfp, "kmalloc");
	if constexpr (kSlabDebug)
		if (kmalloc_guard_)
			return kmalloc_large_guarded(size, gfp);
	if (large_usable_size(size) == 0) {
		if ((gfp & __GFP_NOWARN) == 0)
			reporter_.warn("kmalloc of %zu bytes: more than the largest block (%lu bytes)", size,
				       static_cast<unsigned long>(kPageSize << kMaxOrder));
		return nullptr;
	}
	/* under pressure the page allocator runs reclaim() (its reclaim hook)
	 * before the OOM hook */
	struct page *head = pages_.alloc(gfp & ~__GFP_COMP, size_to_order(size), kLargeKmalloc);
	if (head == nullptr)
		return nullptr;
	head->freelist = 0; /* no guard pages (kGuardedLarge) */
	return pages_.page_address(head);
}

/* The class `index` has no free object and no page is left (reclaim()
 * has run): the first larger class that still has a free object serves
 * the request — an embedded policy (one pool, no swap): a block of the
 * next class wastes more than the right one, but a request that fits in
 * memory already taken does not fail. ksize() tells the class; kfree and
 * krealloc work as for any object of it. Debug caches are skipped, and so
 * are classes whose objects lack the alignment the request is promised
 * (kmalloc-96 for 64 bytes, kmalloc-192 for 128). GFP_DMA stays among
 * the dma-kmalloc classes. */
void *SlabAllocator::kmalloc_fallback(unsigned index, size_t size, gfp_t gfp)
{
	uint32_t need = (size & (size - 1)) == 0 ? static_cast<uint32_t>(size) : kKmallocMinAlign;
	kmem_cache *const *classes = kmalloc_classes(gfp);
	for (unsigned i = index + 1; i < kNrKmallocClasses && kKmallocSizes[i] <= kmalloc_max_; ++i) {
		kmem_cache *s = classes[i];
		if (s == nullptr || class_align(s->size) < need) /* objects sit at multiples of the stride */
			continue;
		if (void *object = alloc_from_lists(s, gfp, size))
			return object;
	}
	return nullptr;
}

/* kmalloc_fast missed: size 0, a large size, before init, the class's
 * CPU freelist is empty, or GFP_DMA (the dma-kmalloc class serves it). */
void *SlabAllocator::kmalloc_slow(size_t size, gfp_t gfp, const void *caller)
{
	if (kSlabDebug && caller == nullptr)
		caller = __builtin_return_address(0);
	if (size == 0)
		return ZERO_SIZE_PTR;
	/* SMP: an acquire load, as in init(): another CPU may be starting
	 * the slab layer (slub.h, published) */
	const bool started = KMM_NR_CPUS > 1 ? __atomic_load_n(&initialized_, __ATOMIC_ACQUIRE) : initialized_;
	if (__builtin_expect(!started, 0) && init(gfp) != 0)
		return nullptr;
	if (size > kmalloc_max_)
		return kmalloc_large(size, gfp);
	unsigned index = kmalloc_index(size);
	kmem_cache *s = kmalloc_classes(gfp)[index];
	if (s == nullptr) {
		if ((gfp & __GFP_NOWARN) == 0)
			reporter_.warn("kmalloc of %zu bytes with GFP_DMA: no dma-%s cache (%s)", size,
				       kKmallocNames[index],
				       has_dma_zone() ? "not created at init" : "no DMA zone");
		return nullptr;
	}
	if ((s->flags & SLAB_CONSISTENCY_CHECKS) != 0)
		return alloc_checked(s, gfp, size, caller); /* debug: the kmalloc red zone */
	/* Out of pages even after reclaim(): a free object of a larger class
	 * before the OOM hook and the warning (kmalloc_fallback). The quiet
	 * passes run no reclaim themselves (NORETRY); this one runs it between
	 * them unless the caller said __GFP_NORETRY. */
	const gfp_t quiet = gfp | __GFP_NOWARN | __GFP_NORETRY;
	void *object = alloc_slow(s, quiet, caller);
	if (object == nullptr && (gfp & __GFP_NORETRY) == 0) {
		reclaim();
		object = alloc_slow(s, quiet, caller);
	}
	if (object == nullptr) {
		object = kmalloc_fallback(index, size, gfp);
		if (object != nullptr)
			return object;
		object = alloc_slow(s, gfp, caller);
	}
	if constexpr (kSanitize)
		if (object != nullptr && (gfp & __GFP_ZERO) == 0)
			san_object_resize(s, object, size, s->size, static_cast<char *>(object) + s->offset);
	return object;
}

/* Only debug caches record a caller, and they never take the inline path
 * (no CPU slab, no magazine): their requests (and the first one, which
 * starts the slab layer) go to kmalloc_slow with `caller`, every other
 * one takes kmalloc's inline path. */
void *SlabAllocator::kmalloc_caller(size_t size, gfp_t gfp, const void *caller)
{
	if constexpr (kSlabDebug) {
		if (!__atomic_load_n(&initialized_, __ATOMIC_ACQUIRE))
			return kmalloc_slow(size, gfp, caller);
		if (size - 1 < kmalloc_max_) {
			kmem_cache *s = kmalloc_classes(gfp)[kmalloc_index(size)];
			if (s != nullptr && (s->flags & SLAB_CONSISTENCY_CHECKS) != 0)
				return kmalloc_slow(size, gfp, caller);
		}
	}
	return kmalloc(size, gfp);
}

void SlabAllocator::kfree_slow(const void *x, const void *caller)
{
	if (kSlabDebug && caller == nullptr)
		caller = __builtin_return_address(0);
	if (ZERO_OR_NULL_PTR(x))
		return;
	struct page *page = pages_.virt_to_page(x);
	if (page != nullptr && page_state(page_head(page)) == kLargeKmalloc) {
		struct page *head = page_head(page);
		if constexpr (kSlabDebug)
			if (kfree_large_guarded(head, x))
				return;
		if (x != pages_.page_address(head)) {
			reporter_.bug("kmalloc", "kfree of pointer %p into the middle of large kmalloc block %p "
				      "(order %u)", x, pages_.page_address(head), head->order);
			reporter_.finish_bug();
			return;
		}
		pages_.free(head, head->order, kLargeKmalloc);
		return;
	}
	struct page *slab = find_slab(x, "kmalloc", "kfree");
	if (slab == nullptr)
		return;
	kmem_cache *s = slot(slab->cache_id);
	if (kMagazineMax > 0 && (!kSlabDebug || (s->flags & kSlabDebugFlags) == 0)) {
		/* an object outside region 0 (on mps2-an385: PSRAM, most of the
		 * RAM): found through the region search, then the inline path's
		 * checks and push, as kfree_fast does in region 0 */
		push_slab_object(*this, s, slab, const_cast<void *>(x));
		return;
	}
	free_object(s, slab, const_cast<void *>(x), caller); /* debug: the caller is tracked */
}

size_t SlabAllocator::usable_size(const void *x, const char *action, kmem_cache **cache)
{
	*cache = nullptr;
	struct page *page = pages_.virt_to_page(x);
	if (page != nullptr && page_state(page_head(page)) == kLargeKmalloc) {
		struct page *head = page_head(page);
		if constexpr (kSlabDebug)
			if (head->freelist == kGuardedLarge && x == static_cast<char *>(pages_.page_address(head)) + kPageSize)
				return size_t{head->inuse} << kPageShift; /* between its guard pages */
		if (x == pages_.page_address(head) && head->freelist != kGuardedLarge)
			return size_t{kPageSize} << head->order;
		reporter_.bug("kmalloc", "%s of pointer %p into the middle of large kmalloc block %p", action, x,
			      pages_.page_address(head));
		reporter_.finish_bug();
		return 0;
	}
	struct page *slab = find_slab(x, "kmalloc", action);
	if (slab == nullptr)
		return 0;
	kmem_cache *s = slot(slab->cache_id);
	if (!check_object(s, x, action))
		return 0;
	if (__builtin_expect(s == &boot_cache_, 0)) {
		reporter_.bug("kmalloc", "%s of %p, a kmem_cache descriptor: refused", action, x);
		reporter_.finish_bug();
		return 0;
	}
	if (__builtin_expect(visibly_free(s, slab, x), 0)) {
		/* a use after free */
		reporter_.bug(s->name, "%s of object %p: it is already free", action, x);
		reporter_.finish_bug();
		return 0;
	}
	*cache = s;
	return s->object_size;
}

void SlabAllocator::kfree_sensitive(const void *p)
{
	if (ZERO_OR_NULL_PTR(p))
		return;
	kmem_cache *s;
	if (usable_size(p, "kfree_sensitive", &s) == 0)
		return; /* misuse, reported */
	if (s != nullptr && object_free(s, p)) {
		/* zeroing it would wipe a free pointer */
		reporter_.bug(s->name, "kfree_sensitive of object %p: it is already free; left as it is", p);
		reporter_.finish_bug();
		return;
	}
	size_t n = ksize(p); /* all of it usable, for the sanitizers and red zones too */
	__builtin_memset(const_cast<void *>(p), 0, n);
	__asm__ __volatile__("" : : "r"(p) : "memory"); /* kept although the memory is freed next */
	/* A ctor cache's object (kfree takes any slab object) goes back
	 * constructed, as its cache hands out every object: rebuilt from the
	 * zeros, so nothing of the secret is left. */
	if (s != nullptr && s->ctor != nullptr)
		s->ctor(const_cast<void *>(p));
	kfree(p);
}

size_t SlabAllocator::ksize(const void *x)
{
	if (ZERO_OR_NULL_PTR(x))
		return 0;
	kmem_cache *s;
	size_t size = usable_size(x, "ksize", &s);
	if (s != nullptr) {
		/* The caller may now use all of it (Linux): no kmalloc red zone,
		 * and the sanitizers see the whole object. */
		if constexpr (kSlabDebug)
			if ((s->flags & SLAB_CONSISTENCY_CHECKS) != 0)
				debug_krealloc_in_place(s, const_cast<void *>(x), size, size, 0);
		if constexpr (kSanitize)
			if ((s->flags & SLAB_CONSISTENCY_CHECKS) == 0)
				san_object_resize(s, const_cast<void *>(x), size, s->size, static_cast<const char *>(x) + s->offset);
	}
	return size;
}

void *SlabAllocator::krealloc(const void *p, size_t new_size, gfp_t gfp, const void *caller)
{
	/* the new object is the caller's, not kmm's (Linux: _RET_IP_ of
	 * krealloc); p's free is krealloc's, as in Linux */
	if (kSlabDebug && caller == nullptr)
		caller = __builtin_return_address(0);
	if (ZERO_OR_NULL_PTR(p))
		return kmalloc_caller(new_size, gfp, caller);
	kmem_cache *s;
	size_t old = usable_size(p, "krealloc", &s); /* reports misuse */
	if (old == 0)
		return nullptr;
	if (new_size == 0) {
		kfree(p);
		return ZERO_SIZE_PTR;
	}
	void *mutable_p = const_cast<void *>(p);
	/* Bytes of p that hold data: all of it, or (kmalloc red zone) what
	 * was asked for last. */
	size_t valid = old;
	if constexpr (kSlabDebug)
		if (s != nullptr && s->orig_offset != 0)
			valid = debug_orig_size(s, p);
	/* GFP_DMA: in place only if p already is DMA memory */
	bool zone_ok = (gfp & __GFP_DMA) == 0 ||
		       (s != nullptr ? (s->flags & SLAB_CACHE_DMA) != 0
				     : pages_.region_of_addr(reinterpret_cast<uintptr_t>(p))->zone == KMM_ZONE_DMA);
	if (new_size <= old && zone_ok) {
		if constexpr (kSlabDebug) {
			if (s != nullptr && (s->flags & SLAB_CONSISTENCY_CHECKS) != 0) {
				debug_krealloc_in_place(s, mutable_p, valid, new_size, gfp);
				return mutable_p;
			}
		}
		if constexpr (kSanitize)
			if (s != nullptr) /* all of it for the memset */
				san_object_resize(s, mutable_p, old, s->size, static_cast<char *>(mutable_p) + s->offset);
		if ((gfp & __GFP_ZERO) != 0)
			__builtin_memset(static_cast<char *>(mutable_p) + new_size, 0, old - new_size);
		if constexpr (kSanitize)
			if (s != nullptr) /* then addressable up to new_size (KASAN alike) */
				san_object_resize(s, mutable_p, new_size, s->size, static_cast<char *>(mutable_p) + s->offset);
		return mutable_p;
	}
	/* __GFP_ZERO: the new object zeroed whole, up to its ksize, as Linux
	 * does, so that a later in-place growth (above) finds zeros there */
	void *n = kmalloc_caller(new_size, gfp, caller);
	if (n == nullptr)
		return nullptr;
	if constexpr (kSanitize)
		if (s != nullptr && (s->flags & SLAB_CONSISTENCY_CHECKS) == 0)
			san_object_resize(s, mutable_p, old, s->size, static_cast<char *>(mutable_p) + s->offset);
	if (valid > new_size)
		valid = new_size; /* a move to DMA memory that also shrinks */
	__builtin_memcpy(n, p, valid);
	kfree(p);
	return n;
}

} // namespace kmm

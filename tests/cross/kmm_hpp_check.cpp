/*
 * tests/cross/kmm_hpp_check.cpp — owns the proof that kmm/kmm.hpp is
 * freestanding: it is compiled for every cross target (the riscv64
 * toolchain has no C++ headers at all) with -fno-exceptions -fno-rtti, so
 * the wrappers' no-exceptions branches are the ones built, linked into
 * kmm_cross_image with -nostdlib -lgcc (no libstdc++ symbol may be
 * needed), and run where that image boots under QEMU. Checks ObjectCache
 * (make, make_gfp, destroy, move), PreservingCache and KmallocAllocator
 * (allocate, deallocate, rebinding, equality).
 */
#include "kmm_hpp_check.h"

#include <kmm/kmm.h>
#include <kmm/kmm.hpp>

#if defined(__cpp_exceptions) || defined(__GXX_RTTI)
#error "tests/cross builds kmm.hpp with -fno-exceptions -fno-rtti: that is the form under test"
#endif
#if defined(__GLIBCXX__) || defined(_LIBCPP_VERSION)
#error "kmm.hpp pulled in a C++ library header: it must need only <stddef.h>/<stdint.h>"
#endif

namespace {

unsigned g_points_built, g_points_gone;

struct Point {
	uint32_t x, y;
	Point(uint32_t px, uint32_t py) : x(px), y(py) { ++g_points_built; }
	~Point() { ++g_points_gone; }
};

/* Value category reaches the constructor: an rvalue picks the other one. */
struct Picky {
	int from_rvalue;
	explicit Picky(const Point &) : from_rvalue(0) {}
	explicit Picky(Point &&) : from_rvalue(1) {}
};

struct Mailbox {
	uint32_t magic;
	uint32_t messages;
	Mailbox() : magic(0x4d424f58u), messages(0) {}
};

unsigned long active(struct kmem_cache *s)
{
	kmem_cache_info info{};
	return kmem_cache_get_info(s, &info) == 0 ? info.active_objs : ~0ul;
}

int object_cache(int (*check)(bool, const char *))
{
	int failed = 0;
	g_points_built = g_points_gone = 0;
	kmm::ObjectCache<Point> points("hpp_point");
	failed += check(points.valid(), "kmm.hpp: ObjectCache created");
	Point *a = points.make(3u, 4u);
	Point *b = points.make_gfp(GFP_ATOMIC, 5u, 6u);
	failed += check(a != nullptr && b != nullptr && a != b, "kmm.hpp: make, make_gfp(GFP_ATOMIC)");
	if (a == nullptr || b == nullptr)
		return failed + 1;
	failed += check(a->x == 3 && a->y == 4 && b->x == 5 && b->y == 6 && g_points_built == 2,
			"kmm.hpp: constructor ran with the arguments");
	failed += check(reinterpret_cast<uintptr_t>(a) % alignof(Point) == 0, "kmm.hpp: object aligned");
	failed += check(active(points.cache()) == 2, "kmm.hpp: two objects in use");

	kmm::ObjectCache<Picky> picky("hpp_picky");
	Picky *copied = picky.make(*a);
	Picky *moved = picky.make_gfp(GFP_ATOMIC, static_cast<Point &&>(*b));
	failed += check(copied != nullptr && moved != nullptr && copied->from_rvalue == 0 && moved->from_rvalue == 1,
			"kmm.hpp: arguments forwarded with their value category");
	picky.destroy(copied);
	picky.destroy(moved);

	/* Moving the wrapper moves the cache: the old one is empty, and only
	 * the new one destroys the kmem_cache. */
	kmm::ObjectCache<Point> taken(static_cast<kmm::ObjectCache<Point> &&>(points));
	failed += check(!points.valid() && taken.valid(), "kmm.hpp: ObjectCache moved");
	taken.destroy(a);
	taken.destroy(b);
	taken.destroy(nullptr);
	failed += check(g_points_gone == 2 && active(taken.cache()) == 0, "kmm.hpp: destroy ran ~T() and freed");
	return failed;
}

int preserving_cache(int (*check)(bool, const char *))
{
	int failed = 0;
	kmm::PreservingCache<Mailbox> boxes("hpp_mailbox");
	Mailbox *m = boxes.alloc(GFP_ATOMIC);
	failed += check(m != nullptr && m->magic == 0x4d424f58u && m->messages == 0,
			"kmm.hpp: PreservingCache object constructed by the slab");
	if (m == nullptr)
		return failed;
	m->messages = 9;
	boxes.release(m);
	Mailbox *again = boxes.alloc();
	failed += check(again == m && again->messages == 9, "kmm.hpp: PreservingCache keeps the last user's state");
	boxes.release(again);
	return failed;
}

int kmalloc_allocator(int (*check)(bool, const char *))
{
	int failed = 0;
	kmm::KmallocAllocator<uint32_t> words;
	kmm::KmallocAllocator<uint64_t> longs(words); /* rebinding copy */
	failed += check(words == longs && !(words != longs), "kmm.hpp: KmallocAllocator instances are equal");
	/* Grow an array the way a vector does: allocate, copy, deallocate. */
	uint32_t *data = nullptr;
	size_t capacity = 0, size = 0;
	bool intact = true;
	for (uint32_t v = 0; v < 1000; ++v) {
		if (size == capacity) {
			size_t grown = capacity == 0 ? 4 : 2 * capacity;
			uint32_t *bigger = words.allocate(grown);
			for (size_t i = 0; i < size; ++i)
				bigger[i] = data[i];
			if (data != nullptr)
				words.deallocate(data, capacity);
			data = bigger;
			capacity = grown;
		}
		data[size++] = v * 2654435761u;
	}
	for (size_t i = 0; i < size; ++i)
		intact = intact && data[i] == static_cast<uint32_t>(i) * 2654435761u;
	failed += check(intact && ksize(data) >= capacity * sizeof(uint32_t), "kmm.hpp: KmallocAllocator grows an array");
	words.deallocate(data, capacity);
	uint64_t *one = longs.allocate(1);
	failed += check(reinterpret_cast<uintptr_t>(one) % alignof(uint64_t) == 0, "kmm.hpp: KmallocAllocator aligns");
	longs.deallocate(one, 1);
	return failed;
}

} // namespace

int kmm_hpp_check(int (*check)(bool ok, const char *what))
{
	kfree(kmalloc(8, GFP_KERNEL)); /* starts the slab layer: its metadata stays */
	kmm_slab_shrink_all();
	kmm_drain_pages();
	size_t free_before = kmm_free_pages();
	int failed = object_cache(check) + preserving_cache(check) + kmalloc_allocator(check);
	failed += check(kmm_slab_validate() == 0, "kmm.hpp: kmm_slab_validate");
	kmm_slab_shrink_all();
	kmm_drain_pages();
	failed += check(kmm_free_pages() == free_before, "kmm.hpp: every page back after shrinking");
	return failed;
}

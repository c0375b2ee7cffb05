/*
 * tests/host/test_mem_dump.cpp — kmem_dump_obj and mem_dump_obj (kmm/slab.h,
 * mm/mem_dump.cpp) over the global allocator: the line for a slab object
 * (cache, start, offset, size, allocated or free; red zone, padding and the
 * slab's unused tail; SLAB_STORE_USER tracks), and mem_dump_obj's line for
 * every kind of page block, reserved pages, unmanaged memory and NULL.
 * Each call must print and change nothing: no misuse report, and the
 * fixture validates both layers at the end.
 */
#include <gtest/gtest.h>

#include <string>

#include <kmm/kmm.h>

#include "support/global_kmm.h"
#include "support/poke.h"

using kmm_test::hex;

namespace {

class MemDump : public kmm_test::GlobalKmm {
protected:
	MemDump() : GlobalKmm(size_t{4} << 20) {}

	/* The lines one call printed. */
	template <typename Fn> std::vector<std::string> lines_of(Fn fn)
	{
		cap.clear();
		fn();
		return cap.lines;
	}
	static std::string ptr(const void *p) { return hex(reinterpret_cast<uintptr_t>(p)); }
};

TEST_F(MemDump, KmallocObjectAllocatedThenFree)
{
	char *p = static_cast<char *>(kmalloc(40, GFP_KERNEL));
	ASSERT_NE(p, nullptr);
	bool slab = false;
	auto got = lines_of([&] { slab = kmem_dump_obj(p + 5); });
	EXPECT_TRUE(slab);
	ASSERT_EQ(got.size(), 1u);
	EXPECT_EQ(got[0], "slab kmalloc-64 start " + ptr(p) + " pointer offset 5 size 64: allocated");
	got = lines_of([&] { mem_dump_obj(p + 63); });
	ASSERT_EQ(got.size(), 1u);
	EXPECT_EQ(got[0], "slab kmalloc-64 start " + ptr(p) + " pointer offset 63 size 64: allocated");
	kfree(p);
	got = lines_of([&] { slab = kmem_dump_obj(p); });
	EXPECT_TRUE(slab);
	ASSERT_EQ(got.size(), 1u);
	EXPECT_EQ(got[0], "slab kmalloc-64 start " + ptr(p) + " pointer offset 0 size 64: free");
	EXPECT_EQ(kmm_bug_count(), 0u);
}

/* Freed objects are found wherever they wait: the magazine, the CPU
 * freelist, a slab's page freelist (after a shrink gives the caches back). */
TEST_F(MemDump, FreeObjectsAreFreeWhereverTheyWait)
{
	struct kmem_cache *s = kmem_cache_create("dump-free", 200, 0, 0, nullptr);
	ASSERT_NE(s, nullptr);
	std::vector<void *> objs;
	for (int i = 0; i < 100; ++i) {
		objs.push_back(kmem_cache_alloc(s, GFP_KERNEL));
		ASSERT_NE(objs.back(), nullptr);
	}
	for (size_t i = 0; i < objs.size(); i += 2)
		kmem_cache_free(s, objs[i]);
	for (int round = 0; round < 2; ++round) {
		for (size_t i = 0; i < objs.size(); ++i) {
			auto got = lines_of([&] { EXPECT_TRUE(kmem_dump_obj(objs[i])); });
			ASSERT_EQ(got.size(), 1u);
			const std::string want = i % 2 == 0 ? ": free" : ": allocated";
			EXPECT_EQ(got[0].substr(got[0].size() - want.size()), want) << i << ": " << got[0];
		}
		kmem_cache_shrink(s); /* the magazine's objects go back to their slabs */
	}
	for (size_t i = 1; i < objs.size(); i += 2)
		kmem_cache_free(s, objs[i]);
	kmem_cache_destroy(s);
	EXPECT_EQ(kmm_bug_count(), 0u);
}

TEST_F(MemDump, RedZonePaddingAndTheSlabTail)
{
	struct kmem_cache *z = kmem_cache_create("dump-z", 24, 0, SLAB_RED_ZONE, nullptr);
	ASSERT_NE(z, nullptr);
	char *o = static_cast<char *>(kmem_cache_alloc(z, GFP_KERNEL));
	ASSERT_NE(o, nullptr);
	auto got = lines_of([&] { EXPECT_TRUE(kmem_dump_obj(o - 1)); });
	ASSERT_EQ(got.size(), 1u);
	EXPECT_EQ(got[0], "slab dump-z start " + ptr(o) + " pointer offset -1 (in the red zone before it) size 24: allocated");
	got = lines_of([&] { EXPECT_TRUE(kmem_dump_obj(o + 24)); });
	ASSERT_EQ(got.size(), 1u);
	EXPECT_EQ(got[0], "slab dump-z start " + ptr(o) +
				  " pointer offset 24 (past the object: red zone or padding) size 24: allocated");
	kmem_cache_free(z, o);
	kmem_cache_destroy(z);

	/* kmalloc-96 on 4 KiB pages: 42 objects, 64 bytes of unused tail */
	if (PAGE_SIZE == 4096) {
		void *k = kmalloc(96, GFP_KERNEL);
		ASSERT_NE(k, nullptr);
		uintptr_t base = reinterpret_cast<uintptr_t>(k) & ~uintptr_t{PAGE_SIZE - 1};
		const void *tail = reinterpret_cast<const void *>(base + 4040);
		got = lines_of([&] { EXPECT_TRUE(kmem_dump_obj(tail)); });
		ASSERT_EQ(got.size(), 1u);
		EXPECT_EQ(got[0], "slab kmalloc-96 " + hex(base) + ": pointer " + ptr(tail) +
					  " is past its last object (offset 4040 of 4032 bytes in objects)");
		kfree(k);
	}
	EXPECT_EQ(kmm_bug_count(), 0u);
}

TEST_F(MemDump, StoreUserCachesAddTheirTracks)
{
	struct kmem_cache *u = kmem_cache_create("dump-u", 48, 0, SLAB_STORE_USER, nullptr);
	ASSERT_NE(u, nullptr);
	void *o = kmem_cache_alloc(u, GFP_KERNEL);
	ASSERT_NE(o, nullptr);
	auto got = lines_of([&] { EXPECT_TRUE(kmem_dump_obj(o)); });
	ASSERT_EQ(got.size(), 3u);
	EXPECT_EQ(got[0], "slab dump-u start " + ptr(o) + " pointer offset 0 size 48: allocated");
	EXPECT_EQ(got[1].rfind("Allocated by 0x", 0), 0u) << got[1];
	EXPECT_EQ(got[2], "Freed: never");
	kmem_cache_free(u, o);
	got = lines_of([&] { EXPECT_TRUE(kmem_dump_obj(o)); });
	ASSERT_EQ(got.size(), 3u);
	EXPECT_EQ(got[0], "slab dump-u start " + ptr(o) + " pointer offset 0 size 48: free");
	EXPECT_EQ(got[2].rfind("Freed by 0x", 0), 0u) << got[2];
	kmem_cache_destroy(u);
	EXPECT_EQ(kmm_bug_count(), 0u);
}

/* An object damaged while free is leaked by the allocation that finds the
 * damage (never handed out): its track says so, not "Allocated by 0". */
TEST_F(MemDump, AnObjectLeakedWhileFreeWasNeverAllocated)
{
	struct kmem_cache *pu = kmem_cache_create("dump-pu", 48, 0, SLAB_POISON | SLAB_STORE_USER, nullptr);
	ASSERT_NE(pu, nullptr);
	uint8_t *o = static_cast<uint8_t *>(kmem_cache_alloc(pu, GFP_KERNEL));
	ASSERT_NE(o, nullptr);
	kmem_cache_free(pu, o);
	kmm_test::poke(o + 8, 0x5a); /* a write after free */
	void *next = kmem_cache_alloc(pu, GFP_KERNEL); /* finds o damaged: reported, leaked */
	ASSERT_NE(next, nullptr);
	EXPECT_NE(next, static_cast<void *>(o));
	EXPECT_EQ(kmm_bug_count(), 1u);
	auto got = lines_of([&] { EXPECT_TRUE(kmem_dump_obj(o)); });
	ASSERT_EQ(got.size(), 3u);
	EXPECT_EQ(got[0], "slab dump-pu start " + ptr(o) + " pointer offset 0 size 48: allocated");
	EXPECT_EQ(got[1].rfind("Allocated: never; leaked when=", 0), 0u) << got[1];
	EXPECT_EQ(got[1].substr(got[1].size() - 21), " (damaged while free)") << got[1];
	EXPECT_EQ(got[2].rfind("Freed by 0x", 0), 0u) << got[2];
	kmem_cache_free(pu, next);
	/* the leaked object stays: the cache cannot be destroyed (no dangling) */
	kmem_cache_shrink(pu);
}

TEST_F(MemDump, PageBlocksReservedPagesAndUnmanagedMemory)
{
	struct page *pg = alloc_pages(GFP_KERNEL, 2);
	ASSERT_NE(pg, nullptr);
	char *block = static_cast<char *>(page_address(pg));
	bool slab = true;
	const size_t in = PAGE_SIZE + PAGE_SIZE / 4; /* inside the block's second page */
	auto got = lines_of([&] { slab = kmem_dump_obj(block + in); });
	EXPECT_FALSE(slab);
	EXPECT_TRUE(got.empty());
	got = lines_of([&] { mem_dump_obj(block + in); });
	ASSERT_EQ(got.size(), 1u);
	EXPECT_EQ(got[0], ptr(block + in) + ": a page block from alloc_pages at " + ptr(block) + ", order 2, offset " +
				  std::to_string(in));

	struct page *comp = alloc_pages(GFP_KERNEL | __GFP_COMP, 1);
	ASSERT_NE(comp, nullptr);
	char *c = static_cast<char *>(page_address(comp));
	got = lines_of([&] { mem_dump_obj(c + PAGE_SIZE + 1); });
	ASSERT_EQ(got.size(), 1u);
	EXPECT_EQ(got[0], ptr(c + PAGE_SIZE + 1) + ": a compound page block at " + ptr(c) + ", order 1, offset " +
				  std::to_string(PAGE_SIZE + 1));

	const size_t large_size = kmalloc_max_cache_size() + 1; /* above the classes: pages */
	char *large = static_cast<char *>(kmalloc(large_size, GFP_KERNEL));
	ASSERT_NE(large, nullptr);
	got = lines_of([&] { mem_dump_obj(large + 10); });
	ASSERT_EQ(got.size(), 1u);
	EXPECT_EQ(got[0], ptr(large + 10) + ": a large kmalloc block at " + ptr(large) + ", order " +
				  std::to_string(get_order(large_size)) + ", offset 10");

	char *exact = static_cast<char *>(alloc_pages_exact(3 * PAGE_SIZE, GFP_KERNEL));
	ASSERT_NE(exact, nullptr);
	got = lines_of([&] { mem_dump_obj(exact + 2 * PAGE_SIZE); });
	ASSERT_EQ(got.size(), 1u);
	EXPECT_EQ(got[0], ptr(exact + 2 * PAGE_SIZE) + ": an alloc_pages_exact block starting at " + ptr(exact) +
				  ", offset " + std::to_string(2 * PAGE_SIZE));
	/* 3 pages are kept as an order-1 block and an order-0 one: the order-1
	 * block's second page is interior, found through the block's head */
	got = lines_of([&] { mem_dump_obj(exact + PAGE_SIZE + 5); });
	ASSERT_EQ(got.size(), 1u);
	EXPECT_EQ(got[0], ptr(exact + PAGE_SIZE + 5) + ": an alloc_pages_exact block starting at " + ptr(exact) +
				  ", offset " + std::to_string(PAGE_SIZE + 5));

	__free_pages(pg, 2);
	got = lines_of([&] { mem_dump_obj(block + in); });
	ASSERT_EQ(got.size(), 1u);
	EXPECT_NE(got[0].find(": a free page block ("), std::string::npos) << got[0];

	/* the memory map lives in reserved pages of the region */
	got = lines_of([&] { mem_dump_obj(comp); });
	ASSERT_EQ(got.size(), 1u);
	EXPECT_NE(got[0].find(": a reserved page (pfn 0x"), std::string::npos) << got[0];

	int on_stack = 0;
	got = lines_of([&] { slab = kmem_dump_obj(&on_stack); });
	EXPECT_FALSE(slab);
	EXPECT_TRUE(got.empty());
	got = lines_of([&] { mem_dump_obj(&on_stack); });
	ASSERT_EQ(got.size(), 1u);
	EXPECT_EQ(got[0], ptr(&on_stack) + ": not memory kmm manages");
	got = lines_of([&] { mem_dump_obj(nullptr); });
	ASSERT_EQ(got.size(), 1u);
	EXPECT_EQ(got[0], "0x0: NULL or ZERO_SIZE_PTR");
	EXPECT_FALSE(kmem_dump_obj(ZERO_SIZE_PTR));

	__free_pages(comp, 1);
	kfree(large);
	free_pages_exact(exact, 3 * PAGE_SIZE);
	EXPECT_EQ(kmm_bug_count(), 0u);
}

} // namespace

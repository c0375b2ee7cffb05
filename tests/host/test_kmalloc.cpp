/*
 * tests/host/test_kmalloc.cpp — white-box tests of kmalloc (mm/kmalloc.cpp)
 * over private SlabAllocator instances: the class table at every size and
 * boundary, alignment, large kmalloc through the buddy allocator, every
 * krealloc case, kfree/ksize misuse, exhaustion and full recovery, and
 * GFP_DMA (the dma-kmalloc classes, with and without a DMA zone).
 * Built per page-size variant of mm (the top classes differ).
 */
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "slub.h"
#include "support/slab_fixture.h"

using kmm::kPageSize;
using kmm_test::hex;

namespace {

constexpr size_t kAllClasses[] = {8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192};
constexpr size_t kMinAlign = sizeof(void *) >= 8 ? 16 : 8;

/* The class kmalloc(size) must use: the smallest class >= size whose
 * objects have the alignment size needs. */
size_t expected_class(size_t size)
{
	size_t need = (size & (size - 1)) == 0 ? size : kMinAlign;
	for (size_t c : kAllClasses)
		if (c >= size && (c & (0 - c)) >= need)
			return c;
	return 0;
}

size_t expected_max()
{
	size_t max = 0;
	for (size_t c : kAllClasses)
		if (c <= 2 * kPageSize && c <= kmm::kMaxSlabBytes)
			max = c;
	return max;
}

/* Leaves kmalloc class k with nothing at hand (an empty magazine, a full
 * CPU slab) and one partial slab, so the next kmalloc of it takes the
 * refill path. Returns what it holds; held[0] is the free object. */
std::vector<void *> only_a_partial_slab(kmm_test::SlabWorld &w, kmem_cache *k)
{
	std::vector<void *> held;
	for (unsigned i = 0; i < 2u * k->objects; ++i) {
		held.push_back(w.slab.kmalloc(k->object_size, GFP_KERNEL));
		EXPECT_NE(held.back(), nullptr);
	}
	w.slab.kfree(held[0]); /* into the magazine ... */
	w.slab.shrink(k);      /* ... and back onto its slab: a partial slab */
	return held;
}

/* The end of the tests that use memory up: every object and order-0 page
 * the test holds goes back, every cache shrinks, and the page allocator
 * must be in its state right after init. */
void expect_all_returned(kmm_test::SlabWorld &w, const std::vector<void *> &objects,
			 const std::vector<struct page *> &pages, const kmm_test::BuddySnapshot &after_init)
{
	for (void *x : objects)
		w.slab.kfree(x);
	for (struct page *p : pages)
		w.pa.free(p, 0);
	w.slab.shrink_all();
	EXPECT_EQ(kmm_test::snapshot(w.pa), after_init);
}

class Kmalloc : public ::testing::Test, public kmm_test::SlabWorld {
protected:
	void SetUp() override { boot(); }
	void TearDown() override { EXPECT_EQ(problems(), 0u); }
};

TEST_F(Kmalloc, TopClassIsAtMostTwoPages)
{
	EXPECT_EQ(slab.kmalloc_max_cache_size(), expected_max());
	EXPECT_LE(slab.kmalloc_max_cache_size(), 2 * kPageSize);
	if (kPageSize == 256) {
		EXPECT_EQ(slab.kmalloc_max_cache_size(), 512u) << "256 B pages drop 1K...8K";
	}
	if (kPageSize >= 4096) {
		EXPECT_EQ(slab.kmalloc_max_cache_size(), 8192u);
	}
}

TEST_F(Kmalloc, EverySizeMapsToItsClass)
{
	size_t max = slab.kmalloc_max_cache_size();
	EXPECT_EQ(slab.kmalloc_cache(0), nullptr);
	for (size_t size = 1; size <= max + 1; ++size) {
		kmem_cache *s = slab.kmalloc_cache(size);
		if (size > max) {
			EXPECT_EQ(s, nullptr) << size;
			continue;
		}
		ASSERT_NE(s, nullptr) << size;
		ASSERT_EQ(s->object_size, expected_class(size)) << "size " << size;
		ASSERT_TRUE(s->kmalloc);
	}
}

TEST_F(Kmalloc, EverySizeAllocatesAlignedUsableMemory)
{
	size_t max = slab.kmalloc_max_cache_size();
	for (size_t size = 1; size <= max + 1; ++size) {
		auto *p = static_cast<unsigned char *>(slab.kmalloc(size, GFP_KERNEL));
		ASSERT_NE(p, nullptr) << size;
		uintptr_t a = reinterpret_cast<uintptr_t>(p);
		if ((size & (size - 1)) == 0)
			ASSERT_EQ(a % size, 0u) << "power of two " << size << " naturally aligned";
		else
			ASSERT_EQ(a % kMinAlign, 0u) << size;
		size_t usable = slab.ksize(p);
		ASSERT_GE(usable, size);
		if (size <= max)
			ASSERT_EQ(usable, expected_class(size)) << size;
		else
			ASSERT_EQ(usable, kPageSize << kmm::size_to_order(size)) << size;
		p[0] = 1;
		p[size - 1] = 2;
		std::memset(p, 0x5a, usable);
		slab.kfree(p);
	}
	EXPECT_EQ(t.rep.bugs(), 0u);
}

/* Large kmalloc (pages): a power-of-two size is naturally aligned too,
 * up to the largest block (Linux's promise); its usable size is whole
 * pages (on 64 KiB pages a 16 KiB request gets one page). */
TEST_F(Kmalloc, LargePowerOfTwoSizesAreNaturallyAligned)
{
	size_t max = slab.kmalloc_max_cache_size();
	for (size_t size = 2 * max; size <= (kPageSize << KMM_MAX_ORDER); size *= 2) {
		std::vector<void *> held;
		for (int i = 0; i < 3; ++i) { /* a few, so not every one is a fresh top-of-block */
			void *p = slab.kmalloc(size, GFP_KERNEL | __GFP_NOWARN);
			if (p == nullptr)
				break;
			EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % size, 0u) << size;
			EXPECT_EQ(slab.ksize(p), kPageSize << kmm::size_to_order(size)) << size;
			held.push_back(p);
		}
		EXPECT_FALSE(held.empty()) << size;
		for (void *p : held)
			slab.kfree(p);
	}
	EXPECT_EQ(t.rep.bugs(), 0u);
}

TEST_F(Kmalloc, ClassBoundaries)
{
	size_t max = slab.kmalloc_max_cache_size();
	for (size_t c : kAllClasses) {
		if (c > max)
			break;
		for (size_t size : {c - 1, c, c + 1}) {
			void *p = slab.kmalloc(size, GFP_KERNEL);
			ASSERT_NE(p, nullptr);
			EXPECT_GE(slab.ksize(p), size);
			if (size == c) {
				EXPECT_EQ(slab.ksize(p), c);
			}
			slab.kfree(p);
		}
	}
}

TEST_F(Kmalloc, EveryClassAlignment)
{
	size_t max = slab.kmalloc_max_cache_size();
	for (size_t c : kAllClasses) {
		if (c > max)
			break;
		std::vector<void *> v;
		kmem_cache *s = slab.kmalloc_cache(c);
		for (unsigned k = 0; k < 2u * s->objects + 1; ++k) {
			void *p = slab.kmalloc(c, GFP_KERNEL);
			uintptr_t a = reinterpret_cast<uintptr_t>(p);
			ASSERT_EQ(a % (c & (0 - c)), 0u) << "class " << c;
			if (c >= kMinAlign) { /* kmalloc-8 serves only 1, 2, 4 and 8 bytes */
				ASSERT_EQ(a % kMinAlign, 0u) << "class " << c;
			}
			v.push_back(p);
		}
		for (void *p : v)
			slab.kfree(p);
	}
}

TEST_F(Kmalloc, ZeroSize)
{
	void *p = slab.kmalloc(0, GFP_KERNEL);
	EXPECT_EQ(p, ZERO_SIZE_PTR);
	EXPECT_EQ(slab.ksize(p), 0u);
	slab.kfree(p);
	EXPECT_EQ(slab.ksize(nullptr), 0u);
	EXPECT_EQ(t.rep.bugs(), 0u);
}

TEST_F(Kmalloc, ZeroFlag)
{
	for (size_t size : {size_t{24}, size_t{200}, slab.kmalloc_max_cache_size() + 1}) {
		auto *p = static_cast<unsigned char *>(slab.kmalloc(size, GFP_KERNEL));
		std::memset(p, 0xff, size);
		slab.kfree(p);
		p = static_cast<unsigned char *>(slab.kmalloc(size, GFP_KERNEL | __GFP_ZERO));
		for (size_t b = 0; b < size; ++b)
			ASSERT_EQ(p[b], 0) << size << " byte " << b;
		slab.kfree(p);
	}
}

TEST_F(Kmalloc, LargeGoesToTheBuddyAllocator)
{
	size_t size = slab.kmalloc_max_cache_size() + 1;
	unsigned order = kmm::size_to_order(size);
	size_t before = free_pages();
	void *p = slab.kmalloc(size, GFP_KERNEL);
	ASSERT_NE(p, nullptr);
	EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % kPageSize, 0u);
	EXPECT_EQ(free_pages(), before - (size_t{1} << order));
	struct page *head = pa.virt_to_page(p);
	EXPECT_EQ(head->state, kmm::kLargeKmalloc);
	EXPECT_EQ(head->order, order);
	if (order > 0) {
		EXPECT_EQ(head[1].state, kmm::kTail);
	}
	EXPECT_EQ(slab.ksize(p), kPageSize << order);
	slab.kfree(p);
	EXPECT_EQ(free_pages(), before);

	/* the largest block, and one byte more */
	size_t biggest = size_t{kPageSize} << kmm::kMaxOrder;
	p = slab.kmalloc(biggest, GFP_KERNEL);
	ASSERT_NE(p, nullptr);
	slab.kfree(p);
	t.cap.clear();
	EXPECT_EQ(slab.kmalloc(biggest + 1, GFP_KERNEL), nullptr);
	EXPECT_EQ(t.cap.count_containing("more than the largest block"), 1u);
	EXPECT_EQ(slab.kmalloc(SIZE_MAX, GFP_KERNEL | __GFP_NOWARN), nullptr);
	EXPECT_EQ(t.rep.bugs(), 0u);
	EXPECT_EQ(free_pages(), before);
}

TEST_F(Kmalloc, LargeMisuseIsRefused)
{
	size_t size = 3 * kPageSize + 5;
	auto *p = static_cast<char *>(slab.kmalloc(size, GFP_KERNEL));
	kmm_test::BuddySnapshot held = kmm_test::snapshot(pa);
	t.cap.clear();
	slab.kfree(p + kPageSize);
	EXPECT_EQ(t.cap.bug_lines(), 1u);
	EXPECT_NE(t.cap.last().find("into the middle of large kmalloc block " + hex(reinterpret_cast<uintptr_t>(p))),
		  std::string::npos)
		<< t.cap.last();
	EXPECT_EQ(kmm_test::snapshot(pa), held);
	slab.kfree(p);
	kmm_test::BuddySnapshot freed = kmm_test::snapshot(pa);
	t.cap.clear();
	slab.kfree(p); /* double free of a large block */
	EXPECT_EQ(t.cap.bug_lines(), 1u);
	EXPECT_NE(t.cap.last().find(hex(reinterpret_cast<uintptr_t>(p))), std::string::npos);
	EXPECT_EQ(kmm_test::snapshot(pa), freed);
}

TEST_F(Kmalloc, KsizeOfMisusedPointersIsZeroWithAReport)
{
	auto *p = static_cast<char *>(slab.kmalloc(100, GFP_KERNEL));
	static long outside;
	t.cap.clear();
	EXPECT_EQ(slab.ksize(p + 4), 0u);
	EXPECT_EQ(slab.ksize(&outside), 0u);
	EXPECT_EQ(t.cap.bug_lines(), 2u);
	slab.kfree(p);
}

/* ---- krealloc ---- */

/* Unknown gfp bits: the inline paths never test them, so the slab layer's
 * page requests fix them up as Linux does (a warning, then the request
 * without them) instead of failing only when a new slab or a large block
 * is needed. */
TEST_F(Kmalloc, UnknownGfpBitsAreFixedUpNotRefusedWhenPagesAreNeeded)
{
	const gfp_t odd = GFP_KERNEL | 0x100u;
	t.cap.clear();
	void *cold = slab.kmalloc(32, odd); /* a class with no slab yet */
	ASSERT_NE(cold, nullptr);
	EXPECT_EQ(t.cap.count_containing("kmalloc-32: unexpected gfp bits 0x100 (outside KMM_GFP_VALID_MASK 0x3f): dropped"),
		  1u);
	void *warm = slab.kmalloc(32, odd);
	EXPECT_NE(warm, nullptr);
	t.cap.clear();
	void *large = slab.kmalloc(3 * kPageSize, odd);
	ASSERT_NE(large, nullptr);
	EXPECT_EQ(t.cap.count_containing("kmalloc: unexpected gfp bits 0x100"), 1u);
	kmem_cache *s = slab.create("gfp-odd", 40, 0, 0, nullptr);
	ASSERT_NE(s, nullptr);
	t.cap.clear();
	void *o = slab.alloc(s, GFP_KERNEL | 0x80000000u | __GFP_NOWARN);
	EXPECT_NE(o, nullptr);
	EXPECT_EQ(t.cap.count_containing("gfp-odd: unexpected gfp bits 0x80000000"), 1u);
	EXPECT_EQ(t.rep.bugs(), 0u);
	slab.free(s, o);
	slab.destroy(s);
	slab.kfree(cold);
	slab.kfree(warm);
	slab.kfree(large);
}

TEST_F(Kmalloc, KreallocNullOrZeroSizePtrAllocates)
{
	void *p = slab.krealloc(nullptr, 40, GFP_KERNEL);
	ASSERT_NE(p, nullptr);
	EXPECT_EQ(slab.ksize(p), 64u);
	void *q = slab.krealloc(ZERO_SIZE_PTR, 40, GFP_KERNEL);
	ASSERT_NE(q, nullptr);
	EXPECT_NE(q, ZERO_SIZE_PTR);
	EXPECT_EQ(slab.krealloc(nullptr, 0, GFP_KERNEL), ZERO_SIZE_PTR);
	slab.kfree(p);
	slab.kfree(q);
}

TEST_F(Kmalloc, KreallocToZeroFrees)
{
	void *p = slab.kmalloc(40, GFP_KERNEL);
	kmem_cache *s = slab.kmalloc_cache(40);
	unsigned long active = info(s).active_objs;
	EXPECT_EQ(slab.krealloc(p, 0, GFP_KERNEL), ZERO_SIZE_PTR);
	EXPECT_EQ(info(s).active_objs, active - 1);
}

TEST_F(Kmalloc, KreallocInPlaceWhileTheClassFits)
{
	auto *p = static_cast<unsigned char *>(slab.kmalloc(33, GFP_KERNEL));
	for (int b = 0; b < 33; ++b)
		p[b] = static_cast<unsigned char>(b);
	EXPECT_EQ(slab.krealloc(p, 64, GFP_KERNEL), p) << "grows within kmalloc-64";
	EXPECT_EQ(slab.krealloc(p, 10, GFP_KERNEL), p) << "shrinks in place";
	for (int b = 0; b < 10; ++b)
		EXPECT_EQ(p[b], b) << "shrinking keeps the data";
	EXPECT_EQ(slab.krealloc(p, 33, GFP_KERNEL), p);
	for (int b = 0; b < 33; ++b)
		EXPECT_EQ(p[b], b);
	slab.kfree(p);
}

TEST_F(Kmalloc, KreallocGrowsToANewObjectAndFreesTheOld)
{
	auto *p = static_cast<unsigned char *>(slab.kmalloc(60, GFP_KERNEL));
	for (int b = 0; b < 60; ++b)
		p[b] = static_cast<unsigned char>(b + 1);
	kmem_cache *s64 = slab.kmalloc_cache(64);
	unsigned long active64 = info(s64).active_objs;
	auto *q = static_cast<unsigned char *>(slab.krealloc(p, 150, GFP_KERNEL));
	ASSERT_NE(q, nullptr);
	EXPECT_NE(q, p);
	EXPECT_EQ(slab.ksize(q), 192u);
	for (int b = 0; b < 60; ++b)
		EXPECT_EQ(q[b], b + 1);
	EXPECT_EQ(info(s64).active_objs, active64 - 1) << "old object freed";
	/* slab -> large -> larger -> in place */
	size_t big = slab.kmalloc_max_cache_size() + 100;
	auto *r = static_cast<unsigned char *>(slab.krealloc(q, big, GFP_KERNEL));
	ASSERT_NE(r, nullptr);
	EXPECT_EQ(pa.virt_to_page(r)->state, kmm::kLargeKmalloc);
	for (int b = 0; b < 60; ++b)
		EXPECT_EQ(r[b], b + 1);
	r[big - 1] = 0x77;
	auto *u = static_cast<unsigned char *>(slab.krealloc(r, 4 * big, GFP_KERNEL));
	ASSERT_NE(u, nullptr);
	EXPECT_EQ(u[0], 1);
	EXPECT_EQ(u[big - 1], 0x77);
	EXPECT_EQ(slab.krealloc(u, 10, GFP_KERNEL), u) << "a large block shrinks in place";
	EXPECT_EQ(u[9], 10);
	slab.kfree(u);
}

TEST_F(Kmalloc, KreallocZeroFlagZeroesTheGrowth)
{
	auto *p = static_cast<unsigned char *>(slab.kmalloc(20, GFP_KERNEL | __GFP_ZERO));
	std::memset(p, 0xee, 20);
	auto *q = static_cast<unsigned char *>(slab.krealloc(p, 100, GFP_KERNEL | __GFP_ZERO));
	for (int b = 0; b < 20; ++b)
		EXPECT_EQ(q[b], 0xee);
	for (int b = 32; b < 100; ++b) /* from the old ksize (32) on */
		EXPECT_EQ(q[b], 0) << b;
	/* in place shrink with __GFP_ZERO clears the released tail */
	EXPECT_EQ(slab.krealloc(q, 10, GFP_KERNEL | __GFP_ZERO), q);
	ASSERT_EQ(slab.ksize(q), 128u); /* the caller may read all of it again */
	for (int b = 10; b < 128; ++b)
		EXPECT_EQ(q[b], 0) << b;
	slab.kfree(q);
}

/* Every call with __GFP_ZERO (Linux's condition): a move zeroes the new
 * object up to its ksize, so a later growth in place reads zeros — not
 * what a previous user left there (slab, then a large block). */
TEST_F(Kmalloc, KreallocZeroFlagThenGrowthInPlaceReadsZeros)
{
	auto dirty = [&](size_t size) {
		void *d = slab.kmalloc(size, GFP_KERNEL);
		std::memset(d, 0xee, slab.ksize(d));
		slab.kfree(d);
	};
	dirty(128);
	auto *p = static_cast<unsigned char *>(slab.kmalloc(10, GFP_KERNEL | __GFP_ZERO));
	auto *q = static_cast<unsigned char *>(slab.krealloc(p, 100, GFP_KERNEL | __GFP_ZERO));
	ASSERT_NE(q, nullptr);
	auto *r = static_cast<unsigned char *>(slab.krealloc(q, 120, GFP_KERNEL | __GFP_ZERO));
	ASSERT_EQ(r, q) << "grew in place";
	for (int b = 0; b < 120; ++b)
		ASSERT_EQ(r[b], 0) << b;
	const size_t big = 2 * kmm::kPageSize + 1;
	dirty(4 * kmm::kPageSize);
	auto *l = static_cast<unsigned char *>(slab.krealloc(r, big, GFP_KERNEL | __GFP_ZERO));
	ASSERT_NE(l, nullptr);
	auto *m = static_cast<unsigned char *>(slab.krealloc(l, 4 * kmm::kPageSize, GFP_KERNEL | __GFP_ZERO));
	ASSERT_EQ(m, l) << "grew in place";
	for (size_t b = 0; b < 4 * kmm::kPageSize; ++b)
		ASSERT_EQ(m[b], 0) << b;
	slab.kfree(m);
}

TEST_F(Kmalloc, KreallocFailureLeavesTheOldObject)
{
	auto *p = static_cast<unsigned char *>(slab.kmalloc(100, GFP_KERNEL));
	std::memset(p, 0x42, 100);
	EXPECT_EQ(slab.krealloc(p, (size_t{kPageSize} << kmm::kMaxOrder) + 1, GFP_KERNEL | __GFP_NOWARN), nullptr);
	EXPECT_EQ(slab.ksize(p), 128u);
	for (int b = 0; b < 100; ++b)
		EXPECT_EQ(p[b], 0x42);
	static long outside;
	t.cap.clear();
	EXPECT_EQ(slab.krealloc(&outside, 100, GFP_KERNEL), nullptr);
	EXPECT_EQ(t.cap.bug_lines(), 1u);
	slab.kfree(p);
}

/* ---- exhaustion ---- */

TEST_F(Kmalloc, OutOfPagesFallsBackToALargerClassWithAFreeObject)
{
	kmm_test::BuddySnapshot after_init = kmm_test::snapshot(pa);
	kmem_cache *k32 = slab.kmalloc_cache(32), *k64 = slab.kmalloc_cache(64);
	ASSERT_NE(k32, k64);
	ASSERT_GE(k64->objects, 2u);
	void *a = slab.kmalloc(64, GFP_KERNEL); /* kmalloc-64 gets a slab */
	ASSERT_NE(a, nullptr);
	std::vector<struct page *> pages; /* then every page goes */
	while (struct page *p = pa.alloc(GFP_KERNEL | __GFP_NOWARN, 0))
		pages.push_back(p);
	ASSERT_EQ(free_pages(), 0u);
	ASSERT_EQ(info(k32).num_slabs, 0u);
	t.cap.clear();
	/* kmalloc-32 has nothing and no page is left: kmalloc-64's free
	 * objects serve, each exactly once, then NULL (the classes above hold
	 * no slab); no warning before the last, failing call */
	std::vector<void *> got;
	for (;;) {
		void *x = slab.kmalloc(20, GFP_KERNEL | __GFP_ZERO);
		if (x == nullptr)
			break;
		EXPECT_EQ(head_of(x), head_of(a));
		EXPECT_EQ(slab.ksize(x), 64u);
		EXPECT_EQ(static_cast<unsigned char *>(x)[63], 0u) << "__GFP_ZERO clears the whole object";
		got.push_back(x);
		ASSERT_LE(got.size(), k64->objects);
	}
	EXPECT_EQ(got.size(), k64->objects - 1u);
	EXPECT_EQ(info(k64).active_objs, k64->objects + 0ul);
	EXPECT_EQ(info(k32).active_objs, 0ul);
	EXPECT_EQ(t.rep.bugs(), 0u);
	EXPECT_EQ(slab.validate(), 0u);
	/* krealloc within the class keeps the object, kfree takes it back */
	EXPECT_EQ(slab.krealloc(got[0], 60, GFP_KERNEL), got[0]);
	got.push_back(a);
	expect_all_returned(*this, got, pages, after_init);
}

/* The fallback keeps kmalloc's alignment promise: a power-of-two request
 * never gets an object of kmalloc-96 (32-aligned) or kmalloc-192
 * (64-aligned); any other request may (they guarantee kKmallocMinAlign). */
TEST_F(Kmalloc, OutOfPagesFallbackKeepsNaturalAlignment)
{
	kmm_test::BuddySnapshot after_init = kmm_test::snapshot(pa);
	kmem_cache *k96 = slab.kmalloc_cache(96), *k128 = slab.kmalloc_cache(128);
	kmem_cache *k192 = slab.kmalloc_cache(192), *k256 = slab.kmalloc_cache(256);
	ASSERT_EQ(k96->size, 96u);
	ASSERT_EQ(k192->size, 192u);
	/* kmalloc-96, -128, -192 and -256 get a slab each; then every page goes */
	void *keep[4] = {slab.kmalloc(96, GFP_KERNEL), slab.kmalloc(128, GFP_KERNEL), slab.kmalloc(192, GFP_KERNEL),
			 slab.kmalloc(256, GFP_KERNEL)};
	for (void *k : keep)
		ASSERT_NE(k, nullptr);
	std::vector<struct page *> pages;
	while (struct page *p = pa.alloc(GFP_KERNEL | __GFP_NOWARN, 0))
		pages.push_back(p);
	ASSERT_EQ(free_pages(), 0u);
	ASSERT_EQ(info(slab.kmalloc_cache(64)).num_slabs, 0u);
	t.cap.clear();
	/* 128 bytes: kmalloc-128's own objects, then kmalloc-192 is skipped and
	 * kmalloc-256 serves; all 128-aligned */
	std::vector<void *> got;
	size_t from128 = 0, from256 = 0;
	while (void *x = slab.kmalloc(128, GFP_KERNEL | __GFP_NOWARN)) {
		EXPECT_EQ(reinterpret_cast<uintptr_t>(x) % 128, 0u) << x;
		size_t k = slab.ksize(x);
		EXPECT_TRUE(k == 128 || k == 256) << "ksize " << k << ": skips kmalloc-192";
		(k == 128 ? from128 : from256) += 1;
		got.push_back(x);
		ASSERT_LE(from128 + from256, k128->objects + k256->objects);
	}
	EXPECT_EQ(from128, k128->objects - 1u);
	EXPECT_EQ(from256, k256->objects - 1u);
	EXPECT_EQ(info(k192).active_objs, 1ul) << "kmalloc-192's free objects untouched";
	/* 64 bytes (kmalloc-64 has no slab): kmalloc-96 is skipped, kmalloc-128
	 * is used up, kmalloc-192 (64-aligned) serves */
	size_t from192 = 0;
	while (void *x = slab.kmalloc(64, GFP_KERNEL | __GFP_NOWARN)) {
		EXPECT_EQ(reinterpret_cast<uintptr_t>(x) % 64, 0u) << x;
		EXPECT_EQ(slab.ksize(x), 192u) << "skips kmalloc-96";
		got.push_back(x);
		ASSERT_LE(++from192, k192->objects);
	}
	EXPECT_EQ(from192, k192->objects - 1u);
	EXPECT_EQ(info(k96).active_objs, 1ul) << "kmalloc-96's free objects untouched";
	/* 40 bytes (class 64, promised only kKmallocMinAlign): kmalloc-96 serves */
	void *odd = slab.kmalloc(40, GFP_KERNEL | __GFP_NOWARN);
	ASSERT_NE(odd, nullptr);
	EXPECT_EQ(slab.ksize(odd), 96u);
	EXPECT_EQ(reinterpret_cast<uintptr_t>(odd) % (sizeof(void *) >= 8 ? 16 : 8), 0u);
	got.push_back(odd);
	EXPECT_EQ(t.rep.bugs(), 0u);
	EXPECT_EQ(slab.validate(), 0u);
	got.insert(got.end(), std::begin(keep), std::end(keep));
	expect_all_returned(*this, got, pages, after_init);
}

TEST_F(Kmalloc, ExhaustionAndFullRecovery)
{
	kmm_test::BuddySnapshot after_init = kmm_test::snapshot(pa);
	std::vector<void *> held;
	kmm_test::Rng rng(kmm_test::test_seed(7));
	size_t max = slab.kmalloc_max_cache_size();
	size_t failures = 0;
	while (failures < 50) {
		size_t size = 1 + rng.below(rng.chance(5) ? 4 * max : max);
		void *p = slab.kmalloc(size, GFP_KERNEL | __GFP_NOWARN);
		if (p == nullptr) {
			++failures;
			continue;
		}
		static_cast<unsigned char *>(p)[size - 1] = 1;
		held.push_back(p);
	}
	EXPECT_GT(held.size(), 100u);
	EXPECT_EQ(problems(), 0u);
	EXPECT_LT(free_pages(), after_init.free_pages / 50) << "really exhausted";
	for (size_t k = 0; k < held.size(); k += 2)
		slab.kfree(held[k]);
	EXPECT_EQ(problems(), 0u);
	for (size_t k = 1; k < held.size(); k += 2)
		slab.kfree(held[k]);
	slab.shrink_all();
	EXPECT_EQ(kmm_test::snapshot(pa), after_init);
	EXPECT_EQ(t.rep.bugs(), 0u);
}

/* No DMA zone: no dma-kmalloc classes; kmalloc(GFP_DMA) and a
 * SLAB_CACHE_DMA cache fail with a warning (none under __GFP_NOWARN),
 * nothing taken. */
TEST_F(Kmalloc, GfpDmaWithoutADmaZoneFailsWithAWarning)
{
	kmm_test::BuddySnapshot after_init = kmm_test::snapshot(pa);
	t.cap.clear();
	EXPECT_EQ(slab.kmalloc(64, GFP_DMA), nullptr);
	EXPECT_EQ(t.cap.count_containing("no DMA zone"), 1u) << t.cap.last();
	EXPECT_EQ(slab.kmalloc(64, GFP_DMA | __GFP_NOWARN), nullptr);
	EXPECT_EQ(slab.kmalloc(slab.kmalloc_max_cache_size() + 1, GFP_DMA | __GFP_NOWARN), nullptr);
	EXPECT_EQ(t.cap.lines.size(), 1u);
	EXPECT_EQ(slab.create("dma-cache", 48, 0, SLAB_CACHE_DMA, nullptr), nullptr);
	EXPECT_EQ(t.cap.count_containing("SLAB_CACHE_DMA, but there is no DMA zone"), 1u) << t.cap.last();
	EXPECT_EQ(t.rep.bugs(), 0u);
	EXPECT_EQ(problems(), 0u);
	EXPECT_EQ(kmm_test::snapshot(pa), after_init);
}

/* The same when the Normal class has a partial slab but nothing at hand
 * (empty magazine, full CPU slab): kmalloc(GFP_DMA) reaches the refill
 * path, which must neither take nor install anything of the Normal class,
 * and warns exactly once. */
TEST_F(Kmalloc, GfpDmaWithoutADmaZoneWarnsOnceOnTheRefillPath)
{
	kmem_cache *k64 = slab.kmalloc_cache(64);
	std::vector<void *> held = only_a_partial_slab(*this, k64);
	ASSERT_EQ(info(k64).partial_slabs, 1ul);
	kmem_cache_info before = info(k64);
	t.cap.clear();
	EXPECT_EQ(slab.kmalloc(64, GFP_DMA), nullptr);
	EXPECT_EQ(t.cap.lines.size(), 1u) << t.cap.last();
	EXPECT_EQ(t.cap.count_containing("no DMA zone"), 1u);
	kmem_cache_info after = info(k64);
	EXPECT_EQ(after.active_objs, before.active_objs);
	EXPECT_EQ(after.partial_slabs, before.partial_slabs) << "the partial slab stays where it was";
	EXPECT_EQ(after.cpu_slabs, before.cpu_slabs);
	for (size_t i = 1; i < held.size(); ++i)
		slab.kfree(held[i]);
}

/* A page allocator with a Normal and a DMA zone (the arena's first half
 * and second half). */
class KmallocDma : public ::testing::Test, public kmm_test::SlabWorld {
protected:
	void SetUp() override
	{
		size_t half = arena.size() / 2;
		dma_start = arena.base() + half;
		dma_end = arena.base() + arena.size();
		ASSERT_EQ(pa.add_region(arena.base(), half, KMM_ZONE_NORMAL), 0);
		ASSERT_EQ(pa.add_region(dma_start, half, KMM_ZONE_DMA), 0);
		ASSERT_EQ(pa.init(), 0);
		ASSERT_EQ(slab.init(), 0);
		ASSERT_EQ(slab.validate(), 0u);
	}
	void TearDown() override { EXPECT_EQ(problems(), 0u); }
	bool in_dma(const void *x) const
	{
		uintptr_t a = reinterpret_cast<uintptr_t>(x);
		return a >= dma_start && a < dma_end;
	}
	kmem_cache *cache_named(const char *name)
	{
		for (unsigned id = 1; id <= KMM_MAX_CACHES; ++id)
			if (kmem_cache *s = slab.cache(id); s != nullptr && std::strcmp(s->name, name) == 0)
				return s;
		return nullptr;
	}
	uintptr_t dma_start = 0, dma_end = 0;
};

/* Every class has a SLAB_CACHE_DMA twin named as Linux names it; each
 * serves GFP_DMA for its sizes (also through the inline path when the
 * Normal class has an object at hand) and takes nothing else. */
TEST_F(KmallocDma, EveryClassHasADmaTwin)
{
	size_t max = slab.kmalloc_max_cache_size();
	for (size_t c : kAllClasses) {
		if (c > max)
			break;
		std::string name = "dma-kmalloc-" + (c >= 1024 ? std::to_string(c / 1024) + "k" : std::to_string(c));
		kmem_cache *d = cache_named(name.c_str());
		ASSERT_NE(d, nullptr) << name;
		EXPECT_NE(d->flags & SLAB_CACHE_DMA, 0u);
		EXPECT_TRUE(d->kmalloc);
		EXPECT_EQ(d->object_size, c);
		kmem_cache *n = slab.kmalloc_cache(c);
		slab.kfree(slab.kmalloc(c, GFP_KERNEL)); /* an object at hand */
		kmem_cache_info before = info(n);
		void *x = slab.kmalloc(c, GFP_DMA | GFP_ATOMIC);
		ASSERT_NE(x, nullptr) << c;
		EXPECT_TRUE(in_dma(x)) << c;
		EXPECT_EQ(info(d).active_objs, 1ul) << name;
		kmem_cache_info after = info(n);
		EXPECT_EQ(after.active_objs, before.active_objs) << c;
		/* the popped object went back, and no count shows it */
		EXPECT_EQ(after.magazine_objs, before.magazine_objs) << c;
		EXPECT_EQ(after.alloc_fastpath, before.alloc_fastpath) << c;
		EXPECT_EQ(after.free_fastpath, before.free_fastpath) << c;
		EXPECT_EQ(after.alloc_slowpath, before.alloc_slowpath) << c;
		EXPECT_EQ(after.free_slowpath, before.free_slowpath) << c;
		slab.kfree(x);
		EXPECT_EQ(info(d).active_objs, 0ul) << name;
	}
	EXPECT_EQ(cache_named("dma-kmalloc-3"), nullptr);
}

/* The DMA zone runs out: kmalloc(GFP_DMA) fails (never Normal memory),
 * ordinary kmalloc goes on; a smaller GFP_DMA request then takes a free
 * object of a larger dma-kmalloc class (the out-of-pages fallback stays
 * among the DMA classes); everything back restores the page allocator. */
TEST_F(KmallocDma, AnExhaustedDmaZoneNeverFallsBackToNormalMemory)
{
	kmm_test::BuddySnapshot after_init = kmm_test::snapshot(pa);
	kmem_cache *d64 = cache_named("dma-kmalloc-64");
	ASSERT_NE(d64, nullptr);
	void *first = slab.kmalloc(64, GFP_DMA); /* dma-kmalloc-64 gets a slab */
	ASSERT_NE(first, nullptr);
	std::vector<void *> held;
	for (;;) {
		void *x = slab.kmalloc(512, GFP_DMA | __GFP_NOWARN);
		if (x == nullptr)
			break;
		EXPECT_TRUE(in_dma(x));
		held.push_back(x);
	}
	EXPECT_GT(held.size(), 10u);
	std::vector<struct page *> rest; /* pages too small for a 512 slab */
	while (struct page *pg = pa.alloc(GFP_DMA | __GFP_NOWARN | __GFP_NORETRY, 0))
		rest.push_back(pg);
	EXPECT_EQ(pa.counts(KMM_ZONE_DMA).free, 0u);
	void *normal = slab.kmalloc(512, GFP_KERNEL);
	ASSERT_NE(normal, nullptr);
	EXPECT_FALSE(in_dma(normal));
	void *small = slab.kmalloc(24, GFP_DMA | __GFP_NOWARN);
	ASSERT_NE(small, nullptr) << "a free dma-kmalloc-64 object serves";
	EXPECT_EQ(head_of(small), head_of(first));
	EXPECT_EQ(slab.ksize(small), 64u);
	EXPECT_EQ(t.rep.bugs(), 0u);
	EXPECT_EQ(problems(), 0u);
	held.insert(held.end(), {small, normal, first});
	expect_all_returned(*this, held, rest, after_init);
}

/* kmalloc(GFP_DMA) whose Normal class has no object at hand (empty
 * magazine, full CPU slab) but a partial slab: the refill path takes
 * nothing of it, and the dma class serves. */
TEST_F(KmallocDma, GfpDmaOnTheRefillPathTakesNoNormalObject)
{
	kmem_cache *k64 = slab.kmalloc_cache(64);
	std::vector<void *> held = only_a_partial_slab(*this, k64);
	ASSERT_EQ(info(k64).partial_slabs, 1ul);
	unsigned long active = info(k64).active_objs;
	void *x = slab.kmalloc(64, GFP_DMA);
	ASSERT_NE(x, nullptr);
	EXPECT_TRUE(in_dma(x));
	EXPECT_EQ(info(k64).active_objs, active);
	void *again = slab.kmalloc(64, GFP_KERNEL);
	EXPECT_EQ(again, held[0]) << "the popped Normal object went back";
	slab.kfree(again);
	slab.kfree(x);
	for (size_t i = 1; i < held.size(); ++i)
		slab.kfree(held[i]);
}

/* validate() checks the invariant the DMA caches rest on: every slab of
 * a SLAB_CACHE_DMA cache lies in the DMA zone (here broken by hand: a
 * Normal cache with a slab is flagged SLAB_CACHE_DMA). */
TEST_F(KmallocDma, ValidateFindsADmaCacheSlabOutsideTheDmaZone)
{
	kmem_cache *plain = slab.create("plain", 40, 0, 0, nullptr);
	ASSERT_NE(plain, nullptr);
	void *x = slab.alloc(plain, GFP_KERNEL);
	ASSERT_NE(x, nullptr);
	ASSERT_FALSE(in_dma(x));
	EXPECT_EQ(slab.validate(), 0u);
	plain->flags |= SLAB_CACHE_DMA;
	t.cap.clear();
	EXPECT_EQ(slab.validate(), 1u);
	EXPECT_EQ(t.cap.count_containing("slab of a SLAB_CACHE_DMA cache outside the DMA zone"), 1u) << t.cap.last();
	plain->flags &= ~SLAB_CACHE_DMA;
	EXPECT_EQ(slab.validate(), 0u);
	slab.free(plain, x);
	slab.destroy(plain);
}

/* kmem_cache_alloc(GFP_DMA) from a cache without SLAB_CACHE_DMA is a
 * BUG report and NULL, with nothing taken, on the inline path (an object
 * at hand goes back), the slow path and bulk; a SLAB_CACHE_DMA cache's
 * slabs all come from the DMA zone, whatever the flags of the call that
 * made them. */
TEST_F(KmallocDma, KmemCacheAllocTakesTheZoneFromTheCache)
{
	kmem_cache *plain = slab.create("plain", 40, 0, 0, nullptr);
	ASSERT_NE(plain, nullptr);
	void *o = slab.alloc(plain, GFP_KERNEL);
	slab.free(plain, o);
	t.cap.clear();
	EXPECT_EQ(slab.alloc(plain, GFP_DMA), nullptr);
	EXPECT_EQ(t.rep.bugs(), 1u);
	EXPECT_EQ(t.cap.count_containing("without SLAB_CACHE_DMA"), 1u) << t.cap.last();
	EXPECT_EQ(info(plain).active_objs, 0ul);
	EXPECT_EQ(slab.alloc(plain, GFP_KERNEL), o) << "the refused object went back";
	slab.free(plain, o);
	slab.shrink(plain);
	EXPECT_EQ(slab.alloc(plain, GFP_DMA | __GFP_ZERO), nullptr);
	void *p[3] = {};
	EXPECT_EQ(slab.alloc_bulk(plain, GFP_DMA, 3, p), 0);
	EXPECT_EQ(t.rep.bugs(), 3u);
	EXPECT_EQ(info(plain).num_slabs, 0ul);
	slab.destroy(plain);

	kmem_cache *dma = slab.create("dma", 40, 0, SLAB_CACHE_DMA, nullptr);
	ASSERT_NE(dma, nullptr);
	std::vector<void *> objs;
	for (unsigned i = 0; i < 3u * dma->objects; ++i) {
		void *x = slab.alloc(dma, i % 2 == 0 ? GFP_KERNEL : GFP_DMA);
		ASSERT_NE(x, nullptr);
		EXPECT_TRUE(in_dma(x)) << i;
		objs.push_back(x);
	}
	EXPECT_GE(info(dma).num_slabs, 3ul);
	for (void *x : objs)
		slab.free(dma, x);
	slab.destroy(dma);
	EXPECT_EQ(t.rep.bugs(), 3u);
}

/* Ordinary allocations leave dma-kmalloc alone, and a kmalloc(GFP_DMA)
 * that needs a new slab makes it a DMA slab of the dma class, never a
 * Normal class's slab in the DMA zone. */
TEST_F(KmallocDma, NormalClassesNeverGetDmaSlabsFromGfpDma)
{
	kmem_cache *n128 = slab.kmalloc_cache(128);
	kmem_cache *d128 = cache_named("dma-kmalloc-128");
	ASSERT_NE(d128, nullptr);
	void *x = slab.kmalloc(100, GFP_DMA);
	ASSERT_NE(x, nullptr);
	EXPECT_TRUE(in_dma(x));
	EXPECT_EQ(info(n128).num_slabs, 0ul);
	EXPECT_EQ(info(d128).num_slabs, 1ul);
	void *y = slab.kmalloc(100, GFP_KERNEL);
	ASSERT_NE(y, nullptr);
	EXPECT_FALSE(in_dma(y));
	EXPECT_EQ(info(d128).active_objs, 1ul);
	slab.kfree(x);
	slab.kfree(y);
}

} // namespace

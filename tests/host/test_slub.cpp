/*
 * tests/host/test_slub.cpp — white-box tests of the slab core (mm/slub.cpp,
 * mm/slab_common.cpp, mm/slab_stats.cpp) over private SlabAllocator
 * instances on arenas the test owns. Built per page-size variant of mm.
 *
 * Suites: SlabLayout (object layout, slab order rule), SlabCache (state
 * transitions, min_partial, shrink, destroy, ctor preservation, alignment,
 * bulk, counters, OOM). Misuse is in test_slub_misuse.cpp (built into the
 * same binaries), corruption injection in test_slub_validate.cpp, the
 * per-CPU magazines in test_slab_magazine.cpp.
 */
#include <gtest/gtest.h>

#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "slub.h"
#include "support/slab_fixture.h"

using kmm::kPageSize;
using kmm::kSlabUnit;
using kmm_test::hex;

namespace {

/* ------------------------------------------------------------------ */
/* SlabLayout                                                          */

TEST(SlabLayout, OrderKeepsWasteWithinASixteenthWherePossible)
{
	for (size_t size = kSlabUnit; size <= kmm::kMaxSlabBytes; size += kSlabUnit) {
		unsigned order = kmm::calculate_slab_order(size);
		ASSERT_LE(order, kmm::kMaxSlabOrder) << size;
		size_t slab = size_t{kPageSize} << order;
		ASSERT_GE(slab, size) << size;
		bool possible = false;
		for (unsigned o = 0; o <= kmm::kMaxSlabOrder; ++o) {
			size_t b = size_t{kPageSize} << o;
			if (b >= size && (b % size) * 16 <= b)
				possible = true;
		}
		if (possible) {
			ASSERT_LE((slab % size) * 16, slab) << "size " << size << " order " << order;
		}
		/* and it is the smallest such order */
		if (possible && order > 0) {
			size_t smaller = slab / 2;
			ASSERT_TRUE(smaller < size || (smaller % size) * 16 > smaller) << size;
		}
	}
}

TEST(SlabLayout, FreePointerInsideWithoutCtorAfterObjectWithCtor)
{
	kmm::CacheLayout l;
	ASSERT_EQ(kmm::calculate_layout(20, 0, 0, false, l), nullptr);
	EXPECT_EQ(l.offset, 0u);
	EXPECT_EQ(l.size, 24u);
	EXPECT_EQ(l.object_size, 20u);
	ASSERT_EQ(kmm::calculate_layout(20, 0, 0, true, l), nullptr);
	EXPECT_EQ(l.offset, 24u);
	EXPECT_EQ(l.size, 24u + sizeof(void *));
	EXPECT_GE(l.offset, l.object_size);
	ASSERT_EQ(kmm::calculate_layout(1, 0, 0, false, l), nullptr);
	EXPECT_EQ(l.size, kSlabUnit) << "room for the free pointer";
	ASSERT_EQ(kmm::calculate_layout(100, 64, 0, true, l), nullptr);
	EXPECT_EQ(l.size % 64, 0u);
	EXPECT_EQ(l.objects, l.slab_bytes / l.size);
}

TEST(SlabLayout, HwcacheAlign)
{
	kmm::CacheLayout l;
	ASSERT_EQ(kmm::calculate_layout(100, 0, SLAB_HWCACHE_ALIGN, false, l), nullptr);
	EXPECT_EQ(l.align, unsigned{KMM_L1_CACHE_BYTES});
	ASSERT_EQ(kmm::calculate_layout(20, 0, SLAB_HWCACHE_ALIGN, false, l), nullptr);
	EXPECT_EQ(l.align, unsigned{KMM_L1_CACHE_BYTES} / 2) << "a fraction of a line for small objects";
	ASSERT_EQ(kmm::calculate_layout(8, 0, SLAB_HWCACHE_ALIGN, false, l), nullptr);
	EXPECT_EQ(l.align, 8u);
}

TEST(SlabLayout, BadArguments)
{
	kmm::CacheLayout l;
	EXPECT_NE(kmm::calculate_layout(0, 0, 0, false, l), nullptr);
	EXPECT_NE(kmm::calculate_layout(8, 3, 0, false, l), nullptr);
	EXPECT_NE(kmm::calculate_layout(8, 48, 0, false, l), nullptr);
	EXPECT_NE(kmm::calculate_layout(8, 0, 0x1u, false, l), nullptr);
	EXPECT_NE(kmm::calculate_layout(static_cast<unsigned>(kmm::kMaxSlabBytes) + 1, 0, 0, false, l), nullptr);
	EXPECT_NE(kmm::calculate_layout(static_cast<unsigned>(kmm::kMaxSlabBytes), 0, 0, true, l), nullptr)
		<< "the ctor's outside free pointer no longer fits";
	EXPECT_NE(kmm::calculate_layout(0xffffffffu, 0, 0, false, l), nullptr);
	EXPECT_EQ(kmm::calculate_layout(static_cast<unsigned>(kmm::kMaxSlabBytes), 0, 0, false, l), nullptr);
	EXPECT_EQ(l.objects, 1u);
}

TEST(SlabLayout, DivisibilityTestMatchesModulo)
{
	for (uint32_t d : {8u, 16u, 24u, 40u, 96u, 192u, 200u, 4096u, 8192u, 24576u}) {
		kmem_cache s{};
		s.div_magic = kmm::divisibility_magic(d);
		for (uintptr_t n = 0; n < 3 * kmm::kMaxSlabBytes; n += 1 + n / 64)
			ASSERT_EQ(kmm::on_object_boundary(&s, n), n % d == 0) << n << " / " << d;
	}
}

/* ------------------------------------------------------------------ */
/* SlabCache                                                           */

class SlabCache : public kmm_test::SlabCacheTest {};

TEST_F(SlabCache, CreateCopiesNameAndRegisters)
{
	char name[64];
	std::snprintf(name, sizeof name, "my-objects");
	kmem_cache *s = make(name, 40);
	name[0] = 'X';
	EXPECT_STREQ(s->name, "my-objects");
	EXPECT_TRUE(slab.is_live(s));
	EXPECT_EQ(slab.cache(s->id), s);
	std::string longname(100, 'n');
	kmem_cache *l = make(longname.c_str(), 40);
	EXPECT_EQ(std::strlen(l->name), size_t{KMM_SLAB_NAME_LEN} - 1);
	/* the kmem_cache structs come from the boot cache */
	EXPECT_EQ(head_of(s)->cache_id, kmm::kBootCacheId);
	EXPECT_EQ(slab.cache(kmm::kBootCacheId), slab.boot_cache());
	EXPECT_EQ(slab.cache(0), nullptr); /* id 0: no cache (page::cache_id of non-slab pages) */
	slab.destroy(s);
	slab.destroy(l);
	EXPECT_FALSE(slab.is_live(s));
	EXPECT_EQ(t.rep.bugs(), 0u);
}

/* The descriptors' slot: cache-line aligned only on SMP (CPUs write
 * them); on one CPU the object plus its outside free pointer, 8-aligned
 * (a 448-byte slot was one descriptor per 512-byte slab on 256-byte pages). */
TEST_F(SlabCache, DescriptorSlotIsCacheLineAlignedOnlyOnSmp)
{
	const kmem_cache *boot = slab.boot_cache();
	ASSERT_NE(boot, nullptr);
	EXPECT_GE(boot->size, sizeof(kmem_cache) + sizeof(void *)) << "the free pointer lies past the object";
	if constexpr (KMM_NR_CPUS > 1)
		EXPECT_EQ(boot->size % KMM_L1_CACHE_BYTES, 0u);
	else
		EXPECT_LE(boot->size, sizeof(kmem_cache) + 2 * sizeof(void *));
}

TEST_F(SlabCache, BadArgumentsReturnNullWithAReport)
{
	struct Case {
		const char *name;
		unsigned size, align;
		slab_flags_t flags;
		const char *why;
	} cases[] = {
		{nullptr, 32, 0, 0, "NULL name"},
		{"zero", 0, 0, 0, "size 0"},
		{"align3", 32, 3, 0, "not a power of two"},
		{"align24", 32, 24, 0, "not a power of two"},
		{"huge", static_cast<unsigned>(kmm::kMaxSlabBytes) + 1, 0, 0, "larger than the largest slab"},
		{"flags", 32, 0, 0x80000000u, "unknown flags"},
	};
	for (const Case &c : cases) {
		t.cap.clear();
		unsigned long bugs = t.rep.bugs();
		EXPECT_EQ(slab.create(c.name, c.size, c.align, c.flags, nullptr), nullptr) << c.why;
		EXPECT_EQ(t.rep.bugs(), bugs + 1) << c.why;
		ASSERT_EQ(t.cap.bug_lines(), 1u) << c.why;
		EXPECT_NE(t.cap.lines[0].find(c.why), std::string::npos) << t.cap.lines[0];
		EXPECT_NE(t.cap.lines[0].find(c.name != nullptr ? c.name : "kmem_cache"), std::string::npos);
	}
}

TEST_F(SlabCache, SlabPanicPanicsInsteadOfReturningNull)
{
	GTEST_FLAG_SET(death_test_style, "threadsafe");
	EXPECT_DEATH(slab.create("doomed", 0, 0, SLAB_PANIC, nullptr), "kmem_cache_create failed with SLAB_PANIC");
	kmem_cache *s = make("fine", 16, 0, SLAB_PANIC);
	EXPECT_EQ(s->flags & SLAB_PANIC, 0u) << "a creation-time flag, not kept";
	slab.destroy(s);
}

TEST_F(SlabCache, CacheTableFullReturnsNull)
{
	std::vector<kmem_cache *> made;
	for (;;) {
		kmem_cache *s = slab.create("filler", 64, 0, 0, nullptr);
		if (s == nullptr)
			break;
		made.push_back(s);
		ASSERT_LT(made.size(), size_t{KMM_MAX_CACHES});
	}
	EXPECT_GT(made.size(), size_t{KMM_MAX_CACHES} / 2);
	EXPECT_NE(t.cap.last().find("KMM_MAX_CACHES"), std::string::npos);
	EXPECT_EQ(problems(), 0u);
	for (kmem_cache *s : made)
		slab.destroy(s);
	EXPECT_NE(slab.create("again", 64, 0, 0, nullptr), nullptr);
}

/* partial -> full -> partial -> empty -> returned, with page states. */
TEST_F(SlabCache, SlabStateTransitions)
{
	kmem_cache *s = make("states", 256);
	const unsigned n = s->objects;
	ASSERT_GE(n, 1u);
	size_t pages0 = free_pages();
	slab.set_min_partial(s, 0); /* so an empty slab goes straight back */
	slab.set_magazine_size(s, 0); /* frees reach the slabs at once */

	std::vector<void *> first(n);
	for (unsigned i = 0; i < n; ++i)
		first[i] = slab.alloc(s, GFP_KERNEL);
	struct page *p1 = head_of(first[0]);
	for (void *x : first)
		ASSERT_EQ(head_of(x), p1) << "one slab serves its objects first";
	EXPECT_EQ(p1->state, kmm::kSlabCpu);
	EXPECT_EQ(p1->cache_id, s->id);
	EXPECT_EQ(free_pages(), pages0 - (size_t{1} << s->order));
	kmem_cache_info i = info(s);
	EXPECT_EQ(i.active_objs, n);
	EXPECT_EQ(i.num_slabs, 1u);
	EXPECT_EQ(i.cpu_slabs, 1u);
	EXPECT_EQ(problems(), 0u);

	/* The next allocation retires the exhausted CPU slab as full. */
	void *extra = slab.alloc(s, GFP_KERNEL);
	struct page *p2 = head_of(extra);
	EXPECT_NE(p2, p1);
	EXPECT_EQ(p1->state, kmm::kSlab);
	EXPECT_EQ(p1->inuse, n);
	EXPECT_EQ(p2->state, kmm::kSlabCpu);
	i = info(s);
	EXPECT_EQ(i.full_slabs, 1u);
	EXPECT_EQ(i.partial_slabs, 0u);
	EXPECT_EQ(i.num_slabs, 2u);
	EXPECT_EQ(i.active_objs, n + 1u);
	EXPECT_EQ(problems(), 0u);

	/* full -> partial */
	slab.free(s, first[0]);
	i = info(s);
	if (n > 1) {
		EXPECT_EQ(i.full_slabs, 0u);
		EXPECT_EQ(i.partial_slabs, 1u);
		EXPECT_EQ(p1->inuse, n - 1);
		EXPECT_EQ(s->partial.head, p1);
	}
	EXPECT_EQ(problems(), 0u);
	/* partial -> empty -> returned (min_partial 0) */
	for (unsigned k = 1; k < n; ++k)
		slab.free(s, first[k]);
	i = info(s);
	EXPECT_EQ(i.num_slabs, 1u);
	EXPECT_EQ(i.partial_slabs + i.empty_slabs + i.full_slabs, 0u);
	EXPECT_EQ(i.slabs_freed, 1u);
	EXPECT_EQ(free_pages(), pages0 - (size_t{1} << s->order));
	EXPECT_NE(p1->state, kmm::kSlab) << "the page went back to the buddy allocator";
	slab.free(s, extra);
	slab.destroy(s);
	EXPECT_EQ(free_pages(), pages0);
}

TEST_F(SlabCache, EmptySlabsKeptUpToMinPartial)
{
	kmem_cache *s = make("minpartial", 512);
	const unsigned n = s->objects;
	const unsigned kSlabs = 12;
	ASSERT_GE(s->min_partial, unsigned{KMM_SLAB_MIN_PARTIAL_LO});
	slab.set_min_partial(s, 3);
	slab.set_magazine_size(s, 0); /* frees reach the slabs at once */
	size_t pages0 = free_pages();
	std::vector<void *> objs;
	for (unsigned k = 0; k < kSlabs * n; ++k)
		objs.push_back(slab.alloc(s, GFP_KERNEL));
	EXPECT_EQ(info(s).num_slabs, kSlabs);
	slab.shrink(s); /* retire the CPU slab: every slab is full and listed nowhere */
	EXPECT_EQ(info(s).full_slabs, kSlabs);
	for (void *x : objs)
		slab.free(s, x);
	kmem_cache_info i = info(s);
	EXPECT_EQ(i.empty_slabs, 3u);
	EXPECT_EQ(i.num_slabs, 3u);
	EXPECT_EQ(i.active_objs, 0u);
	EXPECT_EQ(i.slabs_freed, kSlabs - 3u);
	EXPECT_EQ(free_pages(), pages0 - 3 * (size_t{1} << s->order));
	/* kept empty slabs are reused before new ones are made */
	unsigned long made = i.slabs_allocated;
	for (unsigned k = 0; k < 3 * n; ++k)
		objs[k] = slab.alloc(s, GFP_KERNEL);
	EXPECT_EQ(info(s).slabs_allocated, made);
	for (unsigned k = 0; k < 3 * n; ++k)
		slab.free(s, objs[k]);
	/* lowering min_partial trims at once */
	slab.set_min_partial(s, 1);
	EXPECT_LE(info(s).empty_slabs, 1u);
	slab.destroy(s);
	EXPECT_EQ(free_pages(), pages0);
}

TEST_F(SlabCache, ShrinkReturnsEveryEmptySlab)
{
	kmm_test::BuddySnapshot before = kmm_test::snapshot(pa);
	kmem_cache *s = make("shrinkme", 96);
	before = kmm_test::snapshot(pa); /* after the kmem_cache struct was taken */
	std::vector<void *> objs;
	for (unsigned k = 0; k < 7u * s->objects + 3; ++k)
		objs.push_back(slab.alloc(s, GFP_KERNEL));
	void *keep = objs[s->objects + 1]; /* keeps its slab */
	for (void *x : objs)
		if (x != keep)
			slab.free(s, x);
	EXPECT_GT(info(s).num_slabs, 1u);
	EXPECT_EQ(slab.shrink(s), 1) << "a slab remains: Linux's non-zero";
	kmem_cache_info i = info(s);
	EXPECT_EQ(i.num_slabs, 1u);
	EXPECT_EQ(i.cpu_slabs, 0u) << "shrink flushes the CPU slab";
	EXPECT_EQ(i.active_objs, 1u);
	slab.free(s, keep);
	EXPECT_EQ(slab.shrink(s), 0);
	EXPECT_EQ(info(s).num_slabs, 0u);
	EXPECT_EQ(kmm_test::snapshot(pa), before);
	slab.destroy(s);
}

TEST_F(SlabCache, DestroyWithLiveObjectsReportsAndKeepsTheCache)
{
	kmem_cache *s = make("leaky", 128);
	std::vector<void *> objs;
	for (unsigned k = 0; k < s->objects + 2u; ++k)
		objs.push_back(slab.alloc(s, GFP_KERNEL));
	/* leak objs[1] (a full slab's) and the last one (the CPU slab's) */
	std::set<void *> leaked = {objs[1], objs.back()};
	for (void *x : objs)
		if (leaked.count(x) == 0)
			slab.free(s, x);
	t.cap.clear();
	slab.destroy(s);
	EXPECT_EQ(t.rep.bugs(), 1u);
	ASSERT_GE(t.cap.lines.size(), 3u);
	EXPECT_EQ(t.cap.lines[0], "BUG leaky: Objects remaining in leaky on destroy");
	for (void *x : leaked)
		EXPECT_EQ(t.cap.count_containing("Object " + hex(reinterpret_cast<uintptr_t>(x)) + " "), 1u)
			<< hex(reinterpret_cast<uintptr_t>(x));
	EXPECT_EQ(t.cap.count_containing("Object 0x"), 2u);
	EXPECT_TRUE(slab.is_live(s)) << "the cache is kept: its objects stay valid";
	EXPECT_EQ(info(s).active_objs, 2u);
	EXPECT_EQ(problems(), 0u);
	/* the leaked objects are still usable and freeable; then destroy works */
	std::memset(objs[1], 0x5a, 128);
	for (void *x : leaked)
		slab.free(s, x);
	size_t pages = free_pages();
	slab.destroy(s);
	EXPECT_FALSE(slab.is_live(s));
	EXPECT_EQ(t.rep.bugs(), 1u);
	EXPECT_GE(free_pages(), pages);
}

/* A destroy that interrupts a reclaim walk on its own CPU (an IRQ handler
 * under memory pressure) would wait for that walk forever: it is refused
 * with a report, the cache stays live and usable, and the same destroy
 * after the walk succeeds. The walk hook stands for the interrupt. */
TEST_F(SlabCache, DestroyInsideAReclaimWalkOnItsCpuIsRefused)
{
	kmem_cache *s = make("walk-victim", 64);
	struct Ctx {
		kmm::SlabAllocator *slab;
		kmem_cache *s;
		unsigned calls;
	} ctx{&slab, s, 0};
	slab.set_reclaim_walk_hook(
		[](void *arg) {
			auto *c = static_cast<Ctx *>(arg);
			++c->calls;
			c->slab->destroy(c->s);
		},
		&ctx);
	t.cap.clear();
	slab.shrink_all();
	slab.set_reclaim_walk_hook(nullptr, nullptr);
	EXPECT_EQ(ctx.calls, 1u);
	EXPECT_EQ(t.cap.count_containing("BUG walk-victim: kmem_cache_destroy from interrupt context during a reclaim: refused"),
		  1u);
	EXPECT_TRUE(slab.is_live(s));
	void *x = slab.alloc(s, GFP_KERNEL);
	ASSERT_NE(x, nullptr);
	slab.free(s, x);
	t.cap.clear();
	slab.destroy(s);
	EXPECT_FALSE(slab.is_live(s));
	EXPECT_EQ(t.cap.bug_lines(), 0u);
}

/* The refusal is about the walk of this allocator only: inside another
 * allocator's walk (tests run several instances) a destroy goes ahead. */
TEST_F(SlabCache, DestroyInsideAnotherAllocatorsWalkGoesAhead)
{
	kmm_test::SlabWorld other;
	other.boot();
	kmem_cache *s = make("walk-other", 64);
	struct Ctx {
		kmm::SlabAllocator *slab;
		kmem_cache *s;
	} ctx{&slab, s};
	other.slab.set_reclaim_walk_hook([](void *arg) { static_cast<Ctx *>(arg)->slab->destroy(static_cast<Ctx *>(arg)->s); },
					 &ctx);
	t.cap.clear();
	other.slab.shrink_all();
	other.slab.set_reclaim_walk_hook(nullptr, nullptr);
	EXPECT_FALSE(slab.is_live(s));
	EXPECT_EQ(t.cap.bug_lines(), 0u);
	EXPECT_EQ(other.problems(), 0u);
}

TEST_F(SlabCache, DestroyListsAtMostSixteenAddresses)
{
	kmem_cache *s = make("manyleaks", 64);
	std::vector<void *> objs;
	for (int k = 0; k < 40; ++k)
		objs.push_back(slab.alloc(s, GFP_KERNEL));
	t.cap.clear();
	slab.destroy(s);
	EXPECT_EQ(t.cap.count_containing("Object 0x"), 16u);
	EXPECT_EQ(t.cap.count_containing("... 24 more objects"), 1u);
	EXPECT_EQ(t.cap.count_containing("40 objects remaining"), 1u);
	for (void *x : objs)
		slab.free(s, x);
	slab.destroy(s);
	EXPECT_FALSE(slab.is_live(s));
}

struct CtorProbe {
	static inline unsigned long calls = 0;
	static void ctor(void *p)
	{
		++calls;
		std::memset(p, 0xC7, 72);
		static_cast<unsigned char *>(p)[0] = 0x11;
	}
};

TEST_F(SlabCache, CtorRunsOncePerObjectAtSlabCreation)
{
	CtorProbe::calls = 0;
	kmem_cache *s = make("ctored", 72, 0, 0, &CtorProbe::ctor);
	EXPECT_GE(s->offset, s->object_size) << "free pointer outside the object";
	EXPECT_EQ(CtorProbe::calls, 0u) << "no slab yet";
	std::vector<void *> objs;
	for (unsigned k = 0; k < 3u * s->objects; ++k) {
		void *x = slab.alloc(s, GFP_KERNEL);
		ASSERT_EQ(static_cast<unsigned char *>(x)[0], 0x11) << "constructed";
		ASSERT_EQ(static_cast<unsigned char *>(x)[71], 0xC7);
		objs.push_back(x);
	}
	kmem_cache_info i = info(s);
	EXPECT_EQ(CtorProbe::calls, i.slabs_allocated * s->objects);
	EXPECT_EQ(i.slabs_allocated, 3u);
	/* churn: no further ctor calls */
	for (int round = 0; round < 5; ++round) {
		for (void *x : objs)
			slab.free(s, x);
		for (void *&x : objs)
			x = slab.alloc(s, GFP_KERNEL);
	}
	EXPECT_EQ(CtorProbe::calls, info(s).slabs_allocated * s->objects);
	for (void *x : objs)
		slab.free(s, x);
	slab.destroy(s);
}

TEST_F(SlabCache, FreedObjectComesBackExactlyAsLeft)
{
	CtorProbe::calls = 0;
	kmem_cache *s = make("preserve", 72, 0, 0, &CtorProbe::ctor);
	/* on the fast path (CPU slab) and on the slow path (a full slab) */
	std::vector<void *> objs;
	for (unsigned k = 0; k < s->objects + 1u; ++k)
		objs.push_back(slab.alloc(s, GFP_KERNEL));
	for (void *x : {objs[0], objs.back()}) {
		unsigned char pattern[72];
		for (int b = 0; b < 72; ++b)
			pattern[b] = static_cast<unsigned char>(b * 7 + 3);
		std::memcpy(x, pattern, 72);
		slab.free(s, x);
		EXPECT_EQ(std::memcmp(x, pattern, 72), 0) << "free does not touch the object";
		/* the CPU slab's object comes back at once (LIFO); the full
		 * slab's once the CPU slab is used up */
		std::vector<void *> others;
		void *again = nullptr;
		while (again != x && others.size() <= 2u * s->objects) {
			again = slab.alloc(s, GFP_KERNEL);
			if (again != x)
				others.push_back(again);
		}
		ASSERT_EQ(again, x);
		EXPECT_EQ(std::memcmp(again, pattern, 72), 0);
		EXPECT_EQ(CtorProbe::calls, info(s).slabs_allocated * s->objects);
		for (void *o : others)
			slab.free(s, o);
	}
	for (void *x : objs)
		slab.free(s, x);
	slab.destroy(s);
}

TEST_F(SlabCache, ZeroFlagZeroesEvenACtorObject)
{
	kmem_cache *s = make("zeroed", 72, 0, 0, &CtorProbe::ctor);
	auto *x = static_cast<unsigned char *>(slab.alloc(s, GFP_KERNEL | __GFP_ZERO));
	for (int b = 0; b < 72; ++b)
		ASSERT_EQ(x[b], 0) << b;
	slab.free(s, x);
	slab.destroy(s);
}

TEST_F(SlabCache, AlignmentForEveryAlignFrom8To256)
{
	for (unsigned align = 8; align <= 256; align *= 2) {
		for (unsigned size : {1u, 8u, 24u, 100u, 300u}) {
			for (bool ctor : {false, true}) {
				kmem_cache *s = make("aligned", size, align, 0, ctor ? &CtorProbe::ctor : nullptr);
				if (ctor && size < 72) { /* CtorProbe writes 72 bytes */
					slab.destroy(s);
					continue;
				}
				std::vector<void *> objs;
				for (unsigned k = 0; k < 2u * s->objects + 1; ++k) {
					void *x = slab.alloc(s, GFP_KERNEL);
					ASSERT_EQ(reinterpret_cast<uintptr_t>(x) % align, 0u)
						<< "size " << size << " align " << align;
					std::memset(x, 0xAB, size);
					objs.push_back(x);
				}
				for (void *x : objs)
					slab.free(s, x);
				slab.destroy(s);
			}
		}
	}
}

TEST_F(SlabCache, FastAndSlowPathCounters)
{
	kmem_cache *s = make("counted", 64);
	void *a = slab.alloc(s, GFP_KERNEL); /* slow: new slab */
	void *b = slab.alloc(s, GFP_KERNEL); /* fast */
	slab.free(s, b);                     /* fast: CPU slab */
	slab.free(s, a);                     /* fast */
	kmem_cache_info i = info(s);
	EXPECT_EQ(i.alloc_slowpath, 1u);
	EXPECT_EQ(i.alloc_fastpath, 1u);
	EXPECT_EQ(i.free_fastpath, 2u);
	EXPECT_EQ(i.free_slowpath, 0u);
	/* a free into a full, non-CPU slab: inline onto the magazine (the
	 * page lookup is inline, as kfree's); slow without magazines */
	std::vector<void *> objs;
	for (unsigned k = 0; k < s->objects + 1u; ++k)
		objs.push_back(slab.alloc(s, GFP_KERNEL));
	slab.free(s, objs[0]);
	EXPECT_EQ(info(s).free_slowpath, kmm::kMagazineMax > 0 ? 0u : 1u);
	for (size_t k = 1; k < objs.size(); ++k)
		slab.free(s, objs[k]);
	slab.destroy(s);
}

TEST_F(SlabCache, BulkAllocAndFree)
{
	kmem_cache *s = make("bulk", 48);
	std::vector<void *> p(3 * s->objects + 5);
	ASSERT_EQ(slab.alloc_bulk(s, GFP_KERNEL, p.size(), p.data()), static_cast<int>(p.size()));
	std::set<void *> distinct(p.begin(), p.end());
	EXPECT_EQ(distinct.size(), p.size());
	EXPECT_EQ(info(s).active_objs, p.size());
	slab.free_bulk(s, p.size(), p.data());
	EXPECT_EQ(info(s).active_objs, 0u);
	/* NULL cache: kfree each */
	ASSERT_EQ(slab.alloc_bulk(s, GFP_KERNEL, 10, p.data()), 10);
	slab.free_bulk(nullptr, 10, p.data());
	EXPECT_EQ(info(s).active_objs, 0u);
	slab.destroy(s);
}

TEST_F(SlabCache, OutOfMemoryAndRecovery)
{
	kmem_cache *s = make("hog", static_cast<unsigned>(kPageSize));
	kmm_test::BuddySnapshot before = kmm_test::snapshot(pa);
	std::vector<void *> objs;
	for (;;) {
		void *x = slab.alloc(s, GFP_KERNEL | __GFP_NOWARN);
		if (x == nullptr)
			break;
		objs.push_back(x);
	}
	EXPECT_GT(objs.size(), 0u);
	EXPECT_EQ(problems(), 0u);
	/* bulk fails whole */
	void *p[4];
	EXPECT_EQ(slab.alloc_bulk(s, GFP_KERNEL | __GFP_NOWARN, 4, p), 0);
	EXPECT_EQ(info(s).active_objs, objs.size());
	for (void *x : objs)
		slab.free(s, x);
	slab.shrink(s);
	EXPECT_EQ(kmm_test::snapshot(pa), before);
	slab.destroy(s);
}

TEST_F(SlabCache, ConsistencyChecksCacheHasNoCpuSlabAndListsFullSlabs)
{
	kmem_cache *s = make("checked", 128, 0, SLAB_CONSISTENCY_CHECKS);
	std::vector<void *> objs;
	for (unsigned k = 0; k < 2u * s->objects + 1; ++k)
		objs.push_back(slab.alloc(s, GFP_KERNEL));
	kmem_cache_info i = info(s);
	EXPECT_EQ(i.cpu_slabs, 0u);
	EXPECT_EQ(i.full_slabs, 2u);
	EXPECT_EQ(s->full.count, 2u);
	EXPECT_EQ(i.partial_slabs, 1u);
	EXPECT_EQ(i.alloc_fastpath, 0u);
	for (void *x : objs)
		slab.free(s, x);
	EXPECT_EQ(info(s).free_fastpath, 0u);
	EXPECT_EQ(info(s).active_objs, 0u);
	slab.destroy(s);
}

} // namespace

/*
 * tests/host/test_slab_debug.cpp — the slab debug features (mm/slab_debug.*)
 * under deliberate corruption, Linux slub_kunit style: each test damages
 * memory in one way and asserts the exact number of problems found (and of
 * "BUG" lines), then that the allocator still works: alloc/free cycles,
 * validate_slab_cache() == 0 and validate() == 0 (the fixture's TearDown).
 * Plus the misuse cases (double free, interior pointer, foreign pointer,
 * wrong cache), tracking, tracing and the layout, on caches created with
 * debug flags. The slub_debug boot option is in test_slab_debug_boot.cpp
 * (built into the same binaries).
 */
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <vector>

#include "slub.h"
#include "support/poke.h"
#include "support/slab_fixture.h"

namespace {

using kmm_test::poke;

class SlabDebug : public kmm_test::SlabCacheTest {
protected:
	/* The reports of one step: cleared first, counted after. */
	unsigned long check(kmem_cache *s)
	{
		t.cap.clear();
		return slab.validate_slab_cache(s);
	}
	size_t bugs() const { return t.cap.bug_lines(); }
	bool said(const std::string &needle) const { return t.cap.count_containing(needle) != 0; }

	/* Four live objects of the red-zoned cache s, then v[1] and v[2]
	 * freed (the freelist: v[2] -> v[1] -> the rest) and v[2]'s free
	 * pointer overwritten with an address outside the slab. */
	void corrupt_a_free_pointer(kmem_cache *s, uint8_t *(&v)[4])
	{
		for (uint8_t *&p : v)
			p = static_cast<uint8_t *>(slab.alloc(s, GFP_KERNEL));
		slab.free(s, v[1]);
		slab.free(s, v[2]);
		uintptr_t bogus = 0x1234;
		kmm_test::poke_bytes(v[2] - s->red_left + s->offset, &bogus, sizeof bogus);
	}

	/* A loop in a slab freelist of the debug cache s met by allocations,
	 * before any validate_slab_cache: v[2] -> v[1] -> v[2] ..., v[0]
	 * (freed first) left off the list. Every free pointer is sound (in
	 * the slab, on a boundary, not itself), so checking each one as it is
	 * followed never saw the loop: v[2] was handed out twice (F, U, T:
	 * its free pointer lies in the object, and a zeroed object's NULL
	 * ended the list with the count right), or, on a red-zoned cache,
	 * reported as a clobbered red zone and leaked under its owner, whose
	 * free was then refused. The allocation finds the loop, reports it
	 * once and closes it where it closes; v[0], lost to the loop, stays
	 * counted (leaked); no object has two owners, and nothing else is
	 * reported or refused. */
	void loop_met_by_allocation(kmem_cache *s)
	{
		std::vector<void *> v = alloc_n(s, s->objects); /* one full slab */
		ASSERT_GE(v.size(), 4u);
		slab.free(s, v[0]);
		slab.free(s, v[1]);
		slab.free(s, v[2]); /* the freelist: v[2] -> v[1] -> v[0] */
		auto slot = [&](void *x) { return static_cast<uint8_t *>(x) - s->red_left; };
		kmm::set_freepointer(s, slot(v[1]), slot(v[2]));
		std::set<void *> live(v.begin() + 3, v.end());
		t.cap.clear();
		for (int k = 0; k < 3; ++k) { /* the slab's count of free objects */
			void *p = slab.alloc(s, GFP_KERNEL | __GFP_ZERO);
			ASSERT_NE(p, nullptr);
			EXPECT_TRUE(live.insert(p).second) << "handed out twice while live: " << p;
		}
		EXPECT_EQ(bugs(), 1u);
		EXPECT_TRUE(said("BUG " + std::string(s->name) + ": Freepointer corrupt"));
		EXPECT_TRUE(said("a loop"));
		EXPECT_TRUE(said("freelist loop cut there"));
		EXPECT_TRUE(said("Object count fixed")) << "v[0] counted in use";
		if ((s->flags & SLAB_RED_ZONE) != 0) {
			EXPECT_TRUE(said("1 free objects off the freelist are held as leaked objects"));
		}
		EXPECT_EQ(live.count(v[0]), 0u) << "v[0] was off the list";
		EXPECT_EQ(info(s).active_objs, live.size() + 1u) << "the live objects and the lost v[0]";
		EXPECT_EQ(quiet_validate(), 0u);
		EXPECT_EQ(check(s), 0u) << "nothing left for validate_slab_cache to repair";
		for (void *p : live)
			slab.free(s, p);
		EXPECT_EQ(bugs(), 0u) << "no free refused";
		EXPECT_EQ(info(s).active_objs, 1u) << "v[0] stays leaked";
		EXPECT_EQ(check(s), 0u);
		EXPECT_EQ(quiet_validate(), 0u);
		still_works(s);
	}
};

/* ---- slub_kunit equivalents ---- */

TEST_F(SlabDebug, ClobberRightRedzoneOfALiveObject)
{
	kmem_cache *s = make("TestSlub_RZ_alloc", 64, 0, SLAB_RED_ZONE);
	auto *p = static_cast<uint8_t *>(slab.alloc(s, GFP_KERNEL));
	poke(p + 64, 0x12);
	EXPECT_EQ(check(s), 1u);
	EXPECT_EQ(bugs(), 1u);
	EXPECT_TRUE(said("BUG TestSlub_RZ_alloc: Right Redzone overwritten"));
	EXPECT_TRUE(said("First byte 0x12 instead of 0xcc"));
	EXPECT_TRUE(said("FIX TestSlub_RZ_alloc: Restoring Right Redzone"));
	EXPECT_EQ(check(s), 0u) << "the fix restored the red zone";
	slab.free(s, p);
	EXPECT_EQ(bugs(), 0u);
	still_works(s);
	slab.destroy(s);
	EXPECT_EQ(bugs(), 0u);
}

TEST_F(SlabDebug, ClobberedRedzoneFoundOnFreeLeaksTheObject)
{
	kmem_cache *s = make("rz-free-check", 64, 0, SLAB_RED_ZONE);
	auto *p = static_cast<uint8_t *>(slab.alloc(s, GFP_KERNEL));
	poke(p - 1, 0x34); /* the left red zone */
	t.cap.clear();
	slab.free(s, p);
	EXPECT_EQ(bugs(), 1u);
	EXPECT_TRUE(said("Left Redzone overwritten"));
	EXPECT_TRUE(said("leaked (damaged while allocated, not freed)"));
	EXPECT_EQ(info(s).active_objs, 1u) << "not freed";
	still_works(s);
	slab.destroy(s);
	EXPECT_EQ(bugs(), 1u) << "the leaked object is reported on destroy";
}

TEST_F(SlabDebug, CorruptFreePointerOfAFreeObject)
{
	kmem_cache *s = make("TestSlub_next_ptr_free", 64, 0, SLAB_POISON);
	auto *p = static_cast<uint8_t *>(slab.alloc(s, GFP_KERNEL));
	slab.free(s, p);
	uint8_t *fp = p + s->offset; /* outside the object: a poisoned cache */
	ASSERT_GE(s->offset, 64u);
	uint8_t saved[sizeof(void *)];
	kmm_test::peek_bytes(fp, saved, sizeof saved);
	poke(fp, static_cast<uint8_t>(~saved[0]));
	EXPECT_EQ(check(s), 1u) << "the corrupt free pointer (its count fix is part of the fix-up)";
	EXPECT_TRUE(said("BUG TestSlub_next_ptr_free: Freepointer corrupt"));
	EXPECT_EQ(quiet_validate(), 0u) << "consistent after the cut";
	kmm_test::poke_bytes(fp, saved, sizeof saved); /* repair it behind kmm's back */
	EXPECT_EQ(check(s), 1u) << "now the object count is wrong";
	EXPECT_TRUE(said("Wrong object count"));
	EXPECT_EQ(check(s), 0u);
	still_works(s);
	slab.destroy(s);
}

/* On a red-zoned cache the objects a cut leaves off the freelist still
 * carry a free object's patterns; they are held as leaked allocated objects
 * from then on, so the next validation finds nothing (it used to report
 * three problems for each of them). */
TEST_F(SlabDebug, CorruptFreePointerOfARedZonedCacheIsRepairedOnce)
{
	kmem_cache *s = make("fp-z", 64, 0, SLAB_RED_ZONE);
	uint8_t *v[4];
	corrupt_a_free_pointer(s, v);
	EXPECT_EQ(check(s), 1u);
	EXPECT_TRUE(said("held as leaked objects"));
	EXPECT_EQ(check(s), 0u) << "repaired once, quiet after";
	EXPECT_EQ(quiet_validate(), 0u);
	slab.free(s, v[0]);
	slab.free(s, v[3]);
	EXPECT_EQ(check(s), 0u);
	EXPECT_EQ(bugs(), 0u);
	still_works(s);
}

/* The same cut when an allocation meets the corrupt pointer: the slab is
 * isolated as full and its free objects held as leaked ones. */
TEST_F(SlabDebug, CorruptFreePointerFoundOnAllocationIsRepairedOnce)
{
	kmem_cache *s = make("fp-z-alloc", 64, 0, SLAB_RED_ZONE);
	uint8_t *v[3];
	for (uint8_t *&p : v)
		p = static_cast<uint8_t *>(slab.alloc(s, GFP_KERNEL));
	slab.free(s, v[1]); /* the freelist head */
	uintptr_t bogus = 0x1234;
	kmm_test::poke_bytes(v[1] - s->red_left + s->offset, &bogus, sizeof bogus);
	t.cap.clear();
	void *q = slab.alloc(s, GFP_KERNEL);
	EXPECT_NE(q, nullptr);
	EXPECT_TRUE(said("slab isolated as full"));
	EXPECT_EQ(check(s), 0u) << "no report for the objects the isolation leaked";
	slab.free(s, q);
	slab.free(s, v[0]);
	slab.free(s, v[2]);
	EXPECT_EQ(check(s), 0u);
	still_works(s);
}

/* A corrupt free pointer deeper in the freelist is reported by the
 * allocation that takes its object (as docs/DEBUGGING.md says), not by
 * the first allocation from the slab: the head goes out as usual. */
TEST_F(SlabDebug, CorruptFreePointerDeeperInTheListIsFoundWhenItsObjectIsTaken)
{
	kmem_cache *s = make("fp-deep", 64, 0, SLAB_CONSISTENCY_CHECKS);
	std::vector<void *> v = alloc_n(s, 4);
	slab.free(s, v[1]);
	slab.free(s, v[2]); /* the freelist: v[2] -> v[1] -> the rest */
	uintptr_t bogus = 0x1234;
	kmm_test::poke_bytes(static_cast<uint8_t *>(v[1]) - s->red_left + s->offset, &bogus, sizeof bogus);
	t.cap.clear();
	void *a = slab.alloc(s, GFP_KERNEL);
	EXPECT_EQ(a, v[2]);
	EXPECT_EQ(bugs(), 0u);
	void *b = slab.alloc(s, GFP_KERNEL);
	ASSERT_NE(b, nullptr);
	EXPECT_EQ(bugs(), 1u);
	EXPECT_TRUE(said("Free object " + kmm_test::hex(reinterpret_cast<uintptr_t>(v[1])) + " holds free pointer"));
	EXPECT_TRUE(said("slab isolated as full"));
	for (void *p : {a, b, v[0], v[3]})
		slab.free(s, p);
	EXPECT_EQ(check(s), 0u);
	still_works(s);
}

/* A corrupt free pointer and, in the same slab, a live object written
 * past its end: one validation finds both (the slab's slots used to go
 * unchecked after the cut, so a second call found the overflow). */
TEST_F(SlabDebug, CorruptFreePointerDoesNotHideOtherDamageInItsSlab)
{
	kmem_cache *s = make("fp-and-rz", 64, 0, SLAB_RED_ZONE);
	uint8_t *v[4];
	corrupt_a_free_pointer(s, v);
	poke(v[0] + 64, 0x01); /* and a live object written past its end */
	EXPECT_EQ(check(s), 2u);
	EXPECT_TRUE(said("Freepointer corrupt"));
	EXPECT_TRUE(said("Right Redzone overwritten"));
	EXPECT_EQ(check(s), 0u) << "a second call right after finds nothing";
	slab.free(s, v[0]);
	slab.free(s, v[3]);
	EXPECT_EQ(bugs(), 0u);
	EXPECT_EQ(check(s), 0u);
	still_works(s);
}

/* "Freepointer corrupt" names objects by the address their users had
 * (slot + red_left), as every other report does; on a red-zoned cache it
 * used to print slot addresses, red_left bytes before them. A corrupt
 * value is printed as it is. */
TEST_F(SlabDebug, FreepointerReportsNameObjectsAsTheirUsersKnewThem)
{
	kmem_cache *s = make("fp-names", 64, 0, SLAB_RED_ZONE);
	ASSERT_GT(s->red_left, 0u);
	uint8_t *v[4];
	corrupt_a_free_pointer(s, v); /* v[2] -> 0x1234 (hardened: what that decodes to) */
	const void *stored = kmm::get_freepointer(s, v[2] - s->red_left);
	EXPECT_EQ(check(s), 1u);
	EXPECT_TRUE(said("Free object " + kmm_test::hex(reinterpret_cast<uintptr_t>(v[2])) + " holds free pointer " +
			 kmm_test::hex(reinterpret_cast<uintptr_t>(stored)) + ": not an object of its slab"))
		<< t.cap.lines[1];
	slab.free(s, v[0]);
	slab.free(s, v[3]);
	/* the freelist v[3] -> v[0] -> v[2], turned into a loop v[3] -> v[0] -> v[3] */
	kmm::set_freepointer(s, v[0] - s->red_left, v[3] - s->red_left);
	EXPECT_EQ(check(s), 1u);
	EXPECT_TRUE(said("Free object " + kmm_test::hex(reinterpret_cast<uintptr_t>(v[0])) + " holds free pointer " +
			 kmm_test::hex(reinterpret_cast<uintptr_t>(v[3])) + ": an object earlier on the same freelist (a loop)"))
		<< t.cap.lines[1];
	EXPECT_EQ(check(s), 0u);
}

/* A free pointer turned back to an object earlier on its slab's freelist
 * (a loop): each pointer is sound, so the walk used to count the loop's
 * entries again and again, and set inuse to 0 under the slab's live
 * objects (the slab then looked empty and could go back to the buddy).
 * The loop is closed where it closes; both free objects stay free. */
TEST_F(SlabDebug, LoopInASlabFreelistIsCutWithoutLosingTheCount)
{
	kmem_cache *s = make("fp-loop", 64, 0, SLAB_POISON);
	std::vector<void *> v = alloc_n(s, s->objects); /* one full slab */
	ASSERT_GE(v.size(), 6u);
	slab.free(s, v[3]);
	slab.free(s, v[5]); /* the freelist: v[5] -> v[3] */
	kmm::set_freepointer(s, static_cast<uint8_t *>(v[3]) - s->red_left, static_cast<uint8_t *>(v[5]) - s->red_left);
	EXPECT_EQ(check(s), 1u);
	EXPECT_EQ(bugs(), 1u);
	EXPECT_TRUE(said("a loop"));
	EXPECT_FALSE(said("Object count fixed"));
	EXPECT_EQ(info(s).active_objs, s->objects - 2u) << "the live objects still count";
	EXPECT_EQ(quiet_validate(), 0u);
	EXPECT_EQ(check(s), 0u);
	std::set<void *> got{slab.alloc(s, GFP_KERNEL), slab.alloc(s, GFP_KERNEL)};
	EXPECT_EQ(got, (std::set<void *>{v[3], v[5]}));
	void *third = slab.alloc(s, GFP_KERNEL);
	EXPECT_EQ(got.count(third), 0u) << "handed out twice";
	slab.free(s, third);
	for (void *p : v)
		slab.free(s, p);
	EXPECT_EQ(bugs(), 0u);
	still_works(s);
	slab.destroy(s);
}

/* The same loop in a CPU freelist (a cache without debugging): it used to
 * go unreported, and the fast path then handed one object out twice. */
TEST_F(SlabDebug, LoopInACpuFreelistIsCut)
{
	kmem_cache *s = make_unbuffered("cpu-loop", 64);
	std::vector<void *> v = alloc_n(s, 2); /* one slab */
	slab.free(s, v[0]);
	slab.free(s, v[1]); /* the CPU freelist: v[1] -> v[0] -> the rest */
	ASSERT_EQ(s->cpu[0].freelist, v[1]);
	kmm::set_freepointer(s, v[0], v[1]);
	EXPECT_EQ(check(s), 1u);
	EXPECT_TRUE(said("CPU freelist loop cut there"));
	EXPECT_EQ(check(s), 0u);
	EXPECT_EQ(quiet_validate(), 0u);
	std::set<void *> got{slab.alloc(s, GFP_KERNEL), slab.alloc(s, GFP_KERNEL), slab.alloc(s, GFP_KERNEL)};
	EXPECT_EQ(got.size(), 3u) << "handed out twice";
	for (void *p : got)
		slab.free(s, p);
	EXPECT_EQ(quiet_validate(), 0u);
	slab.destroy(s);
}

TEST_F(SlabDebug, LoopMetByAllocationOnAChecksOnlyCache)
{
	loop_met_by_allocation(make("loop-alloc-f", 64, 0, SLAB_CONSISTENCY_CHECKS));
}

TEST_F(SlabDebug, LoopMetByAllocationOnATrackedCache)
{
	loop_met_by_allocation(make("loop-alloc-u", 64, 0, SLAB_STORE_USER));
}

TEST_F(SlabDebug, LoopMetByAllocationOnATracedCache)
{
	loop_met_by_allocation(make("loop-alloc-t", 64, 0, SLAB_TRACE));
}

TEST_F(SlabDebug, LoopMetByAllocationOnARedZonedPoisonedCache)
{
	loop_met_by_allocation(make("loop-alloc-fzp", 64, 0, SLAB_CONSISTENCY_CHECKS | SLAB_RED_ZONE | SLAB_POISON));
}

/* A loop through every free object of the slab, met by allocations: no
 * object was handed out twice, but the slab went full with the loop still
 * its freelist, so later frees of its objects were refused as double
 * frees (and the objects leaked). Closed at the first allocation, nothing
 * lost. */
TEST_F(SlabDebug, LoopOfEveryFreeObjectMetByAllocationLosesNothing)
{
	kmem_cache *s = make("loop-alloc-all", 64, 0, SLAB_CONSISTENCY_CHECKS);
	std::vector<void *> v = alloc_n(s, s->objects); /* one full slab */
	ASSERT_GE(v.size(), 3u);
	slab.free(s, v[0]);
	slab.free(s, v[1]); /* the freelist: v[1] -> v[0] */
	kmm::set_freepointer(s, v[0], v[1]);
	t.cap.clear();
	std::set<void *> got{slab.alloc(s, GFP_KERNEL), slab.alloc(s, GFP_KERNEL)};
	EXPECT_EQ(got, (std::set<void *>{v[0], v[1]}));
	EXPECT_EQ(bugs(), 1u);
	EXPECT_TRUE(said("freelist loop cut there"));
	EXPECT_FALSE(said("Object count fixed"));
	void *third = slab.alloc(s, GFP_KERNEL);
	EXPECT_EQ(std::count(v.begin(), v.end(), third), 0) << "handed out twice";
	EXPECT_EQ(quiet_validate(), 0u);
	t.cap.clear();
	slab.free(s, third);
	for (void *p : v)
		slab.free(s, p);
	EXPECT_EQ(bugs(), 0u) << "no free refused";
	EXPECT_EQ(info(s).active_objs, 0u);
	still_works(s);
	slab.destroy(s);
	EXPECT_EQ(bugs(), 0u) << "nothing leaked";
}

TEST_F(SlabDebug, WriteTheFirstWordAfterFree)
{
	kmem_cache *s = make("TestSlub_1th_word_free", 64, 0, SLAB_POISON);
	auto *p = static_cast<uint8_t *>(slab.alloc(s, GFP_KERNEL));
	slab.free(s, p);
	poke(p, 0x78);
	EXPECT_EQ(check(s), 1u);
	EXPECT_TRUE(said("BUG TestSlub_1th_word_free: Poison overwritten"));
	EXPECT_TRUE(said("First byte 0x78 instead of 0x6b"));
	EXPECT_EQ(check(s), 0u);
	still_works(s);
	slab.destroy(s);
}

TEST_F(SlabDebug, WriteThe50thByteAfterFree)
{
	kmem_cache *s = make("TestSlub_50th_word_free", 64, 0, SLAB_POISON);
	auto *p = static_cast<uint8_t *>(slab.alloc(s, GFP_KERNEL));
	slab.free(s, p);
	poke(p + 50, 0x9a);
	EXPECT_EQ(check(s), 1u);
	EXPECT_TRUE(said("@offset=50. First byte 0x9a instead of 0x6b"));
	EXPECT_EQ(check(s), 0u);
	still_works(s);
	slab.destroy(s);
}

TEST_F(SlabDebug, WriteTheRedzoneAfterFree)
{
	kmem_cache *s = make("TestSlub_RZ_free", 64, 0, SLAB_RED_ZONE);
	auto *p = static_cast<uint8_t *>(slab.alloc(s, GFP_KERNEL));
	slab.free(s, p);
	poke(p + 64, 0xab);
	EXPECT_EQ(check(s), 1u);
	EXPECT_TRUE(said("Right Redzone overwritten"));
	EXPECT_TRUE(said("First byte 0xab instead of 0xbb"));
	EXPECT_EQ(check(s), 0u);
	still_works(s);
	slab.destroy(s);
}

/* A write after free (or into a free object's red zone) in a slab that
 * is then given back whole — kept empty for min_partial, then shrunk or
 * destroyed — used to go back to the page allocator unreported: only an
 * allocation or validate_slab_cache looked. Each free object of a debug
 * slab is checked as the slab goes (Linux's free_slab): one report per
 * damaged object, and the pages go back all the same. */
TEST_F(SlabDebug, WriteAfterFreeInASlabGivenBackIsReported)
{
	for (int destroy = 0; destroy < 2; ++destroy) {
		kmem_cache *s = make(destroy != 0 ? "uaf-destroy" : "uaf-shrink", 64, 0, SLAB_POISON | SLAB_RED_ZONE);
		const size_t free_before = free_pages();
		auto *p = static_cast<uint8_t *>(slab.alloc(s, GFP_KERNEL));
		auto *q = static_cast<uint8_t *>(slab.alloc(s, GFP_KERNEL));
		slab.free(s, p);
		slab.free(s, q); /* the slab is empty, kept (min_partial) */
		ASSERT_EQ(info(s).num_slabs, 1u);
		poke(p + 10, 0x01); /* write after free */
		poke(q + 64, 0x02); /* into a free object's right red zone */
		t.cap.clear();
		if (destroy != 0) {
			slab.destroy(s);
		} else {
			EXPECT_EQ(slab.shrink(s), 0);
			EXPECT_EQ(info(s).num_slabs, 0u);
		}
		EXPECT_EQ(bugs(), 2u) << (destroy != 0 ? "destroy" : "shrink");
		EXPECT_TRUE(said("Poison overwritten"));
		EXPECT_TRUE(said("First byte 0x1 instead of 0x6b"));
		EXPECT_TRUE(said("Right Redzone overwritten"));
		EXPECT_TRUE(said("First byte 0x2 instead of 0xbb"));
		EXPECT_FALSE(said("Objects remaining"));
		EXPECT_EQ(free_pages(), free_before) << "the slab went back all the same";
		if (destroy == 0) {
			still_works(s);
			t.cap.clear();
			slab.destroy(s);
			EXPECT_EQ(bugs(), 0u) << "intact free objects: no report";
		}
	}
}

/* With SLAB_TRACE too: no TRACE line says the damaged object was
 * allocated; the object handed out instead gets one. */
TEST_F(SlabDebug, WriteAfterFreeFoundOnAllocationLeaksTheObject)
{
	kmem_cache *s = make("uaf-on-alloc", 64, 0, SLAB_POISON | SLAB_STORE_USER | SLAB_TRACE);
	auto *p = static_cast<uint8_t *>(slab.alloc(s, GFP_KERNEL));
	slab.free(s, p);
	poke(p + 10, 0x01);
	t.cap.clear();
	void *q = slab.alloc(s, GFP_KERNEL);
	EXPECT_NE(q, p) << "the damaged object is not handed out";
	EXPECT_EQ(bugs(), 1u);
	EXPECT_TRUE(said("Poison overwritten"));
	EXPECT_TRUE(said("Freed by 0x")) << "the tracking record of its last free";
	EXPECT_TRUE(said("never handed out"));
	EXPECT_EQ(t.cap.count_containing("TRACE uaf-on-alloc alloc"), 1u);
	EXPECT_EQ(t.cap.count_containing("TRACE uaf-on-alloc alloc " + kmm_test::hex(reinterpret_cast<uintptr_t>(p))), 0u);
	EXPECT_EQ(info(s).active_objs, 2u) << "q and the leaked p";
	slab.free(s, q);
	still_works(s);
}

/* The same write after free found by validate_slab_cache rather than by
 * an allocation: the object used to be restored and left on the
 * freelist, so the next allocation handed it to a new owner while the
 * stale pointer that wrote it was still around — a periodic validate made
 * the bug silent where the allocation would have leaked the object. It
 * is leaked as the allocation leaks it (taken off the freelist, counted
 * in use, a stale free refused), and its slab moves to the list its new
 * count asks for. */
TEST_F(SlabDebug, WriteAfterFreeFoundByValidateLeaksTheObject)
{
	kmem_cache *s = make("uaf-on-validate", 64, 0, SLAB_POISON | SLAB_RED_ZONE | SLAB_STORE_USER);
	std::vector<void *> v = alloc_n(s, 3);
	slab.free(s, v[0]);
	slab.free(s, v[2]);
	slab.free(s, v[1]); /* the freelist head: v[1] -> v[2] -> v[0] -> ... */
	auto *p = static_cast<uint8_t *>(v[2]);
	poke(p + 10, 0x01); /* write after free, in the middle of the list */
	auto *h = static_cast<uint8_t *>(v[1]);
	poke(h - 1, 0x02); /* and into the head's left red zone */
	EXPECT_EQ(check(s), 2u);
	EXPECT_TRUE(said("Poison overwritten"));
	EXPECT_TRUE(said("Left Redzone overwritten"));
	EXPECT_EQ(t.cap.count_containing("damaged while free, never handed out"), 2u);
	EXPECT_EQ(info(s).active_objs, 2u) << "v[1] and v[2] leaked";
	EXPECT_EQ(check(s), 0u);
	EXPECT_EQ(quiet_validate(), 0u);
	std::set<void *> got;
	for (unsigned k = 0; k + 2 < s->objects; ++k) {
		void *q = slab.alloc(s, GFP_KERNEL);
		ASSERT_NE(q, nullptr);
		EXPECT_NE(q, v[1]) << "a damaged object handed out again";
		EXPECT_NE(q, v[2]) << "a damaged object handed out again";
		got.insert(q);
	}
	EXPECT_EQ(bugs(), 0u);
	EXPECT_EQ(info(s).active_objs, s->objects) << "the slab is full: the others and the two leaked";
	t.cap.clear();
	slab.free(s, p); /* the stale pointer */
	EXPECT_EQ(bugs(), 1u);
	EXPECT_TRUE(said("leaked after an earlier report: refused"));
	for (void *q : got)
		slab.free(s, q);
	EXPECT_EQ(check(s), 0u);
	still_works(s);
}

/* With one object in the slab, a damaged free one leaves it empty no
 * more: the slab moves from the empty list to partial (not full). */
TEST_F(SlabDebug, WriteAfterFreeFoundByValidateInAnEmptySlab)
{
	kmem_cache *s = make("uaf-empty-slab", 64, 0, SLAB_POISON);
	auto *p = static_cast<uint8_t *>(slab.alloc(s, GFP_KERNEL));
	slab.free(s, p); /* the slab is empty, kept (min_partial) */
	poke(p + 3, 0x07);
	EXPECT_EQ(check(s), 1u);
	EXPECT_EQ(info(s).active_objs, 1u);
	EXPECT_EQ(quiet_validate(), 0u);
	t.cap.clear();
	EXPECT_EQ(slab.shrink(s), 1) << "the leaked object keeps its slab";
	EXPECT_EQ(info(s).num_slabs, 1u);
	EXPECT_EQ(bugs(), 0u);
	void *q = slab.alloc(s, GFP_KERNEL);
	EXPECT_NE(q, p);
	slab.free(s, q);
	EXPECT_EQ(check(s), 0u);
}

/* An object leaked after a report stays leaked: a stale pointer freed
 * again (the use after free that damaged it, then a double free) used to
 * be accepted without a word, and the damaged object was handed out
 * again; so was a second kfree of an object whose overflow made the
 * first one refused. */
TEST_F(SlabDebug, ALeakedDamagedObjectIsNotFreedLater)
{
	kmem_cache *s = make("leaked-stays", 64, 0, SLAB_POISON | SLAB_RED_ZONE);
	auto *p = static_cast<uint8_t *>(slab.alloc(s, GFP_KERNEL));
	slab.free(s, p);
	poke(p + 10, 0x01); /* write after free */
	void *q = slab.alloc(s, GFP_KERNEL);
	ASSERT_NE(q, p);
	t.cap.clear();
	slab.free(s, p); /* the stale pointer */
	EXPECT_EQ(bugs(), 1u);
	EXPECT_TRUE(said("leaked after an earlier report: refused"));
	EXPECT_EQ(info(s).active_objs, 2u) << "q and the leaked p";
	void *r = slab.alloc(s, GFP_KERNEL);
	EXPECT_NE(r, p) << "the damaged object handed out again";
	auto *o = static_cast<uint8_t *>(r);
	poke(o + 64, 0x02); /* overflow: its free is refused */
	t.cap.clear();
	slab.free(s, o);
	EXPECT_EQ(bugs(), 1u);
	EXPECT_TRUE(said("damaged while allocated, not freed"));
	slab.free(s, o);
	EXPECT_EQ(bugs(), 2u) << "the second free is refused too";
	EXPECT_EQ(info(s).active_objs, 3u);
	t.cap.clear();
	slab.free(s, q);
	EXPECT_EQ(bugs(), 0u);
	EXPECT_EQ(check(s), 0u);
	still_works(s);
}

TEST_F(SlabDebug, LeakThenDestroyShowsTheAllocator)
{
	kmem_cache *s = make("TestSlub_leak_destroy", 64, 0, SLAB_STORE_USER);
	void *p = slab.alloc(s, GFP_KERNEL);
	t.cap.clear();
	slab.destroy(s);
	EXPECT_EQ(bugs(), 1u);
	EXPECT_TRUE(said("Objects remaining in TestSlub_leak_destroy on destroy"));
	EXPECT_TRUE(said("Object " + kmm_test::hex(reinterpret_cast<uintptr_t>(p))));
	EXPECT_TRUE(said("Allocated by 0x")) << "the leak report shows who allocated it";
	slab.free(s, p);
	t.cap.clear();
	slab.destroy(s);
	EXPECT_EQ(bugs(), 0u);
}

TEST_F(SlabDebug, TrackingRecordsInReports)
{
	kmem_cache *s = make("tracked", 48, 0, SLAB_RED_ZONE | SLAB_STORE_USER);
	auto *p = static_cast<uint8_t *>(slab.alloc(s, GFP_KERNEL));
	poke(p + 48, 0);
	EXPECT_EQ(check(s), 1u);
	EXPECT_TRUE(said("Allocated by 0x"));
	EXPECT_TRUE(said("Freed: never"));
	slab.free(s, p);
	poke(p - 2, 0);
	EXPECT_EQ(check(s), 1u);
	EXPECT_TRUE(said("Left Redzone overwritten"));
	EXPECT_TRUE(said("Freed by 0x"));
	still_works(s);
	slab.destroy(s);
}

TEST_F(SlabDebug, TraceLinesForEveryAllocAndFree)
{
	kmem_cache *s = make("traced", 32, 0, SLAB_TRACE);
	t.cap.clear();
	void *p = slab.alloc(s, GFP_KERNEL);
	slab.free(s, p);
	EXPECT_EQ(t.cap.count_containing("TRACE traced alloc"), 1u);
	EXPECT_EQ(t.cap.count_containing("TRACE traced free"), 1u);
	EXPECT_EQ(bugs(), 0u);
	slab.destroy(s);
}

/* Bulk calls record the caller the C API passes (its return address),
 * not the bulk loop inside kmm. */
TEST_F(SlabDebug, BulkCallsTraceTheCallerTheyAreGiven)
{
	kmem_cache *s = make("traced-bulk", 32, 0, SLAB_TRACE | SLAB_STORE_USER);
	const void *caller = reinterpret_cast<const void *>(uintptr_t{0x5a5a50});
	void *p[3];
	t.cap.clear();
	ASSERT_EQ(slab.alloc_bulk(s, GFP_KERNEL, 3, p, caller), 3);
	EXPECT_EQ(t.cap.count_containing("TRACE traced-bulk alloc"), 3u);
	EXPECT_EQ(t.cap.count_containing("caller=0x5a5a50"), 3u);
	t.cap.clear();
	slab.free_bulk(s, 3, p, caller);
	EXPECT_EQ(t.cap.count_containing("TRACE traced-bulk free"), 3u);
	EXPECT_EQ(t.cap.count_containing("caller=0x5a5a50"), 3u);
	EXPECT_EQ(bugs(), 0u);
	EXPECT_EQ(check(s), 0u);
	slab.destroy(s);
}

/* ---- misuse on debug caches ---- */

TEST_F(SlabDebug, DoubleFree)
{
	kmem_cache *s = make("df", 64, 0, SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER);
	void *a = slab.alloc(s, GFP_KERNEL);
	void *b = slab.alloc(s, GFP_KERNEL);
	slab.free(s, a);
	slab.free(s, b);
	t.cap.clear();
	slab.free(s, a); /* deeper in the freelist than b */
	EXPECT_EQ(bugs(), 1u);
	EXPECT_TRUE(said("double free of object " + kmm_test::hex(reinterpret_cast<uintptr_t>(a))));
	EXPECT_EQ(check(s), 0u) << "the refused free changed nothing";
	still_works(s);
	slab.destroy(s);
}

TEST_F(SlabDebug, FreeOfAnInteriorPointer)
{
	kmem_cache *s = make("interior", 64, 0, SLAB_RED_ZONE | SLAB_POISON);
	auto *p = static_cast<uint8_t *>(slab.alloc(s, GFP_KERNEL));
	t.cap.clear();
	slab.free(s, p + 8);
	EXPECT_EQ(bugs(), 1u);
	EXPECT_TRUE(said("into the middle of object " + kmm_test::hex(reinterpret_cast<uintptr_t>(p))));
	EXPECT_EQ(info(s).active_objs, 1u);
	slab.free(s, p);
	still_works(s);
	slab.destroy(s);
}

/* A pointer into the first object's left red zone: before every object,
 * not "past the last" (the offset used to wrap). */
TEST_F(SlabDebug, FreeOfAPointerBeforeTheFirstObject)
{
	kmem_cache *s = make("before-first", 64, 0, SLAB_RED_ZONE);
	ASSERT_GE(s->red_left, 4u);
	std::vector<uint8_t *> held;
	uint8_t *first = nullptr;
	uintptr_t slab_bytes = uintptr_t{kmm::kPageSize} << s->order;
	for (unsigned i = 0; i < s->objects && first == nullptr; ++i) {
		held.push_back(static_cast<uint8_t *>(slab.alloc(s, GFP_KERNEL)));
		if ((reinterpret_cast<uintptr_t>(held.back()) & (slab_bytes - 1)) == s->red_left)
			first = held.back();
	}
	ASSERT_NE(first, nullptr);
	t.cap.clear();
	slab.free(s, first - 4);
	EXPECT_EQ(bugs(), 1u);
	EXPECT_TRUE(said("before the first object " + kmm_test::hex(reinterpret_cast<uintptr_t>(first))));
	EXPECT_FALSE(said("past the last object"));
	EXPECT_EQ(info(s).active_objs, held.size());
	for (uint8_t *p : held)
		slab.free(s, p);
	still_works(s);
	slab.destroy(s);
}

/* A pointer into the left red zone of any other object: that object's,
 * a few bytes before it; it used to be reported as a pointer into the
 * middle of the object before (at an offset past that one's end). */
TEST_F(SlabDebug, FreeOfAPointerIntoALeftRedZoneNamesItsObject)
{
	kmem_cache *s = make("before-object", 64, 0, SLAB_RED_ZONE);
	ASSERT_GE(s->red_left, 4u);
	uintptr_t slab_bytes = uintptr_t{kmm::kPageSize} << s->order;
	std::vector<uint8_t *> held = {static_cast<uint8_t *>(slab.alloc(s, GFP_KERNEL))};
	held.push_back(static_cast<uint8_t *>(slab.alloc(s, GFP_KERNEL)));
	uint8_t *victim = held.back();
	ASSERT_NE(reinterpret_cast<uintptr_t>(victim) & (slab_bytes - 1), s->red_left) << "not the slab's first";
	uint8_t *before = victim - s->size; /* the slot before it */
	t.cap.clear();
	slab.free(s, victim - 4);
	EXPECT_EQ(bugs(), 1u);
	EXPECT_TRUE(said("left red zone of object " + kmm_test::hex(reinterpret_cast<uintptr_t>(victim)))) << t.cap.last();
	EXPECT_TRUE(said("4 bytes before it"));
	EXPECT_FALSE(said("object " + kmm_test::hex(reinterpret_cast<uintptr_t>(before))));
	t.cap.clear();
	EXPECT_EQ(slab.ksize(victim - 1), 0u);
	EXPECT_TRUE(said("ksize of pointer"));
	EXPECT_TRUE(said("1 bytes before it"));
	/* less than red_left into the slab's tail: past the last slot */
	uintptr_t tail = (reinterpret_cast<uintptr_t>(victim) & ~(slab_bytes - 1)) + uintptr_t{s->objects} * s->size;
	if (tail + 4 < (reinterpret_cast<uintptr_t>(victim) & ~(slab_bytes - 1)) + slab_bytes) {
		t.cap.clear();
		slab.free(s, reinterpret_cast<void *>(tail + 4));
		EXPECT_EQ(bugs(), 1u);
		EXPECT_TRUE(said("past the last object")) << t.cap.last();
	}
	EXPECT_EQ(info(s).active_objs, held.size());
	for (uint8_t *p : held)
		slab.free(s, p);
	still_works(s);
	slab.destroy(s);
}

/* A zero byte reads 0x0, as in Linux's reports (C's %#x would print 0). */
TEST_F(SlabDebug, AZeroByteInARedZoneIsPrintedInHex)
{
	kmem_cache *s = make("zero-byte", 64, 0, SLAB_RED_ZONE);
	auto *p = static_cast<uint8_t *>(slab.alloc(s, GFP_KERNEL));
	poke(p + 64, 0);
	EXPECT_EQ(check(s), 1u);
	EXPECT_TRUE(said("First byte 0x0 instead of 0xcc"));
	EXPECT_TRUE(said("=0xcc"));
	slab.free(s, p);
	still_works(s);
	slab.destroy(s);
}

TEST_F(SlabDebug, FreeOfAPointerNeverAllocated)
{
	kmem_cache *s = make("never", 64, 0, SLAB_RED_ZONE | SLAB_POISON);
	auto *p = static_cast<uint8_t *>(slab.alloc(s, GFP_KERNEL));
	int local = 0;
	t.cap.clear();
	slab.free(s, &local);
	EXPECT_EQ(bugs(), 1u);
	EXPECT_TRUE(said("never handed out"));
	/* A neighbour in the same slab, never allocated: the next object, or
	 * the previous one when p is the slab's last (freelists may be
	 * randomised, so p can be anywhere in its slab). */
	uintptr_t slab_bytes = uintptr_t{kmm::kPageSize} << s->order;
	uintptr_t index = (reinterpret_cast<uintptr_t>(p) & (slab_bytes - 1)) / s->size;
	uint8_t *neighbour = index + 1 < s->objects ? p + s->size : p - s->size;
	t.cap.clear();
	slab.free(s, neighbour);
	EXPECT_EQ(bugs(), 1u);
	EXPECT_TRUE(said("it is already free"));
	slab.free(s, p);
	still_works(s);
	slab.destroy(s);
}

TEST_F(SlabDebug, FreeToTheWrongCache)
{
	kmem_cache *a = make("cache-a", 64, 0, SLAB_RED_ZONE);
	kmem_cache *b = make("cache-b", 64, 0, SLAB_RED_ZONE);
	void *p = slab.alloc(a, GFP_KERNEL);
	t.cap.clear();
	slab.free(b, p);
	EXPECT_EQ(bugs(), 1u);
	EXPECT_TRUE(said("to the wrong cache: it belongs to cache-a"));
	EXPECT_EQ(info(a).active_objs, 1u);
	slab.free(a, p);
	still_works(a);
	still_works(b);
	slab.destroy(a);
	slab.destroy(b);
}

/* ---- layout ---- */

TEST_F(SlabDebug, LayoutKeepsAlignmentAndSeparatesMetadata)
{
	kmem_cache *s = make("layout", 64, 64, SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER);
	EXPECT_EQ(s->red_left, 64u) << "a word, rounded up to the alignment";
	EXPECT_EQ(s->inuse, 64u + 64u + kmm::kSlabUnit);
	EXPECT_EQ(s->offset, s->inuse) << "the free pointer after the right red zone";
	EXPECT_GT(s->track_offset, s->offset);
	EXPECT_GT(s->orig_offset, s->track_offset);
	EXPECT_EQ(s->size % 64, 0u);
	for (int k = 0; k < 10; ++k) {
		void *p = slab.alloc(s, GFP_KERNEL);
		EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 64, 0u);
		EXPECT_EQ(slab.ksize(p), 64u) << "ksize of a kmem_cache object is its size";
		slab.free(s, p);
	}
}

TEST_F(SlabDebug, CtorCacheGetsRedZonesButNoPoison)
{
	static int calls;
	calls = 0;
	kmem_cache *s = make("ctor-debug", 40, 0, SLAB_RED_ZONE | SLAB_POISON,
			     [](void *p) {
				     ++calls;
				     std::memset(p, 0x11, 40);
			     });
	EXPECT_EQ(s->flags & SLAB_POISON, 0u);
	auto *p = static_cast<uint8_t *>(slab.alloc(s, GFP_KERNEL));
	EXPECT_EQ(p[0], 0x11) << "the ctor ran on the user's object";
	EXPECT_EQ(p[39], 0x11);
	poke(p + 40, 0);
	EXPECT_EQ(check(s), 1u);
	slab.free(s, p);
	EXPECT_GT(calls, 0);
	still_works(s);
	slab.destroy(s);
}

/* P is the only debug flag asked for and a ctor cache drops it: the cache
 * still gets F (asked-for debugging implies it), so the double free of a
 * magazine-less, checked cache is refused, not handed out twice later. */
TEST_F(SlabDebug, CtorCacheWithPoisonAloneIsStillChecked)
{
	kmem_cache *s = make("ctor-poison", 24, 0, SLAB_POISON, [](void *p) { std::memset(p, 0x22, 24); });
	EXPECT_EQ(s->flags & SLAB_POISON, 0u);
	EXPECT_NE(s->flags & SLAB_CONSISTENCY_CHECKS, 0u);
	EXPECT_EQ(s->mag_capacity, 0u);
	void *v[4];
	for (void *&p : v)
		p = slab.alloc(s, GFP_KERNEL);
	slab.free(s, v[1]);
	slab.free(s, v[2]);
	t.cap.clear();
	slab.free(s, v[1]);
	EXPECT_EQ(bugs(), 1u);
	EXPECT_TRUE(said("double free of object " + kmm_test::hex(reinterpret_cast<uintptr_t>(v[1]))));
	std::set<void *> handed;
	for (int i = 0; i < 3; ++i)
		EXPECT_TRUE(handed.insert(slab.alloc(s, GFP_KERNEL)).second) << "an object handed out twice";
	for (void *p : handed)
		slab.free(s, p);
	slab.free(s, v[0]);
	slab.free(s, v[3]);
	EXPECT_EQ(check(s), 0u);
	slab.destroy(s);
}

} // namespace

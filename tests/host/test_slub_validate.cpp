/*
 * tests/host/test_slub_validate.cpp — SlabAllocator::validate() under
 * corruption injection: each injected fault is found and counted exactly,
 * and the count is back to 0 once it is repaired. Slab-level faults run with
 * the cache's magazine off, so frees reach the slabs at once; magazine
 * faults are in test_slab_magazine.cpp. Built per page-size variant of mm.
 */
#include <gtest/gtest.h>

#include <vector>

#include "slub.h"
#include "support/slab_fixture.h"

namespace {

/* ------------------------------------------------------------------ */
/* SlabValidate: corruption is found and counted exactly               */

class SlabValidate : public kmm_test::SlabCacheTest {
protected:
	kmem_cache *make_unbuffered(const char *name, unsigned size)
	{
		kmem_cache *s = make(name, size);
		slab.set_magazine_size(s, 0);
		return s;
	}
};

TEST_F(SlabValidate, CleanAllocatorHasNoProblems)
{
	kmem_cache *s = make("clean", 32);
	std::vector<void *> v;
	for (unsigned k = 0; k < 3u * s->objects; ++k)
		v.push_back(slab.alloc(s, GFP_KERNEL));
	for (size_t k = 0; k < v.size(); k += 2)
		slab.free(s, v[k]);
	EXPECT_EQ(quiet_validate(), 0u);
	for (size_t k = 1; k < v.size(); k += 2)
		slab.free(s, v[k]);
	slab.destroy(s);
}

TEST_F(SlabValidate, WrongInuseOnAPartialSlab)
{
	kmem_cache *s = make_unbuffered("inuse", 64);
	std::vector<void *> v;
	for (unsigned k = 0; k < s->objects + 1u; ++k)
		v.push_back(slab.alloc(s, GFP_KERNEL));
	slab.free(s, v[0]);
	slab.free(s, v[1]); /* first slab: partial, inuse = objects - 2 */
	struct page *p = head_of(v[0]);
	ASSERT_EQ(s->partial.head, p);
	++p->inuse;
	EXPECT_EQ(quiet_validate(), 1u) << "page freelist length != objects - inuse";
	EXPECT_EQ(t.cap.count_containing("objects - inuse"), 1u);
	--p->inuse;
	EXPECT_EQ(quiet_validate(), 0u);
	for (size_t k = 2; k < v.size(); ++k)
		slab.free(s, v[k]);
	slab.destroy(s);
}

TEST_F(SlabValidate, CycleInTheCpuFreelist)
{
	kmem_cache *s = make_unbuffered("looped", 64);
	void *a = slab.alloc(s, GFP_KERNEL);
	void *b = slab.alloc(s, GFP_KERNEL);
	slab.free(s, a);
	slab.free(s, b); /* CPU freelist: b -> a -> rest */
	void *saved = kmm::get_freepointer(s, a);
	kmm::set_freepointer(s, a, b); /* b -> a -> b ... */
	EXPECT_EQ(quiet_validate(), 2u) << "a cycle, and so longer than the objects in use";
	EXPECT_EQ(t.cap.count_containing("(a cycle)"), 1u);
	kmm::set_freepointer(s, a, saved);
	EXPECT_EQ(quiet_validate(), 0u);
	slab.destroy(s);
}

TEST_F(SlabValidate, FreePointerOutsideTheSlab)
{
	kmem_cache *s = make_unbuffered("wild", 64);
	std::vector<void *> v;
	for (unsigned k = 0; k < s->objects + 1u; ++k)
		v.push_back(slab.alloc(s, GFP_KERNEL));
	slab.free(s, v[0]);
	slab.free(s, v[1]); /* page freelist of the full slab: v1 -> v0 -> NULL */
	static long elsewhere;
	kmm::set_freepointer(s, v[0], &elsewhere);
	EXPECT_EQ(quiet_validate(), 2u) << "a wild pointer, so the length is wrong too";
	EXPECT_EQ(t.cap.count_containing("free pointer not at an object"), 1u);
	kmm::set_freepointer(s, v[0], nullptr);
	EXPECT_EQ(quiet_validate(), 0u);
	for (size_t k = 2; k < v.size(); ++k)
		slab.free(s, v[k]);
	slab.destroy(s);
}

TEST_F(SlabValidate, CounterDrift)
{
	kmem_cache *s = make("drift", 64);
	void *x = slab.alloc(s, GFP_KERNEL);
	++s->nr_slabs;
	/* slab pages found != nr_slabs, and the list sum differs */
	EXPECT_EQ(quiet_validate(), 2u);
	--s->nr_slabs;
	++s->nr_full;
	/* full pages found != nr_full, and the list sum differs */
	EXPECT_EQ(quiet_validate(), 2u);
	--s->nr_full;
	EXPECT_EQ(quiet_validate(), 0u);
	slab.free(s, x);
	slab.destroy(s);
}

TEST_F(SlabValidate, SlabPageOfNoLiveCache)
{
	kmem_cache *s = make("orphan", 64);
	void *x = slab.alloc(s, GFP_KERNEL);
	struct page *p = head_of(x);
	uint16_t id = p->cache_id;
	p->cache_id = KMM_MAX_CACHES - 1;
	/* the orphan page, and the cache now misses a slab page (twice: its
	 * page count and its CPU slab page count) plus its CPU slab check */
	EXPECT_EQ(quiet_validate(), 4u);
	EXPECT_EQ(t.cap.count_containing("slab page of no live cache"), 1u);
	p->cache_id = id;
	EXPECT_EQ(quiet_validate(), 0u);
	slab.free(s, x);
	slab.destroy(s);
}

} // namespace

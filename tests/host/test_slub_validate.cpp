/*
 * tests/host/test_slub_validate.cpp — SlabAllocator::validate() under
 * corruption injection: each injected fault is found and counted exactly,
 * and the count is back to 0 once it is repaired. Slab-level faults run with
 * the cache's magazine off, so frees reach the slabs at once; magazine
 * faults are in test_slab_magazine.cpp. Built per page-size variant of mm.
 */
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "slub.h"
#include "support/slab_fixture.h"

namespace {

/* ------------------------------------------------------------------ */
/* SlabValidate: corruption is found and counted exactly               */

class SlabValidate : public kmm_test::SlabCacheTest {};

TEST_F(SlabValidate, CleanAllocatorHasNoProblems)
{
	kmem_cache *s = make("clean", 32);
	std::vector<void *> v = alloc_n(s, 3u * s->objects);
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
	std::vector<void *> v = alloc_n(s, s->objects + 1u);
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
	std::vector<void *> v = alloc_n(s, s->objects + 1u);
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

/* page::cache_id is the cache's on every page of a slab, tails too (kfree
 * reads whichever page the pointer is on), and 0 on every other page. */
TEST_F(SlabValidate, CacheIdOnEveryPageOfASlabAndNowhereElse)
{
	kmem_cache *s = make("two-page", static_cast<unsigned>(kmm::kPageSize / 2 + 64));
	ASSERT_GT(s->order, 0u) << "the 1/16 waste rule should give this stride a multi-page slab";
	std::vector<void *> v = alloc_n(s, s->objects);
	struct page *head = head_of(v[0]);
	for (size_t i = 0; i < (size_t{1} << s->order); ++i)
		EXPECT_EQ(head[i].cache_id, s->id) << "page " << i << " of the slab";
	EXPECT_EQ(quiet_validate(), 0u);

	/* An object that starts on a tail page is freed inline through that
	 * page's id: the fast-path count moves, the slow one does not. */
	void *tail_object = nullptr;
	for (void *x : v)
		if ((reinterpret_cast<uintptr_t>(x) & s->slab_mask) >= kmm::kPageSize)
			tail_object = x;
	ASSERT_NE(tail_object, nullptr);
	unsigned long fast = info(s).free_fastpath, slow = info(s).free_slowpath;
	slab.kfree(tail_object);
	EXPECT_EQ(info(s).free_fastpath, fast + 1);
	EXPECT_EQ(info(s).free_slowpath, slow);
	v.erase(std::find(v.begin(), v.end(), tail_object));

	/* A tail without the id, and an id on a page outside any slab. */
	head[1].cache_id = 0;
	EXPECT_EQ(quiet_validate(), 1u);
	EXPECT_EQ(t.cap.count_containing("slab tail page without its slab's cache id"), 1u);
	head[1].cache_id = s->id;
	struct page *pages = pa.alloc(GFP_KERNEL, 0);
	ASSERT_NE(pages, nullptr);
	pages->cache_id = s->id;
	t.cap.clear();
	EXPECT_EQ(quiet_validate(), 1u);
	EXPECT_EQ(t.cap.count_containing("cache id on a page that is no slab's"), 1u);
	pages->cache_id = 0;
	pa.free(pages, 0);
	EXPECT_EQ(quiet_validate(), 0u);

	/* A slab given back to the buddy allocator takes no id with it. */
	for (void *x : v)
		slab.free(s, x);
	slab.shrink(s);
	for (size_t i = 0; i < (size_t{1} << s->order); ++i)
		EXPECT_EQ(head[i].cache_id, 0u) << "page " << i << " of the freed slab";
	EXPECT_EQ(quiet_validate(), 0u);
	slab.destroy(s);
}

/* A slab page with cache id 0 is one being built or given back; with no
 * such transit under way validate() reports it (a lost id). */
TEST_F(SlabValidate, SlabPageWithoutCacheId)
{
	struct page *p = pa.alloc(GFP_KERNEL, 1, kmm::kSlab);
	ASSERT_NE(p, nullptr);
	EXPECT_EQ(quiet_validate(), 1u);
	EXPECT_EQ(t.cap.count_containing("slab page without a cache id"), 1u);
	ASSERT_TRUE(pa.free(p, 1, kmm::kSlab));
	t.cap.clear();
	EXPECT_EQ(quiet_validate(), 0u);
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

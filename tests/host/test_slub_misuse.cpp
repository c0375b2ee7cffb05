/*
 * tests/host/test_slub_misuse.cpp — the slab core's misuse contract
 * (mm/slub_free.cpp, mm/slab_common.cpp): a foreign pointer, a pointer into an
 * object or past the last one, the wrong cache, something not a cache, and
 * double frees at the magazine top, the CPU and page freelist heads and
 * into an empty slab are each refused with exactly one BUG line naming the
 * cache and the address, and the cache's state is unchanged. Suite
 * SlabMisuse; built with test_slub.cpp into each of its binaries (page-size,
 * evict1, nomag and hardened variants of mm).
 */
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "slub.h"
#include "support/slab_fixture.h"

using kmm_test::hex;

namespace {

class SlabMisuse : public kmm_test::SlabCacheTest {
protected:
	kmem_cache *s = nullptr;
	kmem_cache *other = nullptr;
	std::vector<void *> objs;

	void SetUp() override
	{
		SlabCacheTest::SetUp();
		s = make("victim", 64);
		other = make("other", 64);
		/* one full slab, one CPU slab with a few objects handed out */
		for (unsigned k = 0; k < s->objects + 4u; ++k)
			objs.push_back(slab.alloc(s, GFP_KERNEL));
	}
	struct State {
		kmem_cache_info i;
		void *cpu_freelist;
		std::vector<void *> mag;
		kmm_test::BuddySnapshot buddy;
	};
	State state()
	{
		return State{info(s), s->cpu[0].freelist, magazine(s), kmm_test::snapshot(pa)};
	}
	void expect_same(const State &a)
	{
		State b = state();
		EXPECT_EQ(a.i.active_objs, b.i.active_objs);
		EXPECT_EQ(a.i.num_slabs, b.i.num_slabs);
		EXPECT_EQ(a.i.partial_slabs, b.i.partial_slabs);
		EXPECT_EQ(a.i.full_slabs, b.i.full_slabs);
		EXPECT_EQ(a.i.magazine_objs, b.i.magazine_objs);
		EXPECT_EQ(a.cpu_freelist, b.cpu_freelist);
		EXPECT_EQ(a.mag, b.mag);
		EXPECT_EQ(a.buddy, b.buddy);
		EXPECT_EQ(problems(), 0u);
	}
	/* Runs a bad call: exactly one BUG line naming `who` and `addr`. */
	template <typename Fn> void expect_refused(Fn fn, const std::string &who, const void *addr,
						   const char *what)
	{
		State before = state();
		t.cap.clear();
		unsigned long bugs = t.rep.bugs();
		fn();
		EXPECT_EQ(t.rep.bugs(), bugs + 1) << what;
		ASSERT_EQ(t.cap.bug_lines(), 1u) << what;
		const std::string &line = t.cap.lines[0];
		EXPECT_EQ(line.rfind("BUG " + who + ": ", 0), 0u) << line;
		EXPECT_NE(line.find(hex(reinterpret_cast<uintptr_t>(addr))), std::string::npos) << line;
		EXPECT_NE(line.find(what), std::string::npos) << line;
		expect_same(before);
	}
};

TEST_F(SlabMisuse, ForeignPointer)
{
	static long outside[4];
	expect_refused([&] { slab.free(s, &outside[1]); }, "victim", &outside[1], "never handed out");
	expect_refused([&] { slab.kfree(&outside[1]); }, "kmalloc", &outside[1], "never handed out");
	/* managed memory that is not a slab: a page from the page allocator,
	 * live memory the report sends to the call that frees it */
	struct page *pg = pa.alloc(GFP_KERNEL, 0);
	void *addr = pa.page_address(pg);
	expect_refused([&] { slab.free(s, addr); }, "victim", addr,
		       "in a page from alloc_pages, not in a slab: free it with __free_pages or free_pages");
	expect_refused([&] { slab.kfree(static_cast<char *>(addr) + 8); }, "kmalloc", static_cast<char *>(addr) + 8,
		       "in a page from alloc_pages, not in a slab: free it with __free_pages or free_pages");
	pa.free(pg, 0);
	void *exact = pa.alloc_exact(3 * KMM_PAGE_SIZE, GFP_KERNEL);
	ASSERT_NE(exact, nullptr);
	expect_refused([&] { slab.kfree(exact); }, "kmalloc", exact,
		       "in a page from alloc_pages_exact, not in a slab: free it with free_pages_exact");
	pa.free_exact(exact, 3 * KMM_PAGE_SIZE);
}

TEST_F(SlabMisuse, PointerIntoTheMiddleOfAnObject)
{
	char *cpu_obj = static_cast<char *>(objs.back());
	char *full_obj = static_cast<char *>(objs[2]);
	expect_refused([&] { slab.free(s, cpu_obj + 8); }, "victim", cpu_obj + 8, "into the middle of object");
	expect_refused([&] { slab.free(s, full_obj + 1); }, "victim", full_obj + 1, "into the middle of object");
	expect_refused([&] { slab.kfree(full_obj + 63); }, "victim", full_obj + 63, "into the middle of object");
	EXPECT_NE(t.cap.lines[0].find(hex(reinterpret_cast<uintptr_t>(full_obj))), std::string::npos)
		<< "names the object too";
}

TEST_F(SlabMisuse, PointerPastTheLastObject)
{
	kmem_cache *odd = make("odd", 200);
	void *x = slab.alloc(odd, GFP_KERNEL);
	uintptr_t base = kmm::slab_base(pa, head_of(x));
	uintptr_t tail = base + uintptr_t{odd->objects} * odd->size;
	if (tail < base + odd->slab_bytes) {
		void *p = reinterpret_cast<void *>(tail);
		kmem_cache *saved = s;
		s = odd;
		expect_refused([&] { slab.free(odd, p); }, "odd", p, "past the last object");
		s = saved;
	}
	slab.free(odd, x);
	slab.destroy(odd);
}

TEST_F(SlabMisuse, FreeToTheWrongCache)
{
	expect_refused([&] { slab.free(other, objs[0]); }, "other", objs[0], "wrong cache");
	expect_refused([&] { slab.free(other, objs.back()); }, "other", objs.back(), "wrong cache");
	void *k = slab.kmalloc(64, GFP_KERNEL);
	expect_refused([&] { slab.free(s, k); }, "victim", k, "wrong cache");
	slab.kfree(k);
}

TEST_F(SlabMisuse, NotACache)
{
	kmem_cache fake{};
	State before = state();
	t.cap.clear();
	slab.free(&fake, objs[0]);
	slab.destroy(&fake);
	EXPECT_EQ(slab.shrink(&fake), -KMM_EINVAL);
	EXPECT_EQ(t.cap.bug_lines(), 3u);
	EXPECT_EQ(t.cap.count_containing("is not a live cache"), 3u);
	expect_same(before);
	/* a kmalloc cache and the boot cache cannot be destroyed */
	t.cap.clear();
	slab.destroy(slab.kmalloc_cache(64));
	slab.destroy(slab.boot_cache());
	EXPECT_EQ(t.cap.bug_lines(), 2u);
	EXPECT_TRUE(slab.is_live(slab.kmalloc_cache(64)));
}

#if KMM_SLAB_MAGAZINE > 0 /* the case needs magazines */
TEST_F(SlabMisuse, DoubleFreeAtTheMagazineTop)
{
	void *x = objs.back(); /* the CPU slab's */
	void *y = objs[1];     /* the full slab's: pushed by the out-of-line path */
	for (void *p : {x, y}) {
		slab.free(s, p);
		ASSERT_EQ(magazine(s).back(), p);
		expect_refused([&] { slab.free(s, p); }, "victim", p, "double free");
		expect_refused([&] { slab.kfree(p); }, "victim", p, "double free");
	}
	objs.pop_back();
	objs.erase(objs.begin() + 1);
}
#endif

TEST_F(SlabMisuse, DoubleFreeAtTheCpuFreelistHead)
{
	void *x = objs.back();
	slab.set_magazine_size(s, 0);
	slab.free(s, x); /* no magazine: now the CPU freelist head */
	ASSERT_EQ(s->cpu[0].freelist, x);
	expect_refused([&] { slab.free(s, x); }, "victim", x, "double free");
	expect_refused([&] { slab.kfree(x); }, "victim", x, "double free");
	/* with a magazine again: the inline push also refuses the CPU freelist head */
	slab.set_magazine_size(s, 8);
	expect_refused([&] { slab.free(s, x); }, "victim", x, "double free");
	expect_refused([&] { slab.kfree(x); }, "victim", x, "double free");
	objs.pop_back();
}

TEST_F(SlabMisuse, DoubleFreeAtThePageFreelistHead)
{
	void *x = objs[1]; /* in the full slab */
	slab.free(s, x);
	void *y = objs[2];
	slab.free(s, y);   /* x is no longer the magazine top */
	slab.shrink(s);    /* magazine flushed: y, then x on that slab's page freelist */
	ASSERT_EQ(kmm::freelist_decode(kmm::slab_start_of(s, x), head_of(x)->freelist), y);
	expect_refused([&] { slab.free(s, y); }, "victim", y, "double free");
	expect_refused([&] { slab.kfree(y); }, "victim", y, "double free");
	objs.erase(objs.begin() + 1, objs.begin() + 3);
}

TEST_F(SlabMisuse, DoubleFreeIntoAnEmptySlab)
{
	/* fill a second full slab, keep the CPU slab elsewhere, empty the first */
	std::vector<void *> first(objs.begin(), objs.begin() + s->objects);
	slab.set_min_partial(s, 10);
	for (void *x : first)
		slab.free(s, x);
	slab.set_magazine_size(s, 0); /* flushes the magazine: the slab empties */
	ASSERT_EQ(head_of(first[0])->inuse, 0u);
	ASSERT_EQ(info(s).empty_slabs, 1u);
	expect_refused([&] { slab.free(s, first[5 % first.size()]); }, "victim", first[5 % first.size()],
		       "double free");
	objs.erase(objs.begin(), objs.begin() + s->objects);
}

TEST_F(SlabMisuse, ConsistencyChecksCatchADoubleFreeAnywhere)
{
	kmem_cache *c = make("strict", 64, 0, SLAB_CONSISTENCY_CHECKS);
	std::vector<void *> v;
	for (int k = 0; k < 10; ++k)
		v.push_back(slab.alloc(c, GFP_KERNEL));
	slab.free(c, v[2]);
	slab.free(c, v[5]);
	slab.free(c, v[7]); /* v[2] is now deep in the page freelist */
	kmem_cache *saved = s;
	s = c;
	expect_refused([&] { slab.free(c, v[2]); }, "strict", v[2], "double free");
	s = saved;
	for (int k : {0, 1, 3, 4, 6, 8, 9})
		slab.free(c, v[k]);
	slab.destroy(c);
	EXPECT_FALSE(slab.is_live(c));
}

TEST_F(SlabMisuse, FreeingNullIsANoOp)
{
	State before = state();
	slab.free(s, nullptr);
	slab.kfree(nullptr);
	slab.kfree(ZERO_SIZE_PTR);
	EXPECT_EQ(t.rep.bugs(), 0u);
	expect_same(before);
}

} // namespace

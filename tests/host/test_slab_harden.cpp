/*
 * tests/host/test_slab_harden.cpp — freelist hardening and randomisation
 * (KMM_SLAB_FREELIST_HARDENED, KMM_SLAB_FREELIST_RANDOM; built against
 * kmm_mm_harden): stored free pointers are encoded, a corrupt one (to
 * itself, out of its slab, garbage) is caught on use and never followed,
 * and new slabs hand out their objects in a random order.
 */
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <vector>

#include "slub.h"
#include "support/poke.h"
#include "support/slab_fixture.h"

namespace {

static_assert(kmm::kFreelistHardened && kmm::kFreelistRandom, "build against kmm_mm_harden");

class SlabHarden : public kmm_test::SlabCacheTest {
protected:
	void *raw_word(void *object, const kmem_cache *s)
	{
		void *v;
		kmm_test::peek_bytes(static_cast<char *>(object) + s->offset, &v, sizeof v);
		return v;
	}
	void set_raw_word(void *object, const kmem_cache *s, uintptr_t v)
	{
		kmm_test::poke_bytes(static_cast<char *>(object) + s->offset, &v, sizeof v);
	}
};

TEST_F(SlabHarden, StoredFreePointersAreEncoded)
{
	kmem_cache *s = make_unbuffered("encoded", 64);
	EXPECT_NE(s->random, 0u);
	void *a = slab.alloc(s, GFP_KERNEL);
	void *b = slab.alloc(s, GFP_KERNEL);
	slab.free(s, a);
	slab.free(s, b); /* CPU freelist: b -> a */
	EXPECT_EQ(kmm::get_freepointer(s, b), a);
	EXPECT_NE(raw_word(b, s), a) << "not stored in the clear";
	kmem_cache *other = make_unbuffered("encoded-2", 64);
	EXPECT_NE(other->random, s->random) << "a secret per cache";
	slab.destroy(other);
	slab.destroy(s);
}

TEST_F(SlabHarden, PointerToItselfIsCaughtOnUse)
{
	kmem_cache *s = make_unbuffered("self", 64);
	void *a = slab.alloc(s, GFP_KERNEL);
	slab.free(s, a); /* a is the CPU freelist head */
	kmm::set_freepointer(s, a, a);
	t.cap.clear();
	void *x = slab.alloc(s, GFP_KERNEL);
	void *y = slab.alloc(s, GFP_KERNEL);
	EXPECT_EQ(t.cap.bug_lines(), 1u);
	EXPECT_EQ(t.cap.count_containing("BUG self: Freepointer corrupt"), 1u);
	EXPECT_EQ(t.cap.count_containing("itself"), 1u);
	EXPECT_NE(x, y);
	EXPECT_NE(y, a) << "never followed";
	slab.free(s, x);
	slab.free(s, y);
	still_works(s);
}

TEST_F(SlabHarden, PointerOutsideTheSlabIsCaughtOnUse)
{
	kmem_cache *s = make_unbuffered("outside", 64);
	void *a = slab.alloc(s, GFP_KERNEL);
	slab.free(s, a);
	set_raw_word(a, s, 0x4141414141414141ull); /* a use after free writes garbage */
	t.cap.clear();
	std::vector<void *> v;
	for (int k = 0; k < 5; ++k)
		v.push_back(slab.alloc(s, GFP_KERNEL));
	EXPECT_EQ(t.cap.bug_lines(), 1u);
	EXPECT_EQ(t.cap.count_containing("not an object of its slab"), 1u);
	for (void *p : v) {
		ASSERT_NE(p, nullptr);
		EXPECT_EQ(kmm::page_head(pa.virt_to_page(p))->cache_id, s->id);
	}
	for (void *p : v)
		slab.free(s, p);
	still_works(s);
}

TEST_F(SlabHarden, ValidateSlabCacheCutsACorruptChain)
{
	kmem_cache *s = make_unbuffered("chain", 64);
	std::vector<void *> v;
	for (unsigned k = 0; k < s->objects + 4u; ++k)
		v.push_back(slab.alloc(s, GFP_KERNEL));
	slab.free(s, v[0]);
	slab.free(s, v[1]); /* first slab: on the partial list, freelist v1 -> v0 */
	set_raw_word(v[1], s, 0x1234);
	t.cap.clear();
	EXPECT_EQ(slab.validate_slab_cache(s), 1u);
	EXPECT_EQ(t.cap.count_containing("Freepointer corrupt"), 1u);
	EXPECT_EQ(quiet_validate(), 0u);
	t.cap.clear();
	EXPECT_EQ(slab.validate_slab_cache(s), 0u);
	for (size_t k = 2; k < v.size(); ++k)
		slab.free(s, v[k]);
	still_works(s);
}

TEST_F(SlabHarden, NewSlabsHandOutObjectsInARandomOrder)
{
	kmem_cache *s = make_unbuffered("random", 64);
	unsigned shuffled = 0;
	for (int round = 0; round < 4; ++round) {
		std::vector<void *> v;
		for (unsigned k = 0; k < s->objects; ++k)
			v.push_back(slab.alloc(s, GFP_KERNEL));
		std::set<void *> distinct(v.begin(), v.end());
		EXPECT_EQ(distinct.size(), v.size()) << "a permutation";
		if (!std::is_sorted(v.begin(), v.end()))
			++shuffled;
		for (void *p : v)
			slab.free(s, p);
		slab.shrink(s);
	}
	EXPECT_GE(shuffled, 3u);
}

} // namespace

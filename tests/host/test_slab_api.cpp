/*
 * tests/host/test_slab_api.cpp — the public C API of the slab layer
 * (kmm/slab.h) over the global instance, as firmware uses it: lazy start
 * after kmm_init, kmem_cache_*, the kmalloc family incl. kzalloc/kcalloc/
 * kmalloc_array overflow, figures, /proc/slabinfo text, misuse through the
 * report hook, and kmm_shutdown forgetting everything.
 * Each test boots the global allocator on its own arena and shuts it down.
 */
#include <gtest/gtest.h>

#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include <kmm/kmm.h>

#include "slub.h"
#include "support/arena.h"

using kmm_test::hex;

namespace {

constexpr size_t kArenaBytes = size_t{8} << 20;

class SlabApi : public ::testing::Test {
protected:
	kmm_test::Arena arena{kArenaBytes, size_t{PAGE_SIZE} << KMM_MAX_ORDER};
	kmm_test::ReportCapture cap;

	void SetUp() override
	{
		kmm_set_report_hook(&kmm_test::ReportCapture::hook, &cap);
		kmm_set_bug_policy(KMM_BUG_REFUSE);
		ASSERT_EQ(kmm_add_region(arena.base(), arena.size(), KMM_ZONE_NORMAL), 0);
		ASSERT_EQ(kmm_init(), 0);
	}
	void TearDown() override
	{
		EXPECT_EQ(kmm_slab_validate(), 0u);
		EXPECT_EQ(kmm_validate(), 0u);
		kmm_shutdown();
		kmm_set_report_hook(nullptr, nullptr);
	}
	static kmem_cache_info info(kmem_cache *s)
	{
		kmem_cache_info i{};
		EXPECT_EQ(kmem_cache_get_info(s, &i), 0);
		return i;
	}
	static std::string slabinfo()
	{
		kmm_test::TextSink sink;
		kmm_slabinfo(&kmm_test::TextSink::sink, &sink);
		return sink.text;
	}
};

TEST_F(SlabApi, StartsLazilyAndCreatesTheKmallocCaches)
{
	size_t free0 = kmm_free_pages();
	void *p = kmalloc(32, GFP_KERNEL);
	ASSERT_NE(p, nullptr);
	EXPECT_LT(kmm_free_pages(), free0);
	EXPECT_EQ(ksize(p), 32u);
	kfree(p);
	EXPECT_EQ(kmalloc_max_cache_size(), PAGE_SIZE >= 4096 ? 8192u : 2 * PAGE_SIZE);
	EXPECT_EQ(kmm_bug_count(), 0u);
}

TEST_F(SlabApi, CacheLifecycle)
{
	struct kmem_cache *s = kmem_cache_create("api-objs", 48, 16, SLAB_HWCACHE_ALIGN, nullptr);
	ASSERT_NE(s, nullptr);
	EXPECT_STREQ(kmem_cache_name(s), "api-objs");
	EXPECT_EQ(kmem_cache_size(s), 48u);
	std::vector<void *> v;
	for (int k = 0; k < 500; ++k) {
		void *x = kmem_cache_alloc(s, GFP_KERNEL);
		ASSERT_NE(x, nullptr);
		ASSERT_EQ(reinterpret_cast<uintptr_t>(x) % 64, 0u) << "HWCACHE_ALIGN: 48 bytes take a 64-byte line";
		std::memset(x, k, 48);
		v.push_back(x);
	}
	kmem_cache_info i = info(s);
	EXPECT_EQ(i.active_objs, 500u);
	EXPECT_EQ(i.object_size, 48u);
	EXPECT_EQ(i.size, 64u);
	EXPECT_GE(i.num_objs, 500u);
	for (void *x : v)
		kmem_cache_free(s, x);
	EXPECT_EQ(info(s).active_objs, 0u);
	EXPECT_EQ(kmem_cache_shrink(s), 0);
	EXPECT_EQ(info(s).num_slabs, 0u);
	kmem_cache_destroy(s);
	EXPECT_EQ(kmem_cache_name(s), nullptr) << "no longer a live cache";
	kmem_cache_destroy(nullptr);
	EXPECT_EQ(kmm_bug_count(), 0u);
}

TEST_F(SlabApi, BulkCalls)
{
	struct kmem_cache *s = kmem_cache_create("api-bulk", 100, 0, 0, nullptr);
	void *p[64];
	ASSERT_EQ(kmem_cache_alloc_bulk(s, GFP_KERNEL, 64, p), 64);
	EXPECT_EQ(info(s).active_objs, 64u);
	kmem_cache_free_bulk(s, 64, p);
	EXPECT_EQ(info(s).active_objs, 0u);
	kmem_cache_destroy(s);
}

TEST_F(SlabApi, KzallocKcallocAndOverflow)
{
	auto *z = static_cast<unsigned char *>(kzalloc(300, GFP_KERNEL));
	for (int b = 0; b < 300; ++b)
		ASSERT_EQ(z[b], 0);
	std::memset(z, 0xff, 300);
	kfree(z);
	auto *c = static_cast<uint32_t *>(kcalloc(75, sizeof(uint32_t), GFP_KERNEL));
	for (int k = 0; k < 75; ++k)
		ASSERT_EQ(c[k], 0u);
	kfree(c);
	EXPECT_EQ(kcalloc(SIZE_MAX / 2 + 1, 2, GFP_KERNEL), nullptr);
	EXPECT_EQ(kmalloc_array(SIZE_MAX, SIZE_MAX, GFP_KERNEL), nullptr);
	EXPECT_EQ(kmalloc_array(size_t{1} << (sizeof(size_t) * 4), size_t{1} << (sizeof(size_t) * 4), GFP_KERNEL),
		  nullptr);
	void *a = kmalloc_array(10, 12, GFP_KERNEL);
	ASSERT_NE(a, nullptr);
	EXPECT_EQ(ksize(a), 128u);
	kfree(a);
	EXPECT_EQ(kmalloc_array(0, 12, GFP_KERNEL), ZERO_SIZE_PTR);
	EXPECT_EQ(kmm_bug_count(), 0u);
}

TEST_F(SlabApi, KmallocZeroAndKfreeNull)
{
	EXPECT_EQ(kmalloc(0, GFP_KERNEL), ZERO_SIZE_PTR);
	EXPECT_TRUE(ZERO_OR_NULL_PTR(kmalloc(0, GFP_KERNEL)));
	kfree(ZERO_SIZE_PTR);
	kfree(nullptr);
	EXPECT_EQ(ksize(ZERO_SIZE_PTR), 0u);
	EXPECT_EQ(kmm_bug_count(), 0u);
}

TEST_F(SlabApi, Krealloc)
{
	auto *p = static_cast<char *>(krealloc(nullptr, 20, GFP_KERNEL));
	std::strcpy(p, "hello, krealloc");
	p = static_cast<char *>(krealloc(p, 2000, GFP_KERNEL));
	EXPECT_STREQ(p, "hello, krealloc");
	EXPECT_EQ(krealloc(p, 0, GFP_KERNEL), ZERO_SIZE_PTR);
	EXPECT_EQ(kmm_bug_count(), 0u);
}

TEST_F(SlabApi, MisuseThroughTheReportHook)
{
	struct kmem_cache *s = kmem_cache_create("api-misuse", 64, 0, 0, nullptr);
	auto *x = static_cast<char *>(kmem_cache_alloc(s, GFP_KERNEL));
	cap.clear();
	kmem_cache_free(s, x + 4);
	kfree(x + 4);
	int local;
	kfree(&local);
	kmem_cache_free(s, x);
	kmem_cache_free(s, x);
	EXPECT_EQ(kmm_bug_count(), 4u);
	ASSERT_EQ(cap.bug_lines(), 4u);
	EXPECT_EQ(cap.lines[0].rfind("BUG api-misuse: free of pointer " + hex(reinterpret_cast<uintptr_t>(x + 4)) +
					     " into the middle of object " + hex(reinterpret_cast<uintptr_t>(x)),
				     0),
		  0u)
		<< cap.lines[0];
	EXPECT_EQ(cap.lines[2].rfind("BUG kmalloc: kfree of pointer " + hex(reinterpret_cast<uintptr_t>(&local)) +
					     " that kmm never handed out",
				     0),
		  0u)
		<< cap.lines[2];
	EXPECT_EQ(cap.lines[3], "BUG api-misuse: double free of object " + hex(reinterpret_cast<uintptr_t>(x)) +
					": it is already free");
	EXPECT_EQ(info(s).active_objs, 0u);
	EXPECT_EQ(kmm_slab_validate(), 0u);
	kmem_cache_destroy(s);
}

TEST_F(SlabApi, DestroyWithLeaksKeepsTheCacheInSlabinfo)
{
	struct kmem_cache *s = kmem_cache_create("api-leak", 200, 0, 0, nullptr);
	void *x = kmem_cache_alloc(s, GFP_KERNEL);
	cap.clear();
	kmem_cache_destroy(s);
	ASSERT_GE(cap.lines.size(), 2u);
	EXPECT_EQ(cap.lines[0], "BUG api-leak: Objects remaining in api-leak on destroy");
	EXPECT_EQ(cap.count_containing("Object " + hex(reinterpret_cast<uintptr_t>(x)) + " @offset="), 1u);
	EXPECT_NE(slabinfo().find("\napi-leak "), std::string::npos);
	kmem_cache_free(s, x);
	kmem_cache_destroy(s);
	EXPECT_EQ(slabinfo().find("\napi-leak "), std::string::npos);
}

TEST_F(SlabApi, SlabinfoFormat)
{
	struct kmem_cache *s = kmem_cache_create("api-info", 120, 0, 0, nullptr);
	std::vector<void *> v;
	for (int k = 0; k < 40; ++k)
		v.push_back(kmem_cache_alloc(s, GFP_KERNEL));
	std::string text = slabinfo();
	std::istringstream in(text);
	std::string line;
	ASSERT_TRUE(std::getline(in, line));
	EXPECT_EQ(line, "slabinfo - version: 2.1");
	ASSERT_TRUE(std::getline(in, line));
	EXPECT_EQ(line, "# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : tunables "
			"<limit> <batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs> <sharedavail>");
	bool seen = false, seen_kmalloc8 = false, seen_boot = false;
	int lines = 0;
	while (std::getline(in, line)) {
		++lines;
		std::istringstream f(line);
		std::string name, colon1, tunables, colon2, slabdata;
		unsigned long active, num, objsize, perslab, pages, limit, batch, shared, aslabs, nslabs, avail;
		f >> name >> active >> num >> objsize >> perslab >> pages >> colon1 >> tunables >> limit >> batch >>
			shared >> colon2 >> slabdata >> aslabs >> nslabs >> avail;
		ASSERT_FALSE(f.fail()) << line;
		EXPECT_EQ(colon1, ":");
		EXPECT_EQ(tunables, "tunables");
		EXPECT_EQ(slabdata, "slabdata");
		EXPECT_LE(active, num) << line;
		EXPECT_LE(aslabs, nslabs) << line;
		seen_kmalloc8 |= name == "kmalloc-8";
		seen_boot |= name == "kmem_cache";
		if (name == "api-info") {
			seen = true;
			kmem_cache_info i = info(s);
			EXPECT_EQ(active, 40u);
			EXPECT_EQ(num, i.num_objs);
			EXPECT_EQ(objsize, 120u);
			EXPECT_EQ(perslab, i.objects_per_slab);
			EXPECT_EQ(pages, i.pages_per_slab);
			EXPECT_EQ(nslabs, i.num_slabs);
			EXPECT_EQ(aslabs, i.active_slabs);
			EXPECT_EQ(limit, i.magazine_size);
			EXPECT_EQ(batch, i.magazine_size == 0 ? 0u : kmm::kMagazineEvict == 0 ? 1u : kmm::kMagazineEvict)
				<< "objects a free at the magazine's bound moves to the slabs";
		}
	}
	EXPECT_TRUE(seen);
	EXPECT_TRUE(seen_kmalloc8);
	EXPECT_TRUE(seen_boot);
	EXPECT_GE(lines, 3);
	for (void *x : v)
		kmem_cache_free(s, x);
	kmem_cache_destroy(s);
}

TEST_F(SlabApi, ShutdownForgetsEverything)
{
	struct kmem_cache *s = kmem_cache_create("api-gone", 64, 0, 0, nullptr);
	ASSERT_NE(kmem_cache_alloc(s, GFP_KERNEL), nullptr);
	ASSERT_NE(kmalloc(100, GFP_KERNEL), nullptr);
	kmm_shutdown();
	EXPECT_EQ(kmalloc(100, GFP_KERNEL | __GFP_NOWARN), nullptr) << "no memory until kmm_init";
	EXPECT_EQ(kmm_slab_validate(), 0u);
	ASSERT_EQ(kmm_add_region(arena.base(), arena.size(), KMM_ZONE_NORMAL), 0);
	ASSERT_EQ(kmm_init(), 0);
	EXPECT_EQ(slabinfo().find("api-gone"), std::string::npos);
	void *p = kmalloc(100, GFP_KERNEL);
	EXPECT_NE(p, nullptr);
	kfree(p);
}

TEST_F(SlabApi, ShrinkAllAndValidate)
{
	size_t free0 = kmm_free_pages();
	std::vector<void *> v;
	for (size_t size = 8; size <= 4096; size += 24)
		v.push_back(kmalloc(size, GFP_KERNEL));
	EXPECT_EQ(kmm_slab_validate(), 0u);
	for (void *p : v)
		kfree(p);
	size_t before = kmm_free_pages();
	kmm_slab_shrink_all();
	EXPECT_GT(kmm_free_pages(), before);
	EXPECT_LE(kmm_free_pages(), free0);
}

} // namespace

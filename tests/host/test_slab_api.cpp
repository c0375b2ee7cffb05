/*
 * tests/host/test_slab_api.cpp — the public C API of the slab layer
 * (kmm/slab.h) over the global instance, as firmware uses it: lazy start
 * after kmm_init, kmem_cache_*, the kmalloc family incl. kzalloc/kcalloc/
 * kmalloc_array overflow, the Linux aliases (*_node, kstrdup_const/
 * kfree_const, the flags kmm accepts and drops), figures, /proc/slabinfo
 * text, misuse through the report hook, and kmm_shutdown forgetting
 * everything.
 * Each test boots the global allocator on its own arena and shuts it down.
 */
#include <gtest/gtest.h>

#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include <kmm/kmm.h>

#include "global.h"
#include "slub.h"
#include "support/arena.h"
#include "support/global_kmm.h"

using kmm_test::hex;

namespace {

constexpr size_t kArenaBytes = size_t{8} << 20;

class SlabApi : public kmm_test::GlobalKmm {
protected:
	SlabApi() : GlobalKmm(kArenaBytes) {}

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

/* kfree_bulk frees kmalloc blocks of any class, large ones too, and
 * skips NULL entries: after a shrink every page is back. */
TEST_F(SlabApi, KfreeBulkFreesBlocksOfEveryKind)
{
	kfree(kmalloc(8, GFP_KERNEL)); /* the slab layer up: its caches' descriptors stay */
	kmm_slab_shrink_all();
	kmm_drain_pages();
	const size_t free0 = kmm_free_pages();
	void *p[] = {kmalloc(24, GFP_KERNEL), nullptr, kmalloc(200, GFP_KERNEL), kmalloc(3000, GFP_KERNEL),
		     kmalloc(5 * KMM_PAGE_SIZE, GFP_KERNEL), kzalloc(8, GFP_KERNEL)};
	for (size_t i = 0; i < sizeof p / sizeof p[0]; ++i) {
		if (i != 1) {
			ASSERT_NE(p[i], nullptr) << i;
		}
	}
	EXPECT_LT(kmm_free_pages(), free0);
	kfree_bulk(sizeof p / sizeof p[0], p);
	EXPECT_EQ(kmm_bug_count(), 0u);
	EXPECT_EQ(kmm_slab_validate(), 0u);
	kmm_slab_shrink_all();
	kmm_drain_pages();
	EXPECT_EQ(kmm_free_pages(), free0);
}

/* A bulk call with objects to move and no array (p NULL, nr > 0) is
 * refused with one report before p[0] is touched: nothing allocated,
 * nothing freed, the cache as before. With nr == 0 it is a quiet no-op. */
TEST_F(SlabApi, BulkCallsWithANullArrayAreRefused)
{
	struct kmem_cache *s = kmem_cache_create("api-bulk-null", 100, 0, 0, nullptr);
	ASSERT_NE(s, nullptr);
	void *held = kmem_cache_alloc(s, GFP_KERNEL);
	ASSERT_NE(held, nullptr);
	const kmem_cache_info before = info(s);
	cap.clear();
	EXPECT_EQ(kmem_cache_alloc_bulk(s, GFP_KERNEL, 0, nullptr), 0);
	kmem_cache_free_bulk(s, 0, nullptr);
	kmem_cache_free_bulk(nullptr, 0, nullptr);
	EXPECT_EQ(kmm_bug_count(), 0u);
	EXPECT_EQ(kmem_cache_alloc_bulk(s, GFP_KERNEL, 3, nullptr), 0);
	EXPECT_EQ(cap.count_containing("kmem_cache_alloc_bulk of 3 objects with a NULL array: refused"), 1u);
	kmem_cache_free_bulk(s, 2, nullptr);
	EXPECT_EQ(cap.count_containing("kmem_cache_free_bulk of 2 objects with a NULL array: refused"), 1u);
	kmem_cache_free_bulk(nullptr, 2, nullptr); /* the kfree form */
	EXPECT_EQ(cap.count_containing("kmem_cache_free_bulk of 2 objects with a NULL array: refused"), 2u);
	EXPECT_EQ(kmm_bug_count(), 3u);
	const kmem_cache_info after = info(s);
	EXPECT_EQ(after.active_objs, before.active_objs);
	EXPECT_EQ(after.num_slabs, before.num_slabs);
	kmem_cache_free(s, held);
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

/* The *_node forms (kmm/slab.h): the node is ignored, everything else
 * (size, gfp, overflow, the cache) passed through. */
TEST_F(SlabApi, NodeAliasesIgnoreTheNode)
{
	void *a = kmalloc_node(100, GFP_KERNEL, 0);
	ASSERT_NE(a, nullptr);
	EXPECT_EQ(ksize(a), 128u);
	kfree(a);
	/* gfp reaches kmalloc: no DMA zone here, so GFP_DMA fails */
	EXPECT_EQ(kmalloc_node(64, GFP_DMA | __GFP_NOWARN, 0), nullptr);

	/* __GFP_ZERO reaches kmalloc: dirty objects of the class first */
	std::vector<unsigned char *> dirty;
	for (int k = 0; k < 8; ++k) {
		auto *d = static_cast<unsigned char *>(kmalloc(192, GFP_KERNEL));
		ASSERT_NE(d, nullptr);
		std::memset(d, 0xa5, 192);
		dirty.push_back(d);
	}
	for (unsigned char *d : dirty)
		kfree(d);
	auto *z = static_cast<unsigned char *>(kzalloc_node(192, GFP_KERNEL, 3));
	ASSERT_NE(z, nullptr);
	for (int b = 0; b < 192; ++b)
		ASSERT_EQ(z[b], 0) << "byte " << b;
	std::memset(z, 0xa5, 192);
	kfree(z);
	auto *c = static_cast<uint32_t *>(kcalloc_node(48, sizeof(uint32_t), GFP_KERNEL, 1));
	ASSERT_NE(c, nullptr);
	for (int k = 0; k < 48; ++k)
		ASSERT_EQ(c[k], 0u);
	kfree(c);

	EXPECT_EQ(kcalloc_node(SIZE_MAX / 2 + 1, 2, GFP_KERNEL, 0), nullptr);
	EXPECT_EQ(kmalloc_array_node(SIZE_MAX, SIZE_MAX, GFP_KERNEL, 0), nullptr);
	void *arr = kmalloc_array_node(10, 12, GFP_KERNEL, -1);
	ASSERT_NE(arr, nullptr);
	EXPECT_EQ(ksize(arr), 128u);
	kfree(arr);

	struct kmem_cache *s = kmem_cache_create("api-node", 40, 0, 0, nullptr);
	ASSERT_NE(s, nullptr);
	void *x = kmem_cache_alloc_node(s, GFP_KERNEL, 2);
	ASSERT_NE(x, nullptr);
	EXPECT_EQ(info(s).active_objs, 1u);
	kmem_cache_free(s, x);
	EXPECT_EQ(info(s).active_objs, 0u);
	kmem_cache_destroy(s);
	EXPECT_EQ(kmm_bug_count(), 0u);
	/* a NULL cache is refused as by kmem_cache_alloc */
	EXPECT_EQ(kmem_cache_alloc_node(nullptr, GFP_KERNEL, 0), nullptr);
	EXPECT_EQ(kmm_bug_count(), 1u);
}

/* Without kmm_rodata_start/end (test_rodata.cpp has them) kstrdup_const
 * copies, kfree_const frees what it returned; a literal given to
 * kfree_const is refused as by kfree. */
TEST_F(SlabApi, KstrdupConstCopiesAndKfreeConstFrees)
{
	static const char kLiteral[] = "rodata-name";
	const char *c = kstrdup_const(kLiteral, GFP_KERNEL);
	ASSERT_NE(c, nullptr);
	EXPECT_NE(c, kLiteral);
	EXPECT_STREQ(c, kLiteral);
	kmem_cache *kc = kmm::global_slab().kmalloc_cache(sizeof(kLiteral));
	ASSERT_NE(kc, nullptr);
	const unsigned long live = info(kc).active_objs;
	kfree_const(c);
	EXPECT_EQ(info(kc).active_objs, live - 1);
	EXPECT_EQ(kstrdup_const(nullptr, GFP_KERNEL), nullptr);
	kfree_const(nullptr);
	EXPECT_EQ(kmm_bug_count(), 0u);
	kfree_const(kLiteral);
	EXPECT_EQ(kmm_bug_count(), 1u);
	EXPECT_STREQ(kLiteral, "rodata-name");
}

/* The Linux flags kmm accepts and drops (kmm/slab.h, kmm/gfp.h): a driver's
 * calls work unchanged and give exactly what the plain call gives; a bit
 * kmm does not know (SLAB_TYPESAFE_BY_RCU's value) is still refused. */
#ifdef SLAB_TYPESAFE_BY_RCU
#error "SLAB_TYPESAFE_BY_RCU must stay undefined: kmm has no RCU"
#endif
#ifdef __GFP_NOFAIL
#error "__GFP_NOFAIL must stay undefined: kmm allocations can fail"
#endif
TEST_F(SlabApi, LinuxFlagsWithNothingToDoAreAcceptedAndChangeNothing)
{
	struct kmem_cache *plain = kmem_cache_create("api-plain", 72, 0, SLAB_HWCACHE_ALIGN, nullptr);
	ASSERT_NE(plain, nullptr);
	const kmem_cache_info want = info(plain);
	const slab_flags_t each[] = {SLAB_RECLAIM_ACCOUNT, SLAB_TEMPORARY, SLAB_MEM_SPREAD,
				     SLAB_NOLEAKTRACE,     SLAB_NO_MERGE,  SLAB_ACCOUNT,
				     KMM_SLAB_IGNORED_FLAGS};
	for (slab_flags_t f : each) {
		SCOPED_TRACE(hex(f));
		struct kmem_cache *s = kmem_cache_create("api-hinted", 72, 0, SLAB_HWCACHE_ALIGN | f, nullptr);
		ASSERT_NE(s, nullptr);
		EXPECT_NE(s, plain) << "kmm never merges caches";
		const kmem_cache_info got = info(s);
		EXPECT_EQ(got.size, want.size);
		EXPECT_EQ(got.align, want.align);
		EXPECT_EQ(got.objects_per_slab, want.objects_per_slab);
		EXPECT_EQ(got.pages_per_slab, want.pages_per_slab);
		EXPECT_EQ(got.magazine_size, want.magazine_size);
		void *x = kmem_cache_alloc(s, GFP_KERNEL_ACCOUNT);
		ASSERT_NE(x, nullptr);
		kmem_cache_free(s, x);
		kmem_cache_destroy(s);
	}
	kmem_cache_destroy(plain);

	const gfp_t gfps[] = {GFP_NOIO, GFP_NOFS, GFP_USER, GFP_KERNEL_ACCOUNT,
			      GFP_KERNEL | __GFP_ACCOUNT | __GFP_HIGH | __GFP_RETRY_MAYFAIL,
			      GFP_ATOMIC | __GFP_HIGH};
	for (gfp_t g : gfps) {
		SCOPED_TRACE(hex(g));
		void *p = kmalloc(100, g);
		ASSERT_NE(p, nullptr);
		kfree(p);
		struct page *pg = alloc_pages(g, 1);
		ASSERT_NE(pg, nullptr);
		__free_pages(pg, 1);
	}
	EXPECT_EQ(kmm_bug_count(), 0u);
	EXPECT_TRUE(cap.lines.empty()) << cap.last();

	/* SLAB_TYPESAFE_BY_RCU's bit: refused with a report, nothing created */
	EXPECT_EQ(kmem_cache_create("api-rcu", 72, 0, static_cast<slab_flags_t>(0x00080000u), nullptr), nullptr);
	EXPECT_EQ(kmm_bug_count(), 1u);
	EXPECT_EQ(cap.count_containing("unknown flags"), 1u) << cap.last();
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

/* krealloc's call site, out of line: the T line of the new object must
 * name an address inside this function (the return address of its call
 * to krealloc), not one inside kmm. */
__attribute__((noinline)) void *krealloc_here(void *p, size_t n)
{
	void *q = krealloc(p, n, GFP_KERNEL);
	__asm__ __volatile__("" : : "r"(q) : "memory"); /* no tail call */
	return q;
}

/* The caller a T line names, parsed from "... caller=0x...". */
uintptr_t traced_caller(const std::string &line)
{
	size_t at = line.find("caller=");
	return at == std::string::npos ? 0 : std::stoull(line.substr(at + 7), nullptr, 16);
}

TEST_F(SlabApi, KreallocTracesItsCallerNotKmm)
{
	ASSERT_EQ(kmm_slub_debug("T,kmalloc-64,kmalloc-128"), 0); /* before the first slab use */
	const auto here = reinterpret_cast<uintptr_t>(&krealloc_here);
	for (size_t n : {size_t{40}, size_t{100}}) {
		static void *p = nullptr; /* NULL first (kmalloc), then a move to kmalloc-128 */
		cap.clear();
		p = krealloc_here(p, n);
		ASSERT_NE(p, nullptr);
		std::string alloc_line;
		for (const auto &l : cap.lines)
			if (l.find(" alloc ") != std::string::npos && l.find("TRACE kmalloc-") != std::string::npos)
				alloc_line = l;
		ASSERT_FALSE(alloc_line.empty()) << n;
		uintptr_t caller = traced_caller(alloc_line);
		EXPECT_GE(caller, here) << alloc_line;
		EXPECT_LT(caller, here + 256) << alloc_line << ": not krealloc_here's call site";
		if (n == 100)
			kfree(p);
	}
	EXPECT_EQ(kmm_bug_count(), 0u);
	kmm_slub_debug("");
}

/* Linux's helpers that allocate for their caller (kmemdup, kstrdup, ...)
 * record that caller (kmalloc_track_caller), not themselves: every call
 * site below lies inside this function. kmalloc_track_caller itself
 * records the caller of the function it is written in (_RET_IP_). */
const void *g_dup_return;
__attribute__((noinline)) void *dup_here(int which)
{
	g_dup_return = __builtin_return_address(0);
	static const char text[] = "a string to copy";
	char copy[32] = {}; /* room for kmemdup's and kmemdup_nul's 20 bytes */
	std::memcpy(copy, text, sizeof(text)); /* not in the image's rodata */
	void *q = nullptr;
	switch (which) {
	case 0: q = kmemdup(copy, 20, GFP_KERNEL); break;
	case 1: q = kmemdup_nul(copy, 20, GFP_KERNEL); break;
	case 2: q = kstrdup(copy, GFP_KERNEL); break;
	case 3: q = kstrndup(copy, 30, GFP_KERNEL); break;
	case 4: q = const_cast<char *>(kstrdup_const(copy, GFP_KERNEL)); break;
	case 5: q = kmm_kmalloc_aligned(20, 32, GFP_KERNEL); break;
	case 6: q = kmalloc_track_caller(20, GFP_KERNEL); break;
	case 7: q = kvmemdup(copy, 20, GFP_KERNEL); break;
	case 8: q = kmemdup_array(copy, 10, 2, GFP_KERNEL); break;
	case 9: q = kvrealloc(nullptr, 20, GFP_KERNEL); break;
	/* helpers over other helpers: at -O0 (the host Debug build) there is
	 * no tail call, and they recorded themselves */
	case 10: q = kvmalloc(20, GFP_KERNEL); break;
	case 11: q = kvzalloc(20, GFP_KERNEL); break;
	case 12: q = kvmalloc_array(10, 2, GFP_KERNEL); break;
	case 13: q = kvcalloc(10, 2, GFP_KERNEL); break;
	case 14: q = krealloc_array(nullptr, 10, 2, GFP_KERNEL); break;
	case 15: q = kcalloc(10, 2, GFP_KERNEL); break;
	case 16: q = kmalloc_array(10, 2, GFP_KERNEL); break;
	case 17: q = kmalloc(20, GFP_KERNEL); break;
	case 18: q = kzalloc(20, GFP_KERNEL); break;
	}
	__asm__ __volatile__("" : : "r"(q) : "memory"); /* no tail call */
	return q;
}

TEST_F(SlabApi, DupHelpersTraceTheirCallerNotThemselves)
{
	ASSERT_EQ(kmm_slub_debug("T,kmalloc-32"), 0); /* before the first slab use */
	const auto here = reinterpret_cast<uintptr_t>(&dup_here);
	for (int which = 0; which <= 18; ++which) {
		cap.clear();
		void *p = dup_here(which);
		ASSERT_NE(p, nullptr) << which;
		EXPECT_EQ(ksize(p), 32u) << which;
		std::string alloc_line;
		for (const auto &l : cap.lines)
			if (l.find("TRACE kmalloc-32 alloc ") != std::string::npos)
				alloc_line = l;
		ASSERT_FALSE(alloc_line.empty()) << which;
		uintptr_t caller = traced_caller(alloc_line);
		if (which == 6) {
			EXPECT_EQ(caller, reinterpret_cast<uintptr_t>(g_dup_return)) << alloc_line;
		} else {
			EXPECT_GE(caller, here) << which << ": " << alloc_line;
			EXPECT_LT(caller, here + 1024) << which << ": " << alloc_line << " is not dup_here's call site";
			EXPECT_NE(caller, reinterpret_cast<uintptr_t>(g_dup_return)) << which;
		}
		kfree(p);
	}
	EXPECT_EQ(kmm_bug_count(), 0u);
	kmm_slub_debug("");
}

/* The entry points themselves record their caller too, in every build:
 * the host Debug build (-O0) makes no tail calls, and kmalloc, kzalloc,
 * kmalloc_array, kcalloc (above, 15-18) and kfree, kmem_cache_alloc,
 * kmem_cache_zalloc, kmem_cache_free recorded kmm's own code; the inline
 * forwarders (kmem_cache_zalloc, the _node forms) their own bodies. */
__attribute__((noinline)) void *cache_alloc_here(struct kmem_cache *s, int which)
{
	void *q = which == 0   ? kmem_cache_alloc(s, GFP_KERNEL)
		  : which == 1 ? kmem_cache_zalloc(s, GFP_KERNEL)
			       : kmem_cache_alloc_node(s, GFP_KERNEL, NUMA_NO_NODE);
	__asm__ __volatile__("" : : "r"(q) : "memory"); /* no tail call */
	return q;
}
__attribute__((noinline)) void free_here(struct kmem_cache *s, void *p)
{
	if (s != nullptr)
		kmem_cache_free(s, p);
	else
		kfree(p);
	__asm__ __volatile__("" : : : "memory"); /* no tail call */
}

TEST_F(SlabApi, EntryPointsTraceTheirCallerInEveryBuild)
{
	ASSERT_EQ(kmm_slub_debug("T,kmalloc-32,api-traced"), 0); /* before the first slab use */
	struct kmem_cache *s = kmem_cache_create("api-traced", 48, 0, 0, nullptr);
	ASSERT_NE(s, nullptr);
	auto caller_in = [&](const char *what, uintptr_t fn) {
		std::string line;
		for (const auto &l : cap.lines)
			if (l.find(what) != std::string::npos)
				line = l;
		EXPECT_FALSE(line.empty()) << what;
		const uintptr_t caller = traced_caller(line);
		EXPECT_GE(caller, fn) << line;
		EXPECT_LT(caller, fn + 512) << line << " is not the test's call site";
	};
	for (int which = 0; which <= 2; ++which) {
		cap.clear();
		void *o = cache_alloc_here(s, which);
		ASSERT_NE(o, nullptr);
		caller_in("TRACE api-traced alloc ", reinterpret_cast<uintptr_t>(&cache_alloc_here));
		cap.clear();
		free_here(s, o);
		caller_in("TRACE api-traced free ", reinterpret_cast<uintptr_t>(&free_here));
	}
	void *k = kmalloc(20, GFP_KERNEL);
	ASSERT_NE(k, nullptr);
	cap.clear();
	free_here(nullptr, k);
	caller_in("TRACE kmalloc-32 free ", reinterpret_cast<uintptr_t>(&free_here));
	EXPECT_EQ(kmm_bug_count(), 0u);
	EXPECT_EQ(kmm_slab_validate(), 0u);
	kmem_cache_destroy(s);
	kmm_slub_debug("");
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

TEST_F(SlabApi, NullCacheIsReportedNotDereferenced)
{
	/* a kmem_cache_create that failed, its NULL used unchecked: on a
	 * Cortex-M address 0 is the vector table and would not even fault */
	const size_t free_before = kmm_free_pages();
	cap.clear();
	EXPECT_EQ(kmem_cache_alloc(nullptr, GFP_KERNEL), nullptr);
	EXPECT_EQ(kmem_cache_zalloc(nullptr, GFP_KERNEL), nullptr);
	int local = 0;
	kmem_cache_free(nullptr, &local);
	kmem_cache_free(nullptr, nullptr); /* a no-op, as kmem_cache_free(s, NULL) */
	void *p[4] = {&local, &local, &local, &local};
	EXPECT_EQ(kmem_cache_alloc_bulk(nullptr, GFP_KERNEL, 4, p), 0);
	EXPECT_EQ(kmm_bug_count(), 4u);
	ASSERT_EQ(cap.bug_lines(), 4u);
	EXPECT_EQ(cap.lines[0], "BUG kmem_cache: kmem_cache_alloc: 0x0 is not a live cache");
	EXPECT_EQ(cap.lines[2], "BUG kmem_cache: kmem_cache_free: 0x0 is not a live cache");
	EXPECT_EQ(cap.lines[3], "BUG kmem_cache: kmem_cache_alloc_bulk: 0x0 is not a live cache");
	EXPECT_EQ(local, 0);
	EXPECT_EQ(kmm_free_pages(), free_before);
}

TEST_F(SlabApi, AllocFromADestroyedCacheIsRefused)
{
	struct kmem_cache *s = kmem_cache_create("api-dead", 64, 0, 0, nullptr);
	ASSERT_NE(s, nullptr);
	kmem_cache_free(s, kmem_cache_alloc(s, GFP_KERNEL));
	kmem_cache_destroy(s);
	ASSERT_EQ(kmm_bug_count(), 0u);
	const size_t free_before = kmm_free_pages();
	cap.clear();
	/* a stale pointer: the descriptor is free in the boot cache, still
	 * as destroy left it */
	EXPECT_EQ(kmem_cache_alloc(s, GFP_KERNEL), nullptr);
	EXPECT_EQ(kmem_cache_alloc(s, GFP_KERNEL), nullptr);
	EXPECT_EQ(kmm_free_pages(), free_before) << "no slab for a dead cache";
	void *x = kmalloc(64, GFP_KERNEL);
	kmem_cache_free(s, x); /* an object of another cache: refused, x stays live */
	EXPECT_EQ(kmm_bug_count(), 3u);
	EXPECT_EQ(cap.count_containing("is not a live cache"), 3u);
	EXPECT_EQ(kmm_slab_validate(), 0u) << "no slab of a dead cache";
	EXPECT_EQ(ksize(x), 64u) << "x is still handed out";
	kfree(x);
	/* a new cache that reuses the descriptor is a live cache again */
	struct kmem_cache *t = kmem_cache_create("api-reborn", 64, 0, 0, nullptr);
	void *y = kmem_cache_alloc(t, GFP_KERNEL);
	EXPECT_NE(y, nullptr);
	kmem_cache_free(t, y);
	kmem_cache_destroy(t);
}

TEST_F(SlabApi, KfreeOfACacheDescriptorIsRefused)
{
	/* kfree(cache) for kmem_cache_destroy(cache): the descriptor is an
	 * object of the internal boot cache; freeing it would leave the cache
	 * working on freed memory */
	struct kmem_cache *s = kmem_cache_create("api-victim", 64, 0, 0, nullptr);
	void *o = kmem_cache_alloc(s, GFP_KERNEL);
	ASSERT_NE(o, nullptr);
	const kmem_cache_info before = info(s);
	cap.clear();
	EXPECT_EQ(ksize(s), 0u);
	EXPECT_EQ(krealloc(s, 10, GFP_KERNEL), nullptr);
	kfree(s);
	kfree_sensitive(s);
	EXPECT_EQ(kmm_bug_count(), 4u);
	EXPECT_EQ(cap.count_containing("a kmem_cache descriptor: refused"), 3u);
	EXPECT_EQ(cap.count_containing("the descriptor of live cache api-victim: refused"), 1u);
	EXPECT_EQ(kmm_slab_validate(), 0u);
	/* a new cache does not get the same descriptor; the old one works */
	struct kmem_cache *t = kmem_cache_create("api-other", 128, 0, 0, nullptr);
	EXPECT_NE(t, s);
	EXPECT_EQ(info(s).active_objs, before.active_objs);
	kmem_cache_free(s, o);
	EXPECT_EQ(std::string(kmem_cache_name(s)), "api-victim");
	kmem_cache_destroy(s);
	kmem_cache_destroy(t);
	EXPECT_EQ(kmm_bug_count(), 4u);
}

TEST_F(SlabApi, KsizeAndKreallocOfAFreeObjectAreRefused)
{
	char *p = static_cast<char *>(kmalloc(100, GFP_KERNEL));
	ASSERT_NE(p, nullptr);
	kfree(p);
	cap.clear();
	EXPECT_EQ(ksize(p), 0u);
	EXPECT_EQ(krealloc(p, 50, GFP_KERNEL), nullptr);
	EXPECT_EQ(krealloc(p, 500, GFP_KERNEL), nullptr);
	EXPECT_EQ(kmm_bug_count(), 3u);
	EXPECT_EQ(cap.count_containing("of object " + hex(reinterpret_cast<uintptr_t>(p)) + ": it is already free"), 3u);
	/* p was not handed out by the refused krealloc: it comes back once */
	void *q = kmalloc(100, GFP_KERNEL);
	void *r = kmalloc(100, GFP_KERNEL);
	EXPECT_NE(q, r);
	kfree(q);
	kfree(r);
	EXPECT_EQ(kmm_bug_count(), 3u);
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

/* kmm_kmalloc_size: ksize's value, NULL/ZERO_SIZE_PTR 0 without a report,
 * misuse 0 with one report naming the caller given. */
TEST_F(SlabApi, KmallocSizeIsKsizesValueAndNamesItsCaller)
{
	void *p = kmalloc(20, GFP_KERNEL);
	ASSERT_NE(p, nullptr);
	EXPECT_EQ(kmm_kmalloc_size(p, "realloc"), ksize(p));
	void *big = kmalloc(3 * kmalloc_max_cache_size(), GFP_KERNEL);
	ASSERT_NE(big, nullptr);
	EXPECT_EQ(kmm_kmalloc_size(big, "realloc"), ksize(big));
	EXPECT_EQ(kmm_kmalloc_size(nullptr, "realloc"), 0u);
	EXPECT_EQ(kmm_kmalloc_size(ZERO_SIZE_PTR, "realloc"), 0u);
	EXPECT_EQ(cap.count_containing("BUG"), 0u);
	static char foreign[16];
	EXPECT_EQ(kmm_kmalloc_size(foreign, "realloc"), 0u);
	EXPECT_EQ(cap.count_containing("BUG kmalloc: realloc of pointer"), 1u);
	kfree(p);
	kfree(big);
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

/* Before the slab layer can start (no kmm_init: no memory), kmalloc fails,
 * so kmalloc_size_roundup says what kmalloc would give: the size itself. */
TEST(SlabApiUnstarted, SizeRoundupIsTheSizeWhileKmallocFails)
{
	kmm_test::ReportCapture cap;
	kmm_set_report_hook(&kmm_test::ReportCapture::hook, &cap);
	kmm_set_bug_policy(KMM_BUG_REFUSE);
	EXPECT_EQ(kmalloc(100, GFP_KERNEL), nullptr);
	EXPECT_EQ(kmalloc_size_roundup(100), 100u);
	EXPECT_EQ(kmalloc_size_roundup(100000), 100000u);
	EXPECT_EQ(kmalloc_size_roundup(0), 0u);
	kmm_set_report_hook(nullptr, nullptr);
}

/* kfree's and kmem_cache_free's inline paths know region 0 only; an object
 * of another region (on mps2-an385: PSRAM, most of the RAM) is found through
 * the region search, then takes the same checks and magazine push: a fast
 * free in the counters, misuse still refused. */
TEST(SlabApiRegions, FreesOutsideRegionZeroTakeTheInlinePush)
{
	kmm_test::Arena arena{size_t{8} << 20, size_t{PAGE_SIZE} << KMM_MAX_ORDER};
	kmm_test::ReportCapture cap;
	kmm_set_report_hook(&kmm_test::ReportCapture::hook, &cap);
	kmm_set_bug_policy(KMM_BUG_REFUSE);
	const size_t kFirst = size_t{256} << 10;
	ASSERT_EQ(kmm_add_region(arena.base(), kFirst, KMM_ZONE_NORMAL), 0);
	ASSERT_EQ(kmm_add_region(arena.base() + kFirst, arena.size() - kFirst, KMM_ZONE_NORMAL), 0);
	ASSERT_EQ(kmm_init(), 0);
	struct kmem_cache *s = kmem_cache_create("api-regions", 64, 0, 0, nullptr);
	ASSERT_NE(s, nullptr);
	auto outside = [&](const void *p) { return reinterpret_cast<uintptr_t>(p) >= arena.base() + kFirst; };
	std::vector<void *> held, kheld;
	void *x = nullptr, *k = nullptr;
	for (unsigned n = 0; n < 20000 && (x == nullptr || k == nullptr); ++n) {
		void *p = kmem_cache_alloc(s, GFP_KERNEL);
		void *q = kmalloc(64, GFP_KERNEL);
		ASSERT_TRUE(p != nullptr && q != nullptr);
		if (x == nullptr && outside(p))
			x = p;
		else
			held.push_back(p);
		if (k == nullptr && outside(q))
			k = q;
		else
			kheld.push_back(q);
	}
	ASSERT_TRUE(x != nullptr && k != nullptr) << "no object outside region 0";
	for (unsigned n = 0; n < 200; ++n) { /* the CPU slabs move past x's and k's */
		held.push_back(kmem_cache_alloc(s, GFP_KERNEL));
		kheld.push_back(kmalloc(64, GFP_KERNEL));
	}
	kmem_cache_info before{};
	ASSERT_EQ(kmem_cache_get_info(s, &before), 0);
	cap.clear();
	kmem_cache_free(s, static_cast<char *>(x) + 8); /* misuse: still refused */
	kfree(static_cast<char *>(k) + 8);
	EXPECT_EQ(cap.count_containing("into the middle of object"), 2u);
	kmem_cache_free(s, x);
	kmem_cache_info after{};
	ASSERT_EQ(kmem_cache_get_info(s, &after), 0);
	EXPECT_EQ(after.free_fastpath, before.free_fastpath + 1u) << "the magazine push";
	EXPECT_EQ(after.free_slowpath, before.free_slowpath);
	EXPECT_EQ(after.active_objs, before.active_objs - 1u);
	kmem_cache *kc = kmm::global_slab().kmalloc_cache(64);
	kmem_cache_info kbefore{}, kafter{};
	ASSERT_EQ(kmem_cache_get_info(kc, &kbefore), 0);
	kfree(k);
	ASSERT_EQ(kmem_cache_get_info(kc, &kafter), 0);
	EXPECT_EQ(kafter.free_fastpath, kbefore.free_fastpath + 1u);
	EXPECT_EQ(kafter.free_slowpath, kbefore.free_slowpath);
	kfree(k); /* a double free: refused */
	EXPECT_EQ(cap.count_containing("double free of object"), 1u);
	for (void *p : held)
		kmem_cache_free(s, p);
	for (void *p : kheld)
		kfree(p);
	EXPECT_EQ(kmm_bug_count(), 3u);
	kmem_cache_destroy(s);
	EXPECT_EQ(kmm_slab_validate(), 0u);
	EXPECT_EQ(kmm_validate(), 0u);
	kmm_shutdown();
	kmm_set_report_hook(nullptr, nullptr);
}

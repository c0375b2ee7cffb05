/*
 * tests/shared/slab_tests.cpp — shared tests (kernel and host) of object
 * caches through the public C API (kmm/slab.h): create/alloc/free, the
 * requested alignment, constructor-preserving objects (the ctor runs once
 * per object at slab creation, a freed object comes back as it was left),
 * the full → partial → empty slab transitions, bulk calls, shrink,
 * misuse refused (wrong cache, middle pointer, double free, destroy with
 * live objects) and exhaustion with recovery. The runner checks both
 * layers' validate(), leaks and the exact number of misuse reports.
 */
#include "ktest_shared.h"

namespace {

using ktest_shared::addr_of;
using ktest_shared::give_back;
using ktest_shared::kQuiet;
using ktest_shared::take_all_pages;

kmem_cache_info info_of(struct kmem_cache *s)
{
	kmem_cache_info i = {};
	kmem_cache_get_info(s, &i);
	return i;
}

/* Objects handed out, exactly: shrink first, so no free object waits in a
 * per-CPU cache (magazine, CPU freelist) in front of its slab. */
unsigned long handed_out(struct kmem_cache *s)
{
	kmem_cache_shrink(s);
	return info_of(s).active_objs;
}

void create_alloc_free(struct ktest *t)
{
	struct kmem_cache *s = kmem_cache_create("kt-basic", 40, 0, 0, nullptr);
	KTEST_ASSERT_NOT_NULL(t, s);
	KTEST_EXPECT_EQ(t, kmem_cache_size(s), 40);
	void *a = kmem_cache_alloc(s, GFP_KERNEL);
	void *b = kmem_cache_alloc(s, GFP_KERNEL | __GFP_ZERO);
	KTEST_EXPECT_NOT_NULL(t, a);
	KTEST_EXPECT_NOT_NULL(t, b);
	KTEST_EXPECT_NE(t, a, b);
	if (a != nullptr && b != nullptr) {
		KTEST_EXPECT_EQ(t, addr_of(a) % sizeof(void *), 0);
		/* The two objects do not overlap. */
		uintptr_t lo = addr_of(a) < addr_of(b) ? addr_of(a) : addr_of(b);
		uintptr_t hi = addr_of(a) < addr_of(b) ? addr_of(b) : addr_of(a);
		KTEST_EXPECT_GE(t, hi - lo, 40);
		const unsigned char *z = static_cast<const unsigned char *>(b);
		size_t nonzero = 0;
		for (size_t i = 0; i < 40; ++i)
			nonzero += z[i] != 0;
		KTEST_EXPECT_EQ(t, nonzero, 0);
		__builtin_memset(a, 0x5a, 40);
	}
	kmem_cache_free(s, a);
	kmem_cache_free(s, b);
	kmem_cache_free(s, nullptr); /* a no-op */
	KTEST_EXPECT_EQ(t, handed_out(s), 0);
	KTEST_EXPECT_EQ(t, info_of(s).num_slabs, 0);
	kmem_cache_destroy(s);
}

void requested_alignment(struct ktest *t)
{
	static const unsigned kAligns[] = {8, 16, 32, 64, 128, 256};
	for (unsigned align : kAligns) {
		struct kmem_cache *s = kmem_cache_create("kt-align", 24, align, 0, nullptr);
		if (!KTEST_EXPECT_NOT_NULL(t, s))
			continue;
		void *objs[8];
		for (void *&p : objs) {
			p = kmem_cache_alloc(s, GFP_KERNEL);
			if (KTEST_EXPECT_NOT_NULL(t, p))
				KTEST_EXPECT_EQ(t, addr_of(p) % align, 0);
		}
		for (void *p : objs)
			kmem_cache_free(s, p);
		kmem_cache_destroy(s);
	}
	/* SLAB_HWCACHE_ALIGN: a 64-byte object starts on a cache line. */
	struct kmem_cache *s = kmem_cache_create("kt-hwalign", 64, 0, SLAB_HWCACHE_ALIGN, nullptr);
	KTEST_ASSERT_NOT_NULL(t, s);
	void *p = kmem_cache_alloc(s, GFP_KERNEL);
	KTEST_EXPECT_NOT_NULL(t, p);
	KTEST_EXPECT_EQ(t, addr_of(p) % KMM_L1_CACHE_BYTES, 0);
	kmem_cache_free(s, p);
	kmem_cache_destroy(s);
}

/* ---- constructor-preserving objects ---- */

constexpr uint32_t kCtorMagic = 0xc0de5eedu;
struct Pooled {
	uint32_t magic;
	uint32_t uses;
	unsigned char payload[56];
};
unsigned long g_ctor_calls;

void pooled_ctor(void *p)
{
	Pooled *o = static_cast<Pooled *>(p);
	o->magic = kCtorMagic;
	o->uses = 0;
	for (unsigned char &b : o->payload)
		b = 0xee;
	++g_ctor_calls;
}

void ctor_runs_once_per_object(struct ktest *t)
{
	g_ctor_calls = 0;
	struct kmem_cache *s = kmem_cache_create("kt-ctor", sizeof(Pooled), 0, 0, pooled_ctor);
	KTEST_ASSERT_NOT_NULL(t, s);
	KTEST_EXPECT_EQ(t, g_ctor_calls, 0); /* no slab yet, no ctor call */
	enum { kObjects = 40 };
	Pooled *objs[kObjects];
	for (uint32_t round = 0; round < 3; ++round) {
		for (Pooled *&o : objs) {
			o = static_cast<Pooled *>(kmem_cache_alloc(s, GFP_KERNEL));
			if (!KTEST_EXPECT_NOT_NULL(t, o))
				continue;
			/* Constructed: fresh from a new slab (uses 0), or exactly as
			 * a user of an earlier round left it. */
			KTEST_EXPECT_EQ(t, o->magic, kCtorMagic);
			KTEST_EXPECT_LE(t, o->uses, round);
			++o->uses; /* the state this user leaves behind */
		}
		for (Pooled *o : objs)
			kmem_cache_free(s, o);
	}
	kmem_cache_info i = info_of(s);
	/* Once per object of every slab ever created, never per allocation:
	 * only objects of slabs given back to the buddy allocator meanwhile
	 * (empty beyond min_partial) are constructed afresh. */
	KTEST_EXPECT_EQ(t, g_ctor_calls, i.slabs_allocated * i.objects_per_slab);
	KTEST_EXPECT_GE(t, g_ctor_calls, static_cast<unsigned long>(kObjects));
	kmem_cache_destroy(s);
}

void freed_object_comes_back_as_left(struct ktest *t)
{
	struct kmem_cache *s = kmem_cache_create("kt-ctor", sizeof(Pooled), 0, 0, pooled_ctor);
	KTEST_ASSERT_NOT_NULL(t, s);
	Pooled *o = static_cast<Pooled *>(kmem_cache_alloc(s, GFP_KERNEL));
	KTEST_ASSERT_NOT_NULL(t, o);
	o->uses = 77;
	__builtin_memset(o->payload, 0x42, sizeof(o->payload));
	kmem_cache_free(s, o);
	Pooled *again = static_cast<Pooled *>(kmem_cache_alloc(s, GFP_KERNEL));
	KTEST_EXPECT_EQ(t, again, o); /* LIFO: the object just freed */
	if (again != nullptr) {
		KTEST_EXPECT_EQ(t, again->magic, kCtorMagic);
		KTEST_EXPECT_EQ(t, again->uses, 77u);
		size_t changed = 0;
		for (unsigned char b : again->payload)
			changed += b != 0x42;
		KTEST_EXPECT_EQ(t, changed, 0); /* the free pointer lives outside */
	}
	kmem_cache_free(s, again);
	kmem_cache_destroy(s);
}

/* ---- slab transitions: full → partial → empty ----
 * On a SLAB_CONSISTENCY_CHECKS cache: every call takes the slow path (no
 * CPU slab, no per-CPU object cache), so each free moves its slab at once
 * and the lists show exactly the table of docs/SLAB.md. */

void partial_full_empty(struct ktest *t)
{
	struct kmem_cache *s = kmem_cache_create("kt-states", 128, 0, SLAB_CONSISTENCY_CHECKS, nullptr);
	KTEST_ASSERT_NOT_NULL(t, s);
	unsigned n = info_of(s).objects_per_slab;
	KTEST_ASSERT_TRUE(t, n >= 2 && n <= 512);
	static void *first[512]; /* static: the 64 KiB board has a 2 KiB stack */
	for (unsigned i = 0; i < n; ++i) {
		first[i] = kmem_cache_alloc(s, GFP_KERNEL);
		KTEST_ASSERT_NOT_NULL(t, first[i]);
	}
	kmem_cache_info i = info_of(s);
	KTEST_EXPECT_EQ(t, i.num_slabs, 1);
	KTEST_EXPECT_EQ(t, i.full_slabs, 1);
	KTEST_EXPECT_EQ(t, i.active_objs, n);
	/* One more: a second slab, partial. */
	void *extra = kmem_cache_alloc(s, GFP_KERNEL);
	KTEST_ASSERT_NOT_NULL(t, extra);
	i = info_of(s);
	KTEST_EXPECT_EQ(t, i.num_slabs, 2);
	KTEST_EXPECT_EQ(t, i.full_slabs, 1);
	KTEST_EXPECT_EQ(t, i.partial_slabs, 1);
	/* A free into the full slab makes it partial. */
	kmem_cache_free(s, first[0]);
	i = info_of(s);
	KTEST_EXPECT_EQ(t, i.full_slabs, 0);
	KTEST_EXPECT_EQ(t, i.partial_slabs, 2);
	/* Its last free makes it empty: kept for reuse (min_partial >= 1). */
	for (unsigned k = 1; k < n; ++k)
		kmem_cache_free(s, first[k]);
	i = info_of(s);
	KTEST_EXPECT_EQ(t, i.partial_slabs, 1);
	KTEST_EXPECT_EQ(t, i.empty_slabs, 1);
	KTEST_EXPECT_EQ(t, i.active_objs, 1);
	kmem_cache_free(s, extra);
	i = info_of(s);
	KTEST_EXPECT_EQ(t, i.partial_slabs, 0);
	KTEST_EXPECT_EQ(t, i.empty_slabs, 2);
	/* Shrink gives every empty slab back. */
	size_t free_before = kmm_free_pages();
	kmem_cache_shrink(s);
	i = info_of(s);
	KTEST_EXPECT_EQ(t, i.num_slabs, 0);
	KTEST_EXPECT_EQ(t, kmm_free_pages(), free_before + 2 * i.pages_per_slab);
	KTEST_EXPECT_EQ(t, i.slabs_allocated, i.slabs_freed);
	kmem_cache_destroy(s);
}

void bulk_alloc_free(struct ktest *t)
{
	struct kmem_cache *s = kmem_cache_create("kt-bulk", 48, 0, 0, nullptr);
	KTEST_ASSERT_NOT_NULL(t, s);
	static void *p[100];
	KTEST_EXPECT_EQ(t, kmem_cache_alloc_bulk(s, GFP_KERNEL, 100, p), 100);
	KTEST_EXPECT_EQ(t, info_of(s).active_objs, 100);
	for (void *x : p)
		__builtin_memset(x, 0x11, 48);
	kmem_cache_free_bulk(s, 100, p);
	KTEST_EXPECT_EQ(t, handed_out(s), 0);
	kmem_cache_destroy(s);
}

/* ---- misuse: reported, refused, state unchanged ---- */

void free_to_wrong_cache(struct ktest *t)
{
	struct kmem_cache *a = kmem_cache_create("kt-a", 64, 0, 0, nullptr);
	struct kmem_cache *b = kmem_cache_create("kt-b", 64, 0, 0, nullptr);
	KTEST_ASSERT_NOT_NULL(t, a);
	KTEST_ASSERT_NOT_NULL(t, b);
	void *x = kmem_cache_alloc(a, GFP_KERNEL);
	KTEST_ASSERT_NOT_NULL(t, x);
	t->expected_bugs = 1;
	kmem_cache_free(b, x); /* refused: x belongs to a */
	KTEST_EXPECT_EQ(t, handed_out(a), 1);
	kmem_cache_free(a, x);
	kmem_cache_destroy(a);
	kmem_cache_destroy(b);
}

void free_middle_of_object(struct ktest *t)
{
	struct kmem_cache *s = kmem_cache_create("kt-mid", 64, 0, 0, nullptr);
	KTEST_ASSERT_NOT_NULL(t, s);
	char *x = static_cast<char *>(kmem_cache_alloc(s, GFP_KERNEL));
	KTEST_ASSERT_NOT_NULL(t, x);
	t->expected_bugs = 1;
	kmem_cache_free(s, x + 8);
	KTEST_EXPECT_EQ(t, handed_out(s), 1);
	kmem_cache_free(s, x);
	kmem_cache_destroy(s);
}

void double_free_refused(struct ktest *t)
{
	struct kmem_cache *s = kmem_cache_create("kt-dfree", 32, 0, 0, nullptr);
	KTEST_ASSERT_NOT_NULL(t, s);
	void *x = kmem_cache_alloc(s, GFP_KERNEL);
	void *y = kmem_cache_alloc(s, GFP_KERNEL);
	KTEST_ASSERT_NOT_NULL(t, x);
	KTEST_ASSERT_NOT_NULL(t, y);
	kmem_cache_free(s, x);
	t->expected_bugs = 1;
	kmem_cache_free(s, x);
	KTEST_EXPECT_EQ(t, kmm_slab_validate(), 0);
	KTEST_EXPECT_EQ(t, handed_out(s), 1);
	/* The freelist is intact: two allocations give two distinct objects. */
	void *p = kmem_cache_alloc(s, GFP_KERNEL);
	void *q = kmem_cache_alloc(s, GFP_KERNEL);
	KTEST_EXPECT_NE(t, p, q);
	KTEST_EXPECT_EQ(t, kmm_slab_validate(), 0);
	kmem_cache_free(s, p);
	kmem_cache_free(s, q);
	kmem_cache_free(s, y);
	kmem_cache_destroy(s);
}

void destroy_with_live_objects(struct ktest *t)
{
	struct kmem_cache *s = kmem_cache_create("kt-live", 96, 0, 0, nullptr);
	KTEST_ASSERT_NOT_NULL(t, s);
	void *x = kmem_cache_alloc(s, GFP_KERNEL);
	KTEST_ASSERT_NOT_NULL(t, x);
	t->expected_bugs = 1;
	kmem_cache_destroy(s); /* reported; the cache and x stay valid */
	KTEST_EXPECT_EQ(t, kmem_cache_size(s), 96);
	__builtin_memset(x, 0x77, 96);
	kmem_cache_free(s, x);
	kmem_cache_destroy(s);
}

void bad_create_arguments(struct ktest *t)
{
	t->expected_bugs = 3;
	KTEST_EXPECT_NULL(t, kmem_cache_create(nullptr, 32, 0, 0, nullptr));
	KTEST_EXPECT_NULL(t, kmem_cache_create("kt-zero", 0, 0, 0, nullptr));
	KTEST_EXPECT_NULL(t, kmem_cache_create("kt-align3", 32, 3, 0, nullptr));
}

/* ---- exhaustion and recovery ---- */

void exhaust_and_recover(struct ktest *t)
{
	struct kmem_cache *s = kmem_cache_create("kt-oom", 64, 0, 0, nullptr);
	KTEST_ASSERT_NOT_NULL(t, s);
	size_t count;
	void *pages = take_all_pages(count);
	KTEST_EXPECT_GT(t, count, 0);
	/* No page left for a slab: the cache cannot grow. */
	KTEST_EXPECT_NULL(t, kmem_cache_alloc(s, GFP_KERNEL | kQuiet));
	KTEST_EXPECT_EQ(t, kmm_slab_validate(), 0);
	/* Pages back: the cache grows again. */
	give_back(pages);
	void *objs[32];
	for (void *&p : objs) {
		p = kmem_cache_alloc(s, GFP_KERNEL | kQuiet);
		KTEST_EXPECT_NOT_NULL(t, p);
	}
	for (void *p : objs)
		kmem_cache_free(s, p);
	kmem_cache_destroy(s);
}

const ktest_case cases[] = {
	{"create_alloc_free", create_alloc_free},
	{"requested_alignment", requested_alignment},
	{"ctor_runs_once_per_object", ctor_runs_once_per_object},
	{"freed_object_comes_back_as_left", freed_object_comes_back_as_left},
	{"partial_full_empty", partial_full_empty},
	{"bulk_alloc_free", bulk_alloc_free},
	{"free_to_wrong_cache", free_to_wrong_cache},
	{"free_middle_of_object", free_middle_of_object},
	{"double_free_refused", double_free_refused},
	{"destroy_with_live_objects", destroy_with_live_objects},
	{"bad_create_arguments", bad_create_arguments},
	{"exhaust_and_recover", exhaust_and_recover},
};

} // namespace

KTEST_SUITE(slab, cases);

/*
 * tests/shared/kmalloc_tests.cpp — shared tests (kernel and host) of the
 * kmalloc family through the public C API (kmm/slab.h): the size and
 * alignment of every class, every size up to the largest class, large
 * (page) kmalloc, kzalloc, every krealloc case, kcalloc/kmalloc_array
 * overflow, kfree/ksize misuse refused, exhaustion and recovery, GFP_DMA
 * (kmalloc's dma-kmalloc classes, SLAB_CACHE_DMA caches, kmem_cache_alloc
 * refusing GFP_DMA from any other cache), and Linux's helpers
 * (kmem_cache_zalloc, kmemdup, kstrdup, kstrdup_const, kfree_sensitive, …).
 * The runner checks both layers' validate(), leaks and the exact number of
 * misuse reports.
 */
#include "ktest_shared.h"

/* Defined by the image's linker script (kmm's in linker/), not on the host. */
extern "C" const char kmm_rodata_start[] __attribute__((weak));

namespace {

using ktest_shared::addr_of;
using ktest_shared::filled;
using ktest_shared::give_back;
using ktest_shared::kQuiet;
using ktest_shared::take_all_pages;

constexpr size_t kClasses[] = {8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192};
/* kmalloc's alignment for sizes that are not a power of two. */
constexpr size_t kMinAlign = sizeof(void *) >= 8 ? 16 : 8;

bool power_of_two(size_t n) { return n != 0 && (n & (n - 1)) == 0; }

/* What the header promises for a request of `size` bytes. */
size_t promised_align(size_t size) { return power_of_two(size) ? size : kMinAlign; }

void zero_size(struct ktest *t)
{
	void *p = kmalloc(0, GFP_KERNEL);
	KTEST_EXPECT_EQ(t, p, ZERO_SIZE_PTR);
	KTEST_EXPECT_EQ(t, ksize(p), 0);
	kfree(p);
	kfree(nullptr);
	KTEST_EXPECT_EQ(t, ksize(nullptr), 0);
}

void every_class_size_and_alignment(struct ktest *t)
{
	size_t max = kmalloc_max_cache_size();
	KTEST_ASSERT_GE(t, max, 256);
	KTEST_EXPECT_LE(t, max, 2 * PAGE_SIZE);
	size_t seen = 0;
	for (size_t c : kClasses) {
		if (c > max)
			break;
		++seen;
		/* Several objects: not only the first of a slab is aligned. */
		void *p[4];
		for (void *&x : p) {
			x = kmalloc(c, GFP_KERNEL);
			if (!KTEST_EXPECT_NOT_NULL(t, x))
				continue;
			KTEST_EXPECT_EQ(t, ksize(x), c);
			KTEST_EXPECT_EQ(t, addr_of(x) % promised_align(c), 0);
			static_cast<volatile unsigned char *>(x)[c - 1] = 0xa5;
		}
		for (void *x : p)
			kfree(x);
	}
	KTEST_EXPECT_GE(t, seen, 9); /* 8 … 512 on every page size */
}

void every_size_fits_its_class(struct ktest *t)
{
	size_t max = kmalloc_max_cache_size();
	size_t wrong_size = 0, wrong_align = 0, failed = 0;
	for (size_t size = 1; size <= max; size += size < 1024 ? 1 : 61) {
		void *p = kmalloc(size, GFP_KERNEL);
		if (p == nullptr) {
			++failed;
			continue;
		}
		size_t got = ksize(p);
		wrong_size += got < size || got > 2 * size + 64;
		wrong_align += addr_of(p) % (promised_align(size) < got ? promised_align(size) : got) != 0;
		static_cast<unsigned char *>(p)[size - 1] = 1;
		kfree(p);
	}
	KTEST_EXPECT_EQ(t, failed, 0);
	KTEST_EXPECT_EQ(t, wrong_size, 0);
	KTEST_EXPECT_EQ(t, wrong_align, 0);
}

void large_kmalloc_is_pages(struct ktest *t)
{
	size_t max = kmalloc_max_cache_size();
	size_t free0 = kmm_free_pages();
	void *p = kmalloc(max + 1, GFP_KERNEL);
	KTEST_ASSERT_NOT_NULL(t, p);
	KTEST_EXPECT_EQ(t, addr_of(p) % PAGE_SIZE, 0);
	KTEST_EXPECT_GE(t, ksize(p), max + 1);
	KTEST_EXPECT_EQ(t, ksize(p) % PAGE_SIZE, 0);
	KTEST_EXPECT_LT(t, kmm_free_pages(), free0);
	__builtin_memset(p, 0x3c, max + 1);
	kfree(p);
	KTEST_EXPECT_EQ(t, kmm_free_pages(), free0);
	/* Above the largest buddy block: NULL, not a misuse report. */
	KTEST_EXPECT_NULL(t, kmalloc((PAGE_SIZE << KMM_MAX_ORDER) + 1, GFP_KERNEL | __GFP_NOWARN));
}

void kzalloc_zeroes(struct ktest *t)
{
	const size_t sizes[] = {24, 96, 200, kmalloc_max_cache_size() + 8};
	for (size_t size : sizes) {
		void *dirty = kmalloc(size, GFP_KERNEL);
		if (!KTEST_EXPECT_NOT_NULL(t, dirty))
			continue;
		__builtin_memset(dirty, 0xff, size);
		kfree(dirty);
		const unsigned char *p = static_cast<const unsigned char *>(kzalloc(size, GFP_KERNEL));
		if (!KTEST_EXPECT_NOT_NULL(t, p))
			continue;
		size_t nonzero = 0;
		for (size_t i = 0; i < size; ++i)
			nonzero += p[i] != 0;
		KTEST_EXPECT_EQ(t, nonzero, 0);
		kfree(p);
	}
}

void krealloc_cases(struct ktest *t)
{
	/* NULL: a plain kmalloc. */
	char *p = static_cast<char *>(krealloc(nullptr, 20, GFP_KERNEL));
	KTEST_ASSERT_NOT_NULL(t, p);
	__builtin_memset(p, 0x61, 20);
	/* Within the class (ksize 24 or 32): the same pointer. */
	char *same = static_cast<char *>(krealloc(p, ksize(p), GFP_KERNEL));
	KTEST_EXPECT_EQ(t, same, p);
	/* Growing past the class: moved, contents kept, old object freed. */
	char *grown = static_cast<char *>(krealloc(same, 300, GFP_KERNEL));
	KTEST_ASSERT_NOT_NULL(t, grown);
	KTEST_EXPECT_TRUE(t, filled(grown, 20, 0x61));
	KTEST_EXPECT_GE(t, ksize(grown), 300);
	/* Growing with __GFP_ZERO zeroes the new bytes. */
	size_t old_size = ksize(grown);
	__builtin_memset(grown, 0x62, old_size);
	size_t new_size = kmalloc_max_cache_size() + 1;
	char *zeroed = static_cast<char *>(krealloc(grown, new_size, GFP_KERNEL | __GFP_ZERO));
	KTEST_ASSERT_NOT_NULL(t, zeroed);
	KTEST_EXPECT_TRUE(t, filled(zeroed, old_size, 0x62));
	KTEST_EXPECT_TRUE(t, filled(zeroed + old_size, new_size - old_size, 0));
	/* Shrinking: in place, data kept. */
	char *shrunk = static_cast<char *>(krealloc(zeroed, 16, GFP_KERNEL));
	KTEST_EXPECT_EQ(t, shrunk, zeroed);
	KTEST_EXPECT_TRUE(t, filled(shrunk, 16, 0x62));
	/* Failure: NULL, the object intact and still ours. */
	void *too_big = krealloc(shrunk, (PAGE_SIZE << KMM_MAX_ORDER) + 1, GFP_KERNEL | __GFP_NOWARN);
	KTEST_EXPECT_NULL(t, too_big);
	KTEST_EXPECT_TRUE(t, filled(shrunk, 16, 0x62));
	/* Size 0: freed, ZERO_SIZE_PTR back. */
	KTEST_EXPECT_EQ(t, krealloc(shrunk, 0, GFP_KERNEL), ZERO_SIZE_PTR);
	/* ZERO_SIZE_PTR: like NULL. */
	void *fresh = krealloc(ZERO_SIZE_PTR, 8, GFP_KERNEL);
	KTEST_EXPECT_NOT_NULL(t, fresh);
	KTEST_EXPECT_NE(t, fresh, ZERO_SIZE_PTR);
	kfree(fresh);
}

void kcalloc_overflow(struct ktest *t)
{
	const size_t half = (~size_t{0} >> 1) + 1;
	KTEST_EXPECT_NULL(t, kcalloc(half, 2, GFP_KERNEL));
	KTEST_EXPECT_NULL(t, kmalloc_array(half, 4, GFP_KERNEL));
	KTEST_EXPECT_NULL(t, kcalloc(~size_t{0}, ~size_t{0}, GFP_KERNEL));
	/* No overflow: allocated and zeroed. */
	const uint32_t *a = static_cast<const uint32_t *>(kcalloc(25, sizeof(uint32_t), GFP_KERNEL));
	KTEST_ASSERT_NOT_NULL(t, a);
	KTEST_EXPECT_TRUE(t, filled(a, 25 * sizeof(uint32_t), 0));
	kfree(a);
	void *b = kmalloc_array(3, 40, GFP_KERNEL);
	KTEST_EXPECT_NOT_NULL(t, b);
	KTEST_EXPECT_GE(t, ksize(b), 120);
	kfree(b);
}

/* An address kmm does not manage: this image's read-only data. */
const unsigned char kNotManaged[16] = {1};

void misuse_refused(struct ktest *t)
{
	char *p = static_cast<char *>(kmalloc(64, GFP_KERNEL));
	KTEST_ASSERT_NOT_NULL(t, p);
	char *big = static_cast<char *>(kmalloc(kmalloc_max_cache_size() + 1, GFP_KERNEL));
	KTEST_ASSERT_NOT_NULL(t, big);
	unsigned long bugs = kmm_bug_count();
	kfree(p + 8); /* into the middle of an object */
	KTEST_EXPECT_EQ(t, kmm_bug_count(), bugs + 1);
	KTEST_EXPECT_EQ(t, ksize(p + 8), 0);
	KTEST_EXPECT_EQ(t, kmm_bug_count(), bugs + 2);
	kfree(big + PAGE_SIZE / 2); /* into the middle of a large block */
	KTEST_EXPECT_EQ(t, kmm_bug_count(), bugs + 3);
	unsigned long before_unmanaged = kmm_bug_count();
	kfree(kNotManaged); /* never handed out */
	unsigned long unmanaged_reports = kmm_bug_count() - before_unmanaged;
	KTEST_EXPECT_GE(t, unmanaged_reports, 1);
	KTEST_EXPECT_EQ(t, kmm_validate(), 0);
	KTEST_EXPECT_EQ(t, kmm_slab_validate(), 0);
	kfree(p);
	kfree(p); /* double free */
	KTEST_EXPECT_EQ(t, kmm_bug_count(), bugs + 4 + unmanaged_reports);
	kfree(big);
	t->expected_bugs = 4 + unmanaged_reports;
}

void exhaust_and_recover(struct ktest *t)
{
	size_t count;
	void *pages = take_all_pages(count);
	KTEST_EXPECT_GT(t, count, 0);
	/* Whatever the caches still hold runs out; then NULL, no report. */
	unsigned long bugs = kmm_bug_count();
	void *chain = nullptr;
	size_t got = 0;
	for (size_t i = 0; i < 100000; ++i) {
		void **o = static_cast<void **>(kmalloc(512, GFP_KERNEL | kQuiet));
		if (o == nullptr)
			break;
		*o = chain;
		chain = o;
		++got;
	}
	KTEST_EXPECT_LT(t, got, 100000);
	KTEST_EXPECT_NULL(t, kmalloc(512, GFP_KERNEL | kQuiet));
	KTEST_EXPECT_NULL(t, kmalloc(kmalloc_max_cache_size() + 1, GFP_KERNEL | kQuiet));
	KTEST_EXPECT_EQ(t, kmm_bug_count(), bugs);
	KTEST_EXPECT_EQ(t, kmm_slab_validate(), 0);
	while (chain != nullptr) {
		void *next = *static_cast<void **>(chain);
		kfree(chain);
		chain = next;
	}
	give_back(pages);
	/* Recovered: every class allocates again. */
	for (size_t c : kClasses) {
		if (c > kmalloc_max_cache_size())
			break;
		void *p = kmalloc(c, GFP_KERNEL);
		KTEST_EXPECT_NOT_NULL(t, p);
		kfree(p);
	}
}


bool in_dma(const void *p) { return ktest_env_in_zone(addr_of(p), KMM_ZONE_DMA); }

bool all_zero(const void *p, size_t n)
{
	const unsigned char *b = static_cast<const unsigned char *>(p);
	for (size_t i = 0; i < n; ++i)
		if (b[i] != 0)
			return false;
	return true;
}

/* kmalloc(GFP_DMA) of every class is DMA memory with the class's size
 * and alignment, also when the Normal class has a free object at hand
 * (the inline path pops it first, then puts it back); kzalloc zeroes it;
 * a large one is DMA pages; krealloc moves a Normal object to DMA memory
 * (data kept) and keeps a DMA one in place. No DMA zone: NULL. */
void gfp_dma_kmalloc(struct ktest *t)
{
	size_t max = kmalloc_max_cache_size();
	size_t dma_bytes = ktest_env_zone_bytes(KMM_ZONE_DMA);
	if (dma_bytes == 0) {
		KTEST_EXPECT_NULL(t, kmalloc(64, GFP_DMA | kQuiet));
		KTEST_EXPECT_NULL(t, kzalloc(max + 1, GFP_DMA | kQuiet));
		struct kmem_cache *c = kmem_cache_create("ktest-dma", 48, 0, SLAB_CACHE_DMA, nullptr);
		KTEST_EXPECT_NULL(t, c);
		kmem_cache_destroy(c);
		return;
	}
	for (size_t c : kClasses) {
		if (c > max)
			break;
		/* a free Normal object of the class at hand */
		void *normal = kmalloc(c, GFP_KERNEL);
		KTEST_EXPECT_NOT_NULL(t, normal);
		kfree(normal);
		unsigned char *p = static_cast<unsigned char *>(kmalloc(c, GFP_DMA));
		if (!KTEST_EXPECT_NOT_NULL(t, p))
			continue;
		KTEST_EXPECT_TRUE(t, in_dma(p));
		KTEST_EXPECT_TRUE(t, in_dma(p + c - 1));
		KTEST_EXPECT_EQ(t, ksize(p), c);
		KTEST_EXPECT_EQ(t, addr_of(p) % promised_align(c), 0);
		__builtin_memset(p, 0x5a, c);
		kfree(p); /* dirty: kzalloc's object is likely this one */
		void *z = kzalloc(c, GFP_DMA);
		if (KTEST_EXPECT_NOT_NULL(t, z)) {
			KTEST_EXPECT_TRUE(t, in_dma(z));
			KTEST_EXPECT_TRUE(t, all_zero(z, c));
		}
		kfree(z);
	}
	/* kmalloc_array / kcalloc pass the zone on */
	void *arr = kcalloc(3, 20, GFP_DMA);
	if (KTEST_EXPECT_NOT_NULL(t, arr)) {
		KTEST_EXPECT_TRUE(t, in_dma(arr));
		KTEST_EXPECT_TRUE(t, all_zero(arr, 60));
	}
	kfree(arr);
	/* above the largest class: DMA pages, if the zone has room to spare */
	if (dma_bytes >= 8 * (max + 1)) {
		void *big = kmalloc(max + 1, GFP_DMA);
		if (KTEST_EXPECT_NOT_NULL(t, big))
			KTEST_EXPECT_TRUE(t, in_dma(big));
		kfree(big);
	}
	/* krealloc: a Normal object moves, its data with it */
	char *n = static_cast<char *>(kmalloc(40, GFP_KERNEL));
	KTEST_ASSERT_NOT_NULL(t, n);
	for (int i = 0; i < 40; ++i)
		n[i] = static_cast<char>(i + 1);
	bool normal_first = !in_dma(n);
	char *d = static_cast<char *>(krealloc(n, 30, GFP_DMA));
	KTEST_ASSERT_NOT_NULL(t, d);
	KTEST_EXPECT_TRUE(t, in_dma(d));
	if (normal_first)
		KTEST_EXPECT_TRUE(t, d != n); /* moved, although it shrank */
	bool kept = true;
	for (int i = 0; i < 30; ++i)
		kept = kept && d[i] == static_cast<char>(i + 1);
	KTEST_EXPECT_TRUE(t, kept);
	/* ... and a DMA object stays where it is */
	KTEST_EXPECT_EQ(t, krealloc(d, 20, GFP_DMA), d);
	kfree(d);
}

void keep_ctor(void *x) { *static_cast<unsigned *>(x) = 0xc0ffee; }

/* kmem_cache_alloc(GFP_DMA) from a cache without SLAB_CACHE_DMA is misuse:
 * refused with a report on the inline path (an object at hand, which goes
 * back) and on the slow path (none), bulk too, the cache unchanged. A
 * SLAB_CACHE_DMA cache puts every object in the DMA zone, with or without
 * GFP_DMA, its ctor kept as usual. */
void gfp_dma_kmem_cache(struct ktest *t)
{
	struct kmem_cache *plain = kmem_cache_create("ktest-plain", 48, 0, 0, nullptr);
	KTEST_ASSERT_NOT_NULL(t, plain);
	void *o = kmem_cache_alloc(plain, GFP_KERNEL);
	KTEST_ASSERT_NOT_NULL(t, o);
	kmem_cache_free(plain, o); /* the inline path's next pop */
	struct kmem_cache_info before, after;
	KTEST_ASSERT_EQ(t, kmem_cache_get_info(plain, &before), 0);
	unsigned long bugs = kmm_bug_count();
	KTEST_EXPECT_NULL(t, kmem_cache_alloc(plain, GFP_DMA));
	KTEST_EXPECT_EQ(t, kmm_bug_count(), bugs + 1);
	KTEST_ASSERT_EQ(t, kmem_cache_get_info(plain, &after), 0);
	KTEST_EXPECT_EQ(t, after.active_objs, before.active_objs);
	KTEST_EXPECT_EQ(t, after.num_objs, before.num_objs);
	/* the pop and the put-back are no alloc and free of the caller's */
	KTEST_EXPECT_EQ(t, after.alloc_fastpath, before.alloc_fastpath);
	KTEST_EXPECT_EQ(t, after.alloc_slowpath, before.alloc_slowpath);
	KTEST_EXPECT_EQ(t, after.free_fastpath, before.free_fastpath);
	KTEST_EXPECT_EQ(t, after.free_slowpath, before.free_slowpath);
	KTEST_EXPECT_EQ(t, kmem_cache_alloc(plain, GFP_KERNEL), o); /* the object went back */
	kmem_cache_free(plain, o);
	kmem_cache_shrink(plain); /* nothing at hand: the slow path */
	KTEST_EXPECT_NULL(t, kmem_cache_alloc(plain, GFP_DMA | __GFP_ZERO));
	void *many[4] = {};
	KTEST_EXPECT_EQ(t, kmem_cache_alloc_bulk(plain, GFP_DMA, 4, many), 0);
	KTEST_EXPECT_EQ(t, kmm_bug_count(), bugs + 3);
	KTEST_ASSERT_EQ(t, kmem_cache_get_info(plain, &after), 0);
	KTEST_EXPECT_EQ(t, after.active_objs, 0);
	KTEST_EXPECT_EQ(t, kmm_slab_validate(), 0);
	kmem_cache_destroy(plain);
	t->expected_bugs = 3;

	if (ktest_env_zone_bytes(KMM_ZONE_DMA) == 0)
		return; /* gfp_dma_kmalloc: the create fails */
	struct kmem_cache *dma = kmem_cache_create("ktest-dma", 48, 0, SLAB_CACHE_DMA, keep_ctor);
	KTEST_ASSERT_NOT_NULL(t, dma);
	/* two slabs' worth (a 4K slab of a 48-byte ctor cache holds about 80) */
	constexpr unsigned kN = 100;
	void *objs[kN];
	unsigned got = 0, in_zone = 0, constructed = 0;
	for (unsigned i = 0; i < kN; ++i) {
		gfp_t gfp = i % 3 == 0 ? GFP_KERNEL : i % 3 == 1 ? GFP_DMA : GFP_DMA | __GFP_ZERO;
		objs[i] = kmem_cache_alloc(dma, gfp | kQuiet);
		if (objs[i] == nullptr)
			break;
		++got;
		in_zone += in_dma(objs[i]) ? 1u : 0u;
		if (i % 3 != 2)
			constructed += *static_cast<unsigned *>(objs[i]) == 0xc0ffee ? 1u : 0u;
		else
			constructed += all_zero(objs[i], 48) ? 1u : 0u;
	}
	KTEST_EXPECT_GE(t, got, 2); /* the smallest DMA zone holds at least a slab */
	KTEST_EXPECT_EQ(t, in_zone, got);
	KTEST_EXPECT_EQ(t, constructed, got);
	for (unsigned i = 0; i < got; ++i)
		kmem_cache_free(dma, objs[i]);
	kmem_cache_destroy(dma);
}


bool same_bytes(const void *a, const void *b, size_t n)
{
	const unsigned char *x = static_cast<const unsigned char *>(a);
	const unsigned char *y = static_cast<const unsigned char *>(b);
	for (size_t i = 0; i < n; ++i)
		if (x[i] != y[i])
			return false;
	return true;
}

bool same_string(const char *a, const char *b)
{
	while (*a != '\0' && *a == *b) {
		++a;
		++b;
	}
	return *a == *b;
}

void set_all_ones(void *x) { __builtin_memset(x, 0xff, 40); }

/* kmem_cache_zalloc zeroes a ctor cache's object too; kmemdup,
 * kmemdup_nul, kstrdup, kstrndup copy (NULL in, NULL out); krealloc_array
 * refuses an overflow and keeps p; the kv* family is kmalloc's. */
void linux_helpers(struct ktest *t)
{
	struct kmem_cache *c = kmem_cache_create("ktest-ones", 40, 0, 0, set_all_ones);
	KTEST_ASSERT_NOT_NULL(t, c);
	void *o = kmem_cache_alloc(c, GFP_KERNEL);
	KTEST_ASSERT_NOT_NULL(t, o);
	KTEST_EXPECT_EQ(t, static_cast<unsigned char *>(o)[39], 0xff);
	kmem_cache_free(c, o);
	void *z = kmem_cache_zalloc(c, GFP_KERNEL);
	KTEST_ASSERT_NOT_NULL(t, z);
	KTEST_EXPECT_TRUE(t, all_zero(z, 40));
	kmem_cache_free(c, z);
	kmem_cache_destroy(c);

	static const char kText[] = "kmm: a Linux-style memory manager";
	void *d = kmemdup(kText, sizeof(kText), GFP_KERNEL);
	KTEST_ASSERT_NOT_NULL(t, d);
	KTEST_EXPECT_TRUE(t, d != static_cast<const void *>(kText));
	KTEST_EXPECT_TRUE(t, same_bytes(d, kText, sizeof(kText)));
	kfree(d);
	KTEST_EXPECT_EQ(t, kmemdup(kText, 0, GFP_KERNEL), ZERO_SIZE_PTR);
	char *s = kstrdup(kText, GFP_KERNEL);
	KTEST_ASSERT_NOT_NULL(t, s);
	KTEST_EXPECT_TRUE(t, same_string(s, kText));
	KTEST_EXPECT_GE(t, ksize(s), sizeof(kText));
	kfree(s);
	char *n = kstrndup(kText, 3, GFP_KERNEL);
	KTEST_ASSERT_NOT_NULL(t, n);
	KTEST_EXPECT_TRUE(t, same_string(n, "kmm"));
	kfree(n);
	n = kstrndup("ab", 10, GFP_KERNEL); /* shorter than max */
	KTEST_ASSERT_NOT_NULL(t, n);
	KTEST_EXPECT_TRUE(t, same_string(n, "ab"));
	kfree(n);
	char *m = kmemdup_nul("abc\0def", 7, GFP_KERNEL); /* len bytes, NULs and all */
	KTEST_ASSERT_NOT_NULL(t, m);
	KTEST_EXPECT_TRUE(t, same_bytes(m, "abc\0def", 8));
	kfree(m);
	KTEST_EXPECT_NULL(t, kstrdup(nullptr, GFP_KERNEL));
	KTEST_EXPECT_NULL(t, kstrndup(nullptr, 4, GFP_KERNEL));
	KTEST_EXPECT_NULL(t, kmemdup_nul(nullptr, 4, GFP_KERNEL));
	char *e = kstrdup("", GFP_KERNEL);
	KTEST_ASSERT_NOT_NULL(t, e);
	KTEST_EXPECT_EQ(t, e[0], '\0');
	kfree(e);

	int *a = static_cast<int *>(krealloc_array(nullptr, 4, sizeof(int), GFP_KERNEL));
	KTEST_ASSERT_NOT_NULL(t, a);
	for (int i = 0; i < 4; ++i)
		a[i] = i + 1;
	KTEST_EXPECT_NULL(t, krealloc_array(a, SIZE_MAX / 2, 4, GFP_KERNEL)); /* overflow: a intact */
	int *b = static_cast<int *>(krealloc_array(a, 64, sizeof(int), GFP_KERNEL));
	KTEST_ASSERT_NOT_NULL(t, b);
	KTEST_EXPECT_TRUE(t, b[0] == 1 && b[3] == 4);
	kfree(b);

	void *v = kvzalloc(100, GFP_KERNEL);
	KTEST_ASSERT_NOT_NULL(t, v);
	KTEST_EXPECT_TRUE(t, all_zero(v, 100));
	KTEST_EXPECT_EQ(t, ksize(v), 128);
	kvfree(v);
	v = kvmalloc(kmalloc_max_cache_size() + 1, GFP_KERNEL);
	KTEST_ASSERT_NOT_NULL(t, v);
	KTEST_EXPECT_EQ(t, ksize(v), kmalloc_size_roundup(kmalloc_max_cache_size() + 1));
	kvfree(v);
	v = kvcalloc(3, 8, GFP_KERNEL);
	KTEST_ASSERT_NOT_NULL(t, v);
	KTEST_EXPECT_TRUE(t, all_zero(v, 24));
	kvfree(v);
	KTEST_EXPECT_NULL(t, kvmalloc_array(SIZE_MAX / 2, 4, GFP_KERNEL));
	KTEST_EXPECT_NULL(t, kvcalloc(SIZE_MAX / 2, 4, GFP_KERNEL));

	/* kvrealloc (Linux 6.12's three arguments) is krealloc */
	char *r = static_cast<char *>(kvrealloc(nullptr, 10, GFP_KERNEL));
	KTEST_ASSERT_NOT_NULL(t, r);
	__builtin_memcpy(r, "0123456789", 10);
	r = static_cast<char *>(kvrealloc(r, 300, GFP_KERNEL));
	KTEST_ASSERT_NOT_NULL(t, r);
	KTEST_EXPECT_TRUE(t, same_bytes(r, "0123456789", 10));
	KTEST_EXPECT_GE(t, ksize(r), 300);
	KTEST_EXPECT_EQ(t, kvrealloc(r, 0, GFP_KERNEL), ZERO_SIZE_PTR); /* size 0 frees */
	d = kvmemdup(kText, sizeof(kText), GFP_KERNEL);
	KTEST_ASSERT_NOT_NULL(t, d);
	KTEST_EXPECT_TRUE(t, same_bytes(d, kText, sizeof(kText)));
	kvfree(d);
	static const unsigned short kWords[5] = {1, 2, 3, 4, 0xbeef};
	auto *w = static_cast<unsigned short *>(kmemdup_array(kWords, 5, sizeof(kWords[0]), GFP_KERNEL));
	KTEST_ASSERT_NOT_NULL(t, w);
	KTEST_EXPECT_TRUE(t, same_bytes(w, kWords, sizeof(kWords)));
	KTEST_EXPECT_EQ(t, ksize(w), 16);
	kfree(w);
	KTEST_EXPECT_NULL(t, kmemdup_array(kWords, SIZE_MAX / 2, 4, GFP_KERNEL)); /* overflow */
	KTEST_EXPECT_EQ(t, kmemdup_array(kWords, 0, 2, GFP_KERNEL), ZERO_SIZE_PTR);

	/* kmem_cache_create_usercopy: kmem_cache_create's cache */
	c = kmem_cache_create_usercopy("ktest-usercopy", 48, 16, 0, 8, 16, set_all_ones);
	KTEST_ASSERT_NOT_NULL(t, c);
	KTEST_EXPECT_EQ(t, kmem_cache_size(c), 48);
	o = kmem_cache_alloc(c, GFP_KERNEL);
	KTEST_ASSERT_NOT_NULL(t, o);
	KTEST_EXPECT_EQ(t, reinterpret_cast<uintptr_t>(o) % 16, 0);
	KTEST_EXPECT_EQ(t, static_cast<unsigned char *>(o)[39], 0xff);
	kmem_cache_free(c, o);
	kmem_cache_destroy(c);
}

/* kmalloc_size_roundup(n) is ksize(kmalloc(n)) for every size up to past
 * the largest class, without allocating; 0 stays 0. */
void size_roundup_matches_ksize(struct ktest *t)
{
	KTEST_EXPECT_EQ(t, kmalloc_size_roundup(0), 0);
	size_t max = kmalloc_max_cache_size();
	for (size_t n = 1; n <= max + 2 * PAGE_SIZE + 1; n += n < 300 ? 1 : 61) {
		size_t predicted = kmalloc_size_roundup(n);
		void *p = kmalloc(n, GFP_KERNEL);
		if (!KTEST_EXPECT_NOT_NULL(t, p))
			continue;
		if (ksize(p) != predicted) {
			KTEST_EXPECT_EQ(t, ksize(p), predicted);
			kfree(p);
			break;
		}
		kfree(p);
	}
	size_t huge = (size_t{PAGE_SIZE} << KMM_MAX_ORDER) + 1;
	KTEST_EXPECT_EQ(t, kmalloc_size_roundup(huge), huge);
	/* with the debug guard pages on, large blocks are whole pages */
	kmm_kmalloc_guard_pages(1);
	for (size_t n = max + 1; n <= max + 5 * PAGE_SIZE; n += PAGE_SIZE / 2 + 3) {
		void *p = kmalloc(n, GFP_KERNEL);
		if (!KTEST_EXPECT_NOT_NULL(t, p))
			continue;
		KTEST_EXPECT_EQ(t, ksize(p), kmalloc_size_roundup(n));
		kfree(p);
	}
#if KMM_SLAB_DEBUG
	/* fits the largest block, but not with its two guard pages: kmalloc
	 * fails there, so the size itself (not the pages it would round to) */
	size_t tight = (size_t{PAGE_SIZE} << KMM_MAX_ORDER) - PAGE_SIZE + 1;
	KTEST_EXPECT_EQ(t, kmalloc_size_roundup(tight), tight);
	KTEST_EXPECT_NULL(t, kmalloc(tight, GFP_KERNEL | __GFP_NOWARN));
#endif
	kmm_kmalloc_guard_pages(0);
	/* it allocates nothing */
	kmm_slab_shrink_all();
	size_t free_now = kmm_free_pages();
	size_t sum = 0;
	for (size_t n = 1; n <= 2 * max; n += 7)
		sum += kmalloc_size_roundup(n);
	KTEST_EXPECT_GT(t, sum, 0);
	KTEST_EXPECT_EQ(t, kmm_free_pages(), free_now);
}

/* kfree_sensitive zeroes the whole object before the free (seen through
 * the next kmalloc of the class, which returns the same object from the
 * magazine or freelist); NULL and ZERO_SIZE_PTR are no-ops; a foreign
 * pointer and an object already free are reported and left alone. */
void kfree_sensitive_zeroes(struct ktest *t)
{
	unsigned char *p = static_cast<unsigned char *>(kmalloc(200, GFP_KERNEL));
	KTEST_ASSERT_NOT_NULL(t, p);
	size_t n = ksize(p);
	__builtin_memset(p, 0x3c, n);
	kfree_sensitive(p);
	unsigned char *q = static_cast<unsigned char *>(kmalloc(200, GFP_KERNEL));
	KTEST_ASSERT_NOT_NULL(t, q);
	KTEST_EXPECT_EQ(t, q, p); /* LIFO: else the check below proves nothing */
	KTEST_EXPECT_EQ(t, ksize(q), n); /* and all of it is ours to read */
	size_t dirty = 0;
	for (size_t i = 0; i < n; ++i)
		dirty += q[i] == 0x3c ? 1u : 0u;
	KTEST_EXPECT_EQ(t, dirty, 0);
	kfree(q);
	kfree_sensitive(nullptr);
	kfree_sensitive(ZERO_SIZE_PTR);
	/* a foreign pointer: reported as ksize reports it, nothing more */
	unsigned long bugs = kmm_bug_count();
	KTEST_EXPECT_EQ(t, ksize(kNotManaged), 0);
	unsigned long ksize_reports = kmm_bug_count() - bugs;
	KTEST_EXPECT_GE(t, ksize_reports, 1);
	kfree_sensitive(kNotManaged);
	KTEST_EXPECT_EQ(t, kmm_bug_count(), bugs + 2 * ksize_reports);
	KTEST_EXPECT_EQ(t, kNotManaged[0], 1); /* untouched */

	/* an object already free — in the magazine, then (after a shrink, with
	 * its slab kept by another object) on its slab's freelist: reported,
	 * left alone, and handed out once only afterwards */
	void *keep = kmalloc(64, GFP_KERNEL);
	void *a = kmalloc(64, GFP_KERNEL);
	KTEST_ASSERT_NOT_NULL(t, keep);
	KTEST_ASSERT_NOT_NULL(t, a);
	kfree(a);
	unsigned long before_free = kmm_bug_count();
	kfree_sensitive(a);
	KTEST_EXPECT_EQ(t, kmm_bug_count(), before_free + 1);
	kmm_slab_shrink_all();
	kfree_sensitive(a);
	KTEST_EXPECT_EQ(t, kmm_bug_count(), before_free + 2);
	KTEST_EXPECT_EQ(t, kmm_slab_validate(), 0);
	void *got[80];
	unsigned n_got = 0, times_a = 0;
	for (; n_got < 80; ++n_got) {
		got[n_got] = kmalloc(64, GFP_KERNEL);
		if (got[n_got] == nullptr)
			break;
		times_a += got[n_got] == a ? 1u : 0u;
	}
	KTEST_EXPECT_EQ(t, times_a, 1);
	for (unsigned i = 0; i < n_got; ++i)
		kfree(got[i]);
	kfree(keep);
	t->expected_bugs = 2 * ksize_reports + 2;

	/* an object of a ctor cache (kfree takes any slab object): the secret
	 * is wiped and the object still goes back constructed, as its cache
	 * hands out every object (it came back zeroed, its ctor's state lost) */
	struct kmem_cache *c = kmem_cache_create("ktest-sensitive", 40, 0, 0, keep_ctor);
	KTEST_ASSERT_NOT_NULL(t, c);
	unsigned char *secret = static_cast<unsigned char *>(kmem_cache_alloc(c, GFP_KERNEL));
	KTEST_ASSERT_NOT_NULL(t, secret);
	__builtin_memset(secret, 0x5a, 40);
	kfree_sensitive(secret);
	unsigned *again = static_cast<unsigned *>(kmem_cache_alloc(c, GFP_KERNEL));
	KTEST_EXPECT_EQ(t, static_cast<void *>(again), static_cast<void *>(secret)); /* LIFO, as above */
	if (again != nullptr) {
		KTEST_EXPECT_EQ(t, *again, 0xc0ffee);
		size_t left = 0;
		for (size_t i = sizeof(unsigned); i < 40; ++i)
			left += reinterpret_cast<unsigned char *>(again)[i] == 0x5a ? 1u : 0u;
		KTEST_EXPECT_EQ(t, left, 0);
	}
	kmem_cache_free(c, again);
	kmem_cache_destroy(c);
}

/* kstrdup_const: where the linker script defines kmm_rodata_start/end
 * (every kmm board), a string in read-only data comes back as it is and
 * kfree_const skips it; where not (the host), it is a copy. A string on the
 * stack is a copy either way. The runner checks that nothing leaked. */
void kstrdup_const_of_read_only_data(struct ktest *t)
{
	static const char kName[] = "ktest-rodata";
	const bool have_rodata = kmm_rodata_start != nullptr;
	const char *c = kstrdup_const(kName, GFP_KERNEL);
	KTEST_ASSERT_NOT_NULL(t, c);
	KTEST_EXPECT_TRUE(t, (c == kName) == have_rodata);
	KTEST_EXPECT_TRUE(t, same_string(c, kName));
	kfree_const(c);
	char local[] = "on the stack";
	const char *d = kstrdup_const(local, GFP_KERNEL);
	KTEST_ASSERT_NOT_NULL(t, d);
	KTEST_EXPECT_TRUE(t, d != local);
	KTEST_EXPECT_TRUE(t, same_string(d, local));
	kfree_const(d);
}

const ktest_case cases[] = {
	{"zero_size", zero_size},
	{"every_class_size_and_alignment", every_class_size_and_alignment},
	{"every_size_fits_its_class", every_size_fits_its_class},
	{"large_kmalloc_is_pages", large_kmalloc_is_pages},
	{"kzalloc_zeroes", kzalloc_zeroes},
	{"krealloc_cases", krealloc_cases},
	{"kcalloc_overflow", kcalloc_overflow},
	{"misuse_refused", misuse_refused},
	{"exhaust_and_recover", exhaust_and_recover},
	{"gfp_dma_kmalloc", gfp_dma_kmalloc},
	{"gfp_dma_kmem_cache", gfp_dma_kmem_cache},
	{"linux_helpers", linux_helpers},
	{"size_roundup_matches_ksize", size_roundup_matches_ksize},
	{"kfree_sensitive_zeroes", kfree_sensitive_zeroes},
	{"kstrdup_const_of_read_only_data", kstrdup_const_of_read_only_data},
};

} // namespace

KTEST_SUITE(kmalloc, cases);

/*
 * tests/host/test_oom.cpp — the allocation-failure audit: every allocating
 * path of kmm's public API walked with "fail the 1st, 2nd, 3rd … page
 * request" (support/fault_walk.h, mm built with KMM_FAULT_INJECT=1), once
 * per request and from a request on, plain and with slub_debug FZPU. Each
 * workload checks what its calls' documentation promises on failure; the
 * walk checks that nothing is left behind. Also the OOM hook under real
 * exhaustion.
 */
#include <gtest/gtest.h>

#include <cstring>
#include <memory_resource>
#include <new>
#include <vector>

#include <kmm/kmm.h>
#include <kmm/kmm.hpp>
#include <kmm/kmm_pmr.hpp>

#include "support/fault_walk.h"

/* The libc shim's entry points, renamed (tests/host/rename_shim_symbols.cmake). */
extern "C" {
void *kmm_shim_malloc(size_t size);
void *kmm_shim_calloc(size_t n, size_t size);
void *kmm_shim_realloc(void *p, size_t size);
void *kmm_shim_aligned_alloc(size_t align, size_t size);
int kmm_shim_posix_memalign(void **out, size_t align, size_t size);
void kmm_shim_free(void *p);
void *kmm_shim__Znwm(size_t size);
void *kmm_shim__ZnwmRKSt9nothrow_t(size_t size, const std::nothrow_t &);
void *kmm_shim__ZnamSt11align_val_tRKSt9nothrow_t(size_t size, std::align_val_t align, const std::nothrow_t &);
std::new_handler kmm_shim__ZSt15set_new_handlerPFvvE(std::new_handler handler) noexcept;
}

namespace {

using kmm_test::FaultMode;
using kmm_test::FaultWalk;
using kmm_test::WalkParam;

constexpr unsigned kCtorMagic = 0x5eedc0deu;
struct CtorObject {
	unsigned magic = kCtorMagic; /* what PreservingCache's T() sets */
	unsigned payload[13];
};
void ctor_object(void *p) { static_cast<CtorObject *>(p)->magic = kCtorMagic; }

void fill(void *p, size_t n, unsigned seed)
{
	auto *b = static_cast<unsigned char *>(p);
	for (size_t i = 0; i < n; ++i)
		b[i] = static_cast<unsigned char>(seed + i * 7);
}
bool intact(const void *p, size_t n, unsigned seed)
{
	auto *b = static_cast<const unsigned char *>(p);
	for (size_t i = 0; i < n; ++i)
		if (b[i] != static_cast<unsigned char>(seed + i * 7))
			return false;
	return true;
}
bool zeroed(const void *p, size_t n)
{
	auto *b = static_cast<const unsigned char *>(p);
	for (size_t i = 0; i < n; ++i)
		if (b[i] != 0)
			return false;
	return true;
}

class OomWalk : public FaultWalk {};

/* ---- the slab layer coming up (its first use) ---- */

TEST_P(OomWalk, SlabLayerStart)
{
	/* The pages the slab layer keeps once up (the kmalloc caches'
	 * descriptors): every run below ends with it up. */
	boot(false);
	const size_t before = kmm_free_pages();
	ASSERT_GT(kmalloc_max_cache_size(), 0u);
	settle();
	const size_t held = before - kmm_free_pages();
	shutdown();
	walk([&] {
		void *p = checked(GFP_KERNEL, [] { return kmalloc(40, GFP_KERNEL); }, "first kmalloc");
		fault().stop();
		if (p == nullptr) {
			/* nothing half-built: a later call starts it again */
			p = kmalloc(40, GFP_KERNEL);
			ASSERT_NE(p, nullptr) << "the slab layer did not come up after a failed start, N=" << n;
		}
		kfree(p);
		/* and a failure during the start took nothing away for good:
		 * every class serves GFP_DMA too (its dma-kmalloc twin) */
		for (size_t size = 8; size <= kmalloc_max_cache_size(); size *= 2) {
			void *d = kmalloc(size, GFP_KERNEL | GFP_DMA);
			EXPECT_NE(d, nullptr) << "kmalloc(" << size << ", GFP_DMA) after a failure at N=" << n;
			kfree(d);
		}
		baseline -= held;
	}, false);
}

/* The same, the first call with __GFP_NOWARN | __GFP_NORETRY: a failed
 * start warns nothing and runs no OOM hook, as that call asked. */
TEST_P(OomWalk, SlabLayerStartQuiet)
{
	/* The pages the slab layer keeps once up (the kmalloc caches'
	 * descriptors): every run below ends with it up. */
	boot(false);
	const size_t before = kmm_free_pages();
	ASSERT_GT(kmalloc_max_cache_size(), 0u);
	settle();
	const size_t held = before - kmm_free_pages();
	shutdown();
	walk([&] {
		constexpr gfp_t kQuiet = GFP_KERNEL | __GFP_NOWARN | __GFP_NORETRY;
		void *p = checked(kQuiet, [] { return kmalloc(40, kQuiet); }, "first kmalloc");
		fault().stop();
		if (p == nullptr) {
			/* nothing half-built: a later call starts it again */
			p = kmalloc(40, GFP_KERNEL);
			ASSERT_NE(p, nullptr) << "the slab layer did not come up after a failed start, N=" << n;
		}
		kfree(p);
		/* and a failure during the start took nothing away for good:
		 * every class serves GFP_DMA too (its dma-kmalloc twin) */
		for (size_t size = 8; size <= kmalloc_max_cache_size(); size *= 2) {
			void *d = kmalloc(size, GFP_KERNEL | GFP_DMA);
			EXPECT_NE(d, nullptr) << "kmalloc(" << size << ", GFP_DMA) after a failure at N=" << n;
			kfree(d);
		}
		baseline -= held;
	}, false);
}

/* ---- kmem_cache_create, slab growth, ctors ---- */

TEST_P(OomWalk, CacheCreateAndGrow)
{
	struct Spec {
		const char *name;
		unsigned size;
		unsigned align;
		slab_flags_t flags;
		void (*ctor)(void *);
	};
	const Spec specs[] = {
		{"oom-small", 24, 0, 0, nullptr},
		{"oom-ctor", sizeof(CtorObject), 0, 0, ctor_object},
		{"oom-aligned", 100, 64, SLAB_HWCACHE_ALIGN, nullptr},
		{"oom-multipage", static_cast<unsigned>(PAGE_SIZE) + 200, 0, 0, nullptr},
		{"oom-ctor-big", static_cast<unsigned>(PAGE_SIZE) * 2 - 8, 0, 0, ctor_object},
	};
	walk([&] {
		for (const Spec &sp : specs) {
			kmem_cache *s = checked(GFP_KERNEL, [&] { return kmem_cache_create(sp.name, sp.size, sp.align, sp.flags, sp.ctor); },
						sp.name);
			if (s == nullptr)
				continue;
			kmem_cache_info info{};
			ASSERT_EQ(kmem_cache_get_info(s, &info), 0);
			/* three slabs' worth: the first slab and two more */
			const unsigned want = 2 * info.objects_per_slab + 1;
			std::vector<void *> objs;
			for (unsigned i = 0; i < want; ++i) {
				const gfp_t gfp = i % 3 == 2 ? GFP_KERNEL | __GFP_NOWARN : GFP_KERNEL;
				void *o = checked(gfp, [&] { return kmem_cache_alloc(s, gfp); }, sp.name);
				if (o == nullptr)
					break;
				if (sp.ctor != nullptr) {
					EXPECT_EQ(static_cast<CtorObject *>(o)->magic, kCtorMagic) << sp.name << " N=" << n;
				}
				std::memset(o, 0x5a, sp.size);
				if (sp.ctor != nullptr)
					static_cast<CtorObject *>(o)->magic = kCtorMagic; /* as its user leaves it */
				objs.push_back(o);
			}
			ASSERT_EQ(kmem_cache_get_info(s, &info), 0);
			EXPECT_EQ(info.active_objs, objs.size()) << sp.name << " N=" << n;
			for (void *o : objs)
				kmem_cache_free(s, o);
			kmem_cache_destroy(s);
		}
	});
}

TEST_P(OomWalk, ZallocAndDmaCache)
{
	walk([&] {
		kmem_cache *s = checked(GFP_KERNEL, [] { return kmem_cache_create("oom-dma", 200, 0, SLAB_CACHE_DMA, nullptr); },
					"create dma cache");
		if (s == nullptr)
			return;
		std::vector<void *> objs;
		for (unsigned i = 0; i < 40; ++i) {
			void *o = checked(GFP_KERNEL, [&] { return kmem_cache_zalloc(s, GFP_KERNEL | GFP_DMA); }, "zalloc dma");
			if (o == nullptr)
				break;
			EXPECT_TRUE(zeroed(o, 200));
			objs.push_back(o);
		}
		for (void *o : objs)
			kmem_cache_free(s, o);
		kmem_cache_destroy(s);
	});
}

/* ---- kmem_cache_alloc_bulk: all or nothing ---- */

TEST_P(OomWalk, AllocBulk)
{
	walk([&] {
		kmem_cache *s = checked(GFP_KERNEL, [] { return kmem_cache_create("oom-bulk", 48, 0, 0, nullptr); }, "create");
		if (s == nullptr)
			return;
		kmem_cache_info info{};
		ASSERT_EQ(kmem_cache_get_info(s, &info), 0);
		const size_t nr = 3 * info.objects_per_slab + 5;
		std::vector<void *> p(nr, nullptr);
		int got = checked(GFP_KERNEL, [&] { return kmem_cache_alloc_bulk(s, GFP_KERNEL, nr, p.data()); }, "alloc_bulk");
		ASSERT_EQ(kmem_cache_get_info(s, &info), 0);
		if (got == 0) {
			/* Linux semantics: 0, and what it took is back */
			EXPECT_EQ(info.active_objs, 0u) << "N=" << n;
		} else {
			ASSERT_EQ(static_cast<size_t>(got), nr);
			EXPECT_EQ(info.active_objs, nr);
			kmem_cache_free_bulk(s, nr, p.data());
		}
		kmem_cache_destroy(s);
	});
}

/* ---- kmalloc: every class, large blocks, DMA ---- */

TEST_P(OomWalk, KmallocEveryClass)
{
	walk([&] {
		std::vector<void *> objs;
		const size_t max = kmalloc_max_cache_size();
		for (size_t size = 8; size <= max; size *= 2) {
			for (size_t sz : {size - size / 4, size}) { /* 96 and 192 among them */
				/* enough for two slabs of the larger classes, 3 … 24 objects
				 * (second slabs of small objects: CacheCreateAndGrow) */
				size_t count = 2 * (2 * PAGE_SIZE) / sz + 1;
				count = count < 3 ? 3 : count > 24 ? 24 : count;
				for (size_t i = 0; i < count; ++i) {
					const gfp_t gfp = i % 2 == 0 ? GFP_KERNEL : GFP_KERNEL | __GFP_ZERO;
					void *o = checked(gfp, [&] { return kmalloc(sz, gfp); }, "kmalloc");
					if (o == nullptr)
						break;
					if ((gfp & __GFP_ZERO) != 0) {
						EXPECT_TRUE(zeroed(o, sz));
					}
					std::memset(o, 0x33, sz);
					objs.push_back(o);
				}
			}
		}
		for (void *o : objs)
			kfree(o);
	});
}

TEST_P(OomWalk, KmallocDmaAndArrays)
{
	walk([&] {
		std::vector<void *> objs;
		for (size_t sz : {16u, 100u, 1000u, 3000u}) {
			for (int i = 0; i < 6; ++i) {
				void *o = checked(GFP_KERNEL, [&] { return kmalloc(sz, GFP_KERNEL | GFP_DMA); }, "kmalloc dma");
				if (o != nullptr)
					objs.push_back(o);
			}
		}
		void *a = checked(GFP_KERNEL, [] { return kcalloc(300, 8, GFP_KERNEL); }, "kcalloc");
		if (a != nullptr) {
			EXPECT_TRUE(zeroed(a, 2400));
			objs.push_back(a);
		}
		void *b = checked(GFP_KERNEL, [] { return kmalloc_array(5, 1000, GFP_KERNEL); }, "kmalloc_array");
		if (b != nullptr)
			objs.push_back(b);
		void *c = checked(GFP_ATOMIC, [] { return kzalloc(700, GFP_ATOMIC); }, "kzalloc atomic");
		if (c != nullptr)
			objs.push_back(c);
		for (void *o : objs)
			kfree(o);
	});
}

TEST_P(OomWalk, KmallocLarge)
{
	walk([&] {
		const size_t max = kmalloc_max_cache_size();
		std::vector<void *> objs;
		if (GetParam().debug) /* the FZPU runs: with guard pages around large blocks as well */
			kmm_kmalloc_guard_pages(1);
		for (size_t sz : {max + 1, 3 * PAGE_SIZE, 16 * PAGE_SIZE + 5, (PAGE_SIZE << KMM_MAX_ORDER) / 4}) {
			for (gfp_t gfp : {GFP_KERNEL, GFP_KERNEL | __GFP_ZERO | __GFP_NOWARN}) {
				void *o = checked(gfp, [&] { return kmalloc(sz, gfp); }, "large kmalloc");
				if (o == nullptr)
					continue;
				if ((gfp & __GFP_ZERO) != 0) {
					EXPECT_TRUE(zeroed(o, sz));
				}
				EXPECT_GE(ksize(o), sz);
				objs.push_back(o);
			}
		}
		for (void *o : objs)
			kfree(o);
		kmm_kmalloc_guard_pages(0);
	});
}

/* ---- krealloc: a failed growth leaves the old block the caller's ---- */

TEST_P(OomWalk, KreallocGrowth)
{
	walk([&] {
		size_t len = 24;
		void *p = checked(GFP_KERNEL, [&] { return kmalloc(len, GFP_KERNEL); }, "kmalloc");
		if (p == nullptr)
			return;
		fill(p, len, 3);
		for (size_t next : {size_t{100}, size_t{1000}, size_t{5000}, 3 * PAGE_SIZE, 20 * PAGE_SIZE}) {
			for (gfp_t gfp : {GFP_KERNEL, GFP_KERNEL | __GFP_NOWARN | __GFP_ZERO}) {
				void *q = checked(gfp, [&] { return krealloc(p, next, gfp); }, "krealloc");
				if (q == nullptr) {
					/* the old block: intact, live, the caller's */
					EXPECT_TRUE(intact(p, len, 3)) << "N=" << n << " growth to " << next;
					EXPECT_GE(ksize(p), len);
					continue;
				}
				/* (not zeroed past len: only a block whose every
				 * krealloc had __GFP_ZERO is, as in Linux) */
				EXPECT_TRUE(intact(q, len, 3)) << "N=" << n;
				p = q;
				fill(p, next, 3);
				len = next;
				break;
			}
		}
		void *r = checked(GFP_KERNEL, [&] { return krealloc_array(p, 2, len, GFP_KERNEL); }, "krealloc_array");
		if (r == nullptr) {
			EXPECT_TRUE(intact(p, len, 3));
			kfree(p);
		} else {
			EXPECT_TRUE(intact(r, len, 3));
			kfree(r);
		}
	});
}

/* ---- the kvmalloc family and the string helpers ---- */

TEST_P(OomWalk, KvmallocAndDup)
{
	static const char text[] = "an allocation-failure audit of kmm";
	walk([&] {
		std::vector<void *> objs;
		auto keep = [&](void *p) {
			if (p != nullptr)
				objs.push_back(p);
		};
		keep(checked(GFP_KERNEL, [] { return kvmalloc(5000, GFP_KERNEL); }, "kvmalloc"));
		keep(checked(GFP_KERNEL, [] { return kvzalloc(9 * PAGE_SIZE, GFP_KERNEL); }, "kvzalloc"));
		keep(checked(GFP_KERNEL, [] { return kvmalloc_array(100, 64, GFP_KERNEL); }, "kvmalloc_array"));
		keep(checked(GFP_KERNEL, [] { return kvcalloc(50, 64, GFP_KERNEL); }, "kvcalloc"));
		void *d = checked(GFP_KERNEL, [] { return kmemdup(text, sizeof text, GFP_KERNEL); }, "kmemdup");
		if (d != nullptr) {
			EXPECT_EQ(std::memcmp(d, text, sizeof text), 0);
		}
		keep(d);
		char *s = checked(GFP_KERNEL, [] { return kstrdup(text, GFP_KERNEL); }, "kstrdup");
		if (s != nullptr) {
			EXPECT_STREQ(s, text);
		}
		keep(s);
		char *t = checked(GFP_KERNEL, [] { return kstrndup(text, 5, GFP_KERNEL); }, "kstrndup");
		if (t != nullptr) {
			EXPECT_STREQ(t, "an al");
		}
		keep(t);
		char *u = checked(GFP_KERNEL, [] { return kmemdup_nul(text, 9, GFP_KERNEL); }, "kmemdup_nul");
		if (u != nullptr) {
			EXPECT_STREQ(u, "an alloca");
		}
		keep(u);
		char stack_text[] = "not in read-only data";
		const char *c = checked(GFP_KERNEL, [&] { return kstrdup_const(stack_text, GFP_KERNEL); }, "kstrdup_const");
		if (c != nullptr) {
			EXPECT_STREQ(c, stack_text);
			kfree_const(c);
		}
		for (void *o : objs)
			kvfree(o);
	});
}

/* ---- pages ---- */

TEST_P(OomWalk, PageCalls)
{
	walk([&] {
		if (GetParam().debug) /* the FZPU runs: with page poisoning on as well */
			kmm_page_poison(1);
		std::vector<std::pair<struct page *, unsigned>> pages;
		for (unsigned order : {0u, 0u, 1u, 3u, 5u}) {
			for (gfp_t gfp : {GFP_KERNEL, GFP_KERNEL | __GFP_COMP | __GFP_ZERO, GFP_DMA | __GFP_NOWARN}) {
				struct page *pg = checked(gfp, [&] { return alloc_pages(gfp, order); }, "alloc_pages");
				if (pg == nullptr)
					continue;
				if ((gfp & __GFP_ZERO) != 0) {
					EXPECT_TRUE(zeroed(page_address(pg), PAGE_SIZE << order));
				}
				if ((gfp & __GFP_COMP) != 0 && order > 0) {
					EXPECT_EQ(compound_order(pg), order);
				}
				pages.emplace_back(pg, order);
			}
		}
		unsigned long a = checked(GFP_KERNEL, [] { return __get_free_pages(GFP_KERNEL, 2); }, "__get_free_pages");
		unsigned long z = checked(GFP_KERNEL, [] { return get_zeroed_page(GFP_KERNEL); }, "get_zeroed_page");
		if (z != 0) {
			EXPECT_TRUE(zeroed(reinterpret_cast<void *>(z), PAGE_SIZE));
		}
		unsigned long one = checked(GFP_ATOMIC, [] { return __get_free_page(GFP_ATOMIC); }, "__get_free_page");
		void *e = checked(GFP_KERNEL, [] { return alloc_pages_exact(5 * PAGE_SIZE + 1, GFP_KERNEL | __GFP_ZERO); },
				  "alloc_pages_exact");
		if (e != nullptr) {
			EXPECT_TRUE(zeroed(e, 6 * PAGE_SIZE));
		}
		void *f = checked(GFP_KERNEL | __GFP_NOWARN, [] { return alloc_pages_exact(3 * PAGE_SIZE, GFP_KERNEL | __GFP_NOWARN); },
				  "alloc_pages_exact nowarn");
		free_pages_exact(f, 3 * PAGE_SIZE);
		free_pages_exact(e, 5 * PAGE_SIZE + 1);
		free_page(one);
		free_page(z);
		free_pages(a, 2);
		for (auto [pg, order] : pages)
			__free_pages(pg, order);
	});
}

/* Many order-0 pages and back: the per-CPU lists refill from the buddy
 * lists, give batches back, and drain under pressure. */
TEST_P(OomWalk, PerCpuPageLists)
{
	walk([&] {
		std::vector<struct page *> pages;
		for (unsigned i = 0; i < 3 * KMM_PCP_HIGH + 7; ++i) {
			const gfp_t gfp = i % 2 != 0 ? GFP_ATOMIC : GFP_KERNEL;
			struct page *pg = checked(gfp, [&] { return alloc_page(gfp); }, "alloc_page");
			if (pg != nullptr)
				pages.push_back(pg);
			if (i % 5 == 4 && !pages.empty()) {
				__free_page(pages.back());
				pages.pop_back();
			}
		}
		for (struct page *pg : pages)
			__free_page(pg);
	});
}

/* ---- the libc shim ---- */

TEST_P(OomWalk, LibcShim)
{
	walk([&] {
		std::vector<void *> objs;
		auto keep = [&](void *p) {
			if (p != nullptr)
				objs.push_back(p);
		};
		for (size_t sz : {size_t{1}, size_t{50}, size_t{700}, size_t{5000}, 5 * PAGE_SIZE})
			keep(checked(GFP_KERNEL, [&] { return kmm_shim_malloc(sz); }, "malloc"));
		void *c = checked(GFP_KERNEL, [] { return kmm_shim_calloc(100, 30); }, "calloc");
		if (c != nullptr) {
			EXPECT_TRUE(zeroed(c, 3000));
		}
		keep(c);
		keep(checked(GFP_KERNEL, [] { return kmm_shim_aligned_alloc(256, 300); }, "aligned_alloc"));
		void *big = checked(GFP_KERNEL, [] { return kmm_shim_aligned_alloc(4 * PAGE_SIZE, 100); }, "aligned_alloc");
		if (big != nullptr) {
			EXPECT_EQ(reinterpret_cast<uintptr_t>(big) % (4 * PAGE_SIZE), 0u);
		}
		keep(big);
		/* operator new, nothrow forms: NULL (the others panic) */
		keep(checked(GFP_KERNEL, [] { return kmm_shim__ZnwmRKSt9nothrow_t(100, std::nothrow); }, "new(nothrow)"));
		keep(checked(GFP_KERNEL, [] { return kmm_shim__ZnwmRKSt9nothrow_t(3 * PAGE_SIZE, std::nothrow); },
			     "new(nothrow), pages"));
		keep(checked(GFP_KERNEL,
			     [] { return kmm_shim__ZnamSt11align_val_tRKSt9nothrow_t(300, std::align_val_t{512}, std::nothrow); },
			     "new[](align, nothrow)"));
		void *pm = nullptr;
		int rc = kmm_shim_posix_memalign(&pm, 4096, 100);
		if (rc == 0) {
			EXPECT_EQ(reinterpret_cast<uintptr_t>(pm) % 4096, 0u);
			objs.push_back(pm);
		} else {
			EXPECT_EQ(rc, 12) << "posix_memalign: ENOMEM";
		}
		/* realloc growth: a failure leaves p intact (and the caller's) */
		void *p = checked(GFP_KERNEL, [] { return kmm_shim_malloc(40); }, "malloc");
		if (p != nullptr) {
			fill(p, 40, 9);
			for (size_t sz : {size_t{400}, size_t{4000}, 8 * PAGE_SIZE}) {
				void *q = checked(GFP_KERNEL, [&] { return kmm_shim_realloc(p, sz); }, "realloc");
				if (q == nullptr) {
					EXPECT_TRUE(intact(p, 40, 9)) << "N=" << n;
					continue;
				}
				EXPECT_TRUE(intact(q, 40, 9)) << "N=" << n;
				p = q;
			}
			/* realloc shrinking: never fails, keeps the data */
			void *s = kmm_shim_realloc(p, 20);
			ASSERT_NE(s, nullptr);
			EXPECT_TRUE(intact(s, 20, 9));
			objs.push_back(s);
		}
		for (void *o : objs)
			kmm_shim_free(o);
	});
}

/* ---- the C++ wrappers ---- */

struct Widget {
	explicit Widget(int v) : value(v) { ++live; }
	~Widget() { --live; }
	int value;
	char pad[60];
	static inline int live = 0;
};

TEST_P(OomWalk, CxxWrappers)
{
	walk([&] {
		Widget::live = 0;
		{
			kmm::ObjectCache<Widget> cache(
				"oom-widget"); /* its create's failure: valid() false, make() NULL */
			std::vector<Widget *> ws;
			for (int i = 0; i < 150; ++i) {
				Widget *w = cache.valid() ? cache.make(i) : nullptr;
				if (w == nullptr)
					break;
				EXPECT_EQ(w->value, i);
				ws.push_back(w);
			}
			EXPECT_EQ(Widget::live, static_cast<int>(ws.size())) << "N=" << n;
			for (Widget *w : ws)
				cache.destroy(w);
			EXPECT_EQ(Widget::live, 0);
		}
		{
			kmm::PreservingCache<CtorObject> pc("oom-preserving");
			std::vector<CtorObject *> os;
			for (int i = 0; i < 200 && pc.valid(); ++i) {
				CtorObject *o = pc.alloc();
				if (o == nullptr)
					break;
				EXPECT_EQ(o->magic, kCtorMagic);
				os.push_back(o);
			}
			for (CtorObject *o : os)
				pc.release(o);
		}
		{
			/* std::vector over KmallocAllocator: bad_alloc, the vector as it was */
			std::vector<int, kmm::KmallocAllocator<int>> v;
			size_t good = 0;
			try {
				for (int i = 0; i < 5000; ++i) {
					v.push_back(i);
					good = v.size();
				}
			} catch (const std::bad_alloc &) {
				EXPECT_EQ(v.size(), good);
				for (size_t i = 0; i < v.size(); ++i)
					ASSERT_EQ(v[i], static_cast<int>(i));
			}
		}
		{
			kmm::KmallocResource res;
			std::pmr::vector<long> v(&res);
			size_t good = 0;
			try {
				for (long i = 0; i < 3000; ++i) {
					v.push_back(i);
					good = v.size();
				}
				for (size_t align : {size_t{512}, 2 * PAGE_SIZE}) {
					void *aligned = res.allocate(100, align);
					EXPECT_EQ(reinterpret_cast<uintptr_t>(aligned) % align, 0u);
					res.deallocate(aligned, 100, align);
				}
			} catch (const std::bad_alloc &) {
				EXPECT_EQ(v.size(), good);
			}
		}
	});
}

INSTANTIATE_TEST_SUITE_P(Walk, OomWalk,
			 ::testing::Values(WalkParam{false, FaultMode::kOnce}, WalkParam{false, FaultMode::kFromOn},
					   WalkParam{true, FaultMode::kOnce}, WalkParam{true, FaultMode::kFromOn}),
			 kmm_test::walk_param_name);

/* ---- the OOM hook, under real exhaustion (no injection) ---- */

struct HookState {
	struct page *reserve = nullptr; /* freed by the hook when set */
	unsigned reserve_order = 0;
	unsigned calls = 0;
	gfp_t gfp = 0;
	unsigned order = 0;
	static void hook(void *ctx, gfp_t gfp, unsigned order)
	{
		auto *h = static_cast<HookState *>(ctx);
		++h->calls;
		h->gfp = gfp;
		h->order = order;
		if (h->reserve != nullptr) {
			__free_pages(h->reserve, h->reserve_order);
			h->reserve = nullptr;
		}
	}
};

class OomHook : public FaultWalk {
protected:
	std::vector<struct page *> hog;
	HookState hs;

	/* Every free page taken, `reserve_order` kept aside for the hook. */
	void exhaust(unsigned reserve_order)
	{
		hs.reserve = alloc_pages(GFP_KERNEL, reserve_order);
		ASSERT_NE(hs.reserve, nullptr);
		hs.reserve_order = reserve_order;
		while (struct page *pg = alloc_pages(GFP_KERNEL | __GFP_NOWARN | __GFP_NORETRY | GFP_DMA, 0))
			hog.push_back(pg);
		while (struct page *pg = alloc_pages(GFP_KERNEL | __GFP_NOWARN | __GFP_NORETRY, 0))
			hog.push_back(pg);
		ASSERT_EQ(kmm_free_pages(), 0u);
		kmm_set_oom_hook(&HookState::hook, &hs);
		cap.clear();
	}
	void release()
	{
		kmm_set_oom_hook(nullptr, nullptr);
		for (struct page *pg : hog)
			__free_page(pg);
		hog.clear();
		if (hs.reserve != nullptr)
			__free_pages(hs.reserve, hs.reserve_order);
		hs.reserve = nullptr;
	}
	void SetUp() override { boot(); }
	void TearDown() override
	{
		release();
		check_clean("OomHook");
		shutdown();
	}
};

/* The hook runs once, with the caller's gfp and order; what it frees
 * serves the retry, without a warning. */
TEST_P(OomHook, FreeingHookLetsTheRetrySucceed)
{
	exhaust(3);
	void *p = kmalloc(3 * PAGE_SIZE, GFP_KERNEL);
	ASSERT_NE(p, nullptr);
	EXPECT_EQ(hs.calls, 1u);
	EXPECT_EQ(kmm_oom_count(), 1u);
	EXPECT_EQ(hs.order, 2u);
	EXPECT_EQ(hs.gfp & __GFP_NORETRY, 0u);
	EXPECT_EQ(cap.count_containing("allocation failure"), 0u);
	kfree(p);
}

TEST_P(OomHook, FreeingHookServesASlab)
{
	kmem_cache *s = kmem_cache_create("oom-hooked", 300, 0, 0, nullptr);
	ASSERT_NE(s, nullptr);
	kmem_cache_info info{};
	ASSERT_EQ(kmem_cache_get_info(s, &info), 0);
	exhaust(get_order(size_t{info.pages_per_slab} * PAGE_SIZE)); /* a slab's worth */
	void *o = kmem_cache_alloc(s, GFP_KERNEL);
	EXPECT_NE(o, nullptr);
	EXPECT_EQ(hs.calls, 1u);
	EXPECT_EQ(cap.count_containing("allocation failure"), 0u);
	kmem_cache_free(s, o);
	kmem_cache_destroy(s);
}

/* A hook that frees nothing: one call, then NULL with the warning. */
TEST_P(OomHook, HookThatFreesNothing)
{
	exhaust(0);
	hog.push_back(hs.reserve); /* kept by the test: the hook frees nothing */
	hs.reserve = nullptr;
	EXPECT_EQ(alloc_pages(GFP_KERNEL, 1), nullptr);
	EXPECT_EQ(hs.calls, 1u);
	EXPECT_EQ(cap.count_containing("page allocation failure"), 1u);
	/* __GFP_NORETRY: no hook, and __GFP_NOWARN: no warning */
	cap.clear();
	EXPECT_EQ(kmalloc(2 * PAGE_SIZE + 1, GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN), nullptr);
	EXPECT_EQ(hs.calls, 1u);
	EXPECT_TRUE(cap.lines.empty());
}

/* An injected failure runs the hook too (the path of real exhaustion);
 * the retry then fails as well, whatever the hook freed. */
TEST_P(OomHook, InjectedFailureRunsTheHook)
{
	kmm_set_oom_hook(&HookState::hook, &hs);
	fault().arm(1);
	EXPECT_EQ(alloc_pages(GFP_KERNEL, 0), nullptr);
	EXPECT_EQ(hs.calls, 1u);
	EXPECT_EQ(kmm_oom_count(), 1u);
	EXPECT_EQ(cap.count_containing("page allocation failure"), 1u);
	struct page *pg = alloc_pages(GFP_KERNEL, 0); /* the next request: served */
	EXPECT_NE(pg, nullptr);
	__free_pages(pg, 0);
	fault().disarm();
}

/* operator new (the libc shim's): out of memory, the installed
 * new_handler runs and the allocation is retried; a handler that
 * uninstalls itself after making room ends the loop with the block. */
unsigned g_handler_calls = 0;
void stop_failing_handler()
{
	++g_handler_calls;
	kmm::global_pages().fault().stop(); /* "frees memory" */
	kmm_shim__ZSt15set_new_handlerPFvvE(nullptr);
}

TEST_P(OomHook, NewHandlerRunsAndTheRetrySucceeds)
{
	g_handler_calls = 0;
	kmm_shim__ZSt15set_new_handlerPFvvE(&stop_failing_handler);
	fault().arm(1, kmm::FaultInjector<true>::kForever);
	void *p = kmm_shim__Znwm(5 * PAGE_SIZE); /* one page request: it fails */
	ASSERT_NE(p, nullptr);
	EXPECT_EQ(g_handler_calls, 1u);
	EXPECT_EQ(fault().failed(), 1u);
	kmm_shim_free(p);
	fault().disarm();
}

/* __GFP_NORETRY: no reclaim and no OOM hook (gfp.h, docs/PAGE_ALLOC.md;
 * the libc shim's shrinking realloc relies on it, docs/BARE_METAL.md), in
 * the slab layer as in the page allocator: what another cache holds
 * (its magazine, its empty slab) stays there when such a call fails. */
TEST_P(OomHook, NoretryRunsNoReclaim)
{
	kmem_cache *x = kmem_cache_create("oom-keep", 64, 0, 0, nullptr);
	ASSERT_NE(x, nullptr);
	void *objs[10];
	for (void *&o : objs)
		o = kmem_cache_alloc(x, GFP_KERNEL);
	for (void *o : objs)
		kmem_cache_free(x, o);
	kmem_cache_info before{};
	ASSERT_EQ(kmem_cache_get_info(x, &before), 0);
	ASSERT_GT(before.num_slabs, 0u);
	exhaust(0);
	hog.push_back(hs.reserve);
	hs.reserve = nullptr;
	for (size_t size : {size_t{2000}, size_t{200}, 3 * PAGE_SIZE}) {
		EXPECT_EQ(kmalloc(size, GFP_KERNEL | __GFP_NOWARN | __GFP_NORETRY), nullptr);
		kmem_cache_info after{};
		ASSERT_EQ(kmem_cache_get_info(x, &after), 0);
		EXPECT_EQ(after.num_slabs, before.num_slabs) << "kmalloc(" << size << ", NORETRY) reclaimed";
		EXPECT_EQ(after.magazine_objs, before.magazine_objs) << "kmalloc(" << size << ", NORETRY) reclaimed";
	}
	EXPECT_EQ(hs.calls, 0u);
	EXPECT_TRUE(cap.lines.empty());
	kmm_set_oom_hook(nullptr, nullptr);
	kmem_cache_destroy(x);
}

INSTANTIATE_TEST_SUITE_P(Hook, OomHook,
			 ::testing::Values(WalkParam{false, FaultMode::kOnce}, WalkParam{true, FaultMode::kOnce}),
			 kmm_test::walk_param_name);

/* ---- an OOM hook that frees slab objects ---- */

/* Frees the objects it holds (of cache s, or kmalloc ones). */
struct FreeObjects {
	std::vector<void *> objs;
	kmem_cache *s = nullptr;
	unsigned calls = 0;
	static void hook(void *ctx, gfp_t, unsigned)
	{
		auto *f = static_cast<FreeObjects *>(ctx);
		++f->calls;
		for (void *o : f->objs) {
			if (f->s != nullptr)
				kmem_cache_free(f->s, o);
			else
				kfree(o);
		}
		f->objs.clear();
	}
};
class OomHookObjects : public OomHook {};
/* The hook frees one slab's objects of a cache: they land in its
 * magazine or its empty-slab list, which the retry must not overlook. */
TEST_P(OomHookObjects, HookFreeingCacheObjectsServesPages)
{
	FreeObjects f;
	f.s = kmem_cache_create("oom-other", 500, 0, 0, nullptr);
	ASSERT_NE(f.s, nullptr);
	kmem_cache_info info{};
	ASSERT_EQ(kmem_cache_get_info(f.s, &info), 0);
	for (unsigned i = 0; i < info.objects_per_slab; ++i)
		f.objs.push_back(kmem_cache_alloc(f.s, GFP_KERNEL));
	exhaust(0);
	hog.push_back(hs.reserve); /* kept by the test: the hook frees objects only */
	hs.reserve = nullptr;
	kmm_set_oom_hook(&FreeObjects::hook, &f);
	struct page *pg = alloc_pages(GFP_KERNEL, 0);
	EXPECT_EQ(f.calls, 1u);
	EXPECT_NE(pg, nullptr) << "the hook freed a slab's worth of objects";
	EXPECT_EQ(cap.count_containing("allocation failure"), 0u);
	if (pg != nullptr)
		__free_pages(pg, 0);
	kmm_set_oom_hook(nullptr, nullptr);
	kmem_cache_destroy(f.s);
}

TEST_P(OomHookObjects, HookFreeingObjectsOfTheSameCache)
{
	FreeObjects f;
	f.s = kmem_cache_create("oom-same", 500, 0, 0, nullptr);
	ASSERT_NE(f.s, nullptr);
	kmem_cache_info info{};
	ASSERT_EQ(kmem_cache_get_info(f.s, &info), 0);
	for (unsigned i = 0; i < 4 * info.objects_per_slab; ++i)
		f.objs.push_back(kmem_cache_alloc(f.s, GFP_KERNEL));
	exhaust(0);
	hog.push_back(hs.reserve); /* kept by the test: the hook frees objects only */
	hs.reserve = nullptr;
	kmm_set_oom_hook(&FreeObjects::hook, &f);
	void *o = kmem_cache_alloc(f.s, GFP_KERNEL);
	EXPECT_EQ(f.calls, 1u);
	EXPECT_NE(o, nullptr) << "the hook freed objects of this very cache";
	EXPECT_EQ(cap.count_containing("allocation failure"), 0u);
	if (o != nullptr)
		kmem_cache_free(f.s, o);
	kmm_set_oom_hook(nullptr, nullptr);
	kmem_cache_destroy(f.s);
}

INSTANTIATE_TEST_SUITE_P(Hook, OomHookObjects,
			 ::testing::Values(WalkParam{false, FaultMode::kOnce}, WalkParam{true, FaultMode::kOnce}),
			 kmm_test::walk_param_name);

} // namespace

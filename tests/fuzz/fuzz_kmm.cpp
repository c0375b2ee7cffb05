/*
 * tests/fuzz/fuzz_kmm.cpp — libFuzzer target: the input bytes are a program
 * of operations over the whole kmm API on a private page allocator and slab
 * allocator (pages, caches with ctors and debug flags, kmem_cache_alloc/
 * free, bulk, kmalloc/krealloc/kfree/ksize, shrink, destroy, and misuse
 * that must be refused: double free, interior pointers). Every result is
 * checked against a reference model (no overlap, alignment, contents kept,
 * exact count of reports, free pages back to the start) and validate()
 * runs every 64 operations and at the end. Any mismatch traps.
 */
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <iterator>
#include <map>
#include <new>
#include <vector>

#include "page_alloc.h"
#include "slub.h"

namespace {

/* The last report lines, printed when a check fails. */
char g_lines[16][200];
unsigned g_nlines;
void report_hook(void *, const char *line)
{
	snprintf(g_lines[g_nlines++ % 16], sizeof g_lines[0], "%s", line);
}
[[noreturn]] void fail(const char *what, int line)
{
	fprintf(stderr, "fuzz_kmm: check failed: %s (line %d); last reports:\n", what, line);
	for (unsigned i = g_nlines > 16 ? g_nlines - 16 : 0; i < g_nlines; ++i)
		fprintf(stderr, "  %s\n", g_lines[i % 16]);
	abort();
}
#define CHECK(c)                                                                                                 \
	do {                                                                                                     \
		if (!(c))                                                                                        \
			fail(#c, __LINE__);                                                                      \
	} while (0)

constexpr size_t kArenaBytes = size_t{1} << 20;
alignas(kmm::kPageSize << kmm::kMaxOrder) unsigned char g_arena[kArenaBytes];

struct Input {
	const uint8_t *p;
	size_t n;
	bool empty() const { return n == 0; }
	uint8_t u8()
	{
		if (n == 0)
			return 0;
		--n;
		return *p++;
	}
	uint16_t u16() { return static_cast<uint16_t>(u8() | (u8() << 8)); }
};

enum Kind : uint8_t { kKmalloc, kCache, kPages };
struct Obj {
	Kind kind;
	uint8_t fill;
	unsigned cache;  /* kCache */
	size_t size;     /* bytes the model may use and checks */
	unsigned order;  /* kPages */
};

struct CacheModel {
	kmem_cache *s = nullptr;
	unsigned size = 0;
	bool ctor = false;
	unsigned live = 0;
};

void ctor_fill(void *p) { std::memset(p, 0xc7, 24); }

struct World {
	kmm::Reporter rep;
	kmm::PageAllocator pa{&rep};
	kmm::SlabAllocator slab{pa, rep};
	std::map<uintptr_t, Obj> live; /* start -> object */
	CacheModel caches[6];
	unsigned long expected_bugs = 0;
	size_t free_at_start = 0;

	void fill(void *p, const Obj &o) { std::memset(p, o.fill, o.size); }
	void verify(uintptr_t a, const Obj &o)
	{
		const auto *b = reinterpret_cast<const uint8_t *>(a);
		for (size_t i = 0; i < o.size; ++i)
			CHECK(b[i] == o.fill);
	}
	/* A new object must not overlap any live one. */
	void add(void *p, Obj o)
	{
		auto a = reinterpret_cast<uintptr_t>(p);
		size_t span = o.size == 0 ? 1 : o.size;
		auto next = live.lower_bound(a);
		CHECK(next == live.end() || next->first >= a + span);
		if (next != live.begin()) {
			auto prev = std::prev(next);
			CHECK(prev->first + (prev->second.size == 0 ? 1 : prev->second.size) <= a);
		}
		fill(p, o);
		live.emplace(a, o);
	}
	/* The k-th live object of a kind (wrapping), or end. */
	std::map<uintptr_t, Obj>::iterator pick(Kind kind, unsigned k)
	{
		size_t n = 0;
		for (auto &e : live)
			n += e.second.kind == kind;
		if (n == 0)
			return live.end();
		k %= n;
		for (auto it = live.begin(); it != live.end(); ++it)
			if (it->second.kind == kind && k-- == 0)
				return it;
		return live.end();
	}
	void check_all()
	{
		CHECK(slab.validate() == 0);
		CHECK(pa.validate() == 0);
		CHECK(rep.bugs() == expected_bugs);
		for (auto &c : caches)
			if (c.s != nullptr && (c.s->flags & SLAB_CONSISTENCY_CHECKS) != 0)
				CHECK(slab.validate_slab_cache(c.s) == 0);
		for (auto &e : live)
			verify(e.first, e.second);
	}

	void run(Input in)
	{
		g_nlines = 0;
		rep.set_hook(&report_hook, nullptr);
		rep.set_policy(KMM_BUG_REFUSE);
		uint8_t cfg = in.u8();
		if (cfg & 1)
			CHECK(slab.set_debug_options((cfg & 2) ? "FZPU,kmalloc-32,kmalloc-64,kmalloc-256" : "ZP") == 0);
		CHECK(pa.add_region(reinterpret_cast<uintptr_t>(g_arena), kArenaBytes, KMM_ZONE_NORMAL) == 0);
		CHECK(pa.init() == 0);
		if (cfg & 4)
			pa.set_poison(true);
		slab.set_kmalloc_guard((cfg & 8) != 0);
		CHECK(slab.init() == 0);
		free_at_start = pa.totals().free;
		unsigned ops = 0;
		while (!in.empty() && ops < 2000) {
			step(in);
			if (++ops % 64 == 0)
				check_all();
		}
		check_all();
		teardown();
	}

	void step(Input &in)
	{
		uint8_t op = in.u8();
		switch (op % 16) {
		case 0:
		case 1: { /* kmalloc */
			size_t size = in.u16() % (op & 0x80 ? 3 * kmm::kPageSize : 300);
			gfp_t gfp = (op & 0x40) ? GFP_KERNEL | __GFP_ZERO : GFP_KERNEL;
			void *p = slab.kmalloc(size, gfp);
			if (size == 0) {
				CHECK(p == ZERO_SIZE_PTR);
				break;
			}
			if (p == nullptr)
				break;
			CHECK(slab.ksize(p) >= size);
			if (size >= 8)
				CHECK(reinterpret_cast<uintptr_t>(p) % 8 == 0);
			if (gfp & __GFP_ZERO)
				for (size_t i = 0; i < size; ++i)
					CHECK(static_cast<uint8_t *>(p)[i] == 0);
			add(p, Obj{kKmalloc, in.u8(), 0, size, 0});
			break;
		}
		case 2: { /* kfree */
			auto it = pick(kKmalloc, in.u8());
			if (it == live.end())
				break;
			verify(it->first, it->second);
			slab.kfree(reinterpret_cast<void *>(it->first));
			live.erase(it);
			break;
		}
		case 3: { /* krealloc */
			auto it = pick(kKmalloc, in.u8());
			size_t size = in.u16() % 600;
			if (it == live.end())
				break;
			Obj o = it->second;
			void *p = slab.krealloc(reinterpret_cast<void *>(it->first), size, GFP_KERNEL);
			if (size == 0) {
				CHECK(p == ZERO_SIZE_PTR);
				live.erase(it);
				break;
			}
			if (p == nullptr)
				break;
			const auto *b = static_cast<const uint8_t *>(p);
			for (size_t i = 0; i < std::min(size, o.size); ++i)
				CHECK(b[i] == o.fill);
			live.erase(it);
			o.size = size;
			add(p, o);
			break;
		}
		case 4: { /* create a cache */
			unsigned i = in.u8() % 6;
			CacheModel &c = caches[i];
			if (c.s != nullptr)
				break;
			uint8_t f = in.u8();
			c.size = 1u + in.u16() % 700;
			c.ctor = (f & 1) && c.size >= 24;
			unsigned align = (f & 2) ? 1u << (in.u8() % 8) : 0;
			slab_flags_t flags = 0;
			if (f & 4)
				flags |= SLAB_RED_ZONE;
			if (f & 8)
				flags |= SLAB_POISON;
			if (f & 16)
				flags |= SLAB_STORE_USER | SLAB_CONSISTENCY_CHECKS;
			if (f & 32)
				flags |= SLAB_HWCACHE_ALIGN;
			static const char *const names[6] = {"fz0", "fz1", "fz2", "fz3", "fz4", "fz5"};
			c.s = slab.create(names[i], c.size, align, flags, c.ctor ? ctor_fill : nullptr);
			if (c.s == nullptr) { /* the arguments are good: only a full arena refuses, and says so */
				CHECK(g_nlines > 0 && strstr(g_lines[(g_nlines - 1) % 16], "out of memory") != nullptr);
				break;
			}
			c.live = 0;
			break;
		}
		case 5:
		case 6: { /* kmem_cache_alloc */
			CacheModel &c = caches[in.u8() % 6];
			if (c.s == nullptr)
				break;
			void *p = slab.alloc(c.s, (op & 0x40) ? GFP_KERNEL | __GFP_ZERO : GFP_KERNEL);
			if (p == nullptr)
				break;
			if (c.s->align > 0)
				CHECK(reinterpret_cast<uintptr_t>(p) % c.s->align == 0);
			++c.live;
			add(p, Obj{kCache, in.u8(), static_cast<unsigned>(&c - caches), c.size, 0});
			break;
		}
		case 7: { /* kmem_cache_free */
			auto it = pick(kCache, in.u8());
			if (it == live.end())
				break;
			verify(it->first, it->second);
			CacheModel &c = caches[it->second.cache];
			slab.free(c.s, reinterpret_cast<void *>(it->first));
			--c.live;
			live.erase(it);
			break;
		}
		case 8: { /* bulk alloc, then free some in bulk */
			CacheModel &c = caches[in.u8() % 6];
			if (c.s == nullptr)
				break;
			void *v[16];
			size_t n = in.u8() % 16;
			if (slab.alloc_bulk(c.s, GFP_KERNEL, n, v) == 0)
				break;
			size_t keep = in.u8() % (n + 1);
			slab.free_bulk(c.s, n - keep, v + keep);
			for (size_t i = 0; i < keep; ++i) {
				++c.live;
				add(v[i], Obj{kCache, static_cast<uint8_t>(i), static_cast<unsigned>(&c - caches), c.size, 0});
			}
			break;
		}
		case 9: { /* shrink */
			CacheModel &c = caches[in.u8() % 6];
			if (c.s != nullptr)
				slab.shrink(c.s);
			else
				slab.shrink_all();
			break;
		}
		case 10: { /* destroy: refused with a report while objects live */
			CacheModel &c = caches[in.u8() % 6];
			if (c.s == nullptr)
				break;
			slab.destroy(c.s);
			if (c.live != 0) {
				++expected_bugs;
				break;
			}
			c.s = nullptr;
			break;
		}
		case 11: { /* pages */
			unsigned order = in.u8() % 5;
			struct page *pg = pa.alloc((op & 0x40) ? GFP_KERNEL | __GFP_ZERO : GFP_KERNEL, order);
			if (pg == nullptr)
				break;
			add(pa.page_address(pg), Obj{kPages, in.u8(), 0, kmm::kPageSize << order, order});
			break;
		}
		case 12: { /* free pages */
			auto it = pick(kPages, in.u8());
			if (it == live.end())
				break;
			verify(it->first, it->second);
			CHECK(pa.free(pa.virt_to_page(reinterpret_cast<void *>(it->first)), it->second.order));
			live.erase(it);
			break;
		}
		case 13: { /* double free right after a free: always caught */
			auto it = pick(op & 0x40 ? kCache : kKmalloc, in.u8());
			if (it == live.end())
				break;
			void *p = reinterpret_cast<void *>(it->first);
			if (it->second.kind == kCache) {
				CacheModel &c = caches[it->second.cache];
				slab.free(c.s, p);
				slab.free(c.s, p);
				--c.live;
			} else {
				slab.kfree(p);
				slab.kfree(p);
			}
			++expected_bugs;
			live.erase(it);
			break;
		}
		case 14: { /* interior pointer: refused, object untouched */
			auto it = pick(kKmalloc, in.u8());
			if (it == live.end() || it->second.size < 16)
				break;
			slab.kfree(reinterpret_cast<char *>(it->first) + 8);
			++expected_bugs;
			break;
		}
		case 15: /* a full check now */
			check_all();
			break;
		}
	}

	void teardown()
	{
		for (auto &e : live) {
			void *p = reinterpret_cast<void *>(e.first);
			if (e.second.kind == kKmalloc)
				slab.kfree(p);
			else if (e.second.kind == kCache)
				slab.free(caches[e.second.cache].s, p);
			else
				pa.free(pa.virt_to_page(p), e.second.order);
		}
		live.clear();
		for (auto &c : caches)
			if (c.s != nullptr)
				slab.destroy(c.s);
		slab.shrink_all();
		pa.drain_pcp();
		CHECK(rep.bugs() == expected_bugs);
		CHECK(pa.totals().free == free_at_start);
		CHECK(slab.validate() == 0 && pa.validate() == 0);
	}
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	alignas(World) static unsigned char storage[sizeof(World)];
	World *w = new (storage) World();
	w->run(Input{data, size});
	w->~World();
	return 0;
}

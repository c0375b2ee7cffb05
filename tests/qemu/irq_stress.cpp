/*
 * tests/qemu/irq_stress.cpp — kmm from interrupt context on a uniprocessor
 * Cortex-M (mps2-an385; linked into kmm-mps2-an385-irq.elf only): a
 * periodic CMSDK timer1 interrupt (0x40001000, IRQ 9, its entry appended to
 * the vector table in .vectors.irq) calls every allocation API with
 * GFP_ATOMIC while the main loop calls the same APIs with GFP_KERNEL, on
 * the same caches (not the one-line wrappers over them: kmem_cache_zalloc,
 * kmemdup, kstrdup, krealloc_array, the kv* family, alloc_page). A block
 * is allocated and freed through one API pair:
 *
 *   kmalloc / kfree             4 B … 2 KiB, 1 in 32 above the top class (pages);
 *                               1 in 4 of them GFP_DMA of 17 … 64 B, checked to
 *                               lie in the DMA zone (dma-kmalloc-32 and -64: the
 *                               board's DMA zone has 3 usable pages, a slab per class)
 *                               (1 in 8 kmalloc-family frees are kfree_sensitive)
 *   kzalloc / kfree             checked all zero
 *   kcalloc, kmalloc_array / kfree   kcalloc's checked all zero; both also
 *                               asked for an overflowing n * size (NULL)
 *   krealloc(NULL, n) / krealloc(p, 0)   the latter must give ZERO_SIZE_PTR
 *   kmem_cache_alloc / _free    "irq_obj", 48 B with a ctor: every allocation
 *                               must come back constructed (users restore
 *                               it before the free)
 *   kmem_cache_alloc_bulk / kmem_cache_free_bulk   1 … 6 irq_obj at once
 *   alloc_pages / __free_pages  orders 0 … 2
 *   alloc_pages_exact / free_pages_exact   1 … 3 pages, any size
 *   __get_free_pages / free_pages          orders 0 … 2
 *   get_zeroed_page / free_page            checked all zero
 *
 * and a kmalloc-family block in a slot may be resized in place of a free:
 * krealloc grows it (half of those with __GFP_ZERO: the bytes past the old
 * ksize() must be zero) or shrinks it; its data must survive up to the
 * smaller size. Each side keeps a table of live blocks with a stamp pattern
 * written through them, checked before every free and resize; a quarter of
 * the frees instead travel to the other side through a single-producer
 * ring (cross-context frees: main allocates, the handler frees, and the
 * reverse). Both validate() run from the main loop every 8192 of its
 * operations with the interrupt live. The run stops at kTotalOps operations
 * counted on both sides (each side must do at least a fifth, and the
 * handler must have called every API above), then, with the interrupt off:
 * every cache's in-use count (slabinfo) must equal its baseline plus what
 * the test holds, the ctor count must equal objects per slab × slabs
 * created, everything is freed, both validate() return 0, and after
 * shrinking every cache the free page count is back at its pre-test figure.
 */
#include <arch/arch.h>
#include <kernel/ktest.h>
#include <kernel/printk.h>
#include <kernel/workload.h>
#include <kmm/kmm.h>

#include "../shared/ktest_env.h"
#include "irq_trace.h"
#include "mmio.h"
#include "slab_census.h"

extern "C" void kmm_cortex_m_fault_handler(void);
extern "C" void irq_stress_timer1_handler(void);

/* IRQ 0 … 9 of the AN385 (8: timer0, the counter; 9: timer1). */
__attribute__((section(".vectors.irq"), used)) void (*const irq_stress_vectors[10])(void) = {
	kmm_cortex_m_fault_handler, kmm_cortex_m_fault_handler, kmm_cortex_m_fault_handler,
	kmm_cortex_m_fault_handler, kmm_cortex_m_fault_handler, kmm_cortex_m_fault_handler,
	kmm_cortex_m_fault_handler, kmm_cortex_m_fault_handler, kmm_cortex_m_fault_handler,
	irq_stress_timer1_handler,
};

namespace {

constexpr uintptr_t kTimer1 = 0x40001000u; /* CTRL +0, VALUE +4, RELOAD +8, INTCLEAR +0xc */
constexpr unsigned kTimer1Irq = 9;
constexpr uintptr_t kNvicIser0 = 0xE000E100u;
constexpr uintptr_t kNvicIcer0 = 0xE000E180u;
constexpr uint32_t kTimerReload = 100;   /* ticks: 4000 instructions under -icount shift=0 */
/* The handler's share of the time: each tick gives it kIrqShareTicks of
 * credit (at most that much banked), and it runs operations while its
 * credit is positive, paying for each what it took on timer0 (which
 * counts down at the same 25 MHz). So it takes about half of the time
 * whatever an operation costs: ~1,200 instructions on average in the
 * optimised image (zero checks of whole pages included), about two a
 * tick; several times more at -O0, where it then skips ticks instead of
 * starving the main loop. */
constexpr uintptr_t kTimer0Value = 0x40000004u;
constexpr int32_t kIrqShareTicks = kTimerReload / 2;
constexpr unsigned long kTotalOps = 120000;
constexpr unsigned kMainSlots = 128;
constexpr unsigned kIrqSlots = 32;
constexpr unsigned kRingSize = 16;
constexpr unsigned kObjWords = 12;         /* irq_obj: 48 bytes */
constexpr uint32_t kCtorMagic = 0xc7a5e000u;
constexpr unsigned kBulkMax = 6;

/* How a block was allocated, hence how it is freed. */
enum Kind : uint8_t {
	kNone,
	kKmalloc,   /* kmalloc / kfree */
	kZalloc,    /* kzalloc / kfree */
	kArray,     /* kcalloc or kmalloc_array / kfree */
	kRealloc,   /* krealloc(NULL, n) / krealloc(p, 0) */
	kCache,     /* kmem_cache_alloc / kmem_cache_free */
	kBulk,      /* kmem_cache_alloc_bulk / kmem_cache_free_bulk */
	kPages,     /* alloc_pages / __free_pages */
	kExact,     /* alloc_pages_exact / free_pages_exact */
	kFreePages, /* __get_free_pages / free_pages */
	kZeroPage,  /* get_zeroed_page / free_page */
	kKinds
};

/* Every API call the test makes, counted per side. */
enum Api : uint8_t {
	aKmalloc, aKmallocDma, aKzalloc, aKcalloc, aKmallocArray, aArrayOverflow, aKfree, aKfreeSensitive,
	aKreallocNull, aKreallocGrow, aKreallocGrowZero, aKreallocShrink, aKreallocZero,
	aCacheAlloc, aCacheFree, aBulkAlloc, aBulkFree,
	aAllocPages, aFreePagesStruct, aAllocExact, aFreeExact, aGetFreePages, aFreePagesAddr,
	aGetZeroedPage, aFreePage,
	kApis
};
const char *const kApiNames[kApis] = {
	"kmalloc", "kmalloc GFP_DMA", "kzalloc", "kcalloc", "kmalloc_array", "kcalloc/kmalloc_array overflow", "kfree",
	"kfree_sensitive",
	"krealloc(NULL)", "krealloc grow", "krealloc grow __GFP_ZERO", "krealloc shrink", "krealloc(p, 0)",
	"kmem_cache_alloc", "kmem_cache_free", "kmem_cache_alloc_bulk", "kmem_cache_free_bulk",
	"alloc_pages", "__free_pages", "alloc_pages_exact", "free_pages_exact", "__get_free_pages", "free_pages",
	"get_zeroed_page", "free_page",
};

struct Held {
	void *p;       /* the block; kBulk: objs[0] */
	uint32_t size; /* bytes (kmalloc family, exact), order (pages), objects (bulk) */
	uint32_t stamp;
	Kind kind;
	void *objs[kBulkMax]; /* kBulk */
};

/* Single producer, single consumer; on one CPU the producer and consumer
 * are the main loop and the handler, so compiler ordering is enough. */
struct Ring {
	Held items[kRingSize];
	uint32_t head, tail;
	bool push(const Held &h)
	{
		uint32_t head_now = __atomic_load_n(&head, __ATOMIC_RELAXED);
		if (head_now - __atomic_load_n(&tail, __ATOMIC_ACQUIRE) == kRingSize)
			return false;
		items[head_now % kRingSize] = h;
		__atomic_store_n(&head, head_now + 1, __ATOMIC_RELEASE);
		return true;
	}
	bool pop(Held &h)
	{
		uint32_t tail_now = __atomic_load_n(&tail, __ATOMIC_RELAXED);
		if (tail_now == __atomic_load_n(&head, __ATOMIC_ACQUIRE))
			return false;
		h = items[tail_now % kRingSize];
		__atomic_store_n(&tail, tail_now + 1, __ATOMIC_RELEASE);
		return true;
	}
};

struct Side {
	const char *name;
	Held *slots;
	unsigned nr_slots;
	kmm_workload_rng rng;
	Ring *inbox;  /* frees handed to this side */
	Ring *outbox; /* frees this side hands to the other */
	gfp_t gfp;
	volatile unsigned long ops, allocs, frees, cross_frees, resizes, resizes_moved;
	volatile unsigned long problems;
	uint32_t generation;
	unsigned long calls[kApis];
};

Held g_main_slots[kMainSlots];
Held g_irq_slots[kIrqSlots];
Ring g_to_irq, g_to_main;
Side g_main, g_irq;
struct kmem_cache *g_cache;
volatile unsigned long g_ctor_calls;
volatile bool g_irq_running;

void ctor(void *object)
{
	auto *w = static_cast<uint32_t *>(object);
	for (unsigned i = 0; i < kObjWords; ++i)
		w[i] = kCtorMagic ^ i;
	unsigned long flags = kmm_arch_irq_save(); /* main and handler both run ctors */
	g_ctor_calls = g_ctor_calls + 1;
	kmm_arch_irq_restore(flags);
}

void problem(Side &side, const char *what, const Held &h)
{
	side.problems = side.problems + 1;
	if (side.problems <= 8)
		printk("# irq_stress %s: %s: block %p kind %u size %u stamp %#x\n", side.name, what, h.p,
		       static_cast<unsigned>(h.kind), static_cast<unsigned>(h.size), static_cast<unsigned>(h.stamp));
}

bool kmalloc_family(Kind k) { return k == kKmalloc || k == kZalloc || k == kArray || k == kRealloc; }
bool page_family(Kind k) { return k == kPages || k == kFreePages || k == kZeroPage; }

size_t block_bytes(const Held &h)
{
	if (page_family(h.kind))
		return size_t{PAGE_SIZE} << h.size;
	return h.size;
}

void put_word(void *p, size_t off, uint32_t v) { __builtin_memcpy(static_cast<char *>(p) + off, &v, 4); }
uint32_t get_word(const void *p, size_t off)
{
	uint32_t v;
	__builtin_memcpy(&v, static_cast<const char *>(p) + off, 4);
	return v;
}

/* The stamp pattern: a word every `stride` bytes and the last whole word,
 * each the stamp mixed with its offset (so a block copied to the wrong
 * offset shows too). Small blocks get a dense pattern: krealloc must keep
 * it up to the smaller size. */
size_t stride_of(size_t bytes) { return bytes <= 2048 ? 32 : 256; }
uint32_t pattern(uint32_t stamp, size_t off) { return stamp ^ static_cast<uint32_t>(off * 0x9e3779b1u); }
size_t last_word(size_t bytes) { return bytes >= 4 ? (bytes - 4) & ~size_t{3} : 0; } /* every block has 4+ */

void write_pattern(void *p, size_t bytes, uint32_t stamp)
{
	for (size_t off = 0; off + 4 <= bytes; off += stride_of(bytes))
		put_word(p, off, pattern(stamp, off));
	put_word(p, last_word(bytes), pattern(stamp, last_word(bytes)));
}

/* The pattern of a block of `bytes`, checked in its first `keep` bytes. */
bool pattern_kept(const void *p, size_t bytes, size_t keep, uint32_t stamp)
{
	for (size_t off = 0; off + 4 <= keep; off += stride_of(bytes))
		if (get_word(p, off) != pattern(stamp, off))
			return false;
	return last_word(bytes) + 4 > keep || get_word(p, last_word(bytes)) == pattern(stamp, last_word(bytes));
}

/* Bytes [from, to) of p are zero (words where aligned: the IRQ path checks
 * whole pages). */
bool zero_range(const void *p, size_t from, size_t to)
{
	auto *b = static_cast<const unsigned char *>(p);
	for (; from < to && from % 4 != 0; ++from)
		if (b[from] != 0)
			return false;
	uint32_t any = 0;
	for (; from + 4 <= to; from += 4)
		any |= get_word(p, from);
	for (; from < to; ++from)
		any |= b[from];
	return any == 0;
}

bool constructed(const void *p)
{
	for (unsigned i = 0; i < kObjWords; ++i)
		if (get_word(p, 4 * i) != (kCtorMagic ^ i))
			return false;
	return true;
}

/* irq_obj: word 0 carries the stamp, the rest stays as the ctor left it. */
void stamp_block(const Held &h)
{
	if (h.kind == kCache) {
		put_word(h.p, 0, h.stamp);
	} else if (h.kind == kBulk) {
		for (unsigned i = 0; i < h.size; ++i)
			put_word(h.objs[i], 0, pattern(h.stamp, i));
	} else {
		write_pattern(h.p, block_bytes(h), h.stamp);
	}
}

bool object_intact(const void *p, uint32_t word0)
{
	if (get_word(p, 0) != word0)
		return false;
	for (unsigned i = 1; i < kObjWords; ++i)
		if (get_word(p, 4 * i) != (kCtorMagic ^ i))
			return false;
	return true;
}

bool block_intact(const Held &h)
{
	if (h.kind == kCache)
		return object_intact(h.p, h.stamp);
	if (h.kind == kBulk) {
		for (unsigned i = 0; i < h.size; ++i)
			if (!object_intact(h.objs[i], pattern(h.stamp, i)))
				return false;
		return true;
	}
	return pattern_kept(h.p, block_bytes(h), block_bytes(h), h.stamp);
}

/* For a report: where the pattern of a damaged block first differs, what
 * is there instead, and how many of its pattern words differ. */
void describe_damage(const Held &h)
{
	if (h.kind == kCache || h.kind == kBulk)
		return;
	size_t bytes = block_bytes(h), first = bytes, bad = 0;
	uint32_t found = 0;
	auto look = [&](size_t off) {
		if (get_word(h.p, off) != pattern(h.stamp, off) && bad++ == 0) {
			first = off;
			found = get_word(h.p, off);
		}
	};
	for (size_t off = 0; off + 4 <= bytes; off += stride_of(bytes))
		look(off);
	if (last_word(bytes) % stride_of(bytes) != 0)
		look(last_word(bytes));
	printk("#   %zu of its pattern words differ, the first at +%#zx: %#x instead of %#x\n", bad, first,
	       static_cast<unsigned>(found), static_cast<unsigned>(pattern(h.stamp, first)));
}

void count(Side &side, Api api) { side.calls[api] = side.calls[api] + 1; }

void release(Side &side, Held &h)
{
	if (!block_intact(h)) {
		problem(side, "stamp lost before free", h);
		describe_damage(h);
	}
	switch (h.kind) {
	case kKmalloc:
	case kZalloc:
	case kArray:
		if (h.stamp % 8 == 0) { /* zeroes ksize() bytes under the hold of a kfree */
			kfree_sensitive(h.p);
			count(side, aKfreeSensitive);
		} else {
			kfree(h.p);
			count(side, aKfree);
		}
		break;
	case kRealloc:
		if (krealloc(h.p, 0, side.gfp) != ZERO_SIZE_PTR)
			problem(side, "krealloc(p, 0) did not return ZERO_SIZE_PTR", h);
		count(side, aKreallocZero);
		break;
	case kCache:
		put_word(h.p, 0, kCtorMagic); /* back to the constructed state */
		kmem_cache_free(g_cache, h.p);
		count(side, aCacheFree);
		break;
	case kBulk:
		for (unsigned i = 0; i < h.size; ++i)
			put_word(h.objs[i], 0, kCtorMagic);
		kmem_cache_free_bulk(g_cache, h.size, h.objs);
		count(side, aBulkFree);
		break;
	case kPages:
		__free_pages(virt_to_page(h.p), h.size);
		count(side, aFreePagesStruct);
		break;
	case kExact:
		free_pages_exact(h.p, h.size);
		count(side, aFreeExact);
		break;
	case kFreePages:
		free_pages(reinterpret_cast<unsigned long>(h.p), h.size);
		count(side, aFreePagesAddr);
		break;
	case kZeroPage:
		free_page(reinterpret_cast<unsigned long>(h.p));
		count(side, aFreePage);
		break;
	case kNone:
	case kKinds: break;
	}
	h.kind = kNone;
	side.frees = side.frees + 1;
	side.ops = side.ops + 1;
}

/* 4 B … 2 KiB, smaller sizes more likely; with `large`, 1 in 32 above
 * the top kmalloc class. */
uint32_t kmalloc_size(uint32_t r, bool large)
{
	if (large && (r >> 8) % 32 == 0)
		return static_cast<uint32_t>(kmalloc_max_cache_size() + 1 + (r >> 16) % (2 * PAGE_SIZE));
	return 4 + (r >> 8) % (2048 >> ((r >> 20) % 4));
}

void *array_alloc(Side &side, Held &h, uint32_t r)
{
	static const uint32_t kElem[] = {1, 2, 4, 8, 12, 16, 24, 40};
	uint32_t elem = kElem[(r >> 4) % 8];
	uint32_t n = 1 + kmalloc_size(r, false) / elem;
	h.size = n * elem;
	/* n * size that overflows: NULL, nothing allocated */
	if ((r >> 28) == 0) {
		size_t huge = SIZE_MAX / 8 + 1 + (r >> 8) % 64;
		if (kcalloc(huge, 8, side.gfp) != nullptr || kmalloc_array(8 + elem, huge, side.gfp) != nullptr)
			problem(side, "kcalloc/kmalloc_array overflow not refused", h);
		count(side, aArrayOverflow);
	}
	if ((r >> 3) % 2 == 0) {
		count(side, aKmallocArray);
		return kmalloc_array(n, elem, side.gfp);
	}
	count(side, aKcalloc);
	void *p = kcalloc(n, elem, side.gfp);
	if (p != nullptr && !zero_range(p, 0, h.size))
		problem(side, "kcalloc memory not zero", h);
	return p;
}

bool acquire(Side &side, Held &h)
{
	uint32_t r = side.rng.next();
	h.stamp = (side.name[0] == 'm' ? 0x4d000000u : 0x49000000u) | (++side.generation & 0xffffffu);
	h.kind = static_cast<Kind>(kKmalloc + r % (kKinds - kKmalloc));
	switch (h.kind) {
	case kKmalloc:
		if ((r >> 24) % 4 == 0) { /* a DMA descriptor-sized block */
			h.size = 17 + (r >> 8) % 48;
			h.p = kmalloc(h.size, side.gfp | GFP_DMA);
			count(side, aKmallocDma);
			if (h.p != nullptr && !ktest_env_in_zone(reinterpret_cast<uintptr_t>(h.p), KMM_ZONE_DMA))
				problem(side, "kmalloc(GFP_DMA) memory outside the DMA zone", h);
			break;
		}
		h.size = kmalloc_size(r, true);
		h.p = kmalloc(h.size, side.gfp);
		count(side, aKmalloc);
		break;
	case kZalloc:
		h.size = kmalloc_size(r, false);
		h.p = kzalloc(h.size, side.gfp);
		count(side, aKzalloc);
		if (h.p != nullptr && !zero_range(h.p, 0, h.size))
			problem(side, "kzalloc memory not zero", h);
		break;
	case kArray: h.p = array_alloc(side, h, r); break;
	case kRealloc:
		h.size = kmalloc_size(r, true);
		h.p = krealloc(nullptr, h.size, side.gfp);
		count(side, aKreallocNull);
		break;
	case kCache:
		h.size = kObjWords * 4;
		h.p = kmem_cache_alloc(g_cache, side.gfp);
		count(side, aCacheAlloc);
		if (h.p != nullptr && !constructed(h.p))
			problem(side, "irq_obj not in its constructed state", h);
		break;
	case kBulk: {
		h.size = 1 + (r >> 8) % kBulkMax;
		int got = kmem_cache_alloc_bulk(g_cache, side.gfp, h.size, h.objs);
		count(side, aBulkAlloc);
		h.p = got == static_cast<int>(h.size) ? h.objs[0] : nullptr;
		if (got != 0 && got != static_cast<int>(h.size))
			problem(side, "kmem_cache_alloc_bulk: neither all nor nothing", h);
		for (int i = 0; h.p != nullptr && i < got; ++i)
			if (!constructed(h.objs[i]))
				problem(side, "bulk irq_obj not in its constructed state", h);
		break;
	}
	case kPages: {
		h.size = (r >> 8) % 3;
		struct page *pg = alloc_pages(side.gfp, h.size);
		count(side, aAllocPages);
		h.p = pg != nullptr ? page_address(pg) : nullptr;
		break;
	}
	case kExact:
		h.size = static_cast<uint32_t>(PAGE_SIZE * (1 + (r >> 8) % 3) - (r >> 12) % (PAGE_SIZE - 4));
		h.p = alloc_pages_exact(h.size, side.gfp);
		count(side, aAllocExact);
		break;
	case kFreePages:
		h.size = (r >> 8) % 3;
		h.p = reinterpret_cast<void *>(__get_free_pages(side.gfp, h.size));
		count(side, aGetFreePages);
		break;
	case kZeroPage:
		h.size = 0;
		h.p = reinterpret_cast<void *>(get_zeroed_page(side.gfp));
		count(side, aGetZeroedPage);
		if (h.p != nullptr && !zero_range(h.p, 0, PAGE_SIZE))
			problem(side, "get_zeroed_page memory not zero", h);
		break;
	case kNone:
	case kKinds: break;
	}
	side.ops = side.ops + 1;
	if (h.p == nullptr) {
		problem(side, "allocation failed", h);
		h.kind = kNone;
		return false;
	}
	side.allocs = side.allocs + 1;
	stamp_block(h);
	return true;
}

/* krealloc a kmalloc-family block to a new size: grow (half of those with
 * __GFP_ZERO) or shrink; the pattern must survive up to the smaller size,
 * grown bytes past the old ksize() must be zero with __GFP_ZERO. */
void resize(Side &side, Held &h)
{
	if (!block_intact(h)) {
		problem(side, "stamp lost before krealloc", h);
		describe_damage(h);
	}
	uint32_t r = side.rng.next();
	uint32_t old_size = h.size;
	size_t old_ksize = ksize(h.p);
	bool grow = (r % 2 == 0 || old_size < 8) && old_size < 4 * PAGE_SIZE; /* bounded */
	bool zero = grow && (r >> 1) % 2 == 0;
	uint32_t new_size = grow ? old_size + 1 + (r >> 8) % (old_size + 64) : 4 + (r >> 8) % (old_size - 4);
	count(side, grow ? (zero ? aKreallocGrowZero : aKreallocGrow) : aKreallocShrink);
	void *p = krealloc(h.p, new_size, side.gfp | (zero ? __GFP_ZERO : 0));
	side.ops = side.ops + 1;
	side.resizes = side.resizes + 1;
	if (p == nullptr) {
		problem(side, "krealloc failed", h); /* h.p is still valid */
		return;
	}
	if (p != h.p)
		side.resizes_moved = side.resizes_moved + 1;
	if (!pattern_kept(p, old_size, old_size < new_size ? old_size : new_size, h.stamp))
		problem(side, "krealloc lost data", h);
	if (zero && new_size > old_ksize && !zero_range(p, old_ksize, new_size))
		problem(side, "krealloc __GFP_ZERO: grown bytes not zero", h);
	h.p = p;
	h.size = new_size;
	stamp_block(h);
}

/* One step: take a block the other side handed over, else pick a slot:
 * fill it if empty; else resize it (1 in 4 kmalloc-family blocks), or
 * free what it holds (1 in 4 through the outbox). */
void step(Side &side)
{
	Held h;
	if (side.inbox->pop(h)) {
		release(side, h);
		side.cross_frees = side.cross_frees + 1;
		return;
	}
	Held &slot = side.slots[side.rng.below(side.nr_slots)];
	if (slot.kind == kNone) {
		acquire(side, slot);
		return;
	}
	uint32_t r = side.rng.next();
	if (kmalloc_family(slot.kind) && r % 4 == 0) {
		resize(side, slot);
		return;
	}
	if ((r >> 2) % 4 == 0 && block_intact(slot) && side.outbox->push(slot)) {
		slot.kind = kNone;
		return;
	}
	release(side, slot);
}

void timer_start()
{
	board::mmio32(kTimer1 + 0x0) = 0;
	board::mmio32(kTimer1 + 0x8) = kTimerReload;
	board::mmio32(kTimer1 + 0x4) = kTimerReload;
	board::mmio32(kTimer1 + 0xc) = 1; /* clear a stale interrupt */
	board::mmio32(kNvicIser0) = 1u << kTimer1Irq;
	board::mmio32(kTimer1 + 0x0) = 1u | (1u << 3); /* enable, interrupt enable */
}

void timer_stop()
{
	board::mmio32(kTimer1 + 0x0) = 0;
	board::mmio32(kNvicIcer0) = 1u << kTimer1Irq;
	board::mmio32(kTimer1 + 0xc) = 1;
	__asm__ volatile("dsb\n\tisb" ::: "memory");
}

/* Counts what the test holds per cache, for the census. */
void expect_held(slab_census &census, const Held &h)
{
	if (h.kind == kCache) {
		census.expect_more("irq_obj", 1);
	} else if (h.kind == kBulk) {
		census.expect_more("irq_obj", h.size);
	} else if (kmalloc_family(h.kind) && ksize(h.p) <= kmalloc_max_cache_size()) {
		/* in the DMA zone: a dma-kmalloc object (the Normal classes take
		 * DMA pages only once Normal memory is gone, never in this run) */
		char name[24];
		bool dma = ktest_env_in_zone(reinterpret_cast<uintptr_t>(h.p), KMM_ZONE_DMA);
		slab_census::kmalloc_name(name, sizeof(name), ksize(h.p), dma);
		census.expect_more(name, 1);
	}
}

void side_init(Side &side, const char *name, Held *slots, unsigned nr_slots, uint32_t seed, Ring *inbox,
	       Ring *outbox, gfp_t gfp)
{
	side.name = name;
	side.slots = slots;
	side.nr_slots = nr_slots;
	side.rng = kmm_workload_rng{seed};
	side.inbox = inbox;
	side.outbox = outbox;
	side.gfp = gfp;
	side.ops = 0;
	side.allocs = 0;
	side.frees = 0;
	side.cross_frees = 0;
	side.resizes = 0;
	side.resizes_moved = 0;
	side.problems = 0;
	side.generation = 0;
	for (unsigned long &c : side.calls)
		c = 0;
}

/* One line per API with both sides' call counts; returns how many APIs
 * the handler never called. */
unsigned print_calls()
{
	unsigned missing = 0;
	for (unsigned a = 0; a < kApis; ++a) {
		printk("# irq_stress: %-32s main %6lu  irq %6lu\n", kApiNames[a], g_main.calls[a], g_irq.calls[a]);
		if (g_irq.calls[a] == 0) {
			printk("# irq_stress: the handler never called %s\n", kApiNames[a]);
			++missing;
		}
	}
	return missing;
}

} // namespace

extern "C" void irq_stress_timer1_handler(void)
{
	board::mmio32(kTimer1 + 0xc) = 1;
	if (!g_irq_running)
		return;
	static int32_t credit;
	credit = credit + kIrqShareTicks > kIrqShareTicks ? kIrqShareTicks : credit + kIrqShareTicks;
	while (credit > 0) {
		uint32_t start = board::mmio32(kTimer0Value);
		step(g_irq);
		credit -= static_cast<int32_t>(start - board::mmio32(kTimer0Value));
	}
}

namespace {

void irq_stress_run(struct ktest *t)
{
	kmm_slab_shrink_all();
	size_t free_before = kmm_free_pages();
	g_ctor_calls = 0;
	g_cache = kmem_cache_create("irq_obj", kObjWords * 4, 0, 0, ctor);
	KTEST_ASSERT_NOT_NULL(t, g_cache);
	slab_census baseline;
	baseline.take();
	kmem_cache_info info0;
	kmem_cache_get_info(g_cache, &info0);

	side_init(g_main, "main", g_main_slots, kMainSlots, 0x6d61696eu, &g_to_main, &g_to_irq, GFP_KERNEL);
	side_init(g_irq, "irq", g_irq_slots, kIrqSlots, 0x69727131u, &g_to_irq, &g_to_main, GFP_ATOMIC);
	g_irq_running = true;
	irq_trace_reset();
	uint64_t start = kmm_arch_counter();
	timer_start();
	unsigned long validate_problems = 0, validations = 0;
	uint32_t longest = 0; /* of the allocation paths, not the validate() walks */
	while (g_main.ops + g_irq.ops < kTotalOps) {
		step(g_main);
		if (g_main.ops % 8192 == 0) {
			uint32_t sofar = irq_trace_max_instructions();
			longest = sofar > longest ? sofar : longest;
			validate_problems += kmm_validate() + kmm_slab_validate();
			++validations;
			irq_trace_reset();
		}
	}
	g_irq_running = false;
	timer_stop();
	uint64_t instructions = kmm_arch_counter() - start;
	uint32_t last = irq_trace_max_instructions();
	longest = last > longest ? last : longest;
	printk("# irq-window: irq_stress: the whole run, main loop and handler (validate() walks excluded): longest "
	       "%lu instructions\n", static_cast<unsigned long>(longest));

	unsigned long total = g_main.ops + g_irq.ops;
	printk("# irq_stress: %lu operations: main %lu (%lu allocs, %lu frees, %lu of them handed over by the handler), "
	       "irq %lu (%lu allocs, %lu frees, %lu handed over by main), %llu instructions, %lu validations\n",
	       total, g_main.ops, g_main.allocs, g_main.frees, g_main.cross_frees, g_irq.ops, g_irq.allocs, g_irq.frees,
	       g_irq.cross_frees, static_cast<unsigned long long>(instructions), validations);
	KTEST_EXPECT_GE(t, total, kTotalOps);
	KTEST_EXPECT_GE(t, g_irq.ops, kTotalOps / 5);
	KTEST_EXPECT_GE(t, g_main.ops, kTotalOps / 5);
	KTEST_EXPECT_GT(t, g_irq.cross_frees, 0ul);
	KTEST_EXPECT_GT(t, g_main.cross_frees, 0ul);
	printk("# irq_stress: krealloc resizes: main %lu (%lu moved), irq %lu (%lu moved)\n", g_main.resizes,
	       g_main.resizes_moved, g_irq.resizes, g_irq.resizes_moved);
	KTEST_EXPECT_EQ(t, print_calls(), 0u);
	KTEST_EXPECT_GT(t, g_irq.resizes_moved, 0ul);
	KTEST_EXPECT_LT(t, g_irq.resizes_moved, g_irq.resizes); /* some stayed in place */
	KTEST_EXPECT_EQ(t, g_main.problems, 0ul);
	KTEST_EXPECT_EQ(t, g_irq.problems, 0ul);
	KTEST_EXPECT_EQ(t, validate_problems, 0ul);

	/* Nothing lost: every cache holds exactly its baseline plus ours. */
	for (unsigned i = 0; i < kMainSlots; ++i)
		expect_held(baseline, g_main_slots[i]);
	for (unsigned i = 0; i < kIrqSlots; ++i)
		expect_held(baseline, g_irq_slots[i]);
	Ring *const rings[] = {&g_to_irq, &g_to_main};
	for (Ring *ring : rings)
		for (uint32_t k = ring->tail; k != ring->head; ++k)
			expect_held(baseline, ring->items[k % kRingSize]);
	slab_census now;
	now.take();
	KTEST_EXPECT_EQ(t, baseline.compare(now, "irq_stress"), 0ul);
	kmem_cache_info info;
	kmem_cache_get_info(g_cache, &info);
	KTEST_EXPECT_EQ(t, g_ctor_calls, (info.slabs_allocated - info0.slabs_allocated) * info.objects_per_slab);
	printk("# irq_stress: irq_obj: %lu slabs created, %lu ctor calls, %lu alloc fast / %lu slow, %lu free fast / "
	       "%lu slow\n",
	       info.slabs_allocated, g_ctor_calls, info.alloc_fastpath, info.alloc_slowpath, info.free_fastpath,
	       info.free_slowpath);

	/* Free everything; back to the pre-test page count. */
	Held h;
	while (g_to_irq.pop(h))
		release(g_main, h);
	while (g_to_main.pop(h))
		release(g_main, h);
	for (unsigned i = 0; i < kMainSlots; ++i)
		if (g_main_slots[i].kind != kNone)
			release(g_main, g_main_slots[i]);
	for (unsigned i = 0; i < kIrqSlots; ++i)
		if (g_irq_slots[i].kind != kNone)
			release(g_main, g_irq_slots[i]);
	KTEST_EXPECT_EQ(t, g_main.problems, 0ul);
	KTEST_EXPECT_EQ(t, kmm_validate(), 0ul);
	KTEST_EXPECT_EQ(t, kmm_slab_validate(), 0ul);
	kmem_cache_destroy(g_cache);
	g_cache = nullptr;
	kmm_slab_shrink_all();
	KTEST_EXPECT_EQ(t, kmm_free_pages(), free_before);
	printk("# irq_stress: done: %lu operations, %zu free pages before and %zu after\n", total, free_before,
	       kmm_free_pages());
}

const ktest_case cases[] = {
	{"alloc_free_from_timer_irq", irq_stress_run},
};

} // namespace

KTEST_SUITE(irq_stress, cases);

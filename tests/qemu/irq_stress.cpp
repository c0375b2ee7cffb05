/*
 * tests/qemu/irq_stress.cpp — kmm from interrupt context on a uniprocessor
 * Cortex-M (mps2-an385; linked into kmm-mps2-an385-irq.elf only): a
 * periodic CMSDK timer1 interrupt (0x40001000, IRQ 9, its entry appended to
 * the vector table in .vectors.irq) allocates and frees with GFP_ATOMIC
 * while the main loop does the same, on the same caches:
 *
 *   kmalloc/kfree        4 B … 2 KiB, 1 in 32 above the top class (pages)
 *   kmem_cache           "irq_obj", 48 B with a ctor: every allocation must
 *                        come back constructed (users restore it before free)
 *   alloc_pages          orders 0 … 2 / __free_pages
 *
 * Each side keeps a table of live blocks stamped with their owner and
 * checked before the free; a quarter of the frees instead travel to the
 * other side through a single-producer ring (cross-context frees: main
 * allocates, the handler frees, and the reverse). Both validate() run from
 * the main loop every 8192 of its operations with the interrupt live. The
 * run stops at kTotalOps operations counted on both sides (each side must
 * do at least a fifth), then, with the interrupt off: every cache's
 * in-use count (slabinfo) must equal its baseline plus what the test holds,
 * the ctor count must equal objects per slab × slabs created, everything
 * is freed, both validate() return 0, and after shrinking every cache the
 * free page count is back at its pre-test figure.
 */
#include <arch/arch.h>
#include <kernel/ktest.h>
#include <kernel/printk.h>
#include <kernel/workload.h>
#include <kmm/kmm.h>

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
constexpr unsigned kIrqOpsPerTick = 4;
constexpr unsigned long kTotalOps = 120000;
constexpr unsigned kMainSlots = 128;
constexpr unsigned kIrqSlots = 32;
constexpr unsigned kRingSize = 16;
constexpr unsigned kObjWords = 12;         /* irq_obj: 48 bytes */
constexpr uint32_t kCtorMagic = 0xc7a5e000u;

enum Kind : uint8_t { kNone, kKmalloc, kCache, kPages };

struct Held {
	void *p;
	uint32_t size; /* bytes (kmalloc), order (pages) */
	uint32_t stamp;
	Kind kind;
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
	volatile unsigned long ops, allocs, frees, cross_frees;
	volatile unsigned long problems;
	uint32_t generation;
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

size_t block_bytes(const Held &h) { return h.kind == kPages ? PAGE_SIZE << h.size : h.size; }

void put_word(void *p, size_t off, uint32_t v) { __builtin_memcpy(static_cast<char *>(p) + off, &v, 4); }
uint32_t get_word(const void *p, size_t off)
{
	uint32_t v;
	__builtin_memcpy(&v, static_cast<const char *>(p) + off, 4);
	return v;
}

/* kmalloc blocks and pages: the stamp in the first and last word of
 * every page the block spans. irq_obj: word 0 (the rest stays as the
 * ctor left it, checked on both ends). */
void stamp_block(const Held &h)
{
	if (h.kind == kCache) {
		put_word(h.p, 0, h.stamp);
		return;
	}
	size_t bytes = block_bytes(h);
	for (size_t off = 0; off < bytes; off += PAGE_SIZE)
		put_word(h.p, off, h.stamp);
	put_word(h.p, (bytes - 4) & ~size_t{3}, h.stamp);
}

bool block_intact(const Held &h)
{
	if (h.kind == kCache) {
		if (get_word(h.p, 0) != h.stamp)
			return false;
		for (unsigned i = 1; i < kObjWords; ++i)
			if (get_word(h.p, 4 * i) != (kCtorMagic ^ i))
				return false;
		return true;
	}
	size_t bytes = block_bytes(h);
	for (size_t off = 0; off < bytes; off += PAGE_SIZE)
		if (get_word(h.p, off) != h.stamp)
			return false;
	return get_word(h.p, (bytes - 4) & ~size_t{3}) == h.stamp;
}

bool constructed(const void *p)
{
	for (unsigned i = 0; i < kObjWords; ++i)
		if (get_word(p, 4 * i) != (kCtorMagic ^ i))
			return false;
	return true;
}

void release(Side &side, Held &h)
{
	if (!block_intact(h))
		problem(side, "stamp lost before free", h);
	switch (h.kind) {
	case kKmalloc: kfree(h.p); break;
	case kCache:
		put_word(h.p, 0, kCtorMagic); /* back to the constructed state */
		kmem_cache_free(g_cache, h.p);
		break;
	case kPages: __free_pages(virt_to_page(h.p), h.size); break;
	case kNone: break;
	}
	h.kind = kNone;
	side.frees = side.frees + 1;
	side.ops = side.ops + 1;
}

bool acquire(Side &side, Held &h)
{
	uint32_t r = side.rng.next();
	h.stamp = (side.name[0] == 'm' ? 0x4d000000u : 0x49000000u) | (++side.generation & 0xffffffu);
	switch (r % 3) {
	case 0: {
		h.kind = kKmalloc;
		if ((r >> 8) % 32 == 0)
			h.size = static_cast<uint32_t>(kmalloc_max_cache_size() + 1 + (r >> 16) % (2 * PAGE_SIZE));
		else
			h.size = 4 + (r >> 8) % (2048 >> ((r >> 20) % 4));
		h.p = kmalloc(h.size, side.gfp);
		break;
	}
	case 1:
		h.kind = kCache;
		h.size = kObjWords * 4;
		h.p = kmem_cache_alloc(g_cache, side.gfp);
		if (h.p != nullptr && !constructed(h.p))
			problem(side, "irq_obj not in its constructed state", h);
		break;
	default: {
		h.kind = kPages;
		h.size = (r >> 8) % 3;
		struct page *pg = alloc_pages(side.gfp, h.size);
		h.p = pg != nullptr ? page_address(pg) : nullptr;
		break;
	}
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

/* One step: take a block the other side handed over, else pick a slot:
 * free what it holds (1 in 4 through the outbox), or fill it. */
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
	if (side.rng.below(4) == 0 && block_intact(slot) && side.outbox->push(slot)) {
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
	} else if (h.kind == kKmalloc && h.size <= kmalloc_max_cache_size()) {
		char name[24];
		slab_census::kmalloc_name(name, sizeof(name), ksize(h.p));
		census.expect_more(name, 1);
	}
}

} // namespace

extern "C" void irq_stress_timer1_handler(void)
{
	board::mmio32(kTimer1 + 0xc) = 1;
	if (!g_irq_running)
		return;
	for (unsigned i = 0; i < kIrqOpsPerTick; ++i)
		step(g_irq);
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

	g_main = Side{"main", g_main_slots, kMainSlots, {0x6d61696eu}, &g_to_main, &g_to_irq, GFP_KERNEL, 0, 0, 0, 0, 0, 0};
	g_irq = Side{"irq", g_irq_slots, kIrqSlots, {0x69727131u}, &g_to_irq, &g_to_main, GFP_ATOMIC, 0, 0, 0, 0, 0, 0};
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

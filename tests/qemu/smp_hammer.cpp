/*
 * tests/qemu/smp_hammer.cpp — every CPU hammers the same allocator at once
 * (virt-a15 and riscv64-virt with -smp 4, KMM_NR_CPUS=4; linked into
 * kmm-<board>-smp.elf only). Suite smp_hammer:
 *
 *   cpus   starts CPUs 1-3 (kernel/smp.cpp) and checks that each runs with
 *          its own kmm_arch_cpu_id() and stack
 *   pages  alloc_pages/__free_pages, orders 0-3, Normal and DMA zone, on
 *          every CPU at once: per-CPU page lists, their refills and drains
 *          into the shared zone lock
 *   slab   the same plus kmalloc/kfree (4 B … 2 KiB and large; 1 in 8 of
 *          the small ones GFP_DMA, checked to lie in the DMA zone) and a shared
 *          kmem_cache with a ctor; every kShrinkEvery operations a CPU
 *          shrinks the shared cache or every cache, which drains the other
 *          CPUs' per-CPU caches through the cross-CPU call IPI while they
 *          hammer (calls in every direction at once); at teardown only
 *          CPU 0 shrinks, and the free page count must come back; every
 *          kLiveCheckEvery operations CPU 0 runs kmm_slab_validate() and
 *          kmem_cache_get_info() while the others hammer (they are
 *          stopped while it reads): no problem may show
 *   drain  CPUs 1-3 fill their per-CPU caches of a fresh cache, then idle;
 *          CPU 0's kmem_cache_shrink empties them at once (no object in
 *          any magazine, no CPU slab, no slab left); with CPU 0's IRQs
 *          masked the calls are refused and the shrink only asks (the
 *          objects stay cached, validate() is clean); a shrink with IRQs
 *          on empties it again and destroy finds nothing
 *   oom    every CPU allocates small kmalloc objects and 16 KiB blocks
 *          (GFP_KERNEL) until its first failure: reclaim under pressure
 *          drains the other CPUs' caches by cross-CPU calls while they
 *          allocate; then each CPU frees another's blocks; validate() clean
 *          and the free page count back
 *   stop   CPUs 1-3 count in loops; while kmm_arch_cpus_stop() holds
 *          them no count moves, after the resume every one does; with
 *          IRQs masked the stop is refused
 *   destroy_masked
 *          CPU 0 destroys caches with its IRQs masked (as from an IRQ
 *          handler) while CPUs 1-3 run reclaim walks that call it: the
 *          destroy serves those calls while it waits for the walks
 *   park   parks CPUs 1-3 for the rest of the boot
 *
 * Each CPU keeps a table of live blocks stamped with its id and a
 * generation (first and last word of every page; a ctor object's first
 * word), checked before every free; a third of the frees go to another CPU
 * through a single-producer/single-consumer ring per (from, to) pair, so
 * objects allocated on one CPU are freed on another. kRounds rounds of
 * kOpsPerRound operations per CPU (4 × 8 × 32768 = 1,048,576 per case);
 * after each round, with the other CPUs idle, CPU 0 checks kmm_validate()
 * and kmm_slab_validate() == 0, the free page count against what the CPUs
 * hold (pages case), and every cache's in-use count against its baseline
 * plus what the CPUs hold (slab case). At the end everything is freed and
 * the free page count must be back where it started.
 */
#include <arch/arch.h>
#include <kernel/ktest.h>
#include <kernel/printk.h>
#include <kernel/smp.h>
#include <kernel/workload.h>
#include <kmm/kmm.h>

#include "../shared/ktest_env.h"
#include "slab_census.h"

namespace {

constexpr unsigned kCpus = KMM_NR_CPUS;
constexpr unsigned kSlots = 64;
constexpr unsigned kRingSize = 32;
constexpr unsigned kRounds = 8;
constexpr unsigned long kOpsPerRound = 32768;
constexpr unsigned kObjWords = 16; /* "smp_obj": 64 bytes */
constexpr uint32_t kCtorMagic = 0x5e7c0000u;
constexpr unsigned long kShrinkEvery = 4096; /* slab case, per CPU */
constexpr unsigned long kLiveCheckEvery = 8192; /* slab case, CPU 0 */

enum Kind : uint8_t { kNone, kPages, kKmalloc, kCache };

struct Block {
	void *p;
	uint32_t size; /* order (pages), bytes (kmalloc) */
	uint32_t stamp;
	Kind kind;
	bool dma; /* kmalloc(GFP_DMA): a dma-kmalloc object */
};

struct alignas(64) Ring {
	Block items[kRingSize];
	alignas(64) uint32_t head;
	alignas(64) uint32_t tail;
	bool push(const Block &b)
	{
		uint32_t h = __atomic_load_n(&head, __ATOMIC_RELAXED);
		if (h - __atomic_load_n(&tail, __ATOMIC_ACQUIRE) == kRingSize)
			return false;
		items[h % kRingSize] = b;
		__atomic_store_n(&head, h + 1, __ATOMIC_RELEASE);
		return true;
	}
	bool pop(Block &b)
	{
		uint32_t t = __atomic_load_n(&tail, __ATOMIC_RELAXED);
		if (t == __atomic_load_n(&head, __ATOMIC_ACQUIRE))
			return false;
		b = items[t % kRingSize];
		__atomic_store_n(&tail, t + 1, __ATOMIC_RELEASE);
		return true;
	}
};

struct alignas(64) Cpu {
	Block slots[kSlots];
	kmm_workload_rng rng;
	uint32_t generation;
	unsigned long ops, allocs, frees, remote_frees, handed_over, shrinks;
	unsigned long live_checks, live_problems; /* CPU 0: validate() mid-hammer */
	unsigned long problems, failures;
	unsigned seen_id;
	uintptr_t seen_sp;
	uint64_t counter[2]; /* two kmm_arch_counter() reads (cpus) */
};

Ring g_rings[kCpus][kCpus]; /* [from][to] */
Cpu g_cpu[kCpus];
bool g_with_slab;
struct kmem_cache *g_cache;
unsigned long g_ctor_calls;

void ctor(void *object)
{
	auto *w = static_cast<uint32_t *>(object);
	for (unsigned i = 0; i < kObjWords; ++i)
		w[i] = kCtorMagic ^ i;
	__atomic_add_fetch(&g_ctor_calls, 1ul, __ATOMIC_RELAXED);
}

void put_word(void *p, size_t off, uint32_t v) { __builtin_memcpy(static_cast<char *>(p) + off, &v, 4); }
uint32_t get_word(const void *p, size_t off)
{
	uint32_t v;
	__builtin_memcpy(&v, static_cast<const char *>(p) + off, 4);
	return v;
}

size_t block_bytes(const Block &b) { return b.kind == kPages ? PAGE_SIZE << b.size : b.size; }

void stamp_block(const Block &b)
{
	if (b.kind == kCache) {
		put_word(b.p, 0, b.stamp);
		return;
	}
	size_t bytes = block_bytes(b);
	for (size_t off = 0; off < bytes; off += PAGE_SIZE)
		put_word(b.p, off, b.stamp);
	put_word(b.p, (bytes - 4) & ~size_t{3}, b.stamp);
}

bool constructed_except_first(const void *p)
{
	for (unsigned i = 1; i < kObjWords; ++i)
		if (get_word(p, 4 * i) != (kCtorMagic ^ i))
			return false;
	return true;
}

bool block_intact(const Block &b)
{
	if (b.kind == kCache)
		return get_word(b.p, 0) == b.stamp && constructed_except_first(b.p);
	size_t bytes = block_bytes(b);
	for (size_t off = 0; off < bytes; off += PAGE_SIZE)
		if (get_word(b.p, off) != b.stamp)
			return false;
	return get_word(b.p, (bytes - 4) & ~size_t{3}) == b.stamp;
}

void problem(Cpu &c, unsigned cpu, const char *what, const Block &b)
{
	if (++c.problems <= 4)
		printk("# smp_hammer cpu %u: %s: block %p kind %u size %u stamp %#x (now %#x)\n", cpu, what, b.p,
		       static_cast<unsigned>(b.kind), static_cast<unsigned>(b.size), static_cast<unsigned>(b.stamp),
		       b.p != nullptr ? static_cast<unsigned>(get_word(b.p, 0)) : 0u);
}

void release(Cpu &c, unsigned cpu, Block &b)
{
	if (!block_intact(b))
		problem(c, cpu, "stamp lost before free", b);
	switch (b.kind) {
	case kPages: __free_pages(virt_to_page(b.p), b.size); break;
	case kKmalloc: kfree(b.p); break;
	case kCache:
		put_word(b.p, 0, kCtorMagic);
		kmem_cache_free(g_cache, b.p);
		break;
	case kNone: break;
	}
	b.kind = kNone;
	++c.frees;
	++c.ops;
}

void acquire(Cpu &c, unsigned cpu, Block &b)
{
	uint32_t r = c.rng.next();
	b.stamp = (cpu << 24) | (++c.generation & 0xffffffu);
	b.dma = false;
	unsigned kinds = g_with_slab ? 3 : 1;
	switch (r % kinds) {
	case 0: {
		b.kind = kPages;
		b.size = (r >> 8) % 4;
		gfp_t gfp = (r >> 12) % 8 == 0 ? GFP_DMA : ((r >> 16) % 2 == 0 ? GFP_KERNEL : GFP_ATOMIC);
		struct page *pg = alloc_pages(gfp | __GFP_NOWARN, b.size);
		b.p = pg != nullptr ? page_address(pg) : nullptr;
		break;
	}
	case 1:
		b.kind = kKmalloc;
		if ((r >> 8) % 64 == 0) {
			b.size = static_cast<uint32_t>(kmalloc_max_cache_size() + 1 + (r >> 16) % (2 * PAGE_SIZE));
		} else {
			b.size = 4 + (r >> 8) % (2048 >> ((r >> 20) % 4));
			b.dma = (r >> 24) % 8 == 0;
		}
		b.p = kmalloc(b.size, b.dma ? GFP_DMA : GFP_KERNEL);
		if (b.dma && b.p != nullptr && !ktest_env_in_zone(reinterpret_cast<uintptr_t>(b.p), KMM_ZONE_DMA))
			problem(c, cpu, "kmalloc(GFP_DMA) memory outside the DMA zone", b);
		break;
	default:
		b.kind = kCache;
		b.size = kObjWords * 4;
		b.p = kmem_cache_alloc(g_cache, GFP_KERNEL);
		if (b.p != nullptr && (get_word(b.p, 0) != kCtorMagic || !constructed_except_first(b.p)))
			problem(c, cpu, "smp_obj not in its constructed state", b);
		break;
	}
	++c.ops;
	if (b.p == nullptr) {
		++c.failures;
		problem(c, cpu, "allocation failed", b);
		b.kind = kNone;
		return;
	}
	++c.allocs;
	stamp_block(b);
}

/* One round of kOpsPerRound operations on `cpu`. */
void hammer(unsigned cpu, void *)
{
	Cpu &c = g_cpu[cpu];
	unsigned long end = c.ops + kOpsPerRound;
	unsigned from = 0;
	unsigned long next_shrink = c.ops + kShrinkEvery / kCpus * (cpu + 1); /* staggered */
	unsigned long next_check = c.ops + kLiveCheckEvery / 2;
	while (c.ops < end) {
		if (g_with_slab && c.ops >= next_shrink) {
			/* Drains the other CPUs' caches by IPI, mid-hammer. */
			if (++c.shrinks % 2 != 0)
				kmem_cache_shrink(g_cache);
			else
				kmm_slab_shrink_all();
			next_shrink += kShrinkEvery;
		}
		if (g_with_slab && cpu == 0 && c.ops >= next_check) {
			next_check += kLiveCheckEvery;
			/* The others stop while it reads (kmm_arch_cpus_stop). */
			++c.live_checks;
			unsigned long v = kmm_slab_validate();
			kmem_cache_info info;
			kmem_cache_get_info(g_cache, &info);
			if (v != 0 || info.active_objs > info.num_objs || info.active_slabs > info.num_slabs) {
				if (++c.live_problems <= 4)
					printk("# smp_hammer: live check: validate %lu, smp_obj %lu of %lu objects active\n", v,
					       info.active_objs, info.num_objs);
			}
		}
		/* Blocks other CPUs handed over first (round robin). */
		from = (from + 1) % kCpus;
		Block b;
		if (from != cpu && g_rings[from][cpu].pop(b)) {
			release(c, cpu, b);
			++c.remote_frees;
			continue;
		}
		Block &slot = c.slots[c.rng.below(kSlots)];
		if (slot.kind == kNone) {
			acquire(c, cpu, slot);
			continue;
		}
		if (c.rng.below(3) == 0) {
			unsigned to = (cpu + 1 + c.rng.below(kCpus - 1)) % kCpus;
			if (block_intact(slot) && g_rings[cpu][to].push(slot)) {
				slot.kind = kNone;
				++c.handed_over;
				continue;
			}
		}
		release(c, cpu, slot);
	}
}

/* Frees everything a CPU holds and what was handed to it. */
void drain(unsigned cpu, void *)
{
	Cpu &c = g_cpu[cpu];
	for (Block &b : c.slots)
		if (b.kind != kNone)
			release(c, cpu, b);
	Block b;
	for (unsigned from = 0; from < kCpus; ++from)
		while (g_rings[from][cpu].pop(b))
			release(c, cpu, b);
	/* The per-CPU slab caches stay: CPU 0's shrink drains them. */
}

template <typename Fn> void for_each_held(Fn fn)
{
	for (unsigned cpu = 0; cpu < kCpus; ++cpu)
		for (const Block &b : g_cpu[cpu].slots)
			if (b.kind != kNone)
				fn(b);
	for (unsigned from = 0; from < kCpus; ++from)
		for (unsigned to = 0; to < kCpus; ++to) {
			const Ring &r = g_rings[from][to];
			for (uint32_t k = r.tail; k != r.head; ++k)
				fn(r.items[k % kRingSize]);
		}
}

/* Pages the CPUs hold as page blocks or large kmalloc blocks. */
size_t held_pages()
{
	size_t pages = 0;
	for_each_held([&](const Block &b) {
		if (b.kind == kPages)
			pages += size_t{1} << b.size;
		else if (b.kind == kKmalloc && b.size > kmalloc_max_cache_size())
			pages += size_t{1} << get_order(b.size);
	});
	return pages;
}

slab_census g_baseline, g_now;

void run_case(struct ktest *t, bool with_slab)
{
	unsigned online = smp_boot_cpus();
	KTEST_ASSERT_EQ(t, online, kCpus);
	g_with_slab = with_slab;
	kmm_slab_shrink_all();
	size_t free_before = kmm_free_pages();
	g_ctor_calls = 0;
	if (with_slab) {
		g_cache = kmem_cache_create("smp_obj", kObjWords * 4, 0, 0, ctor);
		KTEST_ASSERT_NOT_NULL(t, g_cache);
	}
	g_baseline.take();
	for (unsigned cpu = 0; cpu < kCpus; ++cpu) {
		g_cpu[cpu] = Cpu{};
		g_cpu[cpu].rng.state = 0x9e3779b9u * (cpu + 1) + (with_slab ? 7u : 0u);
	}
	for (auto &row : g_rings)
		for (Ring &r : row)
			r.head = r.tail = 0;

	unsigned long problems = 0;
	for (unsigned round = 0; round < kRounds; ++round) {
		smp_run_on_all(hammer, nullptr);
		/* The other CPUs are idle now: check the whole state. */
		unsigned long v = kmm_validate(), sv = kmm_slab_validate();
		if (v + sv != 0)
			printk("# smp_hammer: round %u: kmm_validate %lu, kmm_slab_validate %lu problems\n", round, v, sv);
		problems += v + sv;
		if (!with_slab) {
			size_t expect = free_before - held_pages();
			if (kmm_free_pages() != expect) {
				printk("# smp_hammer: round %u: %zu free pages, expected %zu\n", round, kmm_free_pages(), expect);
				++problems;
			}
		}
		for (auto &e : g_baseline.entries)
			e.expected_extra = 0;
		for_each_held([](const Block &b) {
			if (b.kind == kCache) {
				g_baseline.expect_more("smp_obj", 1);
			} else if (b.kind == kKmalloc && b.size <= kmalloc_max_cache_size()) {
				char name[24];
				slab_census::kmalloc_name(name, sizeof(name), ksize(b.p), b.dma);
				g_baseline.expect_more(name, 1);
			}
		});
		g_now.take();
		problems += g_baseline.compare(g_now, "smp_hammer");
	}

	unsigned long ops = 0, remote = 0, cpu_problems = 0, failures = 0;
	for (unsigned cpu = 0; cpu < kCpus; ++cpu) {
		const Cpu &c = g_cpu[cpu];
		printk("# smp_hammer %s cpu %u: %lu ops (%lu allocs, %lu frees, %lu of them of blocks from other CPUs), "
		       "%lu handed over, %lu shrinks, %lu problems\n",
		       with_slab ? "slab" : "pages", cpu, c.ops, c.allocs, c.frees, c.remote_frees, c.handed_over,
		       c.shrinks, c.problems);
		ops += c.ops;
		remote += c.remote_frees;
		cpu_problems += c.problems;
		failures += c.failures;
	}
	KTEST_EXPECT_GE(t, ops, static_cast<unsigned long>(kCpus) * kRounds * kOpsPerRound);
	KTEST_EXPECT_GT(t, remote, 0ul);
	KTEST_EXPECT_EQ(t, cpu_problems, 0ul);
	KTEST_EXPECT_EQ(t, failures, 0ul);
	KTEST_EXPECT_EQ(t, problems, 0ul);
	if (with_slab) {
		KTEST_EXPECT_GT(t, g_cpu[0].live_checks, 0ul);
		KTEST_EXPECT_EQ(t, g_cpu[0].live_problems, 0ul);
		printk("# smp_hammer: slab: %lu live checks (validate + info with CPUs 1-3 stopped mid-hammer), %lu "
		       "problems\n",
		       g_cpu[0].live_checks, g_cpu[0].live_problems);
		kmem_cache_info info;
		kmem_cache_get_info(g_cache, &info);
		KTEST_EXPECT_EQ(t, g_ctor_calls, info.slabs_allocated * info.objects_per_slab);
	}

	smp_run_on_all(drain, nullptr);
	KTEST_EXPECT_EQ(t, kmm_validate(), 0ul);
	KTEST_EXPECT_EQ(t, kmm_slab_validate(), 0ul);
	if (with_slab) {
		kmem_cache_destroy(g_cache);
		g_cache = nullptr;
	}
	kmm_slab_shrink_all();
	KTEST_EXPECT_EQ(t, kmm_free_pages(), free_before);
	printk("# smp_hammer: %s: %lu operations on %u CPUs, %lu frees of blocks from another CPU, free pages %zu "
	       "before, %zu after\n",
	       with_slab ? "slab" : "pages", ops, kCpus, remote, free_before, kmm_free_pages());
}

void cpus(struct ktest *t)
{
	KTEST_ASSERT_EQ(t, smp_boot_cpus(), kCpus);
	uint64_t before = kmm_arch_counter();
	smp_run_on_all(
		[](unsigned cpu, void *) {
			int local;
			g_cpu[cpu].counter[0] = kmm_arch_counter();
			g_cpu[cpu].seen_id = kmm_arch_cpu_id();
			g_cpu[cpu].seen_sp = reinterpret_cast<uintptr_t>(&local);
			g_cpu[cpu].counter[1] = kmm_arch_counter();
		},
		nullptr);
	/* every core's counter runs forward, and the other cores' reads did
	 * not make this core's jump (a shared 32-bit widening state counted a
	 * wrap whenever two cores' counts crossed: +2^32) */
	uint64_t after = kmm_arch_counter();
	KTEST_EXPECT_GE(t, after, before);
	KTEST_EXPECT_LT(t, after - before, uint64_t{1} << 31);
	for (unsigned cpu = 0; cpu < kCpus; ++cpu) {
		KTEST_EXPECT_GE(t, g_cpu[cpu].counter[1], g_cpu[cpu].counter[0]);
		KTEST_EXPECT_LT(t, g_cpu[cpu].counter[1] - g_cpu[cpu].counter[0], uint64_t{1} << 31);
		KTEST_EXPECT_EQ(t, g_cpu[cpu].seen_id, cpu);
		for (unsigned other = 0; other < cpu; ++other) {
			uintptr_t a = g_cpu[cpu].seen_sp, b = g_cpu[other].seen_sp;
			KTEST_EXPECT_GE(t, a > b ? a - b : b - a, uintptr_t{4096}); /* separate stacks */
		}
	}
}

void pages(struct ktest *t) { run_case(t, false); }

void slab(struct ktest *t)
{
	run_case(t, true);
}

/* What s caches outside its slabs' freelists, and its slabs. */
struct Cached {
	unsigned long magazine_objs, cpu_slabs, slabs;
};
Cached cached(struct kmem_cache *s)
{
	kmem_cache_info info;
	kmem_cache_get_info(s, &info);
	return {info.magazine_objs, info.cpu_slabs, info.num_slabs};
}

constexpr unsigned kFillObjects = 96;
struct kmem_cache *g_fill_cache;

/* On CPUs 1-3: objects allocated, then freed in the other order, so the
 * magazine fills and overflows, the CPU slab and the partial slabs stay. */
void fill(unsigned cpu, void *)
{
	if (cpu == 0)
		return;
	void *objects[kFillObjects];
	for (void *&p : objects)
		p = kmem_cache_alloc(g_fill_cache, GFP_KERNEL);
	for (unsigned i = kFillObjects; i-- > 0;)
		kmem_cache_free(g_fill_cache, objects[i]);
}

void drain_remote(struct ktest *t)
{
	KTEST_ASSERT_EQ(t, smp_boot_cpus(), kCpus);
	g_fill_cache = kmem_cache_create("smp_fill", 48, 0, 0, nullptr);
	KTEST_ASSERT_NOT_NULL(t, g_fill_cache);

	/* IRQs on: CPU 0's shrink drains CPUs 1-3 at once. */
	smp_run_on_all(fill, nullptr);
	Cached before = cached(g_fill_cache);
	KTEST_EXPECT_GT(t, before.magazine_objs, 0ul);
	KTEST_EXPECT_GT(t, before.cpu_slabs, 0ul);
	KTEST_EXPECT_EQ(t, kmem_cache_shrink(g_fill_cache), 0);
	Cached after = cached(g_fill_cache);
	KTEST_EXPECT_EQ(t, after.magazine_objs, 0ul);
	KTEST_EXPECT_EQ(t, after.cpu_slabs, 0ul);
	KTEST_EXPECT_EQ(t, after.slabs, 0ul);
	printk("# smp_hammer: drain: CPUs 1-3 cached %lu objects in magazines and %lu CPU slabs; after CPU 0's "
	       "shrink: %lu, %lu, %lu slabs\n",
	       before.magazine_objs, before.cpu_slabs, after.magazine_objs, after.cpu_slabs, after.slabs);

	/* IRQs masked on CPU 0: the calls are refused, the shrink only asks. */
	smp_run_on_all(fill, nullptr);
	before = cached(g_fill_cache);
	unsigned long flags = kmm_arch_irq_save();
	int remain = kmem_cache_shrink(g_fill_cache);
	kmm_arch_irq_restore(flags);
	KTEST_EXPECT_EQ(t, remain, 1); /* the asked CPUs still hold slabs */
	Cached asked = cached(g_fill_cache);
	KTEST_EXPECT_EQ(t, asked.magazine_objs, before.magazine_objs);
	KTEST_EXPECT_EQ(t, asked.cpu_slabs, before.cpu_slabs);
	KTEST_EXPECT_GT(t, asked.slabs, 0ul);
	KTEST_EXPECT_EQ(t, kmm_slab_validate(), 0ul);

	/* IRQs on again: everything comes back, destroy finds nothing. */
	KTEST_EXPECT_EQ(t, kmem_cache_shrink(g_fill_cache), 0);
	after = cached(g_fill_cache);
	KTEST_EXPECT_EQ(t, after.magazine_objs, 0ul);
	KTEST_EXPECT_EQ(t, after.cpu_slabs, 0ul);
	KTEST_EXPECT_EQ(t, after.slabs, 0ul);
	kmem_cache_destroy(g_fill_cache);
	g_fill_cache = nullptr;
	KTEST_EXPECT_EQ(t, kmm_slab_validate(), 0ul);
}

/* Memory pressure on every CPU at once: each allocates until its first
 * failure, in turn small kmalloc objects (so every CPU caches objects in
 * its magazines and CPU slabs) and 16 KiB blocks (pages), GFP_KERNEL: the
 * reclaim before each failure drains the other CPUs' caches through
 * cross-CPU calls while they allocate too. Then each CPU frees the next
 * CPU's blocks (remote frees). */
struct OomCpu {
	void *head; /* blocks chained through their first word */
	unsigned long small, large;
	size_t bytes;
};
OomCpu g_oom[kCpus];

void oom_fill(unsigned cpu, void *)
{
	OomCpu &o = g_oom[cpu];
	o = OomCpu{};
	for (unsigned i = 0;; ++i) {
		bool large = i % 4 == 3;
		size_t n = large ? size_t{16384} : 64 + (i * 97u + cpu * 31u) % 577u;
		void *p = kmalloc(n, GFP_KERNEL | __GFP_NOWARN);
		if (p == nullptr)
			break;
		__builtin_memcpy(p, &o.head, sizeof(void *));
		o.head = p;
		o.bytes += n;
		++(large ? o.large : o.small);
	}
}

void oom_free(unsigned cpu, void *)
{
	OomCpu &o = g_oom[(cpu + 1) % kCpus];
	for (void *p = o.head; p != nullptr;) {
		void *next;
		__builtin_memcpy(&next, p, sizeof(void *));
		kfree(p);
		p = next;
	}
	o.head = nullptr;
}

void oom(struct ktest *t)
{
	KTEST_ASSERT_EQ(t, smp_boot_cpus(), kCpus);
	kmm_slab_shrink_all();
	size_t free_before = kmm_free_pages();
	smp_run_on_all(oom_fill, nullptr);
	size_t bytes = 0, free_at_failure = kmm_free_pages();
	for (unsigned cpu = 0; cpu < kCpus; ++cpu) {
		const OomCpu &o = g_oom[cpu];
		printk("# smp_hammer: oom cpu %u: %lu small and %lu 16 KiB blocks, %zu bytes, until its first failure\n",
		       cpu, o.small, o.large, o.bytes);
		KTEST_EXPECT_GT(t, o.small, 0ul);
		KTEST_EXPECT_GT(t, o.large, 0ul);
		bytes += o.bytes;
	}
	KTEST_EXPECT_EQ(t, kmm_validate(), 0ul);
	KTEST_EXPECT_EQ(t, kmm_slab_validate(), 0ul);
	/* full: less than one 16 KiB block's pages left, or they are scattered */
	KTEST_EXPECT_GT(t, bytes, free_before * PAGE_SIZE / 2);
	smp_run_on_all(oom_free, nullptr);
	KTEST_EXPECT_EQ(t, kmm_validate(), 0ul);
	KTEST_EXPECT_EQ(t, kmm_slab_validate(), 0ul);
	kmm_slab_shrink_all();
	KTEST_EXPECT_EQ(t, kmm_free_pages(), free_before);
	printk("# smp_hammer: oom: 4 CPUs held %zu bytes at their first failures (%zu of %zu pages free then); "
	       "all freed on another CPU, free pages %zu before, %zu after\n",
	       bytes, free_at_failure, free_before, free_before, kmm_free_pages());
}

/* kmm_arch_cpus_stop itself: CPUs 1-3 count in a loop with IRQs on;
 * while they are stopped no count moves, after the resume they all do. */
volatile bool g_count_run;
unsigned long g_count[kCpus];

void count_loop(unsigned cpu, void *)
{
	if (cpu == 0)
		return;
	while (__atomic_load_n(&g_count_run, __ATOMIC_ACQUIRE))
		__atomic_store_n(&g_count[cpu], g_count[cpu] + 1, __ATOMIC_RELAXED);
}

void count_stopper(unsigned cpu, void *ctx)
{
	if (cpu != 0) {
		count_loop(cpu, ctx);
		return;
	}
	auto *t = static_cast<struct ktest *>(ctx);
	unsigned long frozen = 0, moved = 0;
	for (unsigned round = 0; round < 50; ++round) {
		unsigned long before[kCpus], after[kCpus];
		for (unsigned k = 1; k < kCpus; ++k) /* all of them started */
			while (__atomic_load_n(&g_count[k], __ATOMIC_RELAXED) == 0)
				;
		KTEST_EXPECT_EQ(t, kmm_arch_cpus_stop(), 0);
		for (unsigned k = 1; k < kCpus; ++k)
			before[k] = __atomic_load_n(&g_count[k], __ATOMIC_RELAXED);
		for (unsigned spin = 0; spin < 20000; ++spin)
			__asm__ volatile("" ::: "memory");
		for (unsigned k = 1; k < kCpus; ++k) {
			after[k] = __atomic_load_n(&g_count[k], __ATOMIC_RELAXED);
			frozen += after[k] == before[k];
		}
		kmm_arch_cpus_resume();
		for (unsigned k = 1; k < kCpus; ++k) {
			while (__atomic_load_n(&g_count[k], __ATOMIC_RELAXED) == after[k])
				;
			++moved;
		}
	}
	KTEST_EXPECT_EQ(t, frozen, 50ul * (kCpus - 1));
	KTEST_EXPECT_EQ(t, moved, 50ul * (kCpus - 1));
	/* IRQs masked: refused, nothing stopped. */
	unsigned long flags = kmm_arch_irq_save();
	KTEST_EXPECT_EQ(t, kmm_arch_cpus_stop() < 0, true);
	kmm_arch_irq_restore(flags);
	printk("# smp_hammer: stop: 50 stops of CPUs 1-3, every count held still while stopped and moved after\n");
	__atomic_store_n(&g_count_run, false, __ATOMIC_RELEASE);
}

void stop_others(struct ktest *t)
{
	KTEST_ASSERT_EQ(t, smp_boot_cpus(), kCpus);
	g_count_run = true;
	for (unsigned long &n : g_count)
		n = 0;
	smp_run_on_all(count_stopper, t);
}

/* A kmem_cache_destroy with IRQs masked on CPU 0 (as an interrupt
 * handler would call it) while CPUs 1-3 run reclaim walks, whose drains
 * call every CPU, CPU 0 included: the destroy waits for the walks that
 * may hold its cache and serves their calls to it meanwhile
 * (kmm_arch_cpu_call_poll). Before, the first such wait hung: CPU 0 waited
 * for a walk that waited for CPU 0. */
volatile bool g_walk_run;
unsigned long g_walks[kCpus];
constexpr unsigned kMaskedDestroys = 8; /* each waits for walks in progress: ~0.1 s under QEMU */

void walk_or_destroy(unsigned cpu, void *ctx)
{
	if (cpu != 0) {
		while (__atomic_load_n(&g_walk_run, __ATOMIC_ACQUIRE)) {
			kmm_slab_shrink_all();
			__atomic_store_n(&g_walks[cpu], g_walks[cpu] + 1, __ATOMIC_RELAXED);
		}
		return;
	}
	auto *t = static_cast<struct ktest *>(ctx);
	for (unsigned k = 1; k < kCpus; ++k) /* every walker is walking */
		while (__atomic_load_n(&g_walks[k], __ATOMIC_RELAXED) == 0)
			;
	unsigned destroyed = 0;
	for (unsigned i = 0; i < kMaskedDestroys; ++i) {
		struct kmem_cache *s = kmem_cache_create("smp_masked_destroy", 96, 0, 0, nullptr);
		if (s == nullptr)
			break;
		kmem_cache_free(s, kmem_cache_alloc(s, GFP_KERNEL));
		unsigned long flags = kmm_arch_irq_save();
		kmem_cache_destroy(s);
		kmm_arch_irq_restore(flags);
		++destroyed;
	}
	__atomic_store_n(&g_walk_run, false, __ATOMIC_RELEASE);
	KTEST_EXPECT_EQ(t, destroyed, kMaskedDestroys);
}

void destroy_masked(struct ktest *t)
{
	KTEST_ASSERT_EQ(t, smp_boot_cpus(), kCpus);
	const unsigned long bugs = kmm_bug_count();
	g_walk_run = true;
	for (unsigned long &n : g_walks)
		n = 0;
	smp_run_on_all(walk_or_destroy, t);
	unsigned long walks = 0;
	for (unsigned k = 1; k < kCpus; ++k)
		walks += g_walks[k];
	KTEST_EXPECT_EQ(t, kmm_slab_validate(), 0ul);
	KTEST_EXPECT_EQ(t, kmm_bug_count(), bugs); /* no leak or misuse report */
	printk("# smp_hammer: destroy_masked: %u destroys with IRQs masked on CPU 0 during %lu reclaim walks on CPUs 1-%u\n",
	       kMaskedDestroys, walks, kCpus - 1);
}

void park(struct ktest *) { smp_park_others(); }

const ktest_case cases[] = {
	{"cpus", cpus},
	{"pages", pages},
	{"slab", slab},
	{"drain", drain_remote},
	{"oom", oom},
	{"stop", stop_others},
	{"destroy_masked", destroy_masked},
	{"park", park},
};

} // namespace

KTEST_SUITE(smp_hammer, cases);

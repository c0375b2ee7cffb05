/*
 * kernel/workload.cpp — the workload driver (see kernel/workload.h): the
 * seeded mix, the live-block table, stamps, the per-backend figures, and
 * the checks after each backend or scenario (both layers' validate(), free
 * pages back after shrinking every cache).
 */
#include <kernel/workload.h>

#include <arch/arch.h>
#include <kernel/printk.h>
#include <kmm/kmm.h>

extern "C" const struct kmm_workload_backend __kmm_workloads_start[], __kmm_workloads_end[];

namespace {

struct Slot {
	void *block;
	size_t size;
	uint32_t stamp;
};

Slot g_slots[KMM_WORKLOAD_SLOTS];

using Rng = kmm_workload_rng;

/* Words stamped: the first of every page the block touches, and the last
 * whole word. Blocks under a word get their first byte stamped. */
template <typename Fn> void for_each_stamp_word(void *block, size_t size, Fn fn)
{
	auto *base = static_cast<unsigned char *>(block);
	if (size < sizeof(uint32_t)) {
		fn(base, true);
		return;
	}
	for (size_t off = 0; off + sizeof(uint32_t) <= size; off += PAGE_SIZE)
		fn(base + off, false);
	fn(base + ((size - sizeof(uint32_t)) & ~(sizeof(uint32_t) - 1)), false);
}

void stamp(void *block, size_t size, uint32_t value)
{
	for_each_stamp_word(block, size, [&](unsigned char *p, bool byte) {
		if (byte)
			*p = static_cast<unsigned char>(value);
		else
			__builtin_memcpy(p, &value, sizeof(value));
	});
}

bool stamp_intact(void *block, size_t size, uint32_t value)
{
	bool ok = true;
	for_each_stamp_word(block, size, [&](unsigned char *p, bool byte) {
		if (byte) {
			ok = ok && *p == static_cast<unsigned char>(value);
		} else {
			uint32_t word;
			__builtin_memcpy(&word, p, sizeof(word));
			ok = ok && word == value;
		}
	});
	return ok;
}

/* Sizes lean small: half the draws come from the lowest eighth of the range. */
size_t draw_size(Rng &rng, size_t min, size_t max)
{
	size_t span = max - min + 1;
	unsigned shift = rng.below(4);
	size_t limit = span >> shift;
	return min + rng.below(static_cast<uint32_t>(limit != 0 ? limit : 1));
}

void free_slot(const kmm_workload_backend &b, Slot &s, kmm_workload_stats &st, size_t &live)
{
	if (!stamp_intact(s.block, s.size, s.stamp)) {
		printk("# workload %s: block %p (%zu bytes) lost its stamp %#x\n", b.name, s.block, s.size,
		       static_cast<unsigned>(s.stamp));
		++st.problems;
	}
	uint64_t t0 = kmm_arch_counter();
	b.free(s.block, s.size);
	uint64_t dt = kmm_arch_counter() - t0;
	st.free_ticks += dt;
	if (dt > st.free_ticks_max)
		st.free_ticks_max = dt;
	++st.frees;
	live -= s.size;
	s.block = nullptr;
}

kmm_workload_stats run_backend(const kmm_workload_backend &b, uint32_t seed)
{
	kmm_workload_stats st = {};
	Rng rng{seed != 0 ? seed : 1u};
	size_t max = b.max_size(), live = 0;
	kmm_slab_shrink_all();
	size_t free_before = kmm_free_pages();
	uint32_t generation = 0;
	for (auto &s : g_slots)
		s = Slot{};

	for (unsigned long op = 1; op <= KMM_WORKLOAD_OPS; ++op) {
		uint32_t index = rng.below(KMM_WORKLOAD_SLOTS);
		Slot &s = g_slots[index];
		if (s.block != nullptr) {
			free_slot(b, s, st, live);
		} else {
			size_t size = draw_size(rng, b.min_size, max);
			uint64_t t0 = kmm_arch_counter();
			void *block = b.alloc(size);
			uint64_t dt = kmm_arch_counter() - t0;
			if (block == nullptr) {
				++st.failures;
			} else {
				st.alloc_ticks += dt;
				if (dt > st.alloc_ticks_max)
					st.alloc_ticks_max = dt;
				++st.allocs;
				s = Slot{block, size, (++generation << 8) ^ index ^ 0xa5000000u};
				stamp(block, size, s.stamp);
				live += size;
				if (live > st.peak_live_bytes)
					st.peak_live_bytes = live;
			}
		}
		if (op % KMM_WORKLOAD_VALIDATE_EVERY == 0)
			workload_validate(b.name, &st, op);
	}
	for (auto &s : g_slots)
		if (s.block != nullptr)
			free_slot(b, s, st, live);
	workload_validate(b.name, &st, KMM_WORKLOAD_OPS);
	kmm_slab_shrink_all();
	if (kmm_free_pages() != free_before) {
		printk("# workload %s: %zu free pages before, %zu after freeing everything\n", b.name, free_before,
		       kmm_free_pages());
		++st.problems;
	}
	return st;
}

unsigned long avg(uint64_t sum, unsigned long n)
{
	return n != 0 ? static_cast<unsigned long>(sum / n) : 0ul;
}

/* A scenario: the same before/after checks around its own loop. */
kmm_workload_stats run_scenario(const kmm_workload_backend &b, uint32_t seed)
{
	kmm_workload_stats st = {};
	kmm_slab_shrink_all();
	size_t free_before = kmm_free_pages();
	b.run(seed != 0 ? seed : 1u, &st);
	workload_validate(b.name, &st, st.allocs + st.frees);
	kmm_slab_shrink_all();
	if (kmm_free_pages() != free_before) {
		printk("# workload %s: %zu free pages before, %zu after freeing everything and shrinking\n", b.name,
		       free_before, kmm_free_pages());
		++st.problems;
	}
	return st;
}

} // namespace

void workload_validate(const char *who, struct kmm_workload_stats *st, unsigned long op)
{
	unsigned long pages = kmm_validate(), slabs = kmm_slab_validate();
	if (pages + slabs != 0) {
		printk("# workload %s: validate found %lu page and %lu slab problems after op %lu\n", who, pages, slabs,
		       op);
		st->problems += pages + slabs;
	}
}

size_t workload_blocks_available(gfp_t gfp, unsigned int order, size_t limit)
{
	/* The blocks held are chained through their own first word. */
	void *held = nullptr;
	size_t n = 0;
	for (; n < limit; ++n) {
		struct page *p = alloc_pages(gfp | __GFP_NOWARN | __GFP_NORETRY, order);
		if (p == nullptr)
			break;
		void *block = page_address(p);
		*static_cast<void **>(block) = held;
		held = block;
	}
	while (held != nullptr) {
		void *next = *static_cast<void **>(held);
		__free_pages(virt_to_page(held), order);
		held = next;
	}
	return n;
}

namespace {
unsigned long g_setup_failures;
}

void workload_setup_failed(const char *who, const char *what)
{
	printk("workload: %-12s could not be set up: %s (a problem)\n", who, what);
	++g_setup_failures;
}

unsigned long workload_run_all(uint32_t seed)
{
	unsigned long problems = 0;
	g_setup_failures = 0;
	printk("workload: seed %#x, %u ops per backend, %u live slots\n", static_cast<unsigned>(seed), KMM_WORKLOAD_OPS,
	       KMM_WORKLOAD_SLOTS);
	printk("workload: %-12s %7s %7s %6s %10s %9s %9s %9s %9s %s\n", "backend", "allocs", "frees", "fails",
	       "peak live", "alloc avg", "alloc max", "free avg", "free max", "problems");
	printk("workload: (fails: NULL returns when a backend's memory is full, part of the mix; problems: "
	       "damage, validate or leak findings)\n");
	for (const kmm_workload_backend *b = __kmm_workloads_start; b < __kmm_workloads_end; ++b) {
		unsigned long setup_failures = g_setup_failures;
		if (b->max_size() == 0) {
			if (g_setup_failures == setup_failures) /* else it said why */
				printk("workload: %-12s skipped (not on this board)\n", b->name);
			continue;
		}
		kmm_workload_stats st = b->run != nullptr ? run_scenario(*b, seed) : run_backend(*b, seed);
		printk("workload: %-12s %7lu %7lu %6lu %10zu %9lu %9lu %9lu %9lu %lu\n", b->name, st.allocs, st.frees,
		       st.failures, st.peak_live_bytes, avg(st.alloc_ticks, st.allocs),
		       static_cast<unsigned long>(st.alloc_ticks_max), avg(st.free_ticks, st.frees),
		       static_cast<unsigned long>(st.free_ticks_max), st.problems);
		if (st.failures != 0 && b->explain_failures != nullptr)
			b->explain_failures(&st);
		problems += st.problems;
	}
	return problems + g_setup_failures;
}

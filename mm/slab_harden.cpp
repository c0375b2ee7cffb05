/*
 * mm/slab_harden.cpp — the hardening that is not a per-object check
 * (docs/DEBUGGING.md): the weak entropy hook kmm_arch_entropy(), the
 * allocator's PRNG (random_next: the freelist secret, the freelist order),
 * freelist randomisation (KMM_SLAB_FREELIST_RANDOM) and guard pages for
 * large kmalloc blocks (kmm_kmalloc_guard_pages).
 *
 * State: the PRNG's seed and counter, kept in SlabAllocator; random_next
 * is one atomic step, no lock. randomize_freelist links a new slab before
 * it is on any list. Guarded blocks are whole page blocks, allocated and
 * freed through the page allocator (its zone lock): no slab lock is taken
 * here.
 */
#include "slab_debug.h"

#include <arch/arch.h>

#include "sanitize.h"
#include "slub.h"

/* The entropy hook: weak, so a board with a hardware RNG overrides it. */
extern "C" __attribute__((weak)) uint64_t kmm_arch_entropy(void)
{
	static const char anchor = 0;
	uint64_t x = kmm_arch_counter();
	x ^= static_cast<uint64_t>(reinterpret_cast<uintptr_t>(&anchor)) << 13;
	x ^= static_cast<uint64_t>(reinterpret_cast<uintptr_t>(__builtin_frame_address(0)));
	return x;
}

namespace kmm {

/* ---- PRNG and freelist randomisation ---- */

uint64_t SlabAllocator::random_next()
{
	uintptr_t n = __atomic_add_fetch(&random_counter_, 1, __ATOMIC_RELAXED);
	uint64_t state = random_seed_ + static_cast<uint64_t>(n) * 0x9e3779b97f4a7c15ull;
	return splitmix64(state);
}

/* KMM_SLAB_FREELIST_RANDOM: links the slab's objects in the order start,
 * start + step, ... (mod objects) with step coprime to the count: a random
 * permutation from two random numbers, no memory. Returns the first. */
void *SlabAllocator::randomize_freelist(kmem_cache *s, uintptr_t base)
{
	unsigned n = s->objects;
	if (n < 2)
		return reinterpret_cast<void *>(base);
	uint64_t r = random_next();
	unsigned start = static_cast<unsigned>(r % n);
	unsigned step = 1 + static_cast<unsigned>((r >> 32) % (n - 1));
	auto gcd = [](unsigned a, unsigned b) {
		while (b != 0) {
			unsigned t = a % b;
			a = b;
			b = t;
		}
		return a;
	};
	while (gcd(step, n) != 1)
		step = step % (n - 1) + 1;
	unsigned idx = start;
	for (unsigned i = 0; i < n; ++i) {
		unsigned next = (idx + step) % n;
		char *slot = reinterpret_cast<char *>(base + uintptr_t{idx} * s->size);
		set_freepointer(s, slot, i + 1 < n ? reinterpret_cast<char *>(base + uintptr_t{next} * s->size) : nullptr);
		idx = next;
	}
	return reinterpret_cast<void *>(base + uintptr_t{start} * s->size);
}

/* ---- large kmalloc with guard pages ---- */

void *SlabAllocator::kmalloc_large_guarded(size_t size, gfp_t gfp)
{
	size_t data_pages = large_usable_size(size) >> kPageShift;
	if (data_pages == 0) {
		if ((gfp & __GFP_NOWARN) == 0)
			reporter_.warn("kmalloc of %zu bytes with guard pages: more than the largest block", size);
		return nullptr;
	}
	unsigned order = size_to_order((data_pages + 2) << kPageShift);
	/* reclaim() runs in the page allocator under pressure (its hook) */
	struct page *head = pages_.alloc(gfp & ~(__GFP_COMP | __GFP_ZERO), order, kLargeKmalloc);
	if (head == nullptr)
		return nullptr;
	head->freelist = kGuardedLarge;
	head->inuse = static_cast<uint16_t>(data_pages);
	uintptr_t base = reinterpret_cast<uintptr_t>(pages_.page_address(head));
	uintptr_t data = base + kPageSize;
	uintptr_t after = data + (data_pages << kPageShift);
	uintptr_t end = base + (size_t{kPageSize} << order);
	__builtin_memset(bytes_at(base), kRedActive, kPageSize);
	__builtin_memset(bytes_at(after), kRedActive, end - after);
	if ((gfp & __GFP_ZERO) != 0)
		__builtin_memset(bytes_at(data), 0, data_pages << kPageShift);
	san_poison(bytes_at(base), kPageSize);
	san_poison(bytes_at(after), end - after);
	return bytes_at(data);
}

/* kfree of a large block: false if it has no guard pages; else checks the
 * pointer and both guards (report, then free anyway: the guards are ours). */
bool SlabAllocator::kfree_large_guarded(struct page *head, const void *x)
{
	if (head->freelist != kGuardedLarge)
		return false;
	uintptr_t base = reinterpret_cast<uintptr_t>(pages_.page_address(head));
	uintptr_t data = base + kPageSize;
	if (reinterpret_cast<uintptr_t>(x) != data) {
		reporter_.bug("kmalloc", "kfree of pointer %p into the middle of large kmalloc block %p (guarded, "
			      "order %u)", x, bytes_at(data), head->order);
		reporter_.finish_bug();
		return true;
	}
	uintptr_t after = data + (uintptr_t{head->inuse} << kPageShift);
	uintptr_t end = base + (size_t{kPageSize} << head->order);
	san_unpoison(bytes_at(base), kPageSize);
	san_unpoison(bytes_at(after), end - after);
	bool bad = false;
	const uintptr_t ranges[2][2] = {{base, data}, {after, end}};
	for (const auto &r : ranges) {
		const uint8_t *b = first_byte_not(r[0], r[1] - r[0], kRedActive);
		if (b == nullptr)
			continue;
		bad = true;
		reporter_.bug("kmalloc", "Guard page overwritten");
		reporter_.detail("%p @offset=%ld from block %p. First byte 0x%x instead of 0x%x",
				 static_cast<const void *>(b),
				 static_cast<long>(reinterpret_cast<intptr_t>(b) - static_cast<intptr_t>(data)), bytes_at(data), *b,
				 kRedActive);
	}
	head->freelist = 0;
	head->inuse = 0;
	pages_.free(head, head->order, kLargeKmalloc);
	if (bad)
		reporter_.finish_bug();
	return true;
}

} // namespace kmm

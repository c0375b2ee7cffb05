/*
 * mm/slub_cpu.h — a cache's per-CPU part: CacheCpu (the CPU slab, its
 * freelist, SMP's per-CPU partial slabs, the magazine) with its
 * invariants, the magazine ring's index helpers, and the build options
 * that shape them (magazine eviction, per-CPU partial slabs). The paths
 * that use them are slub_fast.h (inline) and slub.cpp / slub_free.cpp.
 */
#ifndef KMM_MM_SLUB_CPU_H
#define KMM_MM_SLUB_CPU_H

#include <stddef.h>
#include <stdint.h>

#include <arch/arch.h>

#include "page.h"
#include "slab_common.h"

namespace kmm {

/* KMM_SLAB_MAGAZINE_EVICT (kmm/config.h): what a free into a full
 * magazine gives back. */
inline constexpr unsigned kMagazineEvict = KMM_SLAB_MAGAZINE_EVICT;
/* One CPU: a free that empties a slab beyond min_partial gives it to the
 * page allocator in the same IRQ-masked step (release_slab_masked). */
inline constexpr bool kOneStepRelease = KMM_NR_CPUS == 1;
/* ... and a free into a full magazine stays masked from the inline checks
 * to the slab and the release (free_overflow_masked). */
inline constexpr bool kMaskedOverflow = KMM_NR_CPUS == 1 && kMagazineEvict == 0;

/* Per-CPU partial slabs per cache and CPU (KMM_SLAB_CPU_PARTIAL,
 * kmm/config.h; SMP builds only: uniprocessor builds keep none). */
inline constexpr unsigned kCpuPartialMax = KMM_NR_CPUS > 1 ? KMM_SLAB_CPU_PARTIAL : 0;

/* CacheCpu of different CPUs on different cache lines (SMP only: the
 * uniprocessor layout stays as it was). */
inline constexpr size_t kCacheCpuAlign = KMM_NR_CPUS > 1 ? KMM_L1_CACHE_BYTES : alignof(void *);

/* A cache's per-CPU state; the fast path touches nothing else but the
 * cache's layout fields. Invariants (IRQs masked on the owning CPU):
 *  - slab_bytes != 0 iff slab != NULL, and then freelist chains free
 *    objects of `slab` only;
 *  - the magazine is a ring over mag[1 .. kMagazineRing]; mag[0] is the
 *    wall, always NULL. Entry j (1 = oldest ... mag_count(c) = newest) is
 *    mag[mag_slot(c, j)]; mag_count(c) <= mag_limit <= kMagazineMax; each
 *    entry is a free object of this cache from any of its slabs, counted
 *    as in use by its slab (page::inuse), on no freelist, and not twice in
 *    any magazine;
 *  - mag_top is the slot of the newest entry, mag_base the slot before the
 *    oldest (mag[mag_base] is NULL: the sentinel; base 0 = the wall). The
 *    fast paths are the plain stack's: pop reads mag[mag_top] and stops at
 *    a NULL, push writes mag[mag_top + 1] while mag_top < mag_end. No index
 *    is masked: the wrap happens out of line. Unwrapped (mag_top >=
 *    mag_base): entries in (base, top], mag_end = min(base + limit,
 *    kMagazineRing), so a push at the array's end leaves the fast path and
 *    free_object continues at slot 1. Wrapped (mag_top < mag_base):
 *    entries in (base, kMagazineRing] then [1, top], mag_end = base + limit
 *    - kMagazineRing; a pop that empties [1, top] stops at the wall
 *    (mag_top 0, mag_base != 0), and the pop out of line (cpu_pop)
 *    continues at mag[kMagazineRing]. Evicting the oldest entry NULLs its
 *    slot, which becomes the new base: O(1), nothing moves;
 *  - mag_end is 0 when mag_limit is 0 (no magazine, or SMP: another CPU
 *    asked for a flush and wrote both), so every push leaves the fast path;
 *  - SMP: `partial` chains (through page::next) nr_partial <= kCpuPartialMax
 *    kSlabCpu slabs of this CPU besides `slab`; their page::freelist/inuse
 *    stay under the cache lock (remote flushes push there);
 *  - SMP: flush_req != flush_done asks this CPU to flush everything it
 *    caches of the cache (another CPU wrote flush_req, then mag_limit = 0
 *    and mag_end = 0 so the next free leaves the fast path); its next slow
 *    path does.
 */
struct alignas(kCacheCpuAlign) CacheCpu {
	uint32_t mag_top = 0;        /* slot of the newest entry; mag_base when empty */
	uint32_t mag_end = 0;        /* inline pushes while mag_top < mag_end */
	uint32_t mag_base = 0;       /* slot before the oldest entry (NULL) */
	uint32_t mag_limit = 0;      /* the cache's capacity; 0: no magazine */
	void *freelist = nullptr;    /* free objects of `slab`, via their free pointers */
	uintptr_t slab_start = 0;    /* address of `slab`'s first object */
	uintptr_t slab_bytes = 0;    /* objects * size; 0 without a CPU slab */
	struct page *slab = nullptr; /* a kSlabCpu head, or NULL */
	unsigned long alloc_fast = 0, free_fast = 0;
	unsigned long alloc_slow = 0, free_slow = 0;
	unsigned long mag_flushes = 0;
	struct page *partial = nullptr; /* SMP: this CPU's partial slabs */
	uint32_t nr_partial = 0;
	uint32_t flush_req = 0;         /* SMP: written by other CPUs (atomic) */
	uint32_t flush_done = 0;        /* the last flush_req honoured */
	void *mag[kMagazineRing + 1] = {}; /* [0]: the wall */
};

/* Entries in c's magazine. */
__attribute__((always_inline)) inline uint32_t mag_count(const CacheCpu &c)
{
	return c.mag_top >= c.mag_base ? c.mag_top - c.mag_base : kMagazineRing - c.mag_base + c.mag_top;
}
/* Slot of magazine entry j (0: the sentinel, mag_count(c): the newest). */
inline uint32_t mag_slot(const CacheCpu &c, uint32_t j)
{
	uint32_t slot = c.mag_base + j;
	return slot > kMagazineRing ? slot - kMagazineRing : slot;
}
/* The last object pushed (the newest entry); NULL when empty. */
inline void *mag_newest(const CacheCpu &c) { return c.mag[mag_slot(c, mag_count(c))]; }
/* Takes the oldest entry out (the magazine is not empty). */
inline void *mag_take_oldest(CacheCpu &c)
{
	uint32_t slot = c.mag_base + 1;
	void *x = c.mag[slot];
	c.mag[slot] = nullptr;
	if (slot == c.mag_top)
		c.mag_top = c.mag_base = 0; /* it was the only one */
	else
		c.mag_base = slot == kMagazineRing ? 0 : slot; /* the wall is the sentinel of slot 1 */
	return x;
}
/* The push bound for c's base and top and a magazine limit (see above). */
inline uint32_t mag_end_for(const CacheCpu &c, uint32_t limit)
{
	if (limit == 0)
		return 0;
	uint32_t end = c.mag_base + limit;
	if (c.mag_top < c.mag_base) /* wrapped */
		return end > kMagazineRing ? end - kMagazineRing : 0;
	return end < kMagazineRing ? end : kMagazineRing;
}

/* mag_limit is written by other CPUs on SMP builds (a flush request):
 * relaxed atomics there, plain accesses (the same code) on one CPU. */
__attribute__((always_inline)) inline uint32_t mag_limit_of(const CacheCpu &c)
{
	if constexpr (KMM_NR_CPUS > 1)
		return __atomic_load_n(&c.mag_limit, __ATOMIC_RELAXED);
	else
		return c.mag_limit;
}
inline void set_mag_limit(CacheCpu &c, uint32_t limit)
{
	if constexpr (KMM_NR_CPUS > 1)
		__atomic_store_n(&c.mag_limit, limit, __ATOMIC_RELAXED);
	else
		c.mag_limit = limit;
}
/* Recomputes mag_end after the owner moved mag_top/mag_base out of line
 * (or changed mag_limit). SMP: a requester writes mag_limit = 0, then
 * mag_end = 0 (seq_cst); storing ours, then loading mag_limit (seq_cst)
 * means either its 0 lands after our store or we see mag_limit 0 and
 * store 0 ourselves: the request's trigger is never lost. */
inline void mag_update_end(CacheCpu &c)
{
	if constexpr (KMM_NR_CPUS > 1) {
		uint32_t end = mag_end_for(c, __atomic_load_n(&c.mag_limit, __ATOMIC_RELAXED));
		__atomic_store_n(&c.mag_end, end, __ATOMIC_SEQ_CST);
		if (end != 0 && __atomic_load_n(&c.mag_limit, __ATOMIC_SEQ_CST) == 0)
			__atomic_store_n(&c.mag_end, 0u, __ATOMIC_SEQ_CST);
	} else {
		c.mag_end = mag_end_for(c, c.mag_limit);
	}
}
/* The fast push's bound (written by other CPUs on SMP, like mag_limit). */
__attribute__((always_inline)) inline uint32_t mag_end_of(const CacheCpu &c)
{
	if constexpr (KMM_NR_CPUS > 1)
		return __atomic_load_n(&c.mag_end, __ATOMIC_RELAXED);
	else
		return c.mag_end;
}

} // namespace kmm

#endif

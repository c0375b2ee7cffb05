/*
 * mm/slab_common.h — the object layout of a cache and the choice of its slab
 * order: pure functions of (size, align, flags, ctor) and the page size, so
 * they are unit-tested apart from any allocator.
 *
 * Layout of one slab (slab metadata lives in the head page's struct page,
 * so objects use the whole slab from its first byte):
 *
 *   slab start (page-aligned, 2^order pages, naturally aligned)
 *   | object 0 ........ [fp] pad | object 1 ........ [fp] pad | ... | waste |
 *   |<----------- size ------------->|
 *
 *   object_size  bytes the user asked for
 *   offset       where the free pointer of a free object lives: 0 (inside the
 *                object) without a ctor; round_up(object_size, kSlabUnit),
 *                after the object, with a ctor, so a free object keeps its
 *                constructed state
 *   size         stride: offset-or-object + pointer, rounded up to align
 *   waste        slab_bytes - objects * size: at most 1/16 of the slab
 *                where some order up to kMaxSlabOrder achieves it
 */
#ifndef KMM_MM_SLAB_COMMON_H
#define KMM_MM_SLAB_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include <kmm/slab.h>

#include "page.h"
#include "region.h"

namespace kmm {

/* Largest slab order: the config knob, the buddy maximum and the 16-bit
 * freelist encoding (slab_bytes / kSlabUnit <= 0xFFFF) all bound it. */
constexpr unsigned max_slab_order()
{
	unsigned order = KMM_SLAB_MAX_ORDER < KMM_MAX_ORDER ? KMM_SLAB_MAX_ORDER : KMM_MAX_ORDER;
	while (order > 0 && ((kPageSize << order) / kSlabUnit) > 0xFFFFu)
		--order;
	return order;
}
inline constexpr unsigned kMaxSlabOrder = max_slab_order();
inline constexpr size_t kMaxSlabBytes = size_t{kPageSize} << kMaxSlabOrder;
static_assert(kPageSize / kSlabUnit <= 0xFFFFu, "a one-page slab must fit the 16-bit freelist encoding");

struct CacheLayout {
	uint32_t object_size = 0;
	uint32_t align = 0;
	uint32_t offset = 0;      /* free pointer offset in the stride */
	uint32_t size = 0;        /* stride */
	uint32_t objects = 0;     /* per slab */
	uint32_t slab_bytes = 0;  /* kPageSize << order */
	unsigned order = 0;
	uint64_t div_magic = 0;   /* ceil(2^64 / size): n % size == 0 iff n * div_magic < div_magic */
	/* debug caches only (slab_debug.h): 0 otherwise */
	uint32_t red_left = 0;
	uint32_t inuse = 0;
	uint32_t track_offset = 0;
	uint32_t orig_offset = 0;
};

/* Smallest order of a slab holding objects of stride `size` that wastes at
 * most 1/16 of the slab (then 1/8, then 1/4, then the smallest order that
 * holds one object). Requires size <= kMaxSlabBytes. O(kMaxSlabOrder). */
unsigned calculate_slab_order(size_t size);

/* Smallest page order whose block holds `bytes` (Linux's get_order). */
constexpr unsigned page_order_for(size_t bytes)
{
	unsigned order = 0;
	while ((size_t{kPageSize} << order) < bytes)
		++order;
	return order;
}

/* Fills *out for a cache; returns NULL, or a reason for a bad argument.
 * Debug flags (after normalize_debug_flags) add red zones, an outside free
 * pointer and tracking records to the slot (slab_debug.h). */
const char *calculate_layout(unsigned int size, unsigned int align, slab_flags_t flags, bool has_ctor,
			     CacheLayout &out);

/* The debug flags a cache really gets: any of Z P U T implies F (asked
 * for, so a ctor cache given P alone still gets F); P is then dropped for
 * ctor caches (Linux: their objects keep constructed state); with
 * KMM_SLAB_DEBUG=0 only F remains. */
constexpr slab_flags_t normalize_debug_flags(slab_flags_t flags, bool has_ctor)
{
	if (KMM_SLAB_DEBUG == 0)
		return flags & ~(SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER | SLAB_TRACE);
	if ((flags & (SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER | SLAB_TRACE)) != 0)
		flags |= SLAB_CONSISTENCY_CHECKS;
	if (has_ctor)
		flags &= ~SLAB_POISON;
	return flags;
}

/* Linux's min_partial: ilog2(size) / 2 clamped to the config's range. */
unsigned min_partial_for(uint32_t size);

/* A per-CPU magazine holds at most kMagazineMax entries in a ring of
 * kMagazineMax + 1 slots after a permanent NULL wall (layout and wrapping:
 * mm/slub.h). KMM_SLAB_MAGAZINE (config.h) is rounded down to 2^k - 1
 * (default 31); the ring itself no longer needs a power of two. */
constexpr unsigned magazine_ring_for(unsigned entries)
{
	unsigned ring = 1;
	while (ring * 2 <= entries + 1)
		ring *= 2;
	return ring;
}
inline constexpr unsigned kMagazineRing = magazine_ring_for(KMM_SLAB_MAGAZINE);
inline constexpr unsigned kMagazineMax = kMagazineRing - 1;
/* Per-CPU magazine capacity of a cache of stride `size` (config.h):
 * KMM_SLAB_MAGAZINE_BYTES / size clamped to [2, kMagazineMax];
 * 0 when magazines are compiled out. */
constexpr unsigned magazine_capacity(uint32_t size)
{
	if (KMM_SLAB_MAGAZINE == 0 || size == 0)
		return 0;
	size_t n = size_t{KMM_SLAB_MAGAZINE_BYTES} / size;
	if (n < 2)
		n = 2;
	if (n > size_t{kMagazineMax})
		n = kMagazineMax;
	return static_cast<unsigned>(n);
}

/* Lemire's divisibility test constant for 32-bit numerators (see CacheLayout). */
constexpr uint64_t divisibility_magic(uint32_t d) { return UINT64_MAX / d + 1; }

/* object_index_ok's constants for a stride d = odd * 2^shift (slub.h):
 * odd^-1 mod 2^32 (Newton's iteration, each step doubles the correct low
 * bits: 3 -> 6 -> 12 -> 24 -> 48) and shift. */
constexpr uint32_t odd_inverse(uint32_t d)
{
	uint32_t odd = d >> __builtin_ctz(d);
	uint32_t x = odd; /* odd * odd == 1 mod 8: 3 bits */
	for (int i = 0; i < 4; ++i)
		x *= 2u - odd * x;
	return x;
}
static_assert(odd_inverse(3) * 3u == 1u && odd_inverse(96) * 3u == 1u && odd_inverse(200) * 25u == 1u,
	      "odd_inverse");

} // namespace kmm

#endif

/*
 * mm/slab_debug.h — what the slab debug features share with the core: the
 * byte patterns, the per-object tracking record, the debug part of a
 * cache's layout, the boot-option parser, the PRNG behind the freelist
 * secret and randomisation, and the byte helpers of the files below. The
 * checks, reports and fix-ups are in slab_debug.cpp, the layout and the
 * boot option in slab_debug_options.cpp, the PRNG, freelist randomisation,
 * the entropy hook and large-kmalloc guard pages in slab_harden.cpp;
 * docs/DEBUGGING.md describes them.
 *
 * Layout of one slot of a debug cache (slab_common.cpp computes it; the
 * freelist and page::freelist hold slot addresses, users get slot +
 * red_left):
 *
 *   | left red zone | object (object_size) | right red zone | fp | track[2] | orig | pad |
 *   0               red_left               red_left+object_size  inuse   track_offset orig_offset size
 *
 *   red_left      SLAB_RED_ZONE: sizeof(void *) rounded up to the alignment, else 0
 *   right zone    SLAB_RED_ZONE: from the object's end to the next word, plus a word
 *   fp            outside the object (offset = inuse) with SLAB_POISON,
 *                 SLAB_RED_ZONE or a ctor, else the object's first word
 *                 (offset = red_left = 0)
 *   track[2]      SLAB_STORE_USER: last allocation and last free (SlabTrack)
 *   orig          SLAB_RED_ZONE: the size a kmalloc asked for (uint32_t);
 *                 bytes from it to object_size are the kmalloc red zone
 */
#ifndef KMM_MM_SLAB_DEBUG_H
#define KMM_MM_SLAB_DEBUG_H

#include <stddef.h>
#include <stdint.h>

#include <kmm/slab.h>

namespace kmm {

inline constexpr bool kSlabDebug = KMM_SLAB_DEBUG != 0;
inline constexpr bool kFreelistHardened = KMM_SLAB_FREELIST_HARDENED != 0;
inline constexpr bool kFreelistRandom = KMM_SLAB_FREELIST_RANDOM != 0;

/* Flags that move a cache off the fast path (each implies the checks). */
inline constexpr slab_flags_t kSlabDebugFlags = kSlabDebug ? SLAB_DEBUG_FLAGS : SLAB_CONSISTENCY_CHECKS;

/* Linux's patterns (include/linux/poison.h). */
inline constexpr uint8_t kPoisonFree = 0x6b;   /* a free object's bytes */
inline constexpr uint8_t kPoisonEnd = 0xa5;    /* its last byte */
inline constexpr uint8_t kRedInactive = 0xbb;  /* red zones of a free object */
inline constexpr uint8_t kRedActive = 0xcc;    /* red zones of an allocated object */

/* page::freelist of a kLargeKmalloc head with guard pages (its page::inuse
 * is then the number of pages between the guards); page::cache_id stays 0
 * on every page that is not a slab's. */
inline constexpr uint16_t kGuardedLarge = 0xFFFF;

/* SLAB_STORE_USER: who last allocated / freed an object. */
struct SlabTrack {
	const void *addr;  /* caller's return address */
	uint64_t when;     /* kmm_arch_counter() */
	uint32_t cpu;
	uint32_t pid;      /* always 0: kmm has no tasks */
};
enum TrackItem : unsigned { kTrackAlloc = 0, kTrackFree = 1 };

/* The debug part of a layout (see the table above), computed from the
 * flags by debug_layout(). All offsets are from the slot start. */
struct DebugLayout {
	uint32_t red_left = 0;
	uint32_t inuse = 0;        /* end of object + right red zone */
	uint32_t offset = 0;       /* free pointer */
	uint32_t track_offset = 0; /* 0: no tracking */
	uint32_t orig_offset = 0;  /* 0: no orig_size */
	uint32_t size = 0;         /* before rounding to the alignment */
};
DebugLayout debug_layout(uint32_t object_size, size_t align, slab_flags_t flags, bool has_ctor);

/* The flags the boot option `options` (kmm_slub_debug syntax) gives the
 * cache `name`; *ok is false if options has an unknown letter. If
 * order_off is not NULL, *order_off tells whether any block has the
 * letter O (Linux: no red zones, poison or tracking for a cache whose
 * slab order they would raise; see drop_order_raising_debug). */
slab_flags_t parse_slub_debug(const char *options, const char *name, bool *ok, bool *order_off = nullptr);

/* The debug flags that store metadata in the slot, which O takes away
 * (Linux's DEBUG_METADATA_FLAGS). */
inline constexpr slab_flags_t kDebugMetadataFlags = SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER;

/* The bytes at address a (the debug code works on slot addresses). */
inline uint8_t *bytes_at(uintptr_t a) { return reinterpret_cast<uint8_t *>(a); }

/* First byte of [p, p + n) that is not v, or NULL. */
inline const uint8_t *first_byte_not(uintptr_t p, size_t n, uint8_t v)
{
	for (size_t i = 0; i < n; ++i)
		if (bytes_at(p)[i] != v)
			return bytes_at(p) + i;
	return nullptr;
}

/* SplitMix64: the per-allocator PRNG of the freelist secret and order. */
inline uint64_t splitmix64(uint64_t &state)
{
	uint64_t z = (state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

} // namespace kmm

#endif

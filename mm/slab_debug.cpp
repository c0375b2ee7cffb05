/*
 * mm/slab_debug.cpp — the per-object slab debug checks (docs/DEBUGGING.md):
 * the checked allocation and free of debug caches (red zones, poison,
 * tracking, tracing), the kmalloc red zone and krealloc in place,
 * validate_slab_cache() with its fix-ups, Linux-style reports. Which caches
 * get them and their layout: slab_debug_options.cpp; freelist
 * randomisation, the entropy hook and large-kmalloc guard pages:
 * slab_harden.cpp.
 *
 * Owns no state of its own: every function works on a SlabAllocator and
 * its caches, under the locks slub.cpp describes (the cache lock for
 * anything that reads or writes a slot of a live slab). Debug caches
 * (any of SLAB_DEBUG_FLAGS) have no CPU slab and no magazine, so every one
 * of their allocations and frees reaches this file through the slow paths
 * (alloc_checked, free_object); the inline fast paths never see them.
 *
 * Fix-up policy: a report ("BUG <cache>: <what>", the bytes, the tracking
 * records, the slab) is followed by a "FIX <cache>: ..." line and the
 * repair: patterns are restored; an object damaged while free is not handed
 * out (leaked: it stays counted in use); an object whose red zone was
 * clobbered while allocated is not freed (leaked). Then Reporter::finish_bug
 * applies the bug policy (panic, or continue). Either way the lists,
 * counters and freelists stay consistent: validate() stays 0.
 */
#include "slab_debug.h"

#include <arch/arch.h>

#include "format.h"
#include "sanitize.h"
#include "slub.h"
#include "slub_fast.h"

namespace kmm {

/* ---- slot helpers ---- */

namespace {

SlabTrack get_track(const kmem_cache *s, uintptr_t slot, TrackItem item)
{
	SlabTrack t;
	__builtin_memcpy(&t, bytes_at(slot + s->track_offset + item * sizeof(SlabTrack)), sizeof(t));
	return t;
}

void set_track(const kmem_cache *s, uintptr_t slot, TrackItem item, const void *caller)
{
	if (s->track_offset == 0)
		return;
	SlabTrack t{caller, kmm_arch_counter(), KMM_NR_CPUS == 1 ? 0u : kmm_arch_cpu_id(), 0};
	__builtin_memcpy(bytes_at(slot + s->track_offset + item * sizeof(SlabTrack)), &t, sizeof(t));
}

uint32_t get_orig(const kmem_cache *s, uintptr_t slot)
{
	uint32_t v;
	__builtin_memcpy(&v, bytes_at(slot + s->orig_offset), sizeof(v));
	return v;
}

void set_orig(const kmem_cache *s, uintptr_t slot, size_t size)
{
	if (s->orig_offset == 0)
		return;
	uint32_t v = static_cast<uint32_t>(size);
	__builtin_memcpy(bytes_at(slot + s->orig_offset), &v, sizeof(v));
}

void fill_poison(const kmem_cache *s, uintptr_t object)
{
	__builtin_memset(bytes_at(object), kPoisonFree, s->object_size - 1);
	bytes_at(object)[s->object_size - 1] = kPoisonEnd;
}

/* Red zones (and the kmalloc red zone of an allocated object) to `red`. */
void fill_red(const kmem_cache *s, uintptr_t slot, uint8_t red)
{
	if ((s->flags & SLAB_RED_ZONE) == 0)
		return;
	__builtin_memset(bytes_at(slot), red, s->red_left);
	uintptr_t end = slot + s->red_left + s->object_size;
	__builtin_memset(bytes_at(end), red, slot + s->inuse - end);
	if (red == kRedActive && s->orig_offset != 0) {
		uint32_t orig = get_orig(s, slot);
		if (orig < s->object_size)
			__builtin_memset(bytes_at(slot + s->red_left + orig), red, s->object_size - orig);
	}
}

/* An object leaked after a report (damaged while free or while allocated,
 * or left off a cut freelist) must not come back through a stale free:
 * that would hand the damaged object out again. Every cache whose checks
 * can find damage (P, Z) keeps its free pointer outside the object, unused
 * while the object is allocated; a leaked object gets a free pointer to
 * itself there, which no other allocated object has (take_object_locked
 * refuses it). Slot open. */
bool fp_outside(const kmem_cache *s) { return s->offset >= s->red_left + s->object_size; }
void mark_leaked(const kmem_cache *s, uintptr_t slot)
{
	if (fp_outside(s))
		set_freepointer(s, bytes_at(slot), bytes_at(slot));
}
bool marked_leaked(const kmem_cache *s, uintptr_t slot)
{
	return fp_outside(s) && get_freepointer(s, bytes_at(slot)) == bytes_at(slot);
}

/* Sanitizer state of a slot: open for kmm's checks, then closed by state. */
void open_slot(const kmem_cache *s, uintptr_t slot)
{
	if constexpr (kSanitize)
		san_unpoison(bytes_at(slot), s->size);
}
void close_free(const kmem_cache *s, uintptr_t slot)
{
	if constexpr (kSanitize) {
		san_poison(bytes_at(slot), s->size);
		san_unpoison(bytes_at(slot + s->offset), sizeof(void *));
		/* a ctor cache's free object keeps its constructed state, which
		 * stays readable (san_freed: the same without debugging) */
		if (s->ctor != nullptr)
			san_unpoison(bytes_at(slot + s->red_left), s->object_size);
	}
}
size_t user_size(const kmem_cache *s, uintptr_t slot)
{
	return s->orig_offset != 0 ? get_orig(s, slot) : s->object_size;
}
void close_allocated(const kmem_cache *s, uintptr_t slot)
{
	if constexpr (kSanitize) {
		size_t user = user_size(s, slot); /* read while the slot is open */
		san_poison(bytes_at(slot), s->size);
		san_unpoison(bytes_at(slot + s->red_left), user);
	}
}

} // namespace

/* ---- reports ---- */

void SlabAllocator::debug_print_tracks(const kmem_cache *s, uintptr_t slot)
{
	static const char *const kWhat[2] = {"Allocated", "Freed"};
	SlabTrack tracks[2];
	const uint8_t *where = bytes_at(slot + s->track_offset);
	bool closed = san_is_poisoned(where); /* the leak report: the slot is not open */
	if (closed)
		san_unpoison(where, sizeof(tracks));
	for (unsigned i = 0; i < 2; ++i)
		tracks[i] = get_track(s, slot, static_cast<TrackItem>(i));
	if (closed)
		san_poison(where, sizeof(tracks));
	for (unsigned i = 0; i < 2; ++i) {
		const SlabTrack &t = tracks[i];
		if (t.addr == nullptr && t.when == 0)
			reporter_.detail("%s: never", kWhat[i]);
		else if (t.addr == nullptr && i == kTrackAlloc) /* debug_alloc_locked leaked it */
			reporter_.detail("%s: never; leaked when=%llu (damaged while free)", kWhat[i],
					 static_cast<unsigned long long>(t.when));
		else
			reporter_.detail("%s by %p cpu=%u pid=%u when=%llu", kWhat[i], t.addr, static_cast<unsigned>(t.cpu),
					 static_cast<unsigned>(t.pid),
					 static_cast<unsigned long long>(t.when));
	}
}

/* "BUG <cache>: <what>", the bad range, first bad byte and what it should
 * be, the object's tracking records, the slab, the bytes around it. */
void SlabAllocator::report_bytes(kmem_cache *s, struct page *slab, uintptr_t slot, const char *what,
				 uintptr_t start, uintptr_t end, const uint8_t *bad, uint8_t expected)
{
	uintptr_t first = reinterpret_cast<uintptr_t>(bad);
	uintptr_t last = first;
	for (uintptr_t a = first; a < end; ++a)
		if (*bytes_at(a) != (a == end - 1 && expected == kPoisonFree && (s->flags & SLAB_POISON) != 0 &&
					   end == slot + s->red_left + s->object_size
				       ? kPoisonEnd
				       : expected))
			last = a;
	reporter_.bug(s->name, "%s", what);
	reporter_.detail("%p-%p @offset=%lu. First byte 0x%x instead of 0x%x", static_cast<const void *>(bad),
			 reinterpret_cast<void *>(last), static_cast<unsigned long>(first - slot), *bad, expected);
	if (s->track_offset != 0)
		debug_print_tracks(s, slot);
	uintptr_t base = slab_base(pages_, slab);
	reporter_.detail("Slab %p objects=%u used=%u fp=%p", reinterpret_cast<void *>(base), s->objects, slab->inuse,
			 freelist_decode(base, slab->freelist));
	char hex[3 * 16 + 1];
	uintptr_t line = first & ~uintptr_t{15};
	if (line < slot)
		line = slot;
	size_t n = 0;
	for (uintptr_t a = line; a < line + 16 && a < slot + s->size; ++a)
		n += format(hex + n, sizeof(hex) - n, " %02x", *bytes_at(a));
	reporter_.detail("Bytes %p:%s", reinterpret_cast<void *>(line), hex);
	(void)start;
}

void SlabAllocator::report_freepointer(kmem_cache *s, const void *object, const void *next, const char *fix)
{
	/* a sound pointer reported all the same closes a loop */
	const char *what = "not an object of its slab";
	bool slot = false; /* next is a slot: named as its object, as object is */
	if (next == object)
		what = "itself", slot = true;
	else if (object != nullptr && freepointer_ok(s, object, next))
		what = "an object earlier on the same freelist (a loop)", slot = true;
	/* objects by the address their users had (slot + red_left); a
	 * corrupt value as it is */
	auto user = [s](const void *p) { return static_cast<const void *>(static_cast<const char *>(p) + s->red_left); };
	reporter_.bug(s->name, "Freepointer corrupt");
	reporter_.detail("Free object %p holds free pointer %p: %s", object != nullptr ? user(object) : nullptr,
			 slot && next != nullptr ? user(next) : next, what);
	reporter_.detail("FIX %s: %s", s->name, fix);
}

/* Checks the patterns of one slot: free (inactive red zones, poison) or
 * allocated (active red zones, kmalloc red zone). Reports and restores
 * each bad region; returns the number of them. Lock held, slot open. */
unsigned SlabAllocator::check_slot_locked(kmem_cache *s, struct page *slab, uintptr_t slot, bool free,
					  bool report_only_first)
{
	unsigned problems = 0;
	uintptr_t object = slot + s->red_left;
	uint8_t red = free ? kRedInactive : kRedActive;
	auto check = [&](const char *what, const char *fix_what, uintptr_t start, uintptr_t end, uint8_t v) {
		const uint8_t *bad = first_byte_not(start, end - start, v);
		if (bad == nullptr || (report_only_first && problems != 0))
			return;
		++problems;
		report_bytes(s, slab, slot, what, start, end, bad, v);
		reporter_.detail("FIX %s: Restoring %s %p-%p=0x%x", s->name, fix_what, reinterpret_cast<void *>(start),
				 reinterpret_cast<void *>(end - 1), v);
		__builtin_memset(bytes_at(start), v, end - start);
	};
	if ((s->flags & SLAB_RED_ZONE) != 0) {
		check("Left Redzone overwritten", "Left Redzone", slot, object, red);
		check("Right Redzone overwritten", "Right Redzone", object + s->object_size, slot + s->inuse, red);
		if (!free && s->orig_offset != 0) {
			uint32_t orig = get_orig(s, slot);
			if (orig < s->object_size)
				check("kmalloc Redzone overwritten", "kmalloc Redzone", object + orig, object + s->object_size,
				      kRedActive);
		}
	}
	if (free && (s->flags & SLAB_POISON) != 0) {
		const uint8_t *bad = first_byte_not(object, s->object_size - 1, kPoisonFree);
		if (bad == nullptr && bytes_at(object)[s->object_size - 1] != kPoisonEnd)
			bad = bytes_at(object) + s->object_size - 1;
		if (bad != nullptr && !(report_only_first && problems != 0)) {
			++problems;
			report_bytes(s, slab, slot, "Poison overwritten", object, object + s->object_size, bad,
				     bad == bytes_at(object) + s->object_size - 1 ? kPoisonEnd : kPoisonFree);
			reporter_.detail("FIX %s: Restoring Poison %p-%p=0x%x", s->name, reinterpret_cast<void *>(object),
					 reinterpret_cast<void *>(object + s->object_size - 1), kPoisonFree);
			fill_poison(s, object);
		}
	}
	return problems;
}

/* ---- new slabs, alloc, free ---- */

void SlabAllocator::debug_init_slab(kmem_cache *s, uintptr_t base)
{
	for (unsigned i = 0; i < s->objects; ++i) {
		uintptr_t slot = base + uintptr_t{i} * s->size;
		if (s->track_offset != 0)
			__builtin_memset(bytes_at(slot + s->track_offset), 0, 2 * sizeof(SlabTrack));
		set_orig(s, slot, 0);
		if ((s->flags & SLAB_POISON) != 0)
			fill_poison(s, slot + s->red_left);
		fill_red(s, slot, kRedInactive);
	}
}

/* discard_slab of an empty slab of a red-zoned or poisoned cache, on no
 * list (no lock needed), its bytes open: every object is free, so each is
 * checked as a free one a last time, as Linux's free_slab does; a write
 * after free in a slab kept empty (min_partial) was otherwise lost when
 * shrink, destroy or reclaim gave it back. Reported (and restored); the
 * slab is freed all the same. */
void SlabAllocator::debug_check_discarded_slab(kmem_cache *s, struct page *slab)
{
	if (slab->inuse != 0)
		return;
	uintptr_t base = slab_base(pages_, slab);
	unsigned problems = 0;
	for (unsigned i = 0; i < s->objects; ++i)
		problems += check_slot_locked(s, slab, base + uintptr_t{i} * s->size, true, false);
	if (problems != 0)
		reporter_.finish_bug();
}

/* alloc_checked took `object` (a slot) off its slab: check it was intact
 * while free, make it an allocated object for a request of orig_size
 * bytes. False if it was damaged: reported, repaired and leaked. On
 * success `object` becomes the user's pointer. Lock held. */
bool SlabAllocator::debug_alloc_locked(kmem_cache *s, struct page *slab, void *&object, size_t orig_size,
				       const void *caller)
{
	uintptr_t slot = reinterpret_cast<uintptr_t>(object);
	open_slot(s, slot);
	bool ok = check_slot_locked(s, slab, slot, true, false) == 0;
	if (!ok) {
		reporter_.detail("FIX %s: Object %p leaked (damaged while free, never handed out)", s->name,
				 reinterpret_cast<void *>(slot + s->red_left));
		mark_leaked(s, slot);
	}
	set_orig(s, slot, ok ? orig_size : s->object_size);
	fill_red(s, slot, kRedActive);
	set_track(s, slot, kTrackAlloc, ok ? caller : nullptr);
	if (ok && (s->flags & SLAB_TRACE) != 0) /* a damaged object is leaked, not handed out */
		reporter_.detail("TRACE %s alloc %p inuse=%u caller=%p", s->name,
				 reinterpret_cast<void *>(slot + s->red_left), slab->inuse, caller);
	size_t user = user_size(s, slot);
	close_allocated(s, slot);
	object = reinterpret_cast<void *>(slot + s->red_left);
	if (ok)
		san_pool_alloc(s, object, user);
	return ok;
}

/* free_object of a debug cache: the checks of free_object, then the slot
 * must be allocated and intact; then it is freed, poisoned and tracked. */
void SlabAllocator::free_debug(kmem_cache *s, struct page *slab, void *x, const void *caller)
{
	if (!check_object(s, x, "free"))
		return;
	uintptr_t slot = reinterpret_cast<uintptr_t>(x) - s->red_left;
	bool double_free = false, damaged = false;
	PageList discard;
	unsigned long flags = fast_irq_save();
	{
		CacheCpu &c = this_cpu(s);
		SlabLockIrqsOff guard(s->lock);
		uintptr_t base = slab_start_of(s, reinterpret_cast<void *>(slot));
		bool is_free = slab->inuse == 0 || on_freelist(s, freelist_decode(base, slab->freelist), slot);
		open_slot(s, slot);
		if (is_free) {
			double_free = true;
			reporter_.bug(s->name, "double free of object %p: it is already free", x);
			if (s->track_offset != 0)
				debug_print_tracks(s, slot);
			close_free(s, slot);
		} else if (marked_leaked(s, slot)) {
			double_free = true;
			reporter_.bug(s->name, "free of object %p, leaked after an earlier report: refused", x);
			if (s->track_offset != 0)
				debug_print_tracks(s, slot);
			close_allocated(s, slot);
		} else if (check_slot_locked(s, slab, slot, false, false) != 0) {
			damaged = true;
			reporter_.detail("FIX %s: Object %p leaked (damaged while allocated, not freed)", s->name, x);
			mark_leaked(s, slot);
			close_allocated(s, slot);
		} else {
			set_orig(s, slot, 0);
			free_to_slab_locked(s, c, slab, reinterpret_cast<void *>(slot), discard, true); /* searched above */
			if ((s->flags & SLAB_POISON) != 0)
				fill_poison(s, slot + s->red_left);
			fill_red(s, slot, kRedInactive);
			set_track(s, slot, kTrackFree, caller);
			if ((s->flags & SLAB_TRACE) != 0)
				reporter_.detail("TRACE %s free %p inuse=%u caller=%p", s->name, x, slab->inuse, caller);
			san_pool_free(s, x);
			close_free(s, slot);
			slab_stat(c.free_slow);
		}
	}
	fast_irq_restore(flags);
	if (double_free || damaged)
		reporter_.finish_bug();
	while (struct page *p = discard.pop_front())
		discard_slab(s, p);
}

/* ---- kmalloc red zone and krealloc ---- */

size_t SlabAllocator::debug_orig_size(const kmem_cache *s, const void *object) const
{
	uintptr_t slot = reinterpret_cast<uintptr_t>(object) - s->red_left;
	if constexpr (kSanitize)
		san_unpoison(bytes_at(slot + s->orig_offset), sizeof(uint32_t));
	size_t v = get_orig(s, slot);
	if constexpr (kSanitize)
		san_poison(bytes_at(slot + s->orig_offset), sizeof(uint32_t));
	return v;
}

/* An allocated object of a debug cache now holds new_size bytes (krealloc
 * in place; ksize: the whole object): with __GFP_ZERO the bytes past the
 * old request are zeroed (Linux __do_krealloc), the kmalloc red zone moves.
 * Its red zones are checked first: bytes written past the old request
 * would otherwise become part of the new one, never reported. */
void SlabAllocator::debug_krealloc_in_place(kmem_cache *s, void *object, size_t old, size_t new_size, gfp_t gfp)
{
	uintptr_t slot = reinterpret_cast<uintptr_t>(object) - s->red_left;
	struct page *slab = page_head(pages_.virt_to_page(object));
	unsigned problems;
	unsigned long flags = fast_irq_save();
	{
		SlabLockIrqsOff guard(s->lock);
		open_slot(s, slot);
		problems = check_slot_locked(s, slab, slot, false, false); /* reported and restored */
		if ((gfp & __GFP_ZERO) != 0) {
			if (old < new_size)
				__builtin_memset(static_cast<char *>(object) + old, 0, new_size - old);
			else
				__builtin_memset(static_cast<char *>(object) + new_size, 0, s->object_size - new_size);
		}
		if (s->orig_offset != 0) {
			set_orig(s, slot, new_size);
			fill_red(s, slot, kRedActive);
		}
		close_allocated(s, slot);
	}
	fast_irq_restore(flags);
	if (problems != 0)
		reporter_.finish_bug();
}

/* After a freelist was cut (validate) or dropped (a slab isolated as
 * full): the free objects it no longer reaches are leaked and count as
 * allocated from now on, but their patterns still say free (inactive red
 * zones, orig 0), so every later validation would report each of them.
 * Gives each slot that is not on the freelist and whose left red zone is
 * a free one's an allocated object's red zones and no kmalloc red zone.
 * Red-zoned caches only (without Z an allocated slot has no pattern to
 * check). Lock held. */
void SlabAllocator::hold_cut_objects_locked(kmem_cache *s, struct page *slab)
{
	if ((s->flags & SLAB_RED_ZONE) == 0 || s->red_left == 0)
		return;
	uintptr_t base = slab_base(pages_, slab);
	unsigned held = 0;
	for (unsigned first = 0; first < s->objects; first += 64) {
		const uint64_t is_free = free_slot_bits(s, slab, base, first);
		for (unsigned k = 0; k < 64 && first + k < s->objects; ++k) {
			if ((is_free & (uint64_t{1} << k)) != 0)
				continue;
			uintptr_t slot = base + uintptr_t{first + k} * s->size;
			open_slot(s, slot);
			if (first_byte_not(slot, s->red_left, kRedInactive) == nullptr) {
				set_orig(s, slot, s->object_size);
				fill_red(s, slot, kRedActive);
				mark_leaked(s, slot);
				++held;
			}
			close_allocated(s, slot);
		}
	}
	if (held != 0)
		reporter_.detail("FIX %s: %u free objects off the freelist are held as leaked objects", s->name, held);
}

/* ---- validate_slab_cache ---- */

namespace {

/* The freelist from head went on past `objects` entries with pointers
 * that are all sound: it loops back on itself (a slab has no more slots).
 * Returns the entry that closes the loop (its free pointer leads back to
 * an earlier one) and in *distinct the number of different entries.
 * Floyd's method: no memory, O(objects). Lock held. */
void *freelist_loop_end(const kmem_cache *s, void *head, unsigned *distinct)
{
	void *in = head; /* `objects` steps on, it is inside the loop */
	for (unsigned i = 0; i < s->objects; ++i)
		in = get_freepointer(s, in);
	unsigned len = 1;
	for (void *p = get_freepointer(s, in); p != in; p = get_freepointer(s, p))
		++len;
	/* b runs len entries ahead of a: they meet at the loop's first entry,
	 * and b's previous one is the last */
	void *a = head, *b = head, *b_prev = nullptr;
	for (unsigned i = 0; i < len; ++i) {
		b_prev = b;
		b = get_freepointer(s, b);
	}
	unsigned before = 0;
	for (; a != b; ++before) {
		a = get_freepointer(s, a);
		b_prev = b;
		b = get_freepointer(s, b);
	}
	*distinct = before + len;
	return b_prev;
}

} // namespace

/* One slab's freelist: cut at a corrupt free pointer, a loop closed where
 * it closes, the count fixed to what the list holds; on a debug cache the
 * free objects a cut or a loop left off the list are held as leaked ones.
 * Returns the problems found (each reported). Lock held. */
unsigned long SlabAllocator::repair_freelist_locked(kmem_cache *s, struct page *slab, bool debug)
{
	unsigned long problems = 0;
	uintptr_t base = slab_base(pages_, slab);
	void *head = freelist_decode(base, slab->freelist);
	unsigned n = 0;
	bool cut = false;
	uintptr_t head_off = reinterpret_cast<uintptr_t>(head) - base;
	if (head != nullptr && (head_off >= s->object_area || !on_object_boundary(s, head_off))) {
		++problems;
		report_freepointer(s, nullptr, head, "freelist cleared, its objects leaked");
		slab->freelist = 0;
		head = nullptr;
		cut = true;
	}
	for (void *p = head; p != nullptr;) {
		++n;
		void *next = get_freepointer(s, p);
		if (next == nullptr)
			break;
		if (!freepointer_ok(s, p, next)) {
			++problems;
			report_freepointer(s, p, next, "freelist cut there, the rest leaked");
			set_freepointer(s, p, nullptr);
			cut = true;
			break;
		}
		if (n >= s->objects) {
			/* A loop: counting on would take its entries for more
			 * free objects (inuse 0 under live ones). Close it where
			 * it closes; every free object stays on the list. */
			void *end = freelist_loop_end(s, head, &n);
			++problems;
			report_freepointer(s, end, get_freepointer(s, end), "freelist loop cut there");
			set_freepointer(s, end, nullptr);
			cut = true; /* free objects the loop left off the list are lost, as after a cut */
			break;
		}
		p = next;
	}
	if (slab->inuse != s->objects - n) {
		if (!cut) {
			++problems;
			reporter_.bug(s->name, "Wrong object count. Counter is %u but counted were %u", slab->inuse,
				      s->objects - n);
			reporter_.detail("Slab %p objects=%u", reinterpret_cast<void *>(base), s->objects);
		}
		reporter_.detail("FIX %s: Object count fixed", s->name);
		slab->inuse = static_cast<uint16_t>(s->objects - n);
	}
	/* The objects a cut left off the freelist now look allocated, so the
	 * slab's other slots are checked in this same pass. */
	if (debug && cut)
		hold_cut_objects_locked(s, slab);
	return problems;
}

/* alloc_checked, before it takes an object off slab (on its partial list):
 * the freelist must hold exactly objects - inuse entries. Each free
 * pointer is checked as it is followed (take_object_locked), but a loop
 * (sound pointers leading back to an earlier free object) passes that,
 * and the slab would hand an object out twice, or take a live object's
 * data for a free pointer. O(free objects), like free_debug's search.
 * True if the list holds its count (a corrupt pointer on the way is left
 * to take_object_locked, which reports it when it gets there). Else it is
 * repaired as validate_slab_cache does (reported, nothing on it lost) and
 * the slab moves to the list its count asks for; *discard: an empty slab
 * beyond min_partial, to be freed after unlocking. Lock held. */
bool SlabAllocator::check_freelist_locked(kmem_cache *s, struct page *slab, struct page *&discard)
{
	uintptr_t base = slab_base(pages_, slab);
	/* a corrupt inuse above objects must not make the walk unbounded */
	const unsigned nfree = slab->inuse <= s->objects ? s->objects - slab->inuse : 0u;
	unsigned n = 0;
	void *p = freelist_decode(base, slab->freelist);
	uintptr_t head_off = reinterpret_cast<uintptr_t>(p) - base;
	bool sound = p == nullptr || (head_off < s->object_area && on_object_boundary(s, head_off));
	for (; sound && p != nullptr && n < nfree; ++n) {
		void *next = get_freepointer(s, p);
		if (next != nullptr && !freepointer_ok(s, p, next))
			return true;
		p = next;
	}
	if (sound && p == nullptr && n == nfree)
		return true;
	repair_freelist_locked(s, slab, kSlabDebug);
	s->partial.remove(slab);
	if (place_slab_locked(s, slab))
		discard = slab;
	return false;
}

namespace {

/* validate_slab_cache found the free slot damaged (reported, patterns
 * restored): it leaves the freelist and is leaked as debug_alloc_locked
 * leaks one, counted in use and marked, so no allocation hands it to a
 * new owner while the stale pointer that wrote it may write again, and
 * a free through that pointer is refused. The freelist is sound (just
 * repaired); the caller moves the slab to the list its count asks for.
 * Lock held, slot open. */
void leak_free_slot_locked(kmem_cache *s, struct page *slab, uintptr_t base, uintptr_t slot)
{
	void *x = bytes_at(slot);
	void *next = get_freepointer(s, x);
	void *head = freelist_decode(base, slab->freelist);
	if (head == x) {
		set_slab_freelist(slab, freelist_encode(base, next));
	} else {
		void *prev = head;
		while (get_freepointer(s, prev) != x)
			prev = get_freepointer(s, prev);
		set_freepointer(s, prev, next);
	}
	set_slab_inuse(slab, slab->inuse + 1u);
	set_orig(s, slot, s->object_size);
	fill_red(s, slot, kRedActive);
	set_track(s, slot, kTrackAlloc, nullptr);
	mark_leaked(s, slot);
}

} // namespace

/* One slab of s: its freelist (repair_freelist_locked), then, for a debug
 * cache, every slot's patterns; a free object found damaged is leaked
 * (leak_free_slot_locked). Lock held. */
unsigned long SlabAllocator::validate_slab_locked(kmem_cache *s, struct page *slab, bool debug)
{
	unsigned long problems = repair_freelist_locked(s, slab, debug);
	if (!debug || (s->flags & (SLAB_RED_ZONE | SLAB_POISON)) == 0)
		return problems;
	uintptr_t base = slab_base(pages_, slab);
	/* Which slots are free: 64 at a time from the (now sound) freelist. */
	for (unsigned first = 0; first < s->objects; first += 64) {
		const uint64_t is_free = free_slot_bits(s, slab, base, first);
		for (unsigned k = 0; k < 64 && first + k < s->objects; ++k) {
			uintptr_t slot = base + uintptr_t{first + k} * s->size;
			bool free = (is_free & (uint64_t{1} << k)) != 0;
			/* Without red zones an allocated slot has nothing to check:
			 * left as it is (a free object a cut left off the list
			 * keeps its sanitizer state). */
			if (!free && (s->flags & SLAB_RED_ZONE) == 0)
				continue;
			open_slot(s, slot);
			unsigned bad = check_slot_locked(s, slab, slot, free, false);
			problems += bad;
			if (free && bad != 0) {
				reporter_.detail("FIX %s: Object %p leaked (damaged while free, never handed out)", s->name,
						 reinterpret_cast<void *>(slot + s->red_left));
				leak_free_slot_locked(s, slab, base, slot);
				free = false;
			}
			if (free)
				close_free(s, slot);
			else
				close_allocated(s, slot);
		}
	}
	return problems;
}

unsigned long SlabAllocator::validate_slab_cache(kmem_cache *s)
{
	if (!check_cache(s, "validate_slab_cache"))
		return 1;
	bool debug = (s->flags & kSlabDebugFlags) != 0;
	unsigned long problems = 0;
	PageList discard;
	/* SMP: another CPU pops its CPU freelist with no lock, and the object
	 * it pops is its user's at once: a walk of that list while it runs
	 * follows the user's bytes as a free pointer and "repairs" them. So
	 * the others stand still for the walk; where they cannot be stopped
	 * (IRQs masked) only the running CPU's list is walked. */
	OtherCpusStopped stop;
	unsigned long flags = fast_irq_save();
	{
		CacheCpu &mine = this_cpu(s, flags);
		SlabLockIrqsOff guard(s->lock);
		PageList *lists[] = {&s->partial, &s->empty, &s->full};
		for (PageList *list : lists)
			for (struct page *p = list->head; p != nullptr; p = p->next)
				problems += validate_slab_locked(s, p, debug);
		/* CPU freelists (non-debug caches): cut at a corrupt pointer. */
		for (CacheCpu &c : s->cpu) {
			if (&c != &mine && !stop.all_still())
				continue;
			unsigned n = 0;
			for (void *p = c.freelist; p != nullptr;) {
				++n;
				void *next = get_freepointer(s, p);
				if (next == nullptr)
					break;
				if (!freepointer_ok(s, p, next)) {
					++problems;
					report_freepointer(s, p, next, "CPU freelist cut there, the rest leaked");
					set_freepointer(s, p, nullptr);
					break;
				}
				if (n >= s->objects) { /* a loop: it would hand objects out twice */
					void *end = freelist_loop_end(s, c.freelist, &n);
					++problems;
					report_freepointer(s, end, get_freepointer(s, end), "CPU freelist loop cut there");
					set_freepointer(s, end, nullptr);
					break;
				}
				p = next;
			}
		}
		/* Slabs whose count changed move to the list it asks for. */
		for (PageList *list : lists) {
			for (struct page *p = list->head; p != nullptr;) {
				struct page *next = p->next;
				bool is_full = list == &s->full;
				bool ok = list == &s->partial ? p->inuse > 0 && p->inuse < s->objects
					  : list == &s->empty ? p->inuse == 0
							      : p->inuse == s->objects;
				if (!ok) {
					list->remove(p);
					if (is_full)
						--s->nr_full;
					if (place_slab_locked(s, p))
						discard.push_front(p);
				}
				p = next;
			}
		}
	}
	fast_irq_restore(flags);
	if (problems != 0)
		reporter_.finish_bug();
	while (struct page *p = discard.pop_front())
		discard_slab(s, p);
	return problems;
}

} // namespace kmm

/*
 * mm/slab_debug_options.cpp — which debug features a cache gets and the
 * slot layout they give it (docs/DEBUGGING.md): debug_layout(), the
 * kmm_slub_debug boot option (its parser, set_debug_options) and the flags
 * it gives a cache by name (debug_flags_for).
 *
 * Pure functions, and the allocator's option string (debug_options_,
 * written by set_debug_options): no cache or slab is touched here.
 * slab_common.cpp asks for the flags and the layout when it creates a
 * cache; the checks those flags switch on are in slab_debug.cpp.
 */
#include "slab_debug.h"

#include "slub.h"

namespace kmm {

/* ---- layout and options (pure) ---- */

DebugLayout debug_layout(uint32_t object_size, size_t align, slab_flags_t flags, bool has_ctor)
{
	DebugLayout d;
	size_t object = (size_t{object_size} + kSlabUnit - 1) & ~(kSlabUnit - 1);
	bool red = (flags & SLAB_RED_ZONE) != 0;
	size_t red_left = red ? (kSlabUnit + align - 1) & ~(align - 1) : 0;
	size_t p = red_left + object + (red ? kSlabUnit : 0);
	d.red_left = static_cast<uint32_t>(red_left);
	d.inuse = static_cast<uint32_t>(p);
	/* Outside the object with poison (the pattern fills it), a ctor
	 * (the state is kept) or red zones (the right zone of an object
	 * smaller than a word would overlap it). */
	if ((flags & (SLAB_POISON | SLAB_RED_ZONE)) != 0 || has_ctor) {
		d.offset = static_cast<uint32_t>(p);
		p += sizeof(void *);
	} else {
		d.offset = d.red_left;
	}
	if ((flags & SLAB_STORE_USER) != 0) {
		p = (p + alignof(SlabTrack) - 1) & ~(alignof(SlabTrack) - 1);
		d.track_offset = static_cast<uint32_t>(p);
		p += 2 * sizeof(SlabTrack);
	}
	if (red) {
		d.orig_offset = static_cast<uint32_t>(p);
		p += sizeof(uint32_t);
	}
	d.size = static_cast<uint32_t>(p);
	return d;
}

namespace {

slab_flags_t letter_flag(char c)
{
	switch (c) {
	case 'F': case 'f': return SLAB_CONSISTENCY_CHECKS;
	case 'Z': case 'z': return SLAB_RED_ZONE;
	case 'P': case 'p': return SLAB_POISON;
	case 'U': case 'u': return SLAB_STORE_USER;
	case 'T': case 't': return SLAB_TRACE;
	default: return 0;
	}
}

/* Letters Linux accepts that give no slab flag here: O (see
 * parse_slub_debug) and A (failslab, fault injection, which kmm does
 * not have: Linux without CONFIG_FAILSLAB takes it as a no-op too). */
bool letter_without_flag(char c)
{
	switch (c) {
	case 'O': case 'o': case 'A': case 'a': return true;
	default: return false;
	}
}

/* Does the cache list [p, end) (comma-separated; a '*' ends the prefix
 * to match, wherever it stands, as in Linux) name `name`? */
bool list_names(const char *p, const char *end, const char *name)
{
	while (p < end) {
		const char *q = p;
		while (q < end && *q != ',')
			++q;
		size_t n = static_cast<size_t>(q - p);
		size_t cmp = 0;
		while (cmp < n && p[cmp] != '*')
			++cmp;
		bool prefix = cmp < n;
		size_t i = 0;
		while (i < cmp && name[i] != '\0' && name[i] == p[i])
			++i;
		if (i == cmp && (prefix || name[i] == '\0') && n > 0)
			return true;
		p = q < end ? q + 1 : q;
	}
	return false;
}

} // namespace

/* Linux's choice among blocks (Documentation/mm/slub.rst): the first
 * block whose cache list names the cache, else the last block without a
 * list; a block for every cache never adds to a listed one. */
slab_flags_t parse_slub_debug(const char *options, const char *name, bool *ok, bool *order_off)
{
	*ok = true;
	if (order_off != nullptr)
		*order_off = false;
	slab_flags_t every = 0, listed = 0;
	bool named = false;
	const char *p = options;
	while (p != nullptr && *p != '\0') {
		const char *end = p;
		while (*end != '\0' && *end != ';')
			++end;
		if (end == p) { /* an empty block (";", "Z,a;;Z,b"): nothing, as Linux */
			p = *end == ';' ? end + 1 : end;
			continue;
		}
		/* "<letters>[,<names>]": letters up to the first ',' */
		const char *comma = p;
		while (comma < end && *comma != ',')
			++comma;
		slab_flags_t flags = 0;
		bool all = true; /* no letters at all: Linux's "slub_debug" = FZPU */
		for (const char *c = p; c < comma; ++c) {
			if (*c == '-' || *c == ' ') {
				if (*c == '-')
					flags = 0; /* Linux: off, the letters before it too */
				all = false;
				continue;
			}
			slab_flags_t f = letter_flag(*c);
			all = false;
			if (f != 0) {
				flags |= f;
			} else if (letter_without_flag(*c)) {
				/* Linux: O holds for every cache, whichever block it is in */
				if ((*c == 'O' || *c == 'o') && order_off != nullptr)
					*order_off = true;
			} else {
				*ok = false;
			}
		}
		if (all)
			flags = SLAB_CONSISTENCY_CHECKS | SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER;
		if (comma == end)
			every = flags;
		else if (!named && name != nullptr && list_names(comma + 1, end, name))
			listed = flags, named = true;
		p = *end == ';' ? end + 1 : end;
	}
	return named ? listed : every;
}

/* ---- the boot option ---- */

int SlabAllocator::set_debug_options(const char *options)
{
	bool ok;
	parse_slub_debug(options, nullptr, &ok);
	size_t n = 0;
	while (options != nullptr && options[n] != '\0')
		++n;
	if (!ok || n >= sizeof(debug_options_)) {
		if (!ok)
			reporter_.warn("slub_debug \"%s\": unknown flag letter (known: F Z P U T O A, '-' for none): ignored",
				       options);
		else
			reporter_.warn("slub_debug: option of %zu bytes, at most %zu (KMM_SLUB_DEBUG_LEN - 1): ignored", n,
				       sizeof(debug_options_) - 1);
		return -KMM_EINVAL;
	}
	for (size_t i = 0; i <= n; ++i)
		debug_options_[i] = options[i];
	return 0;
}

slab_flags_t SlabAllocator::debug_flags_for(const char *name) const
{
	if constexpr (!kSlabDebug)
		return 0;
	bool ok;
	return parse_slub_debug(debug_options_, name, &ok);
}

/* The letter O, as Linux's kmem_cache_open applies it: when the slot
 * with its red zones, poison pointer and tracks needs a higher page order
 * than the bare object, the cache goes without those (checks and trace
 * stay). Applies to the flags a cache was created with too, as in Linux. */
slab_flags_t SlabAllocator::drop_order_raising_debug(unsigned size, unsigned align, slab_flags_t flags,
						      bool has_ctor) const
{
	if constexpr (!kSlabDebug)
		return flags;
	if ((flags & kDebugMetadataFlags) == 0)
		return flags;
	bool ok, order_off;
	parse_slub_debug(debug_options_, nullptr, &ok, &order_off);
	if (!order_off)
		return flags;
	CacheLayout layout;
	if (calculate_layout(size, align, flags, has_ctor, layout) != nullptr)
		return flags; /* does not fit at all: the caller's fallback decides */
	if (page_order_for(layout.size) <= page_order_for(size))
		return flags;
	return normalize_debug_flags(flags & ~kDebugMetadataFlags, has_ctor);
}

} // namespace kmm

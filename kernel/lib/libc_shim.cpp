/*
 * kernel/lib/libc_shim.cpp — the C library's allocator routed to kmm, for
 * firmware that links newlib (or any libc) next to kmm, or C code written
 * against malloc: malloc, free, calloc, realloc, reallocf, aligned_alloc,
 * posix_memalign, memalign, valloc, pvalloc, malloc_usable_size, cfree, and
 * newlib's reentrant entry points (_malloc_r, _free_r, _calloc_r,
 * _realloc_r, _reallocf_r, _memalign_r, _valloc_r, _pvalloc_r,
 * _malloc_usable_size_r), which newlib's own code (stdio buffers, strdup,
 * asprintf …) calls; and newlib's statistics and tuning calls (mallinfo,
 * malloc_stats, malloc_trim, mallopt, mstats and their _r forms), whose
 * newlib versions would pull newlib's allocator in (see "statistics"
 * below). C++ operator new/delete: kernel/lib/new_delete.cpp.
 *
 * Freestanding: only kmm's public C API (kmm/kmm.h) and, for
 * malloc_stats' output, the arch console (arch/arch.h). Built as an object
 * library (kmm_libc_shim_<board>), so these strong definitions are linked
 * whatever the link order, and libc's archive members for the same symbols
 * (newlib's mallocr.o, freer.o … and with them _sbrk) are never pulled in.
 *
 * Guarantees (docs/BARE_METAL.md, "Firmware integration"):
 *   * every pointer is a kmm object (kmalloc class or large page block):
 *     aligned to at least 8 bytes (16 on 64-bit) = alignof(max_align_t) of
 *     the ARM EABI and RV64 ABIs — a request below that many bytes asks
 *     for that many (kmm_libc_shim_size); a power-of-two size to itself;
 *   * aligned_alloc/posix_memalign/memalign(A, n) with A > that: a request
 *     of round_up(n, A) bytes, whose class (power of two, or 96/192, whose
 *     objects sit at multiples of 32/64) or page block is aligned to A; the
 *     result is checked and, should a class ever not be, a power-of-two
 *     size is used instead. A above the largest buddy block: NULL;
 *   * malloc(0) and calloc of 0 bytes return a unique, freeable object
 *     (KMM_LIBC_SHIM_MIN_ALIGN bytes) (not kmalloc's shared ZERO_SIZE_PTR); realloc(p, 0) frees p
 *     and returns NULL (as glibc and newlib-nano do; full newlib's
 *     realloc returns a minimum-size block instead); realloc's failure leaves p
 *     intact; calloc checks n * size for overflow;
 *   * free of a pointer kmm never handed out, a middle pointer or a double
 *     free is reported ("BUG kmalloc…") and refused by kmm; realloc and
 *     reallocf of such a pointer report it once (kmm_kmalloc_size) and
 *     return NULL with EINVAL, freeing nothing;
 *   * realloc to half the block's usable size or less moves the data to a
 *     block of the new size and frees the old one (as newlib-nano does;
 *     full newlib and glibc split the block), so a shrunk buffer gives its
 *     memory back; should that allocation fail, or come from a class as
 *     large as p's (kmalloc's fallback when no page is left), the old
 *     block is returned.
 *     Any other realloc is krealloc (in place while the block fits);
 *   * memalign(A, n), the legacy form, is lenient as newlib's and glibc's:
 *     A at or below the minimum alignment is malloc(n) (0 included), and
 *     glibc's rounding of any other A up to a power of two;
 *     aligned_alloc and posix_memalign are strict (EINVAL);
 *   * failures set errno to ENOMEM (EINVAL for a bad alignment or pointer)
 *     through kmm_libc_shim_set_errno(). Its weak default here writes
 *     newlib's errno, *__errno(), when the firmware links it (any code that
 *     reads errno does; a weak reference, so nothing else is pulled in);
 *     an RTOS whose _r calls pass another task's struct _reent, or a libc
 *     with another errno, defines the hook;
 *   * IRQ-safe as kmm is (kmm never sleeps); no libc lock is needed.
 */
#include <stddef.h>
#include <stdint.h>

#include <arch/arch.h>
#include <kmm/kmm.h>

#include "libc_shim.h"

/* The promise above, checked where it is made: malloc's memory suits any
 * type (an ILP32 RISC-V port, whose long double is 16-aligned, would need
 * a larger KMM_LIBC_SHIM_MIN_ALIGN). */
static_assert(KMM_LIBC_SHIM_MIN_ALIGN >= alignof(max_align_t), "malloc must be aligned to max_align_t");

namespace {

constexpr int kEnomem = 12; /* errno values of newlib and Linux */
constexpr int kEinval = 22;
constexpr gfp_t kGfp = GFP_KERNEL;

void *fail(void *reent, int err)
{
	kmm_libc_shim_set_errno(reent, err);
	return nullptr;
}

/* `caller`, below: the firmware code that called the public entry (its
 * return address), which slub_debug U and T record as the allocating code
 * of the object (kmm_kmalloc_track_caller & co.), not the shim. */
void *shim_malloc(void *reent, size_t size, const void *caller)
{
	void *p = kmm_libc_shim_kmalloc(kmm_libc_shim_size(size), kGfp, caller);
	return p != nullptr ? p : fail(reent, kEnomem);
}

void *shim_calloc(void *reent, size_t n, size_t size, const void *caller)
{
	size_t bytes;
	if (__builtin_mul_overflow(n, size, &bytes))
		return fail(reent, kEnomem);
	void *p = kmm_libc_shim_kmalloc(kmm_libc_shim_size(bytes), kGfp | __GFP_ZERO, caller);
	return p != nullptr ? p : fail(reent, kEnomem);
}

/* realloc: see the guarantees above. *refused: p is no block of the heap
 * (reported once, by kmm_kmalloc_size), so reallocf must not free it
 * either. kmm_kmalloc_size, not ksize: ksize would let p use its whole
 * class (debug red zone, sanitizers) for good, even when p stays. */
void *shim_realloc(void *reent, void *p, size_t size, const void *caller, bool *refused = nullptr)
{
	if (ZERO_OR_NULL_PTR(p)) /* ZERO_SIZE_PTR: a kmalloc(0) of ported code */
		return shim_malloc(reent, size, caller);
	if (size == 0) {
		kfree(p);
		return nullptr;
	}
	size_t old = kmm_kmalloc_size(p, "realloc");
	if (old == 0) {
		if (refused != nullptr)
			*refused = true;
		return fail(reent, kEinval);
	}
	size_t want = kmm_libc_shim_size(size);
	if (want <= old / 2) {
		/* no reclaim or OOM hook for a call that cannot fail */
		void *n = kmm_libc_shim_kmalloc(want, kGfp | __GFP_NOWARN | __GFP_NORETRY, caller);
		/* Out of pages, kmalloc serves an empty class from a larger one
		 * (kmalloc_fallback), maybe as large as p's or larger: a move
		 * there gives nothing back and may take more. */
		if (n != nullptr && kmm_kmalloc_size(n, "realloc") >= old) {
			kfree(n);
			n = nullptr;
		}
		if (n == nullptr)
			return p; /* the old block still holds the data */
		__builtin_memcpy(n, p, want);
		kfree(p);
		return n;
	}
	void *n = kmm_krealloc_track_caller(p, want, kGfp, caller);
	return n != nullptr ? n : fail(reent, kEnomem);
}

/* reallocf: realloc, and p freed when that failed for want of memory. */
void *shim_reallocf(void *reent, void *p, size_t size, const void *caller)
{
	bool refused = false;
	void *n = shim_realloc(reent, p, size, caller, &refused);
	if (n == nullptr && size != 0 && !refused)
		kfree(p);
	return n;
}

/* memalign's leniency (see the guarantees above), then aligned_alloc. */
void *shim_memalign(void *reent, size_t align, size_t size, const void *caller)
{
	if (align <= KMM_LIBC_SHIM_MIN_ALIGN)
		return shim_malloc(reent, size, caller);
	if ((align & (align - 1)) != 0) {
		unsigned shift = static_cast<unsigned>(sizeof(size_t) * 8) -
				 static_cast<unsigned>(__builtin_clzl(static_cast<unsigned long>(align)));
		if (shift >= sizeof(size_t) * 8)
			return fail(reent, kEinval);
		align = size_t{1} << shift;
	}
	void *p = kmm_kmalloc_aligned_track_caller(size, align, kGfp, caller);
	return p != nullptr ? p : fail(reent, kEnomem);
}

void *shim_aligned_alloc(size_t align, size_t size, const void *caller)
{
	void *p = kmm_libc_aligned_alloc(align, size, caller);
	return p != nullptr ? p : fail(nullptr, kmm_libc_power_of_two(align) ? kEnomem : kEinval);
}

/* valloc and pvalloc: page-aligned (pvalloc: whole pages) */
void *shim_pvalloc(void *reent, size_t size, const void *caller)
{
	if (size > ~size_t{0} - (PAGE_SIZE - 1)) /* the round-up would wrap to 0 */
		return fail(reent, kEnomem);
	return shim_memalign(reent, PAGE_SIZE, (size + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1), caller);
}

struct mallinfo shim_mallinfo()
{
	struct mallinfo mi = {};
	mi.fordblks = kmm_free_pages() * PAGE_SIZE; /* first: managed never shrinks */
	mi.arena = kmm_managed_pages() * PAGE_SIZE;
	mi.uordblks = mi.arena - mi.fordblks;
	return mi;
}

int shim_trim()
{
	size_t before = kmm_free_pages();
	kmm_slab_shrink_all();
	kmm_drain_pages();
	return kmm_free_pages() > before ? 1 : 0;
}

void console(const char *text)
{
	size_t len = 0;
	while (text[len] != '\0')
		++len;
	kmm_arch_console_write(text, len);
}

void console_sink(void *, const char *text, size_t len) { kmm_arch_console_write(text, len); }

/* "<label><n right-aligned in 10>\n", as newlib prints its figures. */
void console_figure(const char *label, size_t n)
{
	char digits[24];
	size_t i = sizeof(digits);
	digits[--i] = '\0';
	digits[--i] = '\n';
	do {
		digits[--i] = static_cast<char>('0' + n % 10);
		n /= 10;
	} while (n != 0);
	while (i > sizeof(digits) - 12)
		digits[--i] = ' ';
	console(label);
	console(&digits[i]);
}

void shim_malloc_stats()
{
	struct mallinfo mi = shim_mallinfo();
	console("malloc_stats (kmm):\n");
	console_figure("system bytes     = ", mi.arena);
	console_figure("in use bytes     = ", mi.uordblks);
	console_figure("free bytes       = ", mi.fordblks);
	console("buddyinfo:\n");
	kmm_buddyinfo(console_sink, nullptr);
	console("slabinfo:\n");
	kmm_slabinfo(console_sink, nullptr);
}

void shim_mstats(const char *title)
{
	console("Memory allocation statistics ");
	console(title != nullptr ? title : "");
	console("\n");
	shim_malloc_stats();
}

} // namespace

extern "C" {

/* newlib's errno location (errno is *__errno()): weak, so it is only
 * used where the firmware links it. */
int *__errno(void) __attribute__((weak));

__attribute__((weak)) void kmm_libc_shim_set_errno(void *reent, int err)
{
	(void)reent; /* newlib passes _REENT, whose errno *__errno() is */
	if (__errno != nullptr)
		*__errno() = err;
}

void *kmm_libc_aligned_alloc(size_t align, size_t size, const void *caller)
{
	if (!kmm_libc_power_of_two(align))
		return nullptr;
	if (align <= KMM_LIBC_SHIM_MIN_ALIGN)
		return kmm_libc_shim_kmalloc(kmm_libc_shim_size(size), kGfp, caller);
	return kmm_kmalloc_aligned_track_caller(size, align, kGfp, caller);
}

/* ---- the C standard and POSIX names ----
 * Each allocating entry passes its own return address (the firmware's
 * call site) down as the caller; none calls another entry, whose return
 * address would be the shim. */

void *malloc(size_t size) { return shim_malloc(nullptr, size, KMM_LIBC_SHIM_CALLER()); }
void free(void *p) { kfree(p); }
void cfree(void *p) { kfree(p); }
void *calloc(size_t n, size_t size) { return shim_calloc(nullptr, n, size, KMM_LIBC_SHIM_CALLER()); }
void *realloc(void *p, size_t size) { return shim_realloc(nullptr, p, size, KMM_LIBC_SHIM_CALLER()); }
void *reallocf(void *p, size_t size) { return shim_reallocf(nullptr, p, size, KMM_LIBC_SHIM_CALLER()); }
size_t malloc_usable_size(void *p) { return ksize(p); }

void *memalign(size_t align, size_t size) { return shim_memalign(nullptr, align, size, KMM_LIBC_SHIM_CALLER()); }
void *aligned_alloc(size_t align, size_t size) { return shim_aligned_alloc(align, size, KMM_LIBC_SHIM_CALLER()); }
void *valloc(size_t size) { return shim_aligned_alloc(PAGE_SIZE, size, KMM_LIBC_SHIM_CALLER()); }
void *pvalloc(size_t size) { return shim_pvalloc(nullptr, size, KMM_LIBC_SHIM_CALLER()); }

int posix_memalign(void **out, size_t align, size_t size)
{
	if (!kmm_libc_power_of_two(align) || align % sizeof(void *) != 0)
		return kEinval;
	void *p = kmm_libc_aligned_alloc(align, size, KMM_LIBC_SHIM_CALLER());
	if (p == nullptr)
		return kEnomem;
	*out = p;
	return 0;
}

/* ---- newlib's reentrant names (struct _reent * is opaque here) ---- */

void *_malloc_r(void *reent, size_t size) { return shim_malloc(reent, size, KMM_LIBC_SHIM_CALLER()); }
void _free_r(void *, void *p) { kfree(p); }
void *_calloc_r(void *reent, size_t n, size_t size) { return shim_calloc(reent, n, size, KMM_LIBC_SHIM_CALLER()); }
void *_realloc_r(void *reent, void *p, size_t size) { return shim_realloc(reent, p, size, KMM_LIBC_SHIM_CALLER()); }
void *_reallocf_r(void *reent, void *p, size_t size) { return shim_reallocf(reent, p, size, KMM_LIBC_SHIM_CALLER()); }
void *_memalign_r(void *reent, size_t align, size_t size) { return shim_memalign(reent, align, size, KMM_LIBC_SHIM_CALLER()); }
void *_valloc_r(void *reent, size_t size) { return shim_memalign(reent, PAGE_SIZE, size, KMM_LIBC_SHIM_CALLER()); }
void *_pvalloc_r(void *reent, size_t size) { return shim_pvalloc(reent, size, KMM_LIBC_SHIM_CALLER()); }
size_t _malloc_usable_size_r(void *, void *p) { return ksize(p); }

/* ---- statistics and tuning (newlib's <malloc.h>) ----
 * newlib defines these in archive members that reach into its own
 * allocator (mstats.o → mallinfor.o → mallocr.o; mtrim.o → freer.o), so
 * without them here a firmware that calls mallinfo() or malloc_trim()
 * next to the shim fails to link (a second _malloc_r). What kmm reports:
 *   * mallinfo: page-level, exact and cheap. arena = the bytes kmm manages,
 *     fordblks = the bytes of its free pages (per-CPU lists included),
 *     uordblks = arena - fordblks (slab pages count whole, their free
 *     objects included; kmm_slabinfo() has the per-cache detail); the
 *     other fields are 0 (newlib's own leaves smblks, usmblks, fsmblks,
 *     hblks and hblkhd 0 as well);
 *   * malloc_trim: gives back every empty slab and per-CPU page list
 *     (kmm_slab_shrink_all, kmm_drain_pages); 1 if free pages grew. The
 *     pad argument has no meaning for kmm;
 *   * malloc_stats / mstats: the mallinfo figures, buddyinfo and slabinfo
 *     on kmm's console (kmm_arch_console_write; newlib writes to stderr);
 *   * mallopt: no option applies to kmm; returns 0 ("not done"). */

struct mallinfo mallinfo(void) { return shim_mallinfo(); }
struct mallinfo _mallinfo_r(void *) { return shim_mallinfo(); }
int malloc_trim(size_t) { return shim_trim(); }
int _malloc_trim_r(void *, size_t) { return shim_trim(); }
void malloc_stats(void) { shim_malloc_stats(); }
void _malloc_stats_r(void *) { shim_malloc_stats(); }
void mstats(char *title) { shim_mstats(title); }
void _mstats_r(void *, char *title) { shim_mstats(title); }
int mallopt(int, int) { return 0; }
int _mallopt_r(void *, int, int) { return 0; }

} // extern "C"

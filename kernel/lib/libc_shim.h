/*
 * kernel/lib/libc_shim.h — the declarations of the libc allocator shim
 * (kernel/lib/libc_shim.cpp, kernel/lib/new_delete.cpp) that are not libc's
 * own names: the aligned allocation both files share, the errno hook, and
 * the alignment every pointer has. The libc names themselves (malloc …) are
 * declared by the shim's users' libc headers, or below for -nostdlib code.
 */
#ifndef KMM_KERNEL_LIB_LIBC_SHIM_H
#define KMM_KERNEL_LIB_LIBC_SHIM_H

#include <stddef.h>

#include <kmm/slab.h>

/* Every pointer the shim returns is aligned to at least this
 * (alignof(max_align_t) on ARM EABI: 8; on RV64: 16). */
#define KMM_LIBC_SHIM_MIN_ALIGN (sizeof(void *) >= 8 ? 16u : 8u)

/* The bytes the shim asks kmalloc for, n bytes wanted: at least
 * KMM_LIBC_SHIM_MIN_ALIGN (0 included). kmalloc aligns a power-of-two size
 * to itself only, so on 64-bit the sizes 1, 2, 4 and 8 (kmalloc-8) would
 * come back 8-aligned; 16 bytes are 16-aligned. */
static inline size_t kmm_libc_shim_size(size_t n)
{
	return n < KMM_LIBC_SHIM_MIN_ALIGN ? KMM_LIBC_SHIM_MIN_ALIGN : n;
}

/* n is a power of two (0 is not): the alignments the shim accepts. */
static inline int kmm_libc_power_of_two(size_t n) { return n != 0 && (n & (n - 1)) == 0; }

/* KMM_LIBC_SHIM_TRACK_CALLER (default 1): every allocating entry passes
 * its return address (the firmware's call site) down as the caller, so
 * slub_debug U and T name the code that called malloc or new, not the
 * shim. It costs the malloc hit path 8 instructions on the Cortex-M3
 * (50 where there were 42, MinSizeRel), debug classes or not; 0 gives
 * them back, and the records name the shim. */
#ifndef KMM_LIBC_SHIM_TRACK_CALLER
#define KMM_LIBC_SHIM_TRACK_CALLER 1
#endif
#if KMM_LIBC_SHIM_TRACK_CALLER
#define KMM_LIBC_SHIM_CALLER() __builtin_return_address(0)
#else
#define KMM_LIBC_SHIM_CALLER() NULL
#endif

/* The shim's kmalloc for `caller` (KMM_LIBC_SHIM_CALLER() of its entry). */
static inline void *kmm_libc_shim_kmalloc(size_t size, gfp_t gfp, const void *caller)
{
#if KMM_LIBC_SHIM_TRACK_CALLER
	return kmm_kmalloc_track_caller(size, gfp, caller);
#else
	(void)caller;
	return kmalloc(size, gfp);
#endif
}

#ifdef __cplusplus
extern "C" {
#endif

/* align must be a power of two (else NULL); any size (0 → 1 byte).
 * caller: what slub_debug U and T record as the allocating code (the
 * return address of the shim's public entry: the firmware's call site). */
void *kmm_libc_aligned_alloc(size_t align, size_t size, const void *caller);
/* Sets errno (reent: newlib's struct _reent *, or NULL for the global
 * errno). Weak in the shim: its default writes *__errno() where newlib's
 * errno is linked, else nothing; define it for another libc, or for an
 * RTOS whose _r calls pass a struct _reent other than the running one's. */
void kmm_libc_shim_set_errno(void *reent, int err);

/* The libc names, for code without a libc's headers (the kernel's tests). */
void *malloc(size_t size);
void free(void *p);
void *calloc(size_t n, size_t size);
void *realloc(void *p, size_t size);
void *reallocf(void *p, size_t size);
void cfree(void *p);
void *aligned_alloc(size_t align, size_t size);
int posix_memalign(void **out, size_t align, size_t size);
void *memalign(size_t align, size_t size);
void *valloc(size_t size);
void *pvalloc(size_t size);
size_t malloc_usable_size(void *p);

/* newlib's <malloc.h> statistics and tuning calls (libc_shim.cpp says what
 * kmm puts in them). struct mallinfo is newlib's (ten size_t fields),
 * declared here for code without that header; include newlib's <malloc.h>
 * first where both are wanted (this file's _r functions take void *, not
 * struct _reent *, so the shim itself does not include it). */
#ifndef _INCLUDE_MALLOC_H_
struct mallinfo {
	size_t arena, ordblks, smblks, hblks, hblkhd, usmblks, fsmblks, uordblks, fordblks, keepcost;
};
#endif
#ifdef __cplusplus /* a function named as its struct, as in C (and newlib's header) */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wshadow"
#endif
struct mallinfo mallinfo(void);
#ifdef __cplusplus
#pragma GCC diagnostic pop
#endif
void malloc_stats(void);
int malloc_trim(size_t pad);
int mallopt(int param, int value);
void mstats(char *title);

#ifdef __cplusplus
}
#endif

#endif /* KMM_KERNEL_LIB_LIBC_SHIM_H */

/*
 * tests/cross/newlib/sbrk_heap.c — a minimal _sbrk over a static heap, for
 * the images that use newlib's own malloc: the negative control of the
 * allocator check (kmm-<board>-newlib-noshim.elf) and the newlib side of
 * the slot benchmark. KMM_SBRK_HEAP_BYTES sets the heap's size.
 */
#include <errno.h>
#include <stddef.h>

#ifndef KMM_SBRK_HEAP_BYTES
#define KMM_SBRK_HEAP_BYTES (8u * 1024u)
#endif

static unsigned char heap[KMM_SBRK_HEAP_BYTES] __attribute__((aligned(8)));
static size_t heap_used;

void *_sbrk(ptrdiff_t increment)
{
	if (increment < 0 ? (size_t)-increment > heap_used : (size_t)increment > sizeof(heap) - heap_used) {
		errno = ENOMEM;
		return (void *)-1;
	}
	void *old = heap + heap_used;
	heap_used += (size_t)increment;
	return old;
}

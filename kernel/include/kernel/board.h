/*
 * kernel/board.h — what the kernel needs from a board (boards/<name>/):
 * early setup of its console and counter, and its memory map, the RAM
 * regions handed to mm. The console bytes and the counter reach the arch
 * layer through the hooks in arch/target.h (kmm_board_console_write,
 * kmm_board_counter); a board that keeps the arch defaults (semihosting,
 * DWT) need not define them.
 *
 * The board's name and CPU come from the build (KMM_BOARD_NAME,
 * KMM_BOARD_CPU); its page size and max order from its kmm config
 * overrides (boards/<name>/board.cmake).
 */
#ifndef KMM_KERNEL_BOARD_H
#define KMM_KERNEL_BOARD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One RAM range for kmm_add_region(). */
struct kmm_board_region {
	const char *name;   /* for the boot log, e.g. "SSRAM2/3 after .bss" */
	uintptr_t start;
	size_t size;
	unsigned int zone;  /* KMM_ZONE_NORMAL or KMM_ZONE_DMA */
};

/* Console and counter up; runs first, before any output. */
void kmm_board_init(void);

/* Fills out[0 … max) with the RAM regions for mm; returns how many. The
 * free range of the image's own RAM is __kmm_free_start … __kmm_free_end
 * (exported by the linker script). */
size_t kmm_board_memory_map(struct kmm_board_region *out, size_t max);

#ifdef __cplusplus
}

#include <kmm/gfp.h> /* KMM_ZONE_* */

/* For kmm_board_memory_map(): copies a board's fixed table into out,
 * at most max entries; returns how many. */
template <size_t N>
inline size_t kmm_board_copy_map(const kmm_board_region (&map)[N], struct kmm_board_region *out, size_t max)
{
	size_t n = 0;
	for (; n < max && n < N; ++n)
		out[n] = map[n];
	return n;
}

/* For kmm_board_memory_map() of a board whose RAM after the image is one
 * range [start, end) and whose DMA zone is its part below dma_limit (the
 * virt boards): two regions, DMA then Normal. 0 if dma_limit does not
 * split the range (the image outgrew the DMA window: boot panics). */
inline size_t kmm_board_split_dma_map(uintptr_t start, uintptr_t end, uintptr_t dma_limit,
				      struct kmm_board_region *out, size_t max)
{
	if (start >= dma_limit || end <= dma_limit)
		return 0;
	const kmm_board_region map[] = {
		{"RAM after the image, below the DMA limit", start, dma_limit - start, KMM_ZONE_DMA},
		{"RAM above the DMA limit", dma_limit, end - dma_limit, KMM_ZONE_NORMAL},
	};
	return kmm_board_copy_map(map, out, max);
}
#endif

#endif /* KMM_KERNEL_BOARD_H */

/*
 * boards/mps2-an505/board.cpp — MPS2+ AN505 (SSE-200, Cortex-M33), running
 * Secure with the SAU off (all memory Secure): console on CMSDK UART0
 * (0x50200000, Secure alias of 0x40200000), counter on SSE-200 TIMER0
 * (0x50000000, 20 MHz), and the memory map handed to mm:
 *
 *   SSRAM2/3 after .bss and the stack  0x3800xxxx-0x38400000  Normal
 *   PSRAM                              0x80000000-0x81000000  Normal
 *   SSE-200 internal SRAM              0x30000000-0x30008000  DMA
 *
 * As on mps2-an385 the DMA zone is a board choice (a small separate RAM).
 * With -icount shift=0 the 20 MHz timer ticks once per 50 instructions.
 */
#include <arch/target.h>
#include <kernel/board.h>
#include <kmm/gfp.h>

#include "mps2.h"

extern "C" char __kmm_free_start[], __kmm_free_end[];

const board::mps2::Config board::mps2::kMps2 = {
	0x50200000u, /* UART0, Secure alias */
	0x50000000u, /* SSE-200 TIMER0, 20 MHz: 1 GHz (icount) / 20 MHz = 50 */
	50,
	"instructions (SSE-200 TIMER0 x 50, exact with -icount shift=0)",
};

extern "C" {

size_t kmm_board_memory_map(struct kmm_board_region *out, size_t max)
{
	const kmm_board_region map[] = {
		{"SSRAM2/3 after .bss", reinterpret_cast<uintptr_t>(__kmm_free_start),
		 static_cast<size_t>(__kmm_free_end - __kmm_free_start), KMM_ZONE_NORMAL},
		{"PSRAM", 0x80000000u, 16u << 20, KMM_ZONE_NORMAL},
		{"SSE-200 SRAM", 0x30000000u, 32u << 10, KMM_ZONE_DMA},
	};
	return kmm_board_copy_map(map, out, max);
}

} // extern "C"

/*
 * boards/mps2-an385/board.cpp — MPS2 + AN385 (Cortex-M3): console on CMSDK
 * UART0 (0x40004000), counter on CMSDK timer0 (0x40000000, 25 MHz APB
 * clock), and the memory map handed to mm:
 *
 *   SSRAM2/3 after .bss and the stack  0x2000xxxx-0x20400000  Normal
 *   PSRAM                              0x21000000-0x22000000  Normal
 *   FPGA block RAM                     0x01000000-0x01004000  DMA
 *
 * The DMA zone is this board's choice, not a hardware limit: a small,
 * separate RAM that GFP_DMA callers get and others only fall back to.
 * Under QEMU with -icount shift=0 one instruction is 1 ns of virtual time,
 * so the 25 MHz timer ticks once every 40 instructions: the counter reports
 * ticks * 40 = instructions, at a resolution of 40.
 */
#include <arch/target.h>
#include <kernel/board.h>
#include <kmm/gfp.h>

#include "mps2.h"

extern "C" char __kmm_free_start[], __kmm_free_end[];

const board::mps2::Config board::mps2::kMps2 = {
	0x40004000u, /* UART0 */
	0x40000000u, /* timer0, 25 MHz: 1 GHz (icount) / 25 MHz = 40 */
	40,
	"instructions (CMSDK timer0 x 40, exact with -icount shift=0)",
};

extern "C" {

size_t kmm_board_memory_map(struct kmm_board_region *out, size_t max)
{
	const kmm_board_region map[] = {
		{"SSRAM2/3 after .bss", reinterpret_cast<uintptr_t>(__kmm_free_start),
		 static_cast<size_t>(__kmm_free_end - __kmm_free_start), KMM_ZONE_NORMAL},
		{"PSRAM", 0x21000000u, 16u << 20, KMM_ZONE_NORMAL},
		{"FPGA block RAM", 0x01000000u, 16u << 10, KMM_ZONE_DMA},
	};
	return kmm_board_copy_map(map, out, max);
}

} // extern "C"

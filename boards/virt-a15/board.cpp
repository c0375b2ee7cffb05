/*
 * boards/virt-a15/board.cpp — QEMU ARM virt with a Cortex-A15: console on
 * the PL011 UART (0x09000000, no setup needed under QEMU), the counter
 * from the arch default (PMCCNTR: instructions under -icount shift=0), exit
 * from the arch default (semihosting), and the memory map handed to mm:
 *
 *   RAM after the image, up to +16 MiB   0x400xxxxx-0x41000000  DMA
 *   the rest of RAM                      0x41000000-0x48000000  Normal
 *
 * The DMA zone is this board's choice (the low 16 MiB, as ZONE_DMA is for
 * DMA masters with few address bits), not something virt requires; it
 * gives GFP_DMA and the zone fallback a real second zone to work on.
 */
#include <arch/target.h>
#include <kernel/board.h>
#include <kmm/gfp.h>

#include "pl011.h"

extern "C" char __kmm_free_start[], __kmm_free_end[];

namespace {
constexpr uintptr_t kUart0 = 0x09000000u;
constexpr uintptr_t kDmaLimit = 0x41000000u; /* RAM base + 16 MiB */
} // namespace

extern "C" {

void kmm_board_init(void) {}

void kmm_board_console_write(const char *text, size_t len)
{
	board::pl011::write(kUart0, text, len);
}

size_t kmm_board_memory_map(struct kmm_board_region *out, size_t max)
{
	return kmm_board_split_dma_map(reinterpret_cast<uintptr_t>(__kmm_free_start),
				       reinterpret_cast<uintptr_t>(__kmm_free_end), kDmaLimit, out, max);
}

} // extern "C"

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

#include "cmsdk.h"

extern "C" char __kmm_free_start[], __kmm_free_end[];

namespace {
constexpr uintptr_t kUart0 = 0x50200000u;
constexpr uintptr_t kTimer0 = 0x50000000u;
constexpr uint32_t kInstructionsPerTick = 50; /* 1 GHz (icount) / 20 MHz */
kmm_counter32 g_timer;
} // namespace

extern "C" {

const char *kmm_board_counter_unit(void)
{
	return "instructions (SSE-200 TIMER0 x 50, exact with -icount shift=0)";
}

void kmm_board_init(void)
{
	board::cmsdk::uart_init(kUart0, 16);
	board::cmsdk::timer_start(kTimer0);
}

void kmm_board_console_write(const char *text, size_t len)
{
	board::cmsdk::uart_write(kUart0, text, len);
}

uint64_t kmm_board_counter(void)
{
	return kmm_counter_extend(&g_timer, board::cmsdk::timer_ticks(kTimer0)) * kInstructionsPerTick;
}

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

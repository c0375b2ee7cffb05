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

#include "cmsdk.h"

extern "C" char __kmm_free_start[], __kmm_free_end[];

namespace {
constexpr uintptr_t kUart0 = 0x40004000u;
constexpr uintptr_t kTimer0 = 0x40000000u;
constexpr uint32_t kInstructionsPerTick = 40; /* 1 GHz (icount) / 25 MHz */
kmm_counter32 g_timer;
} // namespace

extern "C" {

const char *kmm_board_counter_unit(void)
{
	return "instructions (CMSDK timer0 x 40, exact with -icount shift=0)";
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
		{"PSRAM", 0x21000000u, 16u << 20, KMM_ZONE_NORMAL},
		{"FPGA block RAM", 0x01000000u, 16u << 10, KMM_ZONE_DMA},
	};
	return kmm_board_copy_map(map, out, max);
}

} // extern "C"

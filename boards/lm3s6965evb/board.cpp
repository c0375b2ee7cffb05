/*
 * boards/lm3s6965evb/board.cpp — Stellaris LM3S6965 (Cortex-M3, 64 KiB
 * SRAM): console on UART0 (PL011 at 0x4000C000, no setup needed under
 * QEMU), the counter from the arch default, and one region for mm: the
 * SRAM after the stack, .data and .bss (Normal zone; no DMA zone).
 */
#include <arch/target.h>
#include <kernel/board.h>
#include <kmm/gfp.h>

#include "pl011.h"

extern "C" char __kmm_free_start[], __kmm_free_end[];

namespace {
constexpr uintptr_t kUart0 = 0x4000C000u;
} // namespace

extern "C" {

void kmm_board_init(void) {}

void kmm_board_console_write(const char *text, size_t len)
{
	board::pl011::write(kUart0, text, len);
}

size_t kmm_board_memory_map(struct kmm_board_region *out, size_t max)
{
	if (max == 0)
		return 0;
	out[0] = {"SRAM after .bss", reinterpret_cast<uintptr_t>(__kmm_free_start),
		  static_cast<size_t>(__kmm_free_end - __kmm_free_start), KMM_ZONE_NORMAL};
	return 1;
}

} // extern "C"

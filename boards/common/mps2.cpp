/*
 * boards/common/mps2.cpp — the MPS2 boards' console and counter (see
 * mps2.h): CMSDK UART0 at 16 cycles per bit, and a free-running CMSDK timer
 * extended to 64 bits and scaled to instructions (exact under QEMU with
 * -icount shift=0: one instruction per ns of virtual time).
 */
#include <arch/arch.h>
#include <arch/target.h>
#include <kernel/board.h>

#include "cmsdk.h"
#include "mps2.h"

namespace {
kmm_counter32 g_timer;
} // namespace

using board::mps2::kMps2;

extern "C" {

const char *kmm_board_counter_unit(void) { return kMps2.counter_unit; }

void kmm_board_init(void)
{
	board::cmsdk::uart_init(kMps2.uart0, 16);
	board::cmsdk::timer_start(kMps2.timer0);
}

void kmm_board_console_write(const char *text, size_t len)
{
	board::cmsdk::uart_write(kMps2.uart0, text, len);
}

uint64_t kmm_board_counter(void)
{
	/* IRQs masked (as kmm_counter_extend asks): an interrupt handler that
	 * reads the counter between this read and its update of g_timer
	 * would make this read count a wrap that did not happen (2^32 ticks) */
	unsigned long flags = kmm_arch_irq_save();
	uint64_t ticks = kmm_counter_extend(&g_timer, board::cmsdk::timer_ticks(kMps2.timer0));
	kmm_arch_irq_restore(flags);
	return ticks * kMps2.instructions_per_tick;
}

} // extern "C"

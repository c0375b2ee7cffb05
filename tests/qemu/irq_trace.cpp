/*
 * tests/qemu/irq_trace.cpp — the IRQ-masked-window timer of the mps2-an385
 * IRQ image (see irq_trace.h): the two hooks arch/irq.h calls under
 * KMM_IRQ_TRACE, and traced versions of kmm_arch_irq_save/restore that
 * replace the weak ones of arch/arm/cortex_m (mm's SlabLockGuard and the
 * kernel call those), so every outermost window is timed, whoever opens it.
 *
 * Windows never nest across contexts on one CPU: a masked window cannot be
 * interrupted, so one start stamp is enough, even with the timer handler
 * opening windows of its own between the main loop's.
 */
#include "irq_trace.h"

#include <arch/arch.h>
#include <arch/irq.h>
#include <kernel/printk.h>

#include "mmio.h"

#if !defined(KMM_IRQ_TRACE) || !KMM_IRQ_TRACE
#error "irq_trace.cpp belongs to an image built with KMM_IRQ_TRACE=1"
#endif

namespace {
constexpr uintptr_t kTimer0Value = 0x40000004u; /* counts down at 25 MHz */
constexpr uint32_t kInstructionsPerTick = 40;
uint32_t g_start;
uint32_t g_max_ticks;
unsigned long g_windows;
} // namespace

extern "C" void kmm_irq_trace_masked(void) { g_start = board::mmio32(kTimer0Value); }

extern "C" void kmm_irq_trace_unmasking(void)
{
	uint32_t ticks = g_start - board::mmio32(kTimer0Value);
	if (ticks > g_max_ticks)
		g_max_ticks = ticks;
	++g_windows;
}

extern "C" unsigned long kmm_arch_irq_save(void) { return kmm::arch::irq_save(); }
extern "C" void kmm_arch_irq_restore(unsigned long flags) { kmm::arch::irq_restore(flags); }

void irq_trace_reset(void)
{
	unsigned long flags = kmm::arch::irq_save_raw();
	g_max_ticks = 0;
	g_windows = 0;
	kmm::arch::irq_restore_raw(flags);
}

uint32_t irq_trace_max_instructions(void) { return g_max_ticks * kInstructionsPerTick; }

unsigned long irq_trace_windows(void) { return g_windows; }

uint32_t irq_trace_print(const char *what)
{
	uint32_t max = irq_trace_max_instructions();
	unsigned long windows = irq_trace_windows();
	printk("# irq-window: %s: longest %lu instructions (%lu windows)\n", what, static_cast<unsigned long>(max),
	       windows);
	irq_trace_reset();
	return max;
}

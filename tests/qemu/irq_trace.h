/*
 * tests/qemu/irq_trace.h — the longest IRQ-masked window, timed on
 * mps2-an385 (tests/qemu/irq_trace.cpp): an image built with
 * KMM_IRQ_TRACE=1 (arch/irq.h) calls the trace hooks whenever the
 * outermost IRQ save masks or the matching restore unmasks; the hooks read
 * CMSDK timer0 (25 MHz: 40 instructions per tick under -icount shift=0).
 * Figures are in instructions, at a resolution of 40, and include about a
 * dozen instructions of the hooks themselves (irq_windows measures a bare
 * save/restore pair for that).
 */
#ifndef KMM_TESTS_QEMU_IRQ_TRACE_H
#define KMM_TESTS_QEMU_IRQ_TRACE_H

#include <stdint.h>

/* Forgets the longest window and the window count. */
void irq_trace_reset(void);
/* Longest window since the reset, in instructions (ticks x 40). */
uint32_t irq_trace_max_instructions(void);
/* Windows closed since the reset. */
unsigned long irq_trace_windows(void);
/* "# irq-window: <what>: longest <n> instructions (<k> windows)", then
 * resets; returns the longest. */
uint32_t irq_trace_print(const char *what);

#endif

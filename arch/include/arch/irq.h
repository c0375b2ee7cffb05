/*
 * arch/irq.h — inline IRQ masking for kmm's fast paths: the same semantics
 * as kmm_arch_irq_save/restore (arch/arch.h), a few instructions inlined
 * instead of a call. Each arch's out-of-line functions do exactly the same;
 * an arch not listed here falls back to them.
 *
 *   host         no interrupts: a compiler barrier only
 *   ARMv7-M/8-M  PRIMASK (mrs + cpsid i / msr primask)
 *   ARMv7-A      CPSR I bit (mrs + cpsid i / msr cpsr_c)
 *   RISC-V       mstatus.MIE (csrrci / csrs of the saved MIE bit)
 *
 * KMM_IRQ_TRACE (a measurement build, never the default): irq_save calls
 * kmm_irq_trace_masked() right after it masked IRQs that were enabled, and
 * irq_restore calls kmm_irq_trace_unmasking() right before it enables them
 * again, so the image can time every IRQ-masked window of the outermost
 * level (tests/qemu/irq_trace.cpp on mps2-an385). Nested saves cost nothing
 * extra. The image also replaces the weak out-of-line kmm_arch_irq_save/
 * restore with these, so SlabLockGuard & co. are timed as well.
 */
#ifndef KMM_ARCH_IRQ_H
#define KMM_ARCH_IRQ_H

#include <arch/arch.h>

#if defined(KMM_IRQ_TRACE) && KMM_IRQ_TRACE
extern "C" void kmm_irq_trace_masked(void);
extern "C" void kmm_irq_trace_unmasking(void);
#endif

namespace kmm::arch {

/* True if `flags` (from irq_save) says IRQs were enabled. */
inline bool irq_flags_enabled(unsigned long flags)
{
#if defined(__arm__) && defined(__ARM_ARCH_PROFILE) && __ARM_ARCH_PROFILE == 'M'
	return (flags & 1ul) == 0;     /* PRIMASK.PM */
#elif defined(__arm__)
	return (flags & 0x80ul) == 0;  /* CPSR.I */
#elif defined(__riscv)
	return (flags & 8ul) != 0;     /* mstatus.MIE */
#else
	(void)flags;
	return false;
#endif
}

inline unsigned long irq_save_raw()
{
#if defined(KMM_HOST)
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	return 0;
#elif defined(__arm__) && defined(__ARM_ARCH_PROFILE) && __ARM_ARCH_PROFILE == 'M'
	unsigned long flags;
	__asm__ volatile("mrs %0, primask\n\tcpsid i" : "=r"(flags) : : "memory");
	return flags;
#elif defined(__arm__) && defined(__ARM_ARCH_PROFILE) && __ARM_ARCH_PROFILE == 'A'
	unsigned long flags;
	__asm__ volatile("mrs %0, cpsr\n\tcpsid i" : "=r"(flags) : : "memory");
	return flags;
#elif defined(__riscv)
	unsigned long flags;
	__asm__ volatile("csrrci %0, mstatus, 8" : "=r"(flags) : : "memory");
	return flags;
#else
	return kmm_arch_irq_save();
#endif
}

inline void irq_restore_raw(unsigned long flags)
{
#if defined(KMM_HOST)
	(void)flags;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
#elif defined(__arm__) && defined(__ARM_ARCH_PROFILE) && __ARM_ARCH_PROFILE == 'M'
	__asm__ volatile("msr primask, %0" : : "r"(flags) : "memory");
#elif defined(__arm__) && defined(__ARM_ARCH_PROFILE) && __ARM_ARCH_PROFILE == 'A'
	__asm__ volatile("msr cpsr_c, %0" : : "r"(flags) : "memory");
#elif defined(__riscv)
	__asm__ volatile("csrs mstatus, %0" : : "r"(flags & 8ul) : "memory");
#else
	kmm_arch_irq_restore(flags);
#endif
}

inline unsigned long irq_save()
{
	unsigned long flags = irq_save_raw();
#if defined(KMM_IRQ_TRACE) && KMM_IRQ_TRACE
	if (irq_flags_enabled(flags))
		kmm_irq_trace_masked();
#endif
	return flags;
}

inline void irq_restore(unsigned long flags)
{
#if defined(KMM_IRQ_TRACE) && KMM_IRQ_TRACE
	if (irq_flags_enabled(flags))
		kmm_irq_trace_unmasking();
#endif
	irq_restore_raw(flags);
}

} // namespace kmm::arch

#endif

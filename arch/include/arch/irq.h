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
 */
#ifndef KMM_ARCH_IRQ_H
#define KMM_ARCH_IRQ_H

#include <arch/arch.h>

namespace kmm::arch {

inline unsigned long irq_save()
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

inline void irq_restore(unsigned long flags)
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

} // namespace kmm::arch

#endif

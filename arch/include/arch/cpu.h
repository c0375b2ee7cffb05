/*
 * arch/cpu.h — the running CPU's index, inlined for kmm's fast paths: the
 * same value as kmm_arch_cpu_id() (arch/arch.h), one or two instructions
 * instead of a call, which would give the inline alloc and free paths a
 * stack frame on SMP targets. Each arch's out-of-line function reads the
 * same register; an arch not listed here falls back to it.
 *
 *   ARMv7-A   MPIDR.Aff0 (mrc p15, 0, rN, c0, c0, 5)
 *   RISC-V    mhartid (kmm runs in M-mode; hart N is CPU N)
 *   others    kmm_arch_cpu_id() (the host maps threads to CPU slots;
 *             Cortex-M is one CPU: mm never asks when KMM_NR_CPUS is 1)
 */
#ifndef KMM_ARCH_CPU_H
#define KMM_ARCH_CPU_H

#include <arch/arch.h>

namespace kmm::arch {

__attribute__((always_inline)) inline unsigned int cpu_id()
{
#if defined(KMM_HOST)
	return kmm_arch_cpu_id();
#elif defined(__arm__) && defined(__ARM_ARCH_PROFILE) && __ARM_ARCH_PROFILE == 'A'
	uint32_t mpidr;
	__asm__ volatile("mrc p15, 0, %0, c0, c0, 5" : "=r"(mpidr));
	return mpidr & 0xffu;
#elif defined(__riscv)
	unsigned long hart;
	__asm__ volatile("csrr %0, mhartid" : "=r"(hart));
	return static_cast<unsigned int>(hart);
#else
	return kmm_arch_cpu_id();
#endif
}

} // namespace kmm::arch

#endif

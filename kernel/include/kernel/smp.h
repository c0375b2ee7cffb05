/*
 * kernel/smp.h — the kernel's other CPUs (kernel/smp.cpp): started on
 * demand through the arch (kmm_arch_cpu_start: PSCI on virt-a15, a CLINT
 * IPI on riscv64-virt), each on its own static stack, then waiting for
 * work that CPU 0 hands to all of them at once. Boards with KMM_NR_CPUS 1
 * (every Cortex-M) start nothing: smp_boot_cpus() returns 1.
 */
#ifndef KMM_KERNEL_SMP_H
#define KMM_KERNEL_SMP_H

/* Starts CPUs 1 … KMM_NR_CPUS-1 (once; later calls only count); prints a
 * line per CPU. Returns how many CPUs are online, this one included. */
unsigned int smp_boot_cpus(void);
unsigned int smp_cpus_online(void);

/* Runs fn(cpu, ctx) on every online CPU, the caller (cpu 0) included, and
 * returns when all of them returned. Only CPU 0 calls it. */
void smp_run_on_all(void (*fn)(unsigned int cpu, void *ctx), void *ctx);

/* Parks every other CPU for good (WFI with IRQs masked): no more work. */
void smp_park_others(void);

#endif /* KMM_KERNEL_SMP_H */

/*
 * arch/arch.h — the narrow contract mm/ and kernel/ need from a CPU, stated
 * once. Each arch/<name>/ folder implements these functions; arch/host does it
 * with the development machine's threads standing in for CPUs.
 *
 * Count-leading/trailing-zeros come from the compiler builtins on every
 * arch (CLZ on ARMv7, Zbb or a libgcc routine on RISC-V, BSR/TZCNT on x86).
 */
#ifndef KMM_ARCH_H
#define KMM_ARCH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Mask interrupts on the local CPU; returns the previous state for restore. */
unsigned long kmm_arch_irq_save(void);
void kmm_arch_irq_restore(unsigned long flags);

/* Index of the running CPU, 0 … KMM_NR_CPUS-1. */
unsigned int kmm_arch_cpu_id(void);

/* Runs fn(arg) on CPU `cpu` as that CPU's own code with its IRQs masked
 * (an IPI on a target; on the host, holding the CPU's slot), and returns
 * once fn has returned: 0. Returns a negative value, and runs nothing,
 * when it cannot: no such CPU, a CPU that takes no calls (not started,
 * parked, or an arch without them), or a caller with IRQs masked (its wait
 * could deadlock against a call to it). The caller holds no lock that fn
 * or the target CPU's IRQ-masked sections take. cpu may be the caller's. */
int kmm_arch_cpu_call(unsigned int cpu, void (*fn)(void *arg), void *arg);
/* For a CPU that waits with IRQs masked (an interrupt handler, say) for
 * another CPU that may itself wait for a kmm_arch_cpu_call to this one:
 * runs such a call now if one is posted, as the IPI would — and stops
 * there if kmm_arch_cpus_stop() asks (so the caller must hold no lock
 * that a call's fn or a stopper's reader takes). Nothing with IRQs
 * enabled (the IPI is taken then) and where no call needs serving (one
 * CPU). On the host, whose calls take the slot from outside, a thread
 * holding its slot gives it up for a moment so that they can. */
void kmm_arch_cpu_call_poll(void);

/* Stops every other CPU that takes cross-CPU calls where its IRQs are
 * enabled (so it is inside no IRQ-masked section: it holds no lock and is
 * in no per-CPU fast path), or where it polls in an IRQ-masked wait that
 * holds no lock (kmm_arch_cpu_call_poll), and keeps it there until kmm_arch_cpus_resume():
 * the caller may then read other CPUs' per-CPU data as if the system were
 * halted. One stop at a time (another caller waits). Returns 0, or a
 * negative value, with nothing stopped, for a caller with IRQs masked.
 * While others are stopped the caller must not call kmm_arch_cpu_call. */
int kmm_arch_cpus_stop(void);
void kmm_arch_cpus_resume(void);

/* Raw console output; must work before mm is initialised and never allocate. */
void kmm_arch_console_write(const char *text, size_t len);

/* Print the message and stop (host: abort; target: report and exit nonzero). */
__attribute__((noreturn)) void kmm_arch_panic(const char *message);

/* A free-running counter: cycles or instructions; 0 where there is none. */
uint64_t kmm_arch_counter(void);

#ifdef __cplusplus
}
#endif

#endif /* KMM_ARCH_H */

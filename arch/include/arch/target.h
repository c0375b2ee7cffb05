/*
 * arch/target.h — what a bare-metal image needs from the arch beyond the
 * arch contract (arch/arch.h): the exit status back to the host, the
 * semihosting calls behind it, and the board hooks the arch layer calls.
 *
 * Also the SMP start of secondary CPUs (kmm_arch_cpu_start).
 *
 * One header for every target arch (arch/arm: Cortex-M and Cortex-A,
 * arch/riscv); arch/host does not implement it. kernel/ and boards/
 * include it; mm/ never does.
 */
#ifndef KMM_ARCH_TARGET_H
#define KMM_ARCH_TARGET_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Exit statuses an image reports to the host (QEMU's own exit status). */
#define KMM_EXIT_OK           0
#define KMM_EXIT_TEST_FAILED  1 /* a self-test or the workload found a problem */
#define KMM_EXIT_PANIC        2 /* kmm_arch_panic() or the kernel's panic() */
#define KMM_EXIT_FAULT        3 /* HardFault or an unexpected exception */

#define KMM_EXIT_STATUS_MAX   255

/* Masks IRQs, reports `status` to the host through kmm_board_exit() and
 * stops. Under QEMU this ends the QEMU process with exit status `status`
 * (semihosting, or a board's exit device); elsewhere the CPU halts. A host
 * sees only the low byte of a status, so a nonzero one whose low byte is 0
 * (256, -256, …) is reported as KMM_EXIT_STATUS_MAX: still a failure. */
__attribute__((noreturn)) void kmm_arch_exit(int status);

/* ---- semihosting (ARM "Angel" interface, also the RISC-V semihosting
 * spec; QEMU: -semihosting-config enable=on) ---- */
#define KMM_SEMIHOST_SYS_WRITEC        0x03u
#define KMM_SEMIHOST_SYS_WRITE0        0x04u
#define KMM_SEMIHOST_SYS_EXIT          0x18u
#define KMM_SEMIHOST_SYS_EXIT_EXTENDED 0x20u
#define KMM_ADP_STOPPED_APPLICATION_EXIT   0x20026u
#define KMM_ADP_STOPPED_RUNTIME_ERROR      0x20023u

/* One semihosting call: operation in r0/a0, argument in r1/a1, result
 * from r0/a0. Parameter blocks hold XLEN-sized fields (32 bits on ARM,
 * 64 on RV64). */
uintptr_t kmm_semihost_call(uintptr_t op, uintptr_t arg);
/* Writes len bytes through SYS_WRITE0 (in NUL-terminated chunks). */
void kmm_semihost_write(const char *text, size_t len);
/* SYS_EXIT_EXTENDED {ADP_Stopped_ApplicationExit, status}; if the host does
 * not know it, SYS_EXIT with ApplicationExit (0) or RunTimeError (nonzero). */
void kmm_semihost_exit(int status);

/* ---- SMP: starting the other CPUs (kernel/smp.cpp drives it) ----
 * virt-a15: PSCI CPU_ON through HVC (QEMU's virt machine without EL2/EL3
 * holds every secondary core powered off and implements PSCI itself);
 * riscv64-virt: the harts parked in _start's wfi loop, woken by a CLINT
 * software interrupt (msip) for a request naming them; Cortex-M: none. */
struct kmm_cpu_boot {
	uintptr_t stack_top;             /* 16-byte aligned; its top 2 KiB are the
	                                    CPU's exception / trap stack */
	void (*entry)(unsigned int cpu); /* must not return */
	unsigned int cpu;                /* the CPU's kmm_arch_cpu_id() */
};
#define KMM_CPU_EXCEPTION_STACK 2048u
/* Starts CPU boot->cpu at boot->entry(boot->cpu), IRQs masked, on its own
 * stack; *boot must stay valid until the entry runs. Returns 0, or a
 * negative value: no such CPU, already running, or no SMP on this arch. */
int kmm_arch_cpu_start(const struct kmm_cpu_boot *boot);
/* Waits cheaply for another CPU's store (WFE on ARMv7-A, a pause
 * elsewhere), and wakes such waiters after a store (SEV). */
void kmm_arch_cpu_relax(void);
void kmm_arch_cpu_wake_all(void);
/* Parks the calling CPU for good (IRQs masked, WFI); it takes no more
 * cross-CPU calls (a call already posted to it is served first). */
__attribute__((noreturn)) void kmm_arch_cpu_park(void);

/* ---- cross-CPU calls: kmm_arch_cpu_call (arch/arch.h) ----
 * Cortex-A and RISC-V: arch/common/cpu_call.cpp, a mailbox per CPU behind
 * the arch's call IPI (virt-a15: GICv2 SGI 0; riscv64-virt: the CLINT
 * software interrupt). Cortex-M: CPU 0 only, run in place. */
#define KMM_ARCH_MAX_CPUS 8u
/* The calling CPU takes calls from now on: its call IPI is unmasked and
 * its IRQs enabled (outside IRQ-masked sections). kernel/smp.cpp calls it
 * on every CPU it brings up, CPU 0 included; kmm_arch_cpu_park() ends it. */
void kmm_arch_cpu_calls_enable(void);
/* The arch side, for cpu_call.cpp: raise the call IPI on `cpu` (after a
 * barrier that orders the mailbox before it); unmask it and enable IRQs on
 * this CPU; mask it again (IRQs already masked); and whether `flags` from
 * kmm_arch_irq_save() say IRQs were masked. */
void kmm_arch_ipi_send(unsigned int cpu);
void kmm_arch_ipi_enable(void);
void kmm_arch_ipi_disable(void);
int kmm_arch_irq_flags_masked(unsigned long flags);
/* The arch's call-IPI handler calls this (IRQs masked): runs the call
 * posted to this CPU, if any. */
void kmm_cpu_call_serve(void);
/* kmm_arch_cpu_park() calls this with IRQs masked: no more calls here. */
void kmm_cpu_calls_disable(void);
/* An interrupt nobody enabled: panics with "unexpected <what> <id>". */
__attribute__((noreturn)) void kmm_arch_panic_unexpected(const char *what, unsigned long id);

/* ---- board hooks: the arch has weak defaults, a board overrides them ---- */
/* Console bytes (default: semihosting SYS_WRITE0). */
void kmm_board_console_write(const char *text, size_t len);
/* Hands `status` to the host (default: kmm_semihost_exit). May return if
 * the host did not take it; kmm_arch_exit then halts the CPU. A board with
 * an exit device (the RISC-V virt machine's SiFive test device) uses it. */
void kmm_board_exit(int status);
/* The counter behind kmm_arch_counter() and what it counts, for reports.
 * Defaults: Cortex-M DWT CYCCNT if the core has one, else SysTick counting
 * core clocks (QEMU models no DWT); Cortex-A the PMU cycle counter
 * (PMCCNTR, each core its own: values of two cores do not compare);
 * RISC-V minstret. Under QEMU -icount shift=0 the last two
 * count instructions exactly. */
uint64_t kmm_board_counter(void);
const char *kmm_board_counter_unit(void);

/* Widens a free-running 32-bit up-counter to 64 bits. Correct as long as it
 * is read at least once per wrap; callers with IRQs live mask them around. */
struct kmm_counter32 {
	uint32_t last;
	uint32_t wraps;
};
static inline uint64_t kmm_counter_extend(struct kmm_counter32 *c, uint32_t now)
{
	if (now < c->last)
		++c->wraps;
	c->last = now;
	return ((uint64_t)c->wraps << 32) | now;
}

#ifdef __cplusplus
}
#endif

#endif /* KMM_ARCH_TARGET_H */

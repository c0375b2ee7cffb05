/*
 * arch/arm/cortex_a/smp.cpp — secondary cores on Cortex-A (ARMv7-A) under
 * QEMU's virt machine: kmm_arch_cpu_start() asks the PSCI firmware (QEMU
 * itself: without EL2/EL3 the virt machine implements PSCI 0.2 with the
 * HVC conduit and holds every secondary core powered off) to start a core
 * with CPU_ON, whose entry sets the core up the way _start (startup.cpp)
 * sets up core 0 and calls the kmm_cpu_boot's entry.
 *
 *   CPU_ON      r0 = 0x84000003, r1 = target MPIDR (Aff0 = cpu on virt,
 *               8 cores per cluster), r2 = entry (A32, MMU off), r3 =
 *               context id, which the new core finds in r0: the
 *               kmm_cpu_boot. Returns 0, -2 (INVALID_PARAMETERS: no such
 *               core) or -4 (ALREADY_ON).
 *   the entry   IRQs/FIQs/aborts masked, VBAR, SCTLR.V = 0, TE = 0,
 *               ACTLR.SMP = 1 (coherency for LDREX/STREX; see below), the
 *               four exception-mode stacks = the top KMM_CPU_EXCEPTION_STACK
 *               bytes of its stack (an exception only reports and exits),
 *               SVC sp below them, then entry(cpu).
 *
 * Exclusives with the MMU off: all memory is Strongly-ordered then, where
 * ARMv7-A leaves LDREX/STREX IMPLEMENTATION DEFINED; QEMU's TCG implements
 * them as host atomics on any memory type, so kmm's spinlocks work under
 * QEMU as they are. Real hardware needs the MMU on with Normal, Shareable,
 * cacheable memory and ACTLR.SMP set before the first LDREX (ACTLR.SMP is
 * set here and by _start; QEMU treats the write as ignored).
 */
#include <arch/arch.h>
#include <arch/target.h>

extern "C" {
void kmm_cortex_a_secondary_entry(void);
__attribute__((noreturn, used)) void kmm_cortex_a_secondary(const kmm_cpu_boot *boot);
}

#define KMM_STR2(x) #x
#define KMM_STR(x) KMM_STR2(x)

__asm__(
	".section .text.kmm_cortex_a_secondary_entry, \"ax\", %progbits\n"
	".arm\n"
	".balign 4\n"
	".global kmm_cortex_a_secondary_entry\n"
	".type kmm_cortex_a_secondary_entry, %function\n"
	"kmm_cortex_a_secondary_entry:\n"
	"	cpsid aif\n"
	"	ldr r1, =kmm_cortex_a_vectors\n"
	"	mcr p15, 0, r1, c12, c0, 0\n"  /* VBAR */
	"	mrc p15, 0, r1, c1, c0, 0\n"   /* SCTLR */
	"	bic r1, r1, #(1 << 13)\n"      /* V */
	"	bic r1, r1, #(1 << 30)\n"      /* TE */
	"	mcr p15, 0, r1, c1, c0, 0\n"
	"	mrc p15, 0, r1, c1, c0, 1\n"   /* ACTLR */
	"	orr r1, r1, #(1 << 6)\n"       /* SMP: take part in coherency */
	"	mcr p15, 0, r1, c1, c0, 1\n"
	"	isb\n"
	"	ldr r1, [r0]\n"                /* boot->stack_top */
	"	cps #0x1b\n"                   /* UND */
	"	mov sp, r1\n"
	"	cps #0x17\n"                   /* ABT */
	"	mov sp, r1\n"
	"	cps #0x12\n"                   /* IRQ */
	"	mov sp, r1\n"
	"	cps #0x11\n"                   /* FIQ */
	"	mov sp, r1\n"
	"	cps #0x13\n"                   /* SVC */
	"	sub sp, r1, #" KMM_STR(KMM_CPU_EXCEPTION_STACK) "\n"
	"	b kmm_cortex_a_secondary\n"
	".ltorg\n"
	".size kmm_cortex_a_secondary_entry, . - kmm_cortex_a_secondary_entry\n"
	".text\n");

namespace {

constexpr uint32_t kPsciCpuOn = 0x84000003u; /* PSCI 0.2, SMC32/HVC32 */

int psci_cpu_on(uint32_t mpidr, uintptr_t entry, uintptr_t context)
{
	register uint32_t r0 __asm__("r0") = kPsciCpuOn;
	register uint32_t r1 __asm__("r1") = mpidr;
	register uint32_t r2 __asm__("r2") = static_cast<uint32_t>(entry);
	register uint32_t r3 __asm__("r3") = static_cast<uint32_t>(context);
	__asm__ volatile(".arch_extension virt\n\thvc #0" : "+r"(r0) : "r"(r1), "r"(r2), "r"(r3) : "memory");
	return static_cast<int>(r0);
}

} // namespace

extern "C" void kmm_cortex_a_secondary(const kmm_cpu_boot *boot)
{
	boot->entry(boot->cpu);
	kmm_arch_cpu_park();
}

extern "C" int kmm_arch_cpu_start(const kmm_cpu_boot *boot)
{
	if (boot == nullptr || boot->cpu == kmm_arch_cpu_id() || boot->cpu >= 8)
		return -1;
	/* The core reads *boot with its caches off: make it visible first. */
	__asm__ volatile("dsb sy" ::: "memory");
	return psci_cpu_on(boot->cpu, reinterpret_cast<uintptr_t>(&kmm_cortex_a_secondary_entry),
			   reinterpret_cast<uintptr_t>(boot));
}

extern "C" void kmm_arch_cpu_relax(void) { __asm__ volatile("wfe" ::: "memory"); }

extern "C" void kmm_arch_cpu_wake_all(void) { __asm__ volatile("dsb ish\n\tsev" ::: "memory"); }

extern "C" void kmm_arch_cpu_park(void)
{
	__asm__ volatile("cpsid if" ::: "memory");
	for (;;)
		__asm__ volatile("wfi");
}

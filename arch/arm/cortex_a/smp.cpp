/*
 * arch/arm/cortex_a/smp.cpp — secondary cores and the cross-CPU call IPI
 * on Cortex-A (ARMv7-A) under QEMU's virt machine. kmm_arch_cpu_start()
 * asks the PSCI firmware (QEMU itself: without EL2/EL3 the virt machine
 * implements PSCI 0.2 with the HVC conduit and holds every secondary core
 * powered off) to start a core with CPU_ON, whose entry sets the core up
 * the way _start (startup.cpp) sets up core 0 and calls the kmm_cpu_boot's
 * entry.
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
 * The call IPI (kmm_arch_cpu_call, arch/common/cpu_call.cpp): SGI 0 of
 * the virt machine's GICv2 (distributor 0x08000000, CPU interface
 * 0x08010000; no security extensions, so all of it is ours). Each CPU
 * that takes calls enables the distributor, its banked SGI 0 (priority
 * 0x80), its CPU interface (priority mask 0xf0) and IRQs in the CPSR. The
 * IRQ vector (startup.cpp) calls kmm_cortex_a_irq: acknowledge (IAR),
 * serve the mailbox, end (EOIR). No other interrupt is ever enabled, so
 * any other id is a bug and panics.
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
	"	bl kmm_cortex_a_vfp_on\n"      /* startup.cpp; keeps r0 and r1 */
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

/* GICv2 registers (ARM IHI 0048B, 4.1.2 and 4.1.3). */
constexpr uintptr_t kGicd = 0x08000000u;
constexpr uintptr_t kGicc = 0x08010000u;
constexpr uintptr_t kGicdCtlr = kGicd + 0x000u;
constexpr uintptr_t kGicdIsenabler0 = kGicd + 0x100u; /* banked: SGIs, PPIs */
constexpr uintptr_t kGicdIpriorityr0 = kGicd + 0x400u; /* banked: SGIs 0-3 */
constexpr uintptr_t kGicdSgir = kGicd + 0xf00u;
constexpr uintptr_t kGiccCtlr = kGicc + 0x000u;
constexpr uintptr_t kGiccPmr = kGicc + 0x004u;
constexpr uintptr_t kGiccIar = kGicc + 0x00cu;
constexpr uintptr_t kGiccEoir = kGicc + 0x010u;
constexpr uint32_t kSgiCall = 0;
constexpr uint32_t kSpurious = 1023;

inline volatile uint32_t &reg(uintptr_t addr) { return *reinterpret_cast<volatile uint32_t *>(addr); }

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

extern "C" void kmm_arch_ipi_send(unsigned int cpu)
{
	__asm__ volatile("dsb sy" ::: "memory"); /* the mailbox before the SGI */
	reg(kGicdSgir) = (1u << (16 + cpu)) | kSgiCall; /* target list filter 0: the listed CPU */
}

extern "C" void kmm_arch_ipi_enable(void)
{
	reg(kGicdCtlr) = 1u;
	reg(kGicdIpriorityr0) = (reg(kGicdIpriorityr0) & ~(0xffu << (8 * kSgiCall))) | (0x80u << (8 * kSgiCall));
	reg(kGicdIsenabler0) = 1u << kSgiCall;
	reg(kGiccPmr) = 0xf0u;
	reg(kGiccCtlr) = 1u;
	__asm__ volatile("dsb sy\n\tcpsie i" ::: "memory");
}

extern "C" void kmm_arch_ipi_disable(void) { reg(kGiccCtlr) = 0u; }

extern "C" int kmm_arch_irq_flags_masked(unsigned long flags) { return (flags & 0x80u) != 0; }

/* From the IRQ vector (startup.cpp), in IRQ mode with IRQs masked. */
extern "C" void kmm_cortex_a_irq(void)
{
	uint32_t iar = reg(kGiccIar);
	uint32_t id = iar & 0x3ffu;
	if (id == kSpurious)
		return;
	if (id != kSgiCall)
		kmm_arch_panic_unexpected("IRQ", id);
	kmm_cpu_call_serve();
	reg(kGiccEoir) = iar;
}

extern "C" void kmm_arch_cpu_relax(void) { __asm__ volatile("wfe" ::: "memory"); }

extern "C" void kmm_arch_cpu_wake_all(void) { __asm__ volatile("dsb ish\n\tsev" ::: "memory"); }

extern "C" void kmm_arch_cpu_park(void)
{
	__asm__ volatile("cpsid if" ::: "memory");
	kmm_cpu_calls_disable();
	for (;;)
		__asm__ volatile("wfi");
}

/*
 * arch/arm/cortex_a/startup.cpp — how a Cortex-A (ARMv7-A, A32) image
 * starts and how it dies:
 *   _start              from Hyp mode to SVC if entered in Hyp; core 0
 *                       only (QEMU's virt holds the others off
 *                       until PSCI CPU_ON starts them at smp.cpp's entry;
 *                       should one run _start, it parks in wfi): VBAR →
 *                       the vector table, SCTLR V=0 TE=0 (vectors at
 *                       VBAR, taken in ARM state), ACTLR.SMP, the FPU
 *                       on (kmm_cortex_a_vfp_on), a stack per exception
 *                       mode, then kmm_cortex_a_start
 *   kmm_cortex_a_start  copy .data (only if its load address differs),
 *                       zero .bss, run the C++ static constructors, call
 *                       kmm_main, exit with its status
 *   the vector table    IRQ: the cross-CPU call IPI (smp.cpp's
 *                       kmm_cortex_a_irq, on the IRQ stack; r0–r3, r12 and
 *                       lr saved, clrex, back to the interrupted code).
 *                       Every other exception ends in the report: its type,
 *                       r0–r12, the faulting pc, spsr, the interrupted
 *                       mode's sp and lr, DFSR/DFAR or IFSR/IFAR; then exit
 *                       with KMM_EXIT_FAULT. kmm's images issue no SVCs
 *                       (QEMU takes the semihosting SVC before it reaches
 *                       the table), so any of those is a bug.
 *
 * Runs with the MMU and caches off (QEMU starts the image in SVC mode with
 * IRQs masked). Built as an object library so the vectors are linked;
 * symbols from linker/ram.ld. -fno-tree-loop-distribute-patterns: the
 * loops below must not become memcpy/memset calls.
 */
#include <arch/arch.h>
#include <arch/startup.h>
#include <arch/target.h>

extern "C" {
/* linker/ram.ld (the other symbols: arch/startup.h) */
extern char __stack_top[];

/* r0–r12 and the exception lr, as the entry stubs push them. */
struct kmm_cortex_a_frame {
	uint32_t r[13];
	uint32_t lr;
};

__attribute__((noreturn, used)) void kmm_cortex_a_start(void);
__attribute__((noreturn, used)) void kmm_cortex_a_exception(uint32_t type, const kmm_cortex_a_frame *frame);

/* One stack per exception mode (UND, ABT, IRQ, FIQ); SVC uses the main
 * stack from the linker script. Zeroed with .bss while no mode uses them. */
constexpr unsigned kExceptionStackBytes = 2048;
__attribute__((used, aligned(16))) uint8_t kmm_cortex_a_exception_stacks[4][kExceptionStackBytes];
}

/* Exception types: the vector offset / 4. */
#define KMM_EXC_UNDEF 1
#define KMM_EXC_SVC   2
#define KMM_EXC_PABT  3
#define KMM_EXC_DABT  4
#define KMM_EXC_HYP   5
#define KMM_EXC_IRQ   6
#define KMM_EXC_FIQ   7
#define KMM_STR2(x) #x
#define KMM_STR(x) KMM_STR2(x)

/* CPSR modes for cps: 0x1b UND, 0x17 ABT, 0x12 IRQ, 0x11 FIQ, 0x13 SVC. */
__asm__(
	".section .text.start, \"ax\", %progbits\n"
	".arm\n"
	".global _start\n"
	".type _start, %function\n"
	"_start:\n"
	"	cpsid aif\n"
	/* Entered in Hyp (virtualization=on, or a bootloader that leaves
	 * the core there): drop to SVC, masked, through eret. Staying in Hyp
	 * would send every exception to HVBAR (never set: a fault hangs
	 * unreported), ignore the cps below and stop the PMU cycle counter. */
	"	mrs r0, cpsr\n"
	"	and r1, r0, #0x1f\n"
	"	cmp r1, #0x1a\n"              /* Hyp */
	"	bne 1f\n"
	"	bic r0, r0, #0x1f\n"
	"	orr r0, r0, #0xd3\n"          /* SVC, IRQ and FIQ masked */
	"	orr r0, r0, #0x100\n"         /* asynchronous aborts masked */
	"	msr spsr_cxsf, r0\n"
	"	adr r1, 1f\n"
	".arch_extension virt\n"
	"	msr elr_hyp, r1\n"
	"	eret\n"
	"1:	mrc p15, 0, r0, c0, c0, 5\n"   /* MPIDR */
	"	ands r0, r0, #0xff\n"          /* Aff0: core within the cluster */
	"	bne 9f\n"
	"	ldr r0, =kmm_cortex_a_vectors\n"
	"	mcr p15, 0, r0, c12, c0, 0\n"  /* VBAR */
	"	mrc p15, 0, r0, c1, c0, 0\n"   /* SCTLR */
	"	bic r0, r0, #(1 << 13)\n"      /* V: vectors at VBAR, not 0xffff0000 */
	"	bic r0, r0, #(1 << 30)\n"      /* TE: exceptions in ARM state */
	"	mcr p15, 0, r0, c1, c0, 0\n"
	"	mrc p15, 0, r0, c1, c0, 1\n"   /* ACTLR */
	"	orr r0, r0, #(1 << 6)\n"       /* SMP: coherency for LDREX/STREX (smp.cpp) */
	"	mcr p15, 0, r0, c1, c0, 1\n"
	"	isb\n"
	"	bl kmm_cortex_a_vfp_on\n"
	"	ldr r0, =kmm_cortex_a_exception_stacks\n"
	"	cps #0x1b\n"                   /* UND */
	"	add sp, r0, #" KMM_STR(1 * 2048) "\n"
	"	cps #0x17\n"                   /* ABT */
	"	add sp, r0, #" KMM_STR(2 * 2048) "\n"
	"	cps #0x12\n"                   /* IRQ */
	"	add sp, r0, #" KMM_STR(3 * 2048) "\n"
	"	cps #0x11\n"                   /* FIQ */
	"	add sp, r0, #" KMM_STR(4 * 2048) "\n"
	"	cps #0x13\n"                   /* SVC: kmm runs here */
	"	ldr sp, =__stack_top\n"
	"	b kmm_cortex_a_start\n"
	"9:	wfi\n"                        /* secondary cores: parked */
	"	b 9b\n"
	".ltorg\n"
	".size _start, . - _start\n"

	/* The FPU (VFP/Advanced SIMD) on, for this core: CPACR cp10/cp11
	 * full access, then FPEXC.EN. A firmware built -mfloat-abi=hard or
	 * softfp would otherwise take an Undefined Instruction at its first
	 * FP instruction. CPACR's fields read back 0 on a core without one,
	 * so FPEXC is only written where it exists. VMSR FPEXC as its MCR
	 * encoding (the images are built soft-float). Uses r2, r3 and lr:
	 * _start and smp.cpp's secondary entry call it before any stack. */
	".section .text.start, \"ax\", %progbits\n"
	".arm\n"
	".global kmm_cortex_a_vfp_on\n"
	".type kmm_cortex_a_vfp_on, %function\n"
	"kmm_cortex_a_vfp_on:\n"
	"	mrc p15, 0, r2, c1, c0, 2\n"   /* CPACR */
	"	orr r2, r2, #(0xf << 20)\n"    /* cp10, cp11: full access */
	"	mcr p15, 0, r2, c1, c0, 2\n"
	"	isb\n"
	"	mrc p15, 0, r2, c1, c0, 2\n"
	"	tst r2, #(0xf << 20)\n"
	"	beq 1f\n"
	"	mov r3, #(1 << 30)\n"          /* FPEXC.EN */
	"	mcr p10, 7, r3, c8, c0, 0\n"   /* vmsr fpexc, r3 */
	"	isb\n"
	"1:	bx lr\n"
	".size kmm_cortex_a_vfp_on, . - kmm_cortex_a_vfp_on\n"

	/* VBAR needs 32-byte alignment; linker/ram.ld keeps .vectors. */
	".section .vectors, \"ax\", %progbits\n"
	".arm\n"
	".balign 32\n"
	".global kmm_cortex_a_vectors\n"
	"kmm_cortex_a_vectors:\n"
	"	b _start\n"
	"	b kmm_cortex_a_undef_entry\n"
	"	b kmm_cortex_a_svc_entry\n"
	"	b kmm_cortex_a_pabt_entry\n"
	"	b kmm_cortex_a_dabt_entry\n"
	"	b kmm_cortex_a_hyp_entry\n"
	"	b kmm_cortex_a_irq_entry\n"
	"	b kmm_cortex_a_fiq_entry\n"

	/* Each stub saves r0–r12 and lr on its mode's stack and reports. */
	".macro kmm_exception_entry name, type\n"
	".section .text.\\name, \"ax\", %progbits\n"
	".arm\n"
	".type \\name, %function\n"
	"\\name:\n"
	"	stmfd sp!, {r0-r12, lr}\n"
	"	mov r0, #\\type\n"
	"	mov r1, sp\n"
	"	b kmm_cortex_a_exception\n"
	".size \\name, . - \\name\n"
	".endm\n"
	"kmm_exception_entry kmm_cortex_a_undef_entry, " KMM_STR(KMM_EXC_UNDEF) "\n"
	"kmm_exception_entry kmm_cortex_a_svc_entry, " KMM_STR(KMM_EXC_SVC) "\n"
	"kmm_exception_entry kmm_cortex_a_pabt_entry, " KMM_STR(KMM_EXC_PABT) "\n"
	"kmm_exception_entry kmm_cortex_a_dabt_entry, " KMM_STR(KMM_EXC_DABT) "\n"
	"kmm_exception_entry kmm_cortex_a_hyp_entry, " KMM_STR(KMM_EXC_HYP) "\n"
	/* IRQ: lr - 4 is where to go back; the handler is AAPCS code, so
	 * the caller-saved registers are saved (24 bytes keep the 8-byte
	 * alignment of the 16-byte aligned IRQ stack); clrex, as the
	 * handler's exclusives may have hit an interrupted LDREX/STREX pair's
	 * address; ldm with ^ restores CPSR from SPSR. */
	".section .text.kmm_cortex_a_irq_entry, \"ax\", %progbits\n"
	".arm\n"
	".type kmm_cortex_a_irq_entry, %function\n"
	"kmm_cortex_a_irq_entry:\n"
	"	sub lr, lr, #4\n"
	"	stmfd sp!, {r0-r3, r12, lr}\n"
	"	bl kmm_cortex_a_irq\n"
	"	clrex\n"
	"	ldmfd sp!, {r0-r3, r12, pc}^\n"
	".size kmm_cortex_a_irq_entry, . - kmm_cortex_a_irq_entry\n"
	"kmm_exception_entry kmm_cortex_a_fiq_entry, " KMM_STR(KMM_EXC_FIQ) "\n"
	".text\n");

static_assert(sizeof(kmm_cortex_a_exception_stacks[0]) == 2048, "the stack offsets in _start assume 2 KiB");

namespace {

using kmm::startup::put;
using kmm::startup::put_hex;

const char *exception_name(uint32_t type)
{
	switch (type) {
	case KMM_EXC_UNDEF: return "Undefined Instruction";
	case KMM_EXC_SVC: return "Supervisor Call";
	case KMM_EXC_PABT: return "Prefetch Abort";
	case KMM_EXC_DABT: return "Data Abort";
	case KMM_EXC_HYP: return "Hyp Trap (reserved vector)";
	case KMM_EXC_IRQ: return "IRQ";
	case KMM_EXC_FIQ: return "FIQ";
	default: return "unknown exception";
	}
}

/* The instruction that faulted (aborts, undef, svc) or would have run next
 * (IRQ, FIQ), from the exception lr: ARM ARM B1.8.3, table B1-7. */
uint32_t fault_pc(uint32_t type, uint32_t lr, bool thumb)
{
	switch (type) {
	case KMM_EXC_UNDEF:
	case KMM_EXC_SVC: return lr - (thumb ? 2u : 4u);
	case KMM_EXC_DABT: return lr - 8u;
	default: return lr - 4u;
	}
}

/* sp and lr of the mode the exception interrupted (System for User: same
 * registers), read by switching to it with IRQs/FIQs still masked. */
void banked_sp_lr(uint32_t spsr, uint32_t *sp, uint32_t *lr)
{
	uint32_t mode = spsr & 0x1fu;
	if (mode == 0x10u)
		mode = 0x1fu;
	uint32_t cpsr;
	__asm__ volatile("mrs %0, cpsr" : "=r"(cpsr));
	/* r0–r3 explicitly: r8–r12 are banked in FIQ mode. */
	register uint32_t other __asm__("r0") = (cpsr & ~0x1fu) | mode;
	register uint32_t back __asm__("r1") = cpsr;
	register uint32_t out_sp __asm__("r2");
	register uint32_t out_lr __asm__("r3");
	__asm__ volatile("msr cpsr_c, %2\n\t"
			 "mov %0, sp\n\t"
			 "mov %1, lr\n\t"
			 "msr cpsr_c, %3\n\t"
			 : "=&r"(out_sp), "=&r"(out_lr)
			 : "r"(other), "r"(back)
			 : "memory");
	*sp = out_sp;
	*lr = out_lr;
}

uint32_t read_dfsr() { uint32_t v; __asm__ volatile("mrc p15, 0, %0, c5, c0, 0" : "=r"(v)); return v; }
uint32_t read_ifsr() { uint32_t v; __asm__ volatile("mrc p15, 0, %0, c5, c0, 1" : "=r"(v)); return v; }
uint32_t read_dfar() { uint32_t v; __asm__ volatile("mrc p15, 0, %0, c6, c0, 0" : "=r"(v)); return v; }
uint32_t read_ifar() { uint32_t v; __asm__ volatile("mrc p15, 0, %0, c6, c0, 2" : "=r"(v)); return v; }

volatile bool g_in_exception;

} // namespace

extern "C" void kmm_cortex_a_start(void)
{
	kmm::startup::crt_init();
	kmm_arch_exit(kmm_main());
}

extern "C" void kmm_cortex_a_exception(uint32_t type, const kmm_cortex_a_frame *frame)
{
	/* A fault while reporting one: do not recurse, just stop. */
	if (g_in_exception)
		kmm_arch_exit(KMM_EXIT_FAULT);
	g_in_exception = true;

	uint32_t spsr;
	__asm__ volatile("mrs %0, spsr" : "=r"(spsr));
	bool thumb = (spsr & (1u << 5)) != 0;
	uint32_t sp = 0, lr = 0;
	banked_sp_lr(spsr, &sp, &lr);

	put("\n*** ");
	put(exception_name(type));
	put_hex(" (exception", type);
	put(") ***\n");
	static const char *const kNames[13] = {"  r0 ", "  r1 ", "  r2 ", "  r3 ", "\n  r4 ", "  r5 ", "  r6 ",
					       "  r7 ", "\n  r8 ", "  r9 ", "  r10", "  r11", "\n  r12"};
	for (unsigned i = 0; i < 13; ++i)
		put_hex(kNames[i], frame->r[i]);
	put_hex("  sp ", sp);
	put_hex("  lr ", lr);
	put_hex("\n  pc ", fault_pc(type, frame->lr, thumb));
	put_hex("  spsr", spsr);
	put(thumb ? " (Thumb)" : " (ARM)");
	if (type == KMM_EXC_DABT) {
		put_hex("\n  DFSR", read_dfsr());
		put_hex("  fault address (DFAR)", read_dfar());
	} else if (type == KMM_EXC_PABT) {
		put_hex("\n  IFSR", read_ifsr());
		put_hex("  fault address (IFAR)", read_ifar());
	}
	put("\n");
	kmm_arch_exit(KMM_EXIT_FAULT);
}

/*
 * arch/riscv/startup.cpp — how a RISC-V image starts and how it dies, in
 * machine mode (QEMU -bios none: no firmware below us):
 *   _start           at the start of RAM (QEMU's reset code jumps there
 *                    with a0 = mhartid): IRQs off, the FPU on
 *                    (mstatus.FS), gp, hart 0 continues,
 *                    the others wait in wfi for a start request naming
 *                    them (smp.cpp: kmm_arch_cpu_start) and leave on their
 *                    own stack for kmm_riscv_secondary; hart 0:
 *                    sp, mscratch = the trap stack, mtvec = the trap entry
 *   kmm_riscv_start  copy .data (only if its load address differs), zero
 *                    .bss, run the C++ static constructors, call kmm_main,
 *                    exit with its status
 *   the trap entry   swaps to its own stack (mscratch), saves x1–x31;
 *                    an interrupt (the cross-CPU call IPI) goes to
 *                    smp.cpp's kmm_riscv_interrupt, then the registers
 *                    come back and mret returns; any other trap is a bug
 *                    and reports: mcause and its name, mepc, mtval (the
 *                    fault address for access, misaligned and page
 *                    faults), mstatus, every register; then exit
 *                    KMM_EXIT_FAULT.
 *
 * Built as an object library; symbols from linker/ram.ld.
 * -fno-tree-loop-distribute-patterns: the loops below must not become
 * memcpy/memset calls.
 */
#include <arch/arch.h>
#include <arch/startup.h>
#include <arch/target.h>

extern "C" {
/* x0–x31 as the trap entry saves them; x[0] holds nothing, x[2] the sp
 * of the interrupted code. */
struct kmm_riscv_frame {
	unsigned long x[32];
};

__attribute__((noreturn, used)) void kmm_riscv_start(void);
__attribute__((noreturn, used)) void kmm_riscv_trap(const kmm_riscv_frame *frame);

/* The trap handler's own stack, so a trap on a broken sp still reports. */
__attribute__((used, aligned(16))) uint8_t kmm_riscv_trap_stack[4096];
}

#define KMM_STR2(x) #x
#define KMM_STR(x) KMM_STR2(x)

__asm__(
	".section .text.start, \"ax\", @progbits\n"
	".global _start\n"
	".type _start, @function\n"
	"_start:\n"
	"	csrw mie, zero\n"
	"	csrci mstatus, 8\n"           /* MIE */
	/* The FPU on, every hart: mstatus.FS = Initial. A firmware built for
	 * F/D (rv64gc, lp64d) would otherwise take an illegal-instruction
	 * trap at its first FP instruction; FS is WARL (reads 0 on a hart
	 * without F), and soft-float code never touches the FP state. */
	"	li t0, 0x2000\n"
	"	csrs mstatus, t0\n"
	".option push\n"
	".option norelax\n"
	"	la gp, __global_pointer$\n"   /* not relaxed against itself */
	".option pop\n"
	"	csrr t0, mhartid\n"
	"	bnez t0, 9f\n"
	"	la sp, __stack_top\n"
	"	la t0, kmm_riscv_trap_stack + 4096\n"
	"	csrw mscratch, t0\n"
	"	la t0, kmm_riscv_trap_entry\n"
	"	csrw mtvec, t0\n"             /* direct mode: 4-byte aligned */
	"	j kmm_riscv_start\n"
	/* Secondary harts wait for a start request naming them (smp.cpp):
	 * MSIE lets a CLINT software interrupt end wfi (mstatus.MIE stays 0,
	 * so it never traps). kmm_riscv_boot_request is in .data (0 from the
	 * ELF), valid before hart 0 zeroes .bss. */
	"9:	li t1, 8\n"
	"	csrw mie, t1\n"              /* MSIE */
	"	la t1, kmm_riscv_boot_request\n"
	"1:	wfi\n"
	"	fence r, r\n"
	"	ld t2, 0(t1)\n"              /* the kmm_cpu_boot, or 0 */
	"	beqz t2, 1b\n"
	"	lwu t3, 16(t2)\n"            /* boot->cpu */
	"	bne t3, t0, 1b\n"            /* for another hart */
	"	li t4, 0x2000000\n"          /* CLINT msip[hart] = 0 */
	"	slli t5, t0, 2\n"
	"	add t4, t4, t5\n"
	"	sw zero, 0(t4)\n"
	"	csrw mie, zero\n"
	"	ld sp, 0(t2)\n"              /* boot->stack_top: the top 2 KiB traps */
	"	csrw mscratch, sp\n"
	"	addi sp, sp, -" KMM_STR(KMM_CPU_EXCEPTION_STACK) "\n"
	"	la t3, kmm_riscv_trap_entry\n"
	"	csrw mtvec, t3\n"
	"	mv a0, t2\n"
	"	fence rw, rw\n"
	"	sd zero, 0(t1)\n"            /* taken: hart 0 may reuse the request */
	"	j kmm_riscv_secondary\n"
	".size _start, . - _start\n"

	".section .text.kmm_riscv_trap_entry, \"ax\", @progbits\n"
	".balign 4\n"
	".global kmm_riscv_trap_entry\n"
	".type kmm_riscv_trap_entry, @function\n"
	"kmm_riscv_trap_entry:\n"
	"	csrrw sp, mscratch, sp\n"     /* sp = trap stack, mscratch = old sp */
	"	addi sp, sp, -256\n"
	"	sd x1, 8(sp)\n"
	".irp n, 3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
	"	sd x\\n, \\n*8(sp)\n"
	".endr\n"
	"	csrr t0, mscratch\n"
	"	sd t0, 16(sp)\n"
	"	sd zero, 0(sp)\n"
	"	csrr a0, mcause\n"
	"	bltz a0, 1f\n"               /* the top bit: an interrupt */
	"	mv a0, sp\n"
	"	j kmm_riscv_trap\n"
	"1:	call kmm_riscv_interrupt\n"
	"	ld x1, 8(sp)\n"
	".irp n, 3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
	"	ld x\\n, \\n*8(sp)\n"
	".endr\n"
	"	addi sp, sp, 256\n"
	"	csrrw sp, mscratch, sp\n"    /* mscratch = the trap stack again */
	"	mret\n"
	".size kmm_riscv_trap_entry, . - kmm_riscv_trap_entry\n"
	".text\n");

static_assert(__builtin_offsetof(kmm_cpu_boot, cpu) == 16, "_start reads boot->cpu at offset 16");
static_assert(sizeof(kmm_riscv_frame) == 256, "the trap entry saves 32 registers of 8 bytes");

namespace {

using kmm::startup::put;
using kmm::startup::put_hex;

constexpr unsigned long kInterrupt = 1ul << (8 * sizeof(unsigned long) - 1);

const char *cause_name(unsigned long mcause)
{
	if ((mcause & kInterrupt) != 0) {
		switch (mcause & ~kInterrupt) {
		case 3: return "Machine software interrupt";
		case 7: return "Machine timer interrupt";
		case 11: return "Machine external interrupt";
		default: return "Unexpected interrupt";
		}
	}
	switch (mcause) {
	case 0: return "Instruction address misaligned";
	case 1: return "Instruction access fault";
	case 2: return "Illegal instruction";
	case 3: return "Breakpoint";
	case 4: return "Load address misaligned";
	case 5: return "Load access fault";
	case 6: return "Store/AMO address misaligned";
	case 7: return "Store/AMO access fault";
	case 8: return "Environment call from U-mode";
	case 9: return "Environment call from S-mode";
	case 11: return "Environment call from M-mode";
	case 12: return "Instruction page fault";
	case 13: return "Load page fault";
	case 15: return "Store/AMO page fault";
	default: return "Reserved exception";
	}
}

/* mtval is a faulting address for these causes (Privileged spec 3.1.16). */
bool mtval_is_address(unsigned long mcause)
{
	switch (mcause) {
	case 0: case 1: case 4: case 5: case 6: case 7: case 12: case 13: case 15: return true;
	default: return false;
	}
}

volatile bool g_in_trap;

} // namespace

extern "C" void kmm_riscv_start(void)
{
	kmm::startup::crt_init();
	kmm_arch_exit(kmm_main());
}

extern "C" void kmm_riscv_trap(const kmm_riscv_frame *frame)
{
	/* A trap while reporting one: do not recurse, just stop. */
	if (g_in_trap)
		kmm_arch_exit(KMM_EXIT_FAULT);
	g_in_trap = true;

	unsigned long mcause, mepc, mtval, mstatus;
	__asm__ volatile("csrr %0, mcause" : "=r"(mcause));
	__asm__ volatile("csrr %0, mepc" : "=r"(mepc));
	__asm__ volatile("csrr %0, mtval" : "=r"(mtval));
	__asm__ volatile("csrr %0, mstatus" : "=r"(mstatus));

	put("\n*** ");
	put(cause_name(mcause));
	put_hex(" (mcause", mcause);
	put(") ***\n");
	put_hex("  mepc", mepc);
	put_hex("  mtval", mtval);
	put_hex("  mstatus", mstatus);
	static const char *const kNames[32] = {
		"zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2", "a3", "a4", "a5",
		"a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6"};
	for (unsigned i = 1; i < 32; ++i) {
		put((i - 1) % 4 == 0 ? "\n  " : "  ");
		put(kNames[i]);
		put_hex("", frame->x[i]);
	}
	if (mtval_is_address(mcause & ~kInterrupt) && (mcause & kInterrupt) == 0)
		put_hex("\n  fault address (mtval)", mtval);
	put("\n");
	kmm_arch_exit(KMM_EXIT_FAULT);
}

/*
 * arch/riscv/semihosting.cpp — the RISC-V semihosting calls kmm uses
 * (the ARM semihosting operations behind RISC-V's trap sequence): trap and the
 * exit status (SYS_EXIT_EXTENDED / SYS_EXIT); the console loop over
 * SYS_WRITE0 is shared (arch/common/target.cpp).
 *
 * The trap is the uncompressed sequence slli x0,x0,0x1f; ebreak; srai
 * x0,x0,7 within one page (the function is 16-byte aligned). Without
 * QEMU's -semihosting-config enable=on (or a debugger) the ebreak is a
 * plain breakpoint exception: boards override the console and exit hooks
 * (riscv64-virt: NS16550 UART, SiFive test device) and never trap here.
 */
#include <arch/target.h>

/* op in a0, arg in a1 (the calling convention); the result in a0. */
extern "C" __attribute__((naked, aligned(16))) uintptr_t kmm_semihost_call(uintptr_t, uintptr_t)
{
	__asm__ volatile(
		".option push\n\t"
		".option norvc\n\t"
		"slli x0, x0, 0x1f\n\t"
		"ebreak\n\t"
		"srai x0, x0, 7\n\t"
		".option pop\n\t"
		"ret\n\t");
}

extern "C" void kmm_semihost_exit(int status)
{
	/* XLEN-sized fields: reason, subcode (= exit status). RV64 SYS_EXIT
	 * takes the same block, so the second call keeps the status too. */
	volatile uintptr_t block[2] = {KMM_ADP_STOPPED_APPLICATION_EXIT, static_cast<uintptr_t>(static_cast<unsigned>(status))};
	kmm_semihost_call(KMM_SEMIHOST_SYS_EXIT_EXTENDED, reinterpret_cast<uintptr_t>(block));
	kmm_semihost_call(KMM_SEMIHOST_SYS_EXIT, reinterpret_cast<uintptr_t>(block));
}

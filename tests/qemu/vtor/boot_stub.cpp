/*
 * tests/qemu/vtor/boot_stub.cpp — a bootloader in miniature for
 * qemu.mps2-an385.vtor: its own vector table at 0 (where the core looks
 * at reset: VTOR = 0), a reset handler that starts the application whose
 * vector table is at 0x00100000 — MSP and PC from it, as bootloaders do —
 * without touching VTOR, and a fault handler of its own that ends the run
 * with exit status 42 through semihosting. An application that does not
 * point VTOR at its own table therefore has its faults taken here: 42
 * instead of its own report and 3.
 */
#include <stdint.h>

extern "C" {

__attribute__((naked, noreturn)) void boot_stub_reset(void)
{
	__asm__ volatile(
		"ldr r0, =0x00100000\n\t" /* the application's vector table */
		"ldr r1, [r0]\n\t"
		"msr msp, r1\n\t"
		"ldr r1, [r0, #4]\n\t"
		"bx r1\n\t"
		".ltorg\n\t");
}

/* SYS_EXIT_EXTENDED {ADP_Stopped_ApplicationExit, 42} */
__attribute__((naked, noreturn)) void boot_stub_fault(void)
{
	__asm__ volatile(
		"ldr r1, =0x20026\n\t"
		"movs r2, #42\n\t"
		"push {r1, r2}\n\t"
		"mov r1, sp\n\t"
		"movs r0, #0x20\n\t"
		"bkpt #0xab\n\t"
		"b .\n\t"
		".ltorg\n\t");
}

__attribute__((section(".vectors"), used)) void (*const boot_stub_vectors[16])(void) = {
	reinterpret_cast<void (*)(void)>(0x20001000u), /* stack: unused but by the fault handler */
	boot_stub_reset, boot_stub_fault, boot_stub_fault, boot_stub_fault, boot_stub_fault, boot_stub_fault,
	boot_stub_fault, boot_stub_fault, boot_stub_fault, boot_stub_fault, boot_stub_fault, boot_stub_fault,
	boot_stub_fault, boot_stub_fault, boot_stub_fault,
};

} // extern "C"

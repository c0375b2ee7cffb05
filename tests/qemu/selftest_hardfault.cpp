/*
 * tests/qemu/selftest_hardfault.cpp — linked into kmm-<board>-hardfault.elf
 * on Cortex-M boards only: a self-test that raises a real HardFault.
 * Start-up enables MemManage, BusFault and UsageFault, so the fault image
 * (selftest_fault.cpp) reports one of those; this case disables them and
 * then faults the same way (a load from the board's unmapped address, or
 * UDF where QEMU reads such addresses as 0), so the fault escalates to
 * HardFault (HFSR.FORCED).
 *
 * Just before the fault it plants 0xc0de0004…0xc0de000b in r4–r11 and
 * moves the thread onto the process stack with SP ending in 0xfc (4 mod 8:
 * the hardware pads the frame and sets xPSR bit 9). On ARMv8-M it writes
 * s0, so the exception stacks the FP extended frame (EXC_RETURN bit 4
 * clear); it does not turn the FPU on itself, so this also checks that
 * Reset_Handler did (else the write is a NOCP UsageFault, escalated, with
 * the basic frame and no BFAR). CTest qemu.<board>.hardfault checks that
 * the report names the HardFault and shows the planted r4–r11, EXC_RETURN
 * and the pre-fault SP ending in fc, and that the run exits with 3.
 */
#include <kernel/ktest.h>

#ifndef KMM_UNMAPPED_ADDRESS
#define KMM_UNMAPPED_ADDRESS 0x70000000u /* set per board: boards/CMakeLists.txt */
#endif

extern "C" __attribute__((naked, noreturn)) void kmm_hardfault_now(uintptr_t address, uint32_t *stack_top);

namespace {

volatile uint32_t &reg(uintptr_t address) { return *reinterpret_cast<volatile uint32_t *>(address); }

constexpr uintptr_t kScbShcsr = 0xE000ED24u;
constexpr uint32_t kShcsrFaultsEnabled = (1u << 16) | (1u << 17) | (1u << 18); /* Mem, Bus, Usage */

/* The process stack of the faulting code: 256-byte aligned, so its top
 * less 4 ends in 0xfc whatever the link. Room for the extended frame. */
alignas(256) uint32_t g_process_stack[64];

void escalated_fault(struct ktest *t)
{
	reg(kScbShcsr) &= ~kShcsrFaultsEnabled;
	__asm__ volatile("dsb\n\tisb" ::: "memory");
	kmm_hardfault_now(KMM_UNMAPPED_ADDRESS, &g_process_stack[63]);
	KTEST_EXPECT_TRUE(t, false); /* never reached */
}

const ktest_case cases[] = {
	{"escalated_fault", escalated_fault},
};

} // namespace

/* r0 = the address to load from, r1 = the new process stack pointer. Naked:
 * nothing compiled may run between planting r4-r11 and the fault. */
extern "C" void kmm_hardfault_now(uintptr_t, uint32_t *)
{
	__asm__ volatile(
		"msr psp, r1\n\t"
		"movs r1, #2\n\t" /* CONTROL.SPSEL: thread mode on the PSP */
		"msr control, r1\n\t"
		"isb\n\t"
#if defined(__ARM_ARCH_8M_MAIN__)
		/* after the CONTROL write, which would clear CONTROL.FPCA */
		".inst.w 0xee002a10\n\t" /* vmov s0, r2: FP context active */
#endif
		"movw r4, #0x0004\n\tmovt r4, #0xc0de\n\t"
		"movw r5, #0x0005\n\tmovt r5, #0xc0de\n\t"
		"movw r6, #0x0006\n\tmovt r6, #0xc0de\n\t"
		"movw r7, #0x0007\n\tmovt r7, #0xc0de\n\t"
		"movw r8, #0x0008\n\tmovt r8, #0xc0de\n\t"
		"movw r9, #0x0009\n\tmovt r9, #0xc0de\n\t"
		"movw r10, #0x000a\n\tmovt r10, #0xc0de\n\t"
		"movw r11, #0x000b\n\tmovt r11, #0xc0de\n\t"
#if defined(KMM_FAULT_BY_UDF)
		"udf #0\n\t"
#else
		"ldr r0, [r0]\n\t"
#endif
		"b .\n\t");
}

KTEST_SUITE(aa_hardfault, cases);

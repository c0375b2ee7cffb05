/*
 * tests/qemu/selftest_badstack.cpp — linked into kmm-<board>-badstack.elf
 * on Cortex-M boards with an unmapped address: a self-test that faults
 * with the main stack pointer in memory that does not exist, as a stack
 * that ran off the start of RAM does. The hardware cannot stack the
 * exception frame there (CFSR.STKERR), and the fault handler runs on that
 * same MSP: unless it moves to a stack of its own before it saves a
 * register, its first push faults again and the core locks up (QEMU:
 * "Lockup: can't escalate", no report, no exit status). CTest
 * qemu.<board>.badstack requires the report, which must say that no frame
 * was stacked, and exit status 3.
 */
#include <kernel/ktest.h>

#ifndef KMM_UNMAPPED_ADDRESS
#define KMM_UNMAPPED_ADDRESS 0x70000000u /* set per board: boards/CMakeLists.txt */
#endif

extern "C" __attribute__((naked, noreturn)) void kmm_badstack_fault_now(uintptr_t stack);

namespace {

void fault_on_unmapped_stack(struct ktest *t)
{
	kmm_badstack_fault_now(KMM_UNMAPPED_ADDRESS + 0x100u);
	KTEST_EXPECT_TRUE(t, false); /* never reached */
}

const ktest_case cases[] = {
	{"fault_on_unmapped_stack", fault_on_unmapped_stack},
};

} // namespace

/* r0 = the new MSP (thread mode runs on the MSP). Naked: nothing compiled
 * may touch the stack between the switch and the fault. */
extern "C" void kmm_badstack_fault_now(uintptr_t)
{
	__asm__ volatile(
		"msr msp, r0\n\t"
		"isb\n\t"
		"udf #0\n\t"
		"b .\n\t");
}

KTEST_SUITE(aa_badstack, cases);

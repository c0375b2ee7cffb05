/*
 * tests/qemu/selftest_fault.cpp — linked into kmm-<board>-fault.elf only: a
 * self-test that loads from an address with no memory behind it (BusFault
 * on Cortex-M, Data Abort on Cortex-A, load access fault on RISC-V), or, on
 * boards whose QEMU machine reads such addresses as 0 (KMM_FAULT_BY_UDF,
 * ARM only), executes an undefined instruction (UsageFault). The fault
 * handler must print the registers and the fault status (and the faulting
 * address) and end the run with exit status 3 (KMM_EXIT_FAULT); CTest
 * qemu.<board>.fault checks.
 */
#include <kernel/ktest.h>

#ifndef KMM_UNMAPPED_ADDRESS
#define KMM_UNMAPPED_ADDRESS 0x70000000u /* set per board: boards/CMakeLists.txt */
#endif

namespace {

void load_from_nowhere(struct ktest *t)
{
#if defined(KMM_FAULT_BY_UDF)
	__asm__ volatile("udf #0");
#endif
	volatile const unsigned *nowhere = reinterpret_cast<volatile const unsigned *>(KMM_UNMAPPED_ADDRESS);
	KTEST_EXPECT_EQ(t, *nowhere, 0xdeadu); /* never returns */
}

const ktest_case cases[] = {
	{"load_from_nowhere", load_from_nowhere},
};

} // namespace

KTEST_SUITE(aa_fault, cases);

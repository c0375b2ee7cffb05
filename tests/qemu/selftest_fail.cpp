/*
 * tests/qemu/selftest_fail.cpp — linked into kmm-<board>-selftest-fail.elf
 * only: a self-test that always fails, so the boot must end with exit
 * status 1 (KMM_EXIT_TEST_FAILED). CTest qemu.<board>.selftest_fail expects
 * exactly that: proof that a failing self-test fails the QEMU run.
 */
#include <kernel/ktest.h>

namespace {

void must_fail(struct ktest *t)
{
	KTEST_EXPECT_EQ(t, 1 + 1, 3);
}

const ktest_case cases[] = {
	{"must_fail", must_fail},
};

} // namespace

KTEST_SUITE(selftest_canary, cases);

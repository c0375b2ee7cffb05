/*
 * tests/qemu/selftest_panic.cpp — linked into kmm-<board>-panic.elf only: a
 * self-test that calls the kernel's panic() with a formatted message. CTest
 * qemu.<board>.panic expects the message after "Kernel panic - not
 * syncing: " and exit status 2 (KMM_EXIT_PANIC) back on the host.
 */
#include <kernel/ktest.h>
#include <kernel/panic.h>

namespace {

void panics(struct ktest *)
{
	panic("selftest canary: %s %d", "panic with", 42);
}

const ktest_case cases[] = {
	{"panics", panics},
};

} // namespace

KTEST_SUITE(selftest_panic, cases);

/*
 * tests/qemu/selftest_panic.cpp — linked into kmm-<board>-panic.elf only: a
 * self-test that calls the kernel's panic() with a formatted message. CTest
 * qemu.<board>.panic expects the message after "Kernel panic - not
 * syncing: " and exit status 2 (KMM_EXIT_PANIC) back on the host.
 *
 * Built with KMM_PANIC_STATUS (kmm-<board>-panic256.elf) it calls
 * panic_with_status() with that status instead: 256, whose low byte — all
 * a host sees of an exit status — is 0. CTest qemu.<board>.panic256 expects
 * a failure (255) on the host, not a pass.
 */
#include <kernel/ktest.h>
#include <kernel/panic.h>

namespace {

void panics(struct ktest *)
{
#if defined(KMM_PANIC_STATUS)
	panic_with_status(KMM_PANIC_STATUS, "selftest canary: %s %d", "panic with status", KMM_PANIC_STATUS);
#else
	panic("selftest canary: %s %d", "panic with", 42);
#endif
}

const ktest_case cases[] = {
	{"panics", panics},
};

} // namespace

KTEST_SUITE(selftest_panic, cases);

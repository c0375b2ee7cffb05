/*
 * tests/qemu/selftest_fail.cpp — linked into kmm-<board>-selftest-fail.elf
 * only: canaries for every way the boot must notice a failure, so the run
 * ends with exit status 1 (KMM_EXIT_TEST_FAILED). CTest
 * qemu.<board>.selftest_fail expects that status and each canary's line:
 *   - must_fail: a self-test whose KTEST_EXPECT fails;
 *   - leaks_a_page: a self-test that passes its own checks but leaks a page
 *     (the runner's after-case check must fail it);
 *   - undeclared_misuse: a self-test that provokes a misuse report it does
 *     not declare in expected_bugs (the runner must fail it);
 *   - a workload backend that cannot be set up (a workload problem, not a
 *     silent skip);
 *   - a workload scenario that double-frees: a misuse report after the
 *     self-tests, which fails the boot also in release builds (only in
 *     those: with KMM_DEBUG >= 1 the policy after the self-tests panics,
 *     which qemu.B.panic covers);
 *   - stack_reaches_its_end: a self-test that writes the main stack's
 *     lowest word, as a stack that ran to its end does (the report must
 *     say OVERFLOW and count a problem).
 * Proof that the harness turns each of them into a failed QEMU run.
 */
#include <kernel/ktest.h>
#include <kernel/workload.h>
#include <kmm/config.h>

extern "C" uint32_t __stack_bottom[]; /* the linker script */

namespace {

void must_fail(struct ktest *t)
{
	KTEST_EXPECT_EQ(t, 1 + 1, 3);
}

void leaks_a_page(struct ktest *t)
{
	struct page *p = alloc_pages(GFP_KERNEL, 0);
	KTEST_EXPECT_NOT_NULL(t, p); /* and never freed */
}

void undeclared_misuse(struct ktest *t)
{
	char *p = static_cast<char *>(kmalloc(64, GFP_KERNEL));
	KTEST_ASSERT_NOT_NULL(t, p);
	kfree(p + 8); /* into the middle: refused with a report */
	kfree(p);
}

/* Passes its own checks; only the report can tell. (A real overflow
 * would write here and then below the stack: off the start of RAM on
 * Cortex-M, into .bss on the RAM-loaded boards.) */
void stack_reaches_its_end(struct ktest *t)
{
	*reinterpret_cast<volatile uint32_t *>(__stack_bottom) = 0;
	KTEST_EXPECT_EQ(t, *reinterpret_cast<volatile uint32_t *>(__stack_bottom), 0u);
}

const ktest_case cases[] = {
	{"must_fail", must_fail},
	{"leaks_a_page", leaks_a_page},
	{"undeclared_misuse", undeclared_misuse},
	{"stack_reaches_its_end", stack_reaches_its_end},
};

size_t cannot_set_up()
{
	workload_setup_failed("canary-setup", "deliberately (selftest-fail image)");
	return 0;
}

#if KMM_DEBUG == 0
size_t available() { return 1; }

void double_free(uint32_t, struct kmm_workload_stats *st)
{
	void *p = kmalloc(32, GFP_KERNEL);
	kfree(p);
	kfree(p); /* refused and counted */
	st->allocs = 1;
	st->frees = 1;
}
#endif

} // namespace

KTEST_SUITE(selftest_canary, cases);

KMM_WORKLOAD_BACKEND(98_canary_setup, {"canary-setup", cannot_set_up, 0, nullptr, nullptr, nullptr, nullptr});
#if KMM_DEBUG == 0
KMM_WORKLOAD_BACKEND(99_canary_misuse, {"canary-misuse", available, 0, nullptr, nullptr, double_free, nullptr});
#endif

/*
 * kernel/ktest.cpp — the self-test runner (see kernel/ktest.h): walks the
 * suites the linker collected, runs each case, checks mm after it, prints
 * TAP. Runs with the bug policy set to refuse, so a misuse report is a test
 * failure, not a panic.
 */
#include <kernel/ktest.h>

#include <kernel/printk.h>
#include <kmm/kmm.h>

#include "format.h" /* mm/format.h: kmm::vformat */

extern "C" const struct ktest_suite __ktest_suites_start[], __ktest_suites_end[];

namespace {

void report_prefix(struct ktest *t)
{
	printk("#   %s: ", t->name);
}

/* mm's state after a case must be what it was before it. */
void check_mm_after(struct ktest *t, size_t free_before, unsigned long bugs_before)
{
	unsigned long problems = kmm_validate();
	if (problems != 0)
		ktest_fail(t, __FILE__, __LINE__, "kmm_validate() found %lu problems after the case", problems);
	size_t free_after = kmm_free_pages();
	if (free_after != free_before)
		ktest_fail(t, __FILE__, __LINE__, "free pages %zu before, %zu after: %s", free_before, free_after,
			   free_after < free_before ? "the case leaked pages" : "more pages than before");
	unsigned long bugs = kmm_bug_count() - bugs_before;
	if (bugs != t->expected_bugs)
		ktest_fail(t, __FILE__, __LINE__, "%lu misuse reports, expected %lu", bugs, t->expected_bugs);
}

} // namespace

void ktest_fail(struct ktest *t, const char *file, int line, const char *fmt, ...)
{
	++t->failures;
	char buf[KMM_PRINTK_BUFFER - 32];
	va_list ap;
	va_start(ap, fmt);
	kmm::vformat(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	report_prefix(t);
	printk("%s:%d: %s\n", file, line, buf);
}

unsigned int ktest_run_all(void)
{
	size_t total = 0;
	for (const ktest_suite *s = __ktest_suites_start; s < __ktest_suites_end; ++s)
		total += s->nr_cases;

	printk("TAP version 13\n1..%zu\n", total);
	unsigned int number = 0, failed = 0;
	for (const ktest_suite *s = __ktest_suites_start; s < __ktest_suites_end; ++s) {
		printk("# suite %s (%zu cases)\n", s->name, s->nr_cases);
		for (size_t i = 0; i < s->nr_cases; ++i) {
			char name[64];
			kmm::format(name, sizeof(name), "%s.%s", s->name, s->cases[i].name);
			struct ktest t = {name, 0, 0};
			size_t free_before = kmm_free_pages();
			unsigned long bugs_before = kmm_bug_count();
			s->cases[i].run(&t);
			check_mm_after(&t, free_before, bugs_before);
			++number;
			if (t.failures != 0)
				++failed;
			printk("%s %u - %s\n", t.failures == 0 ? "ok" : "not ok", number, name);
		}
	}
	printk("# ktest: %u tests, %u passed, %u failed\n", number, number - failed, failed);
	return failed;
}

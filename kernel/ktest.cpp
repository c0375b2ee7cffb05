/*
 * kernel/ktest.cpp — the self-test runner (see kernel/ktest.h): walks the
 * suites the linker collected, runs each case, checks mm after it
 * (ktest_mm_check_after: both layers' validate(), leaks, misuse reports),
 * prints TAP. Runs with the bug policy set to refuse, so a misuse report is
 * a test failure, not a panic. Also the target side of the shared tests'
 * environment (tests/shared/ktest_env.h), from the board's memory map.
 */
#include <kernel/ktest.h>

#include <kernel/boot.h>
#include <kernel/printk.h>
#include <kmm/kmm.h>

#include "format.h" /* mm/format.h: kmm::vformat */
#include "ktest_env.h" /* tests/shared */

extern "C" const struct ktest_suite __ktest_suites_start[], __ktest_suites_end[];

void ktest_fail(struct ktest *t, const char *file, int line, const char *fmt, ...)
{
	++t->failures;
	char buf[KMM_PRINTK_BUFFER - 32];
	va_list ap;
	va_start(ap, fmt);
	kmm::vformat(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	printk("#   %s: ", t->name);
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
			ktest_mm_snapshot before = ktest_mm_before();
			s->cases[i].run(&t);
			ktest_mm_check_after(&t, before);
			++number;
			if (t.failures != 0)
				++failed;
			printk("%s %u - %s\n", t.failures == 0 ? "ok" : "not ok", number, name);
		}
	}
	printk("# ktest: %u tests, %u passed, %u failed\n", number, number - failed, failed);
	return failed;
}

size_t ktest_env_zone_bytes(unsigned int zone)
{
	return zone < 2 ? boot_info.zone_bytes[zone] : 0;
}

bool ktest_env_in_zone(uintptr_t addr, unsigned int zone)
{
	for (size_t i = 0; i < boot_info.nr_regions; ++i) {
		const kmm_board_region &r = boot_info.regions[i];
		if (r.zone == zone && addr >= r.start && addr - r.start < r.size)
			return true;
	}
	return false;
}

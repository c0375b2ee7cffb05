/*
 * kernel/tests/ktest_self_test.cpp — checks of the self-test runner's own
 * comparisons (kernel/ktest.h): a negative signed value orders below any
 * unsigned one, as the integers do, and a failed comparison counts a
 * failure. Each check runs on a probe `struct ktest`, so the failure it
 * provokes on purpose is the probe's, not this case's.
 */
#include <kernel/ktest.h>

namespace {

/* Runs one comparison on a fresh probe; true if it counted no failure. */
template <typename F> bool probe_passes(F compare)
{
	struct ktest probe = {"ktest.probe (failures here are provoked on purpose)", 0, 0};
	compare(&probe);
	return probe.failures == 0;
}

void comparisons_order_as_integers(struct ktest *t)
{
	const int minus_one = -1;
	const unsigned zero = 0;
	const long long most_negative = -0x7fffffffffffffffll - 1;
	const unsigned long long most_positive = ~0ull;

	KTEST_EXPECT_TRUE(t, probe_passes([&](struct ktest *p) { KTEST_EXPECT_LT(p, minus_one, zero); }));
	KTEST_EXPECT_TRUE(t, probe_passes([&](struct ktest *p) { KTEST_EXPECT_LE(p, minus_one, zero); }));
	KTEST_EXPECT_TRUE(t, probe_passes([&](struct ktest *p) { KTEST_EXPECT_GT(p, zero, minus_one); }));
	KTEST_EXPECT_TRUE(t, probe_passes([&](struct ktest *p) { KTEST_EXPECT_NE(p, minus_one, most_positive); }));
	KTEST_EXPECT_TRUE(t, probe_passes([&](struct ktest *p) { KTEST_EXPECT_LT(p, most_negative, minus_one); }));
	KTEST_EXPECT_TRUE(t, probe_passes([&](struct ktest *p) { KTEST_EXPECT_GT(p, most_positive, zero); }));

	/* the same comparisons the wrong way round must fail */
	KTEST_EXPECT_FALSE(t, probe_passes([&](struct ktest *p) { KTEST_EXPECT_GT(p, minus_one, zero); }));
	KTEST_EXPECT_FALSE(t, probe_passes([&](struct ktest *p) { KTEST_EXPECT_GE(p, minus_one, zero); }));
	KTEST_EXPECT_FALSE(t, probe_passes([&](struct ktest *p) { KTEST_EXPECT_EQ(p, minus_one, most_positive); }));
	KTEST_EXPECT_FALSE(t, probe_passes([&](struct ktest *p) { KTEST_EXPECT_LT(p, zero, minus_one); }));
}

void pointers_and_null(struct ktest *t)
{
	int object = 0;
	int *none = nullptr;
	KTEST_EXPECT_TRUE(t, probe_passes([&](struct ktest *p) { KTEST_EXPECT_NOT_NULL(p, &object); }));
	KTEST_EXPECT_TRUE(t, probe_passes([&](struct ktest *p) { KTEST_EXPECT_NULL(p, none); }));
	KTEST_EXPECT_FALSE(t, probe_passes([&](struct ktest *p) { KTEST_EXPECT_NULL(p, &object); }));
	KTEST_EXPECT_FALSE(t, probe_passes([&](struct ktest *p) { KTEST_EXPECT_NOT_NULL(p, none); }));
}

const ktest_case cases[] = {
	{"comparisons_order_as_integers", comparisons_order_as_integers},
	{"pointers_and_null", pointers_and_null},
};

} // namespace

KTEST_SUITE(ktest, cases);

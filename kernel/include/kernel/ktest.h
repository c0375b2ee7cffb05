/*
 * kernel/ktest.h — a KUnit-like self-test runner for the target. Suites of
 * test cases register themselves in a linker section (KTEST_SUITE), so a
 * new test file needs no edit anywhere else; the runner prints TAP:
 *
 *   TAP version 13
 *   1..N
 *   # suite page_alloc
 *   ok 1 - page_alloc.alloc_free_order0
 *   not ok 2 - page_alloc.exhaust
 *   #   tests/shared/page_alloc_tests.cpp:80: expected a == b: 3 vs 4 (0x3 vs 0x4)
 *   # ktest: 12 tests, 11 passed, 1 failed
 *
 * After every case the runner checks mm as a whole (ktest_mm_check_after):
 * kmm_validate() and kmm_slab_validate() find nothing, the free page count
 * is back where it was once every cache is shrunk (no leaked pages or
 * objects), and the number of misuse reports equals what the case declared
 * it provokes (t->expected_bugs). Any difference fails the case. Reports
 * from mm during the run are printed as TAP comments ("# kmm: BUG …").
 *
 * The same test files run on the host: tests/shared/ktest_shared.h defines
 * KTEST_SUITE to register each case with GoogleTest before including this
 * header, and tests/host/test_shared.cpp implements ktest_fail() with
 * ADD_FAILURE_AT and runs the same before/after checks. So this header
 * must stay freestanding and free of kernel-only calls.
 *
 * Expectations (KTEST_EXPECT_*) record a failure and go on; assertions
 * (KTEST_ASSERT_*) record it and return from the case.
 */
#ifndef KMM_KERNEL_KTEST_H
#define KMM_KERNEL_KTEST_H

#include <stddef.h>
#include <stdint.h>

#include <kmm/kmm.h>

struct ktest {
	const char *name;             /* "suite.case" */
	unsigned int failures;
	unsigned long expected_bugs;  /* misuse reports the case provokes on purpose */
};

struct ktest_case {
	const char *name;
	void (*run)(struct ktest *t);
};

struct ktest_suite {
	const char *name;
	const struct ktest_case *cases;
	size_t nr_cases;
};

/* Registers `cases` (an array of ktest_case) as suite `id`. Suites run in
 * the order of their ids. (Host builds define their own KTEST_SUITE first:
 * tests/shared/ktest_shared.h.) */
#ifndef KTEST_SUITE
#define KTEST_SUITE(id, cases)                                                                  \
	__attribute__((used, section(".ktest_suites." #id))) const struct ktest_suite           \
		ktest_suite_##id = {#id, cases, sizeof(cases) / sizeof((cases)[0])}
#endif

/* Runs every registered suite; returns the number of failed cases. */
unsigned int ktest_run_all(void);

void ktest_fail(struct ktest *t, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Values of any integer or pointer type, for comparison and printing: the
 * bits as unsigned long long, and whether the value is negative, so that a
 * comparison of a negative signed value with anything orders as the
 * integers do (-1 < 0u), which comparing the bits alone does not. */
struct ktest_val {
	unsigned long long bits;
	bool negative;
};
template <typename T> struct ktest_is_pointer {
	static constexpr bool value = false;
};
template <typename T> struct ktest_is_pointer<T *> {
	static constexpr bool value = true;
};
template <typename T> inline ktest_val ktest_value(T v)
{
	if constexpr (ktest_is_pointer<T>::value) {
		return {static_cast<unsigned long long>(reinterpret_cast<uintptr_t>(v)), false};
	} else {
		/* T(-1) < T(0) only for signed T (bool and unsigned types: false) */
		bool negative = false;
		if constexpr (static_cast<T>(-1) < static_cast<T>(0))
			negative = v < static_cast<T>(0);
		return {static_cast<unsigned long long>(v), negative};
	}
}
inline ktest_val ktest_value(decltype(nullptr)) { return {0, false}; }

/* -1, 0 or 1 as a is below, equal to or above b, as integers. */
inline int ktest_order(ktest_val a, ktest_val b)
{
	if (a.negative != b.negative)
		return a.negative ? -1 : 1;
	/* same sign: two's complement bits order as the values do */
	return a.bits < b.bits ? -1 : (a.bits > b.bits ? 1 : 0);
}

/* |v|, for printing with its sign apart. */
inline unsigned long long ktest_magnitude(ktest_val v) { return v.negative ? 0ull - v.bits : v.bits; }

/* The failure line of KTEST_EXPECT_CMP: both values in decimal (signed
 * where negative) and in hex. Inline over ktest_fail, which the target
 * (kernel/ktest.cpp) and the host (tests/host/test_shared.cpp) define. */
inline void ktest_fail_cmp(struct ktest *t, const char *file, int line, const char *a, const char *op,
			   const char *b, ktest_val va, ktest_val vb)
{
	ktest_fail(t, file, line, "expected %s %s %s: %s%llu vs %s%llu (%#llx vs %#llx)", a, op, b,
		   va.negative ? "-" : "", ktest_magnitude(va), vb.negative ? "-" : "", ktest_magnitude(vb), va.bits,
		   vb.bits);
}

#define KTEST_EXPECT_TRUE(t, cond)                                                                  \
	((cond) ? true : (ktest_fail(t, __FILE__, __LINE__, "expected %s", #cond), false))

#define KTEST_EXPECT_FALSE(t, cond)                                                                 \
	(!(cond) ? true : (ktest_fail(t, __FILE__, __LINE__, "expected !(%s)", #cond), false))

#define KTEST_EXPECT_CMP(t, a, op, b)                                                               \
	__extension__({                                                                             \
		ktest_val ktest_a_ = ktest_value(a), ktest_b_ = ktest_value(b);                     \
		bool ktest_ok_ = ktest_order(ktest_a_, ktest_b_) op 0;                              \
		if (!ktest_ok_)                                                                     \
			ktest_fail_cmp(t, __FILE__, __LINE__, #a, #op, #b, ktest_a_, ktest_b_);     \
		ktest_ok_;                                                                          \
	})

#define KTEST_EXPECT_EQ(t, a, b) KTEST_EXPECT_CMP(t, a, ==, b)
#define KTEST_EXPECT_NE(t, a, b) KTEST_EXPECT_CMP(t, a, !=, b)
#define KTEST_EXPECT_LT(t, a, b) KTEST_EXPECT_CMP(t, a, <, b)
#define KTEST_EXPECT_LE(t, a, b) KTEST_EXPECT_CMP(t, a, <=, b)
#define KTEST_EXPECT_GT(t, a, b) KTEST_EXPECT_CMP(t, a, >, b)
#define KTEST_EXPECT_GE(t, a, b) KTEST_EXPECT_CMP(t, a, >=, b)
#define KTEST_EXPECT_NULL(t, p) KTEST_EXPECT_CMP(t, p, ==, nullptr)
#define KTEST_EXPECT_NOT_NULL(t, p) KTEST_EXPECT_CMP(t, p, !=, nullptr)

#define KTEST_ASSERT_TRUE(t, cond)                                                                  \
	do {                                                                                        \
		if (!KTEST_EXPECT_TRUE(t, cond))                                                    \
			return;                                                                     \
	} while (0)
#define KTEST_ASSERT_EQ(t, a, b)                                                                    \
	do {                                                                                        \
		if (!KTEST_EXPECT_EQ(t, a, b))                                                      \
			return;                                                                     \
	} while (0)
#define KTEST_ASSERT_NOT_NULL(t, p)                                                                 \
	do {                                                                                        \
		if (!KTEST_EXPECT_NOT_NULL(t, p))                                                   \
			return;                                                                     \
	} while (0)
#define KTEST_ASSERT_GE(t, a, b)                                                                    \
	do {                                                                                        \
		if (!KTEST_EXPECT_GE(t, a, b))                                                      \
			return;                                                                     \
	} while (0)

/* ---- the checks every runner makes around a case (target and host) ---- */

/* mm's state before a case: every cache shrunk, so empty slabs a case
 * leaves behind are not counted as leaks. */
struct ktest_mm_snapshot {
	size_t free_pages;
	unsigned long bugs;
};

inline struct ktest_mm_snapshot ktest_mm_before(void)
{
	kmm_slab_shrink_all();
	return {kmm_free_pages(), kmm_bug_count()};
}

/* Fails `t` if either layer's validate() finds a problem, if pages (after
 * shrinking every cache) leaked or appeared, or if the number of misuse
 * reports differs from t->expected_bugs. */
inline void ktest_mm_check_after(struct ktest *t, const struct ktest_mm_snapshot &before)
{
	unsigned long page_problems = kmm_validate();
	if (page_problems != 0)
		ktest_fail(t, __FILE__, __LINE__, "kmm_validate() found %lu problems after the case", page_problems);
	unsigned long slab_problems = kmm_slab_validate();
	if (slab_problems != 0)
		ktest_fail(t, __FILE__, __LINE__, "kmm_slab_validate() found %lu problems after the case",
			   slab_problems);
	kmm_slab_shrink_all();
	size_t free_after = kmm_free_pages();
	if (free_after != before.free_pages)
		ktest_fail(t, __FILE__, __LINE__, "free pages %zu before, %zu after: %s", before.free_pages, free_after,
			   free_after < before.free_pages ? "the case leaked pages or objects" : "more pages than before");
	unsigned long bugs = kmm_bug_count() - before.bugs;
	if (bugs != t->expected_bugs)
		ktest_fail(t, __FILE__, __LINE__, "%lu misuse reports, expected %lu", bugs, t->expected_bugs);
}

#endif /* KMM_KERNEL_KTEST_H */

/*
 * tests/shared/ktest_shared.h — the one include of every shared test file
 * (tests/shared/<unit>_tests.cpp): the KTEST assertion macros of kernel/ktest.h,
 * the environment queries of ktest_env.h, and the registration that fits
 * the build:
 *
 *   target (kernel images)  KTEST_SUITE puts the suite in the linker
 *                           section the kernel's runner walks (TAP output);
 *   host (KMM_HOST, GTest)  KTEST_SUITE registers every case as a GoogleTest
 *                           test "ktest_<suite>.<case>" at static-init time
 *                           (tests/host/test_shared.cpp runs it over a fresh
 *                           kmm with the same before/after checks).
 *
 * A shared test uses only kmm's public C API, freestanding C++ (no libc
 * calls: __builtin_memset and friends are fine) and these macros.
 */
#ifndef KMM_TESTS_SHARED_KTEST_SHARED_H
#define KMM_TESTS_SHARED_KTEST_SHARED_H

#include <stddef.h>

#if defined(KMM_HOST)
struct ktest_case;
/* Registers each case of a suite with GoogleTest; returns true. */
bool ktest_host_register(const char *suite, const struct ktest_case *cases, size_t nr_cases);
#define KTEST_SUITE(id, cases)                                                                   \
	[[maybe_unused]] static const bool ktest_suite_##id##_registered =                       \
		ktest_host_register(#id, cases, sizeof(cases) / sizeof((cases)[0]))
#endif

#include <kernel/ktest.h>
#include <kmm/kmm.h>

#include "ktest_env.h"

namespace ktest_shared {

constexpr gfp_t kQuiet = __GFP_NOWARN | __GFP_NORETRY;

/* Takes every free order-0 page (of the zones gfp may use), chained through
 * the pages themselves; returns the chain and the count. */
inline void *take_all_pages(size_t &count, gfp_t gfp = GFP_KERNEL)
{
	void *chain = nullptr;
	count = 0;
	for (;;) {
		struct page *p = alloc_pages(gfp | kQuiet, 0);
		if (p == nullptr)
			return chain;
		void **slot = static_cast<void **>(page_address(p));
		*slot = chain;
		chain = slot;
		++count;
	}
}

inline void give_back(void *chain)
{
	while (chain != nullptr) {
		void *next = *static_cast<void **>(chain);
		free_page(reinterpret_cast<unsigned long>(chain));
		chain = next;
	}
}

inline uintptr_t addr_of(const void *p) { return reinterpret_cast<uintptr_t>(p); }

/* Whether all n bytes at p are `value`. */
inline bool filled(const void *p, size_t n, unsigned char value)
{
	const unsigned char *b = static_cast<const unsigned char *>(p);
	for (size_t i = 0; i < n; ++i)
		if (b[i] != value)
			return false;
	return true;
}

} // namespace ktest_shared

#endif /* KMM_TESTS_SHARED_KTEST_SHARED_H */

/*
 * mm/fault_inject.h — test-only fault injection for the page allocator
 * (KMM_FAULT_INJECT=1, config.h): makes chosen page requests fail as if
 * no memory were left, so host tests can walk every allocating path with
 * "fail the 1st, 2nd, 3rd … page request" and check what each caller does
 * with the failure.
 *
 * A request is one call of PageAllocator::alloc() (every page kmm hands
 * out goes through it: alloc_pages and its address forms, alloc_pages_exact,
 * new slabs, large kmalloc). Requests are numbered from 1 after arm(); the
 * ones numbered first … first + count - 1 fail (count kForever: every one
 * from first on), or every p-th of them (stress tests on several threads).
 * A failing request takes the path of real exhaustion
 * (PageAllocator::alloc_slow): the per-CPU lists drain, the slab layer's
 * reclaim hook and the OOM hook run, each retry finds nothing, and the
 * call fails with the usual warning unless __GFP_NOWARN.
 *
 * With KMM_FAULT_INJECT=0 the injector is an empty type whose check is a
 * constant false: the allocator's code is the same as without this file.
 * Counters are relaxed atomics: tests arm it from one thread, while the
 * allocator may be called from any.
 */
#ifndef KMM_MM_FAULT_INJECT_H
#define KMM_MM_FAULT_INJECT_H

#include <stddef.h>
#include <stdint.h>

#include <kmm/config.h>

namespace kmm {

inline constexpr bool kFaultInject = KMM_FAULT_INJECT != 0;

template <bool Enabled> class FaultInjector {
public:
	/* What a disabled injector answers: never fail. */
	static constexpr bool should_fail() { return false; }
};

template <> class FaultInjector<true> {
public:
	static constexpr unsigned long kForever = ~0ul;

	/* Requests first … first + count - 1 (numbered from 1 from now on)
	 * fail, or with period p > 1 every p-th of them (first, first + p,
	 * …); first 0: none does (the count of requests still runs). */
	void arm(unsigned long first, unsigned long count = 1, unsigned long period = 1)
	{
		__atomic_store_n(&first_, first, __ATOMIC_RELAXED);
		__atomic_store_n(&count_, count, __ATOMIC_RELAXED);
		__atomic_store_n(&period_, period > 0 ? period : 1ul, __ATOMIC_RELAXED);
		__atomic_store_n(&seen_, 0ul, __ATOMIC_RELAXED);
		__atomic_store_n(&failed_, 0ul, __ATOMIC_RELAXED);
	}
	void disarm() { arm(0, 0); }
	/* No later request fails; seen() and failed() go on counting. */
	void stop() { __atomic_store_n(&first_, 0ul, __ATOMIC_RELAXED); }
	/* Requests seen since arm(), and how many of them were failed. */
	unsigned long seen() const { return __atomic_load_n(&seen_, __ATOMIC_RELAXED); }
	unsigned long failed() const { return __atomic_load_n(&failed_, __ATOMIC_RELAXED); }

	/* Counts one request; true if it is to fail. */
	bool should_fail()
	{
		unsigned long n = __atomic_add_fetch(&seen_, 1ul, __ATOMIC_RELAXED);
		unsigned long first = __atomic_load_n(&first_, __ATOMIC_RELAXED);
		if (first == 0 || n < first || n - first >= __atomic_load_n(&count_, __ATOMIC_RELAXED) ||
		    (n - first) % __atomic_load_n(&period_, __ATOMIC_RELAXED) != 0)
			return false;
		__atomic_add_fetch(&failed_, 1ul, __ATOMIC_RELAXED);
		return true;
	}

private:
	unsigned long first_ = 0, count_ = 0, period_ = 1, seen_ = 0, failed_ = 0;
};

} // namespace kmm

#endif

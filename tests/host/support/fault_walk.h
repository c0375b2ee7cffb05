/*
 * tests/host/support/fault_walk.h — the allocation-failure (OOM) walk over
 * the global kmm built with KMM_FAULT_INJECT=1 (mm/fault_inject.h).
 *
 * walk(body) boots kmm afresh for N = 1, 2, 3 …, makes page request N fail
 * (kOnce), or N and every later one (kFromOn), runs body, and after each
 * run checks what no failure may leave behind: no misuse report,
 * kmm_validate() and kmm_slab_validate() 0, and once everything is freed
 * and kmm_slab_shrink_all() and kmm_drain_pages() ran, exactly the free
 * pages of the boot (no page leaked). It stops at the first N the body
 * completes without reaching: every page request of the workload has then
 * failed once. With `debug`, every cache is a slub_debug FZPU cache.
 *
 * Inside body, checked(gfp, fn) runs one allocating call and checks its
 * outcome against the documentation: NULL only when a page request was
 * failed meanwhile, the "page allocation failure" / "out of memory"
 * warning only for a failed call without __GFP_NOWARN, never on success,
 * never a BUG line; the OOM hook (a counting one) run once for a failed
 * call that may retry (not __GFP_NORETRY), at most once for any call.
 */
#ifndef KMM_TESTS_SUPPORT_FAULT_WALK_H
#define KMM_TESTS_SUPPORT_FAULT_WALK_H

#include <gtest/gtest.h>

#include <string>

#include <kmm/kmm.h>

#include "global.h"
#include "support/arena.h"

namespace kmm_test {

static_assert(kmm::kFaultInject, "fault_walk.h needs mm built with KMM_FAULT_INJECT=1");

enum class FaultMode { kOnce, kFromOn };

struct WalkParam {
	bool debug;
	FaultMode mode;
};

inline std::string walk_param_name(const ::testing::TestParamInfo<WalkParam> &info)
{
	return std::string(info.param.debug ? "FZPU_" : "plain_") +
	       (info.param.mode == FaultMode::kOnce ? "once" : "from_on");
}

class FaultWalk : public ::testing::TestWithParam<WalkParam> {
protected:
	/* 2048 + 256 pages (8 + 1 MiB of 4 KiB pages): room for every
	 * workload, few enough pages that a run (boot, validate) is quick */
	static constexpr size_t kNormalBytes = size_t{PAGE_SIZE} * 2048;
	static constexpr size_t kDmaBytes = size_t{PAGE_SIZE} * 256;
	static constexpr unsigned long kMaxSteps = 5000;

	Arena normal{kNormalBytes, size_t{PAGE_SIZE} << KMM_MAX_ORDER};
	Arena dma{kDmaBytes, PAGE_SIZE};
	ReportCapture cap;
	unsigned long hook_calls = 0; /* the OOM hook every walk installs */
	static void count_hook(void *ctx, gfp_t, unsigned)
	{
		__atomic_fetch_add(static_cast<unsigned long *>(ctx), 1ul, __ATOMIC_RELAXED); /* any thread */
	}
	size_t baseline = 0;   /* free pages once booted, slab layer up */
	unsigned long n = 0;   /* the request that fails in this run */
	bool debug() const { return GetParam().debug; }
	bool once() const { return GetParam().mode == FaultMode::kOnce; }
	static kmm::FaultInjector<true> &fault() { return kmm::global_pages().fault(); }

	/* kmm up over both arenas; the slab layer too unless `slab` is false. */
	void boot(bool slab = true)
	{
		kmm_set_report_hook(&ReportCapture::hook, &cap);
		kmm_set_bug_policy(KMM_BUG_REFUSE);
		ASSERT_EQ(kmm_add_region(normal.base(), normal.size(), KMM_ZONE_NORMAL), 0);
		ASSERT_EQ(kmm_add_region(dma.base(), dma.size(), KMM_ZONE_DMA), 0);
		ASSERT_EQ(kmm_init(), 0);
		if (debug()) {
			ASSERT_EQ(kmm_slub_debug("FZPU"), 0);
		}
		hook_calls = 0;
		kmm_set_oom_hook(&count_hook, &hook_calls);
		if (slab) {
			ASSERT_GT(kmalloc_max_cache_size(), 0u); /* starts the slab layer */
		}
		settle();
		baseline = kmm_free_pages();
		cap.clear();
	}
	static void settle()
	{
		kmm_slab_shrink_all();
		kmm_drain_pages();
	}
	void shutdown()
	{
		fault().disarm();
		kmm_shutdown();
		kmm_set_report_hook(nullptr, nullptr);
		kmm_set_oom_hook(nullptr, nullptr);
	}

	/* What every run must end with; `what` names the run in failures. */
	void check_clean(const std::string &what)
	{
		EXPECT_EQ(cap.bug_lines(), 0u) << what;
		EXPECT_EQ(kmm_bug_count(), 0u) << what;
		EXPECT_EQ(kmm_validate(), 0u) << what;
		EXPECT_EQ(kmm_slab_validate(), 0u) << what;
		settle();
		EXPECT_EQ(kmm_free_pages(), baseline) << what << ": pages leaked";
		EXPECT_EQ(kmm_validate(), 0u) << what;
		if (::testing::Test::HasFailure())
			for (const auto &l : cap.lines)
				ADD_FAILURE() << what << " reported: " << l;
	}

	/* Runs body once per N; returns the number of page requests the
	 * workload makes when none fails (at least one, or the walk tested
	 * nothing). */
	template <typename Body> unsigned long walk(Body body, bool slab = true)
	{
		unsigned long requests = 0;
		for (n = 1; n <= kMaxSteps; ++n) {
			boot(slab);
			if (::testing::Test::HasFatalFailure())
				return 0;
			fault().arm(n, once() ? 1 : kmm::FaultInjector<true>::kForever);
			body();
			const unsigned long failed = fault().failed();
			const unsigned long seen = fault().seen();
			fault().disarm();
			check_clean("fail " + std::string(once() ? "request " : "requests from ") + std::to_string(n));
			shutdown();
			if (::testing::Test::HasFailure())
				return 0;
			if (failed == 0) {
				requests = seen;
				break;
			}
		}
		EXPECT_LE(n, kMaxSteps) << "the workload never completed";
		EXPECT_GT(requests, 0u) << "the workload made no page request";
		return requests;
	}

	/* One allocating call: fn() with gfp its flags. Checks the outcome
	 * (see the top) and returns fn's result. */
	template <typename Fn> auto checked(gfp_t gfp, Fn fn, const char *what) -> decltype(fn())
	{
		const unsigned long failed_before = fault().failed();
		const size_t lines_before = cap.lines.size();
		const unsigned long hooks_before = hook_calls;
		auto result = fn();
		const bool injected = fault().failed() != failed_before;
		/* the OOM hook: at most once per call (report.h), and once for
		 * a call that fails and may retry */
		EXPECT_LE(hook_calls - hooks_before, 1u) << what << " at N=" << n;
		size_t warnings = 0;
		for (size_t i = lines_before; i < cap.lines.size(); ++i) {
			const std::string &l = cap.lines[i];
			EXPECT_NE(l.rfind("BUG ", 0), 0u) << what << " at N=" << n << ": " << l;
			if (l.find("allocation failure") != std::string::npos || l.find("out of memory") != std::string::npos)
				++warnings;
		}
		if (result == decltype(result){}) {
			EXPECT_TRUE(injected) << what << " failed at N=" << n << " with no page request failed";
			if ((gfp & __GFP_NORETRY) == 0) {
				EXPECT_EQ(hook_calls - hooks_before, 1u) << what << " failed at N=" << n << ": OOM hook calls";
			} else {
				EXPECT_EQ(hook_calls, hooks_before) << what << " (NORETRY) ran the OOM hook at N=" << n;
			}
			if ((gfp & __GFP_NOWARN) != 0) {
				EXPECT_EQ(cap.lines.size(), lines_before) << what << " (NOWARN) reported at N=" << n;
			} else {
				EXPECT_GT(warnings, 0u) << what << " failed at N=" << n << " without a warning";
			}
		} else {
			EXPECT_EQ(warnings, 0u) << what << " succeeded at N=" << n << " but warned";
		}
		return result;
	}
};

} // namespace kmm_test

#endif

/*
 * mm/reporter.h — where misuse reports go. A Reporter formats Linux-style
 * lines ("BUG <who>: <what>"), hands them to the user's hook (or the arch
 * console when none is set), counts them and applies the bug policy.
 *
 * Every core instance (page allocator, slab allocator) points at one; the
 * facade owns the global one, tests own theirs. Hooks run with kmm's locks
 * held: a hook must not call back into kmm.
 */
#ifndef KMM_MM_REPORTER_H
#define KMM_MM_REPORTER_H

#include <kmm/config.h>
#include <kmm/report.h>

namespace kmm {

class Reporter {
public:
	void set_hook(kmm_report_fn fn, void *ctx)
	{
		hook_ = fn;
		ctx_ = ctx;
	}
	void set_policy(kmm_bug_policy policy) { policy_ = policy; }
	kmm_bug_policy policy() const { return policy_; }

	/* "BUG <who>: <what>": counts one bug; panics under KMM_BUG_PANIC,
	 * returns under KMM_BUG_REFUSE (the caller then refuses the call). */
	void bug(const char *who, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
	/* A further line belonging to the last bug (details, tracking). */
	void detail(const char *fmt, ...) __attribute__((format(printf, 2, 3)));
	/* An informational line (e.g. allocation failure): counted apart. */
	void warn(const char *fmt, ...) __attribute__((format(printf, 2, 3)));
	/* Applies the policy after bug() and its detail() lines. */
	void finish_bug();

	void reset_counts()
	{
		bugs_ = 0;
		warnings_ = 0;
	}
	unsigned long bugs() const { return __atomic_load_n(&bugs_, __ATOMIC_RELAXED); }
	unsigned long warnings() const { return __atomic_load_n(&warnings_, __ATOMIC_RELAXED); }

private:
	void emit(const char *line);

	kmm_report_fn hook_ = nullptr;
	void *ctx_ = nullptr;
	kmm_bug_policy policy_ = KMM_DEBUG >= 1 ? KMM_BUG_PANIC : KMM_BUG_REFUSE;
	unsigned long bugs_ = 0;
	unsigned long warnings_ = 0;
};

} // namespace kmm

#endif

/*
 * kmm/report.h — how kmm tells its user about errors: return codes, the report
 * hook for misuse ("BUG …" lines), the bug policy, the OOM hook, and the output
 * sink used by every dump. Nothing here allocates.
 */
#ifndef KMM_REPORT_H
#define KMM_REPORT_H

#include <stddef.h>
#include <kmm/gfp.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Return codes of the int-returning calls: 0 or one of these, negated
 * (Linux style: `return -KMM_EINVAL;`). Values match Linux errno numbers. */
#define KMM_ENOMEM 12
#define KMM_EBUSY  16
#define KMM_EEXIST 17
#define KMM_EINVAL 22
#define KMM_ENOSPC 28

/* A sink receives text in pieces; kmm never allocates to produce it. */
typedef void (*kmm_sink_fn)(void *ctx, const char *text, size_t len);

/* Reports: one call per line of text (no trailing newline, no prefix), e.g.
 * "BUG page_alloc: double free of page 0x20001000 (pfn 0x20001, order 0)"
 * or the warning "page allocation failure: order:3, mode:0x0". Without a
 * hook each line goes to the console prefixed "kmm: ". The hook runs with
 * kmm's locks held and may be called again for the next line: it must not
 * call into kmm (an allocation or free there deadlocks, or reports and so
 * calls the hook again without end). Lines are at most 191 characters;
 * longer ones are cut, still counted once. */
typedef void (*kmm_report_fn)(void *ctx, const char *line);

/* What happens after a misuse report. In both modes the offending call is
 * refused before it changed anything, so the allocator stays consistent. */
enum kmm_bug_policy {
	KMM_BUG_REFUSE = 0, /* report, count, refuse, continue (release default) */
	KMM_BUG_PANIC = 1,  /* report, then kmm_arch_panic() (KMM_DEBUG >= 1 default) */
};

/* OOM hook: runs once when an allocation finds no memory; it may free memory
 * (drop caches, shrink pools). The allocation is then retried once. It may
 * allocate, but while it runs, an allocation on its CPU that finds no
 * memory (its own, or any task's or interrupt's there) fails without
 * running it again. */
typedef void (*kmm_oom_fn)(void *ctx, gfp_t gfp, unsigned int order);

void kmm_set_report_hook(kmm_report_fn fn, void *ctx);
void kmm_set_bug_policy(enum kmm_bug_policy policy);
void kmm_set_oom_hook(kmm_oom_fn fn, void *ctx);

/* Misuse reports since init (refused calls). */
unsigned long kmm_bug_count(void);
/* Times the OOM hook ran. */
unsigned long kmm_oom_count(void);

#ifdef __cplusplus
}
#endif

#endif /* KMM_REPORT_H */

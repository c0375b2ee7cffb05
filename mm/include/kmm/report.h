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
#define KMM_EINVAL 22
#define KMM_ENOSPC 28

/* A sink receives text in pieces; kmm never allocates to produce it. */
typedef void (*kmm_sink_fn)(void *ctx, const char *text, size_t len);

/* Reports: one call per line of text (no trailing newline, no prefix), e.g.
 * "BUG page_alloc: double free of page 0x20001000 (pfn 0x20001, order 0)"
 * or the warning "page allocation failure: order:3, mode:0x0". Without a
 * hook each line goes to the console prefixed "kmm: ". The hook runs in the
 * reporting call's context (an interrupt handler too), often with kmm's
 * locks held and IRQs masked, and may be called again for the next line:
 * it must not call into kmm (an allocation or free there deadlocks, or
 * reports and so calls the hook again without end). Beware of newlib's
 * printf: its first call on a stream allocates the stream's buffer, which
 * under KMM_LIBC_SHIM is a kmm allocation; write the line with a call that
 * does not allocate (the UART, write(2)), or give the stream its buffer
 * with setvbuf at boot. Lines are at most 191 characters; longer ones are
 * cut, still counted once. */
typedef void (*kmm_report_fn)(void *ctx, const char *line);

/* What happens after a misuse report. In both modes the offending call is
 * refused before it changed anything, so the allocator stays consistent. */
enum kmm_bug_policy {
	KMM_BUG_REFUSE = 0, /* report, count, refuse, continue (release default) */
	KMM_BUG_PANIC = 1,  /* report, then kmm_arch_panic() (KMM_DEBUG >= 1 default) */
};

/* OOM hook: runs once when an allocation finds no memory, after the per-CPU
 * page lists and the slab caches were given back (not for __GFP_NORETRY);
 * it may free memory (drop caches, shrink pools). The allocation is then
 * retried once, after the slab caches gave back what the hook freed into
 * them (freed objects sit in per-CPU magazines and empty slabs until
 * then). It runs in the failing allocation's context with no kmm lock
 * held: in an interrupt handler for an allocation made there
 * (GFP_ATOMIC), and with IRQs masked if the caller masked them; so it must
 * not sleep (`gfp` is the caller's: GFP_ATOMIC there). It may allocate, but while it
 * runs, an allocation on its CPU that finds no memory (its own, or any
 * task's or interrupt's there) fails without running it again. */
typedef void (*kmm_oom_fn)(void *ctx, gfp_t gfp, unsigned int order);

/* The setters are for boot, before the calls they affect: each stores its
 * fields one by one, unsynchronised with a report or an allocation running
 * meanwhile (another CPU or an interrupt could see a new fn with the old
 * ctx). ctx is passed back to fn unchanged. O(1), never fail.
 * kmm_set_report_hook(NULL, …): lines go to the console (the default). */
void kmm_set_report_hook(kmm_report_fn fn, void *ctx);
/* Read at each misuse report; the default is KMM_BUG_PANIC when KMM_DEBUG
 * >= 1, else KMM_BUG_REFUSE. */
void kmm_set_bug_policy(enum kmm_bug_policy policy);
/* kmm_set_oom_hook(NULL, …): no hook (the default); an allocation that
 * still finds no memory fails (NULL, and a warning unless __GFP_NOWARN). */
void kmm_set_oom_hook(kmm_oom_fn fn, void *ctx);

/* Misuse reports since init (refused calls). Any context, O(1). */
unsigned long kmm_bug_count(void);
/* Times the OOM hook ran. Any context, O(1). */
unsigned long kmm_oom_count(void);

#ifdef __cplusplus
}
#endif

#endif /* KMM_REPORT_H */

/*
 * kernel/panic.h — the kernel's last words: panic() prints
 * "Kernel panic - not syncing: <message>" and reports an exit status to the
 * host through kmm_arch_exit() (KMM_EXIT_PANIC unless told otherwise).
 */
#ifndef KMM_KERNEL_PANIC_H
#define KMM_KERNEL_PANIC_H

__attribute__((noreturn, format(printf, 1, 2))) void panic(const char *fmt, ...);
__attribute__((noreturn, format(printf, 2, 3))) void panic_with_status(int status, const char *fmt, ...);

#endif /* KMM_KERNEL_PANIC_H */

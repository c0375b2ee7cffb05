/*
 * kernel/printk.h — console output for the kernel: printk() formats into a
 * fixed stack buffer with mm's freestanding formatter (kmm::vformat: C's
 * integer, %p, %s and %c conversions; see mm/format.h) and writes it to the
 * arch console. Never allocates; lines longer than the buffer are cut.
 * Safe before mm is initialised and from fault handlers.
 */
#ifndef KMM_KERNEL_PRINTK_H
#define KMM_KERNEL_PRINTK_H

#include <stdarg.h>
#include <stddef.h>

/* Longest text one printk() call writes whole; a longer one is cut to this
 * length, its last four characters "...\n". */
#define KMM_PRINTK_BUFFER 256

void printk(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void vprintk(const char *fmt, va_list ap);
/* Raw bytes, no formatting. */
void console_write(const char *text, size_t len);
/* A kmm_sink_fn writing to the console (for kmm_buddyinfo and friends). */
void console_sink(void *ctx, const char *text, size_t len);

#endif /* KMM_KERNEL_PRINTK_H */

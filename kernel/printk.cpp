/*
 * kernel/printk.cpp — printk and the console sink (see kernel/printk.h).
 */
#include <kernel/printk.h>

#include <arch/arch.h>

#include "format.h" /* mm/format.h: kmm::vformat */

void console_write(const char *text, size_t len)
{
	kmm_arch_console_write(text, len);
}

void console_sink(void *, const char *text, size_t len)
{
	kmm_arch_console_write(text, len);
}

void vprintk(const char *fmt, va_list ap)
{
	/* vformat writes at most cap - 1 characters and says nothing of the
	 * rest, so one character more than KMM_PRINTK_BUFFER shows a cut (and
	 * a text of exactly KMM_PRINTK_BUFFER characters is written whole) */
	char buf[KMM_PRINTK_BUFFER + 2];
	size_t n = kmm::vformat(buf, sizeof(buf), fmt, ap);
	if (n > KMM_PRINTK_BUFFER) { /* cut: say so, keep a line end */
		n = KMM_PRINTK_BUFFER;
		buf[n - 4] = '.';
		buf[n - 3] = '.';
		buf[n - 2] = '.';
		buf[n - 1] = '\n';
	}
	kmm_arch_console_write(buf, n);
}

void printk(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintk(fmt, ap);
	va_end(ap);
}

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
	char buf[KMM_PRINTK_BUFFER];
	size_t n = kmm::vformat(buf, sizeof(buf), fmt, ap);
	if (n == sizeof(buf) - 1) { /* cut: say so, keep a line end */
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

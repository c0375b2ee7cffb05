/*
 * mm/reporter.cpp — formatting and dispatch of misuse reports (see reporter.h).
 */
#include "reporter.h"

#include <arch/arch.h>

#include "format.h"

namespace kmm {

void Reporter::emit(const char *line)
{
	if (hook_ != nullptr) {
		hook_(ctx_, line);
		return;
	}
	size_t n = 0;
	while (line[n] != '\0')
		++n;
	kmm_arch_console_write("kmm: ", 5); /* the hook's owner adds its own prefix */
	kmm_arch_console_write(line, n);
	kmm_arch_console_write("\n", 1);
}

void Reporter::bug(const char *who, const char *fmt, ...)
{
	char line[192];
	size_t n = format(line, sizeof(line), "BUG %s: ", who);
	va_list ap;
	va_start(ap, fmt);
	vformat(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	__atomic_fetch_add(&bugs_, 1ul, __ATOMIC_RELAXED);
	emit(line);
}

void Reporter::detail(const char *fmt, ...)
{
	char line[192];
	va_list ap;
	va_start(ap, fmt);
	vformat(line, sizeof(line), fmt, ap);
	va_end(ap);
	emit(line);
}

void Reporter::warn(const char *fmt, ...)
{
	char line[192];
	va_list ap;
	va_start(ap, fmt);
	vformat(line, sizeof(line), fmt, ap);
	va_end(ap);
	__atomic_fetch_add(&warnings_, 1ul, __ATOMIC_RELAXED);
	emit(line);
}

void Reporter::finish_bug()
{
	if (policy_ == KMM_BUG_PANIC)
		kmm_arch_panic("kmm: bug reported and policy is panic");
}

} // namespace kmm

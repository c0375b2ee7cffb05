/*
 * kernel/panic.cpp — panic(): message, then the exit status to the host.
 */
#include <kernel/panic.h>

#include <arch/arch.h>
#include <arch/target.h>
#include <kernel/printk.h>

namespace {
__attribute__((noreturn)) void vpanic(int status, const char *fmt, va_list ap)
{
	kmm_arch_irq_save();
	printk("Kernel panic - not syncing: ");
	vprintk(fmt, ap);
	printk("\n---[ end Kernel panic (exit status %d) ]---\n", status);
	kmm_arch_exit(status);
}
} // namespace

void panic(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vpanic(KMM_EXIT_PANIC, fmt, ap);
}

void panic_with_status(int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vpanic(status, fmt, ap);
}

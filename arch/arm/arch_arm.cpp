/*
 * arch/arm/arch_arm.cpp — the profile-independent part of the arch contract
 * on ARM: console output through the board hook, panic, exit. The weak
 * board-hook defaults for console and exit (semihosting) live here too;
 * the counter defaults are per profile (cortex_m/, cortex_a/).
 */
#include <arch/arch.h>
#include <arch/target.h>

extern "C" {

__attribute__((weak)) void kmm_board_console_write(const char *text, size_t len)
{
	kmm_semihost_write(text, len);
}

__attribute__((weak)) void kmm_board_exit(int status)
{
	kmm_semihost_exit(status);
}

void kmm_arch_console_write(const char *text, size_t len)
{
	kmm_board_console_write(text, len);
}

void kmm_arch_exit(int status)
{
	kmm_arch_irq_save();
	kmm_board_exit(status);
	for (;;)
		__asm__ volatile("wfi");
}

void kmm_arch_panic(const char *message)
{
	static const char kPrefix[] = "kmm panic: ";
	kmm_arch_irq_save();
	size_t n = 0;
	while (message[n] != '\0')
		++n;
	kmm_arch_console_write(kPrefix, sizeof(kPrefix) - 1);
	kmm_arch_console_write(message, n);
	kmm_arch_console_write("\n", 1);
	kmm_arch_exit(KMM_EXIT_PANIC);
}

uint64_t kmm_arch_counter(void)
{
	return kmm_board_counter();
}

} // extern "C"

/*
 * arch/riscv/arch_riscv.cpp — the arch contract on RISC-V in machine mode:
 * IRQ save/restore through mstatus.MIE, the CPU id (mhartid), console
 * output through the board hook, panic, exit, and the counter. The weak
 * board-hook defaults live here: console and exit through semihosting,
 * counter minstret (instructions retired; QEMU derives it from icount, so
 * it is exact with -icount shift=0). Startup and traps: startup.cpp.
 */
#include <arch/arch.h>
#include <arch/target.h>

namespace {
constexpr unsigned long kMstatusMie = 1ul << 3;
} // namespace

extern "C" {

/* csrrci returns mstatus as it was, then clears MIE: one instruction. */
unsigned long kmm_arch_irq_save(void)
{
	unsigned long mstatus;
	__asm__ volatile("csrrci %0, mstatus, %1" : "=r"(mstatus) : "i"(kMstatusMie) : "memory");
	return mstatus;
}

/* Sets MIE back only if it was set; touches no other mstatus bit. */
void kmm_arch_irq_restore(unsigned long flags)
{
	__asm__ volatile("csrs mstatus, %0" : : "r"(flags & kMstatusMie) : "memory");
}

unsigned int kmm_arch_cpu_id(void)
{
	unsigned long hart;
	__asm__ volatile("csrr %0, mhartid" : "=r"(hart));
	return static_cast<unsigned int>(hart);
}

__attribute__((weak)) void kmm_board_console_write(const char *text, size_t len)
{
	kmm_semihost_write(text, len);
}

__attribute__((weak)) void kmm_board_exit(int status)
{
	kmm_semihost_exit(status);
}

__attribute__((weak)) const char *kmm_board_counter_unit(void)
{
	return "instructions (minstret; exact with -icount shift=0)";
}

__attribute__((weak)) uint64_t kmm_board_counter(void)
{
	uint64_t n;
	__asm__ volatile("csrr %0, minstret" : "=r"(n));
	return n;
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

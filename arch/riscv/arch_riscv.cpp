/*
 * arch/riscv/arch_riscv.cpp — the arch contract on RISC-V in machine mode:
 * IRQ save/restore through mstatus.MIE, the CPU id (mhartid) and the
 * weak default counter, minstret (instructions retired; QEMU derives it
 * from icount, so it is exact with -icount shift=0). Startup and traps:
 * startup.cpp; console, panic and exit: arch/common/target.cpp.
 */
#include <arch/arch.h>
#include <arch/cpu.h>
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
	return kmm::arch::cpu_id(); /* mhartid, as mm's inline paths read it */
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

} // extern "C"

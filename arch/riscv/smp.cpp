/*
 * arch/riscv/smp.cpp — secondary harts and the cross-CPU call IPI on
 * RISC-V in machine mode (QEMU virt, -bios none: every hart runs _start;
 * hart 0 boots, the others wait in wfi there, see startup.cpp).
 * kmm_arch_cpu_start() publishes a request (the kmm_cpu_boot) in
 * kmm_riscv_boot_request and sends the hart a CLINT
 * software interrupt (msip, 0x2000000 + 4 × hart); the hart whose id the
 * request names clears its msip, takes the stack, sets mscratch (trap
 * stack: the top KMM_CPU_EXCEPTION_STACK bytes) and mtvec, clears the
 * request and calls kmm_riscv_secondary → entry(cpu). Harts start one at a
 * time; a hart that does not take its request within a bound is reported
 * missing (QEMU ignores msip writes for harts it does not have).
 *
 * The call IPI (kmm_arch_cpu_call, arch/common/cpu_call.cpp) is the same
 * software interrupt: a hart that takes calls sets mie.MSIE and
 * mstatus.MIE; the trap entry (startup.cpp) sends interrupts to
 * kmm_riscv_interrupt, which clears the hart's msip and then serves the
 * mailbox (a call posted after the clear raises it again). No other
 * interrupt is ever enabled, so any other cause is a bug and panics.
 */
#include <arch/arch.h>
#include <arch/target.h>

extern "C" {
/* In .data: read by waiting harts before hart 0 zeroes .bss. */
__attribute__((section(".data"), used)) const kmm_cpu_boot *volatile kmm_riscv_boot_request = nullptr;
__attribute__((noreturn, used)) void kmm_riscv_secondary(const kmm_cpu_boot *boot);
}

namespace {
constexpr uintptr_t kClintMsip = 0x2000000u;
constexpr unsigned long kStartSpins = 50000000ul; /* far longer than a wake-up takes */
} // namespace

extern "C" void kmm_riscv_secondary(const kmm_cpu_boot *boot)
{
	boot->entry(boot->cpu);
	kmm_arch_cpu_park();
}

extern "C" int kmm_arch_cpu_start(const kmm_cpu_boot *boot)
{
	if (boot == nullptr || boot->cpu == kmm_arch_cpu_id() || boot->cpu >= 4095)
		return -1;
	if (kmm_riscv_boot_request != nullptr)
		return -4; /* another start is under way */
	__atomic_store_n(&kmm_riscv_boot_request, boot, __ATOMIC_RELEASE);
	__asm__ volatile("fence rw, rw" ::: "memory"); /* the request before the IPI */
	*reinterpret_cast<volatile uint32_t *>(kClintMsip + 4u * boot->cpu) = 1u;
	for (unsigned long i = 0; i < kStartSpins; ++i)
		if (__atomic_load_n(&kmm_riscv_boot_request, __ATOMIC_ACQUIRE) == nullptr)
			return 0;
	*reinterpret_cast<volatile uint32_t *>(kClintMsip + 4u * boot->cpu) = 0u;
	__atomic_store_n(&kmm_riscv_boot_request, nullptr, __ATOMIC_RELEASE);
	return -2; /* no such hart */
}

namespace {
constexpr unsigned long kMieMsie = 1ul << 3;
constexpr unsigned long kMstatusMie = 1ul << 3;
constexpr unsigned long kMachineSoftware = 3;
inline volatile uint32_t &msip(unsigned cpu) { return *reinterpret_cast<volatile uint32_t *>(kClintMsip + 4u * cpu); }
} // namespace

extern "C" void kmm_arch_ipi_send(unsigned int cpu)
{
	__asm__ volatile("fence rw, rw" ::: "memory"); /* the mailbox before the IPI */
	msip(cpu) = 1u;
}

extern "C" void kmm_arch_ipi_enable(void)
{
	__asm__ volatile("csrs mie, %0\n\tcsrs mstatus, %1" : : "r"(kMieMsie), "r"(kMstatusMie) : "memory");
}

extern "C" void kmm_arch_ipi_disable(void) { __asm__ volatile("csrc mie, %0" : : "r"(kMieMsie) : "memory"); }

extern "C" int kmm_arch_irq_flags_masked(unsigned long flags) { return (flags & kMstatusMie) == 0; }

/* From the trap entry (startup.cpp), on the trap stack, interrupts off. */
extern "C" void kmm_riscv_interrupt(unsigned long mcause)
{
	unsigned long cause = mcause & ~(1ul << (8 * sizeof(unsigned long) - 1));
	if (cause != kMachineSoftware)
		kmm_arch_panic_unexpected("interrupt", cause);
	msip(kmm_arch_cpu_id()) = 0u;
	__asm__ volatile("fence rw, rw" ::: "memory"); /* the clear before the mailbox */
	kmm_cpu_call_serve();
}

extern "C" void kmm_arch_cpu_relax(void) { __asm__ volatile("nop\n\tnop\n\tnop\n\tnop" ::: "memory"); }

extern "C" void kmm_arch_cpu_wake_all(void) { __asm__ volatile("fence rw, rw" ::: "memory"); }

extern "C" void kmm_arch_cpu_park(void)
{
	__asm__ volatile("csrci mstatus, 8" ::: "memory");
	kmm_cpu_calls_disable();
	__asm__ volatile("csrw mie, zero" ::: "memory");
	for (;;)
		__asm__ volatile("wfi");
}

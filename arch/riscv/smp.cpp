/*
 * arch/riscv/smp.cpp — secondary harts on RISC-V in machine mode (QEMU virt,
 * -bios none: every hart runs _start; hart 0 boots, the others wait in
 * wfi there, see startup.cpp). kmm_arch_cpu_start() publishes a request
 * (the kmm_cpu_boot) in kmm_riscv_boot_request and sends the hart a CLINT
 * software interrupt (msip, 0x2000000 + 4 × hart); the hart whose id the
 * request names clears its msip, takes the stack, sets mscratch (trap
 * stack: the top KMM_CPU_EXCEPTION_STACK bytes) and mtvec, clears the
 * request and calls kmm_riscv_secondary → entry(cpu). Harts start one at a
 * time; a hart that does not take its request within a bound is reported
 * missing (QEMU ignores msip writes for harts it does not have).
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

extern "C" void kmm_arch_cpu_relax(void) { __asm__ volatile("nop\n\tnop\n\tnop\n\tnop" ::: "memory"); }

extern "C" void kmm_arch_cpu_wake_all(void) { __asm__ volatile("fence rw, rw" ::: "memory"); }

extern "C" void kmm_arch_cpu_park(void)
{
	__asm__ volatile("csrci mstatus, 8\n\tcsrw mie, zero" ::: "memory");
	for (;;)
		__asm__ volatile("wfi");
}

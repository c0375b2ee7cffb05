/*
 * arch/arm/cortex_m/startup.cpp — how a Cortex-M image starts and how it
 * dies: the vector table (system exceptions; a board may append its IRQ
 * vectors in section .vectors.irq), the reset handler (copy .data, zero
 * .bss, run the C++ static constructors, call kmm_main, exit with its
 * status), and the fault handler (print the stacked registers, the fault
 * status and the faulting address, then exit with KMM_EXIT_FAULT).
 *
 * Built as an object library so the vector table is always linked. Symbols
 * come from the linker script (linker/cortex-m.ld). Compiled with
 * -fno-tree-loop-distribute-patterns: the loops below must not become
 * memcpy/memset calls, they run before anything else is set up.
 */
#include <arch/arch.h>
#include <arch/startup.h>
#include <arch/target.h>

extern "C" {
/* linker/cortex-m.ld (the other symbols: arch/startup.h) */
extern char __stack_top[];

__attribute__((noreturn)) void Reset_Handler(void);
void kmm_cortex_m_fault_handler(void);
__attribute__((noreturn, used)) void kmm_cortex_m_fault(const uint32_t *frame, uint32_t exc_return);
}

namespace {

using kmm::startup::put;
using kmm::startup::put_hex;

volatile uint32_t &reg(uintptr_t address) { return *reinterpret_cast<volatile uint32_t *>(address); }

constexpr uintptr_t kScbCcr = 0xE000ED14u;   /* Configuration and Control */
constexpr uintptr_t kScbShcsr = 0xE000ED24u; /* System Handler Control and State */
constexpr uintptr_t kScbCfsr = 0xE000ED28u;  /* Configurable Fault Status */
constexpr uintptr_t kScbHfsr = 0xE000ED2Cu;  /* HardFault Status */
constexpr uintptr_t kScbMmfar = 0xE000ED34u; /* MemManage Fault Address */
constexpr uintptr_t kScbBfar = 0xE000ED38u;  /* BusFault Address */
constexpr uint32_t kCcrDiv0Trap = 1u << 4;
constexpr uint32_t kShcsrFaultsEnabled = (1u << 16) | (1u << 17) | (1u << 18); /* Mem, Bus, Usage */
constexpr uint32_t kCfsrMmarValid = 1u << 7;
constexpr uint32_t kCfsrBfarValid = 1u << 15;

struct VectorTable {
	void *initial_sp;
	void (*handlers[15])(void);
};

const char *exception_name(uint32_t number)
{
	switch (number) {
	case 2: return "NMI";
	case 3: return "HardFault";
	case 4: return "MemManage";
	case 5: return "BusFault";
	case 6: return "UsageFault";
	case 7: return "SecureFault";
	case 11: return "SVCall";
	case 12: return "DebugMonitor";
	case 14: return "PendSV";
	case 15: return "SysTick";
	default: return number >= 16 ? "unexpected IRQ" : "reserved exception";
	}
}

} // namespace

/* Entry 0 is the initial MSP; the rest are handlers. Every exception that
 * nobody handles ends in the fault report (IRQs are never enabled by kmm's
 * own images, so any of them firing is a bug). */
__attribute__((section(".vectors"), used)) const VectorTable kmm_cortex_m_vectors = {
	__stack_top,
	{
		Reset_Handler,
		kmm_cortex_m_fault_handler, /* NMI */
		kmm_cortex_m_fault_handler, /* HardFault */
		kmm_cortex_m_fault_handler, /* MemManage */
		kmm_cortex_m_fault_handler, /* BusFault */
		kmm_cortex_m_fault_handler, /* UsageFault */
		kmm_cortex_m_fault_handler, /* SecureFault (ARMv8-M) */
		nullptr, nullptr, nullptr,
		kmm_cortex_m_fault_handler, /* SVCall */
		kmm_cortex_m_fault_handler, /* DebugMonitor */
		nullptr,
		kmm_cortex_m_fault_handler, /* PendSV */
		kmm_cortex_m_fault_handler, /* SysTick */
	},
};

extern "C" void Reset_Handler(void)
{
	/* Precise faults instead of everything escalating to HardFault. */
	reg(kScbShcsr) |= kShcsrFaultsEnabled;
	reg(kScbCcr) |= kCcrDiv0Trap;
	kmm::startup::crt_init();
	kmm_arch_exit(kmm_main());
}

/* Finds the stacked frame (MSP or PSP, EXC_RETURN bit 2) and hands it on. */
extern "C" __attribute__((naked)) void kmm_cortex_m_fault_handler(void)
{
	__asm__ volatile(
		"tst lr, #4\n\t"
		"ite eq\n\t"
		"mrseq r0, msp\n\t"
		"mrsne r0, psp\n\t"
		"mov r1, lr\n\t"
		"b kmm_cortex_m_fault\n\t");
}

extern "C" void kmm_cortex_m_fault(const uint32_t *frame, uint32_t exc_return)
{
	uint32_t ipsr;
	__asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
	uint32_t number = ipsr & 0x1ffu;
	uint32_t cfsr = reg(kScbCfsr);
	put("\n*** ");
	put(exception_name(number));
	put_hex(" (exception", number);
	put(") ***\n");
	put_hex("  r0 ", frame[0]);
	put_hex("  r1 ", frame[1]);
	put_hex("  r2 ", frame[2]);
	put_hex("  r3 ", frame[3]);
	put_hex("\n  r12", frame[4]);
	put_hex("  lr ", frame[5]);
	put_hex("  pc ", frame[6]);
	put_hex("  psr", frame[7]);
	put_hex("\n  sp ", static_cast<uint32_t>(reinterpret_cast<uintptr_t>(frame)));
	put_hex("  exc_return", exc_return);
	put_hex("\n  CFSR", cfsr);
	put_hex("  HFSR", reg(kScbHfsr));
	if ((cfsr & kCfsrBfarValid) != 0)
		put_hex("\n  fault address (BFAR)", reg(kScbBfar));
	else if ((cfsr & kCfsrMmarValid) != 0)
		put_hex("\n  fault address (MMFAR)", reg(kScbMmfar));
	else
		put("\n  fault address unknown (CFSR has no valid BFAR/MMFAR)");
	put("\n");
	kmm_arch_exit(KMM_EXIT_FAULT);
}

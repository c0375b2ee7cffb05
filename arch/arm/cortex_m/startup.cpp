/*
 * arch/arm/cortex_m/startup.cpp — how a Cortex-M image starts and how it
 * dies: the vector table (system exceptions; a board may append its IRQ
 * vectors in section .vectors.irq), the reset handler (copy .data, zero
 * .bss, run the C++ static constructors, call kmm_main, exit with its
 * status; the FPU, where the core has one, is on before any of it), and the fault handler (print r0–r12, lr, pc, xPSR, the SP
 * before the fault, EXC_RETURN, the fault status and the faulting
 * address, then exit with KMM_EXIT_FAULT; on a stack of its own).
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
__attribute__((noreturn, used)) void kmm_cortex_m_fault(const uint32_t *frame, uint32_t exc_return,
							const uint32_t *r4_r11);

/* The fault report's own stack: the MSP the fault came with may be what
 * broke (a stack run off the start of RAM), and a push to it would fault
 * again and lock the core up before anything is printed. Its top is
 * 8-byte aligned (AAPCS). */
constexpr unsigned kFaultStackBytes = 512;
__attribute__((used, aligned(8))) uint8_t kmm_cortex_m_fault_stack[kFaultStackBytes];
}

namespace {

using kmm::startup::put;
using kmm::startup::put_hex;

volatile uint32_t &reg(uintptr_t address) { return *reinterpret_cast<volatile uint32_t *>(address); }

constexpr uintptr_t kScbVtor = 0xE000ED08u;  /* Vector Table Offset */
constexpr uintptr_t kScbCcr = 0xE000ED14u;   /* Configuration and Control */
constexpr uintptr_t kScbShcsr = 0xE000ED24u; /* System Handler Control and State */
constexpr uintptr_t kScbCfsr = 0xE000ED28u;  /* Configurable Fault Status */
constexpr uintptr_t kScbHfsr = 0xE000ED2Cu;  /* HardFault Status */
constexpr uintptr_t kScbMmfar = 0xE000ED34u; /* MemManage Fault Address */
constexpr uintptr_t kScbBfar = 0xE000ED38u;  /* BusFault Address */
constexpr uintptr_t kScbCpacr = 0xE000ED88u; /* Coprocessor Access Control */
constexpr uint32_t kCpacrFullAccessCp10Cp11 = 0xfu << 20; /* the FPU */
constexpr uint32_t kCcrDiv0Trap = 1u << 4;
constexpr uint32_t kShcsrFaultsEnabled = (1u << 16) | (1u << 17) | (1u << 18); /* Mem, Bus, Usage */
constexpr uint32_t kCfsrMmarValid = 1u << 7;
constexpr uint32_t kCfsrBfarValid = 1u << 15;
/* The exception entry could not write the frame: MSTKERR (MemManage),
 * STKERR (BusFault); the frame's memory holds nothing of the fault and may
 * not be readable at all. */
constexpr uint32_t kCfsrMstkerr = 1u << 4;
constexpr uint32_t kCfsrStkerr = 1u << 12;
/* What the hardware stacked: r0-r3, r12, lr, pc, xPSR, and with the FP
 * extended frame (EXC_RETURN bit 4 clear) s0-s15, FPSCR and a reserved
 * word too. xPSR bit 9: a word of padding above the frame keeps it 8-byte
 * aligned. (kmm runs in one security state, so no ARMv8-M additional
 * state context sits below the frame.) */
constexpr uint32_t kBasicFrameBytes = 0x20u;
constexpr uint32_t kExtendedFrameBytes = 0x68u;
constexpr uint32_t kExcReturnBasicFrame = 1u << 4;
constexpr uint32_t kXpsrFramePadded = 1u << 9;

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
 * own images, so any of them firing is a bug). VTOR holds bits [31:7] of
 * its address: linked at the start of FLASH (linker/cortex-m.ld), whose
 * origin must be 128-byte aligned (more with a board's IRQ vectors). */
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
	/* This image's table, wherever it is linked: a bootloader that
	 * started it leaves VTOR at its own (0 at reset), and every fault
	 * and IRQ would go to the bootloader's handlers. */
	reg(kScbVtor) = reinterpret_cast<uintptr_t>(&kmm_cortex_m_vectors);
	__asm__ volatile("dsb\n\tisb" ::: "memory");
	/* Precise faults instead of everything escalating to HardFault. */
	reg(kScbShcsr) |= kShcsrFaultsEnabled;
	reg(kScbCcr) |= kCcrDiv0Trap;
	/* The FPU on (CP10 and CP11, full access), before any C++ runs: a
	 * firmware built -mfloat-abi=hard or softfp (an M4F, M7, M33 with
	 * FP) would otherwise take a NOCP UsageFault at its first FP
	 * instruction. The fields are RAZ/WI on a core without one (M3), and
	 * soft-float code never sets CONTROL.FPCA, so exceptions keep the
	 * basic frame and pay nothing. */
	reg(kScbCpacr) |= kCpacrFullAccessCp10Cp11;
	__asm__ volatile("dsb\n\tisb" ::: "memory");
	kmm::startup::crt_init();
	kmm_arch_exit(kmm_main());
}

/* Finds the stacked frame (MSP or PSP, EXC_RETURN bit 2) and hands it on
 * with r4-r11, which the hardware does not stack: saved here, before any
 * compiled code can reuse them, on the fault stack (the report never
 * returns, so it may start from that stack's top every time). */
extern "C" __attribute__((naked)) void kmm_cortex_m_fault_handler(void)
{
	__asm__ volatile(
		"tst lr, #4\n\t"
		"ite eq\n\t"
		"mrseq r0, msp\n\t"
		"mrsne r0, psp\n\t"
		"mov r1, lr\n\t"
		"movw r2, #:lower16:kmm_cortex_m_fault_stack + %c0\n\t"
		"movt r2, #:upper16:kmm_cortex_m_fault_stack + %c0\n\t"
		"mov sp, r2\n\t"
		"push {r4-r11}\n\t"
		"mov r2, sp\n\t"
		"b kmm_cortex_m_fault\n\t"
		:
		: "i"(kFaultStackBytes));
}

namespace {
volatile bool g_in_fault;
} // namespace

extern "C" void kmm_cortex_m_fault(const uint32_t *frame, uint32_t exc_return, const uint32_t *r4_r11)
{
	/* A fault while reporting one: do not recurse, just stop. */
	if (g_in_fault)
		kmm_arch_exit(KMM_EXIT_FAULT);
	g_in_fault = true;

	uint32_t ipsr;
	__asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
	uint32_t number = ipsr & 0x1ffu;
	uint32_t cfsr = reg(kScbCfsr);
	uint32_t stacking_error = cfsr & (kCfsrMstkerr | kCfsrStkerr);
	put("\n*** ");
	put(exception_name(number));
	put_hex(" (exception", number);
	put(") ***\n");
	if (stacking_error == 0) {
		put_hex("  r0 ", frame[0]);
		put_hex("  r1 ", frame[1]);
		put_hex("  r2 ", frame[2]);
		put_hex("  r3 ", frame[3]);
	} else {
		put("  r0-r3, r12, lr, pc, psr unknown: no frame stacked");
		put((stacking_error & kCfsrStkerr) != 0 ? " (CFSR.STKERR)" : " (CFSR.MSTKERR)");
	}
	static const char *const kCalleeSaved[] = {"\n  r4 ", "  r5 ", "  r6 ", "  r7 ",
						   "\n  r8 ", "  r9 ", "  r10", "  r11"};
	for (unsigned i = 0; i < 8; ++i)
		put_hex(kCalleeSaved[i], r4_r11[i]);
	uintptr_t frame_address = reinterpret_cast<uintptr_t>(frame);
	uintptr_t sp = frame_address +
		       ((exc_return & kExcReturnBasicFrame) != 0 ? kBasicFrameBytes : kExtendedFrameBytes);
	if (stacking_error == 0) {
		put_hex("\n  r12", frame[4]);
		put_hex("  lr ", frame[5]);
		put_hex("  pc ", frame[6]);
		put_hex("  psr", frame[7]);
		sp += (frame[7] & kXpsrFramePadded) != 0 ? 4u : 0u;
	}
	put_hex("\n  sp ", static_cast<uint32_t>(sp));
	put(stacking_error == 0 ? " (before the fault;" : " (before the fault, + 4 if the frame was padded;");
	put_hex(" frame at", static_cast<uint32_t>(frame_address));
	put(")");
	put_hex("\n  exc_return", exc_return);
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

/*
 * arch/arm/cortex_m/startup.cpp — how a Cortex-M image starts and how it
 * dies: the vector table (system exceptions; a board may append its IRQ
 * vectors in section .vectors.irq), the reset handler (on ARMv8-M the
 * main stack's limit MSPLIM first; copy .data, zero .bss, run the C++
 * static constructors, call kmm_main, exit with its status; the FPU, where
 * the core has one, is on before any of it), and the fault handler (print
 * r0–r12, lr, pc, xPSR, the SP before the fault, EXC_RETURN, the fault
 * status with its bits by name, on ARMv8-M the stack limits and, in Secure
 * state, SFSR/SFAR, and the faulting address, then exit with
 * KMM_EXIT_FAULT; on a stack of its own).
 *
 * Built as an object library so the vector table is always linked. Symbols
 * come from the linker script (linker/cortex-m.ld). Compiled with
 * -fno-tree-loop-distribute-patterns: the loops below must not become
 * memcpy/memset calls, they run before anything else is set up.
 */
#include <arch/arch.h>
#include <arch/startup.h>
#include <arch/target.h>

/* ARMv8-M Mainline (Cortex-M33, M55): the stack limit registers MSPLIM and
 * PSPLIM (UsageFault UFSR.STKOF when an SP would go below its limit) and,
 * with the Security Extension, SecureFault. ARMv7-M (Cortex-M3, M4) has
 * neither; its builds do not touch them. */
#if defined(__ARM_ARCH_8M_MAIN__) || defined(__ARM_ARCH_8_1M_MAIN__)
#define KMM_CORTEX_M_V8M_MAIN 1
#else
#define KMM_CORTEX_M_V8M_MAIN 0
#endif

extern "C" {
/* linker/cortex-m.ld (the other symbols: arch/startup.h) */
extern char __stack_bottom[], __stack_top[];

__attribute__((noreturn)) void Reset_Handler(void);
__attribute__((noreturn, used)) void kmm_cortex_m_reset(void);
void kmm_cortex_m_fault_handler(void);
__attribute__((noreturn, used)) void kmm_cortex_m_fault(const uint32_t *frame, uint32_t exc_return,
							const uint32_t *r4_r11, uint32_t msplim);

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
constexpr uint32_t kShcsrSecureFaultEnabled = 1u << 19; /* ARMv8-M, Secure state only */
constexpr uint32_t kCfsrMmarValid = 1u << 7;
constexpr uint32_t kCfsrBfarValid = 1u << 15;
/* The exception entry could not write the frame: MSTKERR (MemManage),
 * STKERR (BusFault); the frame's memory holds nothing of the fault and may
 * not be readable at all. */
constexpr uint32_t kCfsrMstkerr = 1u << 4;
constexpr uint32_t kCfsrStkerr = 1u << 12;
/* ARMv8-M: an SP went below its limit (MSPLIM or PSPLIM), in an
 * instruction or in the exception entry's stacking. */
constexpr uint32_t kCfsrStkof = 1u << 20;
/* SecureFault status and address (ARMv8-M Security Extension; the SAU's
 * registers: Secure state only, RAZ/WI from Non-secure). */
constexpr uintptr_t kSauSfsr = 0xE000EDE4u;
constexpr uintptr_t kSauSfar = 0xE000EDE8u;
constexpr uint32_t kSfsrSfarValid = 1u << 6;
/* What the hardware stacked: r0-r3, r12, lr, pc, xPSR, and with the FP
 * extended frame (EXC_RETURN bit 4 clear) s0-s15, FPSCR and a reserved
 * word too. xPSR bit 9: a word of padding above the frame keeps it 8-byte
 * aligned. (kmm runs in one security state, so no ARMv8-M additional
 * state context sits below the frame.) */
constexpr uint32_t kBasicFrameBytes = 0x20u;
constexpr uint32_t kExtendedFrameBytes = 0x68u;
constexpr uint32_t kExcReturnBasicFrame = 1u << 4;
constexpr uint32_t kExcReturnProcessStack = 1u << 2;
constexpr uint32_t kXpsrFramePadded = 1u << 9;

struct StatusBit {
	uint32_t mask;
	const char *name;
};

/* CFSR = UFSR:BFSR:MMFSR. STKOF is ARMv8-M only; MLSPERR/LSPERR need an
 * FPU; bits a core does not have read as zero. */
const StatusBit kCfsrBits[] = {
	{1u << 0, "MMFSR.IACCVIOL"},  {1u << 1, "MMFSR.DACCVIOL"},   {1u << 3, "MMFSR.MUNSTKERR"},
	{1u << 4, "MMFSR.MSTKERR"},   {1u << 5, "MMFSR.MLSPERR"},    {1u << 7, "MMFSR.MMARVALID"},
	{1u << 8, "BFSR.IBUSERR"},    {1u << 9, "BFSR.PRECISERR"},   {1u << 10, "BFSR.IMPRECISERR"},
	{1u << 11, "BFSR.UNSTKERR"},  {1u << 12, "BFSR.STKERR"},     {1u << 13, "BFSR.LSPERR"},
	{1u << 15, "BFSR.BFARVALID"}, {1u << 16, "UFSR.UNDEFINSTR"}, {1u << 17, "UFSR.INVSTATE"},
	{1u << 18, "UFSR.INVPC"},     {1u << 19, "UFSR.NOCP"},       {1u << 20, "UFSR.STKOF"},
	{1u << 24, "UFSR.UNALIGNED"}, {1u << 25, "UFSR.DIVBYZERO"},
};
const StatusBit kHfsrBits[] = {
	{1u << 1, "HFSR.VECTTBL"},
	{1u << 30, "HFSR.FORCED"},
	{1u << 31, "HFSR.DEBUGEVT"},
};
#if KMM_CORTEX_M_V8M_MAIN
const StatusBit kSfsrBits[] = {
	{1u << 0, "INVEP"},  {1u << 1, "INVIS"},  {1u << 2, "INVER"},     {1u << 3, "AUVIOL"},
	{1u << 4, "INVTRAN"}, {1u << 5, "LSPERR"}, {1u << 6, "SFARVALID"}, {1u << 7, "LSERR"},
};
#endif

template <unsigned N> void put_status_bits(const StatusBit (&bits)[N], uint32_t value)
{
	for (const StatusBit &bit : bits) {
		if ((value & bit.mask) != 0) {
			put(" ");
			put(bit.name);
		}
	}
}

#if KMM_CORTEX_M_V8M_MAIN
/* Whether this code runs in Secure state: TT reports the security of an
 * address (bit 22, S) only to Secure callers, and Secure code runs from
 * Secure memory; from Non-secure state the bit reads as zero. */
bool running_secure()
{
	uint32_t response;
	__asm__ volatile("tt %0, %1" : "=r"(response) : "r"(reinterpret_cast<uintptr_t>(&running_secure)));
	return (response & (1u << 22)) != 0;
}

uint32_t psplim()
{
	uint32_t value;
	__asm__ volatile("mrs %0, psplim" : "=r"(value));
	return value;
}
#endif

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

/* The entry point: naked, so that on ARMv8-M nothing touches the stack
 * before its limit is set. MSPLIM = __stack_bottom (8-byte aligned, as the
 * register needs): a main-stack overflow is then a UsageFault (UFSR.STKOF)
 * at the instruction that would cross it, with nothing written below the
 * stack, instead of a run into whatever lies there (a fault only where
 * nothing is mapped). Set first, even though it is 0 after a reset: a
 * bootloader that started this image may have left its own. PSPLIM stays
 * as it is: kmm runs on the main stack only; firmware that puts threads on
 * the process stack sets PSPLIM to each thread stack's bottom. */
extern "C" __attribute__((naked)) void Reset_Handler(void)
{
	__asm__ volatile(
#if KMM_CORTEX_M_V8M_MAIN
		"movw r0, #:lower16:__stack_bottom\n\t"
		"movt r0, #:upper16:__stack_bottom\n\t"
		"msr msplim, r0\n\t"
		"isb\n\t"
#endif
		"b kmm_cortex_m_reset\n\t");
}

extern "C" void kmm_cortex_m_reset(void)
{
	/* This image's table, wherever it is linked: a bootloader that
	 * started it leaves VTOR at its own (0 at reset), and every fault
	 * and IRQ would go to the bootloader's handlers. */
	reg(kScbVtor) = reinterpret_cast<uintptr_t>(&kmm_cortex_m_vectors);
	__asm__ volatile("dsb\n\tisb" ::: "memory");
	/* Precise faults instead of everything escalating to HardFault; in
	 * Secure state on ARMv8-M SecureFault too (SHCSR's bit is RAZ/WI from
	 * Non-secure, reserved on ARMv7-M). */
	uint32_t faults = kShcsrFaultsEnabled;
#if KMM_CORTEX_M_V8M_MAIN
	if (running_secure())
		faults |= kShcsrSecureFaultEnabled;
#endif
	reg(kScbShcsr) |= faults;
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
 * returns, so it may start from that stack's top every time).
 *
 * ARMv8-M: a stack-limit violation in the exception entry's own stacking
 * (an overflow that stopped less than a frame above MSPLIM) leaves MSP =
 * MSPLIM with no frame written, and a handler that pushed there would
 * overflow again (UsageFault escalated to HardFault, or a lockup at
 * HardFault's priority). So the stub saves MSPLIM for the report (r3)
 * and moves the limit to the fault stack's bottom before it switches to
 * that stack: no push here ever meets the main stack's limit, and an
 * overflow of the fault stack itself is caught too. */
extern "C" __attribute__((naked)) void kmm_cortex_m_fault_handler(void)
{
	__asm__ volatile(
		"tst lr, #4\n\t"
		"ite eq\n\t"
		"mrseq r0, msp\n\t"
		"mrsne r0, psp\n\t"
		"mov r1, lr\n\t"
#if KMM_CORTEX_M_V8M_MAIN
		"mrs r3, msplim\n\t"
		"movw r2, #:lower16:kmm_cortex_m_fault_stack\n\t"
		"movt r2, #:upper16:kmm_cortex_m_fault_stack\n\t"
		"msr msplim, r2\n\t"
		"isb\n\t"
#else
		"movs r3, #0\n\t"
#endif
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

/* msplim: MSPLIM as the fault found it (0 before ARMv8-M), saved by the
 * stub before it moved the limit to the fault stack. */
extern "C" void kmm_cortex_m_fault(const uint32_t *frame, uint32_t exc_return, const uint32_t *r4_r11,
				   uint32_t msplim)
{
	/* A fault while reporting one: do not recurse, just stop. */
	if (g_in_fault)
		kmm_arch_exit(KMM_EXIT_FAULT);
	g_in_fault = true;

	uint32_t ipsr;
	__asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
	uint32_t number = ipsr & 0x1ffu;
	uint32_t cfsr = reg(kScbCfsr);
	uint32_t hfsr = reg(kScbHfsr);
	uint32_t stacking_error = cfsr & (kCfsrMstkerr | kCfsrStkerr);
	uintptr_t frame_address = reinterpret_cast<uintptr_t>(frame);
#if KMM_CORTEX_M_V8M_MAIN
	uint32_t process_limit = psplim();
#else
	uint32_t process_limit = 0;
#endif
	/* STKOF with the frame exactly at the stack's limit: the exception
	 * entry's stacking would have crossed it, so the hardware set SP to
	 * the limit and wrote no frame (the architecture does not write below
	 * the limit and may or may not write above it). A frame that happened
	 * to fit exactly is taken for one that was not stacked: better no
	 * registers than stale ones. */
	uint32_t limit = (exc_return & kExcReturnProcessStack) != 0 ? process_limit : msplim;
	bool stopped_at_limit = (cfsr & kCfsrStkof) != 0 && frame_address == limit;
	bool stacked = stacking_error == 0 && !stopped_at_limit;
	put("\n*** ");
	put(exception_name(number));
	put_hex(" (exception", number);
	put(") ***\n");
	if (stacked) {
		put_hex("  r0 ", frame[0]);
		put_hex("  r1 ", frame[1]);
		put_hex("  r2 ", frame[2]);
		put_hex("  r3 ", frame[3]);
	} else {
		put("  r0-r3, r12, lr, pc, psr unknown: no frame stacked");
		if (stacking_error != 0)
			put((stacking_error & kCfsrStkerr) != 0 ? " (CFSR.STKERR)" : " (CFSR.MSTKERR)");
		else
			put(" (UFSR.STKOF: the exception entry stopped at the stack limit)");
	}
	static const char *const kCalleeSaved[] = {"\n  r4 ", "  r5 ", "  r6 ", "  r7 ",
						   "\n  r8 ", "  r9 ", "  r10", "  r11"};
	for (unsigned i = 0; i < 8; ++i)
		put_hex(kCalleeSaved[i], r4_r11[i]);
	uintptr_t sp = frame_address +
		       ((exc_return & kExcReturnBasicFrame) != 0 ? kBasicFrameBytes : kExtendedFrameBytes);
	if (stacked) {
		put_hex("\n  r12", frame[4]);
		put_hex("  lr ", frame[5]);
		put_hex("  pc ", frame[6]);
		put_hex("  psr", frame[7]);
		sp += (frame[7] & kXpsrFramePadded) != 0 ? 4u : 0u;
		put_hex("\n  sp ", static_cast<uint32_t>(sp));
		put(" (before the fault;");
	} else if (stacking_error != 0) {
		put_hex("\n  sp ", static_cast<uint32_t>(sp));
		put(" (before the fault, + 4 if the frame was padded;");
	} else {
		/* The entry computed SP - frame (- 4 of padding) < limit. */
		put_hex("\n  sp  from", static_cast<uint32_t>(frame_address));
		put_hex(" to below", static_cast<uint32_t>(sp));
		put(" before the fault (+ 4 if the frame was padded; the entry left SP at the limit,");
	}
	put_hex(" frame at", static_cast<uint32_t>(frame_address));
	put(")");
	put_hex("\n  exc_return", exc_return);
	put_hex("\n  CFSR", cfsr);
	put_hex("  HFSR", hfsr);
	if ((cfsr | hfsr) != 0) {
		put("\n  fault status:");
		put_status_bits(kCfsrBits, cfsr);
		put_status_bits(kHfsrBits, hfsr);
		if ((cfsr & kCfsrStkof) != 0)
			put(" (stack overflow: an SP would have gone below its limit)");
	}
#if KMM_CORTEX_M_V8M_MAIN
	put_hex("\n  msplim", msplim);
	put_hex("  psplim", process_limit);
#endif
	if ((cfsr & kCfsrBfarValid) != 0)
		put_hex("\n  fault address (BFAR)", reg(kScbBfar));
	else if ((cfsr & kCfsrMmarValid) != 0)
		put_hex("\n  fault address (MMFAR)", reg(kScbMmfar));
	else
		put("\n  fault address unknown (CFSR has no valid BFAR/MMFAR)");
#if KMM_CORTEX_M_V8M_MAIN
	/* Secure state only: from Non-secure the SAU's registers read as
	 * zero, and a Non-secure image has no SecureFault to report. */
	if (running_secure()) {
		uint32_t sfsr = reg(kSauSfsr);
		if (sfsr != 0) {
			put_hex("\n  SFSR", sfsr);
			put(":");
			put_status_bits(kSfsrBits, sfsr);
			if ((sfsr & kSfsrSfarValid) != 0)
				put_hex("  SFAR", reg(kSauSfar));
			else
				put("  SFAR not valid");
		}
	}
#endif
	put("\n");
	kmm_arch_exit(KMM_EXIT_FAULT);
}

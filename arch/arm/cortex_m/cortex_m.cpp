/*
 * arch/arm/cortex_m/cortex_m.cpp — the arch contract on Cortex-M (ARMv7-M,
 * ARMv8-M Mainline): IRQ save/restore through PRIMASK (weak, see below), the CPU id (always
 * 0: uniprocessor), and the default counter: DWT CYCCNT when the core has
 * one, else SysTick free-running on the core clock (24 bits, widened in
 * software: read it at least once per 2^24 clocks). A SysTick that is
 * running already (an RTOS tick) is only read, never reprogrammed: the
 * count then wraps at its reload value, so read it once per tick period.
 * Faults and startup are in startup.cpp.
 */
#include <arch/arch.h>
#include <arch/target.h>

namespace {

/* PRIMASK is the whole IRQ state: 1 = masked. cpsid i after mrs, so the
 * value returned is the state before this call. */
inline unsigned long primask_save()
{
	unsigned long primask;
	__asm__ volatile("mrs %0, primask\n\tcpsid i" : "=r"(primask) : : "memory");
	return primask;
}

volatile uint32_t &reg(uintptr_t address) { return *reinterpret_cast<volatile uint32_t *>(address); }

constexpr uintptr_t kDemcr = 0xE000EDFCu;   /* Debug Exception and Monitor Control */
constexpr uint32_t kDemcrTrcena = 1u << 24;
constexpr uintptr_t kDwtCtrl = 0xE0001000u;
constexpr uintptr_t kDwtCyccnt = 0xE0001004u;
constexpr uint32_t kDwtCtrlNoCyccnt = 1u << 25;
constexpr uint32_t kDwtCtrlCyccntena = 1u;

constexpr uintptr_t kSystCsr = 0xE000E010u; /* SysTick control and status */
constexpr uintptr_t kSystRvr = 0xE000E014u; /* reload value */
constexpr uintptr_t kSystCvr = 0xE000E018u; /* current value (counts down) */
constexpr uint32_t kSystEnableCoreClock = 1u | (1u << 2); /* ENABLE | CLKSOURCE, no TICKINT */
constexpr uint32_t kSystMask = 0x00ffffffu;
constexpr uint32_t kSystEnable = 1u;

enum CounterSource { kUnknown, kCyccnt, kSysTick };
CounterSource g_source = kUnknown;
kmm_counter32 g_cyccnt;
uint32_t g_systick_last;
uint64_t g_systick_total;

CounterSource counter_start()
{
	reg(kDemcr) |= kDemcrTrcena;
	uint32_t ctrl = reg(kDwtCtrl);
	if ((ctrl & kDwtCtrlNoCyccnt) == 0) {
		reg(kDwtCyccnt) = 0;
		reg(kDwtCtrl) = ctrl | kDwtCtrlCyccntena;
		if ((reg(kDwtCtrl) & kDwtCtrlCyccntena) != 0)
			return kCyccnt;
	}
	/* running already (an RTOS tick): read it, never reprogram it */
	if ((reg(kSystCsr) & kSystEnable) == 0) {
		reg(kSystRvr) = kSystMask;
		reg(kSystCvr) = 0; /* any write clears it */
		reg(kSystCsr) = kSystEnableCoreClock;
	}
	g_systick_last = reg(kSystCvr) & kSystMask;
	return kSysTick;
}

} // namespace

extern "C" {

/* Weak: an IRQ-window measurement image (KMM_IRQ_TRACE, arch/irq.h)
 * replaces both with traced versions; every other image keeps these. */
__attribute__((weak)) unsigned long kmm_arch_irq_save(void) { return primask_save(); }

__attribute__((weak)) void kmm_arch_irq_restore(unsigned long flags)
{
	__asm__ volatile("msr primask, %0" : : "r"(flags) : "memory");
}

unsigned int kmm_arch_cpu_id(void) { return 0; }

/* Uniprocessor: no other CPU to start or call; a call to CPU 0 runs
 * here, IRQs masked. */
int kmm_arch_cpu_start(const struct kmm_cpu_boot *) { return -1; }
int kmm_arch_cpu_call(unsigned int cpu, void (*fn)(void *arg), void *arg)
{
	if (cpu != 0 || fn == nullptr)
		return -1;
	unsigned long flags = kmm_arch_irq_save();
	fn(arg);
	kmm_arch_irq_restore(flags);
	return 0;
}
void kmm_arch_cpu_calls_enable(void) {}
void kmm_arch_cpu_call_poll(void) {}
int kmm_arch_cpus_stop(void) { return 0; } /* there is no other CPU */
void kmm_arch_cpus_resume(void) {}
void kmm_arch_cpu_relax(void) { __asm__ volatile("nop" ::: "memory"); }
void kmm_arch_cpu_wake_all(void) {}
void kmm_arch_cpu_park(void)
{
	__asm__ volatile("cpsid i" ::: "memory");
	for (;;)
		__asm__ volatile("wfi");
}

__attribute__((weak)) const char *kmm_board_counter_unit(void)
{
	if (g_source == kCyccnt)
		return "cycles (DWT CYCCNT)";
	/* CLKSOURCE: the core clock, or (an RTOS's choice) the reference clock */
	return (reg(kSystCsr) & (1u << 2)) != 0 ? "core clocks (SysTick)" : "reference clocks (SysTick)";
}

/* Starts the counter on first use (so call it once early). */
__attribute__((weak)) uint64_t kmm_board_counter(void)
{
	unsigned long flags = primask_save();
	if (g_source == kUnknown)
		g_source = counter_start();
	uint64_t now;
	if (g_source == kCyccnt) {
		now = kmm_counter_extend(&g_cyccnt, reg(kDwtCyccnt));
	} else {
		/* it counts down from the reload value, which an RTOS may set
		 * (or change) at any time: read it each time (one wrap at most
		 * is seen between two reads; a reload of 0 has stopped it) */
		uint32_t value = reg(kSystCvr) & kSystMask;
		uint32_t modulus = (reg(kSystRvr) & kSystMask) + 1;
		g_systick_total += (g_systick_last + modulus - value) % modulus;
		g_systick_last = value;
		now = g_systick_total;
	}
	kmm_arch_irq_restore(flags);
	return now;
}

} // extern "C"

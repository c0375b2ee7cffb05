/*
 * arch/arm/cortex_a/cortex_a.cpp — the arch contract on Cortex-A (ARMv7-A):
 * IRQ save/restore through the CPSR I bit, the CPU id (MPIDR Aff0), and
 * the default counter: the PMU cycle counter PMCCNTR when the core has a
 * PMU, else the generic timer's virtual count CNTVCT scaled to nanoseconds.
 * Under QEMU -icount shift=0 both count instructions (QEMU's cycle counter
 * runs at 1 GHz of virtual time, one instruction per ns). Startup and
 * exceptions are in startup.cpp.
 */
#include <arch/arch.h>
#include <arch/cpu.h>
#include <arch/target.h>

namespace {

/* mrs, then cpsid i: the value returned is the state before this call. */
inline unsigned long cpsr_save()
{
	unsigned long cpsr;
	__asm__ volatile("mrs %0, cpsr\n\tcpsid i" : "=r"(cpsr) : : "memory");
	return cpsr;
}

uint32_t read_id_dfr0() { uint32_t v; __asm__ volatile("mrc p15, 0, %0, c0, c1, 2" : "=r"(v)); return v; }
uint32_t read_id_pfr1() { uint32_t v; __asm__ volatile("mrc p15, 0, %0, c0, c1, 1" : "=r"(v)); return v; }
uint32_t read_pmccntr() { uint32_t v; __asm__ volatile("mrc p15, 0, %0, c9, c13, 0" : "=r"(v)); return v; }
uint32_t read_cntfrq() { uint32_t v; __asm__ volatile("mrc p15, 0, %0, c14, c0, 0" : "=r"(v)); return v; }
uint64_t read_cntvct()
{
	uint32_t lo, hi;
	__asm__ volatile("isb\n\tmrrc p15, 1, %0, %1, c14" : "=r"(lo), "=r"(hi));
	return (static_cast<uint64_t>(hi) << 32) | lo;
}

constexpr uint32_t kPmcrEnable = 1u << 0;      /* E */
constexpr uint32_t kPmcrCycleReset = 1u << 2;  /* C */
constexpr uint32_t kPmcrDivide64 = 1u << 3;    /* D: count every 64th cycle */
constexpr uint32_t kPmcntenCycle = 1u << 31;   /* PMCNTENSET.C */

enum CounterSource { kUnknown, kPmccntr, kCntvct, kNone };
CounterSource g_source = kUnknown;
/* The PMU is per core: each core's cycle counter is enabled by its own
 * first read and widened by its own state (a shared state would count a
 * wrap whenever two cores' counts cross). Two cores' values are therefore
 * not comparable; the generic timer, when it is the source, is global. */
kmm_counter32 g_pmccntr[KMM_ARCH_MAX_CPUS];
bool g_pmu_started[KMM_ARCH_MAX_CPUS];

void pmu_start()
{
	uint32_t pmcr;
	__asm__ volatile("mrc p15, 0, %0, c9, c12, 0" : "=r"(pmcr));
	pmcr = (pmcr | kPmcrEnable | kPmcrCycleReset) & ~kPmcrDivide64;
	__asm__ volatile("mcr p15, 0, %0, c9, c12, 0" : : "r"(pmcr));
	__asm__ volatile("mcr p15, 0, %0, c9, c12, 1" : : "r"(kPmcntenCycle));
	__asm__ volatile("isb");
}
uint64_t g_cntvct_start;
uint32_t g_ns_per_tick = 1;

CounterSource counter_start()
{
	uint32_t perfmon = (read_id_dfr0() >> 24) & 0xfu; /* 0: none, 0xf: not architected */
	if (perfmon != 0 && perfmon != 0xfu)
		return kPmccntr; /* each core starts its own at its first read */
	if (((read_id_pfr1() >> 16) & 0xfu) != 0) { /* generic timer */
		uint32_t freq = read_cntfrq();
		if (freq != 0 && freq <= 1000000000u && 1000000000u % freq == 0)
			g_ns_per_tick = 1000000000u / freq;
		g_cntvct_start = read_cntvct();
		return kCntvct;
	}
	return kNone;
}

} // namespace

extern "C" {

unsigned long kmm_arch_irq_save(void) { return cpsr_save(); }

/* Only the control byte: restores I (and F, unchanged), keeps the mode. */
void kmm_arch_irq_restore(unsigned long flags)
{
	__asm__ volatile("msr cpsr_c, %0" : : "r"(flags) : "memory");
}

unsigned int kmm_arch_cpu_id(void)
{
	return kmm::arch::cpu_id(); /* MPIDR.Aff0, as mm's inline paths read it */
}

__attribute__((weak)) const char *kmm_board_counter_unit(void)
{
	switch (g_source) {
	case kPmccntr: return "cycles (PMCCNTR; instructions with -icount shift=0)";
	case kCntvct:
		return g_ns_per_tick != 1 ? "ns (CNTVCT x period; instructions with -icount shift=0)"
					  : "generic timer ticks (CNTVCT)";
	default: return "nothing (no PMU, no generic timer)";
	}
}

/* Starts the counter on first use (so call it once early). */
__attribute__((weak)) uint64_t kmm_board_counter(void)
{
	unsigned long flags = cpsr_save();
	if (g_source == kUnknown)
		g_source = counter_start();
	uint64_t now = 0;
	if (g_source == kPmccntr) {
		unsigned int cpu = kmm_arch_cpu_id() % KMM_ARCH_MAX_CPUS;
		if (!g_pmu_started[cpu]) {
			pmu_start();
			g_pmu_started[cpu] = true;
		}
		now = kmm_counter_extend(&g_pmccntr[cpu], read_pmccntr());
	} else if (g_source == kCntvct)
		now = (read_cntvct() - g_cntvct_start) * g_ns_per_tick;
	kmm_arch_irq_restore(flags);
	return now;
}

} // extern "C"

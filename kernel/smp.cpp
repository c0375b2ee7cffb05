/*
 * kernel/smp.cpp — other CPUs for the kernel (see kernel/smp.h): one static
 * stack per secondary CPU (kSmpStackBytes; its top KMM_CPU_EXCEPTION_STACK
 * bytes are the CPU's exception/trap stack), the start through the arch,
 * and a tiny dispatcher: CPU 0 publishes (fn, ctx) and bumps a generation
 * number; each secondary waits for a new generation (kmm_arch_cpu_relax:
 * WFE on ARMv7-A), runs fn(cpu, ctx), counts itself done and wakes CPU 0
 * (kmm_arch_cpu_wake_all: SEV). fn == NULL parks them for good.
 *
 * Every CPU brought up here (CPU 0 too) takes cross-CPU calls
 * (kmm_arch_cpu_calls_enable: its IRQs are enabled from then on, for the
 * call IPI only), so the slab layer drains other CPUs' caches at once
 * (kmm_arch_cpu_call); a parked CPU takes none.
 *
 * CPU ids are the arch's (kmm_arch_cpu_id: MPIDR Aff0, mhartid); the
 * secondary checks that the id it runs with is the one it was started as.
 */
#include <kernel/smp.h>

#include <arch/arch.h>
#include <arch/target.h>
#include <kernel/panic.h>
#include <kernel/printk.h>
#include <kmm/config.h>

namespace {

constexpr size_t kSmpStackBytes = KMM_NR_CPUS > 1 ? 16384 : 16;
constexpr unsigned kSecondaries = KMM_NR_CPUS > 1 ? KMM_NR_CPUS - 1 : 1;
constexpr unsigned long kOnlineSpins = 100000000ul;

alignas(16) uint8_t g_stacks[kSecondaries][kSmpStackBytes];
kmm_cpu_boot g_boot[kSecondaries];
bool g_booted;
unsigned g_online = 1;
unsigned g_generation;
unsigned g_done;
void (*g_fn)(unsigned, void *);
void *g_ctx;
bool g_parked;

void secondary_main(unsigned cpu)
{
	if (kmm_arch_cpu_id() != cpu)
		panic("smp: cpu %u runs with id %u", cpu, kmm_arch_cpu_id());
	unsigned seen = __atomic_load_n(&g_generation, __ATOMIC_ACQUIRE);
	kmm_arch_cpu_calls_enable(); /* IRQs on from here: cross-CPU calls */
	__atomic_add_fetch(&g_online, 1u, __ATOMIC_RELEASE);
	kmm_arch_cpu_wake_all();
	for (;;) {
		unsigned gen;
		while ((gen = __atomic_load_n(&g_generation, __ATOMIC_ACQUIRE)) == seen)
			kmm_arch_cpu_relax();
		seen = gen;
		void (*fn)(unsigned, void *) = g_fn;
		if (fn == nullptr)
			kmm_arch_cpu_park();
		fn(cpu, g_ctx);
		__atomic_add_fetch(&g_done, 1u, __ATOMIC_RELEASE);
		kmm_arch_cpu_wake_all();
	}
}

} // namespace

unsigned int smp_boot_cpus(void)
{
	if (g_booted || KMM_NR_CPUS == 1)
		return g_online;
	g_booted = true;
	kmm_arch_cpu_calls_enable(); /* CPU 0 takes cross-CPU calls too */
	for (unsigned cpu = 1; cpu < KMM_NR_CPUS; ++cpu) {
		kmm_cpu_boot &b = g_boot[cpu - 1];
		b.stack_top = reinterpret_cast<uintptr_t>(g_stacks[cpu - 1] + kSmpStackBytes);
		b.entry = secondary_main;
		b.cpu = cpu;
		unsigned before = __atomic_load_n(&g_online, __ATOMIC_ACQUIRE);
		int err = kmm_arch_cpu_start(&b);
		if (err != 0) {
			printk("smp: cpu %u did not start: %d\n", cpu, err);
			continue;
		}
		unsigned long spins = 0;
		while (__atomic_load_n(&g_online, __ATOMIC_ACQUIRE) == before && spins++ < kOnlineSpins)
			kmm_arch_cpu_relax();
		if (__atomic_load_n(&g_online, __ATOMIC_ACQUIRE) == before)
			printk("smp: cpu %u started but never came online\n", cpu);
		else
			printk("smp: cpu %u online (stack %#lx-%#lx)\n", cpu,
			       static_cast<unsigned long>(b.stack_top - kSmpStackBytes),
			       static_cast<unsigned long>(b.stack_top));
	}
	return g_online;
}

unsigned int smp_cpus_online(void) { return __atomic_load_n(&g_online, __ATOMIC_ACQUIRE); }

void smp_run_on_all(void (*fn)(unsigned int cpu, void *ctx), void *ctx)
{
	unsigned others = g_parked ? 0 : smp_cpus_online() - 1;
	if (others != 0) {
		g_fn = fn;
		g_ctx = ctx;
		__atomic_store_n(&g_done, 0u, __ATOMIC_RELAXED);
		__atomic_add_fetch(&g_generation, 1u, __ATOMIC_RELEASE);
		kmm_arch_cpu_wake_all();
	}
	if (fn != nullptr)
		fn(0, ctx);
	while (__atomic_load_n(&g_done, __ATOMIC_ACQUIRE) != others && fn != nullptr)
		kmm_arch_cpu_relax();
}

void smp_park_others(void)
{
	if (g_parked || smp_cpus_online() == 1)
		return;
	smp_run_on_all(nullptr, nullptr);
	g_parked = true;
}

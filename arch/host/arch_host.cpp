/*
 * arch/host/arch_host.cpp — the arch contract on the development machine.
 *
 * This is the one hosted file under arch/: it stands in for a CPU so every
 * test runs on the host. Interrupts do not exist here, so irq_save/restore
 * only keep the compiler from moving memory accesses across them; threads
 * stand in for CPUs (kmm_arch_cpu_id maps a thread to a CPU index).
 */
#include <arch/arch.h>
#include <kmm/config.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>

extern "C" unsigned long kmm_arch_irq_save(void)
{
	std::atomic_signal_fence(std::memory_order_seq_cst);
	return 0;
}

extern "C" void kmm_arch_irq_restore(unsigned long)
{
	std::atomic_signal_fence(std::memory_order_seq_cst);
}

namespace {
std::atomic<unsigned> next_cpu{0};
thread_local unsigned this_cpu = ~0u;
} // namespace

/* Threads are dealt CPU indices round-robin on first use; with more threads
 * than KMM_NR_CPUS several threads share a CPU index (and so its per-CPU
 * data, which the per-CPU lock protects). */
extern "C" unsigned int kmm_arch_cpu_id(void)
{
	if (this_cpu == ~0u)
		this_cpu = next_cpu.fetch_add(1, std::memory_order_relaxed) % KMM_NR_CPUS;
	return this_cpu;
}

extern "C" void kmm_arch_console_write(const char *text, size_t len)
{
	std::fwrite(text, 1, len, stdout);
	std::fflush(stdout);
}

extern "C" void kmm_arch_panic(const char *message)
{
	std::fprintf(stderr, "kmm panic: %s\n", message);
	std::fflush(stderr);
	std::abort();
}

extern "C" uint64_t kmm_arch_counter(void)
{
	return static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
}

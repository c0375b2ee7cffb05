/*
 * arch/host/arch_host.cpp — the arch contract on the development machine.
 *
 * This is the one hosted file under arch/: it stands in for a CPU so every
 * test runs on the host. Interrupts do not exist here, so irq_save/restore
 * only keep the compiler from moving memory accesses across them; threads
 * stand in for CPUs (kmm_arch_cpu_id maps a thread to a CPU index).
 *
 * Host CPU model (docs/DESIGN.md "Host CPU model"):
 *   - a thread is dealt a CPU slot on its first kmm_arch_cpu_id(): the slot
 *     with the fewest live threads, the lowest index among equals; it keeps
 *     it until it exits, when a thread_local destructor gives it back. With
 *     at most KMM_NR_CPUS live threads every thread has a slot of its own;
 *     with more, threads share slots.
 *   - a host thread can be preempted anywhere, and slot-sharing threads run
 *     at the same time, so "IRQs masked on this CPU" (which on a target
 *     means nothing else runs on it) is emulated for the slab layer's
 *     per-CPU data by a per-slot hold: kmm_host_cpu_hold() takes the
 *     calling thread's slot (nesting), kmm_host_cpu_unhold() gives it back.
 *   - kmm_arch_cpu_call(cpu, fn, arg) holds that CPU's slot from outside
 *     and runs fn there: the emulated IPI. The caller then runs "on" that
 *     CPU (its owner waits at its next hold) and may drain its per-CPU
 *     data. A caller holding its own slot ("IRQs masked") is refused, as
 *     on a target, where such a wait can deadlock.
 *   - kmm_arch_cpus_stop() holds every other slot: the other CPUs are
 *     "stopped" until kmm_arch_cpus_resume().
 */
#include <arch/arch.h>
#include <kmm/config.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>

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

struct alignas(64) Slot { /* a cache line each: holds are per-CPU traffic */
	std::atomic<unsigned> threads{0}; /* live threads dealt this slot */
	std::atomic<uint32_t> hold{0};    /* the emulated "IRQs masked" word */
};
Slot slots[KMM_NR_CPUS];
std::mutex deal_lock; /* dealing is rare: first use of each thread */

void take(Slot &slot)
{
	while (slot.hold.exchange(1, std::memory_order_acquire) != 0)
		while (slot.hold.load(std::memory_order_relaxed) != 0)
			std::this_thread::yield(); /* the holder may be preempted */
}
void give(Slot &slot) { slot.hold.store(0, std::memory_order_release); }

/* The calling thread's slot, dealt on first use, given back at exit. */
struct ThreadCpu {
	unsigned cpu = ~0u;
	unsigned depth = 0; /* nested kmm_host_cpu_hold()s */
	unsigned deal()
	{
		std::lock_guard<std::mutex> guard(deal_lock);
		unsigned best = 0, fewest = ~0u;
		for (unsigned i = 0; i < KMM_NR_CPUS; ++i) {
			unsigned n = slots[i].threads.load(std::memory_order_relaxed);
			if (n < fewest) {
				best = i;
				fewest = n;
			}
		}
		slots[best].threads.fetch_add(1, std::memory_order_relaxed);
		cpu = best;
		return cpu;
	}
	~ThreadCpu()
	{
		if (cpu != ~0u) {
			std::lock_guard<std::mutex> guard(deal_lock);
			slots[cpu].threads.fetch_sub(1, std::memory_order_relaxed);
		}
	}
};
thread_local ThreadCpu this_thread_cpu;

} // namespace

extern "C" unsigned int kmm_arch_cpu_id(void)
{
	ThreadCpu &t = this_thread_cpu;
	return t.cpu != ~0u ? t.cpu : t.deal();
}

/* ---- host-only: the slot hold (see the top of this file) ---- */

extern "C" unsigned int kmm_host_cpu_hold(void)
{
	ThreadCpu &t = this_thread_cpu;
	unsigned cpu = t.cpu != ~0u ? t.cpu : t.deal();
	if (t.depth++ == 0)
		take(slots[cpu]);
	return cpu;
}

extern "C" void kmm_host_cpu_unhold(void)
{
	ThreadCpu &t = this_thread_cpu;
	if (t.depth == 0 || t.cpu == ~0u)
		kmm_arch_panic("kmm_host_cpu_unhold without a hold");
	if (--t.depth == 0)
		give(slots[t.cpu]);
}

extern "C" int kmm_arch_cpu_call(unsigned int cpu, void (*fn)(void *arg), void *arg)
{
	if (cpu >= KMM_NR_CPUS || fn == nullptr || this_thread_cpu.depth != 0)
		return -1;
	take(slots[cpu]);
	fn(arg);
	give(slots[cpu]);
	return 0;
}

/* Holds every other slot, in index order (two stoppers cannot deadlock;
 * stop_lock makes them take turns anyway). */
std::mutex stop_lock;

extern "C" int kmm_arch_cpus_stop(void)
{
	ThreadCpu &t = this_thread_cpu;
	if (t.depth != 0)
		return -1;
	unsigned self = kmm_arch_cpu_id();
	stop_lock.lock();
	for (unsigned cpu = 0; cpu < KMM_NR_CPUS; ++cpu)
		if (cpu != self)
			take(slots[cpu]);
	return 0;
}

extern "C" void kmm_arch_cpus_resume(void)
{
	unsigned self = kmm_arch_cpu_id();
	for (unsigned cpu = KMM_NR_CPUS; cpu-- > 0;)
		if (cpu != self)
			give(slots[cpu]);
	stop_lock.unlock();
}

extern "C" unsigned int kmm_host_cpu_threads(unsigned int cpu)
{
	return cpu < KMM_NR_CPUS ? slots[cpu].threads.load(std::memory_order_relaxed) : 0;
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

/*
 * arch/common/cpu_call.cpp — kmm_arch_cpu_call on the SMP targets
 * (Cortex-A, RISC-V): run a function on another CPU, with its IRQs masked,
 * and wait for it. The arch supplies the IPI (arch/target.h "cross-CPU
 * calls"); this file owns the protocol, one mailbox per CPU:
 *
 *   lock      one caller at a time per target CPU; taken and held with
 *             the caller's IRQs enabled, so a call to the caller itself
 *             is served while it spins or waits (two CPUs calling each
 *             other both make progress)
 *   online    the CPU takes calls: set by kmm_arch_cpu_calls_enable,
 *             cleared by kmm_cpu_calls_disable (park) under the lock
 *   fn, arg   the call; posted / done: sequence numbers. The caller
 *             writes fn and arg, then posted (release), sends the IPI and
 *             waits for done == posted; the target's IPI handler runs fn
 *             and stores done (release), then wakes waiters (SEV).
 *
 * Refused (-1, nothing runs): a CPU out of range, a CPU not online, a
 * caller with IRQs masked (it could not serve a call to itself while
 * waiting: two such CPUs would wait for each other forever). A call to the
 * running CPU runs in place with IRQs masked.
 *
 * kmm_arch_cpus_stop / kmm_arch_cpus_resume ride on the same IPI: the
 * stopper (one at a time: g_stop_lock, taken with IRQs on) sets each other
 * CPU's `stop` flag, then reads its `online` flag, and raises the IPI on
 * the online ones; their handler sets `stopped` and spins (IRQs masked)
 * until `stop` is cleared. The stopper waits for `stopped` on every CPU it
 * counted. A CPU parking concurrently clears `online`, then reads `stop`
 * (both seq_cst): either the stopper sees it offline and does not wait for
 * it, or the parking CPU sees the request and stops before it parks.
 */
#include <arch/arch.h>
#include <arch/target.h>

namespace {

struct alignas(64) Mailbox {
	uint32_t lock;
	uint32_t online;
	void (*fn)(void *);
	void *arg;
	uint32_t posted;
	uint32_t done;
	uint32_t stop;    /* set by the stopper: stop here */
	uint32_t stopped; /* set by this CPU while it is stopped */
	uint32_t serving; /* this CPU runs fn (only it touches this) */
};
Mailbox g_box[KMM_ARCH_MAX_CPUS];
uint32_t g_stop_lock;
bool g_counted[KMM_ARCH_MAX_CPUS]; /* the stopper's: CPUs it waits for */

/* This CPU, IRQs masked: stop while asked to. */
void stop_if_asked(Mailbox &b)
{
	if (__atomic_load_n(&b.stop, __ATOMIC_SEQ_CST) == 0)
		return;
	__atomic_store_n(&b.stopped, 1u, __ATOMIC_RELEASE);
	kmm_arch_cpu_wake_all();
	while (__atomic_load_n(&b.stop, __ATOMIC_ACQUIRE) != 0)
		kmm_arch_cpu_relax();
	__atomic_store_n(&b.stopped, 0u, __ATOMIC_RELEASE);
	/* the resumer waits for this 0 (in WFE on ARMv7-A): a plain store
	 * sends no event, and the resumer's own SEV is spent by then */
	kmm_arch_cpu_wake_all();
}

/* A caller with IRQs masked could not serve calls while it waits. */
bool caller_irqs_masked()
{
	unsigned long flags = kmm_arch_irq_save();
	kmm_arch_irq_restore(flags);
	return kmm_arch_irq_flags_masked(flags) != 0;
}

bool try_lock(Mailbox &b) { return __atomic_exchange_n(&b.lock, 1u, __ATOMIC_ACQUIRE) == 0; }

void unlock(Mailbox &b)
{
	__atomic_store_n(&b.lock, 0u, __ATOMIC_RELEASE);
	kmm_arch_cpu_wake_all();
}

} // namespace

extern "C" {

void kmm_cpu_call_serve(void)
{
	unsigned cpu = kmm_arch_cpu_id();
	if (cpu >= KMM_ARCH_MAX_CPUS)
		return;
	Mailbox &b = g_box[cpu];
	uint32_t posted = __atomic_load_n(&b.posted, __ATOMIC_ACQUIRE);
	if (posted != b.done && b.serving == 0) { /* a poll inside fn: not fn again */
		b.serving = 1;
		b.fn(b.arg);
		b.serving = 0;
		__atomic_store_n(&b.done, posted, __ATOMIC_RELEASE);
		kmm_arch_cpu_wake_all();
	}
	stop_if_asked(b);
}

void kmm_arch_cpu_call_poll(void)
{
	if (caller_irqs_masked()) /* else the IPI handler serves: never both */
		kmm_cpu_call_serve();
}

void kmm_arch_cpu_calls_enable(void)
{
	unsigned cpu = kmm_arch_cpu_id();
	if (cpu >= KMM_ARCH_MAX_CPUS)
		return;
	__atomic_store_n(&g_box[cpu].online, 1u, __ATOMIC_RELEASE);
	kmm_arch_ipi_enable();
}

void kmm_cpu_calls_disable(void)
{
	unsigned cpu = kmm_arch_cpu_id();
	if (cpu >= KMM_ARCH_MAX_CPUS)
		return;
	Mailbox &b = g_box[cpu];
	/* A caller holding the lock waits for us: serve it while we wait. */
	while (!try_lock(b))
		kmm_cpu_call_serve();
	__atomic_store_n(&b.online, 0u, __ATOMIC_SEQ_CST);
	unlock(b);
	stop_if_asked(b); /* a stopper that saw us online waits for us */
	kmm_arch_ipi_disable();
}

int kmm_arch_cpus_stop(void)
{
	if (caller_irqs_masked())
		return -1;
	while (__atomic_exchange_n(&g_stop_lock, 1u, __ATOMIC_ACQUIRE) != 0)
		kmm_arch_cpu_relax(); /* IRQs on: another stopper may stop us */
	unsigned self = kmm_arch_cpu_id();
	for (unsigned cpu = 0; cpu < KMM_ARCH_MAX_CPUS; ++cpu) {
		Mailbox &b = g_box[cpu];
		g_counted[cpu] = false;
		if (cpu == self)
			continue;
		__atomic_store_n(&b.stop, 1u, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&b.online, __ATOMIC_SEQ_CST) != 0) {
			g_counted[cpu] = true;
			kmm_arch_ipi_send(cpu);
		}
	}
	for (unsigned cpu = 0; cpu < KMM_ARCH_MAX_CPUS; ++cpu)
		while (g_counted[cpu] && __atomic_load_n(&g_box[cpu].stopped, __ATOMIC_ACQUIRE) == 0)
			kmm_arch_cpu_relax();
	return 0;
}

void kmm_arch_cpus_resume(void)
{
	for (unsigned cpu = 0; cpu < KMM_ARCH_MAX_CPUS; ++cpu)
		__atomic_store_n(&g_box[cpu].stop, 0u, __ATOMIC_RELEASE);
	kmm_arch_cpu_wake_all();
	/* Each stopped CPU has left its loop before the next stop may start:
	 * else it could miss the 0 and count as stopped for the next one. */
	for (unsigned cpu = 0; cpu < KMM_ARCH_MAX_CPUS; ++cpu)
		while (g_counted[cpu] && __atomic_load_n(&g_box[cpu].stopped, __ATOMIC_ACQUIRE) != 0)
			kmm_arch_cpu_relax();
	__atomic_store_n(&g_stop_lock, 0u, __ATOMIC_RELEASE);
	kmm_arch_cpu_wake_all();
}

int kmm_arch_cpu_call(unsigned int cpu, void (*fn)(void *arg), void *arg)
{
	if (cpu >= KMM_ARCH_MAX_CPUS || fn == nullptr)
		return -1;
	if (cpu == kmm_arch_cpu_id()) {
		unsigned long flags = kmm_arch_irq_save();
		fn(arg);
		kmm_arch_irq_restore(flags);
		return 0;
	}
	if (caller_irqs_masked())
		return -1;
	Mailbox &b = g_box[cpu];
	while (!try_lock(b))
		kmm_arch_cpu_relax(); /* IRQs on: calls to this CPU are served */
	int result = -1;
	if (__atomic_load_n(&b.online, __ATOMIC_ACQUIRE) != 0) {
		b.fn = fn;
		b.arg = arg;
		uint32_t seq = b.posted + 1;
		__atomic_store_n(&b.posted, seq, __ATOMIC_RELEASE);
		kmm_arch_ipi_send(cpu);
		while (__atomic_load_n(&b.done, __ATOMIC_ACQUIRE) != seq)
			kmm_arch_cpu_relax();
		result = 0;
	}
	unlock(b);
	return result;
}

} // extern "C"

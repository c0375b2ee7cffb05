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
 *
 * The hold: a TTAS word, and a biased fast path in front of it.
 *   Every slot has a TTAS word `hold` (exchange to take, release store to
 *   give, yield while waiting: the holder may be preempted). Taking it
 *   costs an atomic RMW, i.e. a full barrier on x86, on every slab
 *   operation, although a slot nearly always has one thread. So a slot
 *   dealt to a thread while it has no live thread is *biased* to that
 *   thread, its owner (Slot::bias = 1, ThreadCpu::biased), and the owner's
 *   outermost hold (depth 0 -> 1) and unhold (1 -> 0) are plain loads and
 *   stores (nested ones only count depth, as before):
 *
 *     owner hold:    busy.store(1, relaxed); atomic_signal_fence(seq_cst);
 *                    if (revoked.load(acquire) == 0) -> held
 *                    else: busy.store(0, release); take(hold)  (slow path)
 *     owner unhold:  busy.store(0, release)     (or give(hold) if slow)
 *
 *   Everyone else who needs the slot (kmm_arch_cpu_call from another
 *   thread, kmm_arch_cpus_stop, a thread sharing the slot) is a
 *   *revoker*:
 *
 *     take(hold)                     excludes every other non-owner and
 *                                    the owner's slow path
 *     if bias.load(acquire):
 *         revoked.store(1); membarrier(PRIVATE_EXPEDITED)
 *         while busy.load(acquire) != 0: yield
 *     ... the work on the slot's per-CPU data ...
 *     if it revoked: revoked.store(0, release)
 *     give(hold)
 *
 *   Why this excludes the owner (an asymmetric Dekker): the owner does
 *   "W busy=1; R revoked", the revoker "W revoked=1; R busy". Plain Dekker
 *   needs a full fence between W and R on both sides; the owner has only a
 *   compiler barrier (atomic_signal_fence: the compiler may not sink the
 *   relaxed store below the load, which an acquire load alone would allow,
 *   but the CPU's store buffer still may). membarrier(2) supplies the
 *   owner's fence: it returns only once every CPU running a thread of this
 *   process executed a full barrier (an IPI), and a thread not running
 *   then passes one (the context switch) before it runs again. The
 *   revoker itself has seq_cst fences around the syscall. Let M be the
 *   point where the owner's CPU executes that barrier:
 *     - M after the owner's W busy=1 (before or after its R revoked): the
 *       store is globally visible when membarrier returns, so the
 *       revoker's R busy sees 1 (or the 0 of a later unhold) and waits;
 *     - M before W busy=1: the revoker's W revoked=1 was visible before
 *       M (the revoker's barrier precedes the IPI), so the owner's later
 *       R revoked sees 1 and it backs out to the slow path, where
 *       take(hold) waits for the revoker's give.
 *   So never both "the owner read revoked == 0 and is inside" and "the
 *   revoker read busy == 0 (not the owner's next unhold's)". (M falls on
 *   an instruction boundary of the owner: a load of revoked retired before
 *   M has its earlier store retired too, and the barrier drains it.)
 *   kmm_arch_cpu_call on the caller's own biased slot revokes too: the
 *   caller is at depth 0, so busy is 0 and it does not wait.
 *
 *   The critical sections' data, both directions:
 *     - owner -> revoker: the owner's section ends with busy.store(0,
 *       release); the revoker's busy.load(acquire) that reads it
 *       synchronizes with it. If the revoker read 0 because the owner was
 *       outside, the 0 is that of the owner's last unhold (release), and
 *       the owner's next hold backs out (above). An owner that exited
 *       clears bias with a release store after its last unhold, and a
 *       revoker that reads bias == 0 acquires it.
 *     - revoker -> owner: the revoker's section ends with revoked.store(0,
 *       release), then give(hold) (release). An owner fast hold that reads
 *       that 0 (acquire) synchronizes with it; one that reads the 0 from
 *       before revoked=1 was, by the argument above, inside before the
 *       revoker's wait ended, so its section precedes the revoker's. An
 *       owner that backed out takes `hold` (acquire) after the give.
 *     - among non-owners (and the owner's slow path) nothing changed: the
 *       `hold` word's acquire exchange and release store.
 *   The revoker pays a take, a membarrier (a syscall and IPIs: micro-
 *   seconds) and a wait: it is for rare events, cross-CPU calls and stops
 *   (cpus_stop takes all the holds, then revokes with one membarrier).
 *
 * Bias lifetime. Slot::bias changes only with `hold` held (or to 0 by the
 * exiting owner, see below), so a revoker's decision under `hold` stays
 * valid for its whole section:
 *   - set by deal() when the slot has no live thread, with deal_lock held
 *     and `hold` taken by a try (exchange): deal() never waits for a hold
 *     (a stopper may keep one for long, and a dealt thread may be inside a
 *     lock a stopper waits for); if the try fails the thread simply stays
 *     unbiased (TTAS), until it exits;
 *   - withdrawn when the slot is shared: a second live thread dealt a
 *     biased slot is not its owner and takes `hold` for its holds; the
 *     first time it finds bias set (under `hold`) it revokes for good:
 *     revoked = 1, membarrier, wait for busy == 0, bias = 0, and revoked
 *     stays 1. The owner's next hold then backs out, finds bias == 0 under
 *     `hold` and stops trying its fast path (ThreadCpu::biased = false).
 *     Until the sharer's first hold nothing of the slot's per-CPU data is
 *     touched by it, so the owner may go on biased. The bias stays off
 *     while either thread lives (it comes back only when the slot is dealt
 *     again with no live thread): with more threads than CPUs every
 *     shared slot runs on the TTAS word alone, as before;
 *   - cleared by the owner's exit (deal_lock held, no `hold` needed: the
 *     owner is at depth 0, so busy == 0, and it does not take the fast
 *     path again): bias.store(0, release). A revoker that read 1 just
 *     before still revokes, harmlessly.
 * No bias at all — every thread takes `hold`, exactly the TTAS scheme
 * above without the fast path — where membarrier is not available
 * (the query or MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, made once, at
 * the first deal, fails: ENOSYS, EINVAL, EPERM from a seccomp filter, or
 * a non-Linux host), under ThreadSanitizer (it does not model
 * membarrier's barrier on another thread, so it would report the owner's
 * and the revoker's sections as racing), and on one-CPU builds (nothing
 * calls the hold there). Once registered, a failing membarrier panics:
 * a revoker cannot go on without the owner's barrier.
 *
 * What the bias does not change: a hold is not async-signal-safe (a
 * handler that holds, interrupting its thread's hold or unhold, runs as
 * nested before the slot is held, or deadlocks, as with the TTAS word
 * alone); a thread must
 * not exit inside a hold (ThreadExit panics: its slot would stay held);
 * fork() copies the slots as they are, biases included, and the
 * registration (the kernel keeps it across fork, drops it at exec), so a
 * child forked while another thread held a slot finds that slot held for
 * good, as before.
 */
#include <arch/arch.h>
#include <arch/host_hold.h>
#include <kmm/config.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>

#if defined(__linux__) && __has_include(<linux/membarrier.h>)
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>
#define KMM_HOST_HAVE_MEMBARRIER 1
#endif

#if defined(__SANITIZE_THREAD__)
#define KMM_HOST_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define KMM_HOST_TSAN 1
#endif
#endif

/* Declared in arch/host_hold.h: mm inlines the owner's common case. */
kmm::host::Slot kmm::host::slots[KMM_NR_CPUS];
constinit thread_local kmm::host::ThreadCpu kmm::host::this_thread_cpu;

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

/* Whether this build may bias slots at all (the top of the file). */
#if KMM_NR_CPUS > 1 && !defined(KMM_HOST_TSAN) && defined(KMM_HOST_HAVE_MEMBARRIER) && defined(SYS_membarrier)
#define KMM_HOST_BIAS 1
#else
#define KMM_HOST_BIAS 0
#endif
constexpr bool kBiasBuild = KMM_HOST_BIAS;

using kmm::host::Slot;
using kmm::host::slots;
using kmm::host::ThreadCpu;
using kmm::host::this_thread_cpu;
std::mutex deal_lock; /* dealing is rare: first use of each thread */

void take(Slot &slot)
{
	while (slot.hold.exchange(1, std::memory_order_acquire) != 0)
		while (slot.hold.load(std::memory_order_relaxed) != 0)
			std::this_thread::yield(); /* the holder may be preempted */
}
void give(Slot &slot) { slot.hold.store(0, std::memory_order_release); }

/* ---- membarrier: the owner's half of the barrier, run by a revoker ---- */

/* Registers once (deal_lock held): can this process bias? */
bool bias_available()
{
#if KMM_HOST_BIAS
	static int state = 0; /* 0 not asked, 1 yes, -1 no; deal_lock guards it */
	if (state == 0) {
		long cmds = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
		bool ok = cmds >= 0 && (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED) != 0 &&
			  syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
		state = ok ? 1 : -1;
	}
	return state > 0;
#else
	return false;
#endif
}

/* A full barrier on every CPU running a thread of this process (and a
 * context switch for those that are not running). */
void membarrier_all()
{
#if KMM_HOST_BIAS
	std::atomic_thread_fence(std::memory_order_seq_cst);
	if (syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) != 0)
		kmm_arch_panic("membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) failed after registration");
	std::atomic_thread_fence(std::memory_order_seq_cst);
#endif
}

/* The revoker, `hold` held and revoked set: waits for the owner to leave. */
void wait_owner_out(Slot &slot)
{
	while (slot.busy.load(std::memory_order_acquire) != 0)
		std::this_thread::yield(); /* the owner may be preempted */
}

/* A non-owner takes the slot: `hold`, then, if the slot is biased, the
 * owner's fast path is revoked until give_revoked. Returns whether it
 * revoked. */
bool take_revoking(Slot &slot)
{
	take(slot);
	if constexpr (kBiasBuild) {
		if (slot.bias.load(std::memory_order_acquire) != 0) {
			slot.revoked.store(1, std::memory_order_relaxed);
			membarrier_all();
			wait_owner_out(slot);
			return true;
		}
	}
	return false;
}
void give_revoked(Slot &slot, bool revoked)
{
	if (revoked)
		slot.revoked.store(0, std::memory_order_release);
	give(slot);
}

#if KMM_HOST_BIAS
/* A sharer found its slot biased (`hold` held): revokes for good. */
void withdraw_bias(Slot &slot)
{
	slot.revoked.store(1, std::memory_order_relaxed); /* stays 1 */
	membarrier_all();
	wait_owner_out(slot);
	slot.bias.store(0, std::memory_order_relaxed);
}
#endif

/* this_thread_cpu (arch/host_hold.h) is trivially destructible, so the
 * hot path reads it with no TLS guard; the exit hook is ThreadExit, a
 * second thread_local armed by deal(). */

/* Gives the thread's slot back when it exits (and clears its bias). */
struct ThreadExit {
	bool armed = false;
	~ThreadExit()
	{
		ThreadCpu &t = this_thread_cpu;
		if (armed && t.cpu != ~0u) {
			/* Left holding, the slot would stay held (busy or `hold`)
			 * for good: every later revoker would wait forever. */
			if (t.depth != 0)
				kmm_arch_panic("a thread exits holding its CPU slot (kmm_host_cpu_hold)");
			std::lock_guard<std::mutex> guard(deal_lock);
			/* Depth 0, so busy is 0. A hold after this (from a later
			 * thread_local destructor) is an unbiased one: `hold`. */
			if (t.biased)
				slots[t.cpu].bias.store(0, std::memory_order_release);
			t.biased = false;
			slots[t.cpu].threads.fetch_sub(1, std::memory_order_relaxed);
		}
	}
};
thread_local ThreadExit this_thread_exit;

__attribute__((noinline, cold)) unsigned deal(ThreadCpu &t)
{
	std::lock_guard<std::mutex> guard(deal_lock);
	this_thread_exit.armed = true; /* registers the exit hook */
	unsigned best = 0, fewest = ~0u;
	for (unsigned i = 0; i < KMM_NR_CPUS; ++i) {
		unsigned n = slots[i].threads.load(std::memory_order_relaxed);
		if (n < fewest) {
			best = i;
			fewest = n;
		}
	}
	Slot &slot = slots[best];
	/* No live thread: bias it to this one, if `hold` is free now. */
	if (fewest == 0 && bias_available() && slot.hold.load(std::memory_order_relaxed) == 0 &&
	    slot.hold.exchange(1, std::memory_order_acquire) == 0) {
		slot.busy.store(0, std::memory_order_relaxed);
		slot.revoked.store(0, std::memory_order_relaxed);
		slot.bias.store(1, std::memory_order_relaxed);
		give(slot);
		t.biased = true;
	}
	slot.threads.fetch_add(1, std::memory_order_relaxed);
	t.cpu = best;
	return best;
}

/* The outermost hold (depth 0 -> 1) other than the owner's fast one: the
 * owner's slow path, or a thread without the bias. */
__attribute__((noinline)) void enter_slow(ThreadCpu &t, Slot &slot)
{
	if (t.biased) {
		slot.busy.store(0, std::memory_order_release); /* revoked: back out */
		take(slot);
		if (slot.bias.load(std::memory_order_relaxed) == 0)
			t.biased = false; /* withdrawn (shared): `hold` from now on */
	} else {
		take(slot);
#if KMM_HOST_BIAS
		if (slot.bias.load(std::memory_order_acquire) != 0)
			withdraw_bias(slot); /* a sharer of a biased slot */
#endif
	}
	t.fast = false;
}

__attribute__((always_inline)) inline void enter(ThreadCpu &t, Slot &slot)
{
	if (t.biased) {
		slot.busy.store(1, std::memory_order_relaxed);
		std::atomic_signal_fence(std::memory_order_seq_cst);
		if (__builtin_expect(slot.revoked.load(std::memory_order_acquire) == 0, 1)) {
			t.fast = true;
			return;
		}
	}
	enter_slow(t, slot);
}

__attribute__((always_inline)) inline void leave(ThreadCpu &t, Slot &slot)
{
	if (t.fast)
		slot.busy.store(0, std::memory_order_release);
	else
		give(slot);
}

} // namespace

extern "C" unsigned int kmm_arch_cpu_id(void)
{
	ThreadCpu &t = this_thread_cpu;
	return t.cpu != ~0u ? t.cpu : deal(t);
}

/* ---- host-only: the slot hold (see the top of this file) ---- */

extern "C" unsigned int kmm_host_cpu_hold(void)
{
	ThreadCpu &t = this_thread_cpu;
	unsigned cpu = t.cpu != ~0u ? t.cpu : deal(t);
	if (t.depth++ == 0)
		enter(t, slots[cpu]);
	return cpu;
}

extern "C" void kmm_host_cpu_unhold(void)
{
	ThreadCpu &t = this_thread_cpu;
	if (t.depth == 0 || t.cpu == ~0u)
		kmm_arch_panic("kmm_host_cpu_unhold without a hold");
	if (--t.depth == 0)
		leave(t, slots[t.cpu]);
}

/* A non-owner's take, also for the caller's own slot (it is at depth 0,
 * so an owner's busy is 0 and the revoke does not wait). */
extern "C" int kmm_arch_cpu_call(unsigned int cpu, void (*fn)(void *arg), void *arg)
{
	if (cpu >= KMM_NR_CPUS || fn == nullptr || this_thread_cpu.depth != 0)
		return -1;
	bool revoked = take_revoking(slots[cpu]);
	fn(arg);
	give_revoked(slots[cpu], revoked);
	return 0;
}

/* A call takes the target's slot from outside, so there is nothing to
 * serve unless this thread holds its slot ("IRQs masked", the case the
 * poll is for): then a caller or stopper may be waiting for that slot
 * while this thread waits for it. Let it in: leave the hold, yield, take
 * it again (depth unchanged). A biased owner's re-entry finds `revoked`
 * set and queues on `hold` behind the revoker; a TTAS holder's give lets
 * a waiting take win (if not this time, at a later poll). As on a target,
 * the call runs on this CPU in the middle of the caller's masked wait. */
extern "C" void kmm_arch_cpu_call_poll(void)
{
	ThreadCpu &t = this_thread_cpu;
	if (t.depth == 0 || t.cpu == ~0u)
		return;
	Slot &slot = slots[t.cpu];
	leave(t, slot);
	std::this_thread::yield();
	enter(t, slot);
}

/* Holds every other slot, in index order (two stoppers cannot deadlock;
 * stop_lock makes them take turns anyway), then revokes the biased ones
 * with one membarrier. */
std::mutex stop_lock;
bool stop_revoked[KMM_NR_CPUS]; /* stop_lock guards it */

extern "C" int kmm_arch_cpus_stop(void)
{
	ThreadCpu &t = this_thread_cpu;
	if (t.depth != 0)
		return -1;
	unsigned self = kmm_arch_cpu_id();
	stop_lock.lock();
	bool any = false;
	for (unsigned cpu = 0; cpu < KMM_NR_CPUS; ++cpu) {
		stop_revoked[cpu] = false;
		if (cpu == self)
			continue;
		take(slots[cpu]);
		if constexpr (kBiasBuild) {
			if (slots[cpu].bias.load(std::memory_order_acquire) != 0) {
				slots[cpu].revoked.store(1, std::memory_order_relaxed);
				stop_revoked[cpu] = any = true;
			}
		}
	}
	if (any) {
		membarrier_all();
		for (unsigned cpu = 0; cpu < KMM_NR_CPUS; ++cpu)
			if (stop_revoked[cpu])
				wait_owner_out(slots[cpu]);
	}
	return 0;
}

extern "C" void kmm_arch_cpus_resume(void)
{
	unsigned self = kmm_arch_cpu_id();
	for (unsigned cpu = KMM_NR_CPUS; cpu-- > 0;)
		if (cpu != self)
			give_revoked(slots[cpu], stop_revoked[cpu]);
	stop_lock.unlock();
}

extern "C" unsigned int kmm_host_cpu_threads(unsigned int cpu)
{
	return cpu < KMM_NR_CPUS ? slots[cpu].threads.load(std::memory_order_relaxed) : 0;
}

/* For tests: 1 while the slot is biased to an owner (see the top). */
extern "C" unsigned int kmm_host_cpu_biased(unsigned int cpu)
{
	return cpu < KMM_NR_CPUS ? slots[cpu].bias.load(std::memory_order_relaxed) : 0;
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

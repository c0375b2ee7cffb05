/*
 * arch/host_hold.h — the SMP host's CPU-slot hold, its common case inline:
 * the host's stand-in for "IRQs masked on this CPU" that the slab fast
 * paths take around every operation (mm/slub_fast.h fast_irq_save).
 *
 * The protocol, its proof and everything but the common case live in
 * arch/host/arch_host.cpp (and docs/DESIGN.md "Host CPU model"). Here is
 * only the biased owner's outermost hold and unhold, which are plain loads
 * and stores of this thread's ThreadCpu and its slot's `busy`/`revoked`:
 * inlined they save two calls and the registers the calls make the caller
 * spill, on every slab operation. Every other case (first use, nesting, an
 * unbiased or shared slot, a revoked one) calls kmm_host_cpu_hold/unhold,
 * which handle all cases themselves.
 *
 * Host builds only: mm includes it on SMP host builds (KMM_HOST,
 * KMM_NR_CPUS > 1); arch_host.cpp defines what it declares.
 */
#ifndef KMM_ARCH_HOST_HOLD_H
#define KMM_ARCH_HOST_HOLD_H

#include <kmm/config.h>

#include <atomic>
#include <cstdint>

extern "C" unsigned int kmm_host_cpu_hold(void);
extern "C" void kmm_host_cpu_unhold(void);

namespace kmm::host {

struct alignas(64) Slot { /* a cache line each: holds are per-CPU traffic */
	std::atomic<unsigned> threads{0}; /* live threads dealt this slot */
	std::atomic<uint32_t> hold{0};    /* the emulated "IRQs masked" word (TTAS) */
	std::atomic<uint32_t> busy{0};    /* the owner is in a biased hold; only it writes */
	std::atomic<uint32_t> revoked{0}; /* nonzero: the owner must take `hold` */
	std::atomic<uint32_t> bias{0};    /* the slot has an owner; changed with `hold` held */
};
extern Slot slots[KMM_NR_CPUS];

/* The calling thread's slot, dealt on first use, given back at exit.
 * Trivially destructible and constant-initialized: read with no TLS guard
 * or init call. */
struct ThreadCpu {
	unsigned cpu = ~0u;
	unsigned depth = 0;  /* nested holds */
	bool biased = false; /* the slot's owner: may try the fast path (cpu is dealt) */
	bool fast = false;   /* the outermost hold is the fast one (busy, not `hold`) */
};
extern constinit thread_local ThreadCpu this_thread_cpu;

/* kmm_host_cpu_hold(): the thread's CPU slot, held; any case. */
__attribute__((always_inline)) inline unsigned cpu_hold()
{
	ThreadCpu &t = this_thread_cpu;
	if (__builtin_expect(t.biased && t.depth == 0, 1)) {
		Slot &slot = slots[t.cpu];
		slot.busy.store(1, std::memory_order_relaxed);
		std::atomic_signal_fence(std::memory_order_seq_cst);
		if (__builtin_expect(slot.revoked.load(std::memory_order_acquire) == 0, 1)) {
			t.depth = 1;
			t.fast = true;
			return t.cpu;
		}
		/* revoked: kmm_host_cpu_hold tries again, then backs out */
	}
	return kmm_host_cpu_hold();
}

/* The owner's fast hold alone, for mm's inline paths: true with `cpu`
 * held, or false with nothing held (not the biased owner, nested, first
 * use, or revoked: the caller redoes its operation out of line with
 * cpu_hold, which handles every case). Unlike cpu_hold it leaves
 * ThreadCpu::depth and ::fast alone, so the section it opens must make no
 * call that holds (it cannot nest) and must end with cpu_try_unhold. The
 * revoker sees only `busy`, as with cpu_hold. */
__attribute__((always_inline)) inline bool cpu_try_hold(unsigned &cpu)
{
	ThreadCpu &t = this_thread_cpu;
	if (__builtin_expect(t.biased && t.depth == 0, 1)) {
		unsigned c = t.cpu; /* read once: the fence below makes the compiler reload it */
		Slot &slot = slots[c];
		slot.busy.store(1, std::memory_order_relaxed);
		std::atomic_signal_fence(std::memory_order_seq_cst);
		if (__builtin_expect(slot.revoked.load(std::memory_order_acquire) == 0, 1)) {
			cpu = c;
			return true;
		}
		slot.busy.store(0, std::memory_order_release); /* revoked: back out */
	}
	return false;
}

/* Ends a section cpu_try_hold opened on `cpu`. */
__attribute__((always_inline)) inline void cpu_try_unhold(unsigned cpu)
{
	slots[cpu].busy.store(0, std::memory_order_release);
}

/* kmm_host_cpu_unhold(). */
__attribute__((always_inline)) inline void cpu_unhold()
{
	ThreadCpu &t = this_thread_cpu;
	if (__builtin_expect(t.fast && t.depth == 1, 1)) {
		t.depth = 0;
		slots[t.cpu].busy.store(0, std::memory_order_release);
		return;
	}
	kmm_host_cpu_unhold();
}

} // namespace kmm::host

#endif

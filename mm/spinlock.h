/*
 * mm/spinlock.h — kmm's lock: IRQs masked on the local CPU plus, on SMP
 * builds and the host, a test-and-test-and-set spinlock on a 32-bit word.
 *
 *   uniprocessor target (KMM_NR_CPUS == 1, not the host): masking IRQs is
 *       all the exclusion there is, the lock word is never touched;
 *   ARMv7-A SMP: LDREX/STREX (from the __atomic builtins), waiters sleep in
 *       WFE and the unlocker wakes them with SEV after its release store;
 *   RISC-V SMP: AMOSWAP.W to take, a release store to drop (A extension);
 *   host: the same builtins (what std::atomic compiles to), PAUSE to wait.
 */
#ifndef KMM_MM_SPINLOCK_H
#define KMM_MM_SPINLOCK_H

#include <stdint.h>

#include <arch/arch.h>
#include <arch/irq.h>
#include <kmm/config.h>

namespace kmm {

#if KMM_NR_CPUS > 1 || defined(KMM_HOST)
inline constexpr bool kSpinLockIsReal = true;
#else
inline constexpr bool kSpinLockIsReal = false;
#endif

/* One step of a busy wait that no event ends (a counter another CPU
 * decrements without SEV): the x86 pause hint, else nothing (WFE would
 * sleep until an event nobody sends). */
inline void spin_pause()
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

/* The lock word alone, for callers that mask IRQs themselves. kReal false:
 * compiled out (a uniprocessor, where masked IRQs are the exclusion). One
 * 32-bit word on every arch: RV64 has no sub-word AMO, and a byte swap
 * would become a libatomic call that -nostdlib images do not have. */
template <bool kReal> class RawSpinLock {
public:
	void acquire()
	{
		if constexpr (kReal) {
			while (__atomic_exchange_n(&word_, 1u, __ATOMIC_ACQUIRE) != 0)
				while (__atomic_load_n(&word_, __ATOMIC_RELAXED) != 0)
					wait();
		}
	}
	void release()
	{
		if constexpr (kReal) {
			__atomic_store_n(&word_, 0u, __ATOMIC_RELEASE);
			wake();
		}
	}
	bool is_locked() const { return !kReal || __atomic_load_n(&word_, __ATOMIC_RELAXED) != 0; }

private:
	static void wait()
	{
#if defined(__arm__) && defined(__ARM_ARCH_PROFILE) && __ARM_ARCH_PROFILE == 'A'
		__asm__ volatile("wfe" ::: "memory"); /* release() sends SEV */
#else
		spin_pause();
#endif
	}
	static void wake()
	{
#if defined(__arm__) && defined(__ARM_ARCH_PROFILE) && __ARM_ARCH_PROFILE == 'A'
		__asm__ volatile("dsb ishst\n\tsev" ::: "memory");
#endif
	}
	uint32_t word_ = 0;
};

class SpinLock {
public:
	/* Masks IRQs, takes the lock; returns the IRQ state for unlock(). */
	unsigned long lock()
	{
		unsigned long flags = arch::irq_save();
		word_.acquire();
		return flags;
	}
	void unlock(unsigned long flags)
	{
		word_.release();
		arch::irq_restore(flags);
	}
	bool is_locked() const { return word_.is_locked(); }

private:
	RawSpinLock<kSpinLockIsReal> word_;
};

/* RAII holder: `LockGuard guard(lock_);` */
class LockGuard {
public:
	explicit LockGuard(SpinLock &lock) : lock_(lock), flags_(lock.lock()) {}
	~LockGuard() { lock_.unlock(flags_); }
	LockGuard(const LockGuard &) = delete;
	LockGuard &operator=(const LockGuard &) = delete;

private:
	SpinLock &lock_;
	unsigned long flags_;
};

} // namespace kmm

#endif

/*
 * mm/spinlock.h — kmm's lock: IRQs masked on the local CPU plus, on SMP
 * builds and the host, a test-and-test-and-set spinlock on a byte.
 *
 * On a uniprocessor target (KMM_NR_CPUS == 1 and not the host) masking IRQs
 * is all the exclusion there is to get, so the lock word is not touched.
 */
#ifndef KMM_MM_SPINLOCK_H
#define KMM_MM_SPINLOCK_H

#include <arch/arch.h>
#include <arch/irq.h>
#include <kmm/config.h>

namespace kmm {

#if KMM_NR_CPUS > 1 || defined(KMM_HOST)
inline constexpr bool kSpinLockIsReal = true;
#else
inline constexpr bool kSpinLockIsReal = false;
#endif

class SpinLock {
public:
	/* Masks IRQs, takes the lock; returns the IRQ state for unlock(). */
	unsigned long lock()
	{
		unsigned long flags = arch::irq_save();
		if constexpr (kSpinLockIsReal) {
			while (__atomic_exchange_n(&word_, 1, __ATOMIC_ACQUIRE) != 0)
				while (__atomic_load_n(&word_, __ATOMIC_RELAXED) != 0)
					relax();
		}
		return flags;
	}
	void unlock(unsigned long flags)
	{
		if constexpr (kSpinLockIsReal)
			__atomic_store_n(&word_, 0, __ATOMIC_RELEASE);
		arch::irq_restore(flags);
	}
	bool is_locked() const { return !kSpinLockIsReal || __atomic_load_n(&word_, __ATOMIC_RELAXED) != 0; }

private:
	static void relax()
	{
#if defined(__x86_64__) || defined(__i386__)
		__builtin_ia32_pause();
#elif defined(__ARM_ARCH) && __ARM_ARCH >= 7 && !defined(__ARM_ARCH_7M__)
		__asm__ volatile("yield");
#endif
	}
	unsigned char word_ = 0;
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

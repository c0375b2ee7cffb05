/*
 * kernel/lib/atomic.cpp — the libatomic routines GCC may call instead of
 * inlining an atomic, for -nostdlib images (no libatomic is linked): today
 * only __atomic_exchange_1 on RISC-V, where GCC 12 does not inline
 * sub-word atomics (RV64 has 32/64-bit AMOs and LR/SC only) and mm's
 * SlabLock (mm/slub.h) swaps a byte on SMP builds (KMM_NR_CPUS > 1).
 * Done as an LR/SC loop on the aligned 32-bit word holding the byte,
 * always with acquire+release ordering (at least what any memorder asks).
 * Other arches inline every atomic kmm uses: nothing here for them.
 */
#include <stdint.h>

#if defined(__riscv)
extern "C" unsigned char __atomic_exchange_1(volatile void *ptr, unsigned char value, int memorder)
{
	(void)memorder;
	uintptr_t addr = reinterpret_cast<uintptr_t>(ptr);
	auto *word = reinterpret_cast<volatile uint32_t *>(addr & ~uintptr_t{3});
	unsigned shift = static_cast<unsigned>(addr & 3u) * 8u;
	uint32_t mask = 0xffu << shift;
	uint32_t bits = static_cast<uint32_t>(value) << shift;
	uint32_t old, tmp;
	__asm__ volatile("1:	lr.w.aqrl %[old], (%[word])\n\t"
			 "and %[tmp], %[old], %[keep]\n\t"
			 "or %[tmp], %[tmp], %[bits]\n\t"
			 "sc.w.rl %[tmp], %[tmp], (%[word])\n\t"
			 "bnez %[tmp], 1b"
			 : [old] "=&r"(old), [tmp] "=&r"(tmp)
			 : [word] "r"(word), [keep] "r"(~mask), [bits] "r"(bits)
			 : "memory");
	return static_cast<unsigned char>((old & mask) >> shift);
}
#endif

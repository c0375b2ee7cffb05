/*
 * tests/qemu/selftest_stackoverflow.cpp — linked into
 * kmm-<board>-stackoverflow.elf on ARMv8-M Mainline boards (mps2-an505): a
 * self-test that recurses without end, a real overflow of the boot's main
 * stack. Reset_Handler set MSPLIM to the stack's bottom, so the push or
 * `sub sp` that would cross it is a UsageFault with UFSR.STKOF and nothing
 * is written below the stack; the report must name STKOF, show MSPLIM =
 * __stack_bottom and exit 3. Whether the hardware could still stack the
 * exception frame depends on where the last frame ended (by the byte:
 * tests/qemu/selftest_stacklimit.cpp tests both cases), so the CTest
 * accepts either. Without MSPLIM this ran off the start of RAM into
 * unmapped memory on mps2-an505 (a BusFault with CFSR.STKERR: no frame,
 * no STKOF), and on boards with memory below the stack into that memory.
 * CTest qemu.<board>.stackoverflow.
 */
#include <kernel/ktest.h>

namespace {

/* Ends only at a depth no stack holds (g_limit: not known to the
 * compiler, which would refuse plain infinite recursion). Each call keeps
 * a 64-word frame live, so no tail call and no folding. */
volatile unsigned g_limit = ~0u;

__attribute__((noinline)) unsigned deeper(unsigned depth)
{
	volatile unsigned frame[64];
	frame[0] = depth;
	frame[63] = depth == g_limit ? 0u : deeper(depth + 1);
	return frame[0] + frame[63];
}

void recurse_without_end(struct ktest *t)
{
	KTEST_EXPECT_EQ(t, deeper(0), 0u); /* never returns */
}

const ktest_case cases[] = {
	{"recurse_without_end", recurse_without_end},
};

} // namespace

KTEST_SUITE(aa_stackoverflow, cases);

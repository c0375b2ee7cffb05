/*
 * tests/qemu/selftest_stackoverflow.cpp — linked into
 * kmm-<board>-stackoverflow.elf on mps2-an505, where the memory below RAM
 * (0x37ffxxxx) is unmapped: a self-test that recurses without end, a real
 * main-stack overflow. The push that leaves RAM is a BusFault whose frame
 * cannot be stacked (CFSR.STKERR); the report must still come (from the
 * fault handler's own stack) with exit status 3. (On mps2-an385 QEMU maps
 * the 500 MiB below RAM as a RAZ/WI "RESERVED" region, so an overflow
 * there does not fault: no such test.) CTest qemu.<board>.stackoverflow.
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

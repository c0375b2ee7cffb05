/*
 * kernel/tests/startup_test.cpp — self-tests of the C runtime set-up every
 * start-up file runs before kmm_main (kmm::startup::crt_init in
 * arch/include/arch/startup.h): a global with a dynamic constructor was
 * constructed exactly once (the init array ran), an initialised global
 * holds its initial value (.data was copied from its load address), a
 * zero-initialised one reads zero (.bss), and a global constructor that
 * allocates got memory (kernel/boot.cpp brings mm up from .preinit_array,
 * before the constructors), and on Cortex-A and RISC-V that start-up
 * turned the FPU on. Kernel-only: on the host the C library's start-up
 * does this.
 *
 * QEMU starts every machine with zeroed RAM, so a skipped .bss loop shows
 * only when something is planted there first: every board's boot test
 * (qemu.B.boot) does, with `-device loader,addr=<g_bss_words from
 * nm>,data=0xdeadbeef,data-len=4` (tests/qemu/run_qemu.cmake PLANT_SYMBOL),
 * so bss_is_zero fails without the loop (checked by removing it) and
 * passes with it.
 */
#include <kernel/ktest.h>
#include <arch/startup.h>
#include <kmm/kmm.h>

namespace {

constexpr uint32_t kProbeMagic = 0x43544f52u; /* "CTOR" */
constexpr uint32_t kDataWords[2] = {0x5eed0001u, 0xa5c3e10fu};

/* Counted by the probe's constructor; in .bss, so 0 unless it ran. */
unsigned int g_probe_constructions;

/* Its constructor writes another global, so the compiler cannot fold it
 * into a constant initialiser: it must go through .init_array. */
struct StartupProbe {
	uint32_t magic;
	StartupProbe() : magic(kProbeMagic) { ++g_probe_constructions; }
};
StartupProbe g_probe;

/* A global that allocates in its constructor and keeps the object for the
 * image's lifetime, as firmware globals do. */
constexpr size_t kEarlyBytes = 40;
struct EarlyAllocation {
	unsigned char *buffer;
	EarlyAllocation() : buffer(static_cast<unsigned char *>(kmalloc(kEarlyBytes, GFP_KERNEL)))
	{
		if (buffer != nullptr)
			for (size_t i = 0; i < kEarlyBytes; ++i)
				buffer[i] = static_cast<unsigned char>(0xc0 + i);
	}
};
EarlyAllocation g_early;

/* volatile: never written, yet must stay in .data (not .rodata) and be
 * read from memory. Nothing writes either variable after start-up. */
volatile uint32_t g_data_words[2] = {kDataWords[0], kDataWords[1]};
volatile uint32_t g_bss_words[4];

template <typename T> bool within(const volatile T *object, const uintptr_t *start, const uintptr_t *end)
{
	uintptr_t a = reinterpret_cast<uintptr_t>(object);
	return a >= reinterpret_cast<uintptr_t>(start) && a + sizeof(T) <= reinterpret_cast<uintptr_t>(end);
}

void static_constructor_ran_once(struct ktest *t)
{
	KTEST_EXPECT_GE(t, static_cast<size_t>(__init_array_end - __init_array_start), 1u);
	KTEST_EXPECT_EQ(t, g_probe.magic, kProbeMagic);
	KTEST_EXPECT_EQ(t, g_probe_constructions, 1u);
}

void constructor_can_allocate(struct ktest *t)
{
	KTEST_ASSERT_NOT_NULL(t, g_early.buffer);
	KTEST_EXPECT_GE(t, ksize(g_early.buffer), kEarlyBytes);
	for (size_t i = 0; i < kEarlyBytes; ++i)
		KTEST_EXPECT_EQ(t, g_early.buffer[i], static_cast<unsigned char>(0xc0 + i));
}

void data_holds_initial_values(struct ktest *t)
{
	KTEST_EXPECT_TRUE(t, within(&g_data_words, __data_start, __data_end));
	KTEST_EXPECT_EQ(t, g_data_words[0], kDataWords[0]);
	KTEST_EXPECT_EQ(t, g_data_words[1], kDataWords[1]);
}

void bss_is_zero(struct ktest *t)
{
	KTEST_EXPECT_TRUE(t, within(&g_bss_words, __bss_start, __bss_end));
	KTEST_EXPECT_TRUE(t, within(&g_probe_constructions, __bss_start, __bss_end));
	for (const volatile uint32_t &word : g_bss_words)
		KTEST_EXPECT_EQ(t, word, 0u);
}

#if defined(__ARM_ARCH_7A__)
/* Cortex-A: start-up turned the FPU on (kmm_cortex_a_vfp_on), so a
 * firmware built for hard float runs. A value goes through s0 and back
 * (vmov s0, r0; vmov r1, s0, as .inst: the images are soft-float);
 * without the FPU on, the first one is an Undefined Instruction and the
 * image ends in the exception report (exit 3). (Cortex-M33:
 * qemu.mps2-an505.hardfault checks its Reset_Handler the same way.) */
void fpu_is_on(struct ktest *t)
{
	register uint32_t in __asm__("r0") = 0x3fc00000u; /* 1.5f */
	register uint32_t out __asm__("r1");
	__asm__ volatile(".inst 0xee000a10\n\t.inst 0xee101a10" : "=r"(out) : "r"(in) : "memory");
	KTEST_EXPECT_EQ(t, out, 0x3fc00000u);
}
#endif

#if defined(__riscv)
/* RISC-V: _start set mstatus.FS, so a firmware built for F/D runs. A
 * value goes through f0 and back (fmv.w.x f0, a0; fmv.x.w a1, f0, as
 * words: the images are built rv64imac); with FS off the first one is an
 * illegal-instruction trap and the image ends in the trap report (exit 3).
 * QEMU's virt hart has F and D. */
void fpu_is_on(struct ktest *t)
{
	register unsigned long in __asm__("a0") = 0x3fc00000ul; /* 1.5f */
	register unsigned long out __asm__("a1");
	__asm__ volatile(".4byte 0xf0050053\n\t.4byte 0xe00005d3" : "=r"(out) : "r"(in) : "memory");
	KTEST_EXPECT_EQ(t, out, 0x3fc00000ul);
}
#endif

const ktest_case cases[] = {
	{"static_constructor_ran_once", static_constructor_ran_once},
	{"constructor_can_allocate", constructor_can_allocate},
	{"data_holds_initial_values", data_holds_initial_values},
	{"bss_is_zero", bss_is_zero},
#if defined(__ARM_ARCH_7A__) || defined(__riscv)
	{"fpu_is_on", fpu_is_on},
#endif
};

} // namespace

/* "a_": runs first, before any other case could disturb the globals. */
KTEST_SUITE(a_startup, cases);

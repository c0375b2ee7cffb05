/*
 * tests/qemu/selftest_stacklimit.cpp — linked into
 * kmm-mps2-an505-stacklimit-frame.elf and -stacklimit-noframe.elf (ARMv8-M
 * only): a recursion of exactly 256 bytes per level that overflows a main
 * stack guarded by MSPLIM at a place chosen to the byte, so that the
 * UsageFault (UFSR.STKOF) and its report are the same on every build:
 *
 *   KMM_STACKLIMIT_SLACK 128  the `sub sp` of the last level would cross
 *       the limit with SP 128 bytes above it: the instruction faults, SP
 *       stays, and the exception frame (32 bytes) fits above the limit.
 *       CTest qemu.mps2-an505.stacklimit_frame: the report must show the
 *       faulting context — pc at kmm_stacklimit_sub_sp, lr into the
 *       previous level, r0 the depth (31), r4-r11 as planted, SP 128 bytes
 *       above the limit (the stack's bottom) — and name UFSR.STKOF.
 *   KMM_STACKLIMIT_SLACK 16   SP 16 bytes above the limit: the frame itself
 *       would cross it, so the entry sets SP to the limit and stacks
 *       nothing. CTest qemu.mps2-an505.stacklimit_noframe: the report must
 *       say so (no stale "registers" read from the limit) and still show
 *       r4-r11 and STKOF.
 *
 * The stack is 8 KiB of pages from kmm, so it lies above .bss and the fault
 * handler's own stack: MSPLIM, set to this stack's bottom, is then above
 * the fault stack, and a handler that moved to its stack without moving
 * the limit too would fault on its first push (STKOF at HardFault's
 * priority: a lockup, no report, no exit status). Both images exit 3.
 */
#include <kernel/ktest.h>
#include <kmm/kmm.h>

#include <kernel/printk.h>

#ifndef KMM_STACKLIMIT_SLACK
#error "KMM_STACKLIMIT_SLACK: bytes above MSPLIM when the overflow comes (boards/CMakeLists.txt)"
#endif
static_assert(KMM_STACKLIMIT_SLACK % 8 == 0 && KMM_STACKLIMIT_SLACK < 248, "an 8-byte aligned SP in the last level");

extern "C" {
extern uint8_t kmm_cortex_m_fault_stack[]; /* arch/arm/cortex_m/startup.cpp */
__attribute__((naked, noreturn)) void kmm_stacklimit_overflow(uintptr_t top, uintptr_t limit, uint32_t slack);
__attribute__((naked)) void kmm_stacklimit_level(void);
}

namespace {

/* 8 KiB, 256-byte aligned: the depth (r0 = 31 at the fault) and the low
 * bits of the limit and the SP in the report do not depend on the page
 * size or on where the pages came from. */
constexpr uintptr_t kStackBytes = 8192;
constexpr uintptr_t kStackAlign = 256;

void overflow_a_guarded_stack(struct ktest *t)
{
	unsigned order = 0;
	while ((PAGE_SIZE << order) < kStackBytes + kStackAlign)
		++order;
	struct page *pages = alloc_pages(GFP_KERNEL, order);
	KTEST_ASSERT_NOT_NULL(t, pages);
	auto base = reinterpret_cast<uintptr_t>(page_address(pages));
	uintptr_t limit = (base + kStackAlign - 1) & ~(kStackAlign - 1);
	uintptr_t top = limit + kStackBytes;
	/* the premise of the second check above */
	KTEST_ASSERT_TRUE(t, limit > reinterpret_cast<uintptr_t>(kmm_cortex_m_fault_stack));
	printk("# overflowing the stack [%#lx, %#lx) with MSPLIM at its bottom, %u bytes of slack\n",
	       static_cast<unsigned long>(limit), static_cast<unsigned long>(top), KMM_STACKLIMIT_SLACK);
	kmm_stacklimit_overflow(top, limit, KMM_STACKLIMIT_SLACK);
}

const ktest_case cases[] = {
	{"overflow_a_guarded_stack", overflow_a_guarded_stack},
};

} // namespace

/* r0 = the new stack's top, r1 = its bottom (the limit), r2 = the slack.
 * Moves the thread onto that stack, drops SP so that SP - limit = slack + 8
 * (mod 256) (the first level's push then leaves it at slack (mod 256)),
 * plants 0xc0de0004…0xc0de000b in r4-r11 and recurses. Naked: no compiled
 * code may touch the stack or r4-r11 from here on. */
extern "C" void kmm_stacklimit_overflow(uintptr_t, uintptr_t, uint32_t)
{
	__asm__ volatile(
		"msr msplim, r1\n\t" /* above the current SP: checked only when SP moves */
		"isb\n\t"
		"mov sp, r0\n\t"
		"sub r3, r0, r1\n\t"
		"sub r3, r3, r2\n\t"
		"sub r3, r3, #8\n\t"
		"and r3, r3, #255\n\t"
		"sub sp, sp, r3\n\t"
		"movw r4, #0x0004\n\tmovt r4, #0xc0de\n\t"
		"movw r5, #0x0005\n\tmovt r5, #0xc0de\n\t"
		"movw r6, #0x0006\n\tmovt r6, #0xc0de\n\t"
		"movw r7, #0x0007\n\tmovt r7, #0xc0de\n\t"
		"movw r8, #0x0008\n\tmovt r8, #0xc0de\n\t"
		"movw r9, #0x0009\n\tmovt r9, #0xc0de\n\t"
		"movw r10, #0x000a\n\tmovt r10, #0xc0de\n\t"
		"movw r11, #0x000b\n\tmovt r11, #0xc0de\n\t"
		"movs r0, #0\n\t"
		"bl kmm_stacklimit_level\n\t"
		"b .\n\t");
}

/* One level: 8 bytes pushed + 248 reserved = 256; r0 counts the depth.
 * Each level enters with SP - limit = slack + 8 + 256 k and leaves k - 1
 * to the next, so the `sub` of the level with k = 0 is the one that would
 * cross the limit, with SP = limit + slack. */
extern "C" void kmm_stacklimit_level(void)
{
	__asm__ volatile(
		"push {r4, lr}\n\t"
		".global kmm_stacklimit_sub_sp\n"
		"kmm_stacklimit_sub_sp:\n\t"
		"sub sp, sp, #248\n\t"
		"str r0, [sp]\n\t"
		"adds r0, r0, #1\n\t"
		"bl kmm_stacklimit_level\n\t"
		".global kmm_stacklimit_return\n"
		"kmm_stacklimit_return:\n\t"
		"add sp, sp, #248\n\t"
		"pop {r4, pc}\n\t");
}

KTEST_SUITE(aa_stacklimit, cases);

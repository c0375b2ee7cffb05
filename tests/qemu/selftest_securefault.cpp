/*
 * tests/qemu/selftest_securefault.cpp — linked into
 * kmm-mps2-an505-securefault.elf: Secure code calls a function through its
 * Non-secure address with a plain BLX, the classic TrustZone slip (a call
 * into Non-secure code must be a BLXNS to a pointer with bit 0 clear). The
 * fetch from Non-secure memory in Secure state is a SecureFault with
 * SFSR.INVTRAN (SFAR not valid for it).
 *
 * kmm runs Secure with the SAU off, where all memory is Secure, so the test
 * first makes one SAU region Non-secure: the 32 bytes at the Non-secure
 * alias (bit 28 clear; the SSE-200's IDAU calls that half Non-secure) of
 * kmm_securefault_target. Just before the call it plants
 * 0xc0de0004…0xc0de000b in r4–r11. CTest qemu.mps2-an505.securefault
 * requires a SecureFault (exception 7: start-up enables it in Secure
 * state; otherwise it escalates to HardFault), pc at the target's
 * Non-secure address, lr just after the BLX, r4–r11 as planted, the SFSR
 * decoded (INVTRAN) and exit status 3.
 *
 * (The other SecureFaults need Non-secure code to run: AUVIOL, with a
 * valid SFAR, is a Non-secure access to Secure memory; INVEP a Non-secure
 * call to a Secure address without SG. kmm has no Non-secure world, so
 * they are not tested.)
 */
#include <kernel/ktest.h>

extern "C" {
__attribute__((naked, noreturn)) void kmm_securefault_now(uintptr_t target);
__attribute__((naked)) void kmm_securefault_target(void);
}

namespace {

volatile uint32_t &reg(uintptr_t address) { return *reinterpret_cast<volatile uint32_t *>(address); }

constexpr uintptr_t kSauCtrl = 0xE000EDD0u;
constexpr uintptr_t kSauType = 0xE000EDD4u;
constexpr uintptr_t kSauRnr = 0xE000EDD8u;
constexpr uintptr_t kSauRbar = 0xE000EDDCu;
constexpr uintptr_t kSauRlar = 0xE000EDE0u;
constexpr uint32_t kSauEnable = 1u << 0;
constexpr uint32_t kSauRegionEnable = 1u << 0; /* RLAR; NSC (bit 1) clear: Non-secure */
constexpr uintptr_t kSecureAliasBit = 0x10000000u; /* mps2-an505: code at 0x10000000 */
constexpr uintptr_t kSauGranule = 32;

void call_non_secure_without_blxns(struct ktest *t)
{
	KTEST_ASSERT_TRUE(t, (reg(kSauType) & 0xffu) >= 1); /* SAU regions */
	uintptr_t secure = reinterpret_cast<uintptr_t>(&kmm_securefault_target) & ~uintptr_t{1};
	KTEST_ASSERT_TRUE(t, (secure & kSecureAliasBit) != 0);
	uintptr_t non_secure = secure & ~kSecureAliasBit;
	uintptr_t base = non_secure & ~(kSauGranule - 1);
	reg(kSauRnr) = 0;
	reg(kSauRbar) = static_cast<uint32_t>(base);
	reg(kSauRlar) = static_cast<uint32_t>(base) | kSauRegionEnable; /* [base, base + 32) */
	reg(kSauCtrl) = kSauEnable;
	__asm__ volatile("dsb\n\tisb" ::: "memory");
	kmm_securefault_now(non_secure | 1u);
	KTEST_EXPECT_TRUE(t, false); /* never reached */
}

const ktest_case cases[] = {
	{"call_non_secure_without_blxns", call_non_secure_without_blxns},
};

} // namespace

/* Never runs: its Non-secure alias is what the test calls. 32-byte aligned,
 * so the SAU region covers it and nothing else of the image. */
extern "C" __attribute__((aligned(32))) void kmm_securefault_target(void)
{
	__asm__ volatile("bx lr\n\t");
}

/* r0 = the Non-secure address (bit 0 set: a Thumb BLX, not BLXNS). Naked:
 * nothing compiled may run between planting r4-r11 and the call. */
extern "C" void kmm_securefault_now(uintptr_t)
{
	__asm__ volatile(
		"movw r4, #0x0004\n\tmovt r4, #0xc0de\n\t"
		"movw r5, #0x0005\n\tmovt r5, #0xc0de\n\t"
		"movw r6, #0x0006\n\tmovt r6, #0xc0de\n\t"
		"movw r7, #0x0007\n\tmovt r7, #0xc0de\n\t"
		"movw r8, #0x0008\n\tmovt r8, #0xc0de\n\t"
		"movw r9, #0x0009\n\tmovt r9, #0xc0de\n\t"
		"movw r10, #0x000a\n\tmovt r10, #0xc0de\n\t"
		"movw r11, #0x000b\n\tmovt r11, #0xc0de\n\t"
		"blx r0\n\t"
		".global kmm_securefault_return\n"
		"kmm_securefault_return:\n\t"
		"b .\n\t");
}

KTEST_SUITE(aa_securefault, cases);

/*
 * arch/arm/semihosting.cpp — the ARM semihosting calls kmm uses: trap and the
 * exit status (SYS_EXIT_EXTENDED / SYS_EXIT); the console loop over
 * SYS_WRITE0 is shared (arch/common/target.cpp).
 *
 * The trap differs per profile: BKPT 0xAB on M-profile, SVC 0x123456 in A32
 * and SVC 0xAB in T32 on A/R-profile. Without a debugger or QEMU's
 * -semihosting-config enable=on the trap faults: boards that must run
 * without one override kmm_board_console_write().
 */
#include <arch/target.h>

#if defined(__ARM_ARCH_PROFILE) && __ARM_ARCH_PROFILE == 'M'
#define KMM_SEMIHOST_TRAP "bkpt #0xab"
#elif defined(__thumb__)
#define KMM_SEMIHOST_TRAP "svc #0xab"
#else
#define KMM_SEMIHOST_TRAP "svc #0x123456"
#endif

extern "C" uintptr_t kmm_semihost_call(uintptr_t op, uintptr_t arg)
{
	register uintptr_t r0 __asm__("r0") = op;
	register uintptr_t r1 __asm__("r1") = arg;
	__asm__ volatile(KMM_SEMIHOST_TRAP : "+r"(r0) : "r"(r1) : "memory");
	return r0;
}

extern "C" void kmm_semihost_exit(int status)
{
	/* Parameter block of SYS_EXIT_EXTENDED: reason, subcode (= exit status). */
	volatile uint32_t block[2] = {KMM_ADP_STOPPED_APPLICATION_EXIT, static_cast<uint32_t>(status)};
	kmm_semihost_call(KMM_SEMIHOST_SYS_EXIT_EXTENDED, reinterpret_cast<uintptr_t>(block));
	/* Still here: the host lacks SYS_EXIT_EXTENDED. A32/T32 SYS_EXIT takes
	 * the reason itself and carries no subcode: success or failure only. */
	kmm_semihost_call(KMM_SEMIHOST_SYS_EXIT,
			  status == 0 ? KMM_ADP_STOPPED_APPLICATION_EXIT : KMM_ADP_STOPPED_RUNTIME_ERROR);
}

/*
 * arch/startup.h — what every bare-metal start-up file (arch/arm/cortex_m,
 * arch/arm/cortex_a, arch/riscv) does the same way: the C runtime set-up
 * before main (copy .data, zero .bss, run the init arrays) and the two
 * printing helpers of the fault reports. Header-only: start-up objects are
 * built with their own flags (-fno-builtin, …), and so is this code.
 */
#ifndef KMM_ARCH_STARTUP_H
#define KMM_ARCH_STARTUP_H

#include <stddef.h>
#include <stdint.h>

#include <arch/arch.h>

extern "C" {
/* The linker script's symbols (linker/cortex-m.ld, linker/ram.ld): .data
 * and .bss are aligned to, and sized in, words of the pointer's size. */
typedef void (*kmm_init_fn)(void);
extern uintptr_t __data_start[], __data_end[];
extern const uintptr_t __data_load[];
extern uintptr_t __bss_start[], __bss_end[];
extern const kmm_init_fn __preinit_array_start[], __preinit_array_end[];
extern const kmm_init_fn __init_array_start[], __init_array_end[];

/* The image's entry point after startup (kernel/ or a test image). */
int kmm_main(void);
}

namespace kmm::startup {

/* .data from its load address (unless linked in place), .bss zeroed, then
 * the pre-init and init arrays (C++ static constructors). */
inline void crt_init()
{
	const uintptr_t *load = __data_load;
	if (load != __data_start)
		for (uintptr_t *dst = __data_start; dst < __data_end;)
			*dst++ = *load++;
	for (uintptr_t *dst = __bss_start; dst < __bss_end;)
		*dst++ = 0;
	for (const kmm_init_fn *fn = __preinit_array_start; fn < __preinit_array_end; ++fn)
		(*fn)();
	for (const kmm_init_fn *fn = __init_array_start; fn < __init_array_end; ++fn)
		(*fn)();
}

inline void put(const char *text)
{
	size_t n = 0;
	while (text[n] != '\0')
		++n;
	kmm_arch_console_write(text, n);
}

/* label, then " 0x" and the value in all its hex digits (a register). */
inline void put_hex(const char *label, unsigned long value)
{
	char buf[3 + 2 * sizeof(value)];
	size_t n = 0;
	buf[n++] = ' ';
	buf[n++] = '0';
	buf[n++] = 'x';
	for (int shift = 8 * static_cast<int>(sizeof(value)) - 4; shift >= 0; shift -= 4)
		buf[n++] = "0123456789abcdef"[(value >> shift) & 0xfu];
	put(label);
	kmm_arch_console_write(buf, n);
}

} // namespace kmm::startup

#endif

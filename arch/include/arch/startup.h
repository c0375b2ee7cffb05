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

namespace kmm::startup {

typedef void (*init_fn)(void);

/* .data from its load address (unless linked in place), .bss zeroed, then
 * the pre-init and init arrays (C++ static constructors). Word is the
 * section alignment unit the linker script guarantees. */
template <typename Word>
inline void crt_init(const Word *load, Word *data, Word *data_end, Word *bss, Word *bss_end,
		     const init_fn *preinit, const init_fn *preinit_end, const init_fn *init, const init_fn *init_end)
{
	if (load != data)
		for (Word *dst = data; dst < data_end;)
			*dst++ = *load++;
	for (Word *dst = bss; dst < bss_end;)
		*dst++ = 0;
	for (const init_fn *fn = preinit; fn < preinit_end; ++fn)
		(*fn)();
	for (const init_fn *fn = init; fn < init_end; ++fn)
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

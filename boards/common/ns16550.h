/*
 * boards/common/ns16550.h — the NS16550A UART (QEMU's RISC-V virt machine
 * at 0x10000000, byte registers, reg-shift 0): polled TX. THR +0x00, LSR
 * +0x05 (bit 5: THR empty). QEMU needs no setup; real parts want the baud
 * divisor and LCR first.
 */
#ifndef KMM_BOARDS_NS16550_H
#define KMM_BOARDS_NS16550_H

#include <stddef.h>
#include <stdint.h>

namespace board::ns16550 {

inline volatile uint8_t &reg8(uintptr_t address)
{
	return *reinterpret_cast<volatile uint8_t *>(address);
}

inline void put_byte(uintptr_t base, uint8_t byte)
{
	while ((reg8(base + 0x05) & (1u << 5)) == 0) {
	}
	reg8(base + 0x00) = byte;
}

inline void write(uintptr_t base, const char *text, size_t len)
{
	for (size_t i = 0; i < len; ++i) {
		if (text[i] == '\n')
			put_byte(base, '\r');
		put_byte(base, static_cast<uint8_t>(text[i]));
	}
}

} // namespace board::ns16550

#endif

/*
 * boards/common/pl011.h — the ARM PrimeCell PL011 UART (Stellaris LM3S,
 * the QEMU virt machines): polled TX. DR +0x00, FR +0x18 (bit 5: TX FIFO
 * full). QEMU needs no setup; real parts want baud rate and enable first.
 */
#ifndef KMM_BOARDS_PL011_H
#define KMM_BOARDS_PL011_H

#include <stddef.h>
#include <stdint.h>

#include "mmio.h"

namespace board::pl011 {

inline void write(uintptr_t base, const char *text, size_t len)
{
	for (size_t i = 0; i < len; ++i) {
		if (text[i] == '\n') {
			while ((mmio32(base + 0x18) & (1u << 5)) != 0) {
			}
			mmio32(base + 0x00) = '\r';
		}
		while ((mmio32(base + 0x18) & (1u << 5)) != 0) {
		}
		mmio32(base + 0x00) = static_cast<unsigned char>(text[i]);
	}
}

} // namespace board::pl011

#endif

/*
 * boards/common/cmsdk.h — the ARM CMSDK APB peripherals of the MPS2 boards
 * (AN385, AN505, …): the UART (console, polled, TX only) and the 32-bit
 * down-counting timer (free-running, as the instruction counter).
 */
#ifndef KMM_BOARDS_CMSDK_H
#define KMM_BOARDS_CMSDK_H

#include <stddef.h>
#include <stdint.h>

#include "mmio.h"

namespace board::cmsdk {

/* UART: DATA +0x00, STATE +0x04 (bit 0: TX full), CTRL +0x08 (bit 0: TX
 * enable), BAUDDIV +0x10 (>= 16). */
inline void uart_init(uintptr_t base, uint32_t bauddiv)
{
	mmio32(base + 0x10) = bauddiv;
	mmio32(base + 0x08) = 1u;
}

inline void uart_write(uintptr_t base, const char *text, size_t len)
{
	for (size_t i = 0; i < len; ++i) {
		if (text[i] == '\n') {
			while ((mmio32(base + 0x04) & 1u) != 0) {
			}
			mmio32(base + 0x00) = '\r';
		}
		while ((mmio32(base + 0x04) & 1u) != 0) {
		}
		mmio32(base + 0x00) = static_cast<unsigned char>(text[i]);
	}
}

/* Timer: CTRL +0x00 (bit 0: enable), VALUE +0x04, RELOAD +0x08. Counts
 * down at the APB clock; started free-running from 0xffffffff. */
inline void timer_start(uintptr_t base)
{
	mmio32(base + 0x00) = 0;
	mmio32(base + 0x08) = 0xffffffffu;
	mmio32(base + 0x04) = 0xffffffffu;
	mmio32(base + 0x00) = 1u;
}

/* Ticks since timer_start (an up-count; wraps after 2^32 ticks). */
inline uint32_t timer_ticks(uintptr_t base)
{
	return ~mmio32(base + 0x04);
}

} // namespace board::cmsdk

#endif

/*
 * boards/common/mmio.h — 32-bit memory-mapped register access for board
 * drivers. Header-only; nothing else.
 */
#ifndef KMM_BOARDS_MMIO_H
#define KMM_BOARDS_MMIO_H

#include <stdint.h>

namespace board {

inline volatile uint32_t &mmio32(uintptr_t address)
{
	return *reinterpret_cast<volatile uint32_t *>(address);
}

} // namespace board

#endif

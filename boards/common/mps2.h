/*
 * boards/common/mps2.h — what the MPS2 boards (mps2-an385, mps2-an505)
 * share: console on CMSDK UART0 and the instruction counter on a CMSDK
 * timer (boards/common/mps2.cpp implements kmm_board_init, the console and
 * the counter from it). Each board's board.cpp defines kMps2 with its
 * addresses, and its own memory map.
 */
#ifndef KMM_BOARDS_MPS2_H
#define KMM_BOARDS_MPS2_H

#include <stdint.h>

namespace board::mps2 {

struct Config {
	uintptr_t uart0;                /* CMSDK UART0 base */
	uintptr_t timer0;               /* CMSDK timer base: the counter */
	uint32_t instructions_per_tick; /* 1 GHz (-icount shift=0) / timer clock */
	const char *counter_unit;       /* kmm_board_counter_unit() */
};

extern const Config kMps2;

} // namespace board::mps2

#endif

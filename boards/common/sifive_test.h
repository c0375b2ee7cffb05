/*
 * boards/common/sifive_test.h — QEMU's "sifive_test" finisher device (RISC-V
 * virt at 0x100000): one 32-bit write ends QEMU. 0x5555 = pass (exit 0),
 * (code << 16) | 0x3333 = fail with QEMU exit status `code`, 0x7777 = reset.
 */
#ifndef KMM_BOARDS_SIFIVE_TEST_H
#define KMM_BOARDS_SIFIVE_TEST_H

#include <stdint.h>

#include "mmio.h"

namespace board::sifive_test {

constexpr uint32_t kPass = 0x5555u;
constexpr uint32_t kFail = 0x3333u;

/* Does not return under QEMU; returns on hardware without the device. */
inline void exit(uintptr_t base, int status)
{
	uint32_t code = static_cast<uint32_t>(status) & 0xffffu;
	mmio32(base) = code == 0 ? kPass : (code << 16) | kFail;
}

} // namespace board::sifive_test

#endif

/*
 * boards/riscv64-virt/board.cpp — QEMU RISC-V virt (RV64, M-mode, -bios
 * none): console on the NS16550 UART (0x10000000), exit through the SiFive
 * test device (0x100000: QEMU exits with the status itself, no semihosting),
 * the counter from the arch default (minstret), and the memory map handed
 * to mm:
 *
 *   RAM after the image, up to +16 MiB   0x800xxxxx-0x81000000  DMA
 *   the rest of RAM                      0x81000000-0x88000000  Normal
 *
 * As on virt-a15 the DMA zone is this board's choice (the low 16 MiB).
 * QEMU puts its device tree in the last 2 MiB-aligned chunk of RAM
 * (0x87e00000); kmm reads no device tree, so that RAM is simply handed out.
 */
#include <arch/target.h>
#include <kernel/board.h>
#include <kmm/gfp.h>

#include "ns16550.h"
#include "sifive_test.h"

extern "C" char __kmm_free_start[], __kmm_free_end[];

namespace {
constexpr uintptr_t kUart0 = 0x10000000u;
constexpr uintptr_t kTestDevice = 0x100000u;
constexpr uintptr_t kDmaLimit = 0x81000000u; /* RAM base + 16 MiB */
} // namespace

extern "C" {

void kmm_board_init(void) {}

void kmm_board_console_write(const char *text, size_t len)
{
	board::ns16550::write(kUart0, text, len);
}

void kmm_board_exit(int status)
{
	board::sifive_test::exit(kTestDevice, status);
}

size_t kmm_board_memory_map(struct kmm_board_region *out, size_t max)
{
	return kmm_board_split_dma_map(reinterpret_cast<uintptr_t>(__kmm_free_start),
				       reinterpret_cast<uintptr_t>(__kmm_free_end), kDmaLimit, out, max);
}

} // extern "C"

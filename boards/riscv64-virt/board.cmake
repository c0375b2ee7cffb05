# boards/riscv64-virt/board.cmake — QEMU's RISC-V "virt" machine, RV64, one
# hart (-smp 1; others would park), machine mode with no firmware (-bios
# none), 128 MiB of RAM at 0x80000000. Console: NS16550 UART at 0x10000000.
# Exit: the SiFive test device at 0x100000 (no semihosting needed).
# Counter: minstret (instructions; exact under -icount shift=0). Build with
# tools/cmake/riscv64-unknown-elf.cmake (preset cross-rv64). The fault test
# loads from 0x08000000, a hole in virt's map (between the platform bus
# and the PLIC): QEMU raises a load access fault with mtval = the address.
kmm_board(
  NAME riscv64-virt
  CPU rv64imac
  LINKER_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/riscv64-virt.ld
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/board.cpp
  DEFINES KMM_PAGE_SHIFT=12 KMM_MAX_ORDER=10
  UNMAPPED_ADDRESS 0x08000000
  FAULT_OUTPUT "Load access fault \\(mcause 0x0+5\\).*mepc 0x[0-9a-f]+.*fault address \\(mtval\\) 0x0*8000000"
  QEMU qemu-system-riscv64
  QEMU_ARGS -M virt -smp 1 -m 128M -bios none -nographic -nic none -icount shift=0
  TIMEOUT 120)

# boards/riscv64-virt/board.cmake — QEMU's RISC-V "virt" machine, RV64, one
# hart for the boot test (-smp 1), four (KMM_NR_CPUS=4) for the SMP hammer
# below, machine mode with no firmware (-bios none), 128 MiB of RAM at
# 0x80000000. Console: NS16550 UART at 0x10000000.
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
  DEFINES KMM_PAGE_SHIFT=12 KMM_MAX_ORDER=10 KMM_NR_CPUS=4
  UNMAPPED_ADDRESS 0x08000000
  FAULT_OUTPUT "Load access fault \\(mcause 0x0+5\\).*mepc 0x[0-9a-f]+.*fault address \\(mtval\\) 0x0*8000000"
  QEMU qemu-system-riscv64
  QEMU_ARGS -M virt -smp 1 -m 128M -bios none -nographic -nic none -icount shift=0
  TIMEOUT 120)

# The SMP hammer (tests/qemu/smp_hammer.cpp): -smp 4, every core on the same
# allocator with cross-CPU frees, 1M operations per case; MTTCG (one host
# thread per vCPU), no -icount (it would serialise the vCPUs). The slab
# part runs kmalloc and a ctor cache on every core too. CTest qemu.riscv64-virt.smp.
kmm_board_test_image(BOARD riscv64-virt NAME smp
  SOURCES ${PROJECT_SOURCE_DIR}/tests/qemu/smp_hammer.cpp
  QEMU_ARGS -M virt -smp 4 -m 128M -bios none -nographic -nic none
            -accel tcg,thread=multi
  EXPECT_OUTPUT "# smp_hammer: pages: [0-9]+ operations on 4 CPUs.*# smp_hammer: slab: [0-9]+ operations on 4 CPUs.*# smp_hammer: drain: CPUs 1-3 cached [1-9][0-9]* objects.*# smp_hammer: oom: 4 CPUs held [1-9][0-9]* bytes"
  TIMEOUT 600)

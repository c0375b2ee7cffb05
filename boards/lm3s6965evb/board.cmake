# boards/lm3s6965evb/board.cmake — TI Stellaris LM3S6965 evaluation board:
# Cortex-M3, 256 KiB flash at 0x0, 64 KiB SRAM at 0x20000000. Console:
# UART0 (PL011). The small board: 256-byte pages and max order 7 (32 KiB
# blocks), so kmm's own overhead stays a small share of 64 KiB.
kmm_board(
  NAME lm3s6965evb
  CPU cortex-m3
  LINKER_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/lm3s6965evb.ld
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/board.cpp
  # KMM_MAX_CACHES=16: the cache table is static RAM (a pointer per slot);
  # this board uses at most 14 caches (10 at boot, 2 workload, 2 in tests).
  DEFINES KMM_PAGE_SHIFT=8 KMM_MAX_ORDER=7 KMM_MAX_REGIONS=2 KMM_MAX_RESERVED=2 KMM_MAX_CACHES=16
  # QEMU reads unassigned addresses on this machine as 0: fault by UDF instead.
  UNMAPPED_ADDRESS none
  QEMU qemu-system-arm
  QEMU_ARGS -M lm3s6965evb -nographic -semihosting-config enable=on,target=native -icount shift=0
  # The small board must report mm's flash and RAM footprint (kernel/report.cpp).
  BOOT_OUTPUT "footprint: mm flash [1-9][0-9]* B \\(text [1-9][0-9]* \\+ rodata [1-9][0-9]*\\).*footprint: mm RAM [1-9][0-9]* B = static [1-9][0-9]* \\(data [0-9]+ \\+ bss [0-9]+\\) \\+ page descriptors [1-9][0-9]* \\+ slab metadata [1-9][0-9]* "
  TIMEOUT 120)

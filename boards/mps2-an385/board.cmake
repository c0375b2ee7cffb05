# boards/mps2-an385/board.cmake — ARM MPS2 FPGA board with the AN385 image:
# Cortex-M3 at 25 MHz, 4 MiB ZBT SSRAM1 (code) at 0x0, 4 MiB SSRAM2/3
# (data) at 0x20000000, 16 MiB PSRAM at 0x21000000, 16 KiB FPGA block RAM at
# 0x01000000. Console: CMSDK UART0. Counter: CMSDK timer0 (instructions
# under -icount shift=0). The default board of ./run.sh, and the board of
# the slot benchmark (target bench-slot, tools/bench_target.sh).
kmm_board(
  NAME mps2-an385
  CPU cortex-m3
  LINKER_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/mps2-an385.ld
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/board.cpp ${CMAKE_CURRENT_LIST_DIR}/../common/mps2.cpp
  DEFINES KMM_PAGE_SHIFT=12 KMM_MAX_ORDER=10
  QEMU qemu-system-arm
  QEMU_ARGS -M mps2-an385 -nographic -semihosting-config enable=on,target=native -icount shift=0
  TIMEOUT 120
  # The slot benchmark (kmm vs newlib malloc) runs here: its timer counts
  # instructions exactly under -icount shift=0.
  BENCH)

# The interrupt-context test (tests/qemu/irq_stress.cpp: timer1 IRQ and
# main loop allocating on the same caches, 120k operations) and the
# IRQ-masked window per API (irq_windows.cpp), over mm built with
# KMM_IRQ_TRACE=1 (arch/irq.h; timer in irq_trace.cpp): CTest
# qemu.mps2-an385.irq.
kmm_board_test_image(BOARD mps2-an385 NAME irq
  SOURCES ${PROJECT_SOURCE_DIR}/tests/qemu/irq_stress.cpp
          ${PROJECT_SOURCE_DIR}/tests/qemu/irq_windows.cpp
          ${PROJECT_SOURCE_DIR}/tests/qemu/irq_trace.cpp
  MM_DEFINES KMM_IRQ_TRACE=1
  EXPECT_OUTPUT "# irq_stress: done: [0-9]+ operations"
  TIMEOUT 240)

# Started by a bootloader (tests/qemu/vtor/): the fault image linked 1 MiB
# into SSRAM1, a boot stub at 0 that jumps to it leaving VTOR at its own
# table. Reset_Handler must point VTOR at the image's table, or the fault
# goes to the stub's handler (exit 42) instead of kmm's report (exit 3).
if(TARGET kmm-mps2-an385-fault)
  set(vtor_dir ${PROJECT_SOURCE_DIR}/tests/qemu/vtor)
  add_executable(kmm-mps2-an385-fault-at-1m ${PROJECT_SOURCE_DIR}/tests/qemu/selftest_fault.cpp)
  target_compile_definitions(kmm-mps2-an385-fault-at-1m PRIVATE KMM_UNMAPPED_ADDRESS=0x70000000u)
  if(KMM_LIBC_SHIM)
    target_link_libraries(kmm-mps2-an385-fault-at-1m PRIVATE kmm_libc_shim_mps2_an385)
  endif()
  target_link_libraries(kmm-mps2-an385-fault-at-1m PRIVATE kmm_kernel_mps2_an385 kmm_mm_mps2_an385)
  kmm_image(kmm-mps2-an385-fault-at-1m LINKER_SCRIPT ${vtor_dir}/mps2-an385-at-1m.ld)
  add_executable(kmm-mps2-an385-boot-stub ${vtor_dir}/boot_stub.cpp)
  target_link_options(kmm-mps2-an385-boot-stub PRIVATE -nostdlib -nostartfiles -T${vtor_dir}/boot_stub.ld)
  set_target_properties(kmm-mps2-an385-boot-stub PROPERTIES SUFFIX ".elf"
    LINK_DEPENDS ${vtor_dir}/boot_stub.ld)
  add_dependencies(kmm-mps2-an385-fault-at-1m kmm-mps2-an385-boot-stub)
  kmm_qemu_test(NAME qemu.mps2-an385.vtor IMAGE kmm-mps2-an385-fault-at-1m QEMU qemu-system-arm
    ARGS -M mps2-an385 -nographic -semihosting-config enable=on,target=native -icount shift=0
         -device loader,file=$<TARGET_FILE:kmm-mps2-an385-boot-stub>
    EXPECT_EXIT 3
    EXPECT_OUTPUT "BusFault \\(exception.*fault address \\(BFAR\\) 0x70000000"
    TIMEOUT 60)
endif()

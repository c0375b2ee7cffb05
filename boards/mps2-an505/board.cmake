# boards/mps2-an505/board.cmake — ARM MPS2+ with the AN505 image (SSE-200
# subsystem, Cortex-M33, TrustZone). kmm runs Secure from the Secure
# aliases: code in SSRAM1 (0x10000000), data in SSRAM2/3 (0x38000000).
# Console: CMSDK UART0; counter: SSE-200 TIMER0 (20 MHz).
kmm_board(
  NAME mps2-an505
  CPU cortex-m33
  LINKER_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/mps2-an505.ld
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/board.cpp ${CMAKE_CURRENT_LIST_DIR}/../common/mps2.cpp
  DEFINES KMM_PAGE_SHIFT=12 KMM_MAX_ORDER=10
  QEMU qemu-system-arm
  QEMU_ARGS -M mps2-an505 -nographic -semihosting-config enable=on,target=native -icount shift=0
  TIMEOUT 120)

# boards/virt-a15/board.cmake — QEMU's ARM "virt" machine with a Cortex-A15
# (ARMv7-A), 128 MiB of RAM at 0x40000000, one core for the boot test
# (-smp 1), four (KMM_NR_CPUS=4) for the SMP hammer below. Console: PL011
# UART at 0x09000000. Exit: semihosting
# (svc 0x123456, A32). Counter: PMU cycle counter (instructions under
# -icount shift=0). Build with tools/cmake/arm-none-eabi-cortex-a15.cmake
# (preset cross-a15). The fault test loads from 0x70000000: nothing is
# mapped between the end of RAM (0x48000000) and 4 GiB, and QEMU turns the
# access into a synchronous external abort (Data Abort, DFAR = address).
kmm_board(
  NAME virt-a15
  CPU cortex-a15
  LINKER_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/virt-a15.ld
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/board.cpp
  DEFINES KMM_PAGE_SHIFT=12 KMM_MAX_ORDER=10 KMM_NR_CPUS=4
  UNMAPPED_ADDRESS 0x70000000
  FAULT_OUTPUT "Data Abort \\(exception.*pc +0x[0-9a-f]+.*DFSR 0x[0-9a-f]+ +fault address \\(DFAR\\) 0x70000000"
  QEMU qemu-system-arm
  QEMU_ARGS -M virt -cpu cortex-a15 -smp 1 -m 128M -nographic -nic none
            -semihosting-config enable=on,target=native -icount shift=0
  TIMEOUT 120)

# The SMP hammer (tests/qemu/smp_hammer.cpp): -smp 4, every core on the same
# allocator with cross-CPU frees, 1M operations per case; MTTCG (one host
# thread per vCPU), no -icount (it would serialise the vCPUs). The slab
# part runs kmalloc and a ctor cache on every core too. CTest qemu.virt-a15.smp.
kmm_board_test_image(BOARD virt-a15 NAME smp
  SOURCES ${PROJECT_SOURCE_DIR}/tests/qemu/smp_hammer.cpp
  QEMU_ARGS -M virt -cpu cortex-a15 -smp 4 -m 128M -nographic -nic none
            -semihosting-config enable=on,target=native -accel tcg,thread=multi
  EXPECT_OUTPUT "# smp_hammer: pages: [0-9]+ operations on 4 CPUs.*# smp_hammer: slab: [0-9]+ operations on 4 CPUs.*# smp_hammer: drain: CPUs 1-3 cached [1-9][0-9]* objects.*# smp_hammer: oom: 4 CPUs held [1-9][0-9]* bytes"
  TIMEOUT 600)

# Entered in Hyp mode (virt with virtualization=on starts a -kernel ELF at
# EL2/Hyp, as bootloaders on Cortex-A7/A15 boards often leave the core):
# _start must leave Hyp for SVC, or every exception goes to the Hyp vector
# base (HVBAR, never set) and a fault hangs without a report; the PMU
# cycle counter does not count in Hyp either. Both images as above.
if(TARGET kmm-virt-a15)
  set(hyp_args -M virt,virtualization=on -cpu cortex-a15 -smp 1 -m 128M -nographic -nic none
               -semihosting-config enable=on,target=native -icount shift=0)
  kmm_qemu_test(NAME qemu.virt-a15.hyp_boot IMAGE kmm-virt-a15 QEMU qemu-system-arm ARGS ${hyp_args}
    EXPECT_EXIT 0 EXPECT_OUTPUT "# ktest: [1-9][0-9]* tests, [1-9][0-9]* passed, 0 failed.*counter: +[1-9][0-9]* cycles.*exit status 0"
    TIMEOUT 120)
  kmm_qemu_test(NAME qemu.virt-a15.hyp_fault IMAGE kmm-virt-a15-fault QEMU qemu-system-arm ARGS ${hyp_args}
    EXPECT_EXIT 3 EXPECT_OUTPUT "Data Abort \\(exception.*pc +0x[0-9a-f]+.*spsr 0x[0-9a-f]+d3 \\(ARM\\).*fault address \\(DFAR\\) 0x70000000"
    TIMEOUT 30)
endif()

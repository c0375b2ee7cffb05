# tools/cmake/arm-none-eabi.cmake — the part of every arm-none-eabi toolchain
# file that does not depend on the CPU: compilers, the binutils the build
# uses (size, objcopy, nm), and (through kmm-freestanding.cmake) the
# freestanding flags and the no-libc link.
#
# A CPU file sets KMM_CPU (e.g. cortex-m3), KMM_ARM_PROFILE (M or A) and
# KMM_CPU_FLAGS (-mcpu=… -mthumb …) and then includes this file.
if(NOT KMM_CPU OR NOT KMM_CPU_FLAGS OR NOT KMM_ARM_PROFILE)
  message(FATAL_ERROR "include arm-none-eabi.cmake from a CPU toolchain file")
endif()

set(CMAKE_SYSTEM_PROCESSOR arm)
set(CMAKE_C_COMPILER arm-none-eabi-gcc)
set(CMAKE_CXX_COMPILER arm-none-eabi-g++)
set(CMAKE_ASM_COMPILER arm-none-eabi-gcc)
# try_compile re-reads this file: hand it the CPU variables.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES KMM_CPU KMM_CPU_FLAGS KMM_ARM_PROFILE)

include(${CMAKE_CURRENT_LIST_DIR}/kmm-freestanding.cmake)

set(KMM_SIZE arm-none-eabi-size)
set(KMM_OBJCOPY arm-none-eabi-objcopy)
set(KMM_NM arm-none-eabi-nm)
set(KMM_OBJDUMP arm-none-eabi-objdump)

# The arch/ folder to build (overridable with -DKMM_ARCH=…).
set(KMM_ARCH arm CACHE STRING "arch/ folder to build: host, arm or riscv")

# tools/cmake/riscv64-unknown-elf.cmake — cross build for RV64IMAC
# (machine mode, no FPU, LP64): board riscv64-virt (QEMU -M virt -bios
# none). Selects arch/riscv (KMM_ARCH=riscv). Debian package:
# gcc-riscv64-unknown-elf (no libc needed: images are -nostdlib).
#
# -mcmodel=medany: the image lives at 0x80000000, beyond medlow's ±2 GiB
# around 0. Zicsr is spelled out (GCC 12 / binutils 2.40 need it for the
# CSR instructions), but the toolchain's multilib list only knows
# rv64imac/lp64: the link selects libgcc with -march=rv64imac.
#
#   cmake --preset cross-rv64    (or -DCMAKE_TOOLCHAIN_FILE=<this file>)
set(KMM_CPU rv64imac)
set(KMM_CPU_FLAGS "-march=rv64imac_zicsr -mabi=lp64 -mcmodel=medany")
set(KMM_LINK_CPU_FLAGS "-march=rv64imac -mabi=lp64")

set(CMAKE_SYSTEM_PROCESSOR riscv64)
set(CMAKE_C_COMPILER riscv64-unknown-elf-gcc)
set(CMAKE_CXX_COMPILER riscv64-unknown-elf-g++)
set(CMAKE_ASM_COMPILER riscv64-unknown-elf-gcc)
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES KMM_CPU KMM_CPU_FLAGS KMM_LINK_CPU_FLAGS)

include(${CMAKE_CURRENT_LIST_DIR}/kmm-freestanding.cmake)

set(KMM_SIZE riscv64-unknown-elf-size)
set(KMM_OBJCOPY riscv64-unknown-elf-objcopy)
set(KMM_NM riscv64-unknown-elf-nm)
set(KMM_OBJDUMP riscv64-unknown-elf-objdump)

set(KMM_ARCH riscv CACHE STRING "arch/ folder to build: host, arm or riscv")

# tools/cmake/arm-none-eabi-cortex-m3.cmake — cross build for Cortex-M3
# (ARMv7-M, Thumb-2, no FPU): boards mps2-an385 and lm3s6965evb, and the
# generic no-libc image in tests/cross. Selects arch/arm (KMM_ARCH=arm).
#
#   cmake -S . -B build-cross -G Ninja \
#         -DCMAKE_TOOLCHAIN_FILE=tools/cmake/arm-none-eabi-cortex-m3.cmake
set(KMM_CPU cortex-m3)
set(KMM_ARM_PROFILE M)
set(KMM_CPU_FLAGS "-mcpu=cortex-m3 -mthumb -mfloat-abi=soft")
include(${CMAKE_CURRENT_LIST_DIR}/arm-none-eabi.cmake)

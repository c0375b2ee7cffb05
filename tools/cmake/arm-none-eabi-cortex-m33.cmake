# tools/cmake/arm-none-eabi-cortex-m33.cmake — cross build for Cortex-M33
# (ARMv8-M Mainline, TrustZone; built soft-float, running Secure): board
# mps2-an505. Selects arch/arm (KMM_ARCH=arm), profile M.
#
#   cmake -S . -B build-cross-m33 -G Ninja \
#         -DCMAKE_TOOLCHAIN_FILE=tools/cmake/arm-none-eabi-cortex-m33.cmake
set(KMM_CPU cortex-m33)
set(KMM_ARM_PROFILE M)
set(KMM_CPU_FLAGS "-mcpu=cortex-m33 -mthumb -mfloat-abi=soft")
include(${CMAKE_CURRENT_LIST_DIR}/arm-none-eabi.cmake)

# tools/cmake/arm-none-eabi-cortex-a15.cmake — cross build for Cortex-A15
# (ARMv7-A, A32 "ARM" state, soft float): board virt-a15 (QEMU -M virt
# -cpu cortex-a15). Selects arch/arm (KMM_ARCH=arm), profile A.
#
# -mno-unaligned-access: kmm runs with the MMU off, where every access is
# Strongly-ordered and an unaligned one takes an alignment fault whatever
# SCTLR.A says; GCC must not assume ARMv7's unaligned LDR/STR.
#
#   cmake --preset cross-a15     (or -DCMAKE_TOOLCHAIN_FILE=<this file>)
set(KMM_CPU cortex-a15)
set(KMM_ARM_PROFILE A)
set(KMM_CPU_FLAGS "-mcpu=cortex-a15 -marm -mfloat-abi=soft -mno-unaligned-access")
include(${CMAKE_CURRENT_LIST_DIR}/arm-none-eabi.cmake)

# tools/cmake/kmm-freestanding.cmake — the part of every kmm cross
# toolchain file that depends on neither the CPU nor the compiler family:
# freestanding compile flags, the no-libc link, the find-root modes.
#
# The including file sets KMM_CPU_FLAGS (and may set KMM_LINK_CPU_FLAGS:
# flags that only select the toolchain's multilib at link time, e.g.
# -march=rv64imac where the compile -march carries extensions the multilib
# list does not spell out). Everything is freestanding: no libc, no
# exceptions, no RTTI, no thread-safe statics; images link with -nostdlib
# and add -lgcc themselves (tools/cmake/KmmImage.cmake).
if(NOT KMM_CPU_FLAGS)
  message(FATAL_ERROR "set KMM_CPU_FLAGS before including kmm-freestanding.cmake")
endif()

set(CMAKE_SYSTEM_NAME Generic)
# try_compile cannot link without a startup and a linker script.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

set(_kmm_common "${KMM_CPU_FLAGS} -ffreestanding -ffunction-sections -fdata-sections")
set(CMAKE_C_FLAGS_INIT "${_kmm_common}")
set(CMAKE_CXX_FLAGS_INIT
  "${_kmm_common} -fno-exceptions -fno-rtti -fno-threadsafe-statics -fno-use-cxa-atexit -fno-unwind-tables -fno-asynchronous-unwind-tables")
set(CMAKE_ASM_FLAGS_INIT "${KMM_CPU_FLAGS}")
# No crt0, no libc, no libstdc++: images add -lgcc (and nothing else) last.
set(CMAKE_EXE_LINKER_FLAGS_INIT "${KMM_LINK_CPU_FLAGS} -nostdlib -nostartfiles -Wl,--gc-sections")

set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# tools/cmake/KmmBoardTests.cmake — extra QEMU test images of a board: the
# whole kernel (self-tests, workloads, report) plus more ktest suites, booted
# with their own QEMU command line. Called from a board.cmake after
# kmm_board() (which records the board's linker script, sources and QEMU
# line as global properties KMM_BOARD_<id>_*).
#
# kmm_board_test_image(BOARD <board> NAME <name> SOURCES <files…>
#     [DEFINES <defines…>] [MM_DEFINES <defines…>] [QEMU_ARGS <args…>]
#     [EXPECT_OUTPUT <regex>] [TIMEOUT s])
#   builds kmm-<board>-<name>.elf and adds CTest qemu.<board>.<name> (label
#   qemu): exit status 0, "# ktest: N tests, N passed, 0 failed" and
#   EXPECT_OUTPUT. DEFINES: compile definitions of SOURCES only. Without MM_DEFINES the image reuses the board's kernel
#   and mm libraries; with them (e.g. KMM_IRQ_TRACE=1) it builds mm, the
#   kernel and the libc shim again with the board's config plus those.
#   QEMU_ARGS replaces the board's QEMU arguments (e.g. -smp 4 without
#   -icount for the SMP runs).
include_guard(GLOBAL)
include(${CMAKE_CURRENT_LIST_DIR}/KmmImage.cmake)
include(${CMAKE_CURRENT_LIST_DIR}/KmmQemu.cmake)

function(kmm_board_test_image)
  cmake_parse_arguments(ARG "" "BOARD;NAME;EXPECT_OUTPUT;TIMEOUT" "SOURCES;DEFINES;MM_DEFINES;QEMU_ARGS" ${ARGN})
  string(MAKE_C_IDENTIFIER "${ARG_BOARD}" id)
  if(NOT TARGET kmm_kernel_${id})
    return() # the board is not built by this toolchain
  endif()
  foreach(key LINKER_SCRIPT SOURCES QEMU QEMU_ARGS)
    get_property(board_${key} GLOBAL PROPERTY KMM_BOARD_${id}_${key})
  endforeach()
  if(NOT ARG_QEMU_ARGS)
    set(ARG_QEMU_ARGS ${board_QEMU_ARGS})
  endif()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 120)
  endif()
  string(MAKE_C_IDENTIFIER "${ARG_NAME}" name_id)
  set(image kmm-${ARG_BOARD}-${ARG_NAME})

  add_executable(${image} ${ARG_SOURCES})
  target_compile_definitions(${image} PRIVATE ${ARG_DEFINES})
  if(ARG_MM_DEFINES)
    get_target_property(defines kmm_mm_${id} INTERFACE_COMPILE_DEFINITIONS)
    set(mm kmm_mm_${id}_${name_id})
    kmm_mm_library(${mm} DEFINES ${defines} ${ARG_MM_DEFINES})
    target_link_libraries(${mm} PUBLIC kmm_arch)
    set(kernel_sources ${KMM_KERNEL_SOURCES} ${board_SOURCES})
    if(KMM_LIBC_SHIM)
      list(APPEND kernel_sources ${KMM_LIBC_SHIM_SOURCES} ${KMM_LIBC_SHIM_TEST_SOURCES})
    endif()
    set(kernel kmm_kernel_${id}_${name_id})
    add_library(${kernel} OBJECT ${kernel_sources})
    target_include_directories(${kernel} PUBLIC ${KMM_KERNEL_INCLUDE_DIRS} ${PROJECT_SOURCE_DIR}/boards/common)
    target_compile_definitions(${kernel} PUBLIC
      KMM_BOARD_NAME="${ARG_BOARD}" KMM_BOARD_CPU="${KMM_CPU}")
    target_compile_options(${kernel} PUBLIC ${KMM_WARNINGS})
    target_link_libraries(${kernel} PUBLIC ${mm} kmm_arch)
    target_link_libraries(${image} PRIVATE ${kernel} ${mm})
  else()
    if(KMM_LIBC_SHIM)
      target_link_libraries(${image} PRIVATE kmm_libc_shim_${id})
    endif()
    target_link_libraries(${image} PRIVATE kmm_kernel_${id} kmm_mm_${id})
  endif()
  target_include_directories(${image} PRIVATE ${PROJECT_SOURCE_DIR}/tests/qemu)
  kmm_image(${image} LINKER_SCRIPT ${board_LINKER_SCRIPT})

  set(expect "# ktest: [1-9][0-9]* tests, [1-9][0-9]* passed, 0 failed.*exit status 0")
  if(ARG_EXPECT_OUTPUT)
    set(expect "${ARG_EXPECT_OUTPUT}.*${expect}")
  endif()
  kmm_qemu_test(NAME qemu.${ARG_BOARD}.${ARG_NAME} IMAGE ${image} QEMU ${board_QEMU}
    ARGS ${ARG_QEMU_ARGS} EXPECT_EXIT 0 EXPECT_OUTPUT "${expect}" TIMEOUT ${ARG_TIMEOUT})
  add_custom_target(run-${ARG_BOARD}-${ARG_NAME}
    COMMAND ${board_QEMU} ${ARG_QEMU_ARGS} -kernel $<TARGET_FILE:${image}>
    DEPENDS ${image} USES_TERMINAL VERBATIM)
endfunction()

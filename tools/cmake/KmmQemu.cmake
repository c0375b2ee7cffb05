# tools/cmake/KmmQemu.cmake — CTests that boot an image under QEMU.
# kmm_qemu_test(NAME <test> IMAGE <target> QEMU <qemu-system-…>
#               ARGS <qemu args…> [EXPECT_EXIT n] [EXPECT_OUTPUT regex]
#               [TIMEOUT s] [PLANT_SYMBOL name])
# runs tests/qemu/run_qemu.cmake (label qemu). Without the QEMU binary the
# test is still added, and fails saying so.
include_guard(GLOBAL)

function(kmm_qemu_test)
  cmake_parse_arguments(ARG "" "NAME;IMAGE;QEMU;EXPECT_EXIT;EXPECT_OUTPUT;TIMEOUT;PLANT_SYMBOL" "ARGS" ${ARGN})
  if(NOT DEFINED ARG_EXPECT_EXIT)
    set(ARG_EXPECT_EXIT 0)
  endif()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 60)
  endif()
  string(MAKE_C_IDENTIFIER "KMM_QEMU_${ARG_QEMU}" var)
  find_program(${var} ${ARG_QEMU})
  if(NOT ${var})
    # A boot test that cannot run fails: a green run must have booted
    # every board (./test.sh installs QEMU first).
    message(STATUS "kmm: ${ARG_QEMU} not found: QEMU test ${ARG_NAME} will fail")
    add_test(NAME ${ARG_NAME}
      COMMAND sh -c "echo '${ARG_NAME}: ${ARG_QEMU} is not installed (apt-get install qemu-system-arm or qemu-system-misc), so this boot test cannot run' >&2; exit 1")
    set_tests_properties(${ARG_NAME} PROPERTIES LABELS qemu)
    return()
  endif()
  # Lists cannot cross add_test intact: "|" separates QEMU_ARGS.
  string(REPLACE ";" "|" args "${ARG_ARGS}")
  add_test(NAME ${ARG_NAME}
    COMMAND ${CMAKE_COMMAND}
      -DQEMU=${${var}} "-DQEMU_ARGS=${args}" -DELF=$<TARGET_FILE:${ARG_IMAGE}>
      -DEXPECT_EXIT=${ARG_EXPECT_EXIT} "-DEXPECT_OUTPUT=${ARG_EXPECT_OUTPUT}"
      -DTIMEOUT=${ARG_TIMEOUT} -DLOG=${CMAKE_CURRENT_BINARY_DIR}/${ARG_NAME}.log
      -DNM=${CMAKE_NM} -DPLANT_SYMBOL=${ARG_PLANT_SYMBOL}
      -P ${PROJECT_SOURCE_DIR}/tests/qemu/run_qemu.cmake)
  math(EXPR ctest_timeout "${ARG_TIMEOUT} + 30")
  set_tests_properties(${ARG_NAME} PROPERTIES LABELS qemu TIMEOUT ${ctest_timeout})
endfunction()

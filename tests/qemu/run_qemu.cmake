# tests/qemu/run_qemu.cmake — boots one image under QEMU and judges the run
# by its exit status (reported by the image through semihosting) and,
# optionally, its console output. Used by every CTest of label qemu.
#
#   cmake -DQEMU=qemu-system-arm "-DQEMU_ARGS=-M|mps2-an385|…" -DELF=<image>
#         [-DEXPECT_EXIT=0] [-DEXPECT_OUTPUT=<regex>] [-DTIMEOUT=60]
#         [-DLOG=<file>] [-DNM=<nm> -DPLANT_SYMBOL=<name>] -P run_qemu.cmake
#
# PLANT_SYMBOL: before the image starts, QEMU's loader device writes
# 0xdeadbeef into the first word of that variable (its address from nm,
# demangled name ending in the given one): for a .bss variable, proof that
# start-up zeroes .bss (QEMU's own RAM is zero, so an omitted .bss loop
# would go unseen otherwise; kernel/tests/startup_test.cpp).
#
# EXPECT_OUTPUT may name link-time addresses: @symbol@, @symbol+N@ or
# @symbol-N@ (N decimal or 0x hex) becomes that symbol's address (from nm,
# as the symbol table holds it: Thumb code without its bit 0) plus or
# minus N, in 8 lowercase hex digits without 0x (a register in a Cortex-M
# fault report). A symbol the image lacks fails the test.
#
# Passes only if QEMU exits by itself, with exactly EXPECT_EXIT, and the
# output matches EXPECT_OUTPUT. A hang (timeout) or a QEMU that cannot
# start always fails, so a test expecting a nonzero status cannot pass by
# accident.
foreach(var QEMU ELF)
  if(NOT ${var})
    message(FATAL_ERROR "run_qemu: ${var} is required")
  endif()
endforeach()
string(REPLACE "|" ";" QEMU_ARGS "${QEMU_ARGS}")
if(PLANT_SYMBOL)
  execute_process(COMMAND ${NM} -C ${ELF} OUTPUT_VARIABLE symbols RESULT_VARIABLE nm_rc)
  string(REGEX MATCH "([0-9a-fA-F]+) [bB] [^\n]*${PLANT_SYMBOL}\n" line "${symbols}")
  if(NOT nm_rc EQUAL 0 OR NOT line)
    message(FATAL_ERROR "run_qemu: ${PLANT_SYMBOL} not found in .bss of ${ELF} (nm: ${NM})")
  endif()
  list(APPEND QEMU_ARGS -device "loader,addr=0x${CMAKE_MATCH_1},data=0xdeadbeef,data-len=4")
endif()
string(REGEX MATCHALL "@[A-Za-z_][A-Za-z0-9_]*([-+](0x[0-9a-fA-F]+|[0-9]+))?@" placeholders "${EXPECT_OUTPUT}")
if(placeholders)
  execute_process(COMMAND ${NM} ${ELF} OUTPUT_VARIABLE symbols RESULT_VARIABLE nm_rc)
  if(NOT nm_rc EQUAL 0)
    message(FATAL_ERROR "run_qemu: ${NM} ${ELF} failed")
  endif()
  list(REMOVE_DUPLICATES placeholders)
  foreach(placeholder ${placeholders})
    string(REGEX MATCH "^@([A-Za-z_][A-Za-z0-9_]*)(([-+])(.*))?@$" unused "${placeholder}")
    set(name "${CMAKE_MATCH_1}")
    set(op "${CMAKE_MATCH_3}")
    set(offset "${CMAKE_MATCH_4}")
    string(REGEX MATCH "(^|\n)([0-9a-fA-F]+) [A-Za-z] ${name}\n" line "${symbols}")
    if(NOT line)
      message(FATAL_ERROR "run_qemu: ${placeholder}: no symbol ${name} in ${ELF}")
    endif()
    if(NOT op)
      set(op "+")
      set(offset 0)
    endif()
    math(EXPR value "0x${CMAKE_MATCH_2} ${op} ${offset}" OUTPUT_FORMAT HEXADECIMAL)
    string(REGEX REPLACE "^0x" "" value "${value}")
    string(TOLOWER "${value}" value)
    string(LENGTH "${value}" length)
    while(length LESS 8)
      string(PREPEND value "0")
      math(EXPR length "${length} + 1")
    endwhile()
    string(REPLACE "${placeholder}" "${value}" EXPECT_OUTPUT "${EXPECT_OUTPUT}")
  endforeach()
endif()
if(NOT DEFINED EXPECT_EXIT)
  set(EXPECT_EXIT 0)
endif()
if(NOT TIMEOUT)
  set(TIMEOUT 60)
endif()

execute_process(
  COMMAND ${QEMU} ${QEMU_ARGS} -kernel ${ELF}
  INPUT_FILE /dev/null
  OUTPUT_VARIABLE out
  ERROR_VARIABLE out
  RESULT_VARIABLE rc
  TIMEOUT ${TIMEOUT})
message("${out}")
if(LOG)
  file(WRITE "${LOG}" "${out}")
endif()

string(REPLACE ";" " " cmdline "${QEMU} ${QEMU_ARGS} -kernel ${ELF}")
if(NOT rc MATCHES "^[0-9]+$")
  message(FATAL_ERROR "run_qemu: '${cmdline}' did not exit by itself: ${rc}")
endif()
if(NOT rc EQUAL EXPECT_EXIT)
  message(FATAL_ERROR "run_qemu: exit status ${rc}, expected ${EXPECT_EXIT} (${cmdline})")
endif()
if(EXPECT_OUTPUT AND NOT out MATCHES "${EXPECT_OUTPUT}")
  message(FATAL_ERROR "run_qemu: output does not match '${EXPECT_OUTPUT}'")
endif()
message(STATUS "run_qemu: exit status ${rc} as expected")

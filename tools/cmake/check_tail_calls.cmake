# tools/cmake/check_tail_calls.cmake — fails unless each named function of
# an image makes no call: everything it does not do itself is a tail
# branch (docs/SLAB.md, "No stack frame on the hit paths"). A call means a
# stack frame and a return through it on the hit path as well; that is how
# a slow-path function with one argument too many for the registers
# (32-bit ARM passes four) once cost kmem_cache_alloc 4 instructions.
#   cmake -DOBJDUMP=arm-none-eabi-objdump -DELF=<image>.elf
#         -DFUNCTIONS="kmalloc;kfree;…" -P check_tail_calls.cmake
# Calls are ARM's bl/blx and RISC-V's jal/jalr/call with the return
# address register (objdump writes their tail forms b, bx, j, jr, tail).
cmake_minimum_required(VERSION 3.22)
foreach(var OBJDUMP ELF FUNCTIONS)
  if(NOT ${var})
    message(FATAL_ERROR "check_tail_calls: ${var} is required")
  endif()
endforeach()
execute_process(COMMAND ${OBJDUMP} -d --no-show-raw-insn ${ELF} OUTPUT_VARIABLE text RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "check_tail_calls: '${OBJDUMP} -d ${ELF}' failed")
endif()
# one list entry per line; objdump's lines hold no ';'
string(REPLACE "\n" ";" lines "${text}")
set(bad "")
foreach(fn IN LISTS FUNCTIONS)
  set(inside FALSE)
  set(found FALSE)
  set(count 0)
  foreach(line IN LISTS lines)
    if(line MATCHES "^[0-9a-f]+ <([^>]+)>:$")
      if(CMAKE_MATCH_1 STREQUAL fn)
        set(inside TRUE)
        set(found TRUE)
      elseif(inside)
        break()
      endif()
    elseif(inside)
      if(line MATCHES "^ *[0-9a-f]+:\t(bl|blx|bl\\.w|jal|jalr|call)[ \t]")
        string(STRIP "${line}" line)
        list(APPEND bad "${fn} makes a call: ${line}")
      elseif(line MATCHES "^ *[0-9a-f]+:\t")
        math(EXPR count "${count} + 1")
      endif()
    endif()
  endforeach()
  if(NOT found)
    list(APPEND bad "${fn}: not in ${ELF}")
  elseif(count EQUAL 0)
    list(APPEND bad "${fn}: no instructions read")
  endif()
endforeach()
if(bad)
  string(REPLACE ";" "\n  " bad "${bad}")
  message(FATAL_ERROR "check_tail_calls: ${ELF}:\n  ${bad}")
endif()
list(LENGTH FUNCTIONS n)
message(STATUS "check_tail_calls: ${n} functions of ${ELF} make no call")

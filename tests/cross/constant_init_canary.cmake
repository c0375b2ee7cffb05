# tests/cross/constant_init_canary.cmake — the negative control of
# tools/cmake/check_constant_init.cmake: copies a real linker map with one
# .init_array input section added, named after OBJECT, and runs the check
# on the copy. The CTests that call it expect the check to fail for an
# object of mm, the kernel, arch or a board, and to pass for one of
# kernel/tests (see tests/cross/CMakeLists.txt).
#   cmake -DMAP=<image>.map -DOBJECT=<path as ld prints it> -DOUT=<copy>
#         -P constant_init_canary.cmake
if(NOT MAP OR NOT EXISTS "${MAP}" OR NOT OBJECT OR NOT OUT)
  message(FATAL_ERROR "constant_init_canary: needs MAP (an existing map), OBJECT and OUT")
endif()
file(READ "${MAP}" text)
# the input-section line goes where ld lists .init_array's inputs, in the
# form ld writes them (name, address, size, object)
string(FIND "${text}" " *(.init_array)\n" at)
if(at EQUAL -1)
  message(FATAL_ERROR "constant_init_canary: ${MAP} has no '*(.init_array)' line")
endif()
string(LENGTH " *(.init_array)\n" skip)
math(EXPR at "${at} + ${skip}")
string(SUBSTRING "${text}" 0 ${at} head)
string(SUBSTRING "${text}" ${at} -1 tail)
file(WRITE "${OUT}" "${head} .init_array    0x00009f7c        0x4 ${OBJECT}\n${tail}")
set(MAP "${OUT}")
include(${CMAKE_CURRENT_LIST_DIR}/../../tools/cmake/check_constant_init.cmake)
message(STATUS "constant_init_canary: ${OBJECT}: no dynamic initialiser reported")

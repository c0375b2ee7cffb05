# tools/cmake/check_libc_allocator.cmake — fails if a libc allocator is
# linked into an image that should route every allocation to kmm (the libc
# shim, kernel/lib/libc_shim.cpp).
#   cmake -DNM=arm-none-eabi-nm -DELF=<image>.elf -DMAP=<image>.map -P check_libc_allocator.cmake
# Checks, on the symbol table (nm):
#   none of newlib's allocator internals or heap hooks is present
#   (_sbrk, _sbrk_r, nano_malloc, __malloc_av_, __malloc_lock, …);
# and on the linker map's cross-reference table: each of malloc, free,
# realloc, calloc, _malloc_r, _free_r, _realloc_r, _calloc_r, _memalign_r
# and the <malloc.h> statistics (mallinfo, malloc_trim, malloc_stats,
# mallopt, mstats and their _r forms) that the image has is defined by the
# shim's object (libc_shim.cpp), and no
# libc archive member of an allocator (mallocr.o, freer.o, nano-mallocr.o,
# nano-freer.o and the other nano-*r.o of libc_nano.a, mstats.o, mtrim.o,
# syssbrk.o, sbrkr.o …) was pulled in.
cmake_minimum_required(VERSION 3.22)
foreach(var NM ELF MAP)
  if(NOT ${var})
    message(FATAL_ERROR "check_libc_allocator: ${var} is required")
  endif()
endforeach()
execute_process(COMMAND ${NM} ${ELF} OUTPUT_VARIABLE symbols RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "check_libc_allocator: '${NM} ${ELF}' failed")
endif()
string(REPLACE "\n" ";" symbols "${symbols}")

set(forbidden _sbrk _sbrk_r nano_malloc nano_free nano_realloc nano_calloc __malloc_av_
    __malloc_sbrk_base __malloc_top_pad __malloc_trim_threshold __malloc_max_sbrked_mem
    __malloc_max_total_mem __malloc_current_mallinfo __malloc_free_list __malloc_sbrk_start
    __malloc_lock __malloc_unlock __malloc_update_mallinfo)
set(bad "")
foreach(line IN LISTS symbols)
  if(line MATCHES "^[0-9a-fA-F]* *([a-zA-Z]) (.+)$")
    set(type "${CMAKE_MATCH_1}")
    set(name "${CMAKE_MATCH_2}")
    if(name IN_LIST forbidden)
      list(APPEND bad "symbol ${name} (${type}): libc allocator")
    endif()
  endif()
endforeach()
# The map: who defines the allocator entry points, which archive members came.
file(STRINGS "${MAP}" lines)
set(in_cref FALSE)
set(expect "")
set(in_members FALSE)
foreach(line IN LISTS lines)
  if(line MATCHES "^Archive member included")
    set(in_members TRUE)
  elseif(line MATCHES "^(Discarded input sections|Memory Configuration|Allocating common symbols)")
    set(in_members FALSE)
  endif()
  if(in_members AND line MATCHES "\\((lib_a-|libc_a-)?(nano-)?(mallocr|malloc|freer|cfreer|reallocr|callocr|malignr|sbrkr|syssbrk|mlock|mallinfor|msizer|mallstatsr|malloptr|vallocr|pvallocr|mstats|mtrim)\\.o\\)")
    list(APPEND bad "archive member ${line}")
  endif()
  if(line MATCHES "^Cross Reference Table")
    set(in_cref TRUE)
    continue()
  endif()
  if(in_cref)
    if(line MATCHES "^(malloc|free|realloc|calloc|_malloc_r|_free_r|_realloc_r|_calloc_r|_memalign_r|mallinfo|_mallinfo_r|malloc_trim|_malloc_trim_r|malloc_stats|_malloc_stats_r|mallopt|_mallopt_r|mstats|_mstats_r)[ \t]+([^ \t].*)$")
      set(sym "${CMAKE_MATCH_1}")
      set(definer "${CMAKE_MATCH_2}")
      if(NOT definer MATCHES "libc_shim")
        list(APPEND bad "${sym} is defined by ${definer}, not by the kmm libc shim")
      endif()
    endif()
  endif()
endforeach()

# Without the table (an image linked without -Wl,--cref) the entry-point
# check above saw nothing and would pass an image it never looked at.
if(NOT in_cref)
  message(FATAL_ERROR "check_libc_allocator: ${MAP} has no Cross Reference Table (link with -Wl,--cref)")
endif()
if(bad)
  list(REMOVE_DUPLICATES bad)
  list(JOIN bad "\n  " text)
  message(FATAL_ERROR "check_libc_allocator: ${ELF} links a libc allocator:\n  ${text}")
endif()
message(STATUS "check_libc_allocator: ${ELF}: every allocator entry point is kmm's")

# tools/cmake/check_no_alloc.cmake — fails if any of the given object files
# refers to an allocator: libc's malloc family, C++ operator new, or kmm's
# own (kmalloc, kmem_cache_alloc, alloc_pages, …). For code that must never
# allocate (printk and its formatter: usable before mm and in fault
# handlers).
#   cmake -DNM=<nm> "-DOBJECTS=a.o;b.o" [-DMUST_REFER=<symbol>] -P check_no_alloc.cmake
# MUST_REFER: a symbol one of the objects is known to refer to (proof that
# nm read them).
if(NOT NM OR NOT OBJECTS)
  message(FATAL_ERROR "check_no_alloc: NM and OBJECTS are required")
endif()
set(bad "")
set(all "")
foreach(obj IN LISTS OBJECTS)
  execute_process(COMMAND ${NM} -u ${obj} OUTPUT_VARIABLE out RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "check_no_alloc: ${NM} -u ${obj} failed")
  endif()
  string(REPLACE "\n" ";" lines "${out}")
  foreach(line IN LISTS lines)
    string(STRIP "${line}" line)
    if(NOT line MATCHES "^U +(.+)$")
      continue()
    endif()
    set(sym "${CMAKE_MATCH_1}")
    list(APPEND all "${sym}")
    if(sym MATCHES "^(malloc|calloc|realloc|reallocf|free|aligned_alloc|posix_memalign|memalign|valloc|_malloc_r|_sbrk|_Zn[wa].*|kmalloc.*|kzalloc|kcalloc|krealloc.*|kmem_cache_alloc.*|kmemdup.*|kstr.*dup|kvmalloc.*|__get_free_pages|get_zeroed_page|alloc_pages.*|alloc_page)$")
      list(APPEND bad "${obj}: ${sym}")
    endif()
  endforeach()
endforeach()
list(FIND all "${MUST_REFER}" found)
if(MUST_REFER AND found EQUAL -1)
  message(FATAL_ERROR "check_no_alloc: no object refers to ${MUST_REFER}: did nm read them? (${all})")
endif()
if(bad)
  list(JOIN bad "\n  " text)
  message(FATAL_ERROR "check_no_alloc: allocator references:\n  ${text}")
endif()
list(LENGTH OBJECTS n)
message(STATUS "check_no_alloc: ${n} objects, no allocator among their undefined symbols")

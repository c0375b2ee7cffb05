# tools/cmake/check_constant_init.cmake — fails if an object of mm/,
# kernel/ (outside kernel/tests/), arch/ or boards/ adds a dynamic
# initialiser (.init_array) to an image.
#   cmake -DMAP=<image>.map -P check_constant_init.cmake
# Why: kernel/boot.cpp brings mm up from .preinit_array, before the C++
# static constructors (so that they may allocate). A global of mm, the
# kernel or the board that is not constant-initialised would be
# constructed after that, over the state boot_early left in it. Reads the
# linker map's .init_array input sections (the object each one came from).
if(NOT MAP OR NOT EXISTS "${MAP}")
  message(FATAL_ERROR "check_constant_init: map file '${MAP}' not found")
endif()
file(STRINGS "${MAP}" lines)
set(bad "")
set(pending FALSE)
foreach(line IN LISTS lines)
  set(object "")
  if(pending AND line MATCHES "^[ \t]+0x[0-9a-fA-F]+[ \t]+0x[0-9a-fA-F]+[ \t]+(.+)$")
    set(object "${CMAKE_MATCH_1}")
  endif()
  set(pending FALSE)
  if(line MATCHES "^ \\.init_array(\\.[0-9]+)?[ \t]+0x[0-9a-fA-F]+[ \t]+0x[0-9a-fA-F]+[ \t]+(.+)$")
    set(object "${CMAKE_MATCH_2}")
  elseif(line MATCHES "^ \\.init_array(\\.[0-9]+)?[ \t]*$")
    set(pending TRUE) # ld put the address, size and object on the next line
  endif()
  # Where an object of ours shows up in the map: under its source folder
  # (../arch/arm/libkmm_arch.a, __/kernel/boot.cpp.obj), or, for what a
  # board builds in build/<preset>/boards, only under its target's name:
  # libkmm_mm_<board>[_<variant>].a(slub.cpp.obj) and
  # kmm_kernel_<board>.dir/<board>/board.cpp.obj name neither mm/ nor boards/.
  if(object AND (object MATCHES "/(mm|kernel|arch|boards)/"
                 OR object MATCHES "(^|/)libkmm_(mm|arch)[A-Za-z0-9_]*\\.a\\("
                 OR object MATCHES "(^|/)kmm_(kernel_[A-Za-z0-9_]+|libc_shim_[A-Za-z0-9_]+|klib|arch_startup)\\.dir/")
     AND NOT object MATCHES "/kernel/tests/")
    list(APPEND bad "${object}")
  endif()
endforeach()
if(bad)
  list(JOIN bad "\n  " text)
  message(FATAL_ERROR "check_constant_init: ${MAP}: dynamic initialisers (.init_array) from mm/kernel/arch/boards "
                      "objects; their globals would be constructed after boot_early (.preinit_array) started mm — "
                      "make them constant-initialised (constexpr constructors, constinit):\n  ${text}")
endif()

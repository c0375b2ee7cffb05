# tools/cmake/KmmNewlib.cmake — the images that link newlib on purpose
# (the libc shim's proof and the slot benchmark's newlib side); every other
# image is -nostdlib and checked by check_no_libc.cmake.
#
#   KMM_NEWLIB_LIBC   path of the toolchain's libc.a for this CPU (empty if
#                     it has none: riscv64-unknown-elf without picolibc)
#   KMM_NEWLIB_LIBC_NANO  path of libc_nano.a (newlib-nano, what
#                     --specs=nano.specs links), or empty
#   kmm_newlib_image(<target> LINKER_SCRIPT <file> [LIBC c|c_nano])
#       the arch startup, the linker script, then newlib's libc (default
#       c; c_nano = newlib-nano, compiled and linked with
#       --specs=nano.specs) and libgcc
#       (-nostdlib: no crt0, no libnosys — the image brings its system
#       calls, tests/cross/newlib/newlib_glue.c); the stack as
#       kmm_image_stack (KmmImage.cmake); writes <target>.map with
#       a cross-reference table; prints the sizes.
#   kmm_newlib_missing_test(<test>)
#       on an ARM build without newlib: CTest <test> (label cross) that
#       fails naming the package, in place of the newlib images' tests,
#       which would otherwise just be absent from a green run
#   kmm_libc_allocator_test(NAME <test> IMAGE <target> [WILL_FAIL])
#       CTest (label cross): tools/cmake/check_libc_allocator.cmake on the
#       image's symbol table (nm) and map: no libc allocator may be linked.
include_guard(GLOBAL)
include(${CMAKE_CURRENT_LIST_DIR}/KmmImage.cmake) # kmm_image_stack

separate_arguments(_kmm_cpu_flags UNIX_COMMAND "${KMM_CPU_FLAGS} ${KMM_LINK_CPU_FLAGS}")
execute_process(COMMAND ${CMAKE_C_COMPILER} ${_kmm_cpu_flags} -print-file-name=libc.a
  OUTPUT_VARIABLE _kmm_libc OUTPUT_STRIP_TRAILING_WHITESPACE)
if(IS_ABSOLUTE "${_kmm_libc}" AND EXISTS "${_kmm_libc}")
  set(KMM_NEWLIB_LIBC "${_kmm_libc}")
else()
  set(KMM_NEWLIB_LIBC "")
endif()
execute_process(COMMAND ${CMAKE_C_COMPILER} ${_kmm_cpu_flags} -print-file-name=libc_nano.a
  OUTPUT_VARIABLE _kmm_libc_nano OUTPUT_STRIP_TRAILING_WHITESPACE)
if(IS_ABSOLUTE "${_kmm_libc_nano}" AND EXISTS "${_kmm_libc_nano}")
  set(KMM_NEWLIB_LIBC_NANO "${_kmm_libc_nano}")
else()
  set(KMM_NEWLIB_LIBC_NANO "")
endif()

function(kmm_newlib_image target)
  cmake_parse_arguments(ARG "" "LINKER_SCRIPT;LIBC" "" ${ARGN})
  if(NOT ARG_LIBC)
    set(ARG_LIBC c)
  endif()
  set(map ${CMAKE_CURRENT_BINARY_DIR}/${target}.map)
  target_link_libraries(${target} PRIVATE kmm_arch_startup kmm_arch)
  target_link_options(${target} PRIVATE
    -nostdlib -nostartfiles
    -L${PROJECT_SOURCE_DIR}/linker
    -T${ARG_LINKER_SCRIPT}
    -Wl,--gc-sections -Wl,-Map=${map} -Wl,--cref)
  kmm_image_stack(${target})
  target_link_libraries(${target} PRIVATE -Wl,--start-group ${ARG_LIBC} gcc -Wl,--end-group)
  if(ARG_LIBC STREQUAL "c_nano")
    # What a newlib-nano user builds with: nano.specs also puts nano's
    # newlib.h (_WANT_REENT_SMALL, …) first on the include path.
    target_compile_options(${target} PRIVATE --specs=nano.specs)
    target_link_options(${target} PRIVATE --specs=nano.specs)
  endif()
  set_target_properties(${target} PROPERTIES
    SUFFIX ".elf"
    LINK_DEPENDS "${ARG_LINKER_SCRIPT};${KMM_LINKER_LAYOUT}")
  add_custom_command(TARGET ${target} POST_BUILD COMMAND ${KMM_SIZE} $<TARGET_FILE:${target}> VERBATIM)
endfunction()

function(kmm_newlib_missing_test name)
  add_test(NAME ${name}
    COMMAND sh -c "echo '${name}: the toolchain has no newlib libc.a for ${KMM_CPU} (apt-get install libnewlib-arm-none-eabi), so this test cannot run' >&2; exit 1")
  set_tests_properties(${name} PROPERTIES LABELS cross)
endfunction()

function(kmm_libc_allocator_test)
  cmake_parse_arguments(ARG "WILL_FAIL" "NAME;IMAGE" "" ${ARGN})
  add_test(NAME ${ARG_NAME}
    COMMAND ${CMAKE_COMMAND} -DNM=${KMM_NM} -DELF=$<TARGET_FILE:${ARG_IMAGE}>
            -DMAP=$<TARGET_FILE_DIR:${ARG_IMAGE}>/${ARG_IMAGE}.map
            -P ${PROJECT_SOURCE_DIR}/tools/cmake/check_libc_allocator.cmake)
  set_tests_properties(${ARG_NAME} PROPERTIES LABELS cross)
  if(ARG_WILL_FAIL)
    # The checker must fail for the right reason: naming a libc allocator
    # (a missing map or a failing nm fails too, but says something else).
    set_tests_properties(${ARG_NAME} PROPERTIES
      PASS_REGULAR_EXPRESSION "symbol [_A-Za-z0-9]+ \\([A-Za-z]\\): libc allocator;archive member [^\n]*\\((lib_a-|libc_a-)?[a-z-]+\\.o\\);is defined by [^\n]*not by the kmm libc shim")
  endif()
endfunction()

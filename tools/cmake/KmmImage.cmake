# tools/cmake/KmmImage.cmake — how a bare-metal kmm image is linked and
# checked. kmm_image(<target> LINKER_SCRIPT <file> [LINK_DIRS dir...])
# turns an executable target into a -nostdlib image:
#   * links the arch startup objects, the linker script (-L linker/ so the
#     script can INCLUDE the arch's section layout, KMM_LINKER_LAYOUT:
#     cortex-m.ld or ram.ld) and -lgcc, and nothing else;
#   * sizes the main stack: KMM_STACK_SIZE (cache) if set, else the
#     script's default, which may depend on KMM_UNOPTIMISED (Debug);
#   * writes <target>.map;
#   * after each link: fails the build if the map shows anything from libc
#     or another runtime library (tools/cmake/check_no_libc.cmake), and
#     prints the section sizes (KMM_SIZE: arm-none-eabi-size, …);
#   * adds a CTest <target>.no_libc (label cross) running the same check;
#   * after each link, and as CTest <target>.constant_init (label cross):
#     fails if an mm/kernel/arch/boards object (kernel/tests/ aside) has a
#     dynamic initialiser (tools/cmake/check_constant_init.cmake): boot
#     starts mm before the constructors run.
include_guard(GLOBAL)

# kmm_image_stack(<target>): the main stack's size for the linker script.
# The cache variable KMM_STACK_SIZE (bytes) overrides the script's default
# (as KMM_STACK_SIZE_SET); an unoptimised build (Debug, or no build type)
# says so (KMM_UNOPTIMISED),
# and a script may then pick a larger default (lm3s6965evb: -O0 frames peak
# at 2,720 B where -Os peaks at 1,616).
function(kmm_image_stack target)
  if(KMM_STACK_SIZE)
    target_link_options(${target} PRIVATE -Wl,--defsym=KMM_STACK_SIZE_SET=${KMM_STACK_SIZE})
  endif()
  # (The gcc driver passes -T last, after these: ld's DEFINED() sees a
  # --defsym only if it comes before the script. An empty build type
  # compiles at -O0 as Debug does.)
  target_link_options(${target} PRIVATE $<$<OR:$<CONFIG:Debug>,$<CONFIG:>>:-Wl,--defsym=KMM_UNOPTIMISED=1>)
endfunction()

function(kmm_image target)
  cmake_parse_arguments(ARG "" "LINKER_SCRIPT" "LINK_DIRS" ${ARGN})
  if(NOT ARG_LINKER_SCRIPT)
    message(FATAL_ERROR "kmm_image(${target}): LINKER_SCRIPT is required")
  endif()
  set(map ${CMAKE_CURRENT_BINARY_DIR}/${target}.map)
  set(KMM_CHECK_NO_LIBC ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/check_no_libc.cmake)
  set(KMM_CHECK_CONSTANT_INIT ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/check_constant_init.cmake)
  target_link_libraries(${target} PRIVATE kmm_arch_startup kmm_klib kmm_arch)
  target_link_options(${target} PRIVATE
    -nostdlib -nostartfiles
    -L${PROJECT_SOURCE_DIR}/linker
    -T${ARG_LINKER_SCRIPT}
    -Wl,--gc-sections -Wl,-Map=${map} -Wl,--cref)
  kmm_image_stack(${target})
  foreach(dir IN LISTS ARG_LINK_DIRS)
    target_link_options(${target} PRIVATE -L${dir})
  endforeach()
  # libgcc last: the only library an image may take from the toolchain.
  target_link_libraries(${target} PRIVATE gcc)
  set_target_properties(${target} PROPERTIES
    SUFFIX ".elf"
    LINK_DEPENDS "${ARG_LINKER_SCRIPT};${KMM_LINKER_LAYOUT}")
  add_custom_command(TARGET ${target} POST_BUILD
    COMMAND ${CMAKE_COMMAND} -DMAP=${map} -DBINARY_DIR=${PROJECT_BINARY_DIR}
            -P ${KMM_CHECK_NO_LIBC}
    COMMAND ${CMAKE_COMMAND} -DMAP=${map} -P ${KMM_CHECK_CONSTANT_INIT}
    COMMAND ${KMM_SIZE} $<TARGET_FILE:${target}>
    VERBATIM)
  add_test(NAME ${target}.no_libc
    COMMAND ${CMAKE_COMMAND} -DMAP=${map} -DBINARY_DIR=${PROJECT_BINARY_DIR}
            -P ${KMM_CHECK_NO_LIBC})
  set_tests_properties(${target}.no_libc PROPERTIES LABELS cross)
  add_test(NAME ${target}.constant_init
    COMMAND ${CMAKE_COMMAND} -DMAP=${map} -P ${KMM_CHECK_CONSTANT_INIT})
  set_tests_properties(${target}.constant_init PROPERTIES LABELS cross)
endfunction()

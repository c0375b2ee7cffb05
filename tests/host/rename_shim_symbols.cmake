# tests/host/rename_shim_symbols.cmake — the libc shim's objects for the host
# test binary: every global symbol an object defines (malloc, free,
# _Znwm, …) renamed kmm_shim_<symbol> in a copy, OUT_DIR/<name>.o, so the
# test calls the shim next to the host's own malloc, which the test binary
# (GoogleTest, libstdc++) keeps using. References between the objects are
# renamed alike; those to mm (kmalloc …) stay.
#   cmake -DNM=<nm> -DOBJCOPY=<objcopy> "-DOBJECTS=a.o;b.o" -DOUT_DIR=<dir> -P rename_shim_symbols.cmake
if(NOT NM OR NOT OBJCOPY OR NOT OBJECTS OR NOT OUT_DIR)
  message(FATAL_ERROR "rename_shim_symbols: NM, OBJCOPY, OBJECTS and OUT_DIR are required")
endif()
set(symbols "")
foreach(obj IN LISTS OBJECTS)
  execute_process(COMMAND ${NM} --defined-only --extern-only ${obj} OUTPUT_VARIABLE out RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "rename_shim_symbols: ${NM} ${obj} failed")
  endif()
  string(REPLACE "\n" ";" lines "${out}")
  foreach(line IN LISTS lines)
    if(line MATCHES "^[0-9a-fA-F]* +[A-Za-z] +(.+)$")
      list(APPEND symbols "${CMAKE_MATCH_1}")
    endif()
  endforeach()
endforeach()
# A symbol both objects define (a weak one such as the sanitizer builds'
# DW.ref.__gxx_personality_v0) once: objcopy refuses a map that names it twice.
list(REMOVE_DUPLICATES symbols)
set(map "")
foreach(sym IN LISTS symbols)
  string(APPEND map "${sym} kmm_shim_${sym}\n")
endforeach()
if(NOT map MATCHES "(^|\n)malloc kmm_shim_malloc\n")
  message(FATAL_ERROR "rename_shim_symbols: no malloc defined in ${OBJECTS}")
endif()
file(MAKE_DIRECTORY ${OUT_DIR})
file(WRITE ${OUT_DIR}/symbols.map "${map}")
foreach(obj IN LISTS OBJECTS)
  get_filename_component(name ${obj} NAME_WE)
  execute_process(COMMAND ${OBJCOPY} --redefine-syms=${OUT_DIR}/symbols.map ${obj} ${OUT_DIR}/${name}.o
    RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "rename_shim_symbols: ${OBJCOPY} ${obj} failed")
  endif()
endforeach()

# cmake -DABIDIFF=<abidiff> -DABIDW=<abidw> -DSOURCE_DIR=<modkit source> -DWORK_DIR=<dir>
#       -DCXX=<C++ compiler> -DCC=<C compiler> -DSUPPRESSIONS=<abi.suppr>;<loader.suppr>
#       -P loader_abi_breaks.cmake
#
# Feeds deliberate breaks of modkit/loader.h to the loader's ABI gate and requires it to catch
# each, and compatible changes that it must let through. For every change: copy loader.h (and
# the probe with its list), edit them as a careless change would, build the probe against the
# copy and run abidiff against the ABIXML of the probe of the unmodified copy. The unmodified
# copy goes first and must match, so each failure below is the change's doing. Last, the
# library half of the gate (tests/cli/abidiff.cmake with LIBRARY) must refuse a library that
# lost one exported function and accept one exporting them all.
cmake_minimum_required(VERSION 3.25)
if(NOT ABIDIFF OR NOT ABIDW)
  message("modkit-test-skipped: abidiff or abidw not found; install abigail-tools")
  return()
endif()
include(${SOURCE_DIR}/tests/cli/abi_break_checks.cmake)

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
set(failures "")

function(prepare name)
  set(dir "${WORK_DIR}/${name}")
  file(COPY "${SOURCE_DIR}/loader/include/modkit/loader.h" DESTINATION "${dir}/include/modkit")
  file(COPY "${SOURCE_DIR}/tests/loader_abi/loader_probe.cpp" "${SOURCE_DIR}/tests/loader_abi/loader_abi_list.inc"
       DESTINATION "${dir}/probe")
endfunction()

# check(<name> same|changed): the copy's own include dir comes before the live headers.
function(check name expect)
  set(dir "${WORK_DIR}/${name}")
  probe_abidiff(${name} "${dir}/probe/loader_probe.cpp" ${expect} failure
                -I${dir}/include -I${SOURCE_DIR}/abi/include -I${dir}/probe)
  set(failures "${failures}${failure}" PARENT_SCOPE)
endfunction()

# change(<name> same|changed <regex> <replacement> [<list regex> <list replacement>]): a copy
# of loader.h with one edit (and its list with another, as whoever made the change would have
# to for the probe to build), judged by the gate.
function(change name expect regex replacement)
  prepare(${name})
  edit("${WORK_DIR}/${name}" include/modkit/loader.h "${regex}" "${replacement}")
  if(ARGC GREATER 4)
    edit("${WORK_DIR}/${name}" probe/loader_abi_list.inc "${ARGV4}" "${ARGV5}")
  endif()
  check(${name} ${expect})
  set(failures "${failures}" PARENT_SCOPE)
endfunction()

# No change.
prepare(control)
check(control same)

# Breaks. Two fields of modkit_loader_slot swapped:
change(slot_reordered changed
       "(\n[ ]*const modkit_category \\*category;)(\n[ ]*const modkit_slot_desc \\*desc;)" "\\2\\1")
# modkit_loader_entry.module_index retyped, at the same size:
change(entry_retyped changed "(struct modkit_loader_entry {[^}]*)uint32_t module_index" "\\1int32_t module_index")
# a field inserted in the middle of struct modkit_call (which may grow at its end):
change(call_field_inserted changed
       "(\n[ ]*const volatile int32_t \\*cancelled;)" "\n   const volatile void *inserted;\\1")
# an exported function removed:
change(function_removed changed "\nMODKIT_LOADER_API modkit_status modkit_loader_reload_module\\([^;]*;" ""
       "\nMODKIT_LOADER_ABI_FUNCTION\\(modkit_loader_reload_module\\)" "")
# a parameter of an exported function retyped:
change(parameter_retyped changed "(modkit_loader_slot_at\\([^;]*)uint32_t slot_index" "\\1size_t slot_index")
# an array element grown at its end (hosts index arrays of it, so this breaks too):
change(cache_grown changed "(struct modkit_loader_cache {[^}]*)}" "\\1   uint32_t flags;\n}")

# Compatible: a field appended to a size-prefixed struct, and a new exported function.
change(options_appended same "(\n[ ]*void \\(\\*module_stopping\\)\\(void \\*user_data, modkit_host \\*host\\);)"
       "\\1\n   uint32_t added_later;")
change(function_added same "\nMODKIT_EXTERN_C_END"
       "\nMODKIT_LOADER_API uint32_t modkit_loader_added(const modkit_loader *loader);\nMODKIT_EXTERN_C_END"
       "(MODKIT_LOADER_ABI_FUNCTION\\(modkit_loader_response_header_at\\))"
       "\\1\nMODKIT_LOADER_ABI_FUNCTION(modkit_loader_added)")

# The library half: stand-in libraries exporting every baseline function but <omit>.
file(STRINGS "${WORK_DIR}/baseline.abixml" probes REGEX "<elf-symbol name='modkit_loader_abi_probe_fn_")
function(library_check name omit expect)
  set(source "")
  foreach(line IN LISTS probes)
    string(REGEX REPLACE ".*name='modkit_loader_abi_probe_fn_([a-z_0-9]+)'.*" "\\1" function "${line}")
    if(NOT function STREQUAL omit)
      string(APPEND source "__attribute__((visibility(\"default\"))) void ${function}(void) {}\n")
    endif()
  endforeach()
  file(WRITE "${WORK_DIR}/${name}.c" "${source}")
  execute_process(COMMAND "${CC}" -shared -fPIC "${WORK_DIR}/${name}.c" -o "${WORK_DIR}/${name}.so" RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${name}: the stand-in library does not build")
  endif()
  execute_process(COMMAND "${CMAKE_COMMAND}" -DABIDIFF=${ABIDIFF} -DABIDW=${ABIDW} "-DSUPPRESSIONS=${SUPPRESSIONS}"
                          -DBASELINE=${WORK_DIR}/baseline.abixml -DPROBE=${WORK_DIR}/control/probe.so
                          -DLIBRARY=${WORK_DIR}/${name}.so -DPROBE_PREFIX=modkit_loader_abi_probe_fn_
                          -P ${SOURCE_DIR}/tests/cli/abidiff.cmake
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  message(STATUS "${name}: library check status ${rc}")
  # CMake wraps a FATAL_ERROR message at a width that depends on the path printed in it.
  string(REGEX REPLACE "[ \n]+" " " flat "${out}")
  if(expect STREQUAL "same" AND NOT rc EQUAL 0)
    set(failures "${failures}${name}: the library check refused a library exporting every function:\n${out}\n" PARENT_SCOPE)
  elseif(expect STREQUAL "changed" AND (rc EQUAL 0 OR NOT flat MATCHES "no longer exports functions of the baseline: ${omit}"))
    set(failures "${failures}${name}: the library check let the loss of ${omit} through:\n${out}\n" PARENT_SCOPE)
  endif()
endfunction()
library_check(library_complete "" same)
library_check(library_lost_function modkit_loader_reload_module changed)

if(failures)
  message(FATAL_ERROR "loader ABI changes the gate judged wrongly:\n${failures}")
endif()

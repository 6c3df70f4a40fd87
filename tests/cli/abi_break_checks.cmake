# abi_break_checks.cmake - shared by abi_breaks.cmake and loader_abi_breaks.cmake, which set
# CXX, ABIDIFF, ABIDW, SUPPRESSIONS (one file or a list) and WORK_DIR: a careless edit of a
# copied header, and libabigail's verdict on a probe library built from the copy.

# edit(<break dir> <file under the break dir> <regex> <replacement>): the regex must match.
function(edit dir file regex replacement)
  file(READ "${dir}/${file}" text)
  string(REGEX REPLACE "${regex}" "${replacement}" changed "${text}")
  if(changed STREQUAL text)
    message(FATAL_ERROR "the break no longer applies: /${regex}/ matches nothing in ${file}; update ${CMAKE_SCRIPT_MODE_FILE}")
  endif()
  file(WRITE "${dir}/${file}" "${changed}")
endfunction()

# probe_abidiff(<name> <probe source> <expect: same|changed> <out var> <compiler args>...):
# builds WORK_DIR/<name>/probe.so and runs abidiff (with SUPPRESSIONS) from
# WORK_DIR/baseline.abixml to it. The probe named "control" is the unmodified one: it writes
# that baseline first, and must then match it. <out var> is "" when abidiff agrees with
# <expect>, else a line saying what it found.
function(probe_abidiff name source expect out)
  set(dir "${WORK_DIR}/${name}")
  execute_process(COMMAND "${CXX}" -std=c++17 -g -O0 -fno-eliminate-unused-debug-types -fPIC -shared
                          ${ARGN} "${source}" -o "${dir}/probe.so"
                  RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${name}: the probe does not build:\n${err}")
  endif()
  if(name STREQUAL "control")
    execute_process(COMMAND "${ABIDW}" --no-corpus-path --no-comp-dir-path --no-show-locs --type-id-style hash
                            --out-file "${WORK_DIR}/baseline.abixml" "${dir}/probe.so" RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "abidw failed on the unmodified probe (${rc})")
    endif()
  endif()
  set(suppressions "")
  foreach(file IN LISTS SUPPRESSIONS)
    list(APPEND suppressions --suppressions "${file}")
  endforeach()
  execute_process(COMMAND "${ABIDIFF}" ${suppressions} --no-added-syms "${WORK_DIR}/baseline.abixml"
                          "${dir}/probe.so" RESULT_VARIABLE rc OUTPUT_VARIABLE diff)
  if(name STREQUAL "control" AND NOT rc EQUAL 0)
    message(FATAL_ERROR "abidiff finds differences between two probes of the unmodified headers (${rc}):\n${diff}")
  endif()
  message(STATUS "${name}: abidiff status ${rc}")
  if(expect STREQUAL "changed" AND rc EQUAL 0)
    set(${out} "${name}: abidiff returned 0\n" PARENT_SCOPE)
  elseif(expect STREQUAL "same" AND NOT rc EQUAL 0)
    set(${out} "${name}: abidiff returned ${rc} for a compatible change:\n${diff}\n" PARENT_SCOPE)
  else()
    set(${out} "" PARENT_SCOPE)
  endif()
endfunction()

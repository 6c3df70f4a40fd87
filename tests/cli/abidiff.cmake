# cmake -DABIDIFF=<abidiff or NOTFOUND> -DABIDW=<abidw or NOTFOUND> -DBASELINE=<abixml>
#       -DSUPPRESSIONS=<file>[;<file>...] -DPROBE=<probe library>
#       [-DLIBRARY=<library> -DPROBE_PREFIX=<prefix>] -P abidiff.cmake
# CI's ABI gate, part 2: libabigail compares a probe library built from today's headers with
# the committed ABIXML baseline (abi/probe for the module ABI, tests/loader_abi for the
# loader's). Any non-zero status fails (bit 4, "the ABIs differ", included: a mid-struct
# insertion sets only that bit). With LIBRARY, every baseline probe function named
# <PROBE_PREFIX><function> also needs <function> still exported by LIBRARY: the probe pins a
# function's signature, this its presence. It is skipped (the marker below makes ctest say
# so) only when libabigail is missing, or on a machine other than the one the baseline describes.
cmake_minimum_required(VERSION 3.25)
if(NOT ABIDIFF OR NOT ABIDW)
  message("modkit-test-skipped: abidiff or abidw not found; install abigail-tools (tools/dev does) to run the "
          "libabigail ABI check")
  return()
endif()
# The baseline is for one architecture (its first line says which); types differ on others.
file(STRINGS "${BASELINE}" head LIMIT_COUNT 1)
execute_process(COMMAND "${ABIDW}" "${PROBE}" OUTPUT_VARIABLE probe_abi RESULT_VARIABLE rc)
string(REGEX MATCH "architecture='[^']*'" baseline_arch "${head}")
string(REGEX MATCH "architecture='[^']*'" probe_arch "${probe_abi}")
if(NOT rc EQUAL 0 OR NOT baseline_arch)
  message(FATAL_ERROR "cannot read the architecture of ${BASELINE} or ${PROBE} (abidw status ${rc})")
endif()
if(NOT baseline_arch STREQUAL probe_arch)
  message("modkit-test-skipped: the ABIXML baseline has ${baseline_arch}, this build ${probe_arch}")
  return()
endif()
set(suppressions "")
foreach(file IN LISTS SUPPRESSIONS)
  list(APPEND suppressions --suppressions "${file}")
endforeach()
execute_process(COMMAND "${ABIDIFF}" ${suppressions} --no-added-syms "${BASELINE}" "${PROBE}"
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "abidiff found ABI changes the suppressions do not allow (status ${rc}; "
                      "1 error, 2 usage, 4 changed, 8 incompatible)")
endif()

if(NOT LIBRARY)
  return()
endif()
execute_process(COMMAND "${ABIDW}" "${LIBRARY}" OUTPUT_VARIABLE library_abi RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "abidw cannot read ${LIBRARY} (status ${rc})")
endif()
file(STRINGS "${BASELINE}" probes REGEX "<elf-symbol name='${PROBE_PREFIX}[a-z_0-9]+' type='func-type'")
set(missing "")
foreach(line IN LISTS probes)
  string(REGEX REPLACE ".*name='${PROBE_PREFIX}([a-z_0-9]+)'.*" "\\1" function "${line}")
  if(NOT library_abi MATCHES "<elf-symbol name='${function}' type='func-type' binding='global-binding' visibility='default-visibility' is-defined='yes'")
    string(APPEND missing " ${function}")
  endif()
endforeach()
if(NOT probes)
  message(FATAL_ERROR "${BASELINE} names no function as ${PROBE_PREFIX}<function>")
elseif(missing)
  message(FATAL_ERROR "${LIBRARY} no longer exports functions of the baseline:${missing}")
endif()

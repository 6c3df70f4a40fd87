# cmake -DABIDIFF=<abidiff or NOTFOUND> -DABIDW=<abidw or NOTFOUND> -DBASELINE=<abi-1.0.abixml>
#       -DSUPPRESSIONS=<abi.suppr> -DPROBE=<libmodkit-abi-probe.so> -P abidiff.cmake
# CI's ABI gate, part 2: libabigail compares the ABI probe built from today's headers with the
# committed ABIXML baseline. Any non-zero status fails (bit 4, "the ABIs differ", included: a
# mid-struct insertion sets only that bit). It is skipped (the marker below makes ctest say so)
# only when libabigail is missing, or on a machine other than the one the baseline describes.
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
execute_process(COMMAND "${ABIDIFF}" --suppressions "${SUPPRESSIONS}" --no-added-syms "${BASELINE}" "${PROBE}"
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "abidiff found ABI changes the suppressions do not allow (status ${rc}; "
                      "1 error, 2 usage, 4 changed, 8 incompatible)")
endif()

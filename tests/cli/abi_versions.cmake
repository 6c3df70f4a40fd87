# cmake -DABIDIFF=<abidiff or NOTFOUND> -DOLD=<abixml> -DNEW=<abixml> -DSUPPRESSIONS=<file>[;...]
#       [-DMODKIT=<modkit> -DOLD_JSON=<json> -DNEW_JSON=<json>] -P abi_versions.cmake
# Two shipped baselines, the older and the newer minor: what the newer one added must be
# additions only. libabigail judges the ABIXML pair with the same suppressions as the gate, and
# `modkit abi diff` the JSON pair (every change compatible, none breaking).
cmake_minimum_required(VERSION 3.25)
if(MODKIT)
  execute_process(COMMAND "${MODKIT}" abi diff "${OLD_JSON}" "${NEW_JSON}" OUTPUT_VARIABLE out RESULT_VARIABLE rc)
  message("${out}")
  if(NOT rc EQUAL 0 OR NOT out MATCHES " 0 breaking")
    message(FATAL_ERROR "${NEW_JSON} is not additions only over ${OLD_JSON} (modkit abi diff exited ${rc})")
  endif()
endif()
if(NOT ABIDIFF)
  message("modkit-test-skipped: abidiff not found; install abigail-tools (tools/dev does)")
  return()
endif()
set(suppressions "")
foreach(file IN LISTS SUPPRESSIONS)
  list(APPEND suppressions --suppressions "${file}")
endforeach()
# What was added, for the log; then the verdict with additions set aside: nothing else may differ.
execute_process(COMMAND "${ABIDIFF}" ${suppressions} "${OLD}" "${NEW}" OUTPUT_VARIABLE out)
message("${out}")
execute_process(COMMAND "${ABIDIFF}" ${suppressions} --no-added-syms "${OLD}" "${NEW}" OUTPUT_VARIABLE out
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "abidiff ${OLD} -> ${NEW}: status ${rc}; a newer minor may only add:\n${out}")
endif()

# cmake -DMODKIT=<modkit> -DBASELINE=<abi-1.0.json> -DWORK_DIR=<dir> -P abi_baseline.cmake
# CI's ABI gate, part 1: `modkit abi dump` of this build, diffed against the committed baseline.
# Compatible growth passes; any break fails. docs/cli.md says when and how to regenerate it.
cmake_minimum_required(VERSION 3.25)
file(MAKE_DIRECTORY "${WORK_DIR}")
execute_process(COMMAND "${MODKIT}" abi dump --out "${WORK_DIR}/current.json" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "modkit abi dump failed (${rc})")
endif()
execute_process(COMMAND "${MODKIT}" abi diff "${BASELINE}" "${WORK_DIR}/current.json" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "this build breaks the committed ABI baseline ${BASELINE} (modkit abi diff exited ${rc})")
endif()

# cmake -DABIDIFF=<abidiff> -DABIDW=<abidw> -DMODKIT=<modkit> -DSOURCE_DIR=<modkit source>
#       -DWORK_DIR=<dir> -DCXX=<C++ compiler> -DSUPPRESSIONS=<abi.suppr>
#       -DABI_JSON_LIB=<libmodkit_cli_abi_json.a> -DLOADER_LIB=<libmodkit-loader.so> -P abi_breaks.cmake
#
# Feeds deliberate ABI breaks to both of CI's ABI checks and requires each check to catch each
# break. For every break: copy the headers (and the probe with its list), edit them as a
# careless change would, then
#   - build the libabigail probe against them: abidiff (with the project's suppressions) against
#     the ABIXML of a probe built the same way from the unmodified headers must be non-zero;
#   - build the ABI description program (tools/modkit/abi_table.cpp) against them: `modkit abi
#     diff` from this build's description must exit 1 and name the break.
# The unmodified copy goes through both checks first and must pass them, so each failure
# below is the break's doing.
cmake_minimum_required(VERSION 3.25)

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
execute_process(COMMAND "${MODKIT}" abi dump --abi-only --out "${WORK_DIR}/current.json" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "modkit abi dump failed (${rc})")
endif()

set(failures "")
if(NOT ABIDIFF OR NOT ABIDW) # libabigail missing: only the modkit half runs
  set(ABIDIFF "")
endif()

include(${CMAKE_CURRENT_LIST_DIR}/abi_break_checks.cmake)

# check_break(<name> <text modkit abi diff must print>): builds both programs in WORK_DIR/<name>
# and runs both checks.
function(check_break name expected)
  set(dir "${WORK_DIR}/${name}")
  set(includes -I${dir}/include -I${SOURCE_DIR}/loader/include -I${dir}/probe)

  if(ABIDIFF)
    set(expect changed)
    if(name STREQUAL "control")
      set(expect same)
    endif()
    probe_abidiff(${name} "${dir}/probe/probe.cpp" ${expect} failure ${includes})
    set(failures "${failures}${failure}" PARENT_SCOPE)
  endif()

  # The loader library only tells this process's ELF target (modkit/inspect.h).
  get_filename_component(loader_dir "${LOADER_LIB}" DIRECTORY)
  execute_process(COMMAND "${CXX}" -std=c++17 -O0 ${includes} -I${SOURCE_DIR}/tools/modkit
                          "${SOURCE_DIR}/tools/modkit/abi_table.cpp" "${SOURCE_DIR}/tools/modkit/standard_categories.cpp"
                          "${SOURCE_DIR}/tests/cli/abi_dump_main.cpp" "${ABI_JSON_LIB}" "${LOADER_LIB}"
                          "-Wl,-rpath,${loader_dir}" -o "${dir}/dump"
                  RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${name}: the ABI description program does not build:\n${err}")
  endif()
  execute_process(COMMAND "${dir}/dump" OUTPUT_FILE "${dir}/abi.json" RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${name}: the ABI description program failed (${rc})")
  endif()
  execute_process(COMMAND "${MODKIT}" abi diff "${WORK_DIR}/current.json" "${dir}/abi.json"
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out)
  if(name STREQUAL "control")
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "the description built from the unmodified headers differs from modkit abi dump's:\n${out}")
    endif()
    return()
  endif()
  string(FIND "${out}" "${expected}" at)
  if(NOT rc EQUAL 1 OR at EQUAL -1)
    set(failures "${failures}${name}: modkit abi diff exited ${rc}, expected 1 and \"${expected}\" in:\n${out}\n" PARENT_SCOPE)
  else()
    message(STATUS "${name}: modkit abi diff: ${expected}")
  endif()
endfunction()

function(prepare name)
  set(dir "${WORK_DIR}/${name}")
  file(COPY "${SOURCE_DIR}/abi/include" DESTINATION "${dir}")
  file(COPY "${SOURCE_DIR}/abi/probe/probe.cpp" "${SOURCE_DIR}/abi/probe/abi_list.inc" DESTINATION "${dir}/probe")
endfunction()

# 0. No change: both checks must pass.
prepare(control)
check_break(control "")

# 1. A field inserted in the middle of a size-prefixed struct.
prepare(field_inserted)
edit("${WORK_DIR}/field_inserted" include/modkit/host.h
     "(\n[ ]*modkit_status\\(MODKIT_ABI \\*buffer_append\\))" "\n   uint64_t inserted_flags;\\1")
check_break(field_inserted "breaking    struct modkit_host_api: field buffer_append moved from offset")

# 2. A parameter added to a function pointer.
prepare(parameter_added)
edit("${WORK_DIR}/parameter_added" include/modkit/host.h
     "(\\*report_error\\)\\(modkit_error_sink \\*sink,)" "\\1 int32_t severity,")
check_break(parameter_added "breaking    struct modkit_host_api: field report_error retyped")

# 3. A status code renumbered.
prepare(constant_changed)
edit("${WORK_DIR}/constant_changed" include/modkit/status.h "MODKIT_E_CONFIG = 5," "MODKIT_E_CONFIG = 50,")
check_break(constant_changed "breaking    constant MODKIT_E_CONFIG: value changed from 5 to 50")

# 4. A slot removed: its callback, its index and its slot-table entry (and, so that everything
#    still compiles, its lines in the ABI list, as whoever removed it would have to).
prepare(slot_removed)
set(dir "${WORK_DIR}/slot_removed")
edit("${dir}" include/modkit/categories/spam_checker.h
     "\n[ ]*modkit_status\\(MODKIT_ABI \\*check_login_for_spam\\)\\([^;]*;" "")
edit("${dir}" include/modkit/categories/spam_checker.h "\n[ ]*MODKIT_SPAM_CHECKER_CHECK_LOGIN_FOR_SPAM," "")
edit("${dir}" include/modkit/categories/spam_checker.h "\n[ ]*MODKIT_SC_SLOT_\\(check_login_for_spam,[^)]*\\)," "")
edit("${dir}" probe/abi_list.inc "\nMODKIT_ABI_[A-Z]+\\([a-z_]+, (check_login_for_spam|MODKIT_SPAM_CHECKER_CHECK_LOGIN_FOR_SPAM)\\)" "")
check_break(slot_removed "breaking    category modkit.spam_checker: slot check_login_for_spam removed")

if(failures)
  message(FATAL_ERROR "deliberate ABI breaks that got through:\n${failures}")
endif()
if(NOT ABIDIFF)
  message("modkit-test-skipped: abidiff or abidw not found, so only modkit abi diff was checked; install abigail-tools")
endif()

# Runs a host and checks what it printed (stdout and stderr together).
#
#   cmake -DCOMMAND=prog|arg|... -DEXIT_CODE=0 -DEXPECTED=file|file... -P run_host.cmake
#
# The module log lines the hosts print ("  [name] ...") are dropped first, since modules may log
# more or less. Each EXPECTED file holds blocks separated by blank lines; every block must
# appear in the output as consecutive lines, the blocks of one file in order.
string(REPLACE "|" ";" command "${COMMAND}")
execute_process(COMMAND ${command} OUTPUT_VARIABLE output ERROR_VARIABLE output RESULT_VARIABLE code)
string(REGEX REPLACE "\n  \\[[^\n]*" "" shown "\n${output}")

if(NOT code STREQUAL "${EXIT_CODE}")
  message(FATAL_ERROR "expected exit status ${EXIT_CODE}, got ${code}; the output was:\n${output}")
endif()

string(REPLACE "|" ";" expected_files "${EXPECTED}")
foreach(file IN LISTS expected_files)
  file(READ "${file}" blocks)
  string(APPEND blocks "\n\n")
  set(rest "${shown}\n")
  string(LENGTH "${blocks}" left)
  while(left GREATER 0)
    string(FIND "${blocks}" "\n\n" cut)
    string(SUBSTRING "${blocks}" 0 ${cut} block)
    math(EXPR next "${cut} + 2")
    string(SUBSTRING "${blocks}" ${next} -1 blocks)
    string(LENGTH "${blocks}" left)
    string(STRIP "${block}" stripped)
    if(stripped STREQUAL "")
      continue()
    endif()
    string(FIND "${rest}" "\n${block}\n" at)
    if(at EQUAL -1)
      message(FATAL_ERROR "${file}: these lines are missing (or out of order) in the output:\n${block}\n"
                          "--- the output, without module log lines:${shown}")
    endif()
    string(LENGTH "${block}" size)
    math(EXPR after "${at} + ${size} + 1")
    string(SUBSTRING "${rest}" ${after} -1 rest)
  endwhile()
endforeach()
message(STATUS "the output has every expected line")

# Pipes the Python host's categories JSON into categories_check, which compares it with the
# C headers' descriptors.  cmake -DPYTHON=... -DHOST=host.py -DCHECK=categories_check -P ...
execute_process(COMMAND ${PYTHON} ${HOST} --print-categories COMMAND ${CHECK}
                OUTPUT_VARIABLE output ERROR_VARIABLE output RESULTS_VARIABLE codes)
message("${output}")
if(NOT codes STREQUAL "0;0")
  message(FATAL_ERROR "the categories JSON does not match the C headers (exit statuses ${codes})")
endif()

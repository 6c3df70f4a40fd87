# cmake -DMODULE=<file.so> -DNM=<nm> -DREADELF=<readelf> -P check_module_hygiene.cmake
#
# Checks what the loader's inspection relies on for a module built with modkit_add_module:
#   - `nm -D --defined-only` lists exactly one symbol, the function modkit_module_entry;
#   - no symbol, dynamic or not, is STB_GNU_UNIQUE (nm type "u"): it would pin the module in
#     memory after dlclose;
#   - the stack is not executable (`readelf -lW`: GNU_STACK without E), no static TLS, and
#     every relocation is bound at load time (BIND_NOW);
#   - the .note.modkit manifest is there.
cmake_minimum_required(VERSION 3.25) # policies for -P mode
foreach(var MODULE NM READELF)
  if(NOT ${var})
    message(FATAL_ERROR "check_module_hygiene: -D${var}=... is required")
  endif()
endforeach()

function(run out)
  execute_process(COMMAND ${ARGN} OUTPUT_VARIABLE text ERROR_VARIABLE err RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "`${ARGN}` failed (${rc}): ${err}")
  endif()
  set(${out} "${text}" PARENT_SCOPE)
endfunction()

set(problems "")

run(defined ${NM} -D --defined-only ${MODULE})
string(STRIP "${defined}" defined)
string(REGEX REPLACE "\n" ";" defined_lines "${defined}")
list(LENGTH defined_lines count)
if(NOT count EQUAL 1 OR NOT defined MATCHES "^[0-9a-f]+ T modkit_module_entry$")
  string(APPEND problems "  nm -D --defined-only must list only `T modkit_module_entry`; it lists:\n${defined}\n")
endif()

foreach(table "-D" "")
  run(symbols ${NM} ${table} ${MODULE})
  string(REGEX MATCHALL "[^\n]* u [^\n]*" unique "${symbols}")
  if(unique)
    string(APPEND problems "  STB_GNU_UNIQUE symbols (nm ${table}):\n${unique}\n")
  endif()
endforeach()

run(segments ${READELF} -lW ${MODULE})
string(REGEX MATCH "GNU_STACK[^\n]*" stack "${segments}")
if(NOT stack)
  string(APPEND problems "  no GNU_STACK program header: the stack defaults to executable\n")
elseif(stack MATCHES " RWE ")
  string(APPEND problems "  executable stack: ${stack}\n")
endif()

run(dynamic ${READELF} -dW ${MODULE})
if(dynamic MATCHES "STATIC_TLS")
  string(APPEND problems "  the module needs static TLS (DF_STATIC_TLS)\n")
endif()
if(NOT dynamic MATCHES "BIND_NOW" AND NOT dynamic MATCHES "Flags:[^\n]*NOW")
  string(APPEND problems "  not linked with -z now\n")
endif()

run(notes ${READELF} -nW ${MODULE})
if(NOT notes MATCHES "modkit[ \t]+0x")
  string(APPEND problems "  no .note.modkit manifest\n")
endif()

if(problems)
  message(FATAL_ERROR "${MODULE}:\n${problems}")
endif()
message(STATUS "${MODULE}: one exported symbol (modkit_module_entry), no unique symbols, "
               "no executable stack, no static TLS, bound now, manifest present")

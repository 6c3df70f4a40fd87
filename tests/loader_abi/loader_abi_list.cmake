# cmake -DHEADER=<modkit/loader.h> -DLIST=<loader_abi_list.inc> -P loader_abi_list.cmake
# Every struct (and each of its fields), opaque handle, function pointer type and exported
# function that loader.h declares must be in the probe's list, in header order, so that the
# loader's ABI gate sees it. A rough C parse is enough: the header is plain declarations.
cmake_minimum_required(VERSION 3.25)
file(READ "${HEADER}" text)
string(REGEX REPLACE "//[^\n]*" "" text "${text}")
string(REGEX REPLACE "#[^\n]*" "" text "${text}") # preprocessor lines: the export macro's definition
string(REGEX REPLACE "MODKIT_EXTERN_C_(BEGIN|END)" "" text "${text}")
string(REPLACE ";" "@" text "${text}") # ';' separates CMake list elements
# Inline functions are compiled into hosts from the types they use; drop their bodies, which
# end with the first '}' at the start of a line.
while(text MATCHES "static inline")
  string(FIND "${text}" "static inline" begin)
  string(SUBSTRING "${text}" ${begin} -1 rest)
  string(FIND "${rest}" "\n}" end)
  math(EXPR end "${end} + 2")
  string(SUBSTRING "${rest}" ${end} -1 rest)
  string(SUBSTRING "${text}" 0 ${begin} text)
  string(APPEND text "${rest}")
endwhile()

set(expected "")
# Declarations one by one, each ending at a ';' (after its body, for a struct).
while(text MATCHES "^[ \n]*([^@{]*)(\\{[^}]*\\}[^@]*@|@)(.*)$")
  set(head "${CMAKE_MATCH_1}")
  set(body "${CMAKE_MATCH_2}")
  set(text "${CMAKE_MATCH_3}")
  if(body MATCHES "^\\{" AND head MATCHES "struct (modkit_[a-z_0-9]+)[ \n]*$")
    set(type "${CMAKE_MATCH_1}")
    list(APPEND expected "STRUCT(${type})")
    string(REGEX REPLACE "}[^}]*$" "" body "${body}") # the typedef name after the body
    string(REGEX MATCHALL "[^@{}]+@" fields "${body}")
    foreach(field IN LISTS fields)
      if(field MATCHES "\\(\\*([a-z_0-9]+)\\)") # a function pointer
        list(APPEND expected "FIELD(${type}, ${CMAKE_MATCH_1})")
      elseif(field MATCHES "([a-z_0-9]+)[ \n]*(\\[[^]]*\\])?[ \n]*@$")
        list(APPEND expected "FIELD(${type}, ${CMAKE_MATCH_1})")
      endif()
    endforeach()
  elseif(head MATCHES "^typedef struct ([a-z_0-9]+) [a-z_0-9]+[ \n]*$")
    set(type "${CMAKE_MATCH_1}")
    if(NOT text MATCHES "struct ${type} \\{") # else defined further down
      list(APPEND expected "OPAQUE(${type})")
    endif()
  elseif(head MATCHES "^typedef[^(]*\\(\\*([a-z_0-9]+)\\)")
    list(APPEND expected "FUNCTION_TYPE(${CMAKE_MATCH_1})")
  elseif(head MATCHES "MODKIT_LOADER_API[^(]*[ *\n](modkit_[a-z_0-9]+)\\(")
    list(APPEND expected "FUNCTION(${CMAKE_MATCH_1})")
  endif()
endwhile()

file(STRINGS "${LIST}" listed REGEX "^MODKIT_LOADER_ABI_")
list(TRANSFORM listed REPLACE "^MODKIT_LOADER_ABI_" "")
if(NOT listed STREQUAL expected)
  string(REPLACE ";" "\n  " expected "${expected}")
  string(REPLACE ";" "\n  " listed "${listed}")
  message(FATAL_ERROR "${LIST} does not list what ${HEADER} declares, in its order.\n"
                      "The header declares:\n  ${expected}\nThe list has:\n  ${listed}")
endif()

# modkit_add_module(<name> SOURCES <src>... [LINK <target>...])
#
# Builds <name>.so, a modkit module: a MODULE library that exports only modkit_module_entry
# (version script), hides everything else, resolves every symbol at link time (-z defs) and at
# load time (-z now), has no executable stack and, for C++, no STB_GNU_UNIQUE symbols (which
# would keep the module mapped after dlclose). C++ sources get modkit::sdk when it exists.
function(modkit_add_module name)
  # Found next to this file, in the source tree and in an install alike, whatever scope the
  # function is called from.
  set(_MODKIT_MODULE_MAP "${CMAKE_CURRENT_FUNCTION_LIST_DIR}/modkit-module.map")
  cmake_parse_arguments(PARSE_ARGV 1 ARG "" "" "SOURCES;LINK")
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "modkit_add_module(${name}): SOURCES is required")
  endif()
  add_library(${name} MODULE ${ARG_SOURCES})
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    LINK_DEPENDS "${_MODKIT_MODULE_MAP}")
  target_link_libraries(${name} PRIVATE modkit::abi ${ARG_LINK})
  set(_cxx OFF)
  foreach(src IN LISTS ARG_SOURCES)
    if(src MATCHES "\\.(cpp|cc|cxx|C)$")
      set(_cxx ON)
    endif()
  endforeach()
  if(_cxx AND TARGET modkit::sdk)
    target_link_libraries(${name} PRIVATE modkit::sdk)
  endif()
  target_compile_options(${name} PRIVATE $<$<COMPILE_LANG_AND_ID:CXX,GNU>:-fno-gnu-unique>)
  target_link_options(${name} PRIVATE
    "LINKER:--version-script=${_MODKIT_MODULE_MAP}"
    "LINKER:-z,now" "LINKER:-z,noexecstack" "LINKER:-z,relro"
    "LINKER:--exclude-libs,ALL")
  # Every symbol resolved at link time, except in sanitizer builds, where the host provides
  # the sanitizer runtime.
  if(NOT MODKIT_SANITIZE)
    target_link_options(${name} PRIVATE "LINKER:-z,defs")
  endif()
endfunction()

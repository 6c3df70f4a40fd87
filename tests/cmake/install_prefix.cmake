# cmake -DBUILD_DIR=<modkit build> -DPREFIX=<empty dir to use> -DLIBDIR=<lib> -P install_prefix.cmake
# Installs the build into a fresh PREFIX and checks the layout consumers rely on.
cmake_minimum_required(VERSION 3.25) # policies for -P mode
file(REMOVE_RECURSE "${PREFIX}")
execute_process(COMMAND ${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${PREFIX}" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cmake --install failed (${rc})")
endif()

set(expected
  include/modkit/modkit.h include/modkit/module.h include/modkit/manifest.h
  include/modkit/categories/spam_checker.h include/modkit/private/macros.h
  include/modkit/sdk.hpp include/modkit/sdk/module.hpp include/modkit/sdk/categories/spam_checker.hpp
  include/modkit/sdk/detail/barrier.hpp include/modkit/loader.h
  ${LIBDIR}/libmodkit-loader.so
  ${LIBDIR}/cmake/modkit/modkitConfig.cmake ${LIBDIR}/cmake/modkit/modkitConfigVersion.cmake
  ${LIBDIR}/cmake/modkit/modkit-targets.cmake ${LIBDIR}/cmake/modkit/ModkitAddModule.cmake
  ${LIBDIR}/cmake/modkit/modkit-module.map ${LIBDIR}/pkgconfig/modkit.pc)
set(missing "")
foreach(file IN LISTS expected)
  if(NOT EXISTS "${PREFIX}/${file}")
    string(APPEND missing "  ${file}\n")
  endif()
endforeach()
file(GLOB soname "${PREFIX}/${LIBDIR}/libmodkit-loader.so.1")
if(NOT soname)
  string(APPEND missing "  ${LIBDIR}/libmodkit-loader.so.1 (the SONAME link)\n")
endif()
if(missing)
  message(FATAL_ERROR "missing from ${PREFIX}:\n${missing}")
endif()
message(STATUS "installed into ${PREFIX}")

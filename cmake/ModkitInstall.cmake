# ModkitInstall.cmake - `cmake --install` layout and the package consumers find:
#   include/modkit/...                       ABI, SDK and loader headers
#   include/chat_host/...                    the chat host's extensions, for modules built
#                                            against it (component chat_host_development)
#   lib/libmodkit-loader.so*                 the loader (when built)
#   bin/modkit                               the CLI (when built)
#   lib/cmake/modkit/modkitConfig.cmake      + version file, targets, ModkitAddModule.cmake,
#                                            modkit-module.map
#   lib/pkgconfig/modkit.pc                  for builds without CMake
# Included by the top-level CMakeLists.txt when MODKIT_INSTALL is on.
include(CMakePackageConfigHelpers)

set(MODKIT_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/modkit CACHE STRING
    "Where modkitConfig.cmake is installed, relative to the prefix")
mark_as_advanced(MODKIT_INSTALL_CMAKEDIR)

# ---- headers ----
set(_modkit_header_dirs ${PROJECT_SOURCE_DIR}/abi/include/)
if(TARGET modkit_sdk)
  list(APPEND _modkit_header_dirs ${PROJECT_SOURCE_DIR}/sdk/include/)
endif()
if(TARGET modkit_loader)
  list(APPEND _modkit_header_dirs ${PROJECT_SOURCE_DIR}/loader/include/)
endif()
install(DIRECTORY ${_modkit_header_dirs}
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        COMPONENT modkit_development
        FILES_MATCHING PATTERN "*.h" PATTERN "*.hpp")
# Whether or not the chat host itself is built: a module for it needs only these.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/samples/chat_host/include/
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        COMPONENT chat_host_development
        FILES_MATCHING PATTERN "*.h" PATTERN "*.hpp")

# ---- targets, one export set ----
set(_modkit_targets modkit_abi)
foreach(target modkit_sdk modkit_loader modkit)
  if(TARGET ${target})
    list(APPEND _modkit_targets ${target})
  endif()
endforeach()
install(TARGETS ${_modkit_targets}
        EXPORT modkit-targets
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT modkit_runtime
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT modkit_runtime
                NAMELINK_COMPONENT modkit_development
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT modkit_development)
install(EXPORT modkit-targets
        NAMESPACE modkit::
        DESTINATION ${MODKIT_INSTALL_CMAKEDIR}
        COMPONENT modkit_development)

# ---- the package config, for the install tree ----
set(_modkit_generated ${PROJECT_BINARY_DIR}/modkit-package)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/modkit-config.cmake.in
                              ${_modkit_generated}/modkitConfig.cmake
                              INSTALL_DESTINATION ${MODKIT_INSTALL_CMAKEDIR})
# SameMajorVersion: the package major tracks the ABI major, and a new major means modules
# must be rebuilt.
write_basic_package_version_file(${_modkit_generated}/modkitConfigVersion.cmake
                                 VERSION ${PROJECT_VERSION}
                                 COMPATIBILITY SameMajorVersion)
install(FILES ${_modkit_generated}/modkitConfig.cmake
              ${_modkit_generated}/modkitConfigVersion.cmake
              ${PROJECT_SOURCE_DIR}/cmake/ModkitAddModule.cmake
              ${PROJECT_SOURCE_DIR}/cmake/modkit-module.map
        DESTINATION ${MODKIT_INSTALL_CMAKEDIR}
        COMPONENT modkit_development)

# ---- the same package in the build tree (fmt does this too), for consumers that set
#      modkit_DIR=<build dir>/modkit-build-package without installing ----
set(_modkit_build_package ${PROJECT_BINARY_DIR}/modkit-build-package)
export(EXPORT modkit-targets NAMESPACE modkit:: FILE ${_modkit_build_package}/modkit-targets.cmake)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/modkit-config.cmake.in
                              ${_modkit_build_package}/modkitConfig.cmake
                              INSTALL_DESTINATION ${_modkit_build_package}
                              INSTALL_PREFIX ${PROJECT_BINARY_DIR})
configure_file(${_modkit_generated}/modkitConfigVersion.cmake
               ${_modkit_build_package}/modkitConfigVersion.cmake COPYONLY)
configure_file(${PROJECT_SOURCE_DIR}/cmake/ModkitAddModule.cmake
               ${_modkit_build_package}/ModkitAddModule.cmake COPYONLY)
configure_file(${PROJECT_SOURCE_DIR}/cmake/modkit-module.map
               ${_modkit_build_package}/modkit-module.map COPYONLY)

# ---- pkg-config; relocatable, since `cmake --install --prefix` may differ from
#      CMAKE_INSTALL_PREFIX ----
set(_modkit_pc_dir ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
if(IS_ABSOLUTE "${_modkit_pc_dir}")
  message(FATAL_ERROR "modkit.pc needs a relative CMAKE_INSTALL_LIBDIR (got ${CMAKE_INSTALL_LIBDIR})")
endif()
# One ".." per component of the pkgconfig directory leads back to the prefix.
string(REPLACE "/" ";" _modkit_pc_parts "${_modkit_pc_dir}")
list(TRANSFORM _modkit_pc_parts REPLACE ".+" "..")
list(JOIN _modkit_pc_parts "/" MODKIT_PC_RELATIVE_PREFIX)
foreach(kind INCLUDEDIR LIBDIR)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_${kind}}")
    set(MODKIT_PC_${kind} "${CMAKE_INSTALL_${kind}}")
  else()
    set(MODKIT_PC_${kind} "\${prefix}/${CMAKE_INSTALL_${kind}}")
  endif()
endforeach()
if(IS_ABSOLUTE "${MODKIT_INSTALL_CMAKEDIR}")
  set(MODKIT_PC_MODULE_MAP "${MODKIT_INSTALL_CMAKEDIR}/modkit-module.map")
else()
  set(MODKIT_PC_MODULE_MAP "\${prefix}/${MODKIT_INSTALL_CMAKEDIR}/modkit-module.map")
endif()
configure_file(${PROJECT_SOURCE_DIR}/cmake/modkit.pc.in ${_modkit_generated}/modkit.pc @ONLY)
install(FILES ${_modkit_generated}/modkit.pc
        DESTINATION ${_modkit_pc_dir}
        COMPONENT modkit_development)

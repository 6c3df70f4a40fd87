# cmake -DPREFIX=<modkit install prefix> -DWORK_DIR=<dir> -DGENERATOR=<g> -DMAKE_PROGRAM=<p>
#       -DC_COMPILER=<cc> -DCXX_COMPILER=<c++> -DBUILD_TYPE=<type> -P new_project.cmake
# What a module author does on day one, for both languages: `modkit new`, configure and build
# the project against an installed modkit, then `modkit check` it with its test config. The
# installed modkit is used throughout, so this also proves the CLI installs and runs from the
# prefix. Warnings are errors, so the templates stay clean.
cmake_minimum_required(VERSION 3.25)

set(modkit "${PREFIX}/bin/modkit")
if(NOT EXISTS "${modkit}")
  message(FATAL_ERROR "${modkit} is missing: the install fixture did not install the CLI into ${PREFIX}")
endif()
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

function(run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${out}\n${err}")
  endif()
  set(last_output "${out}" PARENT_SCOPE)
endfunction()

foreach(lang c cpp)
  set(name "first_${lang}_module")
  set(project "${WORK_DIR}/${name}")
  run("modkit new (${lang})" "${modkit}" new ${name} --dir "${project}" --lang ${lang})
  run("configuring the ${lang} project" "${CMAKE_COMMAND}" -S "${project}" -B "${project}/build" -G "${GENERATOR}"
      "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}" "-DCMAKE_C_COMPILER=${C_COMPILER}" "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}"
      "-DCMAKE_BUILD_TYPE=${BUILD_TYPE}" "-DCMAKE_PREFIX_PATH=${PREFIX}" -DCMAKE_FIND_PACKAGE_NO_PACKAGE_REGISTRY=ON
      "-DCMAKE_C_FLAGS=-Wall -Wextra -Werror" "-DCMAKE_CXX_FLAGS=-Wall -Wextra -Werror")
  run("building the ${lang} project" "${CMAKE_COMMAND}" --build "${project}/build")
  run("modkit check of the ${lang} project" "${modkit}" check "${project}/build/${name}.so"
      --config "${project}/config.json" --json)
  string(JSON outcome GET "${last_output}" load outcome)
  string(JSON slot GET "${last_output}" load registrations categories 0 slots 0 name)
  if(NOT outcome STREQUAL "loaded" OR NOT slot STREQUAL "check_event_for_spam")
    message(FATAL_ERROR "the ${lang} project loaded as \"${outcome}\" and registered \"${slot}\":\n${last_output}")
  endif()
  message(STATUS "${lang}: ${name}.so builds and passes modkit check (registers ${slot})")
endforeach()

# cmake -DSOURCE_DIR=... -DBINARY_DIR=... -DGENERATOR=... -DMAKE_PROGRAM=... -DCTEST=...
#       -DOPTIONS=<-D options separated by |> -P consumer_test.cmake
# Configures a consumer project from scratch, builds it and runs its tests. `cmake --build`
# honours CMAKE_BUILD_PARALLEL_LEVEL, so a small machine can limit the jobs.
cmake_minimum_required(VERSION 3.25) # policies for -P mode
function(step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc})")
  endif()
endfunction()

string(REPLACE "|" ";" options "${OPTIONS}")
file(REMOVE_RECURSE "${BINARY_DIR}")
step(configure ${CMAKE_COMMAND} -S "${SOURCE_DIR}" -B "${BINARY_DIR}" -G "${GENERATOR}"
     -DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM} ${options})
step(build ${CMAKE_COMMAND} --build "${BINARY_DIR}")
step(test ${CTEST} --test-dir "${BINARY_DIR}" --output-on-failure)

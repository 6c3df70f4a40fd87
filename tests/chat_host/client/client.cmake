# The chat host as a real Matrix client sees it: client_test.mjs drives two matrix-js-sdk clients
# through the /sync loop against modkit-chat-host with the spam_filter and room_rules samples.
#
# Included from tests/chat_host/CMakeLists.txt, this file defines the test. The test runs this
# same file again as a script (cmake -P) so that Node.js and the SDK are looked for when the test
# runs, not when the build is configured: CI installs the SDK (npm ci) after configuring. Either
# one missing fails the test, saying what to run; it is never skipped.

if(CMAKE_SCRIPT_MODE_FILE)
  # ---- at test time: -DNODE=<node or empty> -DCLIENT_DIR=... -DHOST=... -DMODULES=... ----
  if(NOT NODE)
    find_program(_node_now node) # a result variable of its own: -DNODE= would stop the search
    set(NODE "${_node_now}")
  endif()
  if(NOT NODE)
    message(FATAL_ERROR "chat_host_matrix_client: node was not found. Install Node.js 20 or later, "
                        "then run: npm ci --prefix tests/chat_host/client")
  endif()
  if(NOT EXISTS "${CLIENT_DIR}/node_modules/matrix-js-sdk/package.json")
    message(FATAL_ERROR "chat_host_matrix_client: matrix-js-sdk is not installed in ${CLIENT_DIR}/node_modules. "
                        "Run: npm ci --prefix tests/chat_host/client")
  endif()
  execute_process(COMMAND "${NODE}" client_test.mjs --host "${HOST}" --modules "${MODULES}"
                  WORKING_DIRECTORY "${CLIENT_DIR}" RESULT_VARIABLE status)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "chat_host_matrix_client: client_test.mjs exited with ${status}")
  endif()
  return()
endif()

# ---- at configure time ----
if(TARGET modkit-chat-host)
  # A node found now is used; if there is none, the script looks again when the test runs.
  find_program(MODKIT_NODE_EXECUTABLE node)
  set(_node "")
  if(MODKIT_NODE_EXECUTABLE)
    set(_node ${MODKIT_NODE_EXECUTABLE})
  endif()
  add_test(NAME chat_host_matrix_client
           COMMAND ${CMAKE_COMMAND} "-DNODE=${_node}" "-DCLIENT_DIR=${CMAKE_CURRENT_LIST_DIR}"
                   "-DHOST=$<TARGET_FILE:modkit-chat-host>" "-DMODULES=${PROJECT_BINARY_DIR}/samples/modules"
                   -P ${CMAKE_CURRENT_LIST_FILE}
           WORKING_DIRECTORY ${CMAKE_CURRENT_LIST_DIR})
  set_tests_properties(chat_host_matrix_client PROPERTIES TIMEOUT 120)
  unset(_node)
endif()

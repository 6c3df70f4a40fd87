// module_refusal.hpp - a module's refusal as the client sees it. Synapse sends a module's
// (Codes, dict) answer or its SynapseError on to the client; here the errcode, message and extra
// fields a module passed to call_set_error take the place of the host's own.
#pragma once

#include "matrix_error.hpp"
#include "module_host.hpp"

#include <string>

namespace chat {

// The error for a request refused by decided's module: the host's status always, the module's
// errcode and extra fields when it set an error, and its message unless empty. Extra fields
// named "errcode" or "error" are the body's own and are not overridden.
MatrixError module_refusal(const Done &decided, int status, std::string errcode, std::string message);

} // namespace chat

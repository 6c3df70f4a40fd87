// module_refusal.cpp - see module_refusal.hpp.
#include "module_refusal.hpp"

namespace chat {

MatrixError module_refusal(const Done &decided, int status, std::string errcode, std::string message) {
   if (!decided.module_error) return MatrixError(status, std::move(errcode), message);
   const ModuleError &e = *decided.module_error;
   // The loader let only a JSON object through; anything else adds no fields.
   json extra = e.extra_json.empty() ? json::object() : json::parse(e.extra_json, nullptr, false);
   if (!extra.is_object()) extra = json::object();
   return MatrixError(status, e.errcode, e.message.empty() ? message : e.message, std::move(extra));
}

} // namespace chat

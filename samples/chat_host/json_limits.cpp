// json_limits.cpp - bounded JSON reading.
#include "json_limits.hpp"

#include "matrix_error.hpp"

namespace chat {

bool json_too_deep(std::string_view text, size_t max_depth) {
   size_t depth = 0;
   bool in_string = false, escaped = false;
   for (const char c : text) {
      if (in_string) {
         if (escaped) escaped = false;
         else if (c == '\\') escaped = true;
         else if (c == '"') in_string = false;
      } else if (c == '"') {
         in_string = true;
      } else if (c == '[' || c == '{') {
         if (++depth > max_depth) return true;
      } else if ((c == ']' || c == '}') && depth > 0) {
         --depth;
      }
   }
   return false;
}

nlohmann::json parse_json_body(std::string_view text, const Limits &limits) {
   if (text.empty()) return nlohmann::json::object();
   nlohmann::json parsed = parse_bounded_json(text, limits);
   if (!parsed.is_object()) throw MatrixError(400, "M_BAD_JSON", "Content must be a JSON object.");
   return parsed;
}

nlohmann::json parse_bounded_json(std::string_view text, const Limits &limits) {
   if (text.size() > limits.max_json_size)
      throw MatrixError(413, "M_TOO_LARGE", "Request body too large: at most " + std::to_string(limits.max_json_size) + " bytes of JSON");
   if (json_too_deep(text, limits.max_json_depth))
      throw MatrixError(400, "M_BAD_JSON", "JSON nested too deeply: at most " + std::to_string(limits.max_json_depth) + " levels");
   nlohmann::json parsed = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
   if (parsed.is_discarded()) throw MatrixError(400, "M_NOT_JSON", "Content not JSON.");
   return parsed;
}

} // namespace chat

#include "errors.hpp"

namespace modkit::loader {

const char *stage_name(Stage stage) {
   switch (stage) {
   case Stage::config: return "config";
   case Stage::resolve: return "resolve";
   case Stage::trust: return "trust";
   case Stage::inspect: return "inspect";
   case Stage::link: return "link";
   case Stage::configure: return "configure";
   case Stage::init: return "init";
   case Stage::registry: return "registry";
   case Stage::unload: return "unload";
   }
   return "unknown";
}

std::string Error::text() const {
   std::string out;
   if (!pointer.empty()) out += pointer + ": ";
   if (!module.empty()) {
      out += "module '" + module + "'";
      if (!file.empty()) out += " (" + file + ")";
      out += ": ";
   }
   out += stage_name(stage);
   out += ": ";
   out += message;
   return out;
}

std::string pointer_token(const std::string &token) {
   std::string out;
   out.reserve(token.size());
   for (char c : token) {
      if (c == '~') out += "~0";
      else if (c == '/') out += "~1";
      else out += c;
   }
   return out;
}

} // namespace modkit::loader

// errors.hpp - the loader's error records: every refusal names stage, module, file, pointer.
#pragma once

#include <modkit/status.h>

#include <string>
#include <vector>

namespace modkit::loader {

// Pipeline stages, in order; the names appear in messages and in modkit_loader_error.stage.
enum class Stage { config, resolve, trust, inspect, link, configure, init, registry, unload };
const char *stage_name(Stage stage);

struct Error {
   modkit_status code = MODKIT_E_INTERNAL;
   Stage stage = Stage::config;
   std::string module;  // as named in the host config
   std::string file;    // resolved path, once known
   std::string pointer; // JSON pointer into the host config
   std::string message; // expected versus found

   // One line for humans: "/modules/1/config/max_size: module 'spam' (/m/spam.so): configure:
   // expected integer >= 1, got \"big\"".
   std::string text() const;
};

using Errors = std::vector<Error>;

// RFC 6901: escapes one reference token ("~" -> "~0", "/" -> "~1").
std::string pointer_token(const std::string &token);

} // namespace modkit::loader

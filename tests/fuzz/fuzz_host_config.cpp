// fuzz_host_config.cpp - the host-config parser and the JSON category parser over arbitrary
// text: both take input an operator (or a host in another language) wrote, so every input
// must end in a clear error, never a crash.
#include "config.hpp"
#include "json_category.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
   const std::string text(reinterpret_cast<const char *>(data), size);
   modkit::loader::HostConfig config;
   modkit::loader::Errors errors;
   if (!modkit::loader::parse_host_config(text, config, errors)) {
      for (const auto &e : errors) (void)e.text();
   }
   modkit::loader::CategoryStore store;
   std::vector<const modkit_category *> categories;
   std::string error;
   (void)store.add_json(text, categories, error);
   return 0;
}

// this_host.hpp - calls into the loader's inspection API (modkit/inspect.h), and this process as
// a host: its ELF target and the C and C++ runtimes it runs on (read once per process).
// Header-only, so that the ABI break test can build abi_table.cpp with it alone.
#pragma once

#include "abi_model.hpp"

#include <modkit/inspect.h>

#include <nlohmann/json.hpp>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace modkit::cli {

// The document call writes into a fresh buffer, as text, and the status it returned.
template <class F>
modkit_status inspect_call(F &&call, std::string &text) {
   const std::unique_ptr<modkit_buffer, void (*)(modkit_buffer *)> buffer(modkit_loader_buffer_create(),
                                                                          modkit_loader_buffer_destroy);
   if (!buffer) throw std::bad_alloc();
   const modkit_status status = call(buffer.get());
   const modkit_str data = modkit_loader_buffer_data(buffer.get());
   text.assign(data.data != nullptr ? data.data : "", data.size);
   return status;
}

// modkit_inspect_host's document.
inline const nlohmann::json &this_host() {
   static const nlohmann::json doc = [] {
      std::string text;
      const modkit_status status = inspect_call([](modkit_buffer *out) { return modkit_inspect_host(out); }, text);
      if (status != MODKIT_OK) throw std::runtime_error("modkit_inspect_host failed with status " + std::to_string(status));
      return nlohmann::json::parse(text);
   }();
   return doc;
}

inline TargetInfo this_host_target() {
   const nlohmann::json &t = this_host().at("target");
   return TargetInfo{t.at("elf_class").get<unsigned>(), t.at("machine").get<unsigned>(),
                     t.at("pointer_size").get<unsigned>(), t.at("byte_order").get<std::string>()};
}

inline std::vector<RuntimeVersion> host_runtime_versions() {
   std::vector<RuntimeVersion> out;
   for (const nlohmann::json &r : this_host().at("runtime"))
      out.push_back({r.at("family").get<std::string>(), r.at("highest").get<std::string>(), r.at("library").get<std::string>()});
   return out;
}

} // namespace modkit::cli

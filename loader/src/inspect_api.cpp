// inspect_api.cpp - modkit/inspect.h: argument checks, then file_report.cpp; nothing unwinds out.
#include "c_guard.hpp"
#include "file_report.hpp"
#include "invoke/buffer.hpp"

#include <modkit/inspect.h>

#include <cstddef>
#include <new>

namespace {

using modkit::loader::ReportOptions;

using modkit::loader::c_guard;

modkit_status write(const nlohmann::ordered_json &doc, modkit_buffer *out) {
   out->bytes = doc.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
   return MODKIT_OK;
}

bool read_options(const modkit_inspect_options *in, ReportOptions &out) {
   if (in == nullptr) return true;
   if (in->struct_size < offsetof(modkit_inspect_options, runtime_count) + sizeof in->runtime_count) return false;
   if (in->judge & MODKIT_INSPECT_TARGET) {
      out.target.elf_class = in->elf_class;
      out.target.machine = in->machine;
      out.target.data = in->byte_order;
   }
   if (in->judge & MODKIT_INSPECT_ABI) {
      const auto abi = modkit::loader::parse_abi_version(in->abi != nullptr ? in->abi : "");
      if (!abi) return false;
      out.host_abi = *abi;
   }
   if (in->judge & MODKIT_INSPECT_CATEGORIES) {
      if (in->categories == nullptr && in->category_count > 0) return false;
      out.categories.emplace();
      for (size_t i = 0; i < in->category_count; ++i) {
         if (in->categories[i] == nullptr) return false;
         out.categories->push_back(in->categories[i]);
      }
   }
   if (in->judge & MODKIT_INSPECT_RUNTIME) {
      if (in->runtime == nullptr && in->runtime_count > 0) return false;
      out.runtime.emplace();
      for (size_t i = 0; i < in->runtime_count; ++i) {
         const modkit_inspect_runtime &r = in->runtime[i];
         if (r.family == nullptr || r.highest == nullptr) return false;
         out.runtime->push_back({r.family, r.highest, ""});
      }
   }
   return true;
}

} // namespace

extern "C" {

MODKIT_LOADER_API modkit_status modkit_inspect_file(const char *path, const modkit_inspect_options *options,
                                                    modkit_buffer *out_json) {
   if (path == nullptr || out_json == nullptr) return MODKIT_E_INVALID_ARGUMENT;
   return c_guard([&]() -> modkit_status {
      ReportOptions report_options;
      if (!read_options(options, report_options)) return MODKIT_E_INVALID_ARGUMENT;
      return write(modkit::loader::file_report(path, report_options), out_json);
   });
}

MODKIT_LOADER_API modkit_status modkit_inspect_host(modkit_buffer *out_json) {
   if (out_json == nullptr) return MODKIT_E_INVALID_ARGUMENT;
   return c_guard([&] { return write(modkit::loader::host_report(), out_json); });
}

} // extern "C"

// dynamic_calls.cpp - modkit_loader_dispatch_json and _call_json: slots by name, JSON in and out.
#include "loader.hpp"
#include "read_section.hpp"

#include <fmt/format.h>

#include <cstring>

namespace modkit::loader {

DispatchContext Loader::dispatch_context(const Snapshot &snapshot, modkit_loader_reader *reader) const {
   DispatchContext context;
   context.reader = reader;
   context.module_name = [&snapshot](uint32_t index) -> const char * {
      return index < snapshot.module_names.size() ? snapshot.module_names[index].c_str() : "";
   };
   context.warn = [this](const std::string &module, const std::string &line) {
      logf(MODKIT_LOG_WARNING, module.c_str(), line);
   };
   return context;
}

modkit_status Loader::find_dynamic(const char *category_id, const char *slot_name, size_t &category, size_t &slot,
                                   const invoke::Invoker *&invoker, nlohmann::json &result) const {
   const long c = registry_.find_category(category_id);
   const modkit_category *cat = c < 0 ? nullptr : registry_.category(static_cast<size_t>(c));
   for (uint32_t s = 0; cat && slot_name && s < cat->slot_count; ++s) {
      if (std::strcmp(cat->slots[s].name, slot_name) == 0) {
         category = static_cast<size_t>(c);
         slot = s;
         std::string why;
         invoker = dynamic_.find(category, slot, why);
         if (invoker) return MODKIT_OK;
         result = {{"error", why}};
         return MODKIT_E_INTERNAL;
      }
   }
   result = {{"error", fmt::format("no slot {}.{} in this host", category_id ? category_id : "null",
                                   slot_name ? slot_name : "null")}};
   return MODKIT_E_NOT_FOUND;
}

namespace {

bool parse_args(const std::string &text, nlohmann::json &args, nlohmann::json &result) {
   args = nlohmann::json::parse(text.empty() ? std::string("{}") : text, nullptr, false);
   if (!args.is_discarded()) return true;
   result = {{"error", "arguments are not valid JSON"}};
   return false;
}

} // namespace

template <class Call>
modkit_status Loader::with_dynamic_slot(const char *category_id, const char *slot_name, const std::string &args_text,
                                        nlohmann::json &result, Call &&call) const {
   size_t c = 0, s = 0;
   const invoke::Invoker *invoker = nullptr;
   if (modkit_status status = find_dynamic(category_id, slot_name, c, s, invoker, result)) return status;
   nlohmann::json args;
   if (!parse_args(args_text, args, result)) return MODKIT_E_INVALID_ARGUMENT;
   modkit_loader_reader *reader = epoch_.reader(registry_.current_location());
   ReadSection section(reader);
   const Snapshot &snap = section.snapshot();
   return call(snap, snap.slot_arrays[c][s], *invoker, args, dispatch_context(snap, reader));
}

modkit_status Loader::dispatch_json(const char *category_id, const char *slot_name, const std::string &args_text,
                                    modkit_call *call, nlohmann::json &result) const {
   return with_dynamic_slot(category_id, slot_name, args_text, result,
                            [&](const Snapshot &, const modkit_loader_slot &slot, const invoke::Invoker &invoker,
                                const nlohmann::json &args, const DispatchContext &context) {
                               return dispatch(slot, invoker, args, call, context, result);
                            });
}

modkit_status Loader::call_json(const char *module_name, const char *category_id, const char *slot_name,
                                const std::string &args_text, modkit_call *call, nlohmann::json &result) const {
   return with_dynamic_slot(category_id, slot_name, args_text, result,
                            [&](const Snapshot &snap, const modkit_loader_slot &slot, const invoke::Invoker &invoker,
                                const nlohmann::json &args, const DispatchContext &context) -> modkit_status {
                               const long module = module_index(snap, module_name);
                               if (module < 0) {
                                  result = {{"error", fmt::format("no module '{}' is loaded",
                                                                  module_name ? module_name : "")}};
                                  return MODKIT_E_NOT_FOUND;
                               }
                               return call_module(slot, invoker, static_cast<uint32_t>(module), args, call, context,
                                                  result);
                            });
}

modkit_status Loader::dispatch_json_async(const char *category_id, const char *slot_name, const std::string &args_text,
                                          std::string_view request_id, int64_t deadline_ns, JsonDone done,
                                          AsyncHandle &handle) const {
   nlohmann::json result;
   modkit_status status = with_dynamic_slot(
      category_id, slot_name, args_text, result,
      [&](const Snapshot &snap, const modkit_loader_slot &slot, const invoke::Invoker &invoker,
          const nlohmann::json &args, const DispatchContext &context) {
         AsyncContext async;
         async.loader = self_;
         async.snapshot = &snap;
         async.request_id = request_id;
         async.deadline_ns = deadline_ns;
         async.reader = context.reader;
         return start_dispatch(slot, invoker, args, async, context, std::move(done), handle);
      });
   // Nothing started (no such slot, arguments that are not JSON): done still hears of it.
   if (!result.is_null() && done) done(status, std::move(result));
   return status;
}

} // namespace modkit::loader

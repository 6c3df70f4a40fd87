#include "dynamic.hpp"

#include "registry.hpp"

#include <modkit/dispatch.hpp>

namespace modkit::loader {

bool DynamicSlots::prepare(const Registry &registry, std::string &error) {
   registry_ = &registry;
   slots_.clear();
   counts_.clear();
   for (size_t c = 0; c < registry.category_count(); ++c) {
      const modkit_category &cat = *registry.category(c);
      if (!invoke::Invoker::check_slots(cat, error)) return false;
      slots_.push_back(std::make_unique<Lazy[]>(cat.slot_count));
      counts_.push_back(cat.slot_count);
   }
   return true;
}

const invoke::Invoker *DynamicSlots::find(size_t category, size_t slot, std::string &error) const {
   if (category >= slots_.size() || slot >= counts_[category]) return nullptr;
   Lazy &lazy = slots_[category][slot];
   if (const invoke::Invoker *ready = lazy.ready.load(std::memory_order_acquire)) return ready;
   std::lock_guard<std::mutex> lock(mutex_);
   if (const invoke::Invoker *ready = lazy.ready.load(std::memory_order_relaxed)) return ready;
   if (!invoke::Invoker::prepare(*registry_->category(category), static_cast<uint32_t>(slot), lazy.invoker, error))
      return nullptr;
   lazy.ready.store(&lazy.invoker, std::memory_order_release);
   return &lazy.invoker;
}

namespace {

const char *kind_name(Outcome::Kind kind) {
   switch (kind) {
   case Outcome::Kind::decided: return "decided";
   case Outcome::Kind::failed_closed: return "failed_closed";
   case Outcome::Kind::error: return "error";
   default: return "no_opinion";
   }
}

struct Observer {
   const DispatchContext &context;
   void failed(const modkit_loader_slot &slot, const modkit_loader_entry &entry, modkit_status status,
               bool out_of_range) const {
      context.warn(context.module_name(entry.module_index),
                   std::string(slot.category->id) + "." + slot.desc->name +
                      (out_of_range ? " answered a value outside its range"
                                    : std::string(" failed with status ") + modkit_status_name(status)));
   }
};

} // namespace

modkit_status dispatch(const modkit_loader_slot &slot, const invoke::Invoker &invoker, const nlohmann::json &args,
                       modkit_call *call, const DispatchContext &context, nlohmann::json &result) {
   invoke::Frame frame;
   std::string error;
   if (!invoker.bind(args, frame, error)) {
      result = {{"error", error}};
      return MODKIT_E_INVALID_ARGUMENT;
   }
   const auto initial = slot.desc->combine == MODKIT_COMBINE_ALL_TRUE ? invoke::Invoker::Initial::bools_true
                                                                      : invoke::Invoker::Initial::zero;
   nlohmann::json answers = nlohmann::json::array();
   // Calls one module and records its answer; *primary gets the answer the policy reads.
   auto invoke_one = [&](const modkit_loader_entry &e, int64_t *primary) {
      const uint64_t started = context.reader ? modkit_loader_metrics_begin(context.reader) : 0;
      const modkit_status status = invoker.call(e.fn, e.user_data, call, frame, initial);
      if (context.reader) modkit_loader_metrics_end(context.reader, &e, status, started);
      nlohmann::json answer = {{"module", context.module_name(e.module_index)}, {"status", modkit_status_name(status)}};
      if (status == MODKIT_OK) {
         answer["outputs"] = invoker.outputs(frame);
         if (!invoker.first_output(frame, *primary)) *primary = 0;
      }
      answers.push_back(std::move(answer));
      return status;
   };
   Observer observer{context};
   Outcome out;
   int64_t value = 0;
   switch (slot.desc->combine) {
   case MODKIT_COMBINE_ALL_TRUE: {
      bool allowed = true;
      out = all_true(slot, allowed, [&](const modkit_loader_entry &e, bool *r) {
         int64_t v = 1;
         const modkit_status s = invoke_one(e, &v);
         *r = v != 0;
         return s;
      }, observer);
      break;
   }
   case MODKIT_COMBINE_RUN_ALL:
      out = run_all(slot, [&](const modkit_loader_entry &e) { return invoke_one(e, &value); }, observer);
      break;
   case MODKIT_COMBINE_MERGE:
      out = merge<int64_t>(slot, invoke_one, [](const int64_t &, const modkit_loader_entry &) { return false; },
                           observer);
      break;
   case MODKIT_COMBINE_SINGLE:
      out = single(slot, value, invoke_one, 0, observer);
      break;
   default: // first non-zero, keyed, chained
      out = first_non_zero(slot, value, invoke_one, 0, observer);
      break;
   }

   result = nlohmann::json::object();
   result["outcome"] = kind_name(out.kind);
   result["status"] = modkit_status_name(out.status);
   result["module"] = nullptr;
   result["answer"] = nullptr;
   if (out.module_index != UINT32_MAX) {
      const std::string name = context.module_name(out.module_index);
      result["module"] = name;
      for (const auto &a : answers) {
         if (a["module"] == name && a.contains("outputs")) result["answer"] = a["outputs"];
      }
   }
   result["answers"] = std::move(answers);
   result["chain_to"] = nullptr;
   if (slot.desc->combine == MODKIT_COMBINE_CHAINED && out.kind == Outcome::Kind::no_opinion)
      result["chain_to"] = slot.desc->chain_to;
   return out.kind == Outcome::Kind::error ? out.status : MODKIT_OK;
}

modkit_status call_module(const modkit_loader_slot &slot, const invoke::Invoker &invoker, uint32_t module_index,
                          const nlohmann::json &args, modkit_call *call, const DispatchContext &context,
                          nlohmann::json &result) {
   const modkit_loader_entry *entry = nullptr;
   for (size_t i = 0; i < slot.count; ++i) {
      if (slot.entries[i].module_index == module_index) entry = &slot.entries[i];
   }
   const std::string name = context.module_name(module_index);
   if (!entry) {
      result = {{"error", "module '" + name + "' did not register " + slot.category->id + "." + slot.desc->name}};
      return MODKIT_E_NOT_FOUND;
   }
   invoke::Frame frame;
   std::string error;
   if (!invoker.bind(args, frame, error)) {
      result = {{"error", error}};
      return MODKIT_E_INVALID_ARGUMENT;
   }
   const auto initial = slot.desc->combine == MODKIT_COMBINE_ALL_TRUE ? invoke::Invoker::Initial::bools_true
                                                                      : invoke::Invoker::Initial::zero;
   const uint64_t started = context.reader ? modkit_loader_metrics_begin(context.reader) : 0;
   const modkit_status status = invoker.call(entry->fn, entry->user_data, call, frame, initial);
   if (context.reader) modkit_loader_metrics_end(context.reader, entry, status, started);
   result = {{"module", name}, {"status", modkit_status_name(status)}};
   if (status == MODKIT_OK) result["outputs"] = invoker.outputs(frame);
   return status;
}

} // namespace modkit::loader

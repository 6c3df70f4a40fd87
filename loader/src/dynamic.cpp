#include "dynamic.hpp"

#include "registry.hpp"

#include <modkit/async.hpp>
#include <modkit/dispatch.hpp>

#include <memory>

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

namespace {

// One dynamic dispatch's state, shared by its invoke, its fold and its done, which may each
// run on another thread than the one before (never two at once).
struct JsonState {
   const invoke::Invoker &invoker;
   DispatchContext context;
   invoke::Frame frame;
   invoke::Invoker::Initial initial;
   nlohmann::json answers = nlohmann::json::array();
   JsonDone done;

   // Records a module's answer; its first output is what the policy reads.
   int64_t record(const modkit_loader_entry &e, modkit_status status) {
      nlohmann::json answer = {{"module", context.module_name(e.module_index)}, {"status", modkit_status_name(status)}};
      int64_t primary = 0;
      if (status == MODKIT_OK) {
         answer["outputs"] = invoker.outputs(frame);
         if (!invoker.first_output(frame, primary)) primary = 0;
      }
      answers.push_back(std::move(answer));
      return primary;
   }

   void finish(const modkit_loader_slot &slot, const Outcome &out) {
      nlohmann::json result = nlohmann::json::object();
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
      if (slot.desc->combine == MODKIT_COMBINE_CHAINED && out.kind == Outcome::Kind::no_opinion && out.status == MODKIT_OK)
         result["chain_to"] = slot.desc->chain_to;
      const modkit_status status = out.kind == Outcome::Kind::error ? out.status
                                   : out.kind == Outcome::Kind::no_opinion ? out.status
                                                                            : MODKIT_OK;
      done(status, result);
   }
};

// A policy's fold that first records each module's answer from the frame (where the module
// wrote it, possibly long after the call returned) and hands the policy its first output.
template <class Inner>
struct Recording : Inner {
   std::shared_ptr<JsonState> state;
   template <class Observer>
   bool step(const modkit_loader_slot &slot, const modkit_loader_entry &e, modkit_status status,
             const typename Inner::value_type &, Outcome &out, Observer &observer) {
      const int64_t primary = state->record(e, status);
      typename Inner::value_type value{};
      if constexpr (std::is_same_v<typename Inner::value_type, bool>) value = primary != 0;
      else if constexpr (std::is_same_v<typename Inner::value_type, int64_t>) value = primary;
      return Inner::step(slot, e, status, value, out, observer);
   }
};

struct NoMerge {
   bool operator()(const int64_t &, const modkit_loader_entry &) const { return false; }
};

} // namespace

modkit_status start_dispatch(const modkit_loader_slot &slot, const invoke::Invoker &invoker, const nlohmann::json &args,
                             const AsyncContext &async, const DispatchContext &context, JsonDone done,
                             AsyncHandle &handle) {
   auto state = std::make_shared<JsonState>(
      JsonState{invoker, context, {}, invoke::Invoker::Initial::zero, nlohmann::json::array(), {}});
   std::string error;
   if (!invoker.bind(args, state->frame, error)) {
      done(MODKIT_E_INVALID_ARGUMENT, {{"error", error}});
      return MODKIT_E_INVALID_ARGUMENT;
   }
   if (slot.desc->combine == MODKIT_COMBINE_ALL_TRUE) state->initial = invoke::Invoker::Initial::bools_true;
   state->done = std::move(done);
   // The module writes its outputs into the frame; the fold reads them from there.
   auto call = [state](const modkit_loader_entry &e, modkit_call *c, auto *...) {
      return state->invoker.call(e.fn, e.user_data, c, state->frame, state->initial);
   };
   auto finish = [state, &slot](const Outcome &out, const auto &...) { state->finish(slot, out); };
   Observer observer{state->context};
   const uint64_t limit = modkit::detail::answer_limit<int64_t>(*slot.desc); // as the typed path checks
   switch (slot.desc->combine) {
   case MODKIT_COMBINE_ALL_TRUE:
      handle = async::detail::start(async, slot, Recording<fold::AllTrue>{{nullptr}, state}, call, finish, observer, true);
      break;
   case MODKIT_COMBINE_RUN_ALL:
      handle = async::detail::start(async, slot, Recording<fold::RunAll>{{}, state}, call, finish, observer, fold::None{});
      break;
   case MODKIT_COMBINE_MERGE:
      handle = async::detail::start(async, slot, Recording<fold::Merging<int64_t, NoMerge>>{{NoMerge{}}, state}, call,
                                    finish, observer, fold::None{});
      break;
   case MODKIT_COMBINE_SINGLE:
      handle = async::detail::start(async, slot, Recording<fold::Single<int64_t>>{{nullptr, 0, limit}, state}, call,
                                    finish, observer, int64_t{0});
      break;
   default: // first non-zero, keyed, chained: every registrant, as modkit/loader.h says
      handle = async::detail::start(async, slot,
                                    Recording<fold::FirstNonZero<int64_t>>{{nullptr, 0, limit, {}}, state}, call,
                                    finish, observer, int64_t{0});
      break;
   }
   return MODKIT_OK;
}

modkit_status dispatch(const modkit_loader_slot &slot, const invoke::Invoker &invoker, const nlohmann::json &args,
                       modkit_call *call, const DispatchContext &context, nlohmann::json &result) {
   // The synchronous form: the same policies, with a call that cannot suspend, so done runs
   // before start_dispatch returns. The host's call lends its request ID, deadline and flag.
   AsyncContext sync;
   sync.can_suspend = false;
   sync.reader = context.reader;
   sync.call = call;
   modkit_status status = MODKIT_OK;
   AsyncHandle handle;
   start_dispatch(slot, invoker, args, sync, context,
                  [&](modkit_status s, nlohmann::json r) {
                     status = s;
                     result = std::move(r);
                  },
                  handle);
   return status;
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

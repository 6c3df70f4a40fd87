// invoke_bench.cpp - what a dynamic call costs, next to its floors, measured in one run.
//
// Each benchmark calls a callback of a dlopened module (bench_module) the same way every time,
// for two callee shapes: JoinRoom, the spam checker's user_may_join_room (two modkit_str by
// value, a bool, an i32 output), and CheckEvent, its check_event_for_spam (a struct by
// pointer, an i32 output):
//   BM_direct_call     the registry's function pointer, cast to its C type: the typed path
//   BM_ffi_call        one ffi_call through a call interface prepared once: libffi's floor
//   BM_invoker_call    Invoker::call on a bound frame, plus reading the answer (first_output):
//                      the invoker's own overhead on top of ffi_call, no JSON
//   BM_invoker_bind    Invoker::bind: the JSON -> C conversion, reported on its own
//   BM_dispatch_json   modkit_loader_dispatch_json end to end: parse, bind, call, answer as JSON
// Each reports allocs_per_iter, heap allocations per iteration counted by the global operator
// new below; Invoker::call must read 0. bench/summarize.py turns the JSON output into the table
// of medians and ratios in docs/benchmarks.md.
#include "allocation_counter.hpp"
#include "invoke/invoker.hpp"

#include <modkit/categories/spam_checker.h>
#include <modkit/loader.h>

#include <benchmark/benchmark.h>
#include <ffi.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

namespace {
std::atomic<std::uint64_t> &allocations = modkit_bench_allocations; // allocation_counter.hpp
} // namespace

namespace {

using modkit::invoke::Frame;
using modkit::invoke::Invoker;

[[noreturn]] void die(const std::string &why) {
   std::fprintf(stderr, "invoke_bench: %s\n", why.c_str());
   std::exit(1);
}

void quiet(void *, modkit_log_level, const char *, modkit_str) {}

// The loader with bench_module loaded, shared by every benchmark.
struct Host {
   modkit_loader *loader = nullptr;
   modkit_call call = modkit_call_make({"bench", 5});

   Host() {
      const modkit_category *categories[] = {modkit_spam_checker_category()};
      modkit_loader_options o{};
      o.struct_size = sizeof o;
      o.categories = categories;
      o.category_count = 1;
      o.log = quiet;
      if (modkit_loader_create(&o, &loader) != MODKIT_OK) die("cannot create the loader");
      const std::string config = std::string("{\"module_path\": [\"") + MODKIT_BENCH_MODULE_DIR +
                                 "\"], \"modules\": [{\"module\": \"bench_module\", \"config\": {}}]}";
      if (modkit_loader_load(loader, config.data(), config.size()) != MODKIT_OK)
         die(modkit_loader_error_count(loader) ? modkit_loader_error_at(loader, 0)->text : "load failed");
   }
   ~Host() { modkit_loader_destroy(loader); }

   static Host &get() {
      static Host host;
      return host;
   }

   // The one registrant of slot, and an invoker prepared for it.
   void find(std::uint32_t slot_index, modkit_loader_entry &entry, Invoker &invoker) const {
      const modkit_loader_slot *slot = nullptr;
      if (modkit_loader_slot_at(loader, MODKIT_SPAM_CHECKER_ID, slot_index, &slot) != MODKIT_OK || slot->count != 1)
         die("bench_module did not register the slot");
      entry = slot->entries[0];
      std::string error;
      if (!Invoker::prepare(*modkit_spam_checker_category(), slot_index, invoker, error)) die(error);
   }
};

ffi_type *str_type() {
   static ffi_type *elements[] = {&ffi_type_pointer, &ffi_type_uint64, nullptr};
   static ffi_type type = {0, 0, FFI_TYPE_STRUCT, elements};
   return &type;
}

// user_may_join_room(user_id: str, room_id: str, is_invited: bool, result: *i32)
struct JoinRoom {
   static constexpr std::uint32_t slot = MODKIT_SPAM_CHECKER_USER_MAY_JOIN_ROOM;
   static constexpr const char *name = "user_may_join_room";
   const std::string user = "@alice:example.org", room = "#lobby:example.org";
   modkit_str user_id{user.data(), user.size()}, room_id{room.data(), room.size()};
   bool is_invited = false;

   nlohmann::json args() const { return {{"user_id", user}, {"room_id", room}, {"is_invited", is_invited}}; }
   modkit_status direct(const modkit_loader_entry &e, modkit_call *call, modkit_spam_result *result) const {
      decltype(modkit_spam_checker_callbacks::user_may_join_room) fn = nullptr;
      std::memcpy(&fn, &e.fn, sizeof fn);
      return fn(e.user_data, call, user_id, room_id, is_invited, result);
   }
   // The inputs' libffi types and values after (user_data, call); the output comes last.
   std::vector<ffi_type *> types() const { return {str_type(), str_type(), &ffi_type_uint8}; }
   std::vector<void *> values() { return {&user_id, &room_id, &is_invited}; }
};

// check_event_for_spam(event: &event, result: *i32)
struct CheckEvent {
   static constexpr std::uint32_t slot = MODKIT_SPAM_CHECKER_CHECK_EVENT_FOR_SPAM;
   static constexpr const char *name = "check_event_for_spam";
   const std::string sender = "@mallory:example.org", type = "m.room.message", room = "!lobby:example.org";
   const std::string content = R"({"body":"buy now","msgtype":"m.text"})";
   modkit_event event{sizeof(modkit_event), {"$e1", 3}, {room.data(), room.size()}, {sender.data(), sender.size()},
                      {type.data(), type.size()}, {nullptr, 0}, {content.data(), content.size()}, {nullptr, 0},
                      1700000000000};
   const modkit_event *event_ptr = &event;

   nlohmann::json args() const {
      return {{"event", {{"event_id", "$e1"}, {"room_id", room}, {"sender", sender}, {"type", type},
                         {"content_json", nlohmann::json::parse(content)}, {"origin_server_ts", 1700000000000}}}};
   }
   modkit_status direct(const modkit_loader_entry &e, modkit_call *call, modkit_spam_result *result) const {
      decltype(modkit_spam_checker_callbacks::check_event_for_spam) fn = nullptr;
      std::memcpy(&fn, &e.fn, sizeof fn);
      return fn(e.user_data, call, &event, result);
   }
   std::vector<ffi_type *> types() const { return {&ffi_type_pointer}; }
   std::vector<void *> values() { return {&event_ptr}; }
};

// Adds allocs_per_iter: heap allocations made inside the timed loop, per iteration.
class AllocationCount {
public:
   explicit AllocationCount(benchmark::State &state) : state_(state), start_(allocations.load()) {}
   ~AllocationCount() {
      const double made = static_cast<double>(allocations.load() - start_);
      state_.counters["allocs_per_iter"] = made / static_cast<double>(state_.iterations());
   }

private:
   benchmark::State &state_;
   std::uint64_t start_;
};

void expect_forbidden(std::int64_t answer, const char *path) {
   if (answer != MODKIT_SPAM_FORBIDDEN) die(std::string(path) + " did not get the callback's answer");
}

template <class Case>
void BM_direct_call(benchmark::State &state) {
   Host &host = Host::get();
   Case c;
   modkit_loader_entry entry{};
   Invoker unused;
   host.find(Case::slot, entry, unused);
   modkit_spam_result result = MODKIT_NOT_SPAM;
   AllocationCount count(state);
   for (auto _ : state) {
      result = MODKIT_NOT_SPAM;
      modkit_status status = c.direct(entry, &host.call, &result);
      benchmark::DoNotOptimize(status);
      benchmark::DoNotOptimize(result);
   }
   expect_forbidden(result, "the direct call");
}

template <class Case>
void BM_ffi_call(benchmark::State &state) {
   Host &host = Host::get();
   Case c;
   modkit_loader_entry entry{};
   Invoker unused;
   host.find(Case::slot, entry, unused);
   void *user_data = entry.user_data;
   modkit_call *call = &host.call;
   modkit_spam_result result = MODKIT_NOT_SPAM;
   modkit_spam_result *out = &result;
   std::vector<ffi_type *> types = {&ffi_type_pointer, &ffi_type_pointer};
   std::vector<void *> values = {&user_data, &call};
   for (ffi_type *t : c.types()) types.push_back(t);
   for (void *v : c.values()) values.push_back(v);
   types.push_back(&ffi_type_pointer);
   values.push_back(&out);
   ffi_cif cif;
   if (ffi_prep_cif(&cif, FFI_DEFAULT_ABI, static_cast<unsigned>(types.size()), &ffi_type_sint32, types.data()) !=
       FFI_OK)
      die("ffi_prep_cif failed");
   AllocationCount count(state);
   for (auto _ : state) {
      result = MODKIT_NOT_SPAM;
      ffi_arg status = 0;
      ffi_call(&cif, entry.fn, &status, values.data());
      benchmark::DoNotOptimize(status);
      benchmark::DoNotOptimize(result);
   }
   expect_forbidden(result, "ffi_call");
}

template <class Case>
void BM_invoker_call(benchmark::State &state) {
   Host &host = Host::get();
   modkit_loader_entry entry{};
   Invoker invoker;
   host.find(Case::slot, entry, invoker);
   Frame frame;
   std::string error;
   if (!invoker.bind(Case().args(), frame, error)) die(error);
   std::int64_t answer = 0;
   AllocationCount count(state);
   for (auto _ : state) {
      modkit_status status = invoker.call(entry.fn, entry.user_data, &host.call, frame);
      invoker.first_output(frame, answer);
      benchmark::DoNotOptimize(status);
      benchmark::DoNotOptimize(answer);
   }
   expect_forbidden(answer, "Invoker::call");
}

template <class Case>
void BM_invoker_bind(benchmark::State &state) {
   Host &host = Host::get();
   modkit_loader_entry entry{};
   Invoker invoker;
   host.find(Case::slot, entry, invoker);
   const nlohmann::json args = Case().args();
   Frame frame;
   std::string error;
   AllocationCount count(state);
   for (auto _ : state) {
      bool ok = invoker.bind(args, frame, error);
      benchmark::DoNotOptimize(ok);
   }
   if (!error.empty()) die(error);
}

template <class Case>
void BM_dispatch_json(benchmark::State &state) {
   Host &host = Host::get();
   const std::string args = Case().args().dump();
   modkit_buffer *result = modkit_loader_buffer_create();
   AllocationCount count(state);
   for (auto _ : state) {
      modkit_status status = modkit_loader_dispatch_json(host.loader, MODKIT_SPAM_CHECKER_ID, Case::name, args.data(),
                                                         args.size(), &host.call, result);
      benchmark::DoNotOptimize(status);
   }
   const modkit_str text = modkit_loader_buffer_data(result);
   if (std::string(text.data, text.size).find("\"answer\":{\"result\":1}") == std::string::npos)
      die("dispatch_json did not get the callback's answer");
   modkit_loader_buffer_destroy(result);
}

} // namespace

BENCHMARK_TEMPLATE(BM_direct_call, JoinRoom);
BENCHMARK_TEMPLATE(BM_ffi_call, JoinRoom);
BENCHMARK_TEMPLATE(BM_invoker_call, JoinRoom);
BENCHMARK_TEMPLATE(BM_invoker_bind, JoinRoom);
BENCHMARK_TEMPLATE(BM_dispatch_json, JoinRoom);
BENCHMARK_TEMPLATE(BM_direct_call, CheckEvent);
BENCHMARK_TEMPLATE(BM_ffi_call, CheckEvent);
BENCHMARK_TEMPLATE(BM_invoker_call, CheckEvent);
BENCHMARK_TEMPLATE(BM_invoker_bind, CheckEvent);
BENCHMARK_TEMPLATE(BM_dispatch_json, CheckEvent);

#ifndef MODKIT_BENCH_COMBINED
BENCHMARK_MAIN();
#endif

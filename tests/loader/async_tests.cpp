// async_tests.cpp - asynchronous completion (ABI 1.1): every policy resumed across modules that
// suspend, completions from other threads and before the return, cancellation and deadlines,
// pins against unload and reload, and modules that misuse the protocol.
#include "support.hpp"

#include <modkit/async.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <optional>
#include <mutex>
#include <thread>

using test::contains;
using test::Host;

namespace {

using namespace std::chrono_literals;

// The reload stress runs its full 2,000 reloads unsanitized; the sanitizers, 10 to 20 times
// slower per dispatch, run fewer (the same code paths, inside the CI budget).
#if defined(__has_feature)
#   if __has_feature(thread_sanitizer)
constexpr int sanitizer_scale = 8;
#   elif __has_feature(address_sanitizer)
constexpr int sanitizer_scale = 4;
#   else
constexpr int sanitizer_scale = 1;
#   endif
#elif defined(__SANITIZE_THREAD__)
constexpr int sanitizer_scale = 8;
#elif defined(__SANITIZE_ADDRESS__)
constexpr int sanitizer_scale = 4;
#else
constexpr int sanitizer_scale = 1;
#endif

// What one dispatch concluded, for comparing the synchronous and asynchronous paths.
struct Result {
   modkit::Outcome::Kind kind = modkit::Outcome::Kind::no_opinion;
   modkit_status status = MODKIT_OK;
   std::string module;
   int64_t answer = 0;
   bool operator==(const Result &o) const {
      return kind == o.kind && status == o.status && module == o.module && answer == o.answer;
   }
};

doctest::String toString(const Result &r) {
   return ("{kind " + std::to_string(static_cast<int>(r.kind)) + ", " + modkit_status_name(r.status) + ", '" +
           r.module + "', " + std::to_string(r.answer) + "}")
      .c_str();
}

// Waits for a done callback that may run on another thread.
template <class T>
struct Waiter {
   std::mutex mutex;
   std::condition_variable cv;
   std::optional<T> value;
   int calls = 0;
   void set(T v) {
      std::lock_guard<std::mutex> lock(mutex);
      value = std::move(v);
      ++calls;
      cv.notify_all();
   }
   T get(std::chrono::milliseconds limit = 5000ms) {
      std::unique_lock<std::mutex> lock(mutex);
      REQUIRE(cv.wait_for(lock, limit, [&] { return value.has_value(); }));
      return *value;
   }
};

std::string name_of(const modkit_loader_snapshot &snap, uint32_t index) {
   return index < snap.module_count ? snap.modules[index].name : "";
}

// The modules: three async probes, the one at suspend_at in mode, the others synchronous.
std::string config(int suspend_at, const std::string &mode, const std::string &answers_a,
                   const std::string &answers_b, const std::string &answers_c, int delay_us = 500) {
   const char *names[] = {"async_a", "async_b", "async_c"};
   const std::string *answers[] = {&answers_a, &answers_b, &answers_c};
   std::string out = "[";
   for (int i = 0; i < 3; ++i) {
      out += std::string(i ? "," : "") + R"({"module": ")" + names[i] + R"(", "config": {"tag": ")" +
             std::string(1, char('a' + i)) + R"(", "mode": ")" + (i == suspend_at ? mode : std::string("sync")) +
             R"(", "delay_us": )" + std::to_string(delay_us) + ", " + *answers[i] + "}}";
   }
   return out + "]";
}

using Fn = modkit_status (*)(void *, modkit_call *, int32_t, int32_t *);

// decide (first non-zero, propagate) synchronously, with a 1.0-style call that cannot suspend.
Result decide_sync(Host &host, int32_t input) {
   modkit::ReadGuard guard(host.loader.reader());
   const auto ref = host.loader.slot_ref<&test_callbacks::decide>(TEST_CATEGORY_ID);
   auto slot = guard.slot<&test_callbacks::decide>(ref);
   modkit_call call = modkit_call_make({"", 0});
   int32_t answer = 0;
   const modkit::Outcome out = modkit::first_non_zero(slot.raw(), answer, [&](const modkit_loader_entry &e, int32_t *r) {
      return decltype(slot)::fn(e)(e.user_data, &call, input, r);
   });
   return {out.kind, out.status, out.module_index == UINT32_MAX ? "" : name_of(guard.snapshot(), out.module_index),
           answer};
}

// Starts an asynchronous dispatch of a typed slot and waits for its done.
template <auto Member, class Start>
Result run_async(Host &host, Start &&start, int64_t deadline_ns = 0, modkit::AsyncHandle *keep = nullptr) {
   auto waiter = std::make_shared<Waiter<Result>>();
   modkit::AsyncHandle handle;
   {
      modkit::ReadGuard guard(host.loader.reader());
      const auto ref = host.loader.slot_ref<Member>(TEST_CATEGORY_ID);
      auto slot = guard.slot<Member>(ref);
      const modkit_loader_snapshot *snap = &guard.snapshot();
      handle = start(host.loader.async_context(guard, "req", deadline_ns), slot, [waiter, snap](const modkit::Outcome &out, auto answer) {
         // The snapshot stays valid until done returns: the dispatch pins it.
         waiter->set({out.kind, out.status, out.module_index == UINT32_MAX ? "" : name_of(*snap, out.module_index),
                      static_cast<int64_t>(answer)});
      });
   }
   if (keep) *keep = std::move(handle);
   return waiter->get();
}

Result decide_async(Host &host, int32_t input, int64_t deadline_ns = 0, modkit::AsyncHandle *keep = nullptr) {
   return run_async<&test_callbacks::decide>(host, [&](const modkit::AsyncContext &ctx, auto slot, auto done) {
      using S = decltype(slot);
      return modkit::async::first_non_zero<int32_t>(ctx, slot.raw(), [input](const modkit_loader_entry &e, modkit_call *c, int32_t *r) {
         return S::fn(e)(e.user_data, c, input, r);
      }, done);
   }, deadline_ns, keep);
}

template <auto Member>
Result int_slot_async(Host &host, bool single = false, int64_t deadline_ns = 0) {
   return run_async<Member>(host, [&](const modkit::AsyncContext &ctx, auto slot, auto done) {
      using S = decltype(slot);
      auto invoke = [](const modkit_loader_entry &e, modkit_call *c, int32_t *r) { return S::fn(e)(e.user_data, c, r); };
      if (single) return modkit::async::single<int32_t>(ctx, slot.raw(), invoke, done, -1);
      return modkit::async::first_non_zero<int32_t>(ctx, slot.raw(), invoke, done, 3);
   }, deadline_ns);
}

template <auto Member>
Result int_slot_sync(Host &host, bool single = false) {
   modkit::ReadGuard guard(host.loader.reader());
   auto slot = guard.slot<Member>(host.loader.slot_ref<Member>(TEST_CATEGORY_ID));
   modkit_call call = modkit_call_make({"", 0});
   int32_t answer = 0;
   auto invoke = [&](const modkit_loader_entry &e, int32_t *r) { return decltype(slot)::fn(e)(e.user_data, &call, r); };
   const modkit::Outcome out = single ? modkit::single(slot.raw(), answer, invoke, -1)
                                      : modkit::first_non_zero(slot.raw(), answer, invoke, 3);
   return {out.kind, out.status, out.module_index == UINT32_MAX ? "" : name_of(guard.snapshot(), out.module_index),
           answer};
}

Result allow_async(Host &host) {
   return run_async<&test_callbacks::allow>(host, [&](const modkit::AsyncContext &ctx, auto slot, auto done) {
      using S = decltype(slot);
      return modkit::async::all_true(ctx, slot.raw(), [](const modkit_loader_entry &e, modkit_call *c, bool *r) {
         return S::fn(e)(e.user_data, c, {"x", 1}, r);
      }, done);
   });
}

Result allow_sync(Host &host) {
   modkit::ReadGuard guard(host.loader.reader());
   auto slot = guard.slot<&test_callbacks::allow>(host.loader.slot_ref<&test_callbacks::allow>(TEST_CATEGORY_ID));
   modkit_call call = modkit_call_make({"", 0});
   bool answer = true;
   const modkit::Outcome out = modkit::all_true(slot.raw(), answer, [&](const modkit_loader_entry &e, bool *r) {
      return decltype(slot)::fn(e)(e.user_data, &call, {"x", 1}, r);
   });
   return {out.kind, out.status, out.module_index == UINT32_MAX ? "" : name_of(guard.snapshot(), out.module_index),
           answer};
}

// Every dispatch started here shares one call site, so one dispatch type and one pooled block
// per thread (modkit/async.hpp). Records each call handle a module received; nested, when set,
// runs inside the first module call, while this dispatch still uses its block.
modkit::AsyncHandle start_pooled(Host &host, std::vector<const modkit_call *> *calls,
                                 std::function<void(const Result &)> then, std::function<void()> nested = {}) {
   modkit::ReadGuard guard(host.loader.reader());
   const auto ref = host.loader.slot_ref<&test_callbacks::decide>(TEST_CATEGORY_ID);
   auto slot = guard.slot<&test_callbacks::decide>(ref);
   using S = decltype(slot);
   return modkit::async::first_non_zero<int32_t>(
      host.loader.async_context(guard, "pooled"), slot.raw(),
      [calls, nested](const modkit_loader_entry &e, modkit_call *c, int32_t *r) {
         if (nested && calls->empty()) nested();
         calls->push_back(c);
         return S::fn(e)(e.user_data, c, 1, r);
      },
      [then](const modkit::Outcome &out, int32_t answer) { then({out.kind, out.status, "", answer}); });
}

// The three modules' trace of one slot, in call order.
std::vector<std::string> traced(Host &host, const std::string &what) {
   std::vector<std::string> out;
   for (const auto &l : host.calls()) {
      if (contains(l, what)) out.push_back(l);
   }
   return out;
}

} // namespace

TEST_CASE("every policy gives the synchronous path's answer when a module suspends at the first, middle or last position") {
   // Answers chosen so each policy's decision depends on every position.
   struct Case {
      const char *a, *b, *c;
   };
   const Case cases[] = {
      {R"("answers": {"decide": 0, "strict": 0, "lenient": 0, "allow": true, "only": 2})",
       R"("answers": {"decide": 0, "strict": 0, "lenient": 0, "allow": true})",
       R"("answers": {"decide": 2, "strict": 1, "lenient": 2, "allow": false})"},
      {R"("answers": {"decide": 0, "strict": 0, "lenient": 0, "only": 1})",
       R"("answers": {"decide": 3}, "errors": {"strict": 4, "lenient": 4, "allow": 4})",
       R"("answers": {"decide": 1, "strict": 2, "lenient": 1})"},
      {R"("errors": {"decide": 4, "only": 7}, "answers": {"allow": false})",
       R"("answers": {"decide": 1, "strict": 9, "lenient": 9})", R"("answers": {"decide": 2})"},
      {R"("answers": {})", R"("answers": {})", R"("answers": {})"},
   };
   for (const std::string mode : {"suspend", "before_return", "race"}) {
      for (int at = 0; at < 3; ++at) {
         for (const Case &c : cases) {
            CAPTURE(mode);
            CAPTURE(at);
            CAPTURE(std::string(c.a));
            Host host;
            host.load(config(at, mode, c.a, c.b, c.c));
            CHECK(decide_async(host, 5) == decide_sync(host, 5));
            CHECK(int_slot_async<&test_callbacks::strict>(host) == int_slot_sync<&test_callbacks::strict>(host));
            CHECK(int_slot_async<&test_callbacks::lenient>(host) == int_slot_sync<&test_callbacks::lenient>(host));
            CHECK(int_slot_async<&test_callbacks::only>(host, true) == int_slot_sync<&test_callbacks::only>(host, true));
            CHECK(allow_async(host) == allow_sync(host));
            // Every module called once per dispatch, in config order, on both paths.
            const auto decides = traced(host, "decide(");
            CHECK(decides.size() % 2 == 0);
         }
      }
   }
}

TEST_CASE("a chain suspended at module i continues with module i+1 on the completing thread") {
   Host host;
   // The module holds the call 300 ms: long after the start returns, however loaded the machine.
   host.load(config(0, "suspend", R"("answers": {"decide": 0})", R"("answers": {"decide": 0})",
                    R"("answers": {"decide": 2})", 300000));
   const auto caller = std::this_thread::get_id();
   std::atomic<bool> other_thread{false};
   auto waiter = std::make_shared<Waiter<int32_t>>();
   {
      modkit::ReadGuard guard(host.loader.reader());
      auto slot = guard.slot<&test_callbacks::decide>(host.loader.slot_ref<&test_callbacks::decide>(TEST_CATEGORY_ID));
      auto h = modkit::async::first_non_zero<int32_t>(
         host.loader.async_context(guard), slot.raw(),
         [&](const modkit_loader_entry &e, modkit_call *c, int32_t *r) {
            if (std::this_thread::get_id() != caller) other_thread = true;
            return decltype(slot)::fn(e)(e.user_data, c, 9, r);
         },
         [waiter](const modkit::Outcome &, int32_t answer) { waiter->set(answer); });
      // Suspended at the first module: nothing decided yet, and this thread is free.
      CHECK_FALSE(h.finished());
   }
   CHECK(waiter->get() == 2);
   CHECK(other_thread);
   CHECK(traced(host, "decide(") == std::vector<std::string>{"a:decide(9)", "b:decide(9)", "c:decide(9)"});
}

TEST_CASE("run_all and merge resume across suspensions and see every module") {
   Host host;
   host.load(config(1, "suspend", R"("answers": {"collect": "A"})", R"("answers": {"collect": "B"})",
                    R"("answers": {"collect": "C"})"));
   auto waiter = std::make_shared<Waiter<std::string>>();
   {
      modkit::ReadGuard guard(host.loader.reader());
      auto slot = guard.slot<&test_callbacks::collect>(host.loader.slot_ref<&test_callbacks::collect>(TEST_CATEGORY_ID));
      // One buffer per module call, kept by the dispatch's invoke until done.
      struct Buffers {
         modkit_buffer *current = modkit_loader_buffer_create();
         std::string merged;
         ~Buffers() { modkit_loader_buffer_destroy(current); }
      };
      auto buffers = std::make_shared<Buffers>();
      modkit::async::merge<int>(
         host.loader.async_context(guard), slot.raw(),
         [buffers](const modkit_loader_entry &e, modkit_call *c, int *) {
            modkit_loader_buffer_clear(buffers->current);
            return decltype(slot)::fn(e)(e.user_data, c, buffers->current);
         },
         [buffers](const int &, const modkit_loader_entry &) {
            const modkit_str s = modkit_loader_buffer_data(buffers->current);
            buffers->merged.append(s.data, s.size);
            return false;
         },
         [buffers, waiter](const modkit::Outcome &) { waiter->set(buffers->merged); });
   }
   CHECK(waiter->get() == "ABC");

   auto notified = std::make_shared<Waiter<int>>();
   {
      modkit::ReadGuard guard(host.loader.reader());
      auto slot = guard.slot<&test_callbacks::notify>(host.loader.slot_ref<&test_callbacks::notify>(TEST_CATEGORY_ID));
      modkit::async::run_all(host.loader.async_context(guard), slot.raw(),
                             [](const modkit_loader_entry &e, modkit_call *c) {
                                return decltype(slot)::fn(e)(e.user_data, c, {"hi", 2});
                             },
                             [notified](const modkit::Outcome &out) { notified->set(static_cast<int>(out.kind)); });
   }
   CHECK(notified->get() == static_cast<int>(modkit::Outcome::Kind::no_opinion));
   CHECK(traced(host, "notify(") == std::vector<std::string>{"a:notify(hi)", "b:notify(hi)", "c:notify(hi)"});
}

TEST_CASE("chained falls through to the next slot after a suspension, and keyed filters registrants") {
   Host host;
   host.load(config(0, "suspend", R"("answers": {"federated": 0, "decide": 0})", R"("answers": {"decide": 0})",
                    R"("answers": {"decide": 3})"));
   auto waiter = std::make_shared<Waiter<Result>>();
   {
      modkit::ReadGuard guard(host.loader.reader());
      auto fed = guard.slot<&test_callbacks::federated>(host.loader.slot_ref<&test_callbacks::federated>(TEST_CATEGORY_ID));
      auto dec = guard.slot<&test_callbacks::decide>(host.loader.slot_ref<&test_callbacks::decide>(TEST_CATEGORY_ID));
      const modkit_loader_snapshot *snap = &guard.snapshot();
      modkit::async::chained<int32_t>(
         host.loader.async_context(guard), fed.raw(),
         [](const modkit_loader_entry &e, modkit_call *c, int32_t *r) {
            return decltype(fed)::fn(e)(e.user_data, c, {"@u:x", 4}, r);
         },
         dec.raw(),
         [](const modkit_loader_entry &e, modkit_call *c, int32_t *r) { return decltype(dec)::fn(e)(e.user_data, c, 1, r); },
         [waiter, snap](const modkit::Outcome &out, int32_t answer) {
            waiter->set({out.kind, out.status, name_of(*snap, out.module_index), answer});
         });
   }
   const Result r = waiter->get();
   CHECK(r.answer == 3);
   CHECK(r.module == "async_c");

   // Keyed: only async_b is asked, though it suspends.
   Host keyed_host;
   keyed_host.load(config(1, "suspend", R"("answers": {"decide": 1})", R"("answers": {"decide": 2})",
                          R"("answers": {"decide": 3})"));
   const Result k = run_async<&test_callbacks::decide>(keyed_host, [&](const modkit::AsyncContext &ctx, auto slot, auto done) {
      using S = decltype(slot);
      return modkit::async::keyed<int32_t>(
         ctx, slot.raw(), [](const modkit_loader_entry &e) { return e.module_index == 1; },
         [](const modkit_loader_entry &e, modkit_call *c, int32_t *out) { return S::fn(e)(e.user_data, c, 0, out); }, done);
   });
   CHECK(k.answer == 2);
   CHECK(traced(keyed_host, "decide(") == std::vector<std::string>{"b:decide(0)"});
}

TEST_CASE("cancellation ends the dispatch at once under the slot's exception policy; the late completion is ignored") {
   Host host;
   host.load(config(0, "suspend", R"("answers": {"decide": 1, "strict": 1, "lenient": 1})", R"("answers": {"decide": 2, "lenient": 2})",
                    R"("answers": {})", 300000));
   for (const auto &expected :
        std::vector<std::pair<std::string, modkit::Outcome::Kind>>{{"decide", modkit::Outcome::Kind::error},
                                                                   {"strict", modkit::Outcome::Kind::failed_closed},
                                                                   {"lenient", modkit::Outcome::Kind::no_opinion}}) {
      const std::string &slot_name = expected.first;
      const modkit::Outcome::Kind expected_kind = expected.second;
      CAPTURE(slot_name);
      auto waiter = std::make_shared<Waiter<Result>>();
      modkit::AsyncHandle handle;
      {
         modkit::ReadGuard guard(host.loader.reader());
         const modkit_loader_slot *slot = nullptr;
         REQUIRE(modkit_loader_find_slot(host.loader.get(), TEST_CATEGORY_ID, slot_name.c_str(), &slot) == MODKIT_OK);
         auto done = [waiter](const modkit::Outcome &out, int32_t answer) { waiter->set({out.kind, out.status, "", answer}); };
         if (slot_name == "decide") {
            handle = modkit::async::first_non_zero<int32_t>(host.loader.async_context(guard), *slot,
               [](const modkit_loader_entry &e, modkit_call *c, int32_t *r) { return reinterpret_cast<Fn>(e.fn)(e.user_data, c, 0, r); }, done);
         } else {
            handle = modkit::async::first_non_zero<int32_t>(host.loader.async_context(guard), *slot,
               [](const modkit_loader_entry &e, modkit_call *c, int32_t *r) {
                  return reinterpret_cast<modkit_status (*)(void *, modkit_call *, int32_t *)>(e.fn)(e.user_data, c, r);
               }, done, 3);
         }
      }
      CHECK_FALSE(handle.finished());
      const auto started = std::chrono::steady_clock::now();
      handle.cancel();
      const Result r = waiter->get(1000ms);
      CHECK(std::chrono::steady_clock::now() - started < 200ms); // not the module's 300 ms
      CHECK(r.kind == expected_kind);
      CHECK(r.status == MODKIT_E_CANCELLED);
      if (slot_name == "strict") CHECK(r.answer == 3); // the deny answer
   }
   // The module still completes every call (with MODKIT_E_CANCELLED); nothing crashes and no
   // later module was called after the cancel.
   std::this_thread::sleep_for(400ms);
   CHECK(traced(host, "b:").empty());
}

TEST_CASE("a dispatch's pooled storage starts clean after a cancelled dispatch, and a nested dispatch gets its own") {
   // A dispatch cancelled while its module was suspended; its block returns to this thread's
   // pool once the module's late completion and this handle have let go.
   Host host;
   host.load(config(0, "suspend", R"("answers": {"decide": 0})", R"("answers": {"decide": 2})", R"("answers": {})",
                    20000));
   std::vector<const modkit_call *> calls;
   auto cancelled = std::make_shared<Waiter<Result>>();
   modkit::AsyncHandle handle = start_pooled(host, &calls, [cancelled](const Result &r) { cancelled->set(r); });
   handle.cancel();
   CHECK(cancelled->get().status == MODKIT_E_CANCELLED);
   std::this_thread::sleep_for(300ms); // the module completes its cancelled call after 20 ms
   handle.reset();
   // The next dispatch from this site suspends in the same module: had the block kept its
   // cancel flag, it would end at once with MODKIT_E_CANCELLED instead of asking module b.
   auto next = std::make_shared<Waiter<Result>>();
   modkit::AsyncHandle again = start_pooled(host, &calls, [next](const Result &r) { next->set(r); });
   const Result r = next->get();
   CHECK(r.kind == modkit::Outcome::Kind::decided);
   CHECK(r.status == MODKIT_OK);
   CHECK(r.answer == 2);
   REQUIRE(calls.size() == 3); // a (cancelled), then a and b
#if MODKIT_ASYNC_RECYCLE
   CHECK(calls[1] == calls[0]); // the same block served both
#endif
   CHECK(calls[2] == calls[1]); // one call handle per dispatch, re-armed for each module

   // Modules that answer at once: a dispatch started from inside another's module call, while
   // the outer one still uses its block, gets a block of its own, and both answer right.
   Host sync;
   sync.load(config(-1, "sync", R"("answers": {"decide": 0})", R"("answers": {"decide": 2})", R"("answers": {})"));
   std::vector<const modkit_call *> outer_calls, inner_calls;
   Result outer, inner;
   const modkit::AsyncHandle done_outer = start_pooled(
      sync, &outer_calls, [&](const Result &res) { outer = res; },
      [&] { CHECK(start_pooled(sync, &inner_calls, [&](const Result &res) { inner = res; }).finished()); });
   CHECK(done_outer.finished());
   CHECK(outer.answer == 2);
   CHECK(inner.answer == 2);
   REQUIRE(outer_calls.size() == 2);
   REQUIRE(inner_calls.size() == 2);
   CHECK(inner_calls[0] != outer_calls[0]);
}

TEST_CASE("an observer's answered() checks each answer on the thread that takes it, after a suspension too") {
   Host host;
   host.load(config(0, "suspend", R"("answers": {"decide": 5, "lenient": 5})",
                    R"("answers": {"decide": 2, "lenient": 2})", R"("answers": {})"));
   using Seen = std::vector<std::pair<int32_t, std::thread::id>>;
   // Rejects the answer 5 as a host rejects an output it cannot use.
   struct Checker {
      std::shared_ptr<Seen> seen;
      void failed(const modkit_loader_slot &, const modkit_loader_entry &, modkit_status, bool) const noexcept {}
      modkit_status answered(const modkit_loader_slot &, const modkit_loader_entry &, modkit_status status,
                             int32_t *value) const noexcept {
         seen->push_back({*value, std::this_thread::get_id()});
         return *value == 5 ? MODKIT_E_INVALID_ARGUMENT : status;
      }
   };
   for (const std::string slot_name : {"decide", "lenient"}) {
      CAPTURE(slot_name);
      auto seen = std::make_shared<Seen>();
      auto waiter = std::make_shared<Waiter<Result>>();
      // Written before the waiter is set, read after it: the waiter orders the two.
      auto done_thread = std::make_shared<std::thread::id>();
      {
         modkit::ReadGuard guard(host.loader.reader());
         const modkit_loader_slot *slot = nullptr;
         REQUIRE(modkit_loader_find_slot(host.loader.get(), TEST_CATEGORY_ID, slot_name.c_str(), &slot) == MODKIT_OK);
         const modkit_loader_snapshot *snap = &guard.snapshot();
         auto done = [waiter, snap, done_thread](const modkit::Outcome &out, int32_t answer) {
            *done_thread = std::this_thread::get_id();
            waiter->set({out.kind, out.status, out.module_index == UINT32_MAX ? "" : name_of(*snap, out.module_index),
                         answer});
         };
         const bool decide = slot_name == "decide";
         modkit::async::first_non_zero<int32_t>(
            host.loader.async_context(guard), *slot,
            [decide](const modkit_loader_entry &e, modkit_call *c, int32_t *r) {
               if (decide) return reinterpret_cast<Fn>(e.fn)(e.user_data, c, 0, r);
               return reinterpret_cast<modkit_status (*)(void *, modkit_call *, int32_t *)>(e.fn)(e.user_data, c, r);
            },
            done, 3, Checker{seen});
      }
      const Result r = waiter->get();
      REQUIRE(seen->size() == (slot_name == "decide" ? 1u : 2u));
      CHECK((*seen)[0].first == 5);
      // The answer is checked by whichever thread takes it: the module's worker, or this thread
      // when the worker completed before the module returned MODKIT_PENDING. Either way it is
      // the thread that goes on with the chain and calls done.
      CHECK((*seen)[0].second == *done_thread);
      if (slot_name == "decide") {
         // Propagate: the rejected answer is async_a's error.
         CHECK(r.kind == modkit::Outcome::Kind::error);
         CHECK(r.status == MODKIT_E_INVALID_ARGUMENT);
         CHECK(r.module == "async_a");
      } else {
         // Fail open: the rejected answer is skipped and async_b decides.
         CHECK(r.kind == modkit::Outcome::Kind::decided);
         CHECK(r.module == "async_b");
         CHECK(r.answer == 2);
      }
   }
}

TEST_CASE("the deadline cancels a suspended call and applies the exception policy") {
   Host host;
   host.load(config(1, "suspend", R"("answers": {"decide": 0, "lenient": 0})", R"("answers": {"decide": 2, "lenient": 2})",
                    R"("answers": {"decide": 3, "lenient": 3})", 500000));
   const int64_t deadline = static_cast<int64_t>(modkit_loader_now_ns()) + 30'000'000;
   const auto started = std::chrono::steady_clock::now();
   const Result r = decide_async(host, 1, deadline);
   const auto took = std::chrono::steady_clock::now() - started;
   CHECK(r.kind == modkit::Outcome::Kind::error);
   CHECK(r.status == MODKIT_E_TIMEOUT);
   CHECK(took >= 25ms);
   CHECK(took < 400ms);
   const Result open = int_slot_async<&test_callbacks::lenient>(host, false,
                                                                static_cast<int64_t>(modkit_loader_now_ns()) + 30'000'000);
   CHECK(open.kind == modkit::Outcome::Kind::no_opinion);
   CHECK(open.status == MODKIT_E_TIMEOUT);
   // Neither dispatch went on to module c after the deadline.
   std::this_thread::sleep_for(600ms);
   CHECK(traced(host, "c:").empty());
}

TEST_CASE("a double completion is refused and logged, never a crash") {
   Host host;
   host.load(config(0, "twice", R"("answers": {"decide": 2})", R"("answers": {})", R"("answers": {})"));
   // The host still holds the dispatch, so the call handle the module completes again is alive
   // (once every holder has let go, it is freed: see docs/abi.md).
   modkit::AsyncHandle keep;
   CHECK(decide_async(host, 1, 0, &keep).answer == 2);
   for (int i = 0; i < 200 && !host.logged("a:again="); ++i) std::this_thread::sleep_for(5ms);
   CHECK(host.logged("a:again=state"));
   CHECK(host.logged("completed a call twice"));
}

TEST_CASE("a call made the 1.0 way never suspends: modules answer synchronously") {
   Host host;
   host.load(config(0, "suspend", R"("answers": {"decide": 2})", R"("answers": {})", R"("answers": {})"));
   // A 1.0 host's handle is 40 bytes long: call_can_suspend must be false for it, and for a
   // 1.1 handle that was never armed.
   modkit_call old = modkit_call_make({"", 0});
   old.struct_size = 40;
   modkit::ReadGuard guard(host.loader.reader());
   auto slot = guard.slot<&test_callbacks::decide>(host.loader.slot_ref<&test_callbacks::decide>(TEST_CATEGORY_ID));
   for (modkit_call *call : {&old}) {
      int32_t answer = 0;
      const modkit_status s = decltype(slot)::fn(slot.raw().entries[0])(slot.raw().entries[0].user_data, call, 0, &answer);
      CHECK(s == MODKIT_OK);
      CHECK(answer == 2);
   }
   modkit_call fresh = modkit_call_make({"", 0});
   int32_t answer = 0;
   CHECK(decltype(slot)::fn(slot.raw().entries[0])(slot.raw().entries[0].user_data, &fresh, 0, &answer) == MODKIT_OK);
   CHECK(answer == 2);
}

TEST_CASE("the async JSON dispatch answers as the synchronous one, after suspensions") {
   Host host;
   host.load(config(1, "suspend", R"("answers": {"decide": 0})", R"("answers": {"decide": 2})",
                    R"("answers": {"decide": 3})"));
   modkit_buffer *buf = modkit_loader_buffer_create();
   REQUIRE(modkit_loader_dispatch_json(host.loader.get(), TEST_CATEGORY_ID, "decide", R"({"input": 4})", 12, nullptr,
                                       buf) == MODKIT_OK);
   const std::string sync_result(modkit_loader_buffer_data(buf).data, modkit_loader_buffer_data(buf).size);
   modkit_loader_buffer_destroy(buf);

   struct Got {
      Waiter<std::pair<modkit_status, std::string>> w;
   } got;
   modkit_loader_async *async = nullptr;
   modkit_loader_async_options options{sizeof options, 0, {"r1", 2}, 0};
   REQUIRE(modkit_loader_dispatch_json_async(
              host.loader.get(), TEST_CATEGORY_ID, "decide", R"({"input": 4})", 12, &options,
              [](void *ud, modkit_status s, modkit_str r) {
                 static_cast<Got *>(ud)->w.set({s, std::string(r.data, r.size)});
              },
              &got, &async) == MODKIT_OK);
   const auto [status, result] = got.w.get();
   modkit_loader_async_release(async);
   CHECK(status == MODKIT_OK);
   CHECK(result == sync_result);
   CHECK(contains(result, R"("module":"async_b")"));

   // Nothing could start: done still hears of it, with the error.
   Got missing;
   CHECK(modkit_loader_dispatch_json_async(host.loader.get(), TEST_CATEGORY_ID, "nope", "{}", 2, nullptr,
                                           [](void *ud, modkit_status s, modkit_str r) {
                                              static_cast<Got *>(ud)->w.set({s, std::string(r.data, r.size)});
                                           },
                                           &missing, &async) == MODKIT_E_NOT_FOUND);
   modkit_loader_async_release(async);
   CHECK(missing.w.get().first == MODKIT_E_NOT_FOUND);
}

TEST_CASE("unload waits for a suspended call; a module that never completes is named and kept loaded") {
   SUBCASE("the wait ends when the call completes") {
      Host host;
      host.load(config(0, "suspend", R"("answers": {"decide": 2})", R"("answers": {})", R"("answers": {})", 100000));
      auto waiter = std::make_shared<Waiter<Result>>();
      std::thread dispatcher([&] { waiter->set(decide_async(host, 1)); });
      std::this_thread::sleep_for(20ms); // the call is suspended in async_a by now
      const auto started = std::chrono::steady_clock::now();
      CHECK(modkit_loader_unload_module(host.loader.get(), "async_a") == MODKIT_OK);
      CHECK(std::chrono::steady_clock::now() - started >= 40ms);
      dispatcher.join();
      CHECK(waiter->get().answer == 2); // answered by the module before it went
      CHECK(host.logged("a:deinit"));
   }
   SUBCASE("a call that does not complete in time") {
      Host host({"/_matrix/"}, 100);
      host.load(config(1, "suspend", R"("answers": {})", R"("answers": {"decide": 2})", R"("answers": {})", 1500000));
      auto waiter = std::make_shared<Waiter<Result>>();
      std::thread dispatcher([&] { waiter->set(decide_async(host, 1)); });
      std::this_thread::sleep_for(50ms); // suspended in async_b by now
      const auto started = std::chrono::steady_clock::now();
      CHECK(modkit_loader_unload_module(host.loader.get(), "async_b") == MODKIT_E_TIMEOUT);
      CHECK(std::chrono::steady_clock::now() - started < 1000ms);
      CHECK(host.logged("module 'async_b' (1 call(s)) never completed them"));
      REQUIRE(modkit_loader_error_count(host.loader.get()) == 1);
      CHECK(contains(modkit_loader_error_at(host.loader.get(), 0)->text, "no longer receives calls"));
      CHECK_FALSE(host.logged("b:deinit")); // kept loaded, not unmapped under its call
      // The host goes on: the other modules still answer, without async_b.
      CHECK(decide_sync(host, 1).kind == modkit::Outcome::Kind::no_opinion);
      dispatcher.join(); // the call completes after 1.5 s, in the kept instance
      CHECK(waiter->get().answer == 2);
      // The next change finds it free and unloads it for good.
      CHECK(modkit_loader_unload_module(host.loader.get(), "async_c") == MODKIT_OK);
      CHECK(host.logged("b:deinit"));
   }
}

TEST_CASE("2,000 reloads under asynchronous traffic: no answer lost, none duplicated") {
   Host host;
   host.load(R"([{"module": "async_a", "config": {"tag": "a", "mode": "race", "quiet": true, "answers": {"decide": 0}}},
                 {"module": "async_b", "config": {"tag": "b", "mode": "suspend", "delay_us": 50, "quiet": true, "answers": {"decide": 2}}},
                 {"module": "async_c", "config": {"tag": "c", "mode": "before_return", "quiet": true, "answers": {"decide": 3}}}])");
   const int reloads = 2000 / sanitizer_scale;
   std::atomic<bool> stop{false};
   std::atomic<uint64_t> started{0}, answered{0}, wrong{0}, twice{0};
   const auto ref = host.loader.slot_ref<&test_callbacks::decide>(TEST_CATEGORY_ID);
   auto traffic = [&] {
      while (!stop.load(std::memory_order_relaxed)) {
         // A bounded number of dispatches in flight, each answered exactly once.
         if (started.load() - answered.load() >= 32) {
            std::this_thread::yield();
            continue;
         }
         auto seen = std::make_shared<std::atomic<int>>(0);
         {
            modkit::ReadGuard guard(host.loader.reader());
            auto slot = guard.slot<&test_callbacks::decide>(ref);
            started.fetch_add(1);
            modkit::async::first_non_zero<int32_t>(
               host.loader.async_context(guard), slot.raw(),
               [](const modkit_loader_entry &e, modkit_call *c, int32_t *r) { return decltype(slot)::fn(e)(e.user_data, c, 0, r); },
               [&, seen](const modkit::Outcome &out, int32_t answer) {
                  if (seen->fetch_add(1) != 0) twice.fetch_add(1);
                  if (out.kind != modkit::Outcome::Kind::decided || answer != 2) wrong.fetch_add(1);
                  answered.fetch_add(1);
               });
         }
      }
   };
   std::vector<std::thread> threads;
   for (int i = 0; i < 2; ++i) threads.emplace_back(traffic);
   const char *names[] = {"async_a", "async_b", "async_c"};
   for (int i = 0; i < reloads; ++i) REQUIRE(modkit_loader_reload_module(host.loader.get(), names[i % 3]) == MODKIT_OK);
   stop = true;
   for (auto &t : threads) t.join();
   // Let the last suspended calls complete.
   for (int i = 0; i < 500 && answered.load() != started.load(); ++i) std::this_thread::sleep_for(2ms);
   MESSAGE("dispatches: ", started.load(), ", reloads: ", reloads);
   CHECK(started.load() > 0);
   CHECK(answered.load() == started.load());
   CHECK(twice.load() == 0);
   CHECK(wrong.load() == 0);
}

// Calls through the invoker with every type of the grammar: values cross as their C types,
// statuses come back with their sign, outputs are zeroed, frames are reused without
// allocating, and one prepared slot serves several threads.
#include "all_types.hpp"
#include "invoke/invoker.hpp"
#include "recorder.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdlib>
#include <limits>
#include <new>
#include <thread>

// Counts heap allocations, so the tests can show that a call allocates nothing.
namespace {
std::atomic<std::size_t> allocations{0};
} // namespace

void *operator new(std::size_t size) {
   allocations.fetch_add(1, std::memory_order_relaxed);
   if (void *p = std::malloc(size == 0 ? 1 : size)) return p;
   throw std::bad_alloc();
}
// g++ pairs the library's operator new with free() once these are inlined, and warns; the
// pair here is this file's own new and delete, which do match.
#if defined(__GNUC__) && !defined(__clang__)
#   pragma GCC diagnostic push
#   pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void operator delete(void *p) noexcept { std::free(p); }
void operator delete(void *p, std::size_t) noexcept { std::free(p); }
#if defined(__GNUC__) && !defined(__clang__)
#   pragma GCC diagnostic pop
#endif

namespace {

using json = nlohmann::json;
using modkit::invoke::buffer_append;
using modkit::invoke::Frame;
using modkit::invoke::Invoker;
using namespace modkit::invoke::test;

// Records every input, then answers with the bitwise complement (never overflows) of each.
modkit_status every(void *ud, modkit_call *call, bool b, std::int32_t i, std::uint32_t u,
                    std::int64_t l, std::uint64_t ul, double d, modkit_str s, modkit_str j,
                    modkit_str raw, const AllTypes *rec, bool *ob, std::int32_t *oi,
                    std::uint32_t *ou, std::int64_t *ol, std::uint64_t *oul, double *od,
                    modkit_buffer *text) {
   Recorder &r = recorder(ud, call);
   r.value("b", b);
   r.value("i", i);
   r.value("u", u);
   r.value("l", l);
   r.value("ul", ul);
   r.value("d", d);
   r.str("s", s);
   r.str("j", j);
   r.str("raw", raw);
   r.value("rec.struct_size", rec->struct_size);
   r.value("rec.b", rec->b);
   r.value("rec.i64", rec->i64);
   r.value("rec.i32", rec->i32);
   r.str("rec.s", rec->s);
   r.value("rec.u32", rec->u32);
   r.value("rec.f64", rec->f64);
   r.value("rec.u64", rec->u64);
   r.str("rec.j", rec->j);
   r.str("rec.raw", rec->raw);
   r.seen.push_back(fmt::format("outputs@entry={} {} {} {} {} {}", *ob, *oi, *ou, *ol, *oul, *od));
   *ob = !b;
   *oi = ~i;
   *ou = ~u;
   *ol = ~l;
   *oul = ~ul;
   *od = -d;
   if (s.data != nullptr && buffer_append(text, s.data, s.size) != MODKIT_OK) {
      return MODKIT_E_INTERNAL;
   }
   const std::string tail = fmt::format("|{}", raw.size);
   if (buffer_append(text, tail.data(), tail.size()) != MODKIT_OK) return MODKIT_E_INTERNAL;
   return r.status;
}

// Answers like every() but records nothing, so it allocates only when the buffer must grow.
modkit_status every_quiet(void *, modkit_call *, bool b, std::int32_t i, std::uint32_t u,
                          std::int64_t l, std::uint64_t ul, double d, modkit_str s, modkit_str,
                          modkit_str, const AllTypes *, bool *ob, std::int32_t *oi,
                          std::uint32_t *ou, std::int64_t *ol, std::uint64_t *oul, double *od,
                          modkit_buffer *text) {
   *ob = !b;
   *oi = ~i;
   *ou = ~u;
   *ol = ~l;
   *oul = ~ul;
   *od = -d;
   return buffer_append(text, s.data, s.size);
}

modkit_status doubles(void *ud, modkit_call *call, double d0, double d1, double d2, double d3,
                      double d4, double d5, double d6, double d7, double d8, double d9,
                      std::int32_t n, double *sum) {
   recorder(ud, call).value("n", n);
   // Each d_k is k + 0.5 scaled by a distinct power of two, so a swapped argument shows.
   *sum = d0 + 2 * d1 + 4 * d2 + 8 * d3 + 16 * d4 + 32 * d5 + 64 * d6 + 128 * d7 + 256 * d8 +
          512 * d9 + n;
   return MODKIT_OK;
}

modkit_status none(void *ud, modkit_call *call) {
   recorder(ud, call).seen.push_back("called");
   return MODKIT_OK;
}

modkit_status echo_status(void *, modkit_call *, std::int32_t status) { return status; }

template <class F>
void (*erase(F *fn))(void) {
   return reinterpret_cast<void (*)(void)>(fn);
}

Invoker prepared(std::uint32_t slot) {
   Invoker invoker;
   std::string error;
   REQUIRE_MESSAGE(Invoker::prepare(all_types_category(), slot, invoker, error), error);
   return invoker;
}

modkit_call *handle(int &storage) { return reinterpret_cast<modkit_call *>(&storage); }

struct EveryRow {
   const char *name;
   json args;
   std::vector<std::string> seen;
   json outputs;
   // The same inputs, as C values, for the typed call.
   bool b;
   std::int32_t i;
   std::uint32_t u;
   std::int64_t l;
   std::uint64_t ul;
   double d;
   modkit_str s, j, raw;
   AllTypes rec;
};

constexpr auto i32_min = std::numeric_limits<std::int32_t>::min();
constexpr auto i32_max = std::numeric_limits<std::int32_t>::max();
constexpr auto u32_max = std::numeric_limits<std::uint32_t>::max();
constexpr auto i64_min = std::numeric_limits<std::int64_t>::min();
constexpr auto i64_max = std::numeric_limits<std::int64_t>::max();
constexpr auto u64_max = std::numeric_limits<std::uint64_t>::max();

std::vector<EveryRow> every_rows() {
   const auto size = static_cast<std::uint32_t>(sizeof(AllTypes));
   std::vector<EveryRow> rows;
   rows.push_back({"extremes and text",
                   {{"b", true},
                    {"i", i32_min},
                    {"u", u32_max},
                    {"l", i64_min},
                    {"ul", u64_max},
                    {"d", -0.25},
                    {"s", "h\u00e9llo"},
                    {"j", {{"k", {1, 2}}}},
                    {"raw", std::string("a\0b", 3)},
                    {"rec",
                     {{"b", true},
                      {"i64", i64_max},
                      {"i32", -1},
                      {"s", ""},
                      {"u32", 7},
                      {"f64", 1e300},
                      {"u64", 1},
                      {"j", "text"}}}},
                   {"b=true",
                    "i=-2147483648",
                    "u=4294967295",
                    "l=-9223372036854775808",
                    "ul=18446744073709551615",
                    "d=-0.25",
                    "s=\"h\u00e9llo\"",
                    R"(j="{"k":[1,2]}")",
                    std::string("raw=\"a\0b\"", 9),
                    fmt::format("rec.struct_size={}", size),
                    "rec.b=true",
                    "rec.i64=9223372036854775807",
                    "rec.i32=-1",
                    R"(rec.s="")",
                    "rec.u32=7",
                    "rec.f64=1e+300",
                    "rec.u64=1",
                    R"(rec.j=""text"")",
                    "rec.raw=absent",
                    "outputs@entry=false 0 0 0 0 0"},
                   {{"ob", false},
                    {"oi", i32_max},
                    {"ou", 0},
                    {"ol", i64_max},
                    {"oul", 0},
                    {"od", 0.25},
                    {"text", "h\u00e9llo|3"}},
                   true,
                   i32_min,
                   u32_max,
                   i64_min,
                   u64_max,
                   -0.25,
                   modkit_str{"h\u00e9llo", 6},
                   modkit_str{R"({"k":[1,2]})", 11},
                   modkit_str{"a\0b", 3},
                   AllTypes{size, true, i64_max, -1, modkit_str{"", 0}, 7, 1e300, 1,
                            modkit_str{"\"text\"", 6}, modkit_str{nullptr, 0}}});
   rows.push_back(
      {"zeros, absent text and integral doubles",
       json::array({false, i32_max, 0, i64_max, 0, 3, nullptr, nullptr, nullptr, json::object()}),
       {"b=false",
        "i=2147483647",
        "u=0",
        "l=9223372036854775807",
        "ul=0",
        "d=3",
        "s=absent",
        "j=absent",
        "raw=absent",
        fmt::format("rec.struct_size={}", size),
        "rec.b=false",
        "rec.i64=0",
        "rec.i32=0",
        "rec.s=absent",
        "rec.u32=0",
        "rec.f64=0",
        "rec.u64=0",
        "rec.j=absent",
        "rec.raw=absent",
        "outputs@entry=false 0 0 0 0 0"},
       {{"ob", true},
        {"oi", i32_min},
        {"ou", u32_max},
        {"ol", i64_min},
        {"oul", u64_max},
        {"od", -3.0},
        {"text", "|0"}},
       false,
       i32_max,
       0,
       i64_max,
       0,
       3.0,
       modkit_str{nullptr, 0},
       modkit_str{nullptr, 0},
       modkit_str{nullptr, 0},
       AllTypes{size, false, 0, 0, modkit_str{nullptr, 0}, 0, 0.0, 0, modkit_str{nullptr, 0},
                modkit_str{nullptr, 0}}});
   return rows;
}

// The typed call with a row's C values; returns the outputs as the invoker would show them.
json typed_every(const EveryRow &row, Recorder &r, modkit_call *call, modkit_status &status) {
   bool ob = false;
   std::int32_t oi = 0;
   std::uint32_t ou = 0;
   std::int64_t ol = 0;
   std::uint64_t oul = 0;
   double od = 0;
   modkit::invoke::Buffer text;
   const every_fn fn = every;
   status = fn(&r, call, row.b, row.i, row.u, row.l, row.ul, row.d, row.s, row.j, row.raw, &row.rec,
               &ob, &oi, &ou, &ol, &oul, &od, modkit::invoke::buffer_handle(text));
   return {{"ob", ob},   {"oi", oi}, {"ou", ou},          {"ol", ol},
           {"oul", oul}, {"od", od}, {"text", text.bytes}};
}

} // namespace

TEST_CASE("every type of the grammar crosses as its C type") {
   const Invoker invoker = prepared(SLOT_EVERY);
   int call_storage = 0;
   modkit_call *call = handle(call_storage);
   for (const EveryRow &row : every_rows()) {
      INFO(std::string(row.name));
      Frame frame;
      std::string error;
      REQUIRE_MESSAGE(invoker.bind(row.args, frame, error), error);
      Recorder dynamic;
      CHECK(invoker.call(erase(every), &dynamic, call, frame) == MODKIT_OK);
      CHECK(dynamic.call == call);
      CHECK(dynamic.seen == row.seen);
      CHECK(invoker.outputs(frame) == row.outputs);

      Recorder typed;
      modkit_status status = MODKIT_E_INTERNAL;
      const json typed_outputs = typed_every(row, typed, call, status);
      CHECK(status == MODKIT_OK);
      CHECK(typed.seen == dynamic.seen);
      CHECK(typed_outputs == invoker.outputs(frame));
   }
}

TEST_CASE("floating-point arguments beyond the registers keep their order") {
   const Invoker invoker = prepared(SLOT_DOUBLES);
   Frame frame;
   std::string error;
   const json args = {{"d0", 0.5}, {"d1", 1.5}, {"d2", 2.5}, {"d3", 3.5}, {"d4", 4.5}, {"d5", 5.5},
                      {"d6", 6.5}, {"d7", 7.5}, {"d8", 8.5}, {"d9", 9.5}, {"n", -3}};
   REQUIRE_MESSAGE(invoker.bind(args, frame, error), error);
   Recorder r;
   int call_storage = 0;
   CHECK(invoker.call(erase(doubles), &r, handle(call_storage), frame) == MODKIT_OK);
   const doubles_fn typed = doubles;
   double sum = 0;
   Recorder typed_r;
   CHECK(typed(&typed_r, nullptr, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5, 9.5, -3, &sum) ==
         MODKIT_OK);
   CHECK(sum == 8702.5);
   CHECK(invoker.outputs(frame) == json{{"sum", sum}});
   CHECK(r.seen == std::vector<std::string>{"n=-3"});
}

TEST_CASE("a slot without parameters takes an empty object or array") {
   const Invoker invoker = prepared(SLOT_NONE);
   CHECK(invoker.params().empty());
   for (const json &args : {json::object(), json::array()}) {
      Frame frame;
      std::string error;
      REQUIRE_MESSAGE(invoker.bind(args, frame, error), error);
      Recorder r;
      CHECK(invoker.call(erase(none), &r, nullptr, frame) == MODKIT_OK);
      CHECK(r.seen == std::vector<std::string>{"called"});
      CHECK(r.call == nullptr);
      CHECK(invoker.outputs(frame) == json::object());
   }
}

TEST_CASE("the callback's status comes back with its sign") {
   const Invoker invoker = prepared(SLOT_STATUS);
   const modkit_status statuses[] = {
      MODKIT_OK, MODKIT_E_INVALID_ARGUMENT, MODKIT_E_DENIED, MODKIT_PENDING, -1, -7, i32_min,
      i32_max};
   Frame frame;
   for (modkit_status status : statuses) {
      CAPTURE(status);
      std::string error;
      REQUIRE_MESSAGE(invoker.bind(json::array({status}), frame, error), error);
      CHECK(invoker.call(erase(echo_status), nullptr, nullptr, frame) == status);
   }
}

TEST_CASE("call refuses a frame it did not bind, without calling") {
   const Invoker invoker = prepared(SLOT_NONE);
   Recorder r;
   Frame frame;
   std::string error;

   SUBCASE("an unbound frame") {
      CHECK(invoker.call(erase(none), &r, nullptr, frame) == MODKIT_E_STATE);
      CHECK(invoker.outputs(frame) == json::object());
   }
   SUBCASE("a frame bound by another slot") {
      const Invoker other = prepared(SLOT_STATUS);
      REQUIRE(other.bind(json::array({1}), frame, error));
      CHECK(invoker.call(erase(none), &r, nullptr, frame) == MODKIT_E_STATE);
   }
   SUBCASE("a frame bound by another preparation of the same slot") {
      const Invoker again = prepared(SLOT_NONE);
      REQUIRE(again.bind(json::object(), frame, error));
      CHECK(invoker.call(erase(none), &r, nullptr, frame) == MODKIT_E_STATE);
   }
   SUBCASE("a frame whose last bind failed") {
      REQUIRE(invoker.bind(json::object(), frame, error));
      CHECK_FALSE(invoker.bind(json::array({1}), frame, error));
      CHECK(invoker.call(erase(none), &r, nullptr, frame) == MODKIT_E_STATE);
   }
   SUBCASE("an invoker that was never prepared") {
      const Invoker empty;
      CHECK_FALSE(empty.prepared());
      CHECK_FALSE(empty.bind(json::object(), frame, error));
      CHECK(error == "the invoker is not prepared");
      CHECK(empty.call(erase(none), &r, nullptr, frame) == MODKIT_E_STATE);
      CHECK(empty.params().empty());
      CHECK(empty.slot() == nullptr);
   }
   SUBCASE("a null function") {
      REQUIRE(invoker.bind(json::object(), frame, error));
      CHECK(invoker.call(nullptr, &r, nullptr, frame) == MODKIT_E_INVALID_ARGUMENT);
   }
   CHECK(r.seen.empty());
}

TEST_CASE("copies of an invoker share its preparation; frames survive a move") {
   const Invoker original = prepared(SLOT_STATUS);
   Frame frame;
   std::string error;
   REQUIRE(original.bind(json::array({-5}), frame, error));
   const Invoker copy = original; // NOLINT(performance-unnecessary-copy-initialization)
   Frame moved = std::move(frame);
   CHECK(copy.call(erase(echo_status), nullptr, nullptr, moved) == -5);
   CHECK(copy.slot() == original.slot());
}

TEST_CASE("a bound frame is called again and again without allocating") {
   const Invoker invoker = prepared(SLOT_EVERY);
   Frame frame;
   std::string error;
   REQUIRE(invoker.bind(every_rows().front().args, frame, error));
   REQUIRE(invoker.call(erase(every_quiet), nullptr, nullptr, frame) == MODKIT_OK); // *buf grows

   const std::size_t before = allocations.load();
   modkit_status status = MODKIT_OK;
   for (int k = 0; k < 100 && status == MODKIT_OK; ++k) {
      status = invoker.call(erase(every_quiet), nullptr, nullptr, frame);
   }
   const std::size_t after = allocations.load();
   CHECK(status == MODKIT_OK);
   CHECK(after == before);
   CHECK(invoker.outputs(frame)["text"] == "h\u00e9llo");
}

TEST_CASE("rebinding text no longer than before reuses the frame's storage") {
   Invoker invite;
   std::string error;
   REQUIRE(Invoker::prepare(*modkit_spam_checker_category(), MODKIT_SPAM_CHECKER_USER_MAY_INVITE,
                            invite, error));
   Frame frame;
   const json first = {{"inviter", "@alice-with-a-long-name:example.org"},
                       {"invitee", "@bob-with-a-long-name:example.org"},
                       {"room_id", "!a-room-with-a-long-id:example.org"}};
   const json second = {{"inviter", "@carol-with-a-long-name:example.org"},
                        {"invitee", "@dave"},
                        {"room_id", "!b-room-with-a-long-id:example.org"}};
   REQUIRE(invite.bind(first, frame, error));
   const std::size_t start = allocations.load();
   const bool bound = invite.bind(second, frame, error);
   const std::size_t end = allocations.load();
   CHECK(bound);
   CHECK(end == start);
}

TEST_CASE("one prepared slot serves several threads, each with its own frame") {
   const Invoker invoker = prepared(SLOT_DOUBLES);
   constexpr int threads = 4;
   constexpr int calls = 500;
   std::atomic<int> wrong{0};
   std::vector<std::thread> pool;
   for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&invoker, &wrong, t] {
         Frame frame;
         std::string error;
         Recorder r;
         for (int k = 0; k < calls; ++k) {
            const int n = t * calls + k;
            const json args = json::array({0, 0, 0, 0, 0, 0, 0, 0, 0, 1.0, n});
            if (!invoker.bind(args, frame, error) ||
                invoker.call(erase(doubles), &r, nullptr, frame) != MODKIT_OK ||
                invoker.outputs(frame) != json{{"sum", 512.0 + n}}) {
               wrong.fetch_add(1);
            }
            r.seen.clear();
         }
      });
   }
   for (std::thread &thread : pool)
      thread.join();
   CHECK(wrong.load() == 0);
}

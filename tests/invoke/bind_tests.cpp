// Arguments that do not fit the signature are refused, each with a message naming the
// argument (and the field), and the frame is left unbound.
#include "all_types.hpp"
#include "invoke/invoker.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <modkit/all.h>

#include <limits>

namespace {

using json = nlohmann::json;
using modkit::invoke::Frame;
using modkit::invoke::Invoker;

Invoker spam_slot(std::uint32_t slot) {
   Invoker invoker;
   std::string error;
   REQUIRE_MESSAGE(Invoker::prepare(*modkit_spam_checker_category(), slot, invoker, error), error);
   return invoker;
}

Invoker test_slot(std::uint32_t slot) {
   Invoker invoker;
   std::string error;
   REQUIRE_MESSAGE(
      Invoker::prepare(modkit::invoke::test::all_types_category(), slot, invoker, error), error);
   return invoker;
}

// Valid arguments of the "every" test slot; each row below spoils one.
json every_args() {
   return {{"b", true}, {"i", 1},   {"u", 2},   {"l", 3},     {"ul", 4},
           {"d", 5.5},  {"s", "s"}, {"j", "j"}, {"raw", "r"}, {"rec", json::object()}};
}

struct Row {
   const char *what;
   json args;
   std::string error;
};

void check_refused(const Invoker &invoker, const std::vector<Row> &rows) {
   for (const Row &row : rows) {
      INFO(std::string(row.what));
      Frame frame;
      std::string error;
      CHECK_FALSE(invoker.bind(row.args, frame, error));
      CHECK(error == row.error);
      CHECK(invoker.call(reinterpret_cast<void (*)(void)>(&check_refused), nullptr, nullptr,
                         frame) == MODKIT_E_STATE);
   }
}

json with(json args, const char *name, json value) {
   args[name] = std::move(value);
   return args;
}

} // namespace

TEST_CASE("arguments in the wrong number, or under the wrong names, are refused") {
   const Invoker join = spam_slot(MODKIT_SPAM_CHECKER_USER_MAY_JOIN_ROOM);
   const json good = {{"user_id", "@u:x"}, {"room_id", "!r:x"}, {"is_invited", false}};
   Frame frame;
   std::string error;
   REQUIRE_MESSAGE(join.bind(good, frame, error), error);

   check_refused(
      join,
      {
         {"too few by position", json::array({"@u:x", "!r:x"}),
          "expected 3 arguments (user_id, room_id, is_invited), got 2"},
         {"too many by position", json::array({"@u:x", "!r:x", true, 0}),
          "expected 3 arguments (user_id, room_id, is_invited), got 4"},
         {"an unknown name", with(good, "user", "@u:x"),
          "unknown argument 'user'; the arguments are user_id, room_id, is_invited"},
         {"the output given", with(good, "result", 0),
          "argument 'result' is an output and takes no value"},
         {"a missing name",
          {{"user_id", "@u:x"}, {"is_invited", true}},
          "missing argument 'room_id'"},
         {"neither object nor array", "@u:x",
          "expected the arguments as an object or an array, got a string"},
         {"null for all", nullptr, "expected the arguments as an object or an array, got null"},
      });

   const Invoker none = test_slot(modkit::invoke::test::SLOT_NONE);
   check_refused(
      none, {
               {"an argument for none", {{"x", 1}}, "unknown argument 'x'; the slot takes none"},
               {"a position for none", json::array({1}), "expected 0 arguments, got 1"},
            });
   const Invoker one = test_slot(modkit::invoke::test::SLOT_STATUS);
   check_refused(one, {{"one expected", json::array(), "expected 1 argument (status), got 0"}});
}

TEST_CASE("values of the wrong JSON type are refused") {
   const Invoker every = test_slot(modkit::invoke::test::SLOT_EVERY);
   Frame frame;
   std::string error;
   REQUIRE_MESSAGE(every.bind(every_args(), frame, error), error);

   check_refused(every,
                 {
                    {"a number for bool", with(every_args(), "b", 1),
                     "argument 'b': expected true or false, got the number 1"},
                    {"a string for bool", with(every_args(), "b", "true"),
                     "argument 'b': expected true or false, got a string"},
                    {"null for bool", with(every_args(), "b", nullptr),
                     "argument 'b': expected true or false, got null"},
                    {"a fraction for i32", with(every_args(), "i", 1.5),
                     "argument 'i': expected an integer, got the number 1.5"},
                    {"an integral double for i64", with(every_args(), "l", 2.0),
                     "argument 'l': expected an integer, got the number 2.0"},
                    {"a string for u64", with(every_args(), "ul", "4"),
                     "argument 'ul': expected an integer, got a string"},
                    {"a boolean for u32", with(every_args(), "u", true),
                     "argument 'u': expected an integer, got true"},
                    {"a string for f64", with(every_args(), "d", "5.5"),
                     "argument 'd': expected a number, got a string"},
                    {"a number for str", with(every_args(), "s", 5),
                     "argument 's': expected a string or null, got the number 5"},
                    {"an object for str", with(every_args(), "s", json::object()),
                     "argument 's': expected a string or null, got an object"},
                    {"an array for bytes", with(every_args(), "raw", json::array({1, 2})),
                     "argument 'raw': expected a string, binary data or null, got an array"},
                    {"binary data for json", with(every_args(), "j", json::binary({1, 2})),
                     "argument 'j': expected a JSON value, got binary data"},
                    {"an array for a struct", with(every_args(), "rec", json::array()),
                     "argument 'rec': expected an object of struct 'all_types', got an array"},
                    {"null for a struct", with(every_args(), "rec", nullptr),
                     "argument 'rec': expected an object of struct 'all_types', got null"},
                 });
}

TEST_CASE("integers outside their type's range are refused") {
   const Invoker every = test_slot(modkit::invoke::test::SLOT_EVERY);
   const auto u64_max = std::numeric_limits<std::uint64_t>::max();
   check_refused(
      every,
      {
         {"i32 above", with(every_args(), "i", 2147483648),
          "argument 'i': 2147483648 is out of range for i32 [-2147483648, 2147483647]"},
         {"i32 below", with(every_args(), "i", -2147483649),
          "argument 'i': -2147483649 is out of range for i32 [-2147483648, 2147483647]"},
         {"u32 negative", with(every_args(), "u", -1),
          "argument 'u': -1 is out of range for u32 [0, 4294967295]"},
         {"u32 above", with(every_args(), "u", 4294967296),
          "argument 'u': 4294967296 is out of range for u32 [0, 4294967295]"},
         {"i64 above", with(every_args(), "l", u64_max),
          "argument 'l': 18446744073709551615 is out of range for i64 [-9223372036854775808, "
          "9223372036854775807]"},
         {"u64 negative", with(every_args(), "ul", -1),
          "argument 'ul': -1 is out of range for u64 [0, 18446744073709551615]"},
      });

   SUBCASE("the limits themselves fit") {
      Frame frame;
      std::string error;
      json args = every_args();
      args["i"] = -2147483648;
      args["u"] = 4294967295u;
      args["l"] = std::numeric_limits<std::int64_t>::min();
      args["ul"] = u64_max;
      CHECK_MESSAGE(every.bind(args, frame, error), error);
      args["i"] = 2147483647;
      args["u"] = 0;
      args["l"] = json::parse("9223372036854775807"); // parsed as unsigned
      CHECK_MESSAGE(every.bind(args, frame, error), error);
   }
}

TEST_CASE("struct fields follow the same rules and unknown fields are refused") {
   const Invoker every = test_slot(modkit::invoke::test::SLOT_EVERY);
   const auto rec = [](json fields) { return with(every_args(), "rec", std::move(fields)); };
   check_refused(
      every,
      {
         {"an unknown field", rec({{"b", true}, {"bb", true}}),
          "argument 'rec': unknown field 'bb' of struct 'all_types'; its fields are b, i64, "
          "i32, s, u32, f64, u64, j, raw"},
         {"struct_size, which the invoker sets", rec({{"struct_size", 8}}),
          "argument 'rec': unknown field 'struct_size' of struct 'all_types'; its fields are b, "
          "i64, i32, s, u32, f64, u64, j, raw"},
         {"a wrong type", rec({{"i32", "1"}}),
          "argument 'rec', field 'i32': expected an integer, got a string"},
         {"out of range", rec({{"u32", -1}}),
          "argument 'rec', field 'u32': -1 is out of range for u32 [0, 4294967295]"},
         {"a bool as a number", rec({{"b", 0}}),
          "argument 'rec', field 'b': expected true or false, got the number 0"},
      });

   const Invoker check_event = spam_slot(MODKIT_SPAM_CHECKER_CHECK_EVENT_FOR_SPAM);
   check_refused(check_event,
                 {{"a misspelt event field",
                   {{"event", {{"sendr", "@s:x"}}}},
                   "argument 'event': unknown field 'sendr' of struct 'event'; its fields are "
                   "event_id, room_id, sender, type, state_key, content_json, unsigned_json, "
                   "origin_server_ts"},
                  {"a timestamp as text",
                   {{"event", {{"origin_server_ts", "now"}}}},
                   "argument 'event', field 'origin_server_ts': expected an integer, got a "
                   "string"}});
}

TEST_CASE("text must be UTF-8 where the type says so") {
   const Invoker every = test_slot(modkit::invoke::test::SLOT_EVERY);
   const std::string bad = "caf\xc3";
   check_refused(every, {
                           {"str", with(every_args(), "s", bad),
                            "argument 's': the string is not valid UTF-8"},
                           {"a str field", with(every_args(), "rec", {{"s", "\xed\xa0\x80"}}),
                            "argument 'rec', field 's': the string is not valid UTF-8"},
                           {"json", with(every_args(), "j", {{"k", bad}}),
                            "argument 'j': the value holds a string that is not valid UTF-8"},
                        });
   SUBCASE("bytes take any bytes") {
      Frame frame;
      std::string error;
      CHECK_MESSAGE(every.bind(with(every_args(), "raw", bad), frame, error), error);
      CHECK_MESSAGE(every.bind(with(every_args(), "raw", json::binary({0xff, 0})), frame, error),
                    error);
   }
   SUBCASE("overlong forms, surrogates and code points past U+10FFFF are not UTF-8") {
      for (const char *text : {"\xc0\xaf", "\xe0\x80\xaf", "\xed\xbf\xbf", "\xf4\x90\x80\x80",
                               "\xf8\x88\x80\x80\x80", "\x80", "\xe2\x82"}) {
         CAPTURE(text);
         Frame frame;
         std::string error;
         CHECK_FALSE(every.bind(with(every_args(), "s", text), frame, error));
      }
      Frame frame;
      std::string error;
      CHECK_MESSAGE(every.bind(with(every_args(), "s", "\xf4\x8f\xbf\xbf \xe2\x82\xac \xc2\xa9"),
                               frame, error),
                    error);
   }
}

// abi_diff_tests.cpp - `abi diff`'s classification of every kind of change, on copies of this
// build's ABI description edited the way the corresponding header change would edit them.
#include "abi_diff.hpp"
#include "abi_json.hpp"
#include "abi_table.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <string>

namespace {

using modkit::cli::AbiChange;
using modkit::cli::AbiModel;

AbiModel base() { return modkit::cli::current_abi_model(); }

template <class T>
T &named(std::vector<T> &items, const std::string &name) {
   const auto it = std::find_if(items.begin(), items.end(), [&](const T &i) { return i.name == name; });
   REQUIRE_MESSAGE(it != items.end(), name);
   return *it;
}

modkit::cli::CategoryInfo &category(AbiModel &m, const std::string &id) {
   const auto it = std::find_if(m.categories.begin(), m.categories.end(), [&](const auto &c) { return c.id == id; });
   REQUIRE(it != m.categories.end());
   return *it;
}

size_t count(const std::vector<AbiChange> &changes, AbiChange::Class cls) {
   return size_t(std::count_if(changes.begin(), changes.end(), [&](const AbiChange &c) { return c.cls == cls; }));
}

// The change of class cls whose subject and message contain the given texts.
bool has(const std::vector<AbiChange> &changes, AbiChange::Class cls, const std::string &subject, const std::string &text) {
   return std::any_of(changes.begin(), changes.end(), [&](const AbiChange &c) {
      return c.cls == cls && c.subject.find(subject) != std::string::npos && c.message.find(text) != std::string::npos;
   });
}

std::string dump(const std::vector<AbiChange> &changes) {
   std::string out;
   for (const AbiChange &c : changes) out += std::string(class_name(c.cls)) + " " + c.subject + ": " + c.message + "\n";
   return out;
}

constexpr auto compatible = AbiChange::Class::compatible;
constexpr auto breaking = AbiChange::Class::breaking;
constexpr auto note = AbiChange::Class::note;

} // namespace

TEST_CASE("abi diff: identical descriptions have no differences") {
   CHECK(modkit::cli::diff_abi(base(), base()).empty());
}

TEST_CASE("abi diff: growth is compatible") {
   AbiModel o = base(), n = base();
   SUBCASE("a field appended to a struct with struct_size, with a minor bump") {
      n.abi_minor = o.abi_minor + 1;
      auto &api = named(n.structs, "modkit_host_api");
      api.fields.push_back({"complete_call", "int32_t (*)(modkit_call *, int32_t)", api.size, 8});
      api.size += 8;
      const auto changes = modkit::cli::diff_abi(o, n);
      INFO(dump(changes));
      CHECK(has(changes, compatible, "struct modkit_host_api", "field complete_call appended at offset"));
      CHECK(has(changes, compatible, "ABI version", "minor version bumped"));
      CHECK(count(changes, breaking) == 0);
      CHECK(count(changes, note) == 0);
   }
   SUBCASE("the same without a minor bump is noted, not refused") {
      auto &event = named(n.structs, "modkit_event");
      event.fields.push_back({"redacts", "modkit_str", event.size, 16});
      event.size += 16;
      const auto changes = modkit::cli::diff_abi(o, n);
      INFO(dump(changes));
      CHECK(count(changes, breaking) == 0);
      CHECK(has(changes, note, "ABI version", "bump MODKIT_ABI_VERSION_MINOR"));
   }
   SUBCASE("a new slot appended with a category minor bump") {
      auto &spam = category(n, "modkit.spam_checker");
      spam.minor += 1;
      spam.slots.push_back({"check_poll_for_spam", uint32_t(spam.slots.size()), spam.callbacks_size,
                            "event: &event, result: *i32", spam.minor, "first_non_zero", "propagate", "", 4});
      spam.callbacks_size += 8;
      const auto changes = modkit::cli::diff_abi(o, n);
      INFO(dump(changes));
      CHECK(has(changes, compatible, "category modkit.spam_checker", "slot check_poll_for_spam appended"));
      CHECK(has(changes, compatible, "category modkit.spam_checker", "minor version bumped from 1.0 to 1.1"));
      CHECK(count(changes, breaking) == 0);
   }
   SUBCASE("a new category, struct, status code and result value") {
      auto cat = category(n, "modkit.account_data");
      cat.id = "modkit.media_scanner";
      n.categories.push_back(cat);
      auto s = named(n.structs, "modkit_user_profile");
      s.name = "modkit_room_profile";
      n.structs.push_back(s);
      n.constants.push_back({"MODKIT_E_BUSY", "modkit_status", 13});
      n.abi_minor += 1;
      const auto changes = modkit::cli::diff_abi(o, n);
      INFO(dump(changes));
      CHECK(has(changes, compatible, "category modkit.media_scanner", "added"));
      CHECK(has(changes, compatible, "struct modkit_room_profile", "added"));
      CHECK(has(changes, compatible, "constant MODKIT_E_BUSY", "added with value 13"));
      CHECK(count(changes, breaking) == 0);
   }
}

TEST_CASE("abi diff: every break is refused, with a line saying the major did not change") {
   AbiModel o = base(), n = base();
   std::string subject, text;
   SUBCASE("a field inserted mid-struct") {
      auto &api = named(n.structs, "modkit_host_api");
      for (auto &f : api.fields) {
         if (f.offset >= 24) f.offset += 8;
      }
      api.fields.insert(api.fields.begin() + 5, {"flags", "uint64_t", 24, 8});
      api.size += 8;
      subject = "struct modkit_host_api";
      text = "field flags inserted at offset 24";
      CHECK(has(modkit::cli::diff_abi(o, n), breaking, subject, "field log moved from offset 24 to 32"));
   }
   SUBCASE("a field removed") {
      auto &m = named(n.structs, "modkit_module");
      m.fields.erase(m.fields.begin() + 5);
      subject = "struct modkit_module";
      text = "field description removed";
   }
   SUBCASE("fields reordered") {
      auto &r = named(n.structs, "modkit_http_request");
      std::swap(r.fields[1].offset, r.fields[2].offset);
      subject = "struct modkit_http_request";
      text = "field method moved from offset 8 to 24";
   }
   SUBCASE("a parameter added to a function pointer") {
      auto &f = named(named(n.structs, "modkit_host_api").fields, "report_error");
      f.type = "void (*)(modkit_error_sink *, int32_t, const char *, const char *, int32_t)";
      subject = "struct modkit_host_api";
      text = "field report_error retyped from void (*)(modkit_error_sink *, int32_t, const char *, const char *) to";
   }
   SUBCASE("a field appended to a struct without struct_size") {
      auto &s = named(n.structs, "modkit_str");
      s.fields.push_back({"flags", "uint64_t", s.size, 8});
      s.size += 8;
      subject = "struct modkit_str";
      text = "has no struct_size";
   }
   SUBCASE("a constant's value changed") {
      named(n.constants, "MODKIT_E_CONFIG").value = 50;
      subject = "constant MODKIT_E_CONFIG";
      text = "value changed from 5 to 50";
   }
   SUBCASE("a constant removed") {
      auto &c = n.constants;
      c.erase(std::find_if(c.begin(), c.end(), [](const auto &k) { return k.name == "MODKIT_E_DENIED"; }));
      subject = "constant MODKIT_E_DENIED";
      text = "removed";
   }
   SUBCASE("a slot removed") {
      auto &slots = category(n, "modkit.spam_checker").slots;
      slots.pop_back();
      subject = "category modkit.spam_checker";
      text = "slot check_login_for_spam removed";
   }
   SUBCASE("a slot's signature changed") {
      named(category(n, "modkit.spam_checker").slots, "user_may_invite").signature = "inviter: str, invitee: str, result: *i32";
      subject = "category modkit.spam_checker";
      text = "slot user_may_invite: signature changed";
   }
   SUBCASE("a slot's policy changed") {
      named(category(n, "modkit.spam_checker").slots, "user_may_invite").on_error = "fail_open";
      subject = "category modkit.spam_checker";
      text = "slot user_may_invite: error policy changed from propagate to fail_open";
   }
   SUBCASE("a slot's offset changed") {
      named(category(n, "modkit.spam_checker").slots, "user_may_invite").offset += 8;
      subject = "category modkit.spam_checker";
      text = "slot user_may_invite: offset changed";
   }
   SUBCASE("a slot appended without a category minor bump") {
      auto &spam = category(n, "modkit.spam_checker");
      spam.slots.push_back({"check_poll_for_spam", uint32_t(spam.slots.size()), spam.callbacks_size, "result: *i32",
                            0, "first_non_zero", "propagate", "", 4});
      spam.callbacks_size += 8;
      subject = "category modkit.spam_checker";
      text = "slot check_poll_for_spam appended, but the category version is 1.0";
   }
   SUBCASE("a category removed") {
      n.categories.erase(n.categories.begin());
      subject = "category modkit.spam_checker";
      text = "removed";
   }
   SUBCASE("a struct removed") {
      n.structs.erase(n.structs.begin());
      subject = "struct modkit_str";
      text = "removed";
   }
   SUBCASE("a function type's signature changed") {
      named(n.function_types, "modkit_module_entry_fn").type = "const modkit_module * (*)(uint16_t)";
      subject = "function type modkit_module_entry_fn";
      text = "changed from";
   }
   SUBCASE("a category type's field moved") {
      auto &types = category(n, "modkit.spam_checker").types;
      named(types.front().fields, "sender").offset += 8;
      subject = "category modkit.spam_checker";
      text = "type event: field sender changed";
   }
   SUBCASE("the minor version went back") {
      o.abi_minor = 3;
      subject = "ABI version";
      text = "minor version went back from 1.3 to 1.1";
   }
   const auto changes = modkit::cli::diff_abi(o, n);
   INFO(dump(changes));
   CHECK(has(changes, breaking, subject, text));
   CHECK(has(changes, breaking, "ABI version", "without a major version bump"));
}

TEST_CASE("abi diff: a break with a major bump is still a break, but says why") {
   AbiModel o = base(), n = base();
   n.abi_major = o.abi_major + 1;
   n.abi_minor = 0;
   named(n.constants, "MODKIT_E_CONFIG").value = 50;
   const auto changes = modkit::cli::diff_abi(o, n);
   INFO(dump(changes));
   CHECK(has(changes, breaking, "ABI version", "every module must be rebuilt"));
   CHECK(has(changes, breaking, "constant MODKIT_E_CONFIG", "value changed"));
   CHECK_FALSE(has(changes, breaking, "ABI version", "without a major version bump"));
}

TEST_CASE("abi diff ignores the runtime, which describes a machine") {
   AbiModel o = base(), n = base();
   o.runtime = std::vector<modkit::cli::RuntimeVersion>{{"GLIBC", "2.36", "/lib/libc.so.6"}};
   n.runtime = std::vector<modkit::cli::RuntimeVersion>{{"GLIBC", "2.31", "/lib/libc.so.6"}};
   CHECK(modkit::cli::diff_abi(o, n).empty());
}

TEST_CASE("the ABI description survives a round trip through JSON") {
   AbiModel m = base();
   m.runtime = std::vector<modkit::cli::RuntimeVersion>{{"GLIBCXX", "3.4.30", "/usr/lib/libstdc++.so.6"}};
   const nlohmann::json doc = modkit::cli::abi_to_json(m);
   const AbiModel back = modkit::cli::abi_from_json(doc);
   CHECK(modkit::cli::abi_to_json(back) == doc);
   CHECK(modkit::cli::diff_abi(m, back).empty());
   CHECK(doc["format"] == "modkit-abi/1");
   CHECK(doc["abi"]["version"] == "1.1");
   for (const char *key : {"format", "abi", "modkit_version", "target", "structs", "opaque_types", "function_types",
                           "constants", "categories", "runtime"})
      CHECK_MESSAGE(doc.contains(key), key);
}

TEST_CASE("a document that is not an ABI description is refused with the place it goes wrong") {
   nlohmann::json doc = modkit::cli::abi_to_json(base());
   SUBCASE("wrong format") {
      doc["format"] = "something-else/1";
      CHECK_THROWS_WITH_AS(modkit::cli::abi_from_json(doc), "/format: expected \"modkit-abi/1\", found \"something-else/1\"",
                           modkit::cli::AbiFormatError);
   }
   SUBCASE("missing key") {
      doc["structs"][2]["fields"][1].erase("offset");
      CHECK_THROWS_WITH_AS(modkit::cli::abi_from_json(doc), "/structs/2/fields/1: missing key \"offset\"",
                           modkit::cli::AbiFormatError);
   }
   SUBCASE("wrong type") {
      doc["constants"][0]["value"] = "zero";
      CHECK_THROWS_WITH_AS(modkit::cli::abi_from_json(doc), "/constants/0/value: expected an integer, found string",
                           modkit::cli::AbiFormatError);
   }
   SUBCASE("out of range") {
      doc["abi"]["major"] = -1;
      CHECK_THROWS_AS(modkit::cli::abi_from_json(doc), modkit::cli::AbiFormatError);
   }
   SUBCASE("not an object") {
      CHECK_THROWS_WITH_AS(modkit::cli::abi_from_json(nlohmann::json::array()),
                           "the document: expected an object, found array", modkit::cli::AbiFormatError);
   }
}

// Every slot of every standard category prepares, and binds the JSON form of each of its
// parameters (docs/signature-grammar.md), structs filled field by field.
#include "invoke/invoker.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <modkit/all.h>

namespace {

using json = nlohmann::json;
using modkit::invoke::Field;
using modkit::invoke::Frame;
using modkit::invoke::Invoker;
using modkit::invoke::Kind;
using modkit::invoke::Param;

// A valid, non-zero JSON value of a scalar kind.
json sample(Kind kind) {
   switch (kind) {
   case Kind::boolean: return true;
   case Kind::i32: return -1;
   case Kind::i64: return -2;
   case Kind::u32:
   case Kind::u64: return 3;
   case Kind::f64: return 0.5;
   case Kind::json: return {{"k", "v"}};
   default: return "text";
   }
}

json sample(const Param &p) {
   if (p.kind != Kind::record) return sample(p.kind);
   json fields = json::object();
   for (const Field &f : p.fields) fields[f.name] = sample(f.kind);
   return fields;
}

} // namespace

TEST_CASE("every slot of every standard category prepares and binds") {
   const modkit_category *const categories[] = {
      modkit_spam_checker_category(),
      modkit_third_party_rules_category(),
      modkit_presence_router_category(),
      modkit_account_validity_category(),
      modkit_password_auth_provider_category(),
      modkit_background_update_controller_category(),
      modkit_account_data_category(),
      modkit_extra_unsigned_fields_category(),
      modkit_media_repository_category(),
      modkit_ratelimit_category(),
      modkit_federation_category(),
   };
   for (const modkit_category *category : categories) {
      for (std::uint32_t i = 0; i < category->slot_count; ++i) {
         const std::string slot = std::string(category->id) + "." + category->slots[i].name;
         INFO(slot);
         Invoker invoker;
         std::string error;
         REQUIRE_MESSAGE(Invoker::prepare(*category, i, invoker, error), error);

         json args = json::object();
         json zeros = json::object();
         for (const Param &p : invoker.params()) {
            if (p.out) {
               zeros[p.name] = p.kind == Kind::buf       ? json("")
                               : p.kind == Kind::boolean ? json(false)
                               : p.kind == Kind::f64     ? json(0.0)
                                                         : json(0);
            } else {
               args[p.name] = sample(p);
            }
         }
         Frame frame;
         CHECK_MESSAGE(invoker.bind(args, frame, error), error);
         CHECK(invoker.outputs(frame) == zeros); // outputs start zeroed
      }
   }
}

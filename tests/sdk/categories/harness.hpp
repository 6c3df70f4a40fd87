// What the category tests share: a fake host offering every standard category, an Api bound to
// it as a module's constructor has one, and helpers to call the registered C slots.
#pragma once

#include "fake_host.hpp"

#include <modkit/all.h>
#include <modkit/sdk.hpp>

#include <doctest/doctest.h>

#include <memory>
#include <string>

namespace category_tests {

inline modkit_str absent() { return {nullptr, 0}; }

// Registration is open (the host is inside init) until the harness goes away.
struct Harness {
   FakeHost host;
   std::unique_ptr<modkit::Api> api;
   modkit_call call;

   Harness() {
      host.categories = {MODKIT_SPAM_CHECKER_ID,
                         MODKIT_THIRD_PARTY_RULES_ID,
                         MODKIT_PRESENCE_ROUTER_ID,
                         MODKIT_ACCOUNT_VALIDITY_ID,
                         MODKIT_PASSWORD_AUTH_PROVIDER_ID,
                         MODKIT_BACKGROUND_UPDATE_CONTROLLER_ID,
                         MODKIT_ACCOUNT_DATA_ID,
                         MODKIT_EXTRA_UNSIGNED_FIELDS_ID,
                         MODKIT_MEDIA_REPOSITORY_ID,
                         MODKIT_RATELIMIT_ID,
                         MODKIT_FEDERATION_ID};
      api = std::make_unique<modkit::Api>(
         modkit::detail::HostContext{host.api(), host.host(), "harness", "every category"});
      host.begin_init();
      call.request_id = "req-1";
   }

   // The C struct the module registered for category, as the host copied it.
   template <class C>
   C callbacks(const char *category) {
      const Registration *r = host.find_registration(category);
      REQUIRE(r != nullptr);
      REQUIRE(r->callbacks.size() == sizeof(C));
      return r->as<C>();
   }

   void *user_data(const char *category) {
      const Registration *r = host.find_registration(category);
      REQUIRE(r != nullptr);
      return r->user_data;
   }

   // True when the host logged an error line containing fragment.
   bool logged_error(const std::string &fragment) const { return host.logged(MODKIT_LOG_ERROR, fragment); }
};

} // namespace category_tests

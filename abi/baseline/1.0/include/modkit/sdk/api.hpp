// modkit/sdk/api.hpp - what a module's constructor receives: registration and host services.
#pragma once

#include <modkit/sdk/category.hpp>
#include <modkit/sdk/detail/barrier.hpp>
#include <modkit/sdk/detail/host_context.hpp>
#include <modkit/sdk/error.hpp>
#include <modkit/sdk/log.hpp>
#include <modkit/sdk/web.hpp>

#include <modkit/host.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace modkit {

struct SpamCheckerCallbacks;
struct ThirdPartyRulesCallbacks;
struct PresenceRouterCallbacks;
struct AccountValidityCallbacks;
struct PasswordAuthProviderCallbacks;
struct BackgroundUpdateControllerCallbacks;
struct AccountDataCallbacks;
struct ExtraUnsignedFieldsCallbacks;
struct MediaRepositoryCallbacks;
struct RatelimitCallbacks;
struct FederationCallbacks;

namespace detail {

struct WebBinding {
   HostContext context;
   WebHandler handler;
   std::string where; // "web resource <path>", for failure messages
};

inline modkit_status MODKIT_ABI web_thunk(void *user_data, modkit_call *call,
                                          const modkit_http_request *request,
                                          modkit_http_response *response) noexcept {
   const auto *binding = static_cast<const WebBinding *>(user_data);
   return barrier(
      [&] {
         if (request == nullptr || response == nullptr)
            throw Error(MODKIT_E_INVALID_ARGUMENT, "the host passed a null request or response");
         Call c(binding->context.api, call);
         const Request req(request);
         Response resp(binding->context.api, response);
         binding->handler(c, req, resp);
      },
      LogToHost{&binding->context, binding->where.c_str()});
}

struct ApiAccess;

} // namespace detail

// The module's view of the host, handed to its constructor. The instance owns everything it
// registers through it: callbacks, web resources and caches stay registered, and their
// bindings alive, until the module is unloaded (deinit). The SDK creates the Api; a module
// keeps a reference to it if it needs host services after its constructor.
// Thread rule: register_* are [init-only]: call them from the constructor (the host refuses
// them later, and they then throw Error(MODKIT_E_STATE)). Everything else is [thread-safe].
class Api {
public:
   explicit Api(const detail::HostContext &context) noexcept : context_(context) {}
   Api(const Api &) = delete;
   Api &operator=(const Api &) = delete;

   // The module's name, as given to MODKIT_MODULE.
   const char *module_name() const noexcept { return context_.module_name; }

   // Logging through the host: api.log().info("loaded {} words", n).
   Logger log() const noexcept { return Logger(context_); }

   // True when the host offers the capability with this versioned ID, e.g.
   // "modkit.spam_checker/1" or "modkit.web_resources/1".
   bool has_capability(const char *capability_id) const noexcept {
      return capability_id != nullptr && context_.api->has_capability(context_.host, capability_id);
   }

   // The host-specific service with this versioned ID ("vendor.name/2"), or nullptr. The
   // pointer is owned by the host and valid until the module is unloaded.
   template <class T>
   const T *get_extension(const char *extension_id) const noexcept {
      if (extension_id == nullptr) return nullptr;
      return static_cast<const T *>(context_.api->get_extension(context_.host, extension_id));
   }

   // ---- registration [init-only] ----

   // Registers the callbacks that are set, for the category Callbacks belongs to. The category
   // must be listed in MODKIT_MODULE's registers argument (the loader refuses it otherwise).
   // A category rule spanning several slots (paired callbacks, a required one) is checked
   // first and refused with Error(MODKIT_E_INVALID_ARGUMENT), so the mistake shows at init.
   template <class Callbacks>
   void register_callbacks(Callbacks callbacks) {
      using Traits = CategoryTraits<Callbacks>;
      const std::string problem = detail::category_problem<Traits>(callbacks);
      if (!problem.empty())
         throw Error(MODKIT_E_INVALID_ARGUMENT,
                     fmt::format("{}: could not register callbacks of category {}: {}",
                                 context_.module_name, Traits::id(), problem));
      make_room();
      auto binding = std::make_unique<detail::CallbackBinding<Callbacks>>(
         detail::CallbackBinding<Callbacks>{context_, std::move(callbacks)});
      typename Traits::c_callbacks c{};
      c.struct_size = sizeof c;
      detail::fill_slots(c, binding->callbacks,
                         std::make_index_sequence<std::tuple_size_v<decltype(Traits::slots)>>{});
      const modkit_status status = context_.api->register_callbacks(
         context_.host, Traits::id(), Traits::major, Traits::minor, &c, binding.get());
      check_registration(status, "callbacks of category", Traits::id());
      keep(std::move(binding));
   }

   // Synapse's register_spam_checker_callbacks; see categories/spam_checker.hpp.
   void register_spam_checker_callbacks(SpamCheckerCallbacks callbacks);
   // Synapse's register_third_party_rules_callbacks; see categories/third_party_rules.hpp.
   void register_third_party_rules_callbacks(ThirdPartyRulesCallbacks callbacks);
   // Synapse's register_presence_router_callbacks; see categories/presence_router.hpp.
   void register_presence_router_callbacks(PresenceRouterCallbacks callbacks);
   // Synapse's register_account_validity_callbacks; see categories/account_validity.hpp.
   void register_account_validity_callbacks(AccountValidityCallbacks callbacks);
   // Synapse's register_password_auth_provider_callbacks; see
   // categories/password_auth_provider.hpp.
   void register_password_auth_provider_callbacks(PasswordAuthProviderCallbacks callbacks);
   // Synapse's register_background_update_controller_callbacks; see
   // categories/background_update_controller.hpp.
   void register_background_update_controller_callbacks(
      BackgroundUpdateControllerCallbacks callbacks);
   // Synapse's register_account_data_callbacks; see categories/account_data.hpp.
   void register_account_data_callbacks(AccountDataCallbacks callbacks);
   // Synapse's register_add_extra_fields_to_unsigned_client_event_callbacks; see
   // categories/extra_unsigned_fields.hpp.
   void register_extra_unsigned_fields_callbacks(ExtraUnsignedFieldsCallbacks callbacks);
   // Synapse's register_media_repository_callbacks; see categories/media_repository.hpp.
   void register_media_repository_callbacks(MediaRepositoryCallbacks callbacks);
   // Synapse's register_ratelimit_callbacks; see categories/ratelimit.hpp.
   void register_ratelimit_callbacks(RatelimitCallbacks callbacks);
   // Synapse's register_federation_callbacks; see categories/federation.hpp.
   void register_federation_callbacks(FederationCallbacks callbacks);

   // Serves handler at path (absolute and normalised, e.g. "/_modkit/my_module/hello").
   // Returns false when a module earlier in the host config already serves path: as in
   // Synapse, the first module keeps it and the host logs a warning, so this is not an error.
   // Any other refusal (a reserved or malformed path, a call after init) throws Error.
   bool register_web_resource(std::string_view path, WebHandler handler) {
      if (!handler) throw Error(MODKIT_E_INVALID_ARGUMENT, "register_web_resource: no handler");
      std::string p(path);
      make_room();
      auto binding = std::make_unique<detail::WebBinding>(
         detail::WebBinding{context_, std::move(handler), "web resource " + p});
      const modkit_status status =
         context_.api->register_web_resource(context_.host, p.c_str(), &detail::web_thunk, binding.get());
      if (status == MODKIT_E_CONFLICT) return false;
      check_registration(status, "web resource", p.c_str());
      keep(std::move(binding));
      return true;
   }

   // Makes a cache known to the host under name, so the host or another module can invalidate
   // it. modkit::cached calls this; user_data must stay valid until deinit.
   void register_cached_function(const std::string &name, modkit_cache_invalidate_fn invalidate,
                                 void *user_data) {
      const modkit_status status =
         context_.api->register_cached_function(context_.host, name.c_str(), invalidate, user_data);
      check_registration(status, "cached function", name.c_str());
   }

   // ---- services [thread-safe] ----

   // Invalidates the entry for key (a JSON array of the function's arguments) of the cached
   // function name registered by module_name (empty: this module). Error(MODKIT_E_NOT_FOUND)
   // when no such cache is registered.
   void invalidate_cache(std::string_view module_name, std::string_view name,
                         const nlohmann::json &key) const {
      if (!key.is_array()) throw Error(MODKIT_E_INVALID_ARGUMENT, "a cache key is a JSON array");
      const std::string text = key.dump();
      const modkit_str key_json{text.data(), text.size()};
      invalidate(module_name, name, &key_json);
   }

   // Invalidates every entry of that cached function.
   void invalidate_cache_all(std::string_view module_name, std::string_view name) const {
      invalidate(module_name, name, nullptr);
   }

private:
   friend struct detail::ApiAccess;

   void invalidate(std::string_view module_name, std::string_view name, const modkit_str *key) const {
      const std::string module(module_name), cache(name);
      const modkit_status status = context_.api->invalidate_cache(
         context_.host, module.empty() ? nullptr : module.c_str(), cache.c_str(), key);
      if (status != MODKIT_OK)
         throw Error(status, fmt::format("could not invalidate cache {}{}{}: {}", module,
                                         module.empty() ? "" : ".", cache, modkit_status_name(status)));
   }

   // Throws the refusal as an Error whose message says what to do about it. Nothing here runs
   // when the registration succeeded.
   void check_registration(modkit_status status, const char *kind, const char *name) const {
      if (status == MODKIT_OK) return;
      std::string hint;
      if (status == MODKIT_E_STATE)
         hint = "; register only from the module's constructor";
      else if (status == MODKIT_E_NOT_FOUND && std::string_view(kind) == "callbacks of category")
         hint = fmt::format("; the host lacks the category or the module's manifest does not list "
                            "it (registers: \"{}\"; name it in MODKIT_MODULE's last argument)",
                            context_.registers);
      throw Error(status, fmt::format("{}: could not register {} {}: {}{}", context_.module_name,
                                      kind, name, modkit_status_name(status), hint));
   }

   // Called before asking the host, so that keep() cannot fail once the host holds the
   // binding's address.
   void make_room() { owned_.reserve(owned_.size() + 1); }

   // Type-erased ownership without virtual functions: each binding comes with its deleter.
   template <class T>
   void keep(std::unique_ptr<T> binding) noexcept {
      owned_.emplace_back(binding.release(), [](void *p) { delete static_cast<T *>(p); });
   }

   detail::HostContext context_;
   std::vector<std::unique_ptr<void, void (*)(void *)>> owned_;
};

namespace detail {
// For SDK types (cached) that need the host context of an Api.
struct ApiAccess {
   static const HostContext &context(const Api &api) noexcept { return api.context_; }
};
} // namespace detail

} // namespace modkit

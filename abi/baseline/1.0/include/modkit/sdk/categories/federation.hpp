// modkit/sdk/categories/federation.hpp - typed registration for "modkit.federation".
//
// Synapse's federation callback, with the same name. Set it and pass the struct to
// api.register_federation_callbacks(); MODKIT_MODULE's last argument must list
// "modkit.federation". It is a notification: every module runs, and an exception is logged
// without stopping the others.
#pragma once

#include <modkit/sdk/api.hpp>
#include <modkit/sdk/callback.hpp>
#include <modkit/sdk/categories/objects.hpp>
#include <modkit/sdk/category.hpp>

#include <modkit/categories/federation.h>

#include <cstdint>
#include <tuple>
#include <utility>

namespace modkit {

// Thread rule: fill it in the constructor and hand it to register_federation_callbacks; the
// host then calls the callback from several threads at once.
struct FederationCallbacks {
   // Events were delivered to delivery.server_name() by delivery.method(). One request's events
   // may come in several batches; an empty batch is never reported.
   Callback<void(const FederationDelivery &delivery)> on_event_delivered_over_federation;
};

template <>
struct CategoryTraits<FederationCallbacks> {
   using callbacks = FederationCallbacks;
   using c_callbacks = modkit_federation_callbacks;
   static const char *id() noexcept { return MODKIT_FEDERATION_ID; }
   static constexpr uint16_t major = MODKIT_FEDERATION_MAJOR;
   static constexpr uint16_t minor = MODKIT_FEDERATION_MINOR;
   static constexpr auto slots =
      std::make_tuple(MODKIT_SDK_SLOT(on_event_delivered_over_federation));
   static_assert(std::tuple_size_v<decltype(slots)> == MODKIT_FEDERATION_SLOT_COUNT,
                 "every slot of the C category has a C++ callback");
};

// [init-only]
inline void Api::register_federation_callbacks(FederationCallbacks callbacks) {
   register_callbacks(std::move(callbacks));
}

} // namespace modkit

// modkit/sdk/categories/extra_unsigned_fields.hpp - typed registration for
// "modkit.extra_unsigned_fields".
//
// Synapse's add_field_to_unsigned callback (registered there with
// register_add_extra_fields_to_unsigned_client_event_callbacks). Set it and pass the struct to
// api.register_extra_unsigned_fields_callbacks(); MODKIT_MODULE's last argument must list
// "modkit.extra_unsigned_fields". Every module runs and the host merges the objects key by key,
// the last module in the host config winning; keys the host sets itself are never overridden.
#pragma once

#include <modkit/sdk/api.hpp>
#include <modkit/sdk/callback.hpp>
#include <modkit/sdk/categories/objects.hpp>
#include <modkit/sdk/category.hpp>

#include <modkit/categories/extra_unsigned_fields.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <tuple>
#include <utility>

namespace modkit {

// Thread rule: fill it in the constructor and hand it to
// register_extra_unsigned_fields_callbacks; the host then calls the callback from several
// threads at once.
struct ExtraUnsignedFieldsCallbacks {
   // Extra keys for the "unsigned" object of event as a client receives it: a JSON object
   // (null or {} adds none). Called for every event served to a client, so keep it fast.
   Callback<nlohmann::json(const Event &event)> add_field_to_unsigned;
};

namespace detail {

// Nothing is written for null or {}; anything but an object is the module's mistake.
struct UnsignedFieldsWriter {
   static void put(const modkit_host_api *api, nlohmann::json &&fields, modkit_buffer *out) {
      if (fields.is_null() || (fields.is_object() && fields.empty())) return;
      if (!fields.is_object())
         throw Error(MODKIT_E_INVALID_ARGUMENT, "add_field_to_unsigned must answer a JSON object, "
                                                "not " + std::string(fields.type_name()));
      ToC<modkit_buffer>::put(api, out, fields);
   }
};

} // namespace detail

template <>
struct CategoryTraits<ExtraUnsignedFieldsCallbacks> {
   using callbacks = ExtraUnsignedFieldsCallbacks;
   using c_callbacks = modkit_extra_unsigned_fields_callbacks;
   static const char *id() noexcept { return MODKIT_EXTRA_UNSIGNED_FIELDS_ID; }
   static constexpr uint16_t major = MODKIT_EXTRA_UNSIGNED_FIELDS_MAJOR;
   static constexpr uint16_t minor = MODKIT_EXTRA_UNSIGNED_FIELDS_MINOR;
   static constexpr auto slots =
      std::make_tuple(MODKIT_SDK_SLOT_WRITE(add_field_to_unsigned, detail::UnsignedFieldsWriter));
   static_assert(std::tuple_size_v<decltype(slots)> == MODKIT_EXTRA_UNSIGNED_FIELDS_SLOT_COUNT,
                 "every slot of the C category has a C++ callback");
};

// [init-only]
inline void Api::register_extra_unsigned_fields_callbacks(ExtraUnsignedFieldsCallbacks callbacks) {
   register_callbacks(std::move(callbacks));
}

} // namespace modkit

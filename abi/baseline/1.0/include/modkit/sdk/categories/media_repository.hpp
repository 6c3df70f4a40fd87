// modkit/sdk/categories/media_repository.hpp - typed registration for "modkit.media_repository".
//
// Synapse's media repository callbacks (experimental there), with the same names. Set the ones
// the module implements and pass the struct to api.register_media_repository_callbacks();
// MODKIT_MODULE's last argument must list "modkit.media_repository". The first module with a
// config or limits for a user decides them; every module must allow an upload's size; every
// module hears of a refused upload.
#pragma once

#include <modkit/sdk/api.hpp>
#include <modkit/sdk/callback.hpp>
#include <modkit/sdk/categories/objects.hpp>
#include <modkit/sdk/category.hpp>

#include <modkit/categories/media_repository.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

namespace modkit {

// Thread rule: fill it in the constructor and hand it to register_media_repository_callbacks;
// the host then calls the callbacks from several threads at once.
struct MediaRepositoryCallbacks {
   // The media configuration user_id sees (the body of GET /media/config, a JSON object), or
   // nullopt for the host's. {} counts as nullopt, as Synapse passes over an empty dict.
   Callback<std::optional<nlohmann::json>(std::string_view user_id)> get_media_config_for_user;
   // false refuses the upload with 413 M_TOO_LARGE.
   Callback<bool(std::string_view user_id, uint64_t size)> is_user_allowed_to_upload_media_of_size;
   // The upload limits that apply to user_id instead of the host's, or nullopt to leave them.
   // An empty vector means no limits at all.
   Callback<std::optional<std::vector<MediaUploadLimit>>(std::string_view user_id)>
      get_media_upload_limits_for_user;
   // An upload was refused: sent_bytes were already uploaded within limit's period and the
   // upload would have added attempted_bytes.
   Callback<void(std::string_view user_id, const MediaUploadLimit &limit, uint64_t sent_bytes,
                 uint64_t attempted_bytes)>
      on_media_upload_limit_exceeded;
};

namespace detail {

struct MediaConfigWriter {
   static void put(const modkit_host_api *api, std::optional<nlohmann::json> &&config, bool *found,
                   modkit_buffer *out) {
      if (!config || config->is_null() || (config->is_object() && config->empty())) {
         *found = false;
         return;
      }
      if (!config->is_object())
         throw Error(MODKIT_E_INVALID_ARGUMENT, "a media config must be a JSON object, not " +
                                                   std::string(config->type_name()));
      ToC<modkit_buffer>::put(api, out, *config);
      *found = true;
   }
};

// The limits as the JSON array the C header describes; a period must be positive.
struct UploadLimitsWriter {
   static void put(const modkit_host_api *api, std::optional<std::vector<MediaUploadLimit>> &&limits,
                   bool *found, modkit_buffer *out) {
      if (!limits) {
         *found = false;
         return;
      }
      nlohmann::json array = nlohmann::json::array();
      for (const MediaUploadLimit &limit : *limits) {
         if (limit.time_period.count() <= 0)
            throw Error(MODKIT_E_INVALID_ARGUMENT, "an upload limit's time period must be positive");
         array.push_back({{"max_bytes", limit.max_bytes},
                          {"time_period_ms", limit.time_period.count()}});
      }
      ToC<modkit_buffer>::put(api, out, array);
      *found = true;
   }
};

} // namespace detail

template <>
struct CategoryTraits<MediaRepositoryCallbacks> {
   using callbacks = MediaRepositoryCallbacks;
   using c_callbacks = modkit_media_repository_callbacks;
   static const char *id() noexcept { return MODKIT_MEDIA_REPOSITORY_ID; }
   static constexpr uint16_t major = MODKIT_MEDIA_REPOSITORY_MAJOR;
   static constexpr uint16_t minor = MODKIT_MEDIA_REPOSITORY_MINOR;
   // In the C struct's order.
   static constexpr auto slots = std::make_tuple(
      MODKIT_SDK_SLOT_WRITE(get_media_config_for_user, detail::MediaConfigWriter),
      MODKIT_SDK_SLOT(is_user_allowed_to_upload_media_of_size),
      MODKIT_SDK_SLOT_WRITE(get_media_upload_limits_for_user, detail::UploadLimitsWriter),
      MODKIT_SDK_SLOT(on_media_upload_limit_exceeded));
   static_assert(std::tuple_size_v<decltype(slots)> == MODKIT_MEDIA_REPOSITORY_SLOT_COUNT,
                 "every slot of the C category has a C++ callback");
};

// [init-only]
inline void Api::register_media_repository_callbacks(MediaRepositoryCallbacks callbacks) {
   register_callbacks(std::move(callbacks));
}

} // namespace modkit

// modkit/sdk/categories/objects.hpp - views of the domain objects the standard categories pass.
//
// Each wraps a host-owned C struct (modkit/categories/objects.h) without copying it.
// Thread rule (every type here): valid only until the callback that received it returns;
// readable from any thread until then. Copy what you keep into your own types.
#pragma once

#include <modkit/sdk/str.hpp>

#include <modkit/categories/objects.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string_view>

namespace modkit {

// A room event (Synapse's EventBase). Thread rule: see above.
class Event {
public:
   explicit Event(const modkit_event *event) noexcept : event_(event) {}

   std::string_view event_id() const noexcept { return to_view(event_->event_id); }
   std::string_view room_id() const noexcept { return to_view(event_->room_id); }
   std::string_view sender() const noexcept { return to_view(event_->sender); }
   std::string_view type() const noexcept { return to_view(event_->type); }
   // nullopt for a non-state event.
   std::optional<std::string_view> state_key() const noexcept {
      return to_optional_view(event_->state_key);
   }
   bool is_state() const noexcept { return event_->state_key.data != nullptr; }
   std::string_view content_json() const noexcept { return to_view(event_->content_json); }
   // The content object, parsed; an empty object when the host sent none or it is not JSON.
   nlohmann::json content() const {
      nlohmann::json value = nlohmann::json::parse(content_json(), nullptr, false);
      return value.is_object() ? value : nlohmann::json::object();
   }
   std::optional<std::string_view> unsigned_json() const noexcept {
      return to_optional_view(event_->unsigned_json);
   }
   int64_t origin_server_ts() const noexcept { return event_->origin_server_ts; }

   const modkit_event *get() const noexcept { return event_; }

private:
   const modkit_event *event_;
};

// A user's public profile (Synapse's UserProfile). Thread rule: see above.
class UserProfile {
public:
   explicit UserProfile(const modkit_user_profile *profile) noexcept : profile_(profile) {}

   std::string_view user_id() const noexcept { return to_view(profile_->user_id); }
   std::optional<std::string_view> display_name() const noexcept {
      return to_optional_view(profile_->display_name);
   }
   std::optional<std::string_view> avatar_url() const noexcept {
      return to_optional_view(profile_->avatar_url);
   }

   const modkit_user_profile *get() const noexcept { return profile_; }

private:
   const modkit_user_profile *profile_;
};

// Metadata of a media file (Synapse's FileInfo). Thread rule: see above.
class MediaFileInfo {
public:
   explicit MediaFileInfo(const modkit_media_file_info *info) noexcept : info_(info) {}

   // nullopt for local media.
   std::optional<std::string_view> server_name() const noexcept {
      return to_optional_view(info_->server_name);
   }
   std::string_view media_id() const noexcept { return to_view(info_->media_id); }
   std::optional<std::string_view> upload_name() const noexcept {
      return to_optional_view(info_->upload_name);
   }
   std::string_view media_type() const noexcept { return to_view(info_->media_type); }
   uint64_t media_length() const noexcept { return info_->media_length; }
   bool is_thumbnail() const noexcept { return info_->is_thumbnail; }

   const modkit_media_file_info *get() const noexcept { return info_; }

private:
   const modkit_media_file_info *info_;
};

} // namespace modkit

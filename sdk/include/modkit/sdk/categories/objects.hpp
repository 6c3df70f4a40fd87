// modkit/sdk/categories/objects.hpp - views of the domain objects the standard categories pass.
//
// Each view wraps a host-owned C struct (modkit/categories/objects.h) without copying it.
// Thread rule (every view here): valid only until the callback that received it returns;
// readable from any thread until then. Copy what you keep into your own types.
// MediaUploadLimit and FederationDeliveryMethod are plain values instead.
#pragma once

#include <modkit/sdk/detail/keep.hpp>
#include <modkit/sdk/str.hpp>

#include <modkit/categories/federation.h>
#include <modkit/categories/objects.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string_view>
#include <utility>

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

// The event as one JSON object, in the client-server API's shape: event_id, room_id, sender,
// type, content, origin_server_ts, plus state_key and unsigned when present. A starting point
// for a replacement event (ThirdPartyVerdict::replace); nlohmann::json(event) calls it.
inline void to_json(nlohmann::json &j, const Event &event) {
   j = {{"event_id", event.event_id()},
        {"room_id", event.room_id()},
        {"sender", event.sender()},
        {"type", event.type()},
        {"content", event.content()},
        {"origin_server_ts", event.origin_server_ts()}};
   if (const auto key = event.state_key()) j["state_key"] = *key;
   if (const auto text = event.unsigned_json()) {
      nlohmann::json value = nlohmann::json::parse(*text, nullptr, false);
      if (value.is_object()) j["unsigned"] = std::move(value);
   }
}

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

// Who made a client request (Synapse's Requester). Thread rule: see above.
class Requester {
public:
   explicit Requester(const modkit_requester *requester) noexcept : requester_(requester) {}

   std::string_view user_id() const noexcept { return to_view(requester_->user_id); }
   // nullopt when the access token has no device.
   std::optional<std::string_view> device_id() const noexcept {
      return to_optional_view(requester_->device_id);
   }
   // Who authenticated: user_id itself, or the admin or application service acting as it.
   std::string_view authenticated_entity() const noexcept {
      return to_view(requester_->authenticated_entity);
   }
   // nullopt unless an application service made the request.
   std::optional<std::string_view> app_service_id() const noexcept {
      return to_optional_view(requester_->app_service_id);
   }
   bool is_guest() const noexcept { return requester_->is_guest; }
   bool shadow_banned() const noexcept { return requester_->shadow_banned; }

   const modkit_requester *get() const noexcept { return requester_; }

private:
   const modkit_requester *requester_;
};

// One media upload limit: at most max_bytes within time_period (Synapse's MediaUploadLimit).
// Unlike the views above it is a copy, two numbers, because modules also build limits to
// return them. Thread rule: a plain value.
struct MediaUploadLimit {
   uint64_t max_bytes = 0;
   std::chrono::milliseconds time_period{0};

   MediaUploadLimit() = default;
   MediaUploadLimit(uint64_t max_bytes_, std::chrono::milliseconds time_period_) noexcept
      : max_bytes(max_bytes_), time_period(time_period_) {}
   explicit MediaUploadLimit(const modkit_media_upload_limit *limit) noexcept
      : max_bytes(limit->max_bytes), time_period(limit->time_period_ms) {}

   friend bool operator==(const MediaUploadLimit &a, const MediaUploadLimit &b) noexcept {
      return a.max_bytes == b.max_bytes && a.time_period == b.time_period;
   }
   friend bool operator!=(const MediaUploadLimit &a, const MediaUploadLimit &b) noexcept {
      return !(a == b);
   }
};

// How events reached another server (Synapse's FederatedEventDeliveryMethod). Open-ended: a
// later host may send a value without a name here; read it as "some other method".
// Thread rule: a plain value.
enum class FederationDeliveryMethod : int32_t {
   other = MODKIT_FEDERATION_DELIVERY_OTHER,
   send = MODKIT_FEDERATION_DELIVERY_SEND,
   backfill = MODKIT_FEDERATION_DELIVERY_BACKFILL,
   get_missing_events = MODKIT_FEDERATION_DELIVERY_GET_MISSING_EVENTS,
   event = MODKIT_FEDERATION_DELIVERY_EVENT,
   event_auth = MODKIT_FEDERATION_DELIVERY_EVENT_AUTH,
   state = MODKIT_FEDERATION_DELIVERY_STATE,
   send_join = MODKIT_FEDERATION_DELIVERY_SEND_JOIN,
};

// Events this server handed to another server (Synapse's FederationEventDeliveryEvent).
// Thread rule: see above.
class FederationDelivery {
public:
   explicit FederationDelivery(const modkit_federation_delivery *delivery) noexcept
      : delivery_(delivery) {}

   // The destination server.
   std::string_view server_name() const noexcept { return to_view(delivery_->server_name); }
   // The delivered events (signed PDUs) as a JSON array; perhaps one batch of a request.
   std::string_view events_json() const noexcept { return to_view(delivery_->events_json); }
   // The events, parsed; an empty array when the host sent none or they are not a JSON array.
   nlohmann::json events() const {
      nlohmann::json value = nlohmann::json::parse(events_json(), nullptr, false);
      return value.is_array() ? value : nlohmann::json::array();
   }
   FederationDeliveryMethod method() const noexcept {
      return static_cast<FederationDeliveryMethod>(delivery_->method);
   }
   // The federation endpoint, e.g. "/send"; "other" for a method without a name here.
   std::string_view method_name() const noexcept {
      return modkit_federation_delivery_method_name(delivery_->method);
   }
   // True when the other server acknowledged the events (it answered a /send).
   bool acknowledged() const noexcept {
      return modkit_federation_delivery_acknowledged(delivery_->method);
   }

   const modkit_federation_delivery *get() const noexcept { return delivery_; }

private:
   const modkit_federation_delivery *delivery_;
};

namespace detail {

// What a coroutine callback's trampoline keeps of each view until the coroutine ends (see
// detail/keep.hpp): a copy of the host struct and of its strings.
template <>
struct Keep<Event> : KeptStruct<modkit_event, 7> {
   explicit Keep(const modkit_event *from) {
      copy(from);
      for (modkit_str *s : {&c.event_id, &c.room_id, &c.sender, &c.type, &c.state_key,
                            &c.content_json, &c.unsigned_json})
         own(*s);
   }
   Event &get() noexcept { return view; }
   Event view{&c};
};

template <>
struct Keep<UserProfile> : KeptStruct<modkit_user_profile, 3> {
   explicit Keep(const modkit_user_profile *from) {
      copy(from);
      for (modkit_str *s : {&c.user_id, &c.display_name, &c.avatar_url}) own(*s);
   }
   UserProfile &get() noexcept { return view; }
   UserProfile view{&c};
};

template <>
struct Keep<MediaFileInfo> : KeptStruct<modkit_media_file_info, 4> {
   explicit Keep(const modkit_media_file_info *from) {
      copy(from);
      for (modkit_str *s : {&c.server_name, &c.media_id, &c.upload_name, &c.media_type}) own(*s);
   }
   MediaFileInfo &get() noexcept { return view; }
   MediaFileInfo view{&c};
};

template <>
struct Keep<Requester> : KeptStruct<modkit_requester, 4> {
   explicit Keep(const modkit_requester *from) {
      copy(from);
      for (modkit_str *s : {&c.user_id, &c.device_id, &c.authenticated_entity, &c.app_service_id})
         own(*s);
   }
   Requester &get() noexcept { return view; }
   Requester view{&c};
};

template <>
struct Keep<FederationDelivery> : KeptStruct<modkit_federation_delivery, 2> {
   explicit Keep(const modkit_federation_delivery *from) {
      copy(from);
      for (modkit_str *s : {&c.server_name, &c.events_json}) own(*s);
   }
   FederationDelivery &get() noexcept { return view; }
   FederationDelivery view{&c};
};

} // namespace detail

} // namespace modkit

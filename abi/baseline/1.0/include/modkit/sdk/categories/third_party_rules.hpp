// modkit/sdk/categories/third_party_rules.hpp - typed registration for "modkit.third_party_rules".
//
// Synapse's third-party event rules callbacks, with the same names. Set the ones the module
// implements and pass the struct to api.register_third_party_rules_callbacks();
// MODKIT_MODULE's last argument must list "modkit.third_party_rules". How answers combine
// across modules is the C header's: check_event_allowed stops at the first deny or
// replacement, on_create_room at the first deny, every check_* must allow, and every on_*
// notification runs.
#pragma once

#include <modkit/sdk/api.hpp>
#include <modkit/sdk/callback.hpp>
#include <modkit/sdk/categories/objects.hpp>
#include <modkit/sdk/category.hpp>

#include <modkit/categories/third_party_rules.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>

namespace modkit {

// The room state a callback receives (Synapse's StateMap): state events by type and state
// key. The host sends it as JSON, either an array of state events or an object
// {type: {state_key: event}}; both read the same here. Thread rule: a plain value, built for
// one call; read it from any thread.
class StateMap {
public:
   StateMap() = default;

   explicit StateMap(const nlohmann::json &state) {
      if (state.is_array()) {
         for (const auto &event : state) {
            if (!event.is_object() || !event.contains("type") || !event["type"].is_string() ||
                !event.contains("state_key") || !event["state_key"].is_string())
               throw Error(MODKIT_E_INVALID_ARGUMENT,
                           "the host passed a state event without a string type and state_key");
            add(event["type"].get<std::string>(), event["state_key"].get<std::string>(), event);
         }
      } else if (state.is_object()) {
         for (const auto &[type, by_key] : state.items()) {
            if (!by_key.is_object())
               throw Error(MODKIT_E_INVALID_ARGUMENT,
                           "the host passed room state that is not {type: {state_key: event}}");
            for (const auto &[key, event] : by_key.items()) add(type, key, event);
         }
      } else if (!state.is_null()) {
         throw Error(MODKIT_E_INVALID_ARGUMENT, "the host passed room state that is not JSON "
                                                "array or object");
      }
   }

   // The state event of this type and state key, or nullptr.
   const nlohmann::json *get(std::string_view type, std::string_view state_key = {}) const {
      const auto by_type = events_.find(type);
      if (by_type == events_.end()) return nullptr;
      const auto event = by_type->second.find(state_key);
      return event == by_type->second.end() ? nullptr : &event->second;
   }

   // That event's content; an empty object when there is no such event or it has no content.
   nlohmann::json content(std::string_view type, std::string_view state_key = {}) const {
      const nlohmann::json *event = get(type, state_key);
      if (event == nullptr || !event->contains("content") || !(*event)["content"].is_object())
         return nlohmann::json::object();
      return (*event)["content"];
   }

   std::size_t size() const noexcept { return size_; }
   bool empty() const noexcept { return size_ == 0; }

private:
   void add(const std::string &type, const std::string &state_key, const nlohmann::json &event) {
      if (events_[type].insert_or_assign(state_key, event).second) ++size_;
   }

   std::map<std::string, std::map<std::string, nlohmann::json, std::less<>>, std::less<>> events_;
   std::size_t size_ = 0;
};

// check_event_allowed's answers, as the C enum. Thread rule: a plain value.
enum class EventVerdict : int32_t {
   allow = MODKIT_EVENT_ALLOW,
   deny = MODKIT_EVENT_DENY,
   replace = MODKIT_EVENT_REPLACE,
};

// check_event_allowed's answer: Synapse's (allowed, replacement) pair as one value.
// Thread rule: a plain value.
class ThirdPartyVerdict {
public:
   ThirdPartyVerdict() noexcept = default; // allow

   static ThirdPartyVerdict allow() noexcept { return ThirdPartyVerdict(); }
   static ThirdPartyVerdict deny() noexcept { return ThirdPartyVerdict(EventVerdict::deny, nullptr); }
   // Allows the event in the form of event, a whole event as a JSON object (nlohmann::json of
   // the modkit::Event received is a starting point). Hosts honour it for local events only.
   static ThirdPartyVerdict replace(nlohmann::json event) {
      if (!event.is_object())
         throw Error(MODKIT_E_INVALID_ARGUMENT, "a replacement event must be a JSON object");
      return ThirdPartyVerdict(EventVerdict::replace, std::move(event));
   }

   EventVerdict verdict() const noexcept { return verdict_; }
   // The replacement event; null unless verdict() is replace.
   const nlohmann::json &replacement() const noexcept { return replacement_; }

private:
   ThirdPartyVerdict(EventVerdict verdict, nlohmann::json replacement)
      : verdict_(verdict), replacement_(std::move(replacement)) {}

   EventVerdict verdict_ = EventVerdict::allow;
   nlohmann::json replacement_;
};

// on_create_room's answers, as the C enum. Thread rule: a plain value.
enum class CreateRoomResult : int32_t {
   allow = MODKIT_CREATE_ROOM_ALLOW,
   deny = MODKIT_CREATE_ROOM_DENY,
};

// Thread rule: fill it in the constructor and hand it to register_third_party_rules_callbacks;
// the host then calls the callbacks from several threads at once. state_events is the room
// state the C header describes for each callback (before the event for checks, after it for
// on_new_event).
struct ThirdPartyRulesCallbacks {
   Callback<ThirdPartyVerdict(const Event &event, const StateMap &state_events)>
      check_event_allowed;
   // request_content is the /createRoom body as earlier modules left it, and may be edited in
   // place, as in Synapse: when the callback allows and the body changed, the host creates the
   // room from the edited body and hands it to later modules.
   Callback<CreateRoomResult(const Requester &requester, nlohmann::json &request_content,
                             bool is_requester_admin)>
      on_create_room;
   // false refuses the invite.
   Callback<bool(std::string_view medium, std::string_view address, const StateMap &state_events)>
      check_threepid_can_be_invited;
   // new_visibility: "public" or "private"; false refuses the change.
   Callback<bool(std::string_view room_id, const StateMap &state_events,
                 std::string_view new_visibility)>
      check_visibility_can_be_modified;
   Callback<void(const Event &event, const StateMap &state_events)> on_new_event;
   // user_id is nullopt when the server itself shuts the room down; false refuses.
   Callback<bool(std::optional<std::string_view> user_id, std::string_view room_id)>
      check_can_shutdown_room;
   // false refuses.
   Callback<bool(std::string_view user_id, bool by_admin)> check_can_deactivate_user;
   Callback<void(std::string_view user_id, const UserProfile &new_profile, bool by_admin,
                 bool deactivation)>
      on_profile_update;
   Callback<void(std::string_view user_id, bool deactivated, bool by_admin)>
      on_user_deactivation_status_changed;
   // Deprecated in Synapse in favour of on_add_user_third_party_identifier.
   Callback<void(std::string_view user_id, std::string_view medium, std::string_view address)>
      on_threepid_bind;
   Callback<void(std::string_view user_id, std::string_view medium, std::string_view address)>
      on_add_user_third_party_identifier;
   Callback<void(std::string_view user_id, std::string_view medium, std::string_view address)>
      on_remove_user_third_party_identifier;
};

namespace detail {

template <>
struct FromC<StateMap> {
   static StateMap get(modkit_str s) { return StateMap(FromC<nlohmann::json>::get(s)); }
};

// check_event_allowed: the replacement event first, then the verdict that points at it.
struct ThirdPartyVerdictWriter {
   static void put(const modkit_host_api *api, ThirdPartyVerdict &&verdict,
                   modkit_event_verdict *out, modkit_buffer *replacement) {
      if (verdict.verdict() == EventVerdict::replace)
         ToC<modkit_buffer>::put(api, replacement, verdict.replacement());
      *out = static_cast<modkit_event_verdict>(verdict.verdict());
   }
};

// on_create_room: the callback edits a parsed copy of the body; an edited body is written
// only when the room may be created.
struct CreateRoomSlot {
   using callback = Callback<CreateRoomResult(const Requester &, nlohmann::json &, bool)>;

   static bool is_set(const callback &cb) noexcept { return static_cast<bool>(cb); }

   static void invoke(const HostContext &context, const callback &cb, Call &call,
                      const modkit_requester *requester, modkit_str request_content_json,
                      bool is_requester_admin, modkit_create_room_result *result,
                      modkit_buffer *new_content) {
      check_outputs(result, new_content);
      const Requester who = FromC<Requester>::get(requester);
      nlohmann::json content = FromC<nlohmann::json>::get(request_content_json);
      const nlohmann::json before = content;
      const CreateRoomResult answer = cb(call, who, content, is_requester_admin);
      if (answer == CreateRoomResult::allow && content != before) {
         if (!content.is_object())
            throw Error(MODKIT_E_INVALID_ARGUMENT, "an edited /createRoom body must stay a JSON object");
         ToC<modkit_buffer>::put(context.api, new_content, content);
      }
      *result = static_cast<modkit_create_room_result>(answer);
   }
};

} // namespace detail

template <>
struct CategoryTraits<ThirdPartyRulesCallbacks> {
   using callbacks = ThirdPartyRulesCallbacks;
   using c_callbacks = modkit_third_party_rules_callbacks;
   static const char *id() noexcept { return MODKIT_THIRD_PARTY_RULES_ID; }
   static constexpr uint16_t major = MODKIT_THIRD_PARTY_RULES_MAJOR;
   static constexpr uint16_t minor = MODKIT_THIRD_PARTY_RULES_MINOR;
   // In the C struct's order.
   static constexpr auto slots = std::make_tuple(
      MODKIT_SDK_SLOT_WRITE(check_event_allowed, detail::ThirdPartyVerdictWriter),
      MODKIT_SDK_SLOT_VIA(on_create_room, on_create_room, detail::CreateRoomSlot),
      MODKIT_SDK_SLOT(check_threepid_can_be_invited), MODKIT_SDK_SLOT(check_visibility_can_be_modified),
      MODKIT_SDK_SLOT(on_new_event), MODKIT_SDK_SLOT(check_can_shutdown_room),
      MODKIT_SDK_SLOT(check_can_deactivate_user), MODKIT_SDK_SLOT(on_profile_update),
      MODKIT_SDK_SLOT(on_user_deactivation_status_changed), MODKIT_SDK_SLOT(on_threepid_bind),
      MODKIT_SDK_SLOT(on_add_user_third_party_identifier),
      MODKIT_SDK_SLOT(on_remove_user_third_party_identifier));
   static_assert(std::tuple_size_v<decltype(slots)> == MODKIT_THIRD_PARTY_RULES_SLOT_COUNT,
                 "every slot of the C category has a C++ callback");
};

// [init-only]
inline void Api::register_third_party_rules_callbacks(ThirdPartyRulesCallbacks callbacks) {
   register_callbacks(std::move(callbacks));
}

} // namespace modkit

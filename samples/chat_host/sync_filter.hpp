// sync_filter.hpp - the client-server API's filters (POST /user/{id}/filter, /sync?filter=,
// /messages?filter=): which events a client wants, and how many.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace chat {

using json = nlohmann::json;

// An EventFilter: types and senders, each with its "not_" list that wins; '*' in a type is a
// wildcard. An absent list allows everything, an empty one nothing.
struct EventFilter {
   int64_t limit = 0; // 0: the caller's default
   std::optional<std::vector<std::string>> types, senders;
   std::vector<std::string> not_types, not_senders;
   bool matches(const std::string &type, const std::string &sender) const;
};

// A RoomEventFilter: an EventFilter with rooms and lazy-loading of members.
struct RoomEventFilter : EventFilter {
   std::optional<std::vector<std::string>> rooms;
   std::vector<std::string> not_rooms;
   bool lazy_load_members = false;
   bool include_redundant_members = false;
   bool allows_room(const std::string &room_id) const;
};

struct SyncFilter {
   EventFilter presence, account_data;
   RoomEventFilter timeline, state, ephemeral, room_account_data;
   std::optional<std::vector<std::string>> rooms;
   std::vector<std::string> not_rooms;
   bool include_leave = false;
   bool allows_room(const std::string &room_id) const;
};

// Parses a Filter object; throws MatrixError(400, M_BAD_JSON) naming the field that is wrong.
SyncFilter parse_sync_filter(const json &definition);
// Parses a RoomEventFilter (what /messages takes); same errors.
RoomEventFilter parse_room_event_filter(const json &definition, const std::string &where = "filter");
// True when type matches pattern, where '*' stands for any run of characters.
bool type_matches(const std::string &pattern, const std::string &type);

} // namespace chat

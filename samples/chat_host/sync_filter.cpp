// sync_filter.cpp - parsing and matching the client-server API's filters.
#include "sync_filter.hpp"

#include "matrix_error.hpp"

#include <algorithm>

namespace chat {

namespace {

bool any_matches(const std::vector<std::string> &patterns, const std::string &value, bool glob) {
   return std::any_of(patterns.begin(), patterns.end(),
                      [&](const std::string &p) { return glob ? type_matches(p, value) : p == value; });
}

bool allowed(const std::optional<std::vector<std::string>> &only, const std::vector<std::string> &not_, const std::string &value,
             bool glob) {
   if (any_matches(not_, value, glob)) return false;
   return !only || any_matches(*only, value, glob);
}

std::vector<std::string> strings(const json &object, const char *key, const std::string &where) {
   const json &list = object[key];
   if (!list.is_array()) throw MatrixError(400, "M_BAD_JSON", where + "." + key + " must be an array of strings");
   std::vector<std::string> out;
   for (const auto &item : list) {
      if (!item.is_string()) throw MatrixError(400, "M_BAD_JSON", where + "." + key + " must be an array of strings");
      out.push_back(item.get<std::string>());
   }
   return out;
}

void require_object(const json &j, const std::string &where) {
   if (!j.is_object()) throw MatrixError(400, "M_BAD_JSON", where + " must be an object");
}

EventFilter event_filter(const json &j, const std::string &where) {
   require_object(j, where);
   EventFilter f;
   if (j.contains("limit")) {
      if (!j["limit"].is_number_integer() || j["limit"].get<int64_t>() < 1)
         throw MatrixError(400, "M_BAD_JSON", where + ".limit must be a positive integer");
      f.limit = std::min<int64_t>(j["limit"].get<int64_t>(), 1000);
   }
   if (j.contains("types")) f.types = strings(j, "types", where);
   if (j.contains("senders")) f.senders = strings(j, "senders", where);
   if (j.contains("not_types")) f.not_types = strings(j, "not_types", where);
   if (j.contains("not_senders")) f.not_senders = strings(j, "not_senders", where);
   return f;
}

bool flag(const json &j, const char *key, const std::string &where) {
   if (!j.contains(key)) return false;
   if (!j[key].is_boolean()) throw MatrixError(400, "M_BAD_JSON", where + "." + key + " must be a boolean");
   return j[key].get<bool>();
}

} // namespace

bool type_matches(const std::string &pattern, const std::string &type) {
   // Iterative glob with '*' only: remember the last star and retry from one character further.
   size_t p = 0, t = 0, star = std::string::npos, mark = 0;
   while (t < type.size()) {
      if (p < pattern.size() && pattern[p] == '*') {
         star = p++;
         mark = t;
      } else if (p < pattern.size() && pattern[p] == type[t]) {
         ++p, ++t;
      } else if (star != std::string::npos) {
         p = star + 1;
         t = ++mark;
      } else {
         return false;
      }
   }
   while (p < pattern.size() && pattern[p] == '*') ++p;
   return p == pattern.size();
}

bool EventFilter::matches(const std::string &type, const std::string &sender) const {
   return allowed(types, not_types, type, true) && allowed(senders, not_senders, sender, false);
}

bool RoomEventFilter::allows_room(const std::string &room_id) const { return allowed(rooms, not_rooms, room_id, false); }

bool SyncFilter::allows_room(const std::string &room_id) const { return allowed(rooms, not_rooms, room_id, false); }

RoomEventFilter parse_room_event_filter(const json &j, const std::string &where) {
   RoomEventFilter f;
   static_cast<EventFilter &>(f) = event_filter(j, where);
   if (j.contains("rooms")) f.rooms = strings(j, "rooms", where);
   if (j.contains("not_rooms")) f.not_rooms = strings(j, "not_rooms", where);
   f.lazy_load_members = flag(j, "lazy_load_members", where);
   f.include_redundant_members = flag(j, "include_redundant_members", where);
   return f;
}

SyncFilter parse_sync_filter(const json &j) {
   require_object(j, "filter");
   SyncFilter f;
   if (j.contains("event_fields") && !j["event_fields"].is_array())
      throw MatrixError(400, "M_BAD_JSON", "filter.event_fields must be an array of strings");
   if (j.contains("event_format") && j["event_format"] != "client" && j["event_format"] != "federation")
      throw MatrixError(400, "M_BAD_JSON", "filter.event_format must be \"client\" or \"federation\"");
   if (j.contains("presence")) f.presence = event_filter(j["presence"], "filter.presence");
   if (j.contains("account_data")) f.account_data = event_filter(j["account_data"], "filter.account_data");
   if (j.contains("room")) {
      const json &room = j["room"];
      require_object(room, "filter.room");
      if (room.contains("rooms")) f.rooms = strings(room, "rooms", "filter.room");
      if (room.contains("not_rooms")) f.not_rooms = strings(room, "not_rooms", "filter.room");
      f.include_leave = flag(room, "include_leave", "filter.room");
      if (room.contains("timeline")) f.timeline = parse_room_event_filter(room["timeline"], "filter.room.timeline");
      if (room.contains("state")) f.state = parse_room_event_filter(room["state"], "filter.room.state");
      if (room.contains("ephemeral")) f.ephemeral = parse_room_event_filter(room["ephemeral"], "filter.room.ephemeral");
      if (room.contains("account_data"))
         f.room_account_data = parse_room_event_filter(room["account_data"], "filter.room.account_data");
   }
   return f;
}

} // namespace chat

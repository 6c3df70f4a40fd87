// state.hpp - the server's data, in memory: users, devices and access tokens, rooms and their
// events, profiles, account data, presence, media and third-party identifiers.
//
// One mutex guards everything. Handlers hold it only while they read or write state, never
// while a module runs, so a slow module does not stall other requests; whatever a handler
// checked before calling modules it checks again when it commits.
#pragma once

#include "identifiers.hpp"
#include "notifier.hpp"
#include "transactions.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace chat {

using json = nlohmann::json;

int64_t now_ms();

struct ThreePid {
   std::string medium, address;
   int64_t added_at = 0;
};

struct User {
   std::string user_id, localpart;
   std::string password; // in memory only, compared in constant time; never logged or served
   std::string display_name;
   std::optional<std::string> avatar_url;
   bool admin = false;
   bool deactivated = false;
   bool shadow_banned = false; // check_registration_for_spam answered SHADOW_BAN
   std::vector<ThreePid> threepids;
   std::vector<ThreePid> bound_threepids; // bound on an identity server (on_threepid_bind)
   std::optional<int64_t> expiration_ts;  // set through the legacy account validity hooks
};

struct Device {
   std::string device_id, user_id, display_name, access_token;
   std::string auth_module;      // the module whose auth_checkers authenticated the login, if any
   std::string login_type;
};

struct Event {
   std::string event_id, room_id, sender, type;
   std::optional<std::string> state_key;
   json content = json::object();
   int64_t origin_server_ts = 0;
   uint64_t stream = 0;     // position in this server's event stream
   std::string origin;      // the server that created the event
   bool soft_failed = false; // a federated event a spam checker refused: kept, never served
   std::optional<std::string> redacted_by; // the m.room.redaction that pruned content

   // The client-server format without unsigned.
   json to_client() const;
   // to_client without the content (what sizing the event needs).
   json envelope() const;
   // The event as a federation PDU (what another server would receive).
   json to_pdu() const;
};

struct Room {
   std::string room_id, creator;
   std::vector<std::string> timeline;                                  // event IDs, oldest first
   std::map<std::pair<std::string, std::string>, std::string> state;  // (type, state_key) -> event ID
   bool published = false; // listed in the public room directory
   bool shut_down = false;
   bool blocked = false;
   std::set<std::string> aliases;
};

struct Presence {
   std::string presence = "offline";
   std::optional<std::string> status_msg;
   int64_t last_active_ts = 0;
   bool currently_active = false;
};

struct PresenceDelivery {
   uint64_t stream = 0;
   std::string user_id; // whose presence
   Presence presence;
};

struct Media {
   std::string media_id, uploader, content_type, upload_name, bytes;
   int64_t created_ts = 0;
};

// Who is typing in a room: user -> until when (ms); stream is the last change.
struct Typing {
   std::map<std::string, int64_t> until;
   uint64_t stream = 0;
};

// A read receipt (m.read, m.read.private) a user sent for an event.
struct Receipt {
   std::string event_id;
   int64_t ts = 0;
   uint64_t stream = 0;
   std::optional<std::string> thread_id;
};

struct AccountDataItem {
   uint64_t stream = 0;
   json content;
};

class State {
public:
   explicit State(std::string server_name) : server_name_(std::move(server_name)) {}

   const std::string &server_name() const { return server_name_; }
   std::mutex mutex; // guards everything below

   // ---- everything below: call with mutex held ----

   std::map<std::string, User> users;                        // by user ID
   std::map<std::string, Device> tokens;                      // by access token
   std::map<std::string, Room> rooms;
   std::unordered_map<std::string, Event> events;             // by event ID; nodes never move
   std::map<std::string, std::string> aliases;                // "#a:server" -> room ID
   std::map<std::string, Presence> presence;                  // by user ID
   std::map<std::string, std::vector<PresenceDelivery>> presence_inbox; // by recipient
   std::map<std::string, std::map<std::string, AccountDataItem>> account_data; // user -> type
   std::map<std::string, std::map<std::string, std::map<std::string, AccountDataItem>>> room_account_data;
   std::map<std::string, Media> media;
   Transactions txn_events; // "token|room|txn" -> event ID, for 30 minutes
   std::map<std::string, std::string> directory;              // user ID -> lower-case search text
   std::map<std::string, std::vector<std::pair<int64_t, uint64_t>>> upload_history; // (ts, bytes)
   // user ID -> (ip, user agent) -> last seen (ms): get_user_ip_and_agents. At most
   // max_clients_per_user pairs per user; the least recently seen goes first.
   std::map<std::string, std::map<std::pair<std::string, std::string>, int64_t>> clients;
   static constexpr size_t max_clients_per_user = 64;
   std::map<std::string, Typing> typing;                      // by room
   // room -> (user, receipt type) -> receipt
   std::map<std::string, std::map<std::pair<std::string, std::string>, Receipt>> receipts;
   std::map<std::string, std::vector<json>> filters;          // user -> filter definitions, by ID
   // /sync's unread counts, kept per (room, user) so each sync evaluates only the events that
   // came since the last (unread.cpp).
   struct UnreadMemo {
      uint64_t receipt = 0, counted = 0;
      int64_t notifications = 0, highlights = 0;
   };
   std::map<std::pair<std::string, std::string>, UnreadMemo> unread_memo;
   static constexpr size_t max_filters_per_user = 100;
   // Wakes waiting requests (long-polling /sync). Every change that moves the stream notifies it
   // while this mutex is still held, so a woken request finds the change made.
   Notifier notifier;
   void record_client(const std::string &user_id, const std::string &ip, const std::string &user_agent, int64_t now);

   // A new stream position for a change that may concern anyone (presence routing decides
   // later who sees it): every waiting request looks again.
   uint64_t next_stream() {
      notifier.notify_all(++stream_);
      return stream_;
   }
   // A new stream position for a change only `users` can see (account data, typing, receipts).
   uint64_t next_stream_for(const std::vector<std::string> &users) {
      notifier.notify(++stream_, users);
      return stream_;
   }
   uint64_t stream() const { return stream_; }
   std::string new_id(char sigil); // "!abc:server", "$abc", device IDs ("D") and tokens ("T")

   bool is_local(const std::string &user_id) const;
   std::optional<std::string> membership(const std::string &room_id, const std::string &user_id) const;
   std::vector<std::string> members(const std::string &room_id, const std::string &membership) const;
   const Event *state_event(const std::string &room_id, const std::string &type, const std::string &key) const;
   // Room state as the third-party rules category receives it: {type: {state_key: event}}.
   json state_json(const std::string &room_id) const;
   // Stores an accepted event (state too) and gives it a stream position; a redaction prunes its
   // target's content. Wakes the room's joined and invited members and the membership's target.
   void append(Event event);
   // Drops who stopped typing in room_id by their timeout; a drop is news for the members (a
   // new stream position, which wakes their /sync). Returns the earliest timeout still to come
   // (wall clock, ms), or 0 when nobody is typing.
   int64_t expire_typing(const std::string &room_id, int64_t now);
   // Joined and invited users, who see what happens in the room.
   std::vector<std::string> audience(const std::string &room_id) const;
   std::string join_rule(const std::string &room_id) const;
   // The room's timeline events user_id may read, oldest first, by m.room.history_visibility at
   // each event (default "shared") and the user's membership then, as Synapse decides: "joined"
   // shows events while joined; "invited" also while invited; "shared" also, to a member who is
   // joined now, events from before they joined; "world_readable" shows all. Events after a
   // user left stay hidden. Soft-failed events never show.
   std::vector<const Event *> visible_timeline(const std::string &room_id, const std::string &user_id) const;
   // The room's events after stream position `after`, oldest first, soft-failed ones left out:
   // what a member who has been joined since then may see, found from the end of the timeline.
   std::vector<const Event *> events_after(const std::string &room_id, uint64_t after) const;
   std::set<std::string> rooms_of(const std::string &user_id) const; // rooms joined
   bool share_room(const std::string &a, const std::string &b) const;
   std::optional<std::string> user_for_threepid(const std::string &medium, const std::string &address) const;
   void index_user(const User &user); // the user directory entry

private:
   std::string server_name_;
   uint64_t stream_ = 0;
   uint64_t ids_ = 0;
};

} // namespace chat

// chat_host/homeserver.hpp - the C++ wrapper of chat.homeserver/1 (homeserver.h) for modules
// written with the modkit SDK. Every asynchronous function comes twice: with a handler
// (status, result, message), and in C++20 as an awaitable task that returns the result or
// throws modkit::Error(status, message).
//
//    chat_host::Homeserver hs(api);                       // in the module's constructor
//    hs.update_room_membership(user, user, room, "join", nlohmann::json::object(),
//                              [](modkit_status s, nlohmann::json r, std::string why) { ... });
//    // C++20, in a coroutine callback:
//    const nlohmann::json state = co_await hs.get_room_state(room, nlohmann::json::array({{"m.room.name", ""}}));
//
// Results and errors are those of homeserver.h. A handler runs once, on a host thread, never
// inside the call that started it; it captures what it uses by value or shared_ptr. An
// exception leaving it is logged. A refused call (bad argument, another server's user, the
// module stopping, re-entry) throws modkit::Error and the handler is never called.
// Thread rule: [thread-safe]; valid until the module's destructor returns.
#pragma once

#include <chat_host/homeserver.h>

#include <modkit/sdk/api.hpp>
#include <modkit/sdk/detail/json_call.hpp>
#include <modkit/sdk/detail/service_table.hpp>

#include <nlohmann/json.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace chat_host {

class Homeserver {
public:
   using json = nlohmann::json;
   using Handler = modkit::detail::JsonHandler;

   // Throws modkit::Error(MODKIT_E_UNSUPPORTED) when the host is not the chat host.
   explicit Homeserver(const modkit::Api &api)
      : context_(modkit::detail::ApiAccess::context(api)),
        table_(modkit::detail::service_table<chat_homeserver_api>(
           api, CHAT_HOMESERVER_ID, offsetof(chat_homeserver_api, send_mail) + sizeof(chat_homeserver_api::send_mail))) {}

   // ---- identity ----
   std::string_view server_name() const { return table_->server_name(table_, context_.host); }
   bool is_mine(std::string_view id) const { return table_->is_mine(table_, context_.host, str(id)); }
   // nullopt on the main process, and from a host whose table predates worker_name.
   std::optional<std::string_view> worker_name() const {
      if (!has(offsetof(chat_homeserver_api, worker_name) + sizeof(chat_homeserver_api::worker_name))) return std::nullopt;
      const char *name = table_->worker_name(table_, context_.host);
      return name ? std::optional<std::string_view>(name) : std::nullopt;
   }
   // nullopt when the host config has none, and from a host whose table predates it.
   std::optional<std::string_view> public_baseurl() const {
      if (!has(offsetof(chat_homeserver_api, public_baseurl) + sizeof(chat_homeserver_api::public_baseurl)))
         return std::nullopt;
      const char *url = table_->public_baseurl(table_, context_.host);
      return url ? std::optional<std::string_view>(url) : std::nullopt;
   }
   // "Matrix" from a host whose table predates it, as Synapse's default.
   std::string_view email_app_name() const {
      if (!has(offsetof(chat_homeserver_api, email_app_name) + sizeof(chat_homeserver_api::email_app_name)))
         return "Matrix";
      return table_->email_app_name(table_, context_.host);
   }
   std::string get_qualified_user_id(std::string_view localpart) const {
      std::string out(localpart.size() + server_name().size() + 2, '\0');
      size_t size = 0;
      const modkit_status s = table_->get_qualified_user_id(table_, context_.host, str(localpart), out.data(), out.size(), &size);
      if (s != MODKIT_OK) throw modkit::Error(s, "get_qualified_user_id: not a localpart");
      out.resize(size);
      return out;
   }

   // ---- users ----
   void check_user_exists(std::string_view user_id, Handler h) const {
      start("check_user_exists", std::move(h), [&](void *slot) {
         return table_->check_user_exists(table_, context_.host, str(user_id), &modkit::detail::json_done, slot);
      });
   }
   void is_user_admin(std::string_view user_id, Handler h) const {
      start("is_user_admin", std::move(h), [&](void *slot) {
         return table_->is_user_admin(table_, context_.host, str(user_id), &modkit::detail::json_done, slot);
      });
   }
   void register_user(std::string_view localpart, std::optional<std::string_view> display_name, Handler h) const {
      start("register_user", std::move(h), [&](void *slot) {
         return table_->register_user(table_, context_.host, str(localpart), opt(display_name),
                                      &modkit::detail::json_done, slot);
      });
   }
   void get_profile_for_user(std::string_view user_id, Handler h) const {
      start("get_profile_for_user", std::move(h), [&](void *slot) {
         return table_->get_profile_for_user(table_, context_.host, str(user_id), &modkit::detail::json_done, slot);
      });
   }
   void set_displayname(std::string_view user_id, std::string_view name, Handler h) const {
      start("set_displayname", std::move(h), [&](void *slot) {
         return table_->set_displayname(table_, context_.host, str(user_id), str(name), &modkit::detail::json_done,
                                        slot);
      });
   }
   void get_threepids_for_user(std::string_view user_id, Handler h) const {
      start("get_threepids_for_user", std::move(h), [&](void *slot) {
         return table_->get_threepids_for_user(table_, context_.host, str(user_id), &modkit::detail::json_done, slot);
      });
   }
   void get_user_ip_and_agents(std::string_view user_id, int64_t since_ts, Handler h) const {
      start("get_user_ip_and_agents", std::move(h), [&](void *slot) {
         return table_->get_user_ip_and_agents(table_, context_.host, str(user_id), since_ts,
                                               &modkit::detail::json_done, slot);
      });
   }

   // ---- rooms ----
   // filter: null for everything, or [[type, state_key or null], ...].
   void get_room_state(std::string_view room_id, const json &filter, Handler h) const {
      const std::string text = filter.is_null() ? std::string() : filter.dump();
      start("get_room_state", std::move(h), [&](void *slot) {
         return table_->get_room_state(table_, context_.host, str(room_id), filter.is_null() ? absent() : str(text),
                                       &modkit::detail::json_done, slot);
      });
   }
   void update_room_membership(std::string_view sender, std::string_view target, std::string_view room_id,
                               std::string_view membership, const json &content, Handler h) const {
      const std::string text = content.dump();
      start("update_room_membership", std::move(h), [&](void *slot) {
         return table_->update_room_membership(table_, context_.host, str(sender), str(target), str(room_id),
                                               str(membership), str(text), &modkit::detail::json_done, slot);
      });
   }
   void create_and_send_event_into_room(const json &event, Handler h) const {
      const std::string text = event.dump();
      start("create_and_send_event_into_room", std::move(h), [&](void *slot) {
         return table_->create_and_send_event_into_room(table_, context_.host, str(text), &modkit::detail::json_done,
                                                        slot);
      });
   }
   void create_room(std::string_view user_id, const json &config, Handler h) const {
      const std::string text = config.dump();
      start("create_room", std::move(h), [&](void *slot) {
         return table_->create_room(table_, context_.host, str(user_id), str(text), &modkit::detail::json_done, slot);
      });
   }
   void lookup_room_alias(std::string_view alias, Handler h) const {
      start("lookup_room_alias", std::move(h), [&](void *slot) {
         return table_->lookup_room_alias(table_, context_.host, str(alias), &modkit::detail::json_done, slot);
      });
   }

   // ---- public room directory ----
   void room_is_in_public_room_list(std::string_view room_id, Handler h) const {
      start("room_is_in_public_room_list", std::move(h), [&](void *slot) {
         return table_->room_is_in_public_room_list(table_, context_.host, str(room_id), &modkit::detail::json_done,
                                                    slot);
      });
   }
   void add_room_to_public_room_list(std::string_view room_id, Handler h) const {
      start("add_room_to_public_room_list", std::move(h), [&](void *slot) {
         return table_->add_room_to_public_room_list(table_, context_.host, str(room_id), &modkit::detail::json_done,
                                                     slot);
      });
   }
   void remove_room_from_public_room_list(std::string_view room_id, Handler h) const {
      start("remove_room_from_public_room_list", std::move(h), [&](void *slot) {
         return table_->remove_room_from_public_room_list(table_, context_.host, str(room_id),
                                                          &modkit::detail::json_done, slot);
      });
   }

   // ---- account data (room_id nullopt: global) ----
   void get_account_data(std::string_view user_id, std::optional<std::string_view> room_id, std::string_view type,
                         Handler h) const {
      start("get_account_data", std::move(h), [&](void *slot) {
         return table_->get_account_data(table_, context_.host, str(user_id), opt(room_id), str(type),
                                         &modkit::detail::json_done, slot);
      });
   }
   void put_account_data(std::string_view user_id, std::optional<std::string_view> room_id, std::string_view type,
                         const json &content, Handler h) const {
      const std::string text = content.dump();
      start("put_account_data", std::move(h), [&](void *slot) {
         return table_->put_account_data(table_, context_.host, str(user_id), opt(room_id), str(type), str(text),
                                         &modkit::detail::json_done, slot);
      });
   }

   // ---- presence, mail ----
   void send_local_online_presence_to(const json &users, Handler h) const {
      const std::string text = users.dump();
      start("send_local_online_presence_to", std::move(h), [&](void *slot) {
         return table_->send_local_online_presence_to(table_, context_.host, str(text), &modkit::detail::json_done,
                                                      slot);
      });
   }
   void send_mail(std::string_view recipient, std::string_view subject, std::optional<std::string_view> html,
                  std::optional<std::string_view> text, Handler h) const {
      start("send_mail", std::move(h), [&](void *slot) {
         return table_->send_mail(table_, context_.host, str(recipient), str(subject), opt(html), opt(text),
                                  &modkit::detail::json_done, slot);
      });
   }

#if MODKIT_SDK_HAS_COROUTINES
   // ---- the same, awaited: each returns the result object or throws modkit::Error ----
   // The task keeps its own copies of the arguments.
   modkit::task<json> check_user_exists(std::string user_id) const {
      return awaited([=](const Homeserver &hs, Handler h) { hs.check_user_exists(user_id, std::move(h)); });
   }
   modkit::task<json> is_user_admin(std::string user_id) const {
      return awaited([=](const Homeserver &hs, Handler h) { hs.is_user_admin(user_id, std::move(h)); });
   }
   modkit::task<json> register_user(std::string localpart, std::optional<std::string> display_name) const {
      return awaited([=](const Homeserver &hs, Handler h) {
         hs.register_user(localpart, display_name ? std::optional<std::string_view>(*display_name) : std::nullopt,
                          std::move(h));
      });
   }
   modkit::task<json> get_profile_for_user(std::string user_id) const {
      return awaited([=](const Homeserver &hs, Handler h) { hs.get_profile_for_user(user_id, std::move(h)); });
   }
   modkit::task<json> set_displayname(std::string user_id, std::string name) const {
      return awaited([=](const Homeserver &hs, Handler h) { hs.set_displayname(user_id, name, std::move(h)); });
   }
   modkit::task<json> get_threepids_for_user(std::string user_id) const {
      return awaited([=](const Homeserver &hs, Handler h) { hs.get_threepids_for_user(user_id, std::move(h)); });
   }
   modkit::task<json> get_user_ip_and_agents(std::string user_id, int64_t since_ts) const {
      return awaited(
         [=](const Homeserver &hs, Handler h) { hs.get_user_ip_and_agents(user_id, since_ts, std::move(h)); });
   }
   modkit::task<json> get_room_state(std::string room_id, json filter) const {
      return awaited([=](const Homeserver &hs, Handler h) { hs.get_room_state(room_id, filter, std::move(h)); });
   }
   modkit::task<json> update_room_membership(std::string sender, std::string target, std::string room_id,
                                             std::string membership, json content) const {
      return awaited([=](const Homeserver &hs, Handler h) {
         hs.update_room_membership(sender, target, room_id, membership, content, std::move(h));
      });
   }
   modkit::task<json> create_and_send_event_into_room(json event) const {
      return awaited([=](const Homeserver &hs, Handler h) { hs.create_and_send_event_into_room(event, std::move(h)); });
   }
   modkit::task<json> create_room(std::string user_id, json config) const {
      return awaited([=](const Homeserver &hs, Handler h) { hs.create_room(user_id, config, std::move(h)); });
   }
   modkit::task<json> lookup_room_alias(std::string alias) const {
      return awaited([=](const Homeserver &hs, Handler h) { hs.lookup_room_alias(alias, std::move(h)); });
   }
   modkit::task<json> room_is_in_public_room_list(std::string room_id) const {
      return awaited([=](const Homeserver &hs, Handler h) { hs.room_is_in_public_room_list(room_id, std::move(h)); });
   }
   modkit::task<json> add_room_to_public_room_list(std::string room_id) const {
      return awaited([=](const Homeserver &hs, Handler h) { hs.add_room_to_public_room_list(room_id, std::move(h)); });
   }
   modkit::task<json> remove_room_from_public_room_list(std::string room_id) const {
      return awaited(
         [=](const Homeserver &hs, Handler h) { hs.remove_room_from_public_room_list(room_id, std::move(h)); });
   }
   modkit::task<json> get_account_data(std::string user_id, std::optional<std::string> room_id, std::string type) const {
      return awaited([=](const Homeserver &hs, Handler h) { hs.get_account_data(user_id, view(room_id), type, std::move(h)); });
   }
   modkit::task<json> put_account_data(std::string user_id, std::optional<std::string> room_id, std::string type,
                                       json content) const {
      return awaited([=](const Homeserver &hs, Handler h) {
         hs.put_account_data(user_id, view(room_id), type, content, std::move(h));
      });
   }
   modkit::task<json> send_local_online_presence_to(json users) const {
      return awaited([=](const Homeserver &hs, Handler h) { hs.send_local_online_presence_to(users, std::move(h)); });
   }
   modkit::task<json> send_mail(std::string recipient, std::string subject, std::optional<std::string> html,
                                std::optional<std::string> text) const {
      return awaited([=](const Homeserver &hs, Handler h) {
         hs.send_mail(recipient, subject, view(html), view(text), std::move(h));
      });
   }
#endif

private:
   static modkit_str str(std::string_view s) { return {s.data(), s.size()}; }
   static modkit_str absent() { return {nullptr, 0}; }
   static modkit_str opt(std::optional<std::string_view> s) { return s ? str(*s) : absent(); }
   // The host's table reaches past a function added after send_mail.
   bool has(std::size_t end_of_field) const { return table_->struct_size >= end_of_field; }

   static std::optional<std::string_view> view(const std::optional<std::string> &s) {
      return s ? std::optional<std::string_view>(*s) : std::nullopt;
   }

   template <class Submit>
   void start(const char *what, Handler handler, Submit &&submit) const {
      modkit::detail::start_json_call(context_, "chat.homeserver", what, std::move(handler),
                                      std::forward<Submit>(submit));
   }

#if MODKIT_SDK_HAS_COROUTINES
   template <class Call>
   modkit::task<json> awaited(Call call) const {
      return modkit::detail::await_json([hs = *this, call = std::move(call)](Handler h) { call(hs, std::move(h)); });
   }
#endif

   modkit::detail::HostContext context_;
   const chat_homeserver_api *table_;
};

} // namespace chat_host

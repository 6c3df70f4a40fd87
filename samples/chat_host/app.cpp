// app.cpp - the server object and the event, presence and rate limit paths the API areas share.
#include "app.hpp"

#include "module_refusal.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace chat {

namespace {

// Unsigned keys the host sets; modules cannot override them (add_field_to_unsigned).
const std::set<std::string> host_unsigned_keys = {"age", "transaction_id", "prev_content", "replaces_state",
                                                  "redacted_because", "invite_room_state", "membership"};

ModuleHost::Options module_options(const HostConfig &config, const App::LogSink &log, HomeserverHost &homeserver) {
   ModuleHost::Options o;
   o.modkit_config = config.modkit;
   o.base_dir = config.base_dir;
   o.pointer_prefix = "/modkit";
   o.is_builtin_path = &Router::is_builtin;
   o.log = log;
   o.call_timeout_ms = config.module_call_timeout_ms;
   o.extension = [&homeserver](const std::string &id) -> const void * {
      return id == CHAT_HOMESERVER_ID ? homeserver.api() : nullptr;
   };
   // An action under way waits for at most a few module calls; past this it is not told.
   const uint64_t wait_ms = 2 * config.module_call_timeout_ms;
   o.module_stopping = [&homeserver, wait_ms](modkit_host *host) { homeserver.module_stopping(host, wait_ms); };
   return o;
}

} // namespace

bool RateLimiter::allow(const std::string &key, double per_second, int64_t burst, int64_t now, int64_t &retry_after_ms) {
   std::lock_guard<std::mutex> lock(mutex_);
   if (per_second <= 0) return true; // a rate of 0 turns the limit off (Synapse's rule)
   auto [it, fresh] = buckets_.try_emplace(key);
   Bucket &b = it->second;
   if (fresh) b = {static_cast<double>(burst), now};
   b.tokens = std::min(static_cast<double>(burst), b.tokens + per_second * static_cast<double>(now - b.updated_ms) / 1000.0);
   b.updated_ms = now;
   if (b.tokens >= 1.0) {
      b.tokens -= 1.0;
      return true;
   }
   retry_after_ms = static_cast<int64_t>(std::ceil((1.0 - b.tokens) / per_second * 1000.0));
   return false;
}

App::App(HostConfig config, LogSink log)
   : config_(std::move(config)), log_(std::move(log)), state_(config_.server_name), router_(*this) {
   homeserver_ = std::make_unique<HomeserverHost>(*this);
   modules_ = std::make_unique<ModuleHost>(module_options(config_, log_, *homeserver_), metrics_);
   // Actions queued by the modules' init start now that the server is whole.
   homeserver_->start(std::max<size_t>(2, config_.limits.worker_threads / 2));
}

App::~App() { homeserver_->shutdown(); }

std::string App::next_request_id() { return fmt::format("req-{}", ++requests_); }

void App::log(modkit_log_level level, const std::string &line) const {
   if (log_) log_(level, "", line);
   else std::fprintf(stderr, "[host] %s\n", line.c_str());
}

void App::check(const Done &done, const char *what) const {
   if (!done.error()) return;
   throw MatrixError(500, "M_UNKNOWN",
                     fmt::format("{} failed in module '{}' ({})", what, done.module, modkit_status_name(done.outcome.status)));
}

EventArg App::event_arg(const Event &event) const {
   EventArg a;
   a.event_id = event.event_id;
   a.room_id = event.room_id;
   a.sender = event.sender;
   a.type = event.type;
   a.state_key = event.state_key;
   a.content = event.content.dump();
   a.origin_server_ts = event.origin_server_ts;
   return a;
}

void App::check_event(const Event &event) const {
   const size_t max = config_.limits.max_identifier_length;
   if (!valid_room_id(event.room_id, max) || !valid_user_id(event.sender) || !valid_event_type(event.type, max) ||
       (event.state_key && !valid_state_key(*event.state_key, max)) ||
       (!event.event_id.empty() && !valid_event_id(event.event_id, max)))
      throw MatrixError(400, "M_INVALID_PARAM", "Invalid event: its IDs, type and state key must follow the Matrix grammar");
   // The size the spec bounds is the whole event as servers exchange it; ours lacks signatures
   // and hashes, so the bound is met with room to spare once they are added elsewhere. It is
   // summed from the parts, so the content is serialised once, not copied into a whole PDU.
   json pdu = event.envelope();
   pdu["origin"] = event.origin;
   const size_t size = pdu.dump(-1, ' ', false, json::error_handler_t::replace).size() +
                       std::strlen(",\"content\":") +
                       event.content.dump(-1, ' ', false, json::error_handler_t::replace).size();
   if (size > config_.limits.max_event_size)
      throw MatrixError(413, "M_TOO_LARGE", fmt::format("Event too large: {} bytes, at most {}", size, config_.limits.max_event_size));
}

std::string App::send_event(Ctx &ctx, Event event, SendOptions options) {
   check_event(event);
   // The room's state is built only when a rules module will read it (see has_callbacks).
   const bool rules = modules_->has_callbacks(MODKIT_THIRD_PARTY_RULES_ID, MODKIT_THIRD_PARTY_RULES_CHECK_EVENT_ALLOWED);
   json state_before = json::object();
   {
      std::lock_guard<std::mutex> lock(state_.mutex);
      event.event_id = state_.new_id('$');
      auto sender = state_.users.find(event.sender);
      if (options.shadow_ban && sender != state_.users.end() && sender->second.shadow_banned) {
         // Shadow-banned: the client sees success, nobody else sees the event (Synapse's rule).
         ctx.trace.note("sender is shadow-banned: the event is dropped silently");
         return event.event_id;
      }
      if (rules) state_before = state_.state_json(event.room_id);
   }
   event.origin = config_.server_name;
   event.origin_server_ts = now_ms();
   // Built once: the three dispatches below read the same event until a module replaces it.
   EventArg arg = event_arg(event);
   if (options.spam_check) {
      const auto spam = modules_->check_event_for_spam(ctx.call, arg);
      check(spam, "check_event_for_spam");
      if (spam.answer != MODKIT_NOT_SPAM)
         throw module_refusal(spam, 403, modkit_spam_result_errcode(spam.answer),
                           fmt::format("This message has been rejected as probable spam (module '{}')", spam.module));
   }
   json replacement;
   const auto allowed = modules_->check_event_allowed(ctx.call, arg, state_before, replacement);
   check(allowed, "check_event_allowed");
   if (allowed.answer == MODKIT_EVENT_DENY)
      throw module_refusal(allowed, 403, "M_FORBIDDEN", fmt::format("This event is not allowed in this context (module '{}')",
                                                        allowed.module));
   if (allowed.answer == MODKIT_EVENT_REPLACE) {
      // A replacement may change the content; the event's identity stays the host's.
      for (const char *key : {"event_id", "room_id", "sender", "type", "state_key"}) {
         if (!replacement.contains(key)) continue;
         const json mine = event.to_client().value(key, json());
         if (replacement[key] != mine)
            throw MatrixError(500, "M_UNKNOWN", fmt::format("module '{}' replaced the event but changed its {}",
                                                            allowed.module, key));
      }
      if (!replacement.value("content", json()).is_object())
         throw MatrixError(500, "M_UNKNOWN",
                           fmt::format("module '{}' replaced the event without a content object", allowed.module));
      event.content = replacement["content"];
      arg.content = event.content.dump();
      ctx.trace.note("event content replaced by " + allowed.module);
   }
   const std::string id = event.event_id;
   commit_event(ctx, std::move(event), &arg);
   return id;
}

void App::commit_event(Ctx &ctx, Event event, const EventArg *arg) {
   json state_after = json::object();
   std::set<std::string> servers;
   json pdu;
   // Arguments no module would read are not built (see has_callbacks).
   const bool notify = modules_->has_callbacks(MODKIT_THIRD_PARTY_RULES_ID, MODKIT_THIRD_PARTY_RULES_ON_NEW_EVENT);
   const bool deliver = event.origin == config_.server_name && modules_->wants_federation_deliveries();
   {
      std::lock_guard<std::mutex> lock(state_.mutex);
      state_.append(event);
      if (notify) state_after = state_.state_json(event.room_id);
      if (deliver) {
         for (const char *m : {"join", "invite"})
            for (const auto &member : state_.members(event.room_id, m))
               if (!state_.is_local(member)) servers.insert(server_of(member));
         pdu = state_.events[event.event_id].to_pdu();
      }
   }
   // on_new_event fails open: a module's error is logged by the dispatch, never fails the request.
   EventArg built;
   if (!arg) arg = &(built = event_arg(event));
   modules_->on_new_event(ctx.call, *arg, state_after);
   // Other servers with members in the room receive the event (simulated: no network).
   if (deliver && !servers.empty()) {
      for (const auto &server : servers) {
         modules_->on_event_delivered_over_federation(ctx.call, server, json::array({pdu}), MODKIT_FEDERATION_DELIVERY_SEND);
         ctx.trace.note("delivered " + event.event_id + " to " + server + " over /send");
      }
   }
}

json App::serve_event(Ctx &ctx, const Event &event) {
   json out = event.to_client();
   json unsigned_ = {{"age", std::max<int64_t>(0, now_ms() - event.origin_server_ts)}};
   if (event.redacted_by) {
      std::lock_guard<std::mutex> lock(state_.mutex);
      auto because = state_.events.find(*event.redacted_by);
      if (because != state_.events.end()) unsigned_["redacted_because"] = because->second.to_client();
   }
   const auto extra = modules_->add_field_to_unsigned(ctx.call, event_arg(event), host_unsigned_keys);
   check(extra, "add_field_to_unsigned");
   for (const auto &[k, v] : extra.answer.items()) unsigned_[k] = v;
   out["unsigned"] = unsigned_;
   return out;
}

std::vector<std::string> App::route_presence(Ctx &ctx, const std::string &user_id, const Presence &presence) {
   const json update = json::array({{{"user_id", user_id},
                                     {"state", presence.presence},
                                     {"last_active_ts", presence.last_active_ts},
                                     {"last_federation_update_ts", 0},
                                     {"last_user_sync_ts", presence.last_active_ts},
                                     {"status_msg", presence.status_msg ? json(*presence.status_msg) : json()},
                                     {"currently_active", presence.currently_active}}});
   std::set<std::string> recipients{user_id};
   std::vector<std::string> locals;
   {
      std::lock_guard<std::mutex> lock(state_.mutex);
      for (const auto &[id, user] : state_.users) {
         if (user.deactivated) continue;
         locals.push_back(id);
         if (id != user_id && state_.share_room(id, user_id)) recipients.insert(id);
      }
   }
   // Modules add recipients both ways: by update (get_users_for_states) and by recipient
   // (get_interested_users), as Synapse's presence handler does.
   const auto by_state = modules_->get_users_for_states(ctx.call, update);
   for (const auto &[user, indices] : by_state.answer)
      if (indices.count(0)) recipients.insert(user);
   for (const auto &local : locals) {
      if (recipients.count(local)) continue;
      const auto interested = modules_->get_interested_users(ctx.call, local);
      if (interested.answer.all || interested.answer.users.count(user_id)) recipients.insert(local);
   }
   std::vector<std::string> delivered;
   std::lock_guard<std::mutex> lock(state_.mutex);
   const uint64_t stream = state_.next_stream();
   for (const auto &r : recipients) {
      if (!state_.is_local(r)) {
         delivered.push_back(r + " (over federation)");
         continue;
      }
      if (!state_.users.count(r)) continue;
      state_.presence_inbox[r].push_back({stream, user_id, presence});
      delivered.push_back(r);
   }
   return delivered;
}

bool App::presence_visible(Ctx &ctx, const std::string &viewer, const std::string &user_id) {
   if (viewer == user_id) return true;
   {
      std::lock_guard<std::mutex> lock(state_.mutex);
      if (state_.share_room(viewer, user_id)) return true;
   }
   const auto interested = modules_->get_interested_users(ctx.call, viewer);
   return interested.answer.all || interested.answer.users.count(user_id) > 0;
}

} // namespace chat

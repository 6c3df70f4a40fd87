// callbacks_misc.cpp - dispatch of the presence router, background update controller, account
// data, extra unsigned fields, media repository, rate limit and federation callbacks.
#include "dispatch_support.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace chat {

using PR = modkit_presence_router_callbacks;
using BUC = modkit_background_update_controller_callbacks;
using AD = modkit_account_data_callbacks;
using EUF = modkit_extra_unsigned_fields_callbacks;
using MR = modkit_media_repository_callbacks;
using RL = modkit_ratelimit_callbacks;
using FED = modkit_federation_callbacks;

// ---- presence router ----

Decision<std::map<std::string, std::set<size_t>>> ModuleHost::get_users_for_states(CallContext &ctx,
                                                                                  const json &states) {
   using Routes = std::map<std::string, std::set<size_t>>;
   Scope scope(*this, ctx, callback_name<&PR::get_users_for_states>("get_users_for_states"));
   auto slot = scope.slot<&PR::get_users_for_states>();
   const std::string text = states.dump();
   auto buffer = std::make_shared<Buffer>();
   Routes merged;
   const modkit::Outcome out = scope.merge<Routes>(
      slot.raw(),
      [&, buffer](const modkit_loader_entry &e, modkit_call *call, Routes *) {
         return slot.fn(e)(e.user_data, call, view(text), buffer->fresh());
      },
      [&, buffer](const modkit_loader_entry &e, modkit_status s, Routes *routes) {
         if (s != MODKIT_OK) return s;
         const std::string answer = buffer->text();
         const json parsed = answer.empty() ? json::object() : json::parse(answer, nullptr, false);
         if (!parsed.is_object()) {
            scope.reject(e, "users is not a JSON object of user ID -> indices");
            return modkit_status{MODKIT_E_INVALID_ARGUMENT};
         }
         for (const auto &[user, indices] : parsed.items()) {
            if (!indices.is_array()) {
               scope.reject(e, "the indices for " + user + " are not an array");
               return modkit_status{MODKIT_E_INVALID_ARGUMENT};
            }
            for (const auto &i : indices) {
               if (!i.is_number_unsigned() || i.get<size_t>() >= states.size()) {
                  scope.reject(e, "index " + i.dump() + " for " + user + " is out of range");
                  return modkit_status{MODKIT_E_INVALID_ARGUMENT};
               }
               (*routes)[user].insert(i.get<size_t>());
            }
         }
         scope.annotate(answer.empty() ? "{}" : parsed.dump());
         return s;
      },
      [&](const Routes &routes, const modkit_loader_entry &e) {
         if (!routes.empty()) scope.contribute(e);
         for (const auto &[user, indices] : routes) merged[user].insert(indices.begin(), indices.end());
         return false;
      });
   return scope.finish(out, merged);
}

Decision<ModuleHost::Interested> ModuleHost::get_interested_users(CallContext &ctx, const std::string &user) {
   Scope scope(*this, ctx, callback_name<&PR::get_interested_users>("get_interested_users"));
   auto slot = scope.slot<&PR::get_interested_users>();
   // The module's outputs: the buffer and the "ALL" flag.
   struct Outputs {
      Buffer buffer;
      bool all = false;
   };
   auto outputs = std::make_shared<Outputs>();
   Interested merged;
   const modkit::Outcome out = scope.merge<Interested>(
      slot.raw(),
      [&, outputs](const modkit_loader_entry &e, modkit_call *call, Interested *) {
         outputs->all = false;
         return slot.fn(e)(e.user_data, call, view(user), &outputs->all, outputs->buffer.fresh());
      },
      [&, outputs](const modkit_loader_entry &e, modkit_status s, Interested *answer) {
         if (s != MODKIT_OK) return s;
         if (outputs->all) {
            answer->all = true;
            scope.annotate("ALL");
            return s;
         }
         const std::string text = outputs->buffer.text();
         const json parsed = text.empty() ? json::array() : json::parse(text, nullptr, false);
         if (!parsed.is_array() ||
             !std::all_of(parsed.begin(), parsed.end(), [](const json &u) { return u.is_string(); })) {
            scope.reject(e, "user_ids is not a JSON array of user IDs");
            return modkit_status{MODKIT_E_INVALID_ARGUMENT};
         }
         for (const auto &u : parsed) answer->users.insert(u.get<std::string>());
         scope.annotate(parsed.dump());
         return s;
      },
      [&](const Interested &answer, const modkit_loader_entry &e) {
         if (answer.all || !answer.users.empty()) scope.contribute(e);
         if (answer.all) merged.all = true; // "ALL": later modules are not asked
         merged.users.insert(answer.users.begin(), answer.users.end());
         return answer.all;
      });
   return scope.finish(out, merged, merged.all ? "ALL" : "");
}

// ---- background update controller ----

uint32_t ModuleHost::background_owner(const modkit_loader_snapshot &snapshot) const {
   // on_update is required, so its first registrant is the category's first registrant.
   const int32_t category = modkit_loader_category_index(loader_->get(), MODKIT_BACKGROUND_UPDATE_CONTROLLER_ID);
   const modkit_loader_slot *slot = modkit_loader_snapshot_slot(&snapshot, static_cast<uint32_t>(category),
                                                                MODKIT_BACKGROUND_UPDATE_CONTROLLER_ON_UPDATE);
   return slot && slot->count > 0 ? slot->entries[0].module_index : UINT32_MAX;
}

namespace {

// The owner's entry alone: another module's callback never stands in for a slot the owner
// left null.
modkit_loader_slot owner_only(const modkit_loader_slot &slot, uint32_t owner) {
   modkit_loader_slot one = slot;
   one.count = 0;
   for (size_t i = 0; i < slot.count; ++i) {
      if (slot.entries[i].module_index == owner) {
         one.entries = &slot.entries[i];
         one.count = 1;
         break;
      }
   }
   return one;
}

// Suspendable; the owner is found in the dispatch's own snapshot, so both see one module set.
template <auto Member, class Owner, class... Args>
Decision<int32_t> ask_owner(ModuleHost &host, CallContext &ctx, const char *name, Owner owner_of,
                            const Args &...args) {
   Scope scope(host, ctx, callback_name<Member>(name));
   auto slot = scope.template slot<Member>();
   auto frame = std::make_shared<Frame>();
   // The dispatch reads its slot until it ends: the one-entry slot lives in its Frame.
   const modkit_loader_slot &one = frame->keep(owner_only(slot.raw(), owner_of(scope.snapshot())));
   int32_t answer = 0;
   modkit::Outcome out;
   scope.on_continue("0");
   modkit::AsyncHandle handle = modkit::async::single<int32_t>(
      scope.context(), one, owned_invoke<Member>(scope, frame, args...),
      scope.done(out, answer, [](int32_t a) { return std::to_string(a); }), int32_t{0}, scope.observer());
   scope.wait(handle);
   return scope.finish(out, answer, std::to_string(answer));
}

} // namespace

Decision<int32_t> ModuleHost::on_update(CallContext &ctx, const std::string &update, const std::string &database,
                                        bool one_shot) {
   return ask_owner<&BUC::on_update>(
      *this, ctx, "on_update", [this](const modkit_loader_snapshot &s) { return background_owner(s); }, view(update),
      view(database), one_shot);
}

Decision<int32_t> ModuleHost::default_batch_size(CallContext &ctx, const std::string &update,
                                                 const std::string &database) {
   return ask_owner<&BUC::default_batch_size>(
      *this, ctx, "default_batch_size", [this](const modkit_loader_snapshot &s) { return background_owner(s); },
      view(update), view(database));
}

Decision<int32_t> ModuleHost::min_batch_size(CallContext &ctx, const std::string &update,
                                             const std::string &database) {
   return ask_owner<&BUC::min_batch_size>(
      *this, ctx, "min_batch_size", [this](const modkit_loader_snapshot &s) { return background_owner(s); },
      view(update), view(database));
}

// ---- account data, extra unsigned fields ----

Done ModuleHost::on_account_data_updated(CallContext &ctx, const std::string &user,
                                         const std::optional<std::string> &room, const std::string &type,
                                         const json &content) {
   const std::string text = content.dump();
   return notify_all<&AD::on_account_data_updated>(*this, ctx, "on_account_data_updated", view(user), view(room),
                                                   view(type), view(text));
}

Decision<json> ModuleHost::add_field_to_unsigned(CallContext &ctx, const EventArg &event,
                                                 const std::set<std::string> &host_keys) {
   Scope scope(*this, ctx, callback_name<&EUF::add_field_to_unsigned>("add_field_to_unsigned"));
   auto slot = scope.slot<&EUF::add_field_to_unsigned>();
   const modkit_event e = event.view();
   auto buffer = std::make_shared<Buffer>();
   json merged = json::object();
   const modkit::Outcome out = scope.merge<json>(
      slot.raw(),
      [&, buffer](const modkit_loader_entry &x, modkit_call *call, json *) {
         return slot.fn(x)(x.user_data, call, &e, buffer->fresh());
      },
      [&, buffer](const modkit_loader_entry &x, modkit_status s, json *fields) {
         if (s != MODKIT_OK) return s;
         const std::string text = buffer->text();
         *fields = text.empty() ? json::object() : json::parse(text, nullptr, false);
         if (!fields->is_object()) {
            scope.reject(x, "fields is not a JSON object");
            return modkit_status{MODKIT_E_INVALID_ARGUMENT};
         }
         scope.annotate(fields->dump());
         return s;
      },
      [&](const json &fields, const modkit_loader_entry &e) {
         if (!fields.empty()) scope.contribute(e);
         for (const auto &[key, value] : fields.items())
            if (!host_keys.count(key)) merged[key] = value; // later modules overwrite: last writer wins
         return false;
      });
   return scope.finish(out, merged);
}

// ---- media repository ----

Decision<std::optional<json>> ModuleHost::get_media_config_for_user(CallContext &ctx, const std::string &user) {
   Scope scope(*this, ctx, callback_name<&MR::get_media_config_for_user>("get_media_config_for_user"));
   auto slot = scope.slot<&MR::get_media_config_for_user>();
   auto buffer = std::make_shared<Buffer>();
   json config;
   bool found = false;
   const modkit::Outcome out = scope.first_non_zero(
      slot.raw(), found,
      [&, buffer](const modkit_loader_entry &e, modkit_call *call, bool *f) {
         return slot.fn(e)(e.user_data, call, view(user), f, buffer->fresh());
      },
      [&, buffer](const modkit_loader_entry &e, modkit_status s, bool *f) {
         if (s != MODKIT_OK || !*f) return s;
         config = json::parse(buffer->text(), nullptr, false);
         if (!config.is_object()) {
            scope.reject(e, "config is not a JSON object");
            return modkit_status{MODKIT_E_INVALID_ARGUMENT};
         }
         if (config.empty()) *f = false; // Synapse passes over an empty answer
         scope.annotate(config.dump());
         return s;
      },
      false);
   std::optional<json> answer;
   if (out.kind == modkit::Outcome::Kind::decided) answer = config;
   return scope.finish(out, answer, answer ? answer->dump() : "");
}

Decision<bool> ModuleHost::is_user_allowed_to_upload_media_of_size(CallContext &ctx, const std::string &user,
                                                                   uint64_t size) {
   return ask_all<&MR::is_user_allowed_to_upload_media_of_size>(*this, ctx, "is_user_allowed_to_upload_media_of_size",
                                                                view(user), size);
}

Decision<std::optional<std::vector<UploadLimit>>> ModuleHost::get_media_upload_limits_for_user(
   CallContext &ctx, const std::string &user) {
   Scope scope(*this, ctx, callback_name<&MR::get_media_upload_limits_for_user>("get_media_upload_limits_for_user"));
   auto slot = scope.slot<&MR::get_media_upload_limits_for_user>();
   auto buffer = std::make_shared<Buffer>();
   std::vector<UploadLimit> limits;
   bool found = false;
   const modkit::Outcome out = scope.first_non_zero(
      slot.raw(), found,
      [&, buffer](const modkit_loader_entry &e, modkit_call *call, bool *f) {
         return slot.fn(e)(e.user_data, call, view(user), f, buffer->fresh());
      },
      [&, buffer](const modkit_loader_entry &e, modkit_status s, bool *f) {
         if (s != MODKIT_OK || !*f) return s;
         const json parsed = json::parse(buffer->text(), nullptr, false);
         limits.clear();
         const bool shaped = parsed.is_array() && std::all_of(parsed.begin(), parsed.end(), [](const json &l) {
            return l.is_object() && l.value("max_bytes", json()).is_number_unsigned() &&
                   l.value("time_period_ms", json()).is_number_integer() &&
                   l.value("time_period_ms", json()).get<int64_t>() > 0;
         });
         if (!shaped) {
            scope.reject(e, "limits is not an array of {max_bytes, time_period_ms > 0}");
            return modkit_status{MODKIT_E_INVALID_ARGUMENT};
         }
         for (const auto &l : parsed) limits.push_back({l["max_bytes"].get<uint64_t>(), l["time_period_ms"].get<int64_t>()});
         scope.annotate(parsed.dump());
         return s;
      },
      false);
   std::optional<std::vector<UploadLimit>> answer;
   if (out.kind == modkit::Outcome::Kind::decided) {
      // Longest period first, as Synapse sorts them.
      std::sort(limits.begin(), limits.end(),
                [](const UploadLimit &a, const UploadLimit &b) { return a.time_period_ms > b.time_period_ms; });
      answer = limits;
   }
   return scope.finish(out, answer, answer ? std::to_string(answer->size()) + " limit(s)" : "");
}

Done ModuleHost::on_media_upload_limit_exceeded(CallContext &ctx, const std::string &user, const UploadLimit &limit,
                                                uint64_t sent, uint64_t attempted) {
   modkit_media_upload_limit l{};
   l.struct_size = sizeof l;
   l.max_bytes = limit.max_bytes;
   l.time_period_ms = limit.time_period_ms;
   return notify_all<&MR::on_media_upload_limit_exceeded>(*this, ctx, "on_media_upload_limit_exceeded", view(user),
                                                          static_cast<const modkit_media_upload_limit *>(&l), sent,
                                                          attempted);
}

// ---- rate limit, federation ----

Decision<std::optional<RatelimitOverride>> ModuleHost::get_ratelimit_override_for_user(CallContext &ctx,
                                                                                        const std::string &user,
                                                                                        const std::string &limiter) {
   Scope scope(*this, ctx, callback_name<&RL::get_ratelimit_override_for_user>("get_ratelimit_override_for_user"));
   auto slot = scope.slot<&RL::get_ratelimit_override_for_user>();
   RatelimitOverride chosen;
   bool found = false;
   // The module's outputs besides found.
   auto given = std::make_shared<RatelimitOverride>();
   const modkit::Outcome out = scope.first_non_zero(
      slot.raw(), found,
      [&, given](const modkit_loader_entry &e, modkit_call *call, bool *f) {
         *given = {};
         return slot.fn(e)(e.user_data, call, view(user), view(limiter), f, &given->per_second, &given->burst_count);
      },
      [&, given](const modkit_loader_entry &e, modkit_status s, bool *f) {
         if (s != MODKIT_OK || !*f) return s;
         if (given->per_second < 0 || given->burst_count < 0) {
            scope.reject(e, "negative rate or burst");
            return modkit_status{MODKIT_E_INVALID_ARGUMENT};
         }
         chosen = *given;
         scope.annotate(fmt::format("{}/s burst {}", given->per_second, given->burst_count));
         return s;
      },
      false);
   std::optional<RatelimitOverride> answer;
   if (out.kind == modkit::Outcome::Kind::decided) answer = chosen;
   return scope.finish(out, answer, answer ? fmt::format("{}/s burst {}", chosen.per_second, chosen.burst_count) : "");
}

Done ModuleHost::on_event_delivered_over_federation(CallContext &ctx, const std::string &server, const json &events,
                                                    modkit_federation_delivery_method method) {
   const std::string text = events.dump();
   modkit_federation_delivery d{};
   d.struct_size = sizeof d;
   d.server_name = view(server);
   d.events_json = view(text);
   d.method = method;
   return notify_all<&FED::on_event_delivered_over_federation>(*this, ctx, "on_event_delivered_over_federation",
                                                               static_cast<const modkit_federation_delivery *>(&d));
}

bool ModuleHost::has_callbacks(const char *category_id, uint32_t slot_index) const {
   modkit::ReadGuard guard(reader());
   const int32_t category = modkit_loader_category_index(loader_->get(), category_id);
   if (category < 0) return false;
   const modkit_loader_slot *slot = modkit_loader_snapshot_slot(&guard.snapshot(), static_cast<uint32_t>(category), slot_index);
   return slot && slot->count > 0;
}

bool ModuleHost::wants_federation_deliveries() const {
   return has_callbacks(MODKIT_FEDERATION_ID, MODKIT_FEDERATION_ON_EVENT_DELIVERED_OVER_FEDERATION);
}

} // namespace chat

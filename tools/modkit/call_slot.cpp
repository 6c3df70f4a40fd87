#include "call_slot.hpp"

#include "output.hpp"
#include "standard_categories.hpp"

#include <modkit/loader.h>

#include <cstring>
#include <ctime>
#include <memory>

namespace modkit::cli {
namespace {

const char modkit_prefix[] = "modkit.";

std::string category_list() {
   std::string out;
   for (const modkit_category *c : standard_category_descriptors()) out += (out.empty() ? "" : ", ") + std::string(c->id);
   return out;
}

std::string slot_list(const modkit_category &c) {
   std::string out;
   for (uint32_t i = 0; i < c.slot_count; ++i) out += (out.empty() ? "" : ", ") + std::string(c.slots[i].name);
   return out;
}

const modkit_category *find_category(const std::string &id) {
   for (const modkit_category *c : standard_category_descriptors()) {
      if (id == c->id || modkit_prefix + id == c->id) return c;
   }
   return nullptr;
}

int64_t monotonic_ns() {
   timespec now{};
   ::clock_gettime(CLOCK_MONOTONIC, &now);
   return int64_t(now.tv_sec) * 1000000000 + now.tv_nsec;
}

} // namespace

std::string SlotTarget::name() const { return std::string(category->id) + "." + slot->name; }

SlotTarget resolve_target(const std::string &target) {
   // Category IDs contain dots and slot names do not, so the slot is what follows the last one.
   const size_t dot = target.rfind('.');
   if (dot == std::string::npos || dot == 0 || dot + 1 == target.size())
      throw UsageError("the callback must be named CATEGORY.SLOT, e.g. spam_checker.check_event_for_spam, not \"" +
                       target + "\"");
   const std::string category = target.substr(0, dot), slot = target.substr(dot + 1);
   SlotTarget out;
   out.category = find_category(category);
   if (out.category == nullptr)
      throw UsageError("no category \"" + category + "\"; the standard categories are " + category_list());
   for (uint32_t i = 0; i < out.category->slot_count; ++i) {
      if (slot == out.category->slots[i].name) out.slot = &out.category->slots[i];
   }
   if (out.slot == nullptr)
      throw UsageError("category " + std::string(out.category->id) + " has no slot \"" + slot + "\"; its slots are " +
                       slot_list(*out.category));
   return out;
}

void call_slot(Reporter &reporter, modkit::Loader &loader, const SlotTarget &target, const std::string &args_json,
               double deadline_seconds) {
   reporter.send({{"event", "phase"}, {"phase", "call"}});
   const std::unique_ptr<modkit_buffer, void (*)(modkit_buffer *)> result(modkit_loader_buffer_create(),
                                                                          modkit_loader_buffer_destroy);
   if (!result) throw std::bad_alloc();
   static const char request_id[] = "modkit-call";
   modkit_call call = modkit_call_make({request_id, sizeof request_id - 1});
   call.deadline_ns = monotonic_ns() + int64_t(deadline_seconds * 1e9);
   const modkit_status status = modkit_loader_dispatch_json(loader.get(), target.category->id, target.slot->name,
                                                            args_json.data(), args_json.size(), &call, result.get());
   const modkit_str text = modkit_loader_buffer_data(result.get());
   nlohmann::json doc = nullptr;
   if (text.size > 0) {
      doc = nlohmann::json::parse(text.data, text.data + text.size, nullptr, false);
      if (doc.is_discarded()) doc = std::string(text.data, text.size); // shown as the loader wrote it
   }
   reporter.send({{"event", "called"}, {"status", modkit_status_name(status)}, {"code", status}, {"result", std::move(doc)}});
}

} // namespace modkit::cli

// modkit/loader.hpp - C++ RAII over the loader's C API, for C++ hosts.
//
//   modkit::Loader loader({modkit_spam_checker_category()});
//   loader.load_file("modules.json");                 // throws modkit::LoadError with every error
//   auto spam = loader.slot<&modkit_spam_checker_callbacks::check_event_for_spam>(MODKIT_SPAM_CHECKER_ID);
//   for (const auto &e : spam) spam.fn(e)(e.user_data, &call, &event, &result);
//
// Header-only, so the loader library exports C functions only. Thread rules are those of
// modkit/loader.h: load and destruction on one thread; slots, modules and dispatch from any.
#pragma once

#include <modkit/async.hpp>
#include <modkit/dispatch.hpp>
#include <modkit/loader.h>

#include <cstring>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace modkit {

// One refusal, copied out of the loader (see modkit_loader_error).
struct LoadErrorItem {
   modkit_status code;
   std::string stage, module, file, pointer, message, text;
};

// Thrown when a load fails; what() lists every error, one per line.
class LoadError : public std::runtime_error {
public:
   LoadError(modkit_status code, std::vector<LoadErrorItem> items)
      : std::runtime_error(join(items)), code_(code), items_(std::move(items)) {}
   modkit_status code() const noexcept { return code_; }
   const std::vector<LoadErrorItem> &errors() const noexcept { return items_; }

private:
   static std::string join(const std::vector<LoadErrorItem> &items) {
      std::string out = items.empty() ? "modkit: load failed" : "";
      for (const auto &i : items) out += (out.empty() ? "" : "\n") + i.text;
      return out;
   }
   modkit_status code_;
   std::vector<LoadErrorItem> items_;
};

namespace detail {
template <class M> struct member_slot;
template <class C, class F> struct member_slot<F C::*> {
   using callbacks = C;
   using fn = F;
};
} // namespace detail

// The registrants of one slot, typed by the callbacks struct member it stands for.
template <auto Member>
class Slot {
public:
   using callbacks_type = typename detail::member_slot<decltype(Member)>::callbacks;
   using fn_type = typename detail::member_slot<decltype(Member)>::fn;

   explicit Slot(const modkit_loader_slot *slot) : slot_(slot) {}

   const modkit_loader_slot &raw() const { return *slot_; }
   const modkit_loader_entry *begin() const { return slot_->entries; }
   const modkit_loader_entry *end() const { return slot_->entries + slot_->count; }
   size_t size() const { return slot_->count; }
   bool empty() const { return slot_->count == 0; }

   // The entry's function pointer at the slot's real type.
   static fn_type fn(const modkit_loader_entry &entry) {
      fn_type f;
      static_assert(sizeof f == sizeof entry.fn, "function pointer sizes differ");
      std::memcpy(&f, &entry.fn, sizeof f);
      return f;
   }

   // offsetof(callbacks_type, Member), computed without undefined behaviour.
   static uint32_t offset() {
      static const callbacks_type probe{};
      return static_cast<uint32_t>(reinterpret_cast<const char *>(&(probe.*Member)) -
                                   reinterpret_cast<const char *>(&probe));
   }

private:
   const modkit_loader_slot *slot_;
};

// Where a slot lives in snapshots; found once, used on every dispatch.
struct SlotRef {
   uint32_t category;
   uint32_t slot;
};

// A read section on the calling thread (see modkit/loader.h): slots read through it stay valid,
// and their modules loaded, until the guard is destroyed, even while another thread unloads or
// reloads modules. Costs two plain stores; never blocks. Not movable across threads.
class ReadGuard {
public:
   explicit ReadGuard(modkit_loader_reader *reader)
      : reader_(reader), outermost_(reader->depth == 0), snapshot_(modkit_loader_read_begin(reader)) {}
   ~ReadGuard() {
      // The outermost section ends as modkit_loader_read_end would, but with constant stores:
      // decrementing depth would chain every section of a dispatch loop to the one before
      // through that counter's store and reload, a few cycles each, more than a dispatch of
      // one module costs.
      if (outermost_) {
         reader_->depth = 0;
         __atomic_store_n(&reader_->active, uint64_t{0}, __ATOMIC_RELEASE);
      } else {
         modkit_loader_read_end(reader_);
      }
   }
   ReadGuard(const ReadGuard &) = delete;
   ReadGuard &operator=(const ReadGuard &) = delete;

   const modkit_loader_snapshot &snapshot() const { return *snapshot_; }
   modkit_loader_reader *reader() const { return reader_; }

   // A SlotRef comes from Loader::slot_ref, which checked it, and a loader's categories and
   // their slots never change, so no bounds check is needed here.
   template <auto Member>
   Slot<Member> slot(SlotRef ref) const {
      return Slot<Member>(&snapshot_->slots[ref.category][ref.slot]);
   }

   // Wraps invoke(entry, outputs...) -> status so that every call is counted in the loader's
   // per-callback metrics (modkit/loader.h): no lock, no allocation.
   //   modkit::first_non_zero(slot.raw(), answer, guard.metered([&](const modkit_loader_entry &e, T *r) {...}));
   template <class Invoke>
   auto metered(Invoke &&invoke) const {
      return [reader = reader_, &invoke](const modkit_loader_entry &e, auto *...out) -> modkit_status {
         const uint64_t started = modkit_loader_metrics_begin(reader);
         const modkit_status status = invoke(e, out...);
         modkit_loader_metrics_end(reader, &e, status, started);
         return status;
      };
   }

private:
   modkit_loader_reader *reader_;
   bool outermost_;
   const modkit_loader_snapshot *snapshot_;
};

class Loader {
public:
   struct Options {
      std::vector<const modkit_category *> categories;
      std::string base_dir;
      bool allow_any_owner = false;
      std::vector<std::string> reserved_web_prefixes;
      // Receives every log line; empty: stderr.
      std::function<void(modkit_log_level, const char *module, std::string_view)> log;
      std::function<const void *(const char *extension_id)> get_extension;
      // How long unload and reload wait for suspended calls (modkit_loader_options); 0: default.
      uint32_t pending_wait_ms = 0;
      // A host that replaces standard services through get_extension stops a module instance's
      // work in them here (modkit_loader_options.module_stopping); main thread, before deinit.
      std::function<void(modkit_host *)> module_stopping = nullptr;
   };

   explicit Loader(std::vector<const modkit_category *> categories)
      : Loader(Options{std::move(categories), {}, false, {}, {}, {}, 0}) {}

   explicit Loader(Options options) : state_(std::make_unique<State>()) {
      state_->options = std::move(options);
      for (const auto &p : state_->options.reserved_web_prefixes) state_->reserved.push_back(p.c_str());
      modkit_loader_options o{};
      o.struct_size = sizeof o;
      o.categories = state_->options.categories.data();
      o.category_count = state_->options.categories.size();
      o.base_dir = state_->options.base_dir.empty() ? nullptr : state_->options.base_dir.c_str();
      o.allow_any_owner = state_->options.allow_any_owner;
      o.reserved_web_prefixes = state_->reserved.data();
      o.reserved_web_prefix_count = state_->reserved.size();
      o.pending_wait_ms = state_->options.pending_wait_ms;
      if (state_->options.log) {
         o.log = &State::log;
         o.log_user_data = state_.get();
      }
      if (state_->options.get_extension) o.get_extension = &State::extension;
      if (state_->options.module_stopping) o.module_stopping = &State::stopping;
      o.extension_user_data = state_.get();
      const modkit_status status = modkit_loader_create(&o, &loader_);
      if (status != MODKIT_OK)
         throw LoadError(status, {{status, "create", "", "", "", "", "modkit: invalid loader options or category"}});
   }

   ~Loader() { modkit_loader_destroy(loader_); }

   // modkit_loader_metrics_text as a string: every module's metrics and the per-callback ones
   // (or what says). [thread-safe]
   std::string metrics_text(uint32_t what = MODKIT_LOADER_METRICS_MODULES | MODKIT_LOADER_METRICS_CALLBACKS) const {
      std::string out;
      modkit_loader_metrics_text(
         loader_, what, [](void *to, const char *data, size_t size) { static_cast<std::string *>(to)->append(data, size); },
         &out);
      return out;
   }
   Loader(const Loader &) = delete;
   Loader &operator=(const Loader &) = delete;

   // Loads a host config; throws LoadError listing every error.
   void load(std::string_view config_json) { check(modkit_loader_load(loader_, config_json.data(), config_json.size())); }
   void load_file(const std::string &path) { check(modkit_loader_load_file(loader_, path.c_str())); }

   size_t module_count() const { return modkit_loader_module_count(loader_); }
   const modkit_loader_module &module(size_t index) const {
      const modkit_loader_module *m = modkit_loader_module_at(loader_, index);
      if (!m) throw std::out_of_range("modkit::Loader::module: index out of range");
      return *m;
   }

   // The registrants of the slot Member stands for, in category category_id.
   template <auto Member>
   Slot<Member> slot(const char *category_id) const {
      const uint32_t offset = Slot<Member>::offset();
      for (uint32_t i = 0;; ++i) {
         const modkit_loader_slot *s = nullptr;
         const modkit_status status = modkit_loader_slot_at(loader_, category_id, i, &s);
         if (status == MODKIT_E_STATE) throw_racing_change("slot");
         if (status != MODKIT_OK)
            throw std::invalid_argument(std::string("modkit::Loader::slot: no such slot in ") +
                                        (category_id ? category_id : "null"));
         if (s->desc->offset == offset) return Slot<Member>(s);
      }
   }

   // Where the slot Member stands for lives in snapshots, for ReadGuard::slot.
   template <auto Member>
   SlotRef slot_ref(const char *category_id) const {
      const int32_t category = modkit_loader_category_index(loader_, category_id);
      const modkit_loader_slot &s = slot<Member>(category_id).raw();
      return {static_cast<uint32_t>(category), static_cast<uint32_t>(s.desc - s.category->slots)};
   }

   // Where an asynchronous dispatch (modkit/async.hpp) runs: the guard's snapshot, counted in
   // the loader's metrics unless metered is false. The dispatch copies request_id.
   AsyncContext async_context(const ReadGuard &guard, std::string_view request_id = {}, int64_t deadline_ns = 0,
                              bool metered = true) const {
      AsyncContext c;
      c.loader = loader_;
      c.snapshot = &guard.snapshot();
      c.request_id = request_id;
      c.deadline_ns = deadline_ns;
      c.reader = metered ? guard.reader() : nullptr;
      return c;
   }

   // The calling thread's reader, for ReadGuard. [thread-safe]
   modkit_loader_reader *reader() const { return modkit_loader_reader_get(loader_); }

   // Unloads or reloads one module while other threads dispatch in read sections.
   // Throws LoadError when it fails (a failed reload keeps the running instance).
   void unload_module(const char *name) { check(modkit_loader_unload_module(loader_, name)); }
   void reload_module(const char *name) { check(modkit_loader_reload_module(loader_, name)); }

   const modkit_loader_slot &slot(const char *category_id, const char *slot_name) const {
      const modkit_loader_slot *s = nullptr;
      const modkit_status status = modkit_loader_find_slot(loader_, category_id, slot_name, &s);
      if (status == MODKIT_E_STATE) throw_racing_change("slot");
      if (status != MODKIT_OK)
         throw std::invalid_argument(std::string("modkit::Loader::slot: no slot ") + (slot_name ? slot_name : "null"));
      return *s;
   }

   // An observer for the dispatch policies that logs each failing callback with its module.
   // Made from a ReadGuard, it names the module from the guard's snapshot, the one the
   // dispatch used; otherwise from the current one (a dispatch outside read sections cannot
   // race an unload, so the two are the same).
   struct LogObserver {
      const Loader *loader;
      const modkit_loader_snapshot *snapshot = nullptr;
      const modkit_loader_module *module_of(const modkit_loader_entry &entry) const noexcept {
         if (snapshot && MODKIT_HAS_FIELD(snapshot, modkit_loader_snapshot, modules))
            return entry.module_index < snapshot->module_count ? &snapshot->modules[entry.module_index] : nullptr;
         return modkit_loader_module_at(loader->get(), entry.module_index);
      }
      void failed(const modkit_loader_slot &slot, const modkit_loader_entry &entry, modkit_status status,
                  bool out_of_range) const noexcept {
         const modkit_loader_module *m = module_of(entry);
         std::string line = std::string(slot.category->id) + "." + slot.desc->name +
                            (out_of_range ? " answered a value outside its range" : " failed with status ") +
                            (out_of_range ? "" : modkit_status_name(status));
         modkit_loader_log(loader->get(), MODKIT_LOG_WARNING, m ? m->name : nullptr, {line.data(), line.size()});
      }
   };
   LogObserver observer() const { return LogObserver{this}; }
   LogObserver observer(const ReadGuard &guard) const { return LogObserver{this, &guard.snapshot()}; }

   modkit_loader *get() const { return loader_; }

private:
   struct State {
      Options options;
      std::vector<const char *> reserved;
      static void log(void *self, modkit_log_level level, const char *module, modkit_str message) {
         try {
            static_cast<State *>(self)->options.log(level, module, std::string_view(message.data, message.size));
         } catch (...) {
            // A throwing log sink must not unwind into the loader.
         }
      }
      static void stopping(void *self, modkit_host *host) {
         try {
            static_cast<State *>(self)->options.module_stopping(host);
         } catch (...) {
            // The loader goes on with the module's deinit; the host's hook reports its own failure.
         }
      }
      static const void *extension(void *self, const char *id) {
         try {
            return static_cast<State *>(self)->options.get_extension(id);
         } catch (...) {
            return nullptr;
         }
      }
   };

   [[noreturn]] static void throw_racing_change(const char *what) {
      throw std::logic_error(std::string("modkit::Loader::") + what +
                             ": called outside a read section while another thread unloads or reloads a module; "
                             "use a ReadGuard");
   }

   void check(modkit_status status) const {
      if (status == MODKIT_OK) return;
      std::vector<LoadErrorItem> items;
      for (size_t i = 0; i < modkit_loader_error_count(loader_); ++i) {
         const modkit_loader_error *e = modkit_loader_error_at(loader_, i);
         items.push_back({e->code, e->stage, e->module, e->file, e->pointer, e->message, e->text});
      }
      throw LoadError(status, std::move(items));
   }

   std::unique_ptr<State> state_;
   modkit_loader *loader_ = nullptr;
};

} // namespace modkit

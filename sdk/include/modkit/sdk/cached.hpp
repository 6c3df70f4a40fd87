// modkit/sdk/cached.hpp - memoisation keyed by arguments (Synapse's @cached and
// register_cached_function, in one object).
//
//    modkit::cached<bool(std::string_view)> is_spam_{api, "is_spam", {1000, std::chrono::minutes(5)},
//                                                    this, &SpamFilter::compute_is_spam};
//    bool spam = is_spam_(text);
//
// Least recently used entries are evicted beyond max_entries; entries older than ttl are
// recomputed; concurrent callers of one key share one computation; a computation that throws
// is not cached (its callers all see the exception). Registered with a name, the host or
// another module can invalidate entries with a JSON array key ["some text"].
#pragma once

#include <modkit/sdk/api.hpp>
#include <modkit/sdk/detail/barrier.hpp>
#include <modkit/sdk/detail/host_context.hpp>
#include <modkit/sdk/error.hpp>
#include <modkit/sdk/str.hpp>

#include <modkit/cache.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <future>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

namespace modkit {

// Thread rule: a plain value, copied into each cache.
struct CacheOptions {
   std::size_t max_entries = 1000; // at least 1
   // Entries older than this are recomputed; nullopt keeps them until evicted or invalidated.
   std::optional<std::chrono::steady_clock::duration> ttl;
   // The clock TTLs are measured with; empty means std::chrono::steady_clock::now. Tests
   // inject their own.
   std::function<std::chrono::steady_clock::time_point()> clock;
};

namespace detail {
// Keys own their bytes: a string_view argument is stored as a std::string.
template <class T>
struct cache_key_part {
   using type = std::decay_t<T>;
};
template <>
struct cache_key_part<std::string_view> {
   using type = std::string;
};
template <>
struct cache_key_part<const char *> {
   using type = std::string;
};
} // namespace detail

template <class Signature>
class cached;

// Thread rule: [thread-safe]. The function runs outside the cache's lock, concurrently for
// distinct keys and once at a time per key. A cached that was given an Api must live as long
// as the module instance (make it a member), since the host may invalidate it until deinit.
// Neither copyable nor movable: the host holds its address.
template <class R, class... Args>
class cached<R(Args...)> {
   static_assert(!std::is_void_v<R>, "modkit::cached: a cached function returns a value");

public:
   using key_type = std::tuple<typename detail::cache_key_part<std::decay_t<Args>>::type...>;
   using function_type = std::function<R(Args...)>;
   using clock_type = std::chrono::steady_clock;

   // A cache private to the module, not known to the host.
   cached(CacheOptions options, function_type fn) : options_(std::move(options)), fn_(std::move(fn)) {
      if (options_.max_entries == 0)
         throw Error(MODKIT_E_INVALID_ARGUMENT, "modkit::cached: max_entries must be at least 1");
      if (!fn_) throw Error(MODKIT_E_INVALID_ARGUMENT, "modkit::cached: no function");
      if (!options_.clock) options_.clock = [] { return clock_type::now(); };
   }

   // A cache registered with the host under name (unique within the module). [init-only]
   cached(Api &api, std::string name, CacheOptions options, function_type fn)
      : cached(std::move(options), std::move(fn)) {
      name_ = std::move(name);
      context_ = detail::ApiAccess::context(api);
      where_ = "invalidating cache " + name_;
      api.register_cached_function(name_, &cached::invalidate_thunk, this);
   }

   // The same, memoising a member function of object: {api, "name", options, this, &M::f}.
   template <class T, class Method, class = std::enable_if_t<std::is_member_function_pointer_v<Method>>>
   cached(Api &api, std::string name, CacheOptions options, T *object, Method method)
      : cached(api, std::move(name), std::move(options),
               [object, method](Args... args) -> R {
                  return std::invoke(method, object, std::forward<Args>(args)...);
               }) {}

   cached(const cached &) = delete;
   cached &operator=(const cached &) = delete;

   // The cached value for these arguments, computing it if needed.
   R operator()(Args... args) {
      key_type key(args...);
      std::unique_lock<std::mutex> lock(mutex_);
      if (auto hit = find_fresh(key)) return *hit;

      if (auto it = flights_.find(key); it != flights_.end()) {
         std::shared_future<R> shared = it->second->result;
         lock.unlock();
         return shared.get(); // rethrows the computation's exception
      }

      auto flight = std::make_shared<Flight>();
      std::promise<R> promise;
      flight->result = promise.get_future().share();
      flights_.emplace(key, flight);
      lock.unlock();

      try {
         R value = fn_(std::forward<Args>(args)...);
         lock.lock();
         end_flight(key, flight);
         if (!flight->invalidated) insert(std::move(key), value);
         lock.unlock();
         promise.set_value(value);
         return value;
      } catch (...) {
         if (!lock.owns_lock()) lock.lock();
         end_flight(key, flight);
         lock.unlock();
         promise.set_exception(std::current_exception());
         throw;
      }
   }

   // Drops the entry for these arguments. A computation of it already running is not cached
   // when it ends; later callers compute afresh.
   template <class... K>
   void invalidate(K &&...key_parts) {
      const key_type key(std::forward<K>(key_parts)...);
      std::lock_guard<std::mutex> lock(mutex_);
      drop(key);
   }

   // Drops every entry, and keeps every running computation from being cached.
   void invalidate_all() {
      std::lock_guard<std::mutex> lock(mutex_);
      lru_.clear();
      index_.clear();
      for (auto &flight : flights_) flight.second->invalidated = true;
      flights_.clear();
   }

   // The number of cached entries, counting expired ones not yet dropped.
   std::size_t size() const {
      std::lock_guard<std::mutex> lock(mutex_);
      return lru_.size();
   }

   // The name registered with the host; empty for a private cache.
   const std::string &name() const noexcept { return name_; }

private:
   struct Entry {
      key_type key;
      R value;
      clock_type::time_point stored;
   };
   using Lru = std::list<Entry>; // most recently used first

   struct Flight {
      std::shared_future<R> result;
      bool invalidated = false;
   };

   // Requires mutex_. A fresh entry moves to the front; an expired one is dropped.
   std::optional<R> find_fresh(const key_type &key) {
      const auto it = index_.find(key);
      if (it == index_.end()) return std::nullopt;
      if (options_.ttl && options_.clock() - it->second->stored >= *options_.ttl) {
         lru_.erase(it->second);
         index_.erase(it);
         return std::nullopt;
      }
      lru_.splice(lru_.begin(), lru_, it->second);
      return it->second->value;
   }

   // Requires mutex_.
   void insert(key_type key, const R &value) {
      if (const auto it = index_.find(key); it != index_.end()) {
         lru_.erase(it->second);
         index_.erase(it);
      }
      lru_.push_front(Entry{key, value, options_.clock()});
      try {
         index_.emplace(std::move(key), lru_.begin());
      } catch (...) {
         lru_.pop_front();
         throw;
      }
      while (lru_.size() > options_.max_entries) {
         index_.erase(lru_.back().key);
         lru_.pop_back();
      }
   }

   // Requires mutex_.
   void drop(const key_type &key) {
      if (const auto it = index_.find(key); it != index_.end()) {
         lru_.erase(it->second);
         index_.erase(it);
      }
      if (const auto it = flights_.find(key); it != flights_.end()) {
         it->second->invalidated = true;
         flights_.erase(it);
      }
   }

   // Requires mutex_. Removes flight unless an invalidation already replaced or removed it.
   void end_flight(const key_type &key, const std::shared_ptr<Flight> &flight) noexcept {
      const auto it = flights_.find(key);
      if (it != flights_.end() && it->second == flight) flights_.erase(it);
   }

   // The host's invalidation: key_json is a JSON array of the arguments, or NULL for all.
   static modkit_status MODKIT_ABI invalidate_thunk(void *user_data, const modkit_str *key_json) noexcept {
      auto *self = static_cast<cached *>(user_data);
      return detail::barrier(
         [&] {
            if (key_json == nullptr) {
               self->invalidate_all();
               return;
            }
            const auto key = nlohmann::json::parse(to_view(*key_json), nullptr, false);
            if (!key.is_array() || key.size() != std::tuple_size_v<key_type>)
               throw Error(MODKIT_E_INVALID_ARGUMENT,
                           "a cache key is a JSON array of " +
                              std::to_string(std::tuple_size_v<key_type>) + " argument(s)");
            key_type parts;
            try {
               key.get_to(parts);
            } catch (const nlohmann::json::exception &e) {
               throw Error(MODKIT_E_INVALID_ARGUMENT, std::string("a cache key does not fit: ") + e.what());
            }
            std::lock_guard<std::mutex> lock(self->mutex_);
            self->drop(parts);
         },
         detail::LogToHost{&self->context_, self->where_.c_str()});
   }

   CacheOptions options_;
   function_type fn_;
   std::string name_;
   std::string where_;
   detail::HostContext context_;

   mutable std::mutex mutex_;
   Lru lru_;
   std::map<key_type, typename Lru::iterator> index_;
   std::map<key_type, std::shared_ptr<Flight>> flights_;
};

} // namespace modkit

// modkit/sdk/cached.hpp - memoisation keyed by arguments (Synapse's @cached and
// register_cached_function, in one object).
//
//    modkit::cached<bool(std::string_view)> is_spam_{api, "is_spam", {1000, std::chrono::minutes(5)},
//                                                    this, &SpamFilter::compute_is_spam};
//    bool spam = is_spam_(text);
//
// Least recently used entries are evicted beyond max_entries; entries older than ttl are
// recomputed; concurrent callers of one key share one computation; a computation that throws
// is not cached (its callers all see the exception). In C++20, cached<modkit::task<R>(Args...)>
// caches a coroutine function the same way (see below). Registered with a name, the host or
// another module can invalidate entries with a JSON array key ["some text"].
//
// A hit hashes the arguments as given (no key is built, nothing is allocated), probes a hash
// table and moves the entry to the front of the LRU list under a spin lock held for just that
// (detail/cached_index.hpp, detail/cached_lock.hpp). Key parts need operator== and a hash:
// std::hash, a unique object representation (std::array<char, N>), or hashable elements.
#pragma once

#include <modkit/sdk/api.hpp>
#include <modkit/sdk/detail/barrier.hpp>
#include <modkit/sdk/detail/cached_index.hpp>
#include <modkit/sdk/detail/cached_lock.hpp>
#include <modkit/sdk/detail/host_context.hpp>
#include <modkit/sdk/error.hpp>
#include <modkit/sdk/str.hpp>
#include <modkit/sdk/task.hpp>

#include <modkit/cache.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

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

namespace detail {

// What the synchronous and the coroutine cached functions share: the entries, the running
// computations ("flights", each with a FlightResult its joiners wait on), invalidation, and the
// registration with the host. Thread rule: [thread-safe]; neither copyable nor movable, since
// the host holds its address.
template <class Key, class R, class FlightResult>
class CacheCore {
public:
   using key_type = Key;
   using clock_type = std::chrono::steady_clock;

   CacheCore(const CacheCore &) = delete;
   CacheCore &operator=(const CacheCore &) = delete;

   // Drops the entry for these arguments. A computation of it already running is not cached
   // when it ends; later callers compute afresh.
   template <class... K>
   void invalidate(K &&...key_parts) {
      drop(key_type(std::forward<K>(key_parts)...));
   }

   // Drops every entry, and keeps every running computation from being cached.
   void invalidate_all() {
      typename Index::Dropped dropped;
      std::vector<std::shared_ptr<Flight>> ended;
      std::lock_guard<CacheLock> lock(lock_);
      index_.drop_all(dropped);
      for (auto &flight : flights_) flight->invalidated = true;
      ended.swap(flights_); // released after the lock, with the dropped entries
   }

   // The number of cached entries, counting expired ones not yet dropped.
   std::size_t size() const {
      std::lock_guard<CacheLock> lock(lock_);
      return index_.size();
   }

   // The name registered with the host; empty for a private cache.
   const std::string &name() const noexcept { return name_; }

protected:
   using Index = CacheIndex<key_type, R>;
   using Node = typename Index::Node;

   struct Flight {
      Flight(std::size_t h, key_type k) : hash(h), key(std::move(k)) {}
      std::size_t hash;
      key_type key;
      FlightResult result;
      bool invalidated = false; // guarded by lock_
   };

   explicit CacheCore(CacheOptions options) : options_(std::move(options)) {
      if (options_.max_entries == 0)
         throw Error(MODKIT_E_INVALID_ARGUMENT, "modkit::cached: max_entries must be at least 1");
      if (!options_.clock) options_.clock = [] { return clock_type::now(); };
   }
   ~CacheCore() = default;

   // [init-only]
   void register_with(Api &api, std::string name) {
      name_ = std::move(name);
      context_ = ApiAccess::context(api);
      where_ = "invalidating cache " + name_;
      api.register_cached_function(name_, &CacheCore::invalidate_thunk, this);
   }

   // The clock's reading, taken only when a TTL needs it.
   clock_type::time_point now() const { return options_.ttl ? options_.clock() : clock_type::time_point{}; }

   bool fresh(const Node &node, clock_type::time_point now) const {
      return !options_.ttl || now - node.stored < *options_.ttl;
   }

   // The hit path: a fresh entry's value, made the most recent; an expired one is dropped.
   template <class Equals>
   std::optional<R> lookup(std::size_t hash, Equals &&same_key) {
      const clock_type::time_point at = now(); // read before the lock: the clock may be slow
      typename Index::Dropped expired;         // deleted after the lock is released
      std::lock_guard<CacheLock> lock(lock_);
      Node *n = index_.find(hash, same_key);
      if (!n) return std::nullopt;
      if (!fresh(*n, at)) {
         index_.unlink(n, expired);
         return std::nullopt;
      }
      index_.touch(n);
      return n->value;
   }

   // A miss, under the lock once more: a fresh value another caller stored meanwhile, or else
   // the flight to join (running) or the one this caller starts (flight, then listed).
   template <class Equals>
   std::optional<R> join_or_start(const std::shared_ptr<Flight> &flight, Equals &&same_key,
                                  std::shared_ptr<Flight> &running) {
      const clock_type::time_point at = now();
      typename Index::Dropped expired;
      std::lock_guard<CacheLock> lock(lock_);
      if (Node *n = index_.find(flight->hash, same_key)) {
         if (fresh(*n, at)) {
            index_.touch(n);
            return n->value;
         }
         index_.unlink(n, expired);
      }
      for (const auto &f : flights_) {
         if (f->hash == flight->hash && same_key(f->key)) {
            running = f;
            return std::nullopt;
         }
      }
      flights_.push_back(flight);
      return std::nullopt;
   }

   // The computation of flight ended with value: stored unless invalidated meanwhile.
   void store(const std::shared_ptr<Flight> &flight, const R &value) {
      auto node = std::make_unique<Node>(flight->hash, flight->key, value, options_.clock());
      auto same_key = [&](const key_type &key) { return key == flight->key; };
      typename Index::Dropped dropped;
      std::lock_guard<CacheLock> lock(lock_);
      end_flight(flight);
      if (!flight->invalidated) {
         if (Node *old = index_.find(flight->hash, same_key)) index_.unlink(old, dropped);
         index_.link(std::move(node));
         index_.trim(options_.max_entries, dropped);
      }
   }

   // The computation of flight failed: nothing is stored.
   void abandon(const std::shared_ptr<Flight> &flight) noexcept {
      std::lock_guard<CacheLock> lock(lock_);
      end_flight(flight);
   }

   void drop(const key_type &key) {
      const std::size_t hash =
         std::apply([](const auto &...parts) { return cache_key_hash<key_type>(parts...); }, key);
      auto same_key = [&](const key_type &other) { return other == key; };
      typename Index::Dropped dropped;
      std::shared_ptr<Flight> ended;
      std::lock_guard<CacheLock> lock(lock_);
      if (Node *n = index_.find(hash, same_key)) index_.unlink(n, dropped);
      for (auto it = flights_.begin(); it != flights_.end(); ++it) {
         if ((*it)->hash == hash && same_key((*it)->key)) {
            (*it)->invalidated = true;
            ended = std::move(*it);
            flights_.erase(it);
            break;
         }
      }
   }

   // Requires lock_. Removes flight unless an invalidation already removed it.
   void end_flight(const std::shared_ptr<Flight> &flight) noexcept {
      for (auto it = flights_.begin(); it != flights_.end(); ++it) {
         if (*it == flight) {
            flights_.erase(it);
            return;
         }
      }
   }

   // The host's invalidation: key_json is a JSON array of the arguments, or NULL for all.
   static modkit_status MODKIT_ABI invalidate_thunk(void *user_data, const modkit_str *key_json) noexcept {
      auto *self = static_cast<CacheCore *>(user_data);
      return barrier(
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
            self->drop(parts);
         },
         LogToHost{&self->context_, self->where_.c_str()});
   }

   CacheOptions options_;
   std::string name_;
   std::string where_;
   HostContext context_;

   mutable CacheLock lock_;
   Index index_;                                 // guarded by lock_
   std::vector<std::shared_ptr<Flight>> flights_; // guarded by lock_; few: one per running miss
};

template <class... Args>
using cache_key_t = std::tuple<typename cache_key_part<std::decay_t<Args>>::type...>;

} // namespace detail

template <class Signature>
class cached;

// Thread rule: [thread-safe]. The function runs outside the cache's lock, concurrently for
// distinct keys and once at a time per key. A cached that was given an Api must live as long
// as the module instance (make it a member), since the host may invalidate it until deinit.
// Neither copyable nor movable: the host holds its address.
template <class R, class... Args>
class cached<R(Args...)>
   : public detail::CacheCore<detail::cache_key_t<Args...>, R, std::shared_future<R>> {
   static_assert(!std::is_void_v<R>, "modkit::cached: a cached function returns a value");
   using Core = detail::CacheCore<detail::cache_key_t<Args...>, R, std::shared_future<R>>;
   using typename Core::Flight;

public:
   using typename Core::key_type;
   using typename Core::clock_type;
   using function_type = std::function<R(Args...)>;

   // A cache private to the module, not known to the host.
   cached(CacheOptions options, function_type fn) : Core(std::move(options)), fn_(std::move(fn)) {
      if (!fn_) throw Error(MODKIT_E_INVALID_ARGUMENT, "modkit::cached: no function");
   }

   // A cache registered with the host under name (unique within the module). [init-only]
   cached(Api &api, std::string name, CacheOptions options, function_type fn)
      : cached(std::move(options), std::move(fn)) {
      this->register_with(api, std::move(name));
   }

   // The same, memoising a member function of object: {api, "name", options, this, &M::f}.
   template <class T, class Method, class = std::enable_if_t<std::is_member_function_pointer_v<Method>>>
   cached(Api &api, std::string name, CacheOptions options, T *object, Method method)
      : cached(api, std::move(name), std::move(options),
               [object, method](Args... args) -> R {
                  return std::invoke(method, object, std::forward<Args>(args)...);
               }) {}

   // The cached value for these arguments, computing it if needed.
   R operator()(Args... args) {
      const std::size_t hash = detail::cache_key_hash<key_type>(args...);
      auto same_key = [&](const key_type &key) { return detail::cache_key_equals(key, args...); };
      if (std::optional<R> hit = this->lookup(hash, same_key)) return std::move(*hit);

      // A miss: everything the computation needs is allocated before the lock is taken again.
      auto flight = std::make_shared<Flight>(hash, key_type(args...));
      std::promise<R> promise;
      flight->result = promise.get_future().share();
      std::shared_ptr<Flight> running;
      // Another caller may have stored or started this key while the lock was free.
      if (std::optional<R> stored = this->join_or_start(flight, same_key, running)) return std::move(*stored);
      if (running) return running->result.get(); // rethrows the computation's exception

      try {
         R value = fn_(std::forward<Args>(args)...);
         this->store(flight, value);
         promise.set_value(value);
         return value;
      } catch (...) {
         this->abandon(flight);
         promise.set_exception(std::current_exception());
         throw;
      }
   }

private:
   function_type fn_;
};

#if MODKIT_SDK_HAS_COROUTINES

// A cached coroutine function (C++20), as Synapse's @cached caches an async function:
//
//    modkit::cached<modkit::task<bool>(std::string_view)> is_blocked_{
//       api, "is_blocked", {}, this, &MyModule::lookup_blocked};   // lookup_blocked is a coroutine
//    bool blocked = co_await is_blocked_(server_name);
//
// Concurrent callers of one key share one computation: the first starts it, the others wait
// for it without blocking a thread and resume, on the thread that finishes it, with its value
// or its exception. A failure is not cached. An invalidation while a computation runs keeps
// its value out of the cache; callers after the invalidation start a new computation. The
// arguments are copied into the key before the returned task runs, so the task may outlive
// them; the function receives views of that copy.
// Thread rule: as cached<R(Args...)>.
template <class R, class... Args>
class cached<task<R>(Args...)>
   : public detail::CacheCore<detail::cache_key_t<Args...>, R, Completion<R>> {
   static_assert(!std::is_void_v<R>, "modkit::cached: a cached function returns a value");
   using Core = detail::CacheCore<detail::cache_key_t<Args...>, R, Completion<R>>;
   using typename Core::Flight;

public:
   using typename Core::key_type;
   using typename Core::clock_type;
   using function_type = std::function<task<R>(Args...)>;

   // A cache private to the module, not known to the host.
   cached(CacheOptions options, function_type fn) : Core(std::move(options)), fn_(std::move(fn)) {
      if (!fn_) throw Error(MODKIT_E_INVALID_ARGUMENT, "modkit::cached: no function");
   }

   // A cache registered with the host under name (unique within the module). [init-only]
   cached(Api &api, std::string name, CacheOptions options, function_type fn)
      : cached(std::move(options), std::move(fn)) {
      this->register_with(api, std::move(name));
   }

   // The same, memoising a member coroutine of object: {api, "name", options, this, &M::f}.
   template <class T, class Method, class = std::enable_if_t<std::is_member_function_pointer_v<Method>>>
   cached(Api &api, std::string name, CacheOptions options, T *object, Method method)
      : cached(api, std::move(name), std::move(options),
               [object, method](Args... args) -> task<R> {
                  return std::invoke(method, object, std::forward<Args>(args)...);
               }) {}

   // The cached value for these arguments, computing it if needed: co_await cache(args...).
   task<R> operator()(Args... args) {
      key_type key(args...);
      const std::size_t hash = detail::cache_key_hash<key_type>(args...);
      return run(std::move(key), hash);
   }

private:
   task<R> run(key_type key, std::size_t hash) {
      auto same_key = [&key](const key_type &other) { return other == key; };
      if (std::optional<R> hit = this->lookup(hash, same_key)) co_return std::move(*hit);

      auto flight = std::make_shared<Flight>(hash, key);
      std::shared_ptr<Flight> running;
      if (std::optional<R> stored = this->join_or_start(flight, same_key, running))
         co_return std::move(*stored);
      if (running) co_return co_await running->result; // throws the computation's exception

      // The function gets views of flight->key, which lives until every joiner is resumed.
      std::exception_ptr failure;
      std::optional<R> value;
      try {
         value.emplace(co_await std::apply(fn_, flight->key));
         this->store(flight, *value);
      } catch (...) {
         failure = std::current_exception();
      }
      if (failure) {
         this->abandon(flight);
         flight->result.set_exception(failure); // resumes the joiners here
         std::rethrow_exception(failure);
      }
      flight->result.set_value(*value); // resumes the joiners here
      co_return std::move(*value);
   }

   function_type fn_;
};

#endif // MODKIT_SDK_HAS_COROUTINES

} // namespace modkit

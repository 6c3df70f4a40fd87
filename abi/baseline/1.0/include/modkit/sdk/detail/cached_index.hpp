// modkit/sdk/detail/cached_index.hpp - modkit::cached's entries: a hash table for lookups
// and a recency list for LRU eviction, threaded through the same nodes.
//
// Lookups take the arguments as the caller passed them (a std::string_view for a std::string
// key part), hashed and compared without building a key, so a hit allocates nothing. Key
// parts hash with std::hash when it exists, else by their bytes when their object
// representation is unique (std::array<char, N>), else element by element (containers).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace modkit::detail {

template <class T, class = void>
struct cache_is_iterable : std::false_type {};
template <class T>
struct cache_is_iterable<T, std::void_t<decltype(std::begin(std::declval<const T &>())),
                                  decltype(std::end(std::declval<const T &>()))>> : std::true_type {};

inline std::size_t cache_hash_combine(std::size_t seed, std::size_t h) noexcept {
   return seed ^ (h + 0x9e3779b97f4a7c15ull + (seed << 6) + (seed >> 2));
}

template <class T>
std::size_t cache_hash_value(const T &value) {
   if constexpr (std::is_convertible_v<const T &, std::string_view>) {
      return std::hash<std::string_view>{}(std::string_view(value));
   } else if constexpr (std::is_default_constructible_v<std::hash<T>>) {
      return std::hash<T>{}(value);
   } else if constexpr (std::has_unique_object_representations_v<T>) {
      return std::hash<std::string_view>{}(std::string_view(reinterpret_cast<const char *>(&value), sizeof value));
   } else if constexpr (cache_is_iterable<T>::value) {
      std::size_t seed = 0;
      for (const auto &element : value) seed = cache_hash_combine(seed, cache_hash_value(element));
      return seed;
   } else {
      static_assert(sizeof(T) == 0, "modkit::cached: a key part needs std::hash, a unique object "
                                     "representation, or elements that have one");
      return 0;
   }
}

// The hash of key part Part given as arg (a string_view or const char * for a std::string);
// equal for a stored key and for the arguments it was made from.
template <class Part, class Arg>
std::size_t cache_hash_part(const Arg &arg) {
   if constexpr (std::is_same_v<Part, std::string>) return cache_hash_value(std::string_view(arg));
   else return cache_hash_value(arg);
}

template <class Part, class Arg>
bool cache_part_equals(const Part &part, const Arg &arg) {
   if constexpr (std::is_same_v<Part, std::string>) return std::string_view(part) == std::string_view(arg);
   else return part == arg;
}

template <class Key, class... Args, std::size_t... I>
std::size_t cache_hash_parts(std::index_sequence<I...>, const Args &...args) {
   std::size_t seed = 0;
   ((seed = cache_hash_combine(seed, cache_hash_part<std::tuple_element_t<I, Key>>(args))), ...);
   return seed;
}

// The hash of the key Key the arguments make (one argument per key part).
template <class Key, class... Args>
std::size_t cache_key_hash(const Args &...args) {
   return cache_hash_parts<Key>(std::index_sequence_for<Args...>{}, args...);
}

template <class Key, class... Args, std::size_t... I>
bool cache_key_equals_parts(const Key &key, std::index_sequence<I...>, const Args &...args) {
   return (cache_part_equals(std::get<I>(key), args) && ...);
}

// Whether key is the key the arguments make.
template <class Key, class... Args>
bool cache_key_equals(const Key &key, const Args &...args) {
   return cache_key_equals_parts(key, std::index_sequence_for<Args...>{}, args...);
}

// Not thread-safe: modkit::cached guards it with its CacheLock. Its only allocations are
// growing the bucket array (link); nodes are allocated and destroyed by the caller, outside
// the lock.
template <class Key, class Value>
class CacheIndex {
public:
   struct Node {
      Node(std::size_t h, Key k, Value v, std::chrono::steady_clock::time_point t)
         : hash(h), key(std::move(k)), value(std::move(v)), stored(t) {}
      Node *newer = nullptr, *older = nullptr; // the recency list
      Node *chain = nullptr;                   // the next node in the same bucket
      std::size_t hash;
      Key key;
      Value value;
      std::chrono::steady_clock::time_point stored;
   };

   // Nodes unlinked from the index, deleted by the caller once the lock is released.
   class Dropped {
   public:
      Dropped() = default;
      Dropped(const Dropped &) = delete;
      Dropped &operator=(const Dropped &) = delete;
      ~Dropped() {
         while (first_) delete std::exchange(first_, first_->chain);
      }
      void add(Node *node) noexcept {
         node->chain = first_;
         first_ = node;
      }

   private:
      Node *first_ = nullptr;
   };

   CacheIndex() = default;
   CacheIndex(const CacheIndex &) = delete;
   CacheIndex &operator=(const CacheIndex &) = delete;
   ~CacheIndex() {
      Dropped all;
      drop_all(all);
   }

   // The node whose key equals(key) accepts among those with this hash, or nullptr.
   template <class Equals>
   Node *find(std::size_t hash, Equals &&equals) const {
      if (buckets_.empty()) return nullptr;
      for (Node *n = buckets_[bucket(hash)]; n; n = n->chain) {
         if (n->hash == hash && equals(n->key)) return n;
      }
      return nullptr;
   }

   // Makes node the most recently used.
   void touch(Node *node) noexcept {
      if (node == newest_) return;
      unlist(node);
      push_newest(node);
   }

   // Adds node, whose key is not in the index, as the most recently used. Throws only
   // std::bad_alloc, before changing anything.
   void link(std::unique_ptr<Node> node) {
      if (size_ + 1 > buckets_.size()) grow();
      Node *n = node.release();
      Node *&head = buckets_[bucket(n->hash)];
      n->chain = head;
      head = n;
      push_newest(n);
      ++size_;
   }

   // Removes node and hands it to dropped.
   void unlink(Node *node, Dropped &dropped) noexcept {
      for (Node **p = &buckets_[bucket(node->hash)]; *p; p = &(*p)->chain) {
         if (*p == node) {
            *p = node->chain;
            break;
         }
      }
      unlist(node);
      --size_;
      dropped.add(node);
   }

   // Removes the least recently used nodes until at most max remain.
   void trim(std::size_t max, Dropped &dropped) noexcept {
      while (size_ > max) unlink(oldest_, dropped);
   }

   void drop_all(Dropped &dropped) noexcept {
      while (oldest_) unlink(oldest_, dropped);
   }

   std::size_t size() const noexcept { return size_; }

private:
   std::size_t bucket(std::size_t hash) const noexcept {
      // Fibonacci hashing: the multiply spreads every bit of the hash into the top bits kept,
      // so std::hash<int> (the identity) does not fill only the first buckets.
      return static_cast<std::size_t>((static_cast<std::uint64_t>(hash) * 0x9e3779b97f4a7c15ull) >> shift_);
   }

   void grow() {
      const std::size_t count = buckets_.empty() ? 16 : buckets_.size() * 2;
      std::vector<Node *> fresh(count, nullptr);
      unsigned bits = 0;
      while ((std::size_t{1} << bits) < count) ++bits;
      shift_ = 64 - bits;
      for (Node *n = newest_; n; n = n->older) {
         Node *&head = fresh[bucket(n->hash)];
         n->chain = head;
         head = n;
      }
      buckets_.swap(fresh);
   }

   void unlist(Node *node) noexcept {
      (node->newer ? node->newer->older : newest_) = node->older;
      (node->older ? node->older->newer : oldest_) = node->newer;
      node->newer = node->older = nullptr;
   }

   void push_newest(Node *node) noexcept {
      node->older = newest_;
      node->newer = nullptr;
      (newest_ ? newest_->newer : oldest_) = node;
      newest_ = node;
   }

   std::vector<Node *> buckets_; // a power of two of them, at least one per node
   unsigned shift_ = 64;
   Node *newest_ = nullptr, *oldest_ = nullptr;
   std::size_t size_ = 0;
};

} // namespace modkit::detail

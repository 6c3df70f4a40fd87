// transactions.hpp - the transaction IDs clients sent events under, so that a retried PUT
// answers with the event it created instead of sending it again (the client-server spec's
// idempotency). Each is kept for keep_ms (30 minutes, as Synapse's HttpTransactionCache keeps
// them), then forgotten as newer ones arrive, so a long-running host does not grow with every
// message. Guarded by State::mutex, like the rest of the state.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>
#include <utility>

namespace chat {

class Transactions {
public:
   static constexpr int64_t default_keep_ms = 30 * 60 * 1000;
   explicit Transactions(int64_t keep_ms = default_keep_ms) : keep_ms_(keep_ms) {}

   // The event ID sent under key ("token|room|txn"), if it is still remembered at now (ms).
   const std::string *find(const std::string &key, int64_t now);
   void remember(const std::string &key, std::string event_id, int64_t now);
   size_t size() const { return by_key_.size(); }

private:
   struct Entry {
      std::string event_id;
      int64_t at;
   };
   void forget_older(int64_t now);

   int64_t keep_ms_;
   std::unordered_map<std::string, Entry> by_key_; // hashed: keys share long prefixes
   std::deque<std::pair<int64_t, std::string>> order_; // (when, key), oldest first
};

} // namespace chat

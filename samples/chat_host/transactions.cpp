// transactions.cpp - see transactions.hpp.
#include "transactions.hpp"

namespace chat {

void Transactions::forget_older(int64_t now) {
   while (!order_.empty() && order_.front().first <= now - keep_ms_) {
      auto it = by_key_.find(order_.front().second);
      // A key remembered again later has a newer entry in order_: only its last one forgets it.
      if (it != by_key_.end() && it->second.at == order_.front().first) by_key_.erase(it);
      order_.pop_front();
   }
}

const std::string *Transactions::find(const std::string &key, int64_t now) {
   forget_older(now);
   auto it = by_key_.find(key);
   return it == by_key_.end() ? nullptr : &it->second.event_id;
}

void Transactions::remember(const std::string &key, std::string event_id, int64_t now) {
   forget_older(now);
   by_key_[key] = {std::move(event_id), now};
   order_.emplace_back(now, key);
}

} // namespace chat

// invoke/frame.hpp - the caller-owned storage of one call through an Invoker.
#pragma once

#include "invoke/buffer.hpp"

#include <modkit/str.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace modkit::invoke {

class Invoker;

namespace detail {
// One argument or output value; libffi reads each argument from the start of its cell.
union Cell {
   bool b;
   std::int32_t i32;
   std::uint32_t u32;
   std::int64_t i64;
   std::uint64_t u64;
   double f64;
   modkit_str str;
   void *ptr;
};
} // namespace detail

// Everything one call needs: argument values, copies of the strings, the structs passed by
// pointer, the zeroed outputs and the array of argument pointers libffi reads.
// Invoker::bind lays a frame out for its slot (allocating the first time) and fills it;
// Invoker::call then uses it without allocating. Keep one frame per thread or per call in
// flight and bind it again for the next call; binding for the same slot reuses the storage.
// Not copyable, because it points into itself; moving it keeps it bound.
// [thread-safe] for distinct frames; one frame is used by one thread at a time.
class Frame {
public:
   Frame() = default;
   Frame(const Frame &) = delete;
   Frame &operator=(const Frame &) = delete;
   Frame(Frame &&) noexcept = default;
   Frame &operator=(Frame &&) noexcept = default;
   ~Frame() = default;

private:
   friend class Invoker;

   std::uint64_t layout_ = 0; // id of the prepared slot this frame is laid out for; 0: none
   bool bound_ = false;       // the last bind succeeded

   std::vector<detail::Cell> cells_;       // user_data, call, then one per parameter
   std::vector<void *> args_;              // &cells_[i], the argument array libffi reads
   std::vector<std::string> strings_;      // text of str/json/bytes parameters and fields
   std::vector<std::max_align_t> structs_; // the structs passed by pointer, each aligned
   std::vector<detail::Cell> outputs_;     // the "*T" outputs other than buf
   std::vector<Buffer> buffers_;           // the "*buf" outputs
};

} // namespace modkit::invoke

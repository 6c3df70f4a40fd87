// modkit/sdk/detail/keep.hpp - a callback argument copied so it outlives the C call.
//
// The host's C arguments are valid only until the callback returns, but a coroutine callback
// may run long after it returned MODKIT_PENDING. Its trampoline therefore converts each C
// argument into a Keep<To>, held until the coroutine ends, and passes keep.get() as the C++
// argument: the same type FromC<To> gives, but viewing the Keep's own copy. Strings are
// copied; views of host structs (Event, ...) specialise Keep in the header defining them
// (categories/objects.hpp); everything FromC already returns by value is kept as it is.
// A Keep is built in place and never moved: get() points into it.
#pragma once

#include <modkit/sdk/detail/convert.hpp>
#include <modkit/sdk/error.hpp>
#include <modkit/sdk/str.hpp>

#include <cstddef>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace modkit::detail {

template <class To>
struct Keep {
   template <class C>
   explicit Keep(C c) : value(FromC<To>::get(c)) {}
   Keep(const Keep &) = delete;
   Keep &operator=(const Keep &) = delete;

   To &get() noexcept { return value; }

   To value;
};

template <>
struct Keep<std::string_view> {
   explicit Keep(modkit_str s) : value(to_view(s)), view(value) {}
   Keep(const Keep &) = delete;
   Keep &operator=(const Keep &) = delete;

   std::string_view &get() noexcept { return view; }

   std::string value;
   std::string_view view;
};

template <>
struct Keep<std::optional<std::string_view>> {
   explicit Keep(modkit_str s) {
      if (s.data != nullptr) view = std::string_view(value.emplace(s.data, s.size));
   }
   Keep(const Keep &) = delete;
   Keep &operator=(const Keep &) = delete;

   std::optional<std::string_view> &get() noexcept { return view; }

   std::optional<std::string> value;
   std::optional<std::string_view> view;
};

// A copy of a host struct of strings, for the Keep of a view: copy() the struct, then own()
// each modkit_str field, which re-points it at a copy of its bytes. Absent strings stay absent.
template <class CStruct, std::size_t Strings>
struct KeptStruct {
   KeptStruct() = default;
   KeptStruct(const KeptStruct &) = delete; // c points into bytes
   KeptStruct &operator=(const KeptStruct &) = delete;

   CStruct c{};
   std::string bytes[Strings];
   std::size_t used = 0;

   void copy(const CStruct *from) {
      if (from == nullptr) throw Error(MODKIT_E_INVALID_ARGUMENT, "the host passed a null object");
      // The host's struct may be shorter (an older host); what it lacks stays zero.
      const std::size_t size = from->struct_size < sizeof c ? from->struct_size : sizeof c;
      std::memcpy(static_cast<void *>(&c), from, size);
   }
   void own(modkit_str &field) {
      if (field.data == nullptr) return;
      std::string &kept = bytes[used++];
      kept.assign(field.data, field.size);
      field.data = kept.data();
   }
};

} // namespace modkit::detail

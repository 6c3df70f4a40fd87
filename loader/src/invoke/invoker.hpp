// invoke/invoker.hpp - calls a category's slot by its signature, with JSON arguments.
//
// The dynamic path for hosts that were not compiled against a category's C types (the C API,
// the CLI, Python): a slot is prepared once (signature parsed, libffi call interface built),
// then every call is two steps that can be timed apart:
//   bind:  JSON arguments -> C values in a Frame   (allocates only what the text needs)
//   call:  one ffi_call of the module's function   (no allocation)
// and outputs() turns the outputs back into JSON. The JSON form of every type is in
// docs/signature-grammar.md.
//
//   Invoker inv;
//   if (!Invoker::prepare(*modkit_spam_checker_category(), MODKIT_SPAM_CHECKER_USER_MAY_INVITE,
//                         inv, error)) ...
//   Frame frame;
//   const nlohmann::json args = {{"inviter", "@a:x"}, {"invitee", "@b:x"}, {"room_id", "!r:x"}};
//   if (!inv.bind(args, frame, error)) ...
//   modkit_status status = inv.call(entry.fn, entry.user_data, &call, frame);
//   nlohmann::json answer = inv.outputs(frame); // {"result": 0}
#pragma once

#include "invoke/frame.hpp"
#include "invoke/signature.hpp"

#include <modkit/call.h>
#include <modkit/category.h>
#include <modkit/status.h>

#include <nlohmann/json_fwd.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace modkit::invoke {

namespace detail {
struct State; // what prepare computes; defined in state.hpp
} // namespace detail

// A slot prepared for dynamic calls. Immutable once prepared; copies share the prepared state.
// The category (its slot table, signatures and struct descriptors) is borrowed and must
// outlive every copy. All const members are [thread-safe]: many threads may call through one
// Invoker at once, each with its own Frame.
class Invoker {
public:
   // Not prepared: bind fails and call returns MODKIT_E_STATE.
   Invoker() = default;

   // Prepares slot slot_index of cat: parses and checks its signature against cat's structs
   // and builds the libffi call interface. On failure returns false, leaves out unchanged and
   // sets error, naming the category, the slot and the column of the signature at fault.
   // Throws only std::bad_alloc.
   // [thread-safe]
   static bool prepare(const modkit_category &cat, std::uint32_t slot_index, Invoker &out,
                       std::string &error);

   // The checks of prepare that depend on the descriptor (the slot exists, its signature
   // parses against cat's structs), without building anything: what prepare refuses for the
   // descriptor, check refuses with the same message. Throws only std::bad_alloc.
   // [thread-safe]
   static bool check(const modkit_category &cat, std::uint32_t slot_index, std::string &error);

   // check for every slot of cat, remembered for the process: a category with the same
   // descriptor content (same signatures and structs) as one already accepted is accepted
   // without parsing again. (A hash collision would only defer a refusal to prepare.)
   // [thread-safe]
   static bool check_slots(const modkit_category &cat, std::string &error);

   // [thread-safe]
   bool prepared() const noexcept { return state_ != nullptr; }
   const modkit_category *category() const noexcept;  // NULL when not prepared
   const modkit_slot_desc *slot() const noexcept;     // NULL when not prepared
   const std::vector<Param> &params() const noexcept; // empty when not prepared
   std::size_t input_count() const noexcept;          // parameters that take an argument

   // Converts args into C values in frame: args is an object keyed by parameter name or an
   // array in signature order, holding the inputs only (outputs take no argument). Refuses,
   // with a message naming the argument (and field), a wrong count, an unknown or missing
   // name, a value of the wrong JSON type, an integer out of its type's range, text that is
   // not valid UTF-8 for str, and an unknown struct field. On failure frame is left unbound.
   // Throws only std::bad_alloc.
   // [thread-safe]; frame is used by this thread only until call returns
   bool bind(const nlohmann::json &args, Frame &frame, std::string &error) const;

   // Calls fn, the slot's function, as fn(user_data, call, <the arguments bound in frame>),
   // after zeroing frame's outputs; returns the status fn returned. Does not allocate.
   // Returns MODKIT_E_STATE without calling when frame was not bound by this prepared slot,
   // and MODKIT_E_INVALID_ARGUMENT when fn is NULL. fn must not throw or unwind.
   // [thread-safe]; frame is used by this thread only
   // initial says what the outputs hold when fn starts: zero (the rule), or true for every
   // bool output (the rule for MODKIT_COMBINE_ALL_TRUE slots: silence is consent).
   enum class Initial { zero, bools_true };
   modkit_status call(void (*fn)(void), void *user_data, modkit_call *call, Frame &frame,
                      Initial initial = Initial::zero) const noexcept;

   // The first output of the last call, the answer a combination rule reads, as an integer
   // (bool: 0 or 1; f64: 0 or 1 for zero or non-zero). False when the slot's first output is a
   // buf or it has none, or frame is not bound by this prepared slot. Does not allocate.
   // [thread-safe]
   bool first_output(const Frame &frame, std::int64_t &value) const noexcept;

   // The outputs of the last call as a JSON object, output name -> value: bool, integer,
   // number (f64) or string (buf, the bytes appended as they are). An empty object when frame
   // is not bound by this prepared slot.
   // [thread-safe]
   nlohmann::json outputs(const Frame &frame) const;

private:
   std::shared_ptr<const detail::State> state_;
};

} // namespace modkit::invoke

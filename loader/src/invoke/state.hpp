// invoke/state.hpp - what Invoker::prepare computes once per slot. Private to the invoker.
#pragma once

#include "invoke/invoker.hpp"

#include <ffi.h>

namespace modkit::invoke::detail {

// Where a parameter's storage lives in a Frame.
struct Place {
   std::uint32_t index = 0;        // str/json/bytes: strings_; record: first structs_ unit;
                                   // *T: outputs_; *buf: buffers_; other scalars: unused
   std::uint32_t first_string = 0; // record: strings_ index of its first text field
};

struct State {
   std::uint64_t id = 0; // unique per prepare, so a Frame knows whose layout it holds
   const modkit_category *category = nullptr;
   const modkit_slot_desc *slot = nullptr;
   std::vector<Param> params;
   std::vector<Place> places; // one per parameter
   std::size_t input_count = 0;
   std::size_t string_count = 0;
   std::size_t struct_units = 0; // in std::max_align_t
   std::size_t output_count = 0;
   std::size_t buffer_count = 0;

   std::vector<ffi_type *> arg_types; // pointer, pointer, then one per parameter
   // ffi_call takes a non-const pointer but only reads the interface.
   mutable ffi_cif cif{};
};

} // namespace modkit::invoke::detail

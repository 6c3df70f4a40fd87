// invoke/invoker.cpp - preparing a slot's libffi call interface, calling it, reading outputs.
#include "invoke/invoker.hpp"

#include "invoke/state.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <functional>
#include <mutex>
#include <string_view>

namespace modkit::invoke {
namespace {

// libffi passes bool as uint8; the C side must agree on its size.
static_assert(sizeof(bool) == 1, "the invoker passes bool as a one-byte integer");
static_assert(sizeof(modkit_status) == 4, "the invoker reads a 32-bit status");

// modkit_str passed by value: {const char *, size_t}. Built and laid out once (function-local
// statics are initialised thread-safely), so prepare never lets libffi write to a shared type.
ffi_type *str_type() {
   static ffi_type *elements[] = {
      &ffi_type_pointer, sizeof(size_t) == 8 ? &ffi_type_uint64 : &ffi_type_uint32, nullptr};
   static ffi_type type = [] {
      ffi_type t{};
      t.type = FFI_TYPE_STRUCT;
      t.elements = elements;
      return t;
   }();
   static const bool same_layout = [] {
      size_t offsets[2] = {};
      return ffi_get_struct_offsets(FFI_DEFAULT_ABI, &type, offsets) == FFI_OK &&
             offsets[0] == offsetof(modkit_str, data) && offsets[1] == offsetof(modkit_str, size) &&
             type.size == sizeof(modkit_str) && type.alignment == alignof(modkit_str);
   }();
   return same_layout ? &type : nullptr;
}

ffi_type *ffi_type_of(const Param &param) {
   if (param.out || param.kind == Kind::record) return &ffi_type_pointer;
   switch (param.kind) {
   case Kind::boolean: return &ffi_type_uint8;
   case Kind::i32: return &ffi_type_sint32;
   case Kind::u32: return &ffi_type_uint32;
   case Kind::i64: return &ffi_type_sint64;
   case Kind::u64: return &ffi_type_uint64;
   case Kind::f64: return &ffi_type_double;
   case Kind::str:
   case Kind::json:
   case Kind::bytes: return str_type();
   case Kind::record:
   case Kind::buf: return &ffi_type_pointer;
   }
   return nullptr;
}

// Assigns every parameter its storage in a Frame and counts what a Frame must hold.
void plan(detail::State &s) {
   s.places.resize(s.params.size());
   for (std::size_t i = 0; i < s.params.size(); ++i) {
      const Param &p = s.params[i];
      detail::Place &place = s.places[i];
      if (!p.out) ++s.input_count;
      if (p.kind == Kind::buf) {
         place.index = static_cast<std::uint32_t>(s.buffer_count++);
      } else if (p.out) {
         place.index = static_cast<std::uint32_t>(s.output_count++);
      } else if (is_text(p.kind)) {
         place.index = static_cast<std::uint32_t>(s.string_count++);
      } else if (p.kind == Kind::record) {
         constexpr std::size_t unit = sizeof(std::max_align_t);
         place.index = static_cast<std::uint32_t>(s.struct_units);
         place.first_string = static_cast<std::uint32_t>(s.string_count);
         s.struct_units += (p.type->size + unit - 1) / unit;
         for (const Field &f : p.fields)
            s.string_count += is_text(f.kind) ? 1 : 0;
      }
   }
}

std::uint64_t next_id() {
   static std::atomic<std::uint64_t> counter{0};
   return counter.fetch_add(1, std::memory_order_relaxed) + 1;
}

// The start of every message about a slot; formatted only when there is something to report.
std::string where(const modkit_category &cat, const modkit_slot_desc &slot) {
   return fmt::format("category '{}', slot '{}'", cat.id != nullptr ? cat.id : "",
                      slot.name != nullptr ? slot.name : "");
}

// What check and prepare both verify: the slot exists and its signature parses against the
// category's structs. On failure sets error, naming the category, the slot and the column.
bool parse_slot(const modkit_category &cat, std::uint32_t slot_index, std::vector<Param> &params,
                std::string &error) {
   if (!MODKIT_HAS_FIELD(&cat, modkit_category, types)) {
      error = fmt::format("category: struct_size {} is smaller than the {} bytes of ABI 1.0",
                          cat.struct_size, sizeof(modkit_category));
      return false;
   }
   const char *category_id = cat.id != nullptr ? cat.id : "";
   if (cat.slots == nullptr || slot_index >= cat.slot_count) {
      error = fmt::format("category '{}': no slot {} (it has {})", category_id, slot_index,
                          cat.slots == nullptr ? 0 : cat.slot_count);
      return false;
   }
   const modkit_slot_desc &slot = cat.slots[slot_index];
   if (slot.signature == nullptr) {
      error = where(cat, slot) + ": no signature";
      return false;
   }
   std::string why;
   if (!parse_signature(slot.signature, cat.types, cat.type_count, params, why)) {
      error = fmt::format("{}: signature '{}': {}", where(cat, slot), slot.signature, why);
      return false;
   }
   return true;
}

} // namespace

bool Invoker::check(const modkit_category &cat, std::uint32_t slot_index, std::string &error) {
   std::vector<Param> params;
   return parse_slot(cat, slot_index, params, error);
}

namespace {

// A hash of everything parse_slot reads from a category whose slots all passed: hosts create
// loaders with the same descriptors again and again, and parsing them costs more than hashing.
std::uint64_t fingerprint(const modkit_category &cat) {
   std::uint64_t h = 0;
   auto mix = [&h](std::uint64_t v) { h = (h ^ v) * 0x100000001b3ull + (h >> 29); };
   auto text = [&mix](const char *s) {
      mix(s == nullptr ? 0x9e3779b97f4a7c15ull : std::hash<std::string_view>{}(s));
   };
   mix(cat.struct_size);
   text(cat.id);
   mix(cat.slot_count);
   for (std::uint32_t i = 0; cat.slots != nullptr && i < cat.slot_count; ++i) text(cat.slots[i].signature);
   mix(cat.type_count);
   for (std::uint32_t t = 0; cat.types != nullptr && t < cat.type_count; ++t) {
      const modkit_type_desc &type = cat.types[t];
      text(type.name);
      mix(type.size);
      mix(type.field_count);
      for (std::uint32_t f = 0; type.fields != nullptr && f < type.field_count; ++f) {
         text(type.fields[f].name);
         text(type.fields[f].type);
         mix(type.fields[f].offset);
      }
   }
   return h;
}

// Fingerprints of categories check_slots accepted in this process. Bounded: a host that makes
// endless distinct categories only gets the memo's benefit for the latest ones.
class CheckedCategories {
public:
   bool contains(std::uint64_t print) {
      std::lock_guard<std::mutex> lock(mutex_);
      return std::find(prints_.begin(), prints_.end(), print) != prints_.end();
   }
   void add(std::uint64_t print) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (prints_.size() == capacity) prints_.erase(prints_.begin());
      prints_.push_back(print);
   }

private:
   static constexpr std::size_t capacity = 64;
   std::mutex mutex_;
   std::vector<std::uint64_t> prints_;
};

CheckedCategories &checked_categories() {
   static CheckedCategories checked;
   return checked;
}

} // namespace

bool Invoker::check_slots(const modkit_category &cat, std::string &error) {
   if (!MODKIT_HAS_FIELD(&cat, modkit_category, types)) return check(cat, 0, error); // its message
   const std::uint64_t print = fingerprint(cat);
   if (checked_categories().contains(print)) return true;
   for (std::uint32_t s = 0; s < cat.slot_count; ++s) {
      if (!check(cat, s, error)) return false;
   }
   checked_categories().add(print);
   return true;
}

bool Invoker::prepare(const modkit_category &cat, std::uint32_t slot_index, Invoker &out,
                      std::string &error) {
   auto state = std::make_shared<detail::State>();
   if (!parse_slot(cat, slot_index, state->params, error)) return false;
   const modkit_slot_desc &slot = cat.slots[slot_index];
   plan(*state);

   state->arg_types.reserve(state->params.size() + 2);
   state->arg_types.push_back(&ffi_type_pointer); // void *user_data
   state->arg_types.push_back(&ffi_type_pointer); // modkit_call *call
   for (const Param &p : state->params) {
      ffi_type *type = ffi_type_of(p);
      if (type == nullptr) {
         error = where(cat, slot) + ": libffi does not lay modkit_str out as the C compiler does";
         return false;
      }
      state->arg_types.push_back(type);
   }
   const ffi_status status =
      ffi_prep_cif(&state->cif, FFI_DEFAULT_ABI, static_cast<unsigned>(state->arg_types.size()),
                   &ffi_type_sint32, state->arg_types.data());
   if (status != FFI_OK) {
      error = fmt::format("{}: libffi could not prepare the call (ffi_status {})", where(cat, slot),
                          static_cast<int>(status));
      return false;
   }
   state->id = next_id();
   state->category = &cat;
   state->slot = &slot;
   out.state_ = std::move(state);
   return true;
}

const modkit_category *Invoker::category() const noexcept {
   return state_ ? state_->category : nullptr;
}

const modkit_slot_desc *Invoker::slot() const noexcept { return state_ ? state_->slot : nullptr; }

const std::vector<Param> &Invoker::params() const noexcept {
   static const std::vector<Param> none;
   return state_ ? state_->params : none;
}

std::size_t Invoker::input_count() const noexcept { return state_ ? state_->input_count : 0; }

modkit_status Invoker::call(void (*fn)(void), void *user_data, modkit_call *call, Frame &frame,
                            Initial initial) const noexcept {
   if (!state_ || !frame.bound_ || frame.layout_ != state_->id) return MODKIT_E_STATE;
   if (fn == nullptr) return MODKIT_E_INVALID_ARGUMENT;
   frame.cells_[0].ptr = user_data;
   frame.cells_[1].ptr = call;
   if (!frame.outputs_.empty()) {
      std::memset(frame.outputs_.data(), 0, frame.outputs_.size() * sizeof(detail::Cell));
   }
   if (initial == Initial::bools_true) {
      for (std::size_t i = 0; i < state_->params.size(); ++i) {
         if (state_->params[i].out && state_->params[i].kind == Kind::boolean)
            frame.outputs_[state_->places[i].index].b = true;
      }
   }
   for (Buffer &buffer : frame.buffers_)
      buffer.bytes.clear(); // keeps the capacity
   // libffi widens an integral result narrower than ffi_arg into a full ffi_arg, sign-extended
   // for signed types; read it back through ffi_sarg so negative statuses survive.
   ffi_arg result = 0;
   ffi_call(&state_->cif, fn, &result, frame.args_.data());
   return static_cast<modkit_status>(static_cast<ffi_sarg>(result));
}

bool Invoker::first_output(const Frame &frame, std::int64_t &value) const noexcept {
   if (!state_ || !frame.bound_ || frame.layout_ != state_->id) return false;
   for (std::size_t i = 0; i < state_->params.size(); ++i) {
      const Param &p = state_->params[i];
      if (!p.out) continue;
      if (p.kind == Kind::buf) return false;
      const detail::Cell &cell = frame.outputs_[state_->places[i].index];
      switch (p.kind) {
      case Kind::boolean: {
         unsigned char byte = 0;
         std::memcpy(&byte, &cell, 1);
         value = byte != 0;
         return true;
      }
      case Kind::i32: value = cell.i32; return true;
      case Kind::u32: value = cell.u32; return true;
      case Kind::i64: value = cell.i64; return true;
      case Kind::u64: value = static_cast<std::int64_t>(cell.u64); return true;
      case Kind::f64: value = cell.f64 != 0.0; return true;
      default: return false;
      }
   }
   return false;
}

nlohmann::json Invoker::outputs(const Frame &frame) const {
   nlohmann::json out = nlohmann::json::object();
   if (!state_ || !frame.bound_ || frame.layout_ != state_->id) return out;
   for (std::size_t i = 0; i < state_->params.size(); ++i) {
      const Param &p = state_->params[i];
      if (!p.out) continue;
      const std::uint32_t index = state_->places[i].index;
      if (p.kind == Kind::buf) {
         out[p.name] = frame.buffers_[index].bytes;
         continue;
      }
      const detail::Cell &cell = frame.outputs_[index];
      switch (p.kind) {
      case Kind::boolean: {
         // Read the byte: a module in another language may have stored a value other than 0/1.
         unsigned char byte = 0;
         std::memcpy(&byte, &cell, 1);
         out[p.name] = byte != 0;
         break;
      }
      case Kind::i32: out[p.name] = cell.i32; break;
      case Kind::u32: out[p.name] = cell.u32; break;
      case Kind::i64: out[p.name] = cell.i64; break;
      case Kind::u64: out[p.name] = cell.u64; break;
      case Kind::f64: out[p.name] = cell.f64; break;
      default: break; // the grammar allows no other output kind
      }
   }
   return out;
}

} // namespace modkit::invoke

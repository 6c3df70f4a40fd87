// Bounded reads over the file's bytes, and the reader's error plumbing.
#include "elf/elf_image.hpp"

#include <cstring>

namespace modkit::elf {

std::string ParseError::message() const {
   return (problem.empty() ? field : problem) + ": expected " + expected + ", found " + found;
}

namespace detail {

void fail(std::string problem, std::string field, std::string expected, std::string found) {
   throw Failure{
      ParseError{std::move(field), std::move(expected), std::move(found), std::move(problem)}};
}

std::string hex(uint64_t value) {
   static const char digits[] = "0123456789abcdef";
   std::string out;
   do {
      out.insert(out.begin(), digits[value & 0xf]);
      value >>= 4;
   } while (value != 0);
   return "0x" + out;
}

namespace {
// Only reached when a caller skipped its own range check: a bug in the reader, caught here
// instead of turning into an out-of-bounds read.
[[noreturn]] void out_of_range(uint64_t offset, uint64_t length, size_t size) {
   fail("read outside the file", "offset",
        "a range inside the " + std::to_string(size) + "-byte file",
        std::to_string(length) + " bytes at " + hex(offset));
}
} // namespace

uint8_t Bytes::u8(uint64_t offset) const {
   if (!contains(offset, 1)) out_of_range(offset, 1, size_);
   return data_[offset];
}

uint16_t Bytes::u16(uint64_t offset) const {
   if (!contains(offset, 2)) out_of_range(offset, 2, size_);
   const unsigned char *p = data_ + offset;
   return big_endian_ ? uint16_t(p[0] << 8 | p[1]) : uint16_t(p[1] << 8 | p[0]);
}

uint32_t Bytes::u32(uint64_t offset) const {
   if (!contains(offset, 4)) out_of_range(offset, 4, size_);
   uint32_t value = 0;
   for (int i = 0; i < 4; ++i) {
      value |= uint32_t(data_[offset + (big_endian_ ? 3 - i : i)]) << (8 * i);
   }
   return value;
}

uint64_t Bytes::u64(uint64_t offset) const {
   if (!contains(offset, 8)) out_of_range(offset, 8, size_);
   uint64_t value = 0;
   for (int i = 0; i < 8; ++i) {
      value |= uint64_t(data_[offset + (big_endian_ ? 7 - i : i)]) << (8 * i);
   }
   return value;
}

std::string Bytes::c_string(uint64_t offset, uint64_t end, const char *what) const {
   if (end > size_) out_of_range(offset, end > offset ? end - offset : 0, size_);
   if (offset >= end) {
      fail("string outside its table", what, "an offset below " + hex(end), hex(offset));
   }
   const void *nul = std::memchr(data_ + offset, '\0', end - offset);
   if (nul == nullptr) {
      fail("unterminated string", what, "a NUL before " + hex(end), "none after " + hex(offset));
   }
   return std::string(reinterpret_cast<const char *>(data_ + offset),
                      static_cast<const unsigned char *>(nul) - (data_ + offset));
}

std::string Bytes::text(uint64_t offset, uint64_t length) const {
   if (!contains(offset, length)) out_of_range(offset, length, size_);
   return std::string(reinterpret_cast<const char *>(data_ + offset), length);
}

} // namespace detail
} // namespace modkit::elf

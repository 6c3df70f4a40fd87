// elf/elf_image.hpp - the reader's internal view of a file: bounded bytes and decoded headers.
// Not part of the interface; shared by the reader's translation units only.
#pragma once

#include "elf/elf_facts.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace modkit::elf::detail {

// Thrown inside the reader and caught at its boundary (read_facts_memory).
struct Failure {
   ParseError error;
};

[[noreturn]] void fail(std::string problem, std::string field, std::string expected,
                       std::string found);

std::string hex(uint64_t value);

// The file's bytes with the file's byte order. Every read is bounds-checked, so a check
// forgotten by a caller ends in a Failure, never in a read outside the buffer.
class Bytes {
public:
   Bytes(const unsigned char *data, size_t size) : data_(data), size_(size) {}

   void set_big_endian(bool big) { big_endian_ = big; }
   size_t size() const { return size_; }

   // True when [offset, offset + length) lies inside the bytes; overflow-safe.
   bool contains(uint64_t offset, uint64_t length) const {
      return offset <= size_ && length <= size_ - offset;
   }

   uint8_t u8(uint64_t offset) const;
   uint16_t u16(uint64_t offset) const;
   uint32_t u32(uint64_t offset) const;
   uint64_t u64(uint64_t offset) const;
   // A word of the file's class: 4 bytes for ELFCLASS32, 8 for ELFCLASS64.
   uint64_t word(uint64_t offset, bool is64) const { return is64 ? u64(offset) : u32(offset); }

   // The NUL-terminated string at offset; the NUL must lie before end. what names the table
   // for the error message.
   std::string c_string(uint64_t offset, uint64_t end, const char *what) const;
   std::string text(uint64_t offset, uint64_t length) const;

private:
   const unsigned char *data_;
   size_t size_;
   bool big_endian_ = false;
};

struct Segment {
   uint32_t type = 0, flags = 0;
   uint64_t offset = 0, vaddr = 0, filesz = 0, memsz = 0, align = 0;
};

struct Section {
   uint32_t type = 0, link = 0, info = 0;
   uint64_t flags = 0, addr = 0, offset = 0, size = 0, addralign = 0, entsize = 0;
};

struct Image {
   explicit Image(Bytes b) : bytes(b) {}
   Bytes bytes;
   bool is64 = false;
   unsigned machine = 0;
   std::vector<Segment> segments;
   std::vector<Section> sections;

   // The file offset of [vaddr, vaddr + length) when it lies inside the file-backed part of a
   // single PT_LOAD segment.
   std::optional<uint64_t> file_offset(uint64_t vaddr, uint64_t length) const;
};

// Each fills its part of facts, or throws Failure.
Image read_headers(const unsigned char *data, size_t size, Facts &facts); // elf_reader.cpp
void read_segments(const Image &image, Facts &facts);                      // elf_reader.cpp
void read_dynamic(const Image &image, Facts &facts);                       // elf_dynamic.cpp
void read_symbols(const Image &image, Facts &facts);                       // elf_symbols.cpp
void read_notes(const Image &image, Facts &facts);                         // elf_notes.cpp

} // namespace modkit::elf::detail

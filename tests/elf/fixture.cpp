#include "fixture.hpp"

#include <doctest/doctest.h>
#include <modkit/manifest.h>

#include <elf.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>

namespace modkit::elf::test {

OpenFile::~OpenFile() {
   if (fd_ >= 0) close(fd_);
}

TempFile::TempFile(const Bytes &bytes) {
   const char *dir = std::getenv("TMPDIR");
   std::string pattern =
      std::string(dir != nullptr && *dir != '\0' ? dir : "/tmp") + "/modkit-elf-XXXXXX";
   const int fd = mkstemp(pattern.data());
   REQUIRE_MESSAGE(fd >= 0, "mkstemp failed for ", pattern);
   path_ = pattern;
   const OpenFile file(fd);
   size_t done = 0;
   while (done < bytes.size()) {
      const ssize_t n = write(fd, bytes.data() + done, bytes.size() - done);
      REQUIRE(n > 0);
      done += static_cast<size_t>(n);
   }
}

TempFile::~TempFile() {
   if (!path_.empty()) unlink(path_.c_str());
}

Bytes file_bytes(const char *path) {
   std::ifstream in(path, std::ios::binary);
   REQUIRE_MESSAGE(in.good(), "cannot open ", path);
   return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

Facts facts_of(const Bytes &bytes) {
   Facts facts;
   ParseError error;
   const bool ok = read_facts_memory(bytes.data(), bytes.size(), facts, error);
   REQUIRE_MESSAGE(ok, error.message());
   return facts;
}

Facts facts_of(const char *path) {
   INFO("fixture ", std::string(path));
   return facts_of(file_bytes(path));
}

std::vector<std::string> checks(const std::vector<Finding> &findings) {
   std::vector<std::string> out;
   for (const Finding &f : findings) out.push_back(f.check);
   return out;
}

Finding finding(const std::vector<Finding> &findings, const std::string &check) {
   for (const Finding &f : findings) {
      if (f.check == check) return f;
   }
   FAIL("no finding ", check);
   return Finding{};
}

bool contains(const std::string &text, const std::string &part) {
   return text.find(part) != std::string::npos;
}

void put16(Bytes &bytes, size_t offset, uint16_t value) {
   REQUIRE(offset + 2 <= bytes.size());
   for (size_t i = 0; i < 2; ++i) bytes[offset + i] = static_cast<unsigned char>(value >> (8 * i));
}

void put32(Bytes &bytes, size_t offset, uint32_t value) {
   REQUIRE(offset + 4 <= bytes.size());
   for (size_t i = 0; i < 4; ++i) bytes[offset + i] = static_cast<unsigned char>(value >> (8 * i));
}

void put64(Bytes &bytes, size_t offset, uint64_t value) {
   REQUIRE(offset + 8 <= bytes.size());
   for (size_t i = 0; i < 8; ++i) bytes[offset + i] = static_cast<unsigned char>(value >> (8 * i));
}

uint64_t get(const Bytes &bytes, size_t offset, unsigned width) {
   REQUIRE(offset + width <= bytes.size());
   uint64_t value = 0;
   for (unsigned i = 0; i < width; ++i) value |= uint64_t(bytes[offset + i]) << (8 * i);
   return value;
}

size_t program_header(const Bytes &bytes, uint32_t type, unsigned index) {
   const uint64_t phoff = get(bytes, offsetof(Elf64_Ehdr, e_phoff), 8);
   const uint64_t phnum = get(bytes, offsetof(Elf64_Ehdr, e_phnum), 2);
   unsigned seen = 0;
   for (uint64_t i = 0; i < phnum; ++i) {
      const size_t at = phoff + i * sizeof(Elf64_Phdr);
      if (get(bytes, at + offsetof(Elf64_Phdr, p_type), 4) == type && seen++ == index) return at;
   }
   FAIL("no program header ", index, " of type ", type);
   return 0;
}

size_t manifest_note_offset(const Bytes &bytes) {
   // n_namesz = 7, n_descsz = any, n_type = MODKIT_NOTE_TYPE_MANIFEST, then "modkit\0".
   const unsigned char owner[] = "modkit";
   for (size_t at = 12; at + sizeof owner <= bytes.size(); ++at) {
      if (std::memcmp(&bytes[at], owner, sizeof owner) != 0) continue;
      const size_t note = at - 12;
      uint32_t namesz = 0, type = 0;
      for (size_t i = 0; i < 4; ++i) {
         namesz |= uint32_t(bytes[note + i]) << (8 * i);
         type |= uint32_t(bytes[note + 8 + i]) << (8 * i);
      }
      if (namesz == sizeof owner && type == MODKIT_NOTE_TYPE_MANIFEST) return note;
   }
   FAIL("no modkit manifest note in the bytes");
   return 0;
}

} // namespace modkit::elf::test

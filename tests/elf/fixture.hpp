// Helpers shared by the ELF tests: fixture bytes, facts, and finding lookups.
#pragma once

#include "elf/elf_facts.hpp"
#include "elf/elf_policy.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace modkit::elf::test {

using Bytes = std::vector<unsigned char>;

// The whole file; fails the running test when it cannot be read.
Bytes file_bytes(const char *path);

// Facts of a file or of bytes that must parse; fails the running test otherwise.
Facts facts_of(const char *path);
Facts facts_of(const Bytes &bytes);

// The check IDs of findings, in order.
std::vector<std::string> checks(const std::vector<Finding> &findings);

// The finding with this check ID; fails the running test when there is none.
Finding finding(const std::vector<Finding> &findings, const std::string &check);

bool contains(const std::string &text, const std::string &part);

// A descriptor closed when the test leaves its scope, even through a failed REQUIRE.
class OpenFile {
public:
   explicit OpenFile(int fd) : fd_(fd) {}
   ~OpenFile();
   OpenFile(const OpenFile &) = delete;
   OpenFile &operator=(const OpenFile &) = delete;
   int get() const { return fd_; }

private:
   int fd_;
};

// A temporary file holding bytes, removed with the object.
class TempFile {
public:
   explicit TempFile(const Bytes &bytes);
   ~TempFile();
   TempFile(const TempFile &) = delete;
   TempFile &operator=(const TempFile &) = delete;
   const std::string &path() const { return path_; }

private:
   std::string path_;
};

// Little-endian stores into a 64-bit little-endian fixture's bytes.
void put16(Bytes &bytes, size_t offset, uint16_t value);
void put32(Bytes &bytes, size_t offset, uint32_t value);
void put64(Bytes &bytes, size_t offset, uint64_t value);

// A little-endian load from a 64-bit little-endian fixture's bytes.
uint64_t get(const Bytes &bytes, size_t offset, unsigned width);

// Offset of the index-th program header of this type (0: the first); fails the test if absent.
size_t program_header(const Bytes &bytes, uint32_t type, unsigned index = 0);

// Offset of the modkit manifest note's header (n_namesz) in the bytes; fails the test if absent.
size_t manifest_note_offset(const Bytes &bytes);

} // namespace modkit::elf::test

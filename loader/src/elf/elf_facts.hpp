// elf/elf_facts.hpp - what a module file says about itself, read without running any of it.
//
// The reader never dlopens, never maps anything executable and never trusts an offset or a
// size it has not checked against the bytes it holds: this runs on files nobody has vetted yet.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace modkit::elf {

// One .dynsym entry.
struct Symbol {
   std::string name;
   // The version an import requires ("GLIBC_2.2.5") or an export defines; "" for none.
   std::string version;
   unsigned type;           // STT_*
   unsigned bind;           // STB_*
   bool defined;            // st_shndx != SHN_UNDEF
   unsigned visibility = 0; // STV_*
};

// One version a file requires of a dependency (.gnu.version_r).
struct VersionNeed {
   std::string file;    // e.g. "libc.so.6"
   std::string version; // e.g. "GLIBC_2.34"
};

struct Facts {
   unsigned elf_class = 0;     // ELFCLASS32 / ELFCLASS64
   unsigned data = 0;          // ELFDATA2LSB / ELFDATA2MSB
   unsigned ident_version = 0; // e_ident[EI_VERSION]
   unsigned osabi = 0;         // e_ident[EI_OSABI]
   unsigned version = 0;       // e_version
   unsigned machine = 0;       // e_machine
   unsigned type = 0;          // e_type
   bool has_interp = false;    // PT_INTERP: an executable, not a library
   std::string interp;         // the PT_INTERP path, e.g. "/lib64/ld-linux-x86-64.so.2"
   bool has_dynamic = false;   // PT_DYNAMIC present
   std::vector<std::string> needed; // DT_NEEDED, in order
   std::string rpath, runpath;      // DT_RPATH / DT_RUNPATH ("" if none)
   std::string soname;
   // PT_GNU_STACK has PF_X, or a file with program headers has no PT_GNU_STACK (glibc then
   // defaults to an executable stack on x86-64). A file without program headers loads nothing.
   bool exec_stack = false;
   bool has_gnu_stack = false;  // PT_GNU_STACK present
   bool static_tls = false;     // DF_STATIC_TLS in DT_FLAGS
   bool textrel = false;        // DT_TEXTREL or DF_TEXTREL
   bool bind_now = false;       // DT_BIND_NOW, DF_BIND_NOW or DF_1_NOW
   bool has_relro = false;      // PT_GNU_RELRO
   uint64_t tls_size = 0;       // PT_TLS p_memsz
   bool has_irelative = false;  // any R_*_IRELATIVE dynamic relocation: a resolver runs in dlopen
   bool has_init = false;       // DT_INIT
   size_t init_array_count = 0; // DT_INIT_ARRAYSZ / pointer size
   // Defined .dynsym symbols bound GLOBAL, WEAK or GNU_UNIQUE, and not hidden or internal.
   std::vector<Symbol> exports;
   std::vector<Symbol> imports; // undefined .dynsym symbols, with their required version
   std::vector<std::string> unique_symbols; // defined STB_GNU_UNIQUE symbols
   std::vector<std::string> ifunc_symbols;  // defined STT_GNU_IFUNC symbols
   std::vector<VersionNeed> version_needs;  // .gnu.version_r, in file order
   // Descriptor text of every note with owner "modkit" and type MODKIT_NOTE_TYPE_MANIFEST,
   // trailing NULs stripped. Read from PT_NOTE segments, so stripped files work; SHT_NOTE
   // sections are read only when there is no PT_NOTE (relocatable objects).
   std::vector<std::string> manifests;
   size_t modkit_note_count = 0; // notes with owner "modkit", of any type
};

// Why a file could not be parsed safely: the field, what was expected and what was found.
struct ParseError {
   std::string field;    // e.g. "e_phoff", "n_namesz", "file size"
   std::string expected; // e.g. "at least 64 bytes"
   std::string found;    // e.g. "40"
   std::string problem;  // a short summary, e.g. "file too short"; may be empty
   // "<problem, or field when there is none>: expected <expected>, found <found>"
   std::string message() const;
};

// Reads the facts of the file open on fd, at most max_size bytes (larger files are refused).
// Reads with pread only: nothing is mapped, so a file truncated under us cannot SIGBUS the host.
// Returns false when the bytes cannot be parsed safely and fills error. On failure, out is
// either empty (elf_class == 0: the ELF header itself was missing or unusable, and error says
// all there is) or holds what was read before the failure, the ident and header fields at
// least. Run check_ident() on the latter: a file whose EI_CLASS or EI_DATA is wrong usually
// fails to parse further on, and "ELF class: expected ..., found ..." explains it better.
bool read_facts(int fd, Facts &out, ParseError &error, uint64_t max_size = 256ull << 20);

// The same over bytes in memory (used by read_facts and by the fuzzer). Never reads outside
// [data, data + size).
bool read_facts_memory(const void *data, size_t size, Facts &out, ParseError &error);

} // namespace modkit::elf

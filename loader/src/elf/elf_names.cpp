// Human names for ELF constants, as used in findings.
#include "elf/elf_policy.hpp"

namespace modkit::elf {
namespace {

struct Name {
   unsigned value;
   const char *text;
};

template <size_t N> std::string lookup(const Name (&names)[N], unsigned value, const char *kind) {
   for (const Name &name : names) {
      if (name.value == value) return name.text;
   }
   return "unknown " + std::string(kind) + " (" + std::to_string(value) + ")";
}

} // namespace

std::string machine_name(unsigned machine) {
   static const Name names[] = {
      {EM_NONE, "none (EM_NONE)"},
      {EM_386, "Intel 80386 (EM_386)"},
      {EM_X86_64, "x86-64 (EM_X86_64)"},
      {EM_ARM, "ARM (EM_ARM)"},
      {EM_AARCH64, "AArch64 (EM_AARCH64)"},
      {EM_RISCV, "RISC-V (EM_RISCV)"},
      {EM_PPC, "PowerPC (EM_PPC)"},
      {EM_PPC64, "PowerPC64 (EM_PPC64)"},
      {EM_S390, "IBM S/390 (EM_S390)"},
      {EM_MIPS, "MIPS (EM_MIPS)"},
      {EM_SPARC, "SPARC (EM_SPARC)"},
      {EM_SPARCV9, "SPARC V9 (EM_SPARCV9)"},
      {EM_IA_64, "IA-64 (EM_IA_64)"},
      {EM_LOONGARCH, "LoongArch (EM_LOONGARCH)"},
      {EM_BPF, "BPF (EM_BPF)"},
   };
   return lookup(names, machine, "machine");
}

std::string class_name(unsigned elf_class) {
   static const Name names[] = {
      {ELFCLASSNONE, "no class (ELFCLASSNONE)"},
      {ELFCLASS32, "32-bit (ELFCLASS32)"},
      {ELFCLASS64, "64-bit (ELFCLASS64)"},
   };
   return lookup(names, elf_class, "class");
}

std::string data_name(unsigned data) {
   static const Name names[] = {
      {ELFDATANONE, "no encoding (ELFDATANONE)"},
      {ELFDATA2LSB, "little-endian (ELFDATA2LSB)"},
      {ELFDATA2MSB, "big-endian (ELFDATA2MSB)"},
   };
   return lookup(names, data, "data encoding");
}

std::string type_name(unsigned type) {
   static const Name names[] = {
      {ET_NONE, "no file type (ET_NONE)"}, {ET_REL, "relocatable object (ET_REL)"},
      {ET_EXEC, "executable (ET_EXEC)"},   {ET_DYN, "shared object (ET_DYN)"},
      {ET_CORE, "core dump (ET_CORE)"},
   };
   return lookup(names, type, "file type");
}

std::string osabi_name(unsigned osabi) {
   static const Name names[] = {
      {ELFOSABI_NONE, "System V (ELFOSABI_NONE)"},
      {ELFOSABI_HPUX, "HP-UX (ELFOSABI_HPUX)"},
      {ELFOSABI_NETBSD, "NetBSD (ELFOSABI_NETBSD)"},
      {ELFOSABI_GNU, "GNU/Linux (ELFOSABI_GNU)"},
      {ELFOSABI_SOLARIS, "Solaris (ELFOSABI_SOLARIS)"},
      {ELFOSABI_AIX, "AIX (ELFOSABI_AIX)"},
      {ELFOSABI_IRIX, "IRIX (ELFOSABI_IRIX)"},
      {ELFOSABI_FREEBSD, "FreeBSD (ELFOSABI_FREEBSD)"},
      {ELFOSABI_TRU64, "Tru64 (ELFOSABI_TRU64)"},
      {ELFOSABI_MODESTO, "Modesto (ELFOSABI_MODESTO)"},
      {ELFOSABI_OPENBSD, "OpenBSD (ELFOSABI_OPENBSD)"},
      {ELFOSABI_ARM_AEABI, "ARM EABI (ELFOSABI_ARM_AEABI)"},
      {ELFOSABI_ARM, "ARM (ELFOSABI_ARM)"},
      {ELFOSABI_STANDALONE, "standalone (ELFOSABI_STANDALONE)"},
   };
   return lookup(names, osabi, "OS ABI");
}

std::string symbol_type_name(unsigned type) {
   static const Name names[] = {
      {STT_NOTYPE, "untyped symbol (STT_NOTYPE)"},
      {STT_OBJECT, "data object (STT_OBJECT)"},
      {STT_FUNC, "function (STT_FUNC)"},
      {STT_SECTION, "section (STT_SECTION)"},
      {STT_FILE, "file name (STT_FILE)"},
      {STT_COMMON, "common block (STT_COMMON)"},
      {STT_TLS, "thread-local object (STT_TLS)"},
      {STT_GNU_IFUNC, "indirect function (STT_GNU_IFUNC)"},
   };
   return lookup(names, type, "symbol type");
}

} // namespace modkit::elf

// The structural and hygiene checks over a file's Facts.
#include "elf/elf_policy.hpp"

#include <modkit/manifest.h>
#include <modkit/module.h>

#include <algorithm>
#include <cstdio>

namespace modkit::elf {
namespace {

Finding finding(std::string check, std::string subject, std::string expected, std::string found) {
   return Finding{std::move(check), std::move(expected), std::move(found), std::move(subject)};
}

std::string join(const std::vector<std::string> &names) {
   std::string out;
   for (const std::string &name : names) {
      if (!out.empty()) out += ", ";
      out += name;
   }
   return out;
}

// "1 symbol", "2 symbols".
std::string count(size_t n, const std::string &noun) {
   return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

std::string file_type(const Facts &facts) {
   switch (facts.type) {
   case ET_EXEC: return "a non-PIE executable (ET_EXEC)";
   case ET_REL: return "a relocatable object (ET_REL), not yet linked into a shared object";
   default: return type_name(facts.type);
   }
}

void check_entry(const Facts &facts, std::vector<Finding> &out) {
   const char *const name = MODKIT_ENTRY_SYMBOL;
   const Symbol *entry = nullptr;
   for (const Symbol &symbol : facts.exports) {
      if (symbol.name == name) {
         entry = &symbol;
         break;
      }
   }
   if (entry == nullptr) {
      bool imported = false;
      for (const Symbol &symbol : facts.imports) imported = imported || symbol.name == name;
      out.push_back(finding("entry.missing", "entry symbol",
                            std::string(name) + " exported as a defined function",
                            imported ? "only an undefined reference to it"
                                     : "no such export (the file exports " +
                                          count(facts.exports.size(), "symbol") + ")"));
   } else if (entry->type == STT_GNU_IFUNC) {
      out.push_back(
         finding("entry.ifunc", "entry symbol", std::string(name) + " as a function (STT_FUNC)",
                 "an indirect function (STT_GNU_IFUNC), whose resolver would run inside dlopen"));
   } else if (entry->type != STT_FUNC) {
      out.push_back(finding("entry.type", "entry symbol",
                            std::string(name) + " as a function (STT_FUNC)",
                            "a " + symbol_type_name(entry->type)));
   }
}

} // namespace

std::string Finding::message() const {
   return (subject.empty() ? check : subject) + ": expected " + expected + ", found " + found;
}

HostFacts HostFacts::current() {
#if defined(__x86_64__)
   return HostFacts{ELFCLASS64, EM_X86_64};
#elif defined(__aarch64__)
   return HostFacts{ELFCLASS64, EM_AARCH64};
#elif defined(__i386__)
   return HostFacts{ELFCLASS32, EM_386};
#elif defined(__arm__)
   return HostFacts{ELFCLASS32, EM_ARM};
#elif defined(__riscv) && __riscv_xlen == 64
   return HostFacts{ELFCLASS64, EM_RISCV};
#elif defined(__powerpc64__)
   return HostFacts{ELFCLASS64, EM_PPC64};
#elif defined(__s390x__)
   return HostFacts{ELFCLASS64, EM_S390};
#elif defined(__loongarch64)
   return HostFacts{ELFCLASS64, EM_LOONGARCH};
#else
#   error "modkit: add this architecture's ELF class and machine to HostFacts::current()"
#endif
}

std::vector<Finding> check_ident(const Facts &facts, const HostFacts &host) {
   std::vector<Finding> out;
   if (facts.elf_class != host.elf_class) {
      out.push_back(finding("elf.class", "ELF class", class_name(host.elf_class),
                            class_name(facts.elf_class)));
   }
   if (facts.data != host.data) {
      out.push_back(
         finding("elf.data", "data encoding", data_name(host.data), data_name(facts.data)));
   }
   if (facts.ident_version != EV_CURRENT) {
      out.push_back(finding("elf.version", "ELF version", "EV_CURRENT (1) in e_ident[EI_VERSION]",
                            std::to_string(facts.ident_version)));
   }
   if (facts.version != EV_CURRENT) {
      out.push_back(finding("elf.version", "ELF version", "EV_CURRENT (1) in e_version",
                            std::to_string(facts.version)));
   }
   if (facts.osabi != ELFOSABI_NONE && facts.osabi != ELFOSABI_GNU) {
      out.push_back(finding("elf.osabi", "OS ABI",
                            osabi_name(ELFOSABI_NONE) + " or " + osabi_name(ELFOSABI_GNU),
                            osabi_name(facts.osabi)));
   }
   if (facts.machine != host.machine) {
      out.push_back(finding("elf.machine", "machine", machine_name(host.machine),
                            machine_name(facts.machine)));
   }
   return out;
}

std::vector<Finding> check_structure(const Facts &facts, const HostFacts &host) {
   std::vector<Finding> out = check_ident(facts, host);
   if (facts.type != ET_DYN) {
      out.push_back(finding("elf.type", "file type", type_name(ET_DYN), file_type(facts)));
      return out;
   }
   if (facts.has_interp) {
      out.push_back(
         finding("elf.interp", "file type", "a shared object (ET_DYN without PT_INTERP)",
                 "a position-independent executable (ET_DYN with PT_INTERP " + facts.interp + ")"));
      return out;
   }
   if (!facts.has_dynamic) {
      out.push_back(finding("elf.dynamic", "dynamic section", "a PT_DYNAMIC segment", "none"));
   }

   char type[16];
   std::snprintf(type, sizeof type, "%#x", MODKIT_NOTE_TYPE_MANIFEST);
   const std::string manifest = std::string("note with owner \"") + MODKIT_NOTE_OWNER +
                                "\" and type " + type + " (MODKIT_DECLARE_MODULE)";
   if (facts.manifests.empty()) {
      const size_t others = facts.modkit_note_count;
      out.push_back(
         finding("manifest.missing", "manifest", "a " + manifest,
                 others == 0 ? "none" : "none (" + count(others, "other modkit note") + ")"));
   } else if (facts.manifests.size() > 1) {
      out.push_back(finding("manifest.duplicate", "manifest", "exactly one " + manifest,
                            std::to_string(facts.manifests.size()) + " manifest notes"));
   }
   check_entry(facts, out);
   return out;
}

std::vector<Finding> check_hygiene(const Facts &facts) {
   std::vector<Finding> out;
   if (facts.exec_stack) {
      out.push_back(finding(
         "hygiene.exec_stack", "executable stack",
         "PT_GNU_STACK without PF_X (loading it would make every thread stack executable)",
         facts.has_gnu_stack ? "PT_GNU_STACK with PF_X (linked with -z execstack?)"
                             : "no PT_GNU_STACK, which the dynamic loader treats as executable"));
   }
   if (facts.static_tls) {
      out.push_back(finding("hygiene.static_tls", "static TLS",
                            "no DF_STATIC_TLS (initial-exec TLS must fit the space reserved at "
                            "process start; use the global-dynamic TLS model)",
                            "DF_STATIC_TLS with " + std::to_string(facts.tls_size) +
                               " bytes of TLS (PT_TLS)"));
   }
   if (!facts.unique_symbols.empty()) {
      out.push_back(
         finding("hygiene.unique_symbols", "unique symbols",
                 "no STB_GNU_UNIQUE symbols (they keep the module mapped after dlclose; "
                 "build with -fno-gnu-unique or hidden visibility)",
                 std::to_string(facts.unique_symbols.size()) + ": " + join(facts.unique_symbols)));
   }
   if (facts.textrel) {
      out.push_back(
         finding("hygiene.textrel", "text relocations",
                 "no DT_TEXTREL (code pages would be written while loading; build with -fPIC)",
                 "DT_TEXTREL"));
   }
   if (!facts.ifunc_symbols.empty() || facts.has_irelative) {
      std::string found;
      if (!facts.ifunc_symbols.empty()) {
         found = "STT_GNU_IFUNC exports " + join(facts.ifunc_symbols);
      }
      if (facts.has_irelative) {
         found += std::string(found.empty() ? "" : " and ") + "R_*_IRELATIVE relocations";
      }
      out.push_back(
         finding("hygiene.ifunc", "IFUNC resolvers",
                 "no STT_GNU_IFUNC symbols or IRELATIVE relocations (their resolvers run "
                 "module code inside dlopen, before any check)",
                 found));
   }
   return out;
}

std::vector<Finding> check_symbol_versions(const Facts &facts, const std::vector<RuntimeVersion> &host) {
   struct TooNew {
      SymbolVersion need;
      std::string file; // the library the module requires it of
      const RuntimeVersion *have;
   };
   std::vector<TooNew> too_new; // one per family, the newest need
   for (const VersionNeed &n : facts.version_needs) {
      const std::optional<SymbolVersion> need = parse_symbol_version(n.version);
      if (!need) continue; // GLIBC_PRIVATE and the like: not a release
      const RuntimeVersion *have = nullptr;
      for (const RuntimeVersion &r : host) {
         if (r.family == need->family) have = &r;
      }
      const auto host_number = have ? parse_dotted(have->highest) : std::nullopt;
      if (!host_number || compare_versions(need->number, *host_number) <= 0) continue;
      auto same = std::find_if(too_new.begin(), too_new.end(),
                               [&](const TooNew &t) { return t.need.family == need->family; });
      if (same == too_new.end()) too_new.push_back(TooNew{*need, n.file, have});
      else if (compare_versions(need->number, same->need.number) > 0) *same = TooNew{*need, n.file, have};
   }
   if (too_new.empty()) return {};
   std::vector<std::string> required, provided;
   for (const TooNew &t : too_new) {
      required.push_back(t.need.name() + " required of " + t.file);
      provided.push_back(t.have->family + "_" + t.have->highest + " in " + t.have->library);
   }
   return {finding("hygiene.symbol_versions", "symbol versions",
                   "none newer than the host's runtime provides (" + join(provided) +
                      "; rebuild the module against an older runtime)",
                   join(required))};
}

} // namespace modkit::elf

#include "module_file.hpp"

#include "output.hpp"

#include "elf/symbol_versions.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace modkit::cli {
namespace {

Finding from_elf(const elf::Finding &f) { return Finding{f.check, f.subject, f.expected, f.found, true}; }

std::string join(const std::vector<std::string> &items, const char *separator = ", ") {
   std::string out;
   for (const std::string &item : items) out += (out.empty() ? "" : separator) + item;
   return out;
}

std::vector<std::string> split(const std::string &text, char separator) {
   std::vector<std::string> out;
   size_t start = 0;
   while (start <= text.size()) {
      size_t end = text.find(separator, start);
      if (end == std::string::npos) end = text.size();
      if (end > start) out.push_back(text.substr(start, end - start));
      start = end + 1;
   }
   return out;
}

// $ORIGIN and ${ORIGIN} replaced by origin, then "." and ".." resolved lexically.
std::string resolve_entry(std::string entry, const std::string &origin) {
   for (const std::string token : {"${ORIGIN}", "$ORIGIN"}) {
      for (size_t at = entry.find(token); at != std::string::npos; at = entry.find(token, at + origin.size()))
         entry.replace(at, token.size(), origin);
   }
   std::vector<std::string> parts;
   for (const std::string &part : split(entry, '/')) {
      if (part == ".") continue;
      if (part == "..") {
         if (!parts.empty()) parts.pop_back();
         continue;
      }
      parts.push_back(part);
   }
   std::string out;
   for (const std::string &part : parts) out += "/" + part;
   return out.empty() ? "/" : out;
}

void add_manifest(ModuleFile &file) {
   if (file.facts.manifests.size() != 1) return; // check_structure reported it
   Manifest manifest;
   std::string problem;
   if (!parse_manifest(file.facts.manifests.front(), manifest, problem)) {
      file.findings.push_back(Finding{"manifest.invalid", "manifest",
                                      "a JSON object with \"name\", \"version\" and \"abi\" strings (modkit/manifest.h)",
                                      problem, true});
      return;
   }
   if (!manifest.abi_major) {
      file.findings.push_back(Finding{"manifest.abi", "manifest abi", "MAJOR.MINOR, e.g. \"1.0\"",
                                      "\"" + manifest.abi + "\"", true});
   }
   file.manifest = std::move(manifest);
}

} // namespace

std::string Finding::message() const {
   return (subject.empty() ? check : subject) + ": expected " + expected + ", found " + found;
}

int ModuleFile::exit_code() const {
   if (error == Error::io) return exit_usage;
   return error == Error::parse || !findings.empty() ? exit_refused : exit_ok;
}

bool ModuleFile::loadable() const {
   if (error != Error::none) return false;
   for (const Finding &f : findings) {
      if (f.loader_refuses) return false;
   }
   return true;
}

std::vector<Finding> check_search_paths(const elf::Facts &facts, const std::string &module_dir) {
   std::vector<Finding> out;
   const std::string dir = resolve_entry(module_dir, module_dir);
   std::vector<std::string> outside;
   for (const std::string *list : {&facts.rpath, &facts.runpath}) {
      for (const std::string &entry : split(*list, ':')) {
         const std::string resolved = resolve_entry(entry, dir);
         if (resolved != dir && resolved.compare(0, dir.size() + 1, dir + "/") != 0) outside.push_back(entry);
      }
   }
   if (!outside.empty()) {
      out.push_back(Finding{"hygiene.runpath", "library search path (RPATH/RUNPATH)",
                            "entries inside the module's directory ($ORIGIN)", join(outside), true});
   }
   if (!facts.rpath.empty()) {
      out.push_back(Finding{"hygiene.rpath", "library search path",
                            "DT_RUNPATH rather than DT_RPATH (DT_RPATH also steers the libraries the module's "
                            "dependencies load, and comes before LD_LIBRARY_PATH)",
                            "DT_RPATH " + facts.rpath, false});
   }
   return out;
}

ModuleFile read_module_file(const std::string &path, const elf::HostFacts &host) {
   ModuleFile file;
   file.path = path;
   // O_NONBLOCK: a FIFO at the path must not hang the tool; nothing is mapped or executed.
   const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
   if (fd < 0) {
      file.error = ModuleFile::Error::io;
      file.error_message = fmt::format("cannot open: {}", std::strerror(errno));
      return file;
   }
   struct stat st {};
   if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      const int e = errno;
      ::close(fd);
      file.error = ModuleFile::Error::io;
      file.error_message = S_ISDIR(st.st_mode) ? "is a directory, not a module file"
                           : st.st_mode != 0   ? "is not a regular file"
                                               : fmt::format("cannot stat: {}", std::strerror(e));
      return file;
   }
   const bool read = elf::read_facts(fd, file.facts, file.parse_error);
   ::close(fd);
   if (!read) {
      const bool io = file.parse_error.problem == "cannot read file" ||
                      file.parse_error.problem == "file shrank while being read";
      file.error = io ? ModuleFile::Error::io : ModuleFile::Error::parse;
      file.error_message = file.parse_error.message();
      file.has_facts = file.facts.elf_class != 0;
      // A wrong class or byte order usually breaks parsing further on; saying so is clearer.
      if (file.has_facts) {
         for (const elf::Finding &f : elf::check_ident(file.facts, host)) file.findings.push_back(from_elf(f));
      }
      return file;
   }
   file.has_facts = true;
   for (const elf::Finding &f : elf::check_structure(file.facts, host)) file.findings.push_back(from_elf(f));
   for (const elf::Finding &f : elf::check_hygiene(file.facts)) file.findings.push_back(from_elf(f));
   std::error_code ec;
   const std::filesystem::path absolute = std::filesystem::absolute(path, ec);
   const std::string module_dir = (ec ? std::filesystem::path(path) : absolute).lexically_normal().parent_path().string();
   for (Finding &f : check_search_paths(file.facts, module_dir)) file.findings.push_back(std::move(f));
   add_manifest(file);
   return file;
}

std::string binding_name(unsigned bind) {
   switch (bind) {
   case STB_GLOBAL: return "global";
   case STB_WEAK: return "weak";
   case STB_GNU_UNIQUE: return "unique";
   default: return std::to_string(bind);
   }
}

nlohmann::json module_file_json(const ModuleFile &file) {
   using nlohmann::json;
   json doc;
   doc["file"] = file.path;
   doc["ok"] = file.exit_code() == exit_ok;
   if (file.error == ModuleFile::Error::none) {
      doc["error"] = nullptr;
   } else {
      doc["error"] = {{"kind", file.error == ModuleFile::Error::io ? "io" : "parse"},
                      {"message", file.error_message}};
   }
   if (file.has_facts) {
      const elf::Facts &f = file.facts;
      json elf{{"class", elf::class_name(f.elf_class)},
               {"data", elf::data_name(f.data)},
               {"osabi", elf::osabi_name(f.osabi)},
               {"machine", elf::machine_name(f.machine)},
               {"type", elf::type_name(f.type)},
               {"soname", f.soname},
               {"needed", f.needed},
               {"rpath", f.rpath},
               {"runpath", f.runpath},
               {"exec_stack", f.exec_stack},
               {"static_tls", f.static_tls},
               {"tls_size", f.tls_size},
               {"textrel", f.textrel},
               {"bind_now", f.bind_now},
               {"relro", f.has_relro},
               {"irelative", f.has_irelative},
               {"init_functions", (f.has_init ? 1 : 0) + f.init_array_count},
               {"unique_symbols", f.unique_symbols},
               {"ifunc_symbols", f.ifunc_symbols}};
      doc["elf"] = std::move(elf);
      json required = json::array();
      std::vector<std::string> names;
      for (const elf::VersionNeed &n : f.version_needs) {
         required.push_back({{"file", n.file}, {"version", n.version}});
         names.push_back(n.version);
      }
      json highest = json::object();
      for (const elf::SymbolVersion &v : elf::highest_versions(names)) highest[v.family] = v.text();
      doc["versions"] = {{"required", std::move(required)}, {"highest", std::move(highest)}};
      json exports = json::array();
      for (const elf::Symbol &s : f.exports) {
         exports.push_back({{"name", s.name},
                            {"type", elf::symbol_type_name(s.type)},
                            {"bind", binding_name(s.bind)},
                            {"version", s.version}});
      }
      doc["exports"] = std::move(exports);
   } else {
      doc["elf"] = nullptr;
      doc["versions"] = nullptr;
      doc["exports"] = nullptr;
   }
   if (file.manifest) {
      const Manifest &m = *file.manifest;
      doc["manifest"] = {{"name", m.name},         {"version", m.version},   {"abi", m.abi},
                         {"sdk", m.sdk},           {"compiler", m.compiler}, {"registers", m.registers}};
   } else {
      doc["manifest"] = nullptr;
   }
   json findings = json::array();
   for (const Finding &f : file.findings) {
      findings.push_back({{"check", f.check},
                          {"subject", f.subject},
                          {"expected", f.expected},
                          {"found", f.found},
                          {"loader_refuses", f.loader_refuses},
                          {"message", f.message()}});
   }
   doc["findings"] = std::move(findings);
   return doc;
}

std::string module_file_text(const ModuleFile &file, bool verdict) {
   std::string out = printable(file.path) + "\n";
   auto line = [&](const char *label, const std::string &value) {
      out += fmt::format("  {:<10} {}\n", label, printable(value));
   };
   if (file.has_facts) {
      const elf::Facts &f = file.facts;
      line("elf", fmt::format("{}, {}, {}, {}", elf::class_name(f.elf_class), elf::data_name(f.data),
                              elf::machine_name(f.machine), elf::type_name(f.type)));
   }
   if (file.error != ModuleFile::Error::none) line("error", file.error_message);
   if (file.error == ModuleFile::Error::none) {
      const elf::Facts &f = file.facts;
      line("needs", f.needed.empty() ? "no libraries" : join(f.needed));
      std::vector<std::string> names, per_family;
      for (const elf::VersionNeed &n : f.version_needs) names.push_back(n.version);
      for (const elf::SymbolVersion &v : elf::highest_versions(names)) per_family.push_back(v.name());
      line("requires", per_family.empty() ? "no symbol versions" : join(per_family) + " (the newest of each runtime)");
      if (f.exports.empty()) line("exports", "nothing");
      for (size_t i = 0; i < f.exports.size(); ++i) {
         const elf::Symbol &s = f.exports[i];
         line(i == 0 ? "exports" : "", fmt::format("{} ({}, {}){}", s.name, elf::symbol_type_name(s.type),
                                                  binding_name(s.bind), s.version.empty() ? "" : " " + s.version));
      }
      std::vector<std::string> facts;
      facts.push_back(f.bind_now ? "bind now" : "lazy binding");
      facts.push_back(f.has_relro ? "RELRO" : "no RELRO");
      facts.push_back(fmt::format("{} init function{}", (f.has_init ? 1 : 0) + f.init_array_count,
                                  (f.has_init ? 1 : 0) + f.init_array_count == 1 ? "" : "s"));
      if (!f.rpath.empty()) facts.push_back("RPATH " + f.rpath);
      if (!f.runpath.empty()) facts.push_back("RUNPATH " + f.runpath);
      line("loading", join(facts));
   }
   if (file.manifest) {
      const Manifest &m = *file.manifest;
      line("manifest", fmt::format("{} {}, ABI {}, SDK {}, compiler {}", m.name, m.version, m.abi,
                                   m.sdk.empty() ? "-" : m.sdk, m.compiler.empty() ? "-" : m.compiler));
      line("registers", m.registers.empty() ? "no categories" : join(m.registers));
   }
   for (const Finding &f : file.findings) line("finding", f.check + ": " + f.message());
   if (verdict) line("verdict", file.exit_code() == exit_ok ? "ok" : file.exit_code() == exit_refused ? "refused" : "unreadable");
   return out;
}

} // namespace modkit::cli

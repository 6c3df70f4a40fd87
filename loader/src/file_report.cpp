#include "file_report.hpp"

#include "elf/elf_facts.hpp"
#include "elf/host_runtime.hpp"
#include "environment_checks.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace modkit::loader {
namespace {

using json = nlohmann::ordered_json;

json finding_json(const elf::Finding &f, bool loader_refuses = true) {
   return {{"check", f.check},
           {"subject", f.subject},
           {"expected", f.expected},
           {"found", f.found},
           {"loader_refuses", loader_refuses},
           {"message", f.message()}};
}

std::string binding_name(unsigned bind) {
   switch (bind) {
   case STB_GLOBAL: return "global";
   case STB_WEAK: return "weak";
   case STB_GNU_UNIQUE: return "unique";
   default: return std::to_string(bind);
   }
}

json elf_json(const elf::Facts &f) {
   return {{"class", elf::class_name(f.elf_class)},
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
}

std::vector<std::string> needed_versions(const elf::Facts &f) {
   std::vector<std::string> names;
   for (const elf::VersionNeed &n : f.version_needs) names.push_back(n.version);
   return names;
}

json versions_json(const elf::Facts &f) {
   json required = json::array();
   for (const elf::VersionNeed &n : f.version_needs) required.push_back({{"file", n.file}, {"version", n.version}});
   json highest = json::object();
   for (const elf::SymbolVersion &v : elf::highest_versions(needed_versions(f))) highest[v.family] = v.text();
   return {{"required", std::move(required)}, {"highest", std::move(highest)}};
}

json exports_json(const elf::Facts &f) {
   json exports = json::array();
   for (const elf::Symbol &s : f.exports) {
      exports.push_back({{"name", s.name},
                         {"type", elf::symbol_type_name(s.type)},
                         {"bind", binding_name(s.bind)},
                         {"version", s.version}});
   }
   return exports;
}

// The loader's own search-path check, and one only the tools make (the loader does not refuse
// it): any DT_RPATH, since it also steers the search for every library the module's
// dependencies load, and comes before LD_LIBRARY_PATH.
void add_search_path(const elf::Facts &facts, const std::string &path, json &findings) {
   std::error_code ec;
   const std::filesystem::path absolute = std::filesystem::absolute(path, ec);
   const std::string dir = (ec ? std::filesystem::path(path) : absolute).lexically_normal().parent_path().string();
   for (const elf::Finding &f : check_search_path(facts, dir)) findings.push_back(finding_json(f));
   if (!facts.rpath.empty()) {
      elf::Finding f;
      f.check = "hygiene.rpath";
      f.subject = "library search path";
      f.expected = "DT_RUNPATH rather than DT_RPATH (DT_RPATH also steers the libraries the module's "
                   "dependencies load, and comes before LD_LIBRARY_PATH)";
      f.found = "DT_RPATH " + facts.rpath;
      findings.push_back(finding_json(f, false));
   }
}

// The newest version of each runtime family the file needs against the host's: one reason per
// family that is too new, one note per family that cannot be compared.
json runtime_json(const elf::Facts &facts, const std::vector<elf::RuntimeVersion> &host) {
   json reasons = json::array(), notes = json::array();
   for (const elf::SymbolVersion &need : elf::highest_versions(needed_versions(facts))) {
      const elf::RuntimeVersion *have = nullptr;
      for (const elf::RuntimeVersion &r : host) {
         if (r.family == need.family) have = &r;
      }
      if (have == nullptr) {
         notes.push_back(fmt::format("needs {}_{}, but the host description records no library defining {}_ "
                                     "versions: not compared", need.family, need.text(), need.family));
         continue;
      }
      const auto host_version = elf::parse_dotted(have->highest);
      if (!host_version) {
         notes.push_back(fmt::format("the host's {} version \"{}\" is not a dotted number: not compared", have->family,
                                     have->highest));
      } else if (elf::compare_versions(need.number, *host_version) > 0) {
         reasons.push_back(fmt::format("needs {}_{}, host has {}", need.family, need.text(), have->highest));
      }
   }
   return {{"reasons", std::move(reasons)}, {"notes", std::move(notes)}};
}

void add_manifest(const elf::Facts &facts, const ReportOptions &options, json &doc, json &findings) {
   if (facts.manifests.size() != 1) return; // check_structure reported it
   std::vector<elf::Finding> problems;
   const std::optional<Manifest> m = parse_manifest(facts.manifests.front(), problems);
   for (const elf::Finding &f : problems) findings.push_back(finding_json(f));
   if (!m) return;
   doc["manifest"] = {{"name", m->name},         {"version", m->version},   {"abi", m->abi},
                      {"sdk", m->sdk},           {"compiler", m->compiler}, {"registers", m->registers}};
   const std::string host = fmt::format("{}.{}", options.host_abi.major, options.host_abi.minor);
   if (m->abi_version) {
      const std::string refusal = abi_refusal(*m->abi_version, options.host_abi);
      doc["abi"] = {{"module", m->abi},
                    {"host", host},
                    {"compatible", refusal.empty()},
                    {"reason", refusal.empty() ? json(nullptr) : json(refusal)}};
   }
   if (options.categories) {
      for (const elf::Finding &f : check_declared_categories(m->registers, *options.categories))
         findings.push_back(finding_json(f));
   }
}

} // namespace

json file_report(const std::string &path, const ReportOptions &options) {
   json doc{{"file", path}, {"error", nullptr}, {"elf", nullptr},   {"versions", nullptr}, {"exports", nullptr},
            {"manifest", nullptr}, {"findings", json::array()}, {"abi", nullptr}, {"runtime", nullptr}};
   auto error = [&](const char *kind, const std::string &message) {
      doc["error"] = {{"kind", kind}, {"message", message}};
      return doc;
   };
   // O_NONBLOCK: a FIFO at the path must not hang the caller; nothing is mapped or executed.
   const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
   if (fd < 0) return error("io", fmt::format("cannot open: {}", std::strerror(errno)));
   struct stat st {};
   if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      const int e = errno;
      ::close(fd);
      return error("io", S_ISDIR(st.st_mode) ? "is a directory, not a module file"
                         : st.st_mode != 0   ? "is not a regular file"
                                             : fmt::format("cannot stat: {}", std::strerror(e)));
   }
   elf::Facts facts;
   elf::ParseError parse_error;
   const bool read = elf::read_facts(fd, facts, parse_error);
   ::close(fd);
   json &findings = doc["findings"];
   if (!read) {
      if (facts.elf_class != 0) { // what was read before the failure
         doc["elf"] = elf_json(facts);
         doc["versions"] = versions_json(facts);
         doc["exports"] = exports_json(facts);
         // A wrong class or byte order usually breaks parsing further on; saying so is clearer.
         for (const elf::Finding &f : elf::check_ident(facts, options.target)) findings.push_back(finding_json(f));
      }
      const bool io = parse_error.problem == "cannot read file" || parse_error.problem == "file shrank while being read";
      return error(io ? "io" : "parse", parse_error.message());
   }
   doc["elf"] = elf_json(facts);
   doc["versions"] = versions_json(facts);
   doc["exports"] = exports_json(facts);
   for (const elf::Finding &f : elf::check_structure(facts, options.target)) findings.push_back(finding_json(f));
   for (const elf::Finding &f : elf::check_hygiene(facts)) findings.push_back(finding_json(f));
   add_search_path(facts, path, findings);
   add_manifest(facts, options, doc, findings);
   if (options.runtime) doc["runtime"] = runtime_json(facts, *options.runtime);
   return doc;
}

json host_report() {
   const elf::HostFacts target = elf::HostFacts::current();
   json runtime = json::array();
   for (const elf::RuntimeVersion &v : elf::host_runtime_versions())
      runtime.push_back({{"family", v.family}, {"highest", v.highest}, {"library", v.library}});
   return {{"abi", {{"major", MODKIT_ABI_VERSION_MAJOR}, {"minor", MODKIT_ABI_VERSION_MINOR}}},
           {"target",
            {{"elf_class", target.elf_class},
             {"machine", target.machine},
             {"pointer_size", sizeof(void *)},
             {"byte_order", target.data == ELFDATA2MSB ? "big" : "little"}}},
           {"runtime", std::move(runtime)}};
}

} // namespace modkit::loader

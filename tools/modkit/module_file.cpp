#include "module_file.hpp"

#include "output.hpp"
#include "this_host.hpp"

#include <fmt/format.h>

#include <elf.h>

namespace modkit::cli {
namespace {

using ordered = nlohmann::ordered_json;

std::string join(const std::vector<std::string> &items) {
   std::string out;
   for (const std::string &item : items) out += (out.empty() ? "" : ", ") + item;
   return out;
}

std::string text(const ordered &value) { return value.is_string() ? value.get<std::string>() : std::string(); }

} // namespace

int ModuleFile::exit_code() const {
   if (error == Error::io) return exit_usage;
   return error == Error::parse || !report["findings"].empty() ? exit_refused : exit_ok;
}

bool ModuleFile::loadable() const {
   if (error != Error::none) return false;
   for (const ordered &f : report["findings"]) {
      if (f["loader_refuses"].get<bool>()) return false;
   }
   return true;
}

const nlohmann::ordered_json *ModuleFile::manifest() const {
   return report["manifest"].is_object() ? &report["manifest"] : nullptr;
}

ModuleFile read_module_file(const std::string &path, const HostJudgement &host) {
   modkit_inspect_options options{};
   options.struct_size = sizeof options;
   if (host.target) {
      options.judge |= MODKIT_INSPECT_TARGET;
      options.elf_class = host.target->elf_class;
      options.machine = host.target->machine;
      options.byte_order = host.target->byte_order == "big" ? ELFDATA2MSB : ELFDATA2LSB;
   }
   if (!host.abi.empty()) {
      options.judge |= MODKIT_INSPECT_ABI;
      options.abi = host.abi.c_str();
   }
   std::vector<const char *> categories;
   if (host.categories) {
      options.judge |= MODKIT_INSPECT_CATEGORIES;
      for (const std::string &id : *host.categories) categories.push_back(id.c_str());
      options.categories = categories.data();
      options.category_count = categories.size();
   }
   std::vector<modkit_inspect_runtime> runtime;
   if (host.runtime) {
      options.judge |= MODKIT_INSPECT_RUNTIME;
      for (const RuntimeVersion &r : *host.runtime) runtime.push_back({r.family.c_str(), r.highest.c_str()});
      options.runtime = runtime.data();
      options.runtime_count = runtime.size();
   }
   std::string doc;
   const modkit_status status =
      inspect_call([&](modkit_buffer *out) { return modkit_inspect_file(path.c_str(), &options, out); }, doc);
   if (status == MODKIT_E_INVALID_ARGUMENT && !host.abi.empty())
      throw UsageError("the host ABI must be MAJOR.MINOR, e.g. 1.0, not \"" + host.abi + "\"");
   if (status != MODKIT_OK) throw std::runtime_error(fmt::format("modkit_inspect_file failed with status {}", status));
   ModuleFile file;
   file.path = path;
   file.report = ordered::parse(doc);
   const ordered &error = file.report["error"];
   if (error.is_object()) {
      file.error = error["kind"] == "io" ? ModuleFile::Error::io : ModuleFile::Error::parse;
      file.error_message = text(error["message"]);
   }
   return file;
}

nlohmann::json module_file_json(const ModuleFile &file) {
   // The report minus the judgements against a host, which each command reports its own way.
   nlohmann::json doc{{"file", file.path}, {"ok", file.exit_code() == exit_ok}};
   for (const char *key : {"error", "elf", "versions", "exports", "manifest", "findings"}) doc[key] = nlohmann::json(file.report[key]);
   return doc;
}

std::string module_file_text(const ModuleFile &file, bool verdict) {
   const ordered &r = file.report;
   std::string out = printable(file.path) + "\n";
   auto line = [&](const char *label, const std::string &value) {
      out += fmt::format("  {:<10} {}\n", label, printable(value));
   };
   if (r["elf"].is_object()) {
      const ordered &e = r["elf"];
      line("elf", fmt::format("{}, {}, {}, {}", text(e["class"]), text(e["data"]), text(e["machine"]), text(e["type"])));
   }
   if (file.error != ModuleFile::Error::none) line("error", file.error_message);
   if (file.error == ModuleFile::Error::none) {
      const ordered &e = r["elf"];
      const std::vector<std::string> needed = e["needed"];
      line("needs", needed.empty() ? "no libraries" : join(needed));
      std::vector<std::string> per_family;
      for (const auto &[family, version] : r["versions"]["highest"].items()) per_family.push_back(family + "_" + text(version));
      line("requires", per_family.empty() ? "no symbol versions" : join(per_family) + " (the newest of each runtime)");
      const ordered &exports = r["exports"];
      if (exports.empty()) line("exports", "nothing");
      for (size_t i = 0; i < exports.size(); ++i) {
         const ordered &s = exports[i];
         const std::string version = text(s["version"]);
         line(i == 0 ? "exports" : "", fmt::format("{} ({}, {}){}", text(s["name"]), text(s["type"]), text(s["bind"]),
                                                  version.empty() ? "" : " " + version));
      }
      const unsigned inits = e["init_functions"].get<unsigned>();
      std::vector<std::string> facts;
      facts.push_back(e["bind_now"].get<bool>() ? "bind now" : "lazy binding");
      facts.push_back(e["relro"].get<bool>() ? "RELRO" : "no RELRO");
      facts.push_back(fmt::format("{} init function{}", inits, inits == 1 ? "" : "s"));
      if (!text(e["rpath"]).empty()) facts.push_back("RPATH " + text(e["rpath"]));
      if (!text(e["runpath"]).empty()) facts.push_back("RUNPATH " + text(e["runpath"]));
      line("loading", join(facts));
   }
   if (const ordered *m = file.manifest()) {
      const std::string sdk = text((*m)["sdk"]), compiler = text((*m)["compiler"]);
      line("manifest", fmt::format("{} {}, ABI {}, SDK {}, compiler {}", text((*m)["name"]), text((*m)["version"]),
                                   text((*m)["abi"]), sdk.empty() ? "-" : sdk, compiler.empty() ? "-" : compiler));
      const std::vector<std::string> registers = (*m)["registers"];
      line("registers", registers.empty() ? "no categories" : join(registers));
   }
   for (const ordered &f : r["findings"]) line("finding", text(f["check"]) + ": " + text(f["message"]));
   if (verdict) line("verdict", file.exit_code() == exit_ok ? "ok" : file.exit_code() == exit_refused ? "refused" : "unreadable");
   return out;
}

} // namespace modkit::cli

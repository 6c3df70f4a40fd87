// inspect.cpp - the static stages of one module: resolve, trust and inspect its file without
// running any of its code, then link it (dlopen the very file that was checked).
#include "loader.hpp"

#include "elf/elf_facts.hpp"
#include "elf/elf_policy.hpp"
#include "environment_checks.hpp"
#include "link.hpp"
#include "manifest.hpp"
#include "resolve.hpp"

#include <atomic>
#include <fmt/format.h>

namespace modkit::loader {

bool Loader::prepare(Module &module, size_t index) {
   const std::string &pointer = module.spec.pointer;
   std::string error;
   if (!resolve_module(module.spec.module, dirs_, module.path, error)) {
      fail(&module, Stage::resolve, MODKIT_E_NOT_FOUND, pointer + "/module", error);
      return false;
   }
   TrustPolicy policy;
   policy.allow_any_owner = options_.allow_any_owner;
   TrustedFile file;
   if (!TrustedFile::open(module.path, policy, file, error)) {
      fail(&module, Stage::trust, MODKIT_E_DENIED, pointer + "/module", error);
      return false;
   }
   if (!module.spec.sha256.empty()) {
      std::string digest;
      if (!file.sha256(digest, error)) {
         fail(&module, Stage::trust, MODKIT_E_INTERNAL, pointer + "/sha256", error);
         return false;
      }
      if (digest != module.spec.sha256) {
         fail(&module, Stage::trust, MODKIT_E_DENIED, pointer + "/sha256",
              fmt::format("content does not match the pin: expected sha256 {}, found {}", module.spec.sha256, digest));
         return false;
      }
   }
   std::vector<std::string> registers;
   if (!inspect(module, file, registers)) return false;

   Linked linked;
   modkit_status code = MODKIT_OK;
   if (!link_module(module.path, file, linked, code, error)) {
      fail(&module, Stage::link, code, pointer + "/module", error);
      return false;
   }
   module.handle = linked.handle;
   module.desc = linked.desc;
   module.load_name = linked.name;
   if (module.manifest_name != module.desc->name) {
      fail(&module, Stage::link, MODKIT_E_INVALID_ARGUMENT, pointer + "/module",
           fmt::format("descriptor name \"{}\" differs from the manifest's \"{}\"", module.desc->name,
                       module.manifest_name));
      return false;
   }
   module.description = module.desc->description ? module.desc->description : "";
   module.host = std::make_unique<modkit_host>();
   module.host->loader = this;
   module.host->module_index = index;
   module.host->name = module.desc->name;
   static std::atomic<uint64_t> instances{0}; // a count only: relaxed is enough
   module.host->instance_id = instances.fetch_add(1, std::memory_order_relaxed) + 1;
   module.host->registers = std::move(registers);
   services_.attach(*module.host, module.host->name, module.spec.grants);
   return configure(module);
}

bool Loader::inspect(Module &module, const TrustedFile &file, std::vector<std::string> &registers) {
   const std::string pointer = module.spec.pointer + "/module";
   elf::Facts facts;
   elf::ParseError parse_error;
   if (!elf::read_facts(file.fd(), facts, parse_error)) {
      // A wrong class or byte order usually breaks parsing further on; saying so is clearer.
      auto ident = facts.elf_class != 0 ? elf::check_ident(facts, elf::HostFacts::current())
                                        : std::vector<elf::Finding>{};
      if (ident.empty()) fail(&module, Stage::inspect, MODKIT_E_INVALID_ARGUMENT, pointer, parse_error.message());
      for (const auto &f : ident) fail(&module, Stage::inspect, MODKIT_E_INVALID_ARGUMENT, pointer, f.message());
      return false;
   }
   bool ok = true;
   for (const auto &f : elf::check_structure(facts, elf::HostFacts::current())) {
      const bool version = f.check.rfind("manifest", 0) == 0;
      fail(&module, Stage::inspect, version ? MODKIT_E_VERSION_MISMATCH : MODKIT_E_INVALID_ARGUMENT, pointer,
           f.message());
      ok = false;
   }
   if (!ok) return false;
   auto hygiene = elf::check_hygiene(facts);
   const std::string module_dir = module.path.substr(0, module.path.rfind('/'));
   for (auto &f : check_search_path(facts, module_dir)) hygiene.push_back(std::move(f));
   for (auto &f : check_needed_libraries(facts, module_dir)) hygiene.push_back(std::move(f));
   for (auto &f : check_symbol_versions(facts)) hygiene.push_back(std::move(f));
   for (const auto &f : hygiene) {
      // "hygiene.static_tls" -> "static_tls", the name a host config switches it off by.
      const std::string name = f.check.substr(f.check.find('.') + 1);
      auto exception = module.spec.hygiene_exceptions.find(name);
      if (exception != module.spec.hygiene_exceptions.end()) {
         logf(MODKIT_LOG_WARNING, nullptr,
              fmt::format("module '{}': hygiene check {} is off by the host config ({}); it found: {}",
                          module.spec.module, name, exception->second, f.message()));
         continue;
      }
      fail(&module, Stage::inspect, MODKIT_E_DENIED, pointer, f.message());
      ok = false;
   }
   if (!ok) return false;

   // The manifest, the ABI rule and the declared categories, as modkit_inspect_file judges them.
   std::vector<elf::Finding> problems;
   const std::optional<Manifest> manifest = parse_manifest(facts.manifests.front(), problems);
   for (const auto &f : problems) fail(&module, Stage::inspect, MODKIT_E_INVALID_ARGUMENT, pointer, f.message());
   if (!manifest || !problems.empty()) return false;
   module.manifest_name = manifest->name;
   const std::string refusal =
      abi_refusal(*manifest->abi_version, AbiVersion{MODKIT_ABI_VERSION_MAJOR, MODKIT_ABI_VERSION_MINOR});
   if (!refusal.empty()) {
      fail(&module, Stage::inspect, MODKIT_E_VERSION_MISMATCH, pointer, refusal);
      return false;
   }
   // A module may only register what it declares; a declared category this host lacks is
   // refused here, before any module code runs, as modkit compat refuses it.
   std::vector<std::string> provided;
   for (size_t i = 0; i < registry_.category_count(); ++i) provided.push_back(registry_.category(i)->id);
   for (const auto &f : check_declared_categories(manifest->registers, provided)) {
      fail(&module, Stage::inspect, MODKIT_E_NOT_FOUND, pointer, f.message());
      ok = false;
   }
   if (!ok) return false;
   registers = manifest->registers;
   return true;
}

} // namespace modkit::loader

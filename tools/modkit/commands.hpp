// commands.hpp - every subcommand as an options struct and a function returning the exit code
// (output.hpp). main.cpp maps the command line onto these; tests call them in-process. A new
// subcommand is one more pair here, its own source file, and one add_* function in main.cpp.
#pragma once

#include <string>
#include <vector>

namespace modkit::cli {

struct InspectOptions {
   std::vector<std::string> files;
   bool json = false;
};
int run_inspect(const InspectOptions &options);

// What `check` and `call` both take: the module, its config, and the limits of the child
// process that loads it.
struct ModuleRun {
   std::string file;
   std::string config_file;    // the module's config (JSON); empty: none
   double timeout_seconds = 10;
   unsigned memory_mib = 2048; // RLIMIT_AS of the child; 0: no limit
};

struct CheckOptions {
   ModuleRun run;
   std::string host_abi; // MAJOR.MINOR to judge the manifest against; empty: not asked
   bool json = false;
};
int run_check(const CheckOptions &options);

struct CallOptions {
   ModuleRun run;
   std::string target;      // CATEGORY.SLOT; the category may leave out its "modkit." prefix
   std::string args = "{}"; // JSON text, or @FILE to read it from FILE
   bool json = false;
};
int run_call(const CallOptions &options);

struct CompatOptions {
   std::string file;
   std::string host_file; // an `abi dump` document; empty: this build's own ABI and runtime
   bool json = false;
};
int run_compat(const CompatOptions &options);

struct AbiDumpOptions {
   std::string out; // empty: the description goes to stdout
   bool abi_only = false; // leave out the runtime section (machine facts, not ABI)
   bool json = false;
};
int run_abi_dump(const AbiDumpOptions &options);

struct AbiDiffOptions {
   std::string old_file;
   std::string new_file;
   bool json = false;
};
int run_abi_diff(const AbiDiffOptions &options);

struct NewOptions {
   std::string name;
   std::string dir;          // empty: ./<name>
   std::string lang = "cpp"; // "c" or "cpp"
   bool json = false;
};
int run_new(const NewOptions &options);

} // namespace modkit::cli

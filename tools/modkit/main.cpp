// modkit - the command-line tool: inspect, check, call, compat, abi dump/diff, new. This file only maps
// the command line (CLI11) onto the options structs of commands.hpp; each subcommand lives in
// its own source file.
#include "commands.hpp"
#include "output.hpp"

#include <modkit/version.h>

#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#ifndef MODKIT_VERSION_STRING
#   define MODKIT_VERSION_STRING "unknown"
#endif

namespace {

using namespace modkit::cli;

// A parsed subcommand and what to run for it.
struct Command {
   CLI::App *app;
   std::string name; // as in --json documents: "inspect", "abi dump", ...
   std::function<int()> run;
};

const char json_help[] = "Print one JSON document on stdout (keys: docs/cli.md)";

Command add_inspect(CLI::App &app, InspectOptions &o) {
   CLI::App *sub = app.add_subcommand("inspect", "Show what module files are and declare, without running any of their code");
   sub->add_option("files", o.files, "Module files (.so)")->required();
   sub->add_flag("--json", o.json, json_help);
   return {sub, "inspect", [&o] { return run_inspect(o); }};
}

// The module file, its config and the child's limits, as `check` and `call` take them.
void add_module_run(CLI::App *sub, ModuleRun &o) {
   sub->add_option("file", o.file, "Module file (.so)")->required();
   sub->add_option("--config", o.config_file, "JSON file holding the module's config");
   sub->add_option("--timeout", o.timeout_seconds, "Seconds the child process may run before it is killed")
      ->capture_default_str();
   sub->add_option("--memory", o.memory_mib, "Address-space limit of the child in MiB (0: none)")->capture_default_str();
}

Command add_check(CLI::App &app, CheckOptions &o) {
   CLI::App *sub = app.add_subcommand(
      "check", "Inspect a module, then load, initialise and unload it in a child process and list what it registers");
   add_module_run(sub, o.run);
   sub->add_option("--host-abi", o.host_abi, "Also judge the manifest against a host providing this ABI (MAJOR.MINOR)");
   sub->add_flag("--json", o.json, json_help);
   return {sub, "check", [&o] { return run_check(o); }};
}

Command add_call(CLI::App &app, CallOptions &o) {
   CLI::App *sub = app.add_subcommand(
      "call", "Load a module in a child process, call one of its callbacks with JSON arguments and print the answer");
   add_module_run(sub, o.run);
   // For call, --timeout is the call's deadline; the child has a grace period past it (call_slot.hpp).
   sub->get_option("--timeout")
      ->description("Seconds the callback has to answer, or to complete a call it suspended; the child process is "
                    "killed a few seconds later if it is still running");
   // Positional after the file: `modkit call MODULE.so CATEGORY.SLOT`.
   sub->add_option("slot", o.target, "CATEGORY.SLOT, e.g. spam_checker.check_event_for_spam")->required();
   sub->add_option("--args", o.args,
                   "The slot's inputs as a JSON object keyed by parameter name (or @FILE holding it)")
      ->capture_default_str();
   sub->add_flag("--json", o.json, json_help);
   return {sub, "call", [&o] { return run_call(o); }};
}

Command add_compat(CLI::App &app, CompatOptions &o) {
   CLI::App *sub = app.add_subcommand("compat", "Say whether a module can load into a host, and why not, without running it");
   sub->add_option("file", o.file, "Module file (.so)")->required();
   sub->add_option("--host", o.host_file, "The host's `modkit abi dump` (default: this modkit build)");
   sub->add_flag("--json", o.json, json_help);
   return {sub, "compat", [&o] { return run_compat(o); }};
}

std::vector<Command> add_abi(CLI::App &app, AbiDumpOptions &dump, AbiDiffOptions &diff) {
   CLI::App *abi = app.add_subcommand("abi", "Describe this build's ABI, or compare two descriptions");
   abi->require_subcommand(1);
   CLI::App *d = abi->add_subcommand("dump", "Write this build's ABI and runtime as JSON");
   d->add_option("--out", dump.out, "Write to this file instead of stdout");
   d->add_flag("--abi-only", dump.abi_only, "Leave out the runtime section (as in abi/baseline/abi-1.0.json)");
   d->add_flag("--json", dump.json, json_help);
   CLI::App *f = abi->add_subcommand("diff", "Classify every difference between two ABI descriptions");
   f->add_option("old", diff.old_file, "The older `abi dump`")->required();
   f->add_option("new", diff.new_file, "The newer `abi dump`")->required();
   f->add_flag("--json", diff.json, json_help);
   return {{d, "abi dump", [&dump] { return run_abi_dump(dump); }}, {f, "abi diff", [&diff] { return run_abi_diff(diff); }}};
}

Command add_new(CLI::App &app, NewOptions &o) {
   CLI::App *sub = app.add_subcommand("new", "Write a module project that builds against an installed modkit");
   sub->add_option("name", o.name, "Module name (a C identifier)")->required();
   sub->add_option("--dir", o.dir, "Directory to create (default: ./NAME); must be new or empty");
   sub->add_option("--lang", o.lang, "c (against the ABI) or cpp (with the SDK)")->capture_default_str();
   sub->add_flag("--json", o.json, json_help);
   return {sub, "new", [&o] { return run_new(o); }};
}

bool wants_json(int argc, char **argv) {
   for (int i = 1; i < argc; ++i) {
      if (std::strcmp(argv[i], "--json") == 0) return true;
   }
   return false;
}

int usage_error(bool json, const std::string &command, const std::string &message) {
   if (json) print_json({{"command", command}, {"ok", false}, {"error", {{"kind", "usage"}, {"message", message}}}});
   std::fprintf(stderr, "modkit%s%s: %s\n", command.empty() ? "" : " ", command.c_str(), printable(message).c_str());
   return exit_usage;
}

} // namespace

int main(int argc, char **argv) {
   CLI::App app{"modkit: inspect, check, call and scaffold modkit modules; describe and compare the ABI"};
   app.set_version_flag("--version", "modkit " MODKIT_VERSION_STRING " (ABI " MODKIT_ABI_VERSION_STRING ")");
   app.require_subcommand(1);
   InspectOptions inspect;
   CheckOptions check;
   CallOptions call;
   CompatOptions compat;
   AbiDumpOptions dump;
   AbiDiffOptions diff;
   NewOptions scaffold;
   std::vector<Command> commands = {add_inspect(app, inspect), add_check(app, check), add_call(app, call),
                                   add_compat(app, compat)};
   for (Command &c : add_abi(app, dump, diff)) commands.push_back(std::move(c));
   commands.push_back(add_new(app, scaffold));

   const bool json = wants_json(argc, argv);
   try {
      app.parse(argc, argv);
   } catch (const CLI::ParseError &e) {
      if (e.get_exit_code() == 0) return app.exit(e); // --help, --version
      std::string command;
      for (const Command &c : commands) {
         if (c.app->parsed()) command = c.name;
      }
      return usage_error(json, command, e.what());
   }
   for (const Command &c : commands) {
      if (!c.app->parsed()) continue;
      try {
         return c.run();
      } catch (const UsageError &e) {
         return usage_error(json, c.name, e.what());
      } catch (const std::exception &e) {
         return usage_error(json, c.name, std::string("unexpected error: ") + e.what());
      }
   }
   return usage_error(json, "", "no subcommand given; see modkit --help");
}

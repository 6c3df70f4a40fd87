// modkit call FILE CATEGORY.SLOT: loads a module into a host that offers every standard
// category, in a child process, dispatches one slot with JSON arguments through the loader's
// dynamic path, and prints the answer. A module author's way to try a callback without a host.
#include "call_slot.hpp"
#include "check_load.hpp"
#include "commands.hpp"
#include "output.hpp"

#include <fmt/format.h>

#include <cstdio>

namespace modkit::cli {
namespace {

using nlohmann::json;

// --args: JSON text, or @FILE. Must be an object or an array, as the dynamic path takes.
json read_args(const std::string &given, const SlotTarget &target) {
   const bool from_file = !given.empty() && given[0] == '@';
   const std::string text = from_file ? read_text_file(given.substr(1), "arguments file") : given;
   const char *where = from_file ? "the arguments file" : "--args";
   json args = json::parse(text, nullptr, false);
   if (args.is_discarded() || !(args.is_object() || args.is_array()))
      throw UsageError(fmt::format("{} must be a JSON object keyed by parameter name (or an array in signature order) "
                                   "of the inputs of {}({})",
                                   where, target.name(), target.slot->signature));
   return args;
}

json target_json(const SlotTarget &t) {
   return {{"category", t.category->id},
           {"version", fmt::format("{}.{}", t.category->major, t.category->minor)},
           {"slot", t.slot->name},
           {"signature", t.slot->signature}};
}

// Did the module register the slot? The answers list one entry per registrant.
bool answered(const json &result) {
   return result.is_object() && result.contains("answers") && result["answers"].is_array() && !result["answers"].empty();
}

// What went wrong in the call itself, if anything; sets code.
void judge_call(const json &called, const SlotTarget &target, const std::string &module, double timeout_seconds,
                int &code, std::vector<std::string> &reasons) {
   const json &result = called["result"];
   const std::string status = called.value("status", "");
   // The deadline passed while the module held a call it suspended: whatever the slot's
   // exception policy made of it (even "no_opinion" when it fails open), the call did not end.
   if (status == "timeout") {
      code = exit_refused;
      reasons.push_back(fmt::format("timed out: {} did not complete the call within --timeout {:g} s", module,
                                    timeout_seconds));
      return;
   }
   // Arguments that do not fit the signature: the loader answers {"error"} before any module
   // runs (a module's own invalid_argument comes back among the answers instead).
   if (called.value("code", 0) == MODKIT_E_INVALID_ARGUMENT && result.is_object() && result.contains("error")) {
      code = exit_usage;
      reasons.push_back(result["error"].is_string() ? result["error"].get<std::string>() : status);
      return;
   }
   if (!answered(result)) {
      code = exit_refused;
      reasons.push_back(fmt::format("{} registers no callback for {}", module, target.name()));
      return;
   }
   const std::string outcome = result.value("outcome", "");
   if (outcome == "error" || outcome == "failed_closed") {
      code = exit_refused;
      reasons.push_back(fmt::format("the callback failed ({}): {} with status {}", outcome, module, status));
   }
}

void print_human(const json &load, const json &result, const std::vector<std::string> &reasons, bool usage) {
   // The answer alone on stdout, so it can be piped; everything about the run on stderr. A call
   // refused for its arguments has no answer, only the message naming the argument.
   if (!result.is_null() && !usage) std::fputs((result.dump(2) + "\n").c_str(), stdout);
   std::string err;
   if (!load.is_null()) {
      for (const json &l : load["log"]) {
         const std::string who = l["module"].is_string() ? l["module"].get<std::string>() : "loader";
         err += fmt::format("log {} {}: {}\n", l["level"].get<std::string>(), printable(who),
                            printable(l["message"].get<std::string>()));
      }
      const std::string output = load["output"].get<std::string>();
      if (!output.empty()) err += "the module wrote:\n" + printable(output) + (output.back() == '\n' ? "" : "\n");
   }
   for (const std::string &r : reasons) err += "modkit call: " + printable(r) + "\n";
   std::fputs(err.c_str(), stderr);
}

} // namespace

int run_call(const CallOptions &options) {
   const SlotTarget target = resolve_target(options.target);
   const json args = read_args(options.args, target);
   const PreparedRun run = prepare_run(options.run);
   std::vector<std::string> reasons = run.reasons;
   int code = exit_ok;
   json load = nullptr, result = nullptr, status = nullptr;

   if (run.file.error == ModuleFile::Error::io) {
      code = exit_usage;
   } else if (!run.file.loadable()) {
      code = exit_refused;
      reasons.push_back("not loaded: the loader would refuse the file before running any of it");
   } else {
      const std::string args_text = args.dump();
      // --timeout is the call's deadline; the child gets a grace period past it to load and to
      // unload, and is killed only once that is over too. Reports name --timeout.
      ChildLimits limits = run.limits;
      limits.timeout_seconds += call_grace_seconds;
      const ChildResult child = run_in_child(limits, [&](Reporter &r) {
         load_and_unload(
            r, run.path, run.config,
            [&](modkit::Loader &loader) { call_slot(r, loader, target, args_text, run.limits.timeout_seconds); },
            call_pending_wait_ms);
      });
      LoadReport report = summarise(child, run.limits);
      load = std::move(report.doc);
      if (!report.ok) {
         code = exit_refused;
         for (std::string &r : report.reasons) reasons.push_back(std::move(r));
      }
      if (const json *called = find_event(child.events, "called")) {
         result = (*called)["result"];
         status = (*called)["status"];
         const std::string module = load["module"].is_object() ? load["module"].value("name", "the module") : "the module";
         int call_code = exit_ok;
         judge_call(*called, target, module, run.limits.timeout_seconds, call_code, reasons);
         code = worst(code, call_code);
      }
   }

   if (options.json) {
      print_json({{"command", "call"},
                  {"ok", code == exit_ok},
                  {"target", target_json(target)},
                  {"args", args},
                  {"file", module_file_json(run.file)},
                  {"load", load},
                  {"status", status},
                  {"result", result},
                  {"reasons", reasons}});
   } else {
      print_human(load, result, reasons, code == exit_usage);
   }
   return code;
}

} // namespace modkit::cli

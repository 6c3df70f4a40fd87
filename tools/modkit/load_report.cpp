// load_report.cpp - how the child of load_and_unload ended, as the "load" object of --json and
// as human text.
#include "check_load.hpp"
#include "output.hpp"

#include <fmt/format.h>

namespace modkit::cli {
namespace {

using nlohmann::json;

std::string last_phase(const std::vector<json> &events) {
   std::string phase = "start";
   for (const json &e : events) {
      if (e.value("event", "") == "phase") phase = e.value("phase", phase);
   }
   return phase;
}

std::string registrations_text(const json &regs) {
   std::string out;
   auto line = [&](const char *label, const std::string &value) {
      out += fmt::format("  {:<10} {}\n", label, printable(value));
   };
   for (const json &c : regs["categories"]) {
      std::string slots;
      for (const json &s : c["slots"]) slots += (slots.empty() ? "" : ", ") + s["name"].get<std::string>();
      line("registers", fmt::format("{} {}: {}", c["id"].get<std::string>(), c["version"].get<std::string>(), slots));
   }
   if (regs["categories"].empty()) line("registers", "no callbacks");
   std::string web, caches;
   for (const json &w : regs["web_resources"]) web += (web.empty() ? "" : ", ") + w["path"].get<std::string>();
   for (const json &c : regs["cached_functions"]) caches += (caches.empty() ? "" : ", ") + c["name"].get<std::string>();
   line("web", web.empty() ? "no resources" : web);
   line("caches", caches.empty() ? "no cached functions" : caches);
   return out;
}

} // namespace

const json *find_event(const std::vector<json> &events, const char *name) {
   for (const json &e : events) {
      if (e.value("event", "") == name) return &e;
   }
   return nullptr;
}

LoadReport summarise(const ChildResult &r, const ChildLimits &limits) {
   LoadReport out;
   const std::string phase = last_phase(r.events);
   const std::string during = "during " + (phase == "start" ? std::string("load") : phase);
   json log = json::array();
   for (const json &e : r.events) {
      if (e.value("event", "") == "log")
         log.push_back({{"level", e.value("level", "")}, {"module", e.value("module", json(nullptr))}, {"message", e.value("message", "")}});
   }
   const json *loaded = find_event(r.events, "loaded");
   const json *failed = find_event(r.events, "load_failed");
   const json *error = find_event(r.events, "error");
   const bool unloaded = find_event(r.events, "unloaded") != nullptr;

   std::string outcome, message;
   json signal = nullptr, exit_code = nullptr;
   switch (r.end) {
   case ChildResult::End::finished:
      if (failed != nullptr) {
         outcome = "refused";
         message = "the loader refused the module";
      } else if (loaded != nullptr && unloaded) {
         outcome = "loaded";
         message = phase == "call" || find_event(r.events, "called") != nullptr
                      ? "loaded, initialised, called, deinitialised and unloaded"
                      : "loaded, initialised, deinitialised and unloaded";
      } else {
         outcome = "error";
         message = error != nullptr ? "the check failed: " + error->value("message", std::string())
                                    : "the check ended without a result";
      }
      break;
   case ChildResult::End::signaled:
      outcome = "crashed";
      message = fmt::format("crashed with signal {} ({}) {}", r.signal, signal_name(r.signal), during);
      signal = {{"number", r.signal}, {"name", signal_name(r.signal)}};
      break;
   case ChildResult::End::exited:
      outcome = "exited";
      message = fmt::format("exited with code {} {}", r.exit_code, during);
      exit_code = r.exit_code;
      break;
   case ChildResult::End::timed_out:
      outcome = "timed_out";
      message = fmt::format("timed out after {:g} s {} and was killed", limits.timeout_seconds, during);
      break;
   case ChildResult::End::out_of_memory:
      outcome = "out_of_memory";
      message = fmt::format("exhausted its memory limit of {} MiB {}", limits.memory_mib, during);
      break;
   }
   out.ok = outcome == "loaded";
   if (!out.ok) out.reasons.push_back(message);
   json errors = json::array();
   if (failed != nullptr && failed->contains("errors")) {
      errors = (*failed)["errors"];
      for (const json &e : errors) out.reasons.push_back(e.value("text", std::string()));
   }
   out.doc = {{"outcome", outcome},
              {"phase", phase},
              {"message", message},
              {"signal", std::move(signal)},
              {"exit_code", std::move(exit_code)},
              {"seconds", r.seconds},
              {"limits",
               {{"timeout_seconds", limits.timeout_seconds},
                {"memory_mib", r.memory_limited ? json(limits.memory_mib) : json(nullptr)}}},
              {"errors", std::move(errors)},
              {"module", loaded != nullptr ? (*loaded)["module"] : json(nullptr)},
              {"registrations", loaded != nullptr ? (*loaded)["registrations"] : json(nullptr)},
              {"unloaded", unloaded},
              {"log", std::move(log)},
              {"output", r.output},
              {"output_truncated", r.output_truncated}};
   return out;
}

std::string load_text(const json &load, bool with_registrations) {
   std::string out = "load (child process)\n";
   auto line = [&](const char *label, const std::string &value) {
      out += fmt::format("  {:<10} {}\n", label, printable(value));
   };
   line("outcome", load["message"].get<std::string>());
   for (const json &e : load["errors"]) line("error", e.value("text", std::string()));
   if (!load["module"].is_null()) {
      const json &m = load["module"];
      line("module", fmt::format("{} {}{}", m["name"].get<std::string>(), m["version"].get<std::string>(),
                                 m["description"].get<std::string>().empty() ? "" : ": " + m["description"].get<std::string>()));
      line("config", m["config"].dump(-1, ' ', false, json::error_handler_t::replace));
      if (with_registrations) out += registrations_text(load["registrations"]);
   }
   for (const json &l : load["log"]) {
      const std::string who = l["module"].is_string() ? l["module"].get<std::string>() : "loader";
      line("log", fmt::format("{} {}: {}", l["level"].get<std::string>(), who, l["message"].get<std::string>()));
   }
   const std::string output = load["output"].get<std::string>();
   if (!output.empty()) {
      line("output", "what the module wrote to stdout and stderr:");
      size_t start = 0;
      while (start < output.size()) {
         size_t end = output.find('\n', start);
         if (end == std::string::npos) end = output.size();
         out += "    | " + printable(output.substr(start, end - start)) + "\n";
         start = end + 1;
      }
   }
   return out;
}


} // namespace modkit::cli

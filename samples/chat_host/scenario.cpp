// scenario.cpp - the scenario runner and its transcript.
#include "scenario.hpp"

#include "app.hpp"

#include <fmt/format.h>

#include <chrono>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

namespace chat {

namespace {

const std::set<std::string> step_keys = {"comment", "method", "path", "as", "body", "headers", "query", "expect", "save",
                                         "retry_ms"};

const json &steps_of(const json &scenario) {
   if (scenario.is_array()) return scenario;
   if (scenario.is_object() && scenario.contains("steps") && scenario["steps"].is_array()) return scenario["steps"];
   throw ScenarioError("a scenario is a JSON array of steps (or {\"steps\": [...]})");
}

std::string shorten(const std::string &text, size_t max = 240) {
   return text.size() <= max ? text : text.substr(0, max - 3) + "...";
}

std::string substitute(const std::string &text, const std::map<std::string, std::string> &vars, size_t step) {
   std::string out;
   size_t i = 0;
   while (i < text.size()) {
      const size_t open = text.find("${", i);
      if (open == std::string::npos) break;
      const size_t close = text.find('}', open);
      if (close == std::string::npos) break;
      const std::string name = text.substr(open + 2, close - open - 2);
      auto v = vars.find(name);
      if (v == vars.end())
         throw ScenarioError(fmt::format("step {}: unknown variable ${{{}}} (save it from an earlier response)", step, name));
      out += text.substr(i, open - i) + v->second;
      i = close + 1;
   }
   return out + text.substr(i);
}

json substitute_json(const json &value, const std::map<std::string, std::string> &vars, size_t step) {
   if (value.is_string()) return substitute(value.get<std::string>(), vars, step);
   if (value.is_array() || value.is_object()) {
      json out = value;
      for (auto &item : out) item = substitute_json(item, vars, step);
      return out;
   }
   return value;
}

// Every key of want is in got with a matching value: objects compared key by key, arrays item by
// item (got may be longer), anything else by equality.
bool contains_subset(const json &got, const json &want) {
   if (want.is_object()) {
      if (!got.is_object()) return false;
      for (const auto &[k, v] : want.items())
         if (!got.contains(k) || !contains_subset(got[k], v)) return false;
      return true;
   }
   if (want.is_array()) {
      if (!got.is_array() || got.size() < want.size()) return false;
      for (size_t i = 0; i < want.size(); ++i)
         if (!contains_subset(got[i], want[i])) return false;
      return true;
   }
   return got == want;
}

std::string render_run(const CallbackRun &run) {
   std::string answers;
   for (const auto &a : run.answers)
      answers += (answers.empty() ? "" : ", ") + a.module + (a.answer.empty() ? "" : " -> " + a.answer);
   std::string line = answers;
   if (!run.decided_by.empty()) line += "  => " + run.outcome + " by " + run.decided_by;
   else if (run.outcome != "no objection") line += "  => " + run.outcome;
   return line;
}

// Groups a request's callback runs by callback, in first-seen order, folding repeats.
void print_trace(const Trace &trace, std::ostream &out) {
   std::vector<std::string> order;
   std::map<std::string, std::vector<std::pair<std::string, size_t>>> lines;
   for (const auto &run : trace.runs) {
      if (!lines.count(run.callback)) order.push_back(run.callback);
      auto &l = lines[run.callback];
      const std::string text = render_run(run);
      if (!l.empty() && l.back().first == text) ++l.back().second;
      else l.emplace_back(text, 1);
   }
   for (const auto &callback : order)
      for (const auto &[text, count] : lines[callback])
         out << "     " << callback << (count > 1 ? fmt::format(" (x{})", count) : "") << ": " << text << "\n";
   for (const auto &n : trace.notes) out << "     note: " << n << "\n";
}

} // namespace

void validate_scenario(const json &scenario) {
   const json &steps = steps_of(scenario);
   for (size_t i = 0; i < steps.size(); ++i) {
      const json &s = steps[i];
      const size_t n = i + 1;
      if (!s.is_object()) throw ScenarioError(fmt::format("step {}: expected an object", n));
      for (const auto &[k, v] : s.items())
         if (!step_keys.count(k)) throw ScenarioError(fmt::format("step {}: unknown key \"{}\"", n, k));
      if (s.size() == 1 && s.contains("comment")) {
         if (!s["comment"].is_string()) throw ScenarioError(fmt::format("step {}: comment must be a string", n));
         continue;
      }
      if (!s.value("path", json()).is_string() || s["path"].get<std::string>().empty() || s["path"].get<std::string>()[0] != '/')
         throw ScenarioError(fmt::format("step {}: \"path\" must be an absolute path", n));
      static const std::set<std::string> methods = {"GET", "POST", "PUT", "DELETE", "OPTIONS"};
      if (s.contains("method") && (!s["method"].is_string() || !methods.count(s["method"].get<std::string>())))
         throw ScenarioError(fmt::format("step {}: \"method\" must be one of GET, POST, PUT, DELETE, OPTIONS", n));
      if (s.contains("as") && !s["as"].is_string()) throw ScenarioError(fmt::format("step {}: \"as\" must be a user ID", n));
      for (const char *k : {"headers", "query", "save"}) {
         if (!s.contains(k)) continue;
         if (!s[k].is_object()) throw ScenarioError(fmt::format("step {}: \"{}\" must be an object of strings", n, k));
         for (const auto &[name, value] : s[k].items())
            if (!value.is_string()) throw ScenarioError(fmt::format("step {}: {}.{} must be a string", n, k, name));
      }
      if (s.contains("retry_ms") &&
          (!s["retry_ms"].is_number_integer() || s["retry_ms"].get<int64_t>() < 1 || s["retry_ms"].get<int64_t>() > 60000 ||
           !s.contains("expect")))
         throw ScenarioError(fmt::format("step {}: \"retry_ms\" must be 1 to 60000, with an \"expect\" to wait for", n));
      if (s.contains("expect")) {
         const json &e = s["expect"];
         if (!e.is_object()) throw ScenarioError(fmt::format("step {}: \"expect\" must be an object", n));
         for (const auto &[k, v] : e.items()) {
            if (k == "status" && (!v.is_number_integer() || v.get<int64_t>() < 100 || v.get<int64_t>() > 599)) throw ScenarioError(fmt::format("step {}: expect.status must be an HTTP status (100-599)", n));
            if (k == "errcode" && !v.is_string()) throw ScenarioError(fmt::format("step {}: expect.errcode must be a string", n));
            if (k != "status" && k != "errcode" && k != "body")
               throw ScenarioError(fmt::format("step {}: expect takes status, errcode and body, not \"{}\"", n, k));
         }
      }
   }
}

json load_scenario(const std::string &path) {
   std::ifstream in(path);
   if (!in) throw ScenarioError(path + ": cannot read the scenario file");
   std::stringstream text;
   text << in.rdbuf();
   json scenario = json::parse(text.str(), nullptr, false);
   if (scenario.is_discarded()) throw ScenarioError(path + ": not valid JSON");
   validate_scenario(scenario);
   return scenario;
}

ScenarioResult run_scenario(App &app, const json &scenario, std::ostream &out) {
   validate_scenario(scenario);
   ScenarioResult result;
   std::map<std::string, std::string> tokens; // user ID -> access token, from responses
   std::map<std::string, std::string> vars;
   std::map<std::string, std::set<std::string>> deciding; // category -> modules that decided
   std::map<std::string, std::set<std::string>> ran;      // category -> modules called
   const json &steps = steps_of(scenario);
   for (size_t i = 0; i < steps.size(); ++i) {
      const json &s = steps[i];
      const size_t n = i + 1;
      if (s.size() == 1 && s.contains("comment")) {
         out << "\n== " << s["comment"].get<std::string>() << " ==\n";
         continue;
      }
      Request req;
      req.method = s.value("method", "GET");
      req.path = substitute(s["path"].get<std::string>(), vars, n);
      if (s.contains("query")) {
         for (const auto &[k, v] : s["query"].items())
            req.raw_query += (req.raw_query.empty() ? "" : "&") + k + "=" + substitute(v.get<std::string>(), vars, n);
         req.query = parse_query(req.raw_query);
      }
      const json headers = s.contains("headers") ? s["headers"] : json::object();
      for (const auto &[k, v] : headers.items()) {
         std::string lower = k;
         for (char &c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
         req.headers[lower] = substitute(v.get<std::string>(), vars, n);
      }
      if (s.contains("body")) {
         const json body = substitute_json(s["body"], vars, n);
         req.body = body.is_string() ? body.get<std::string>() : body.dump();
      }
      std::string as;
      if (s.contains("as")) {
         as = substitute(s["as"].get<std::string>(), vars, n);
         auto t = tokens.find(as);
         if (t == tokens.end())
            throw ScenarioError(fmt::format("step {}: no access token for {} (register or log in earlier in the scenario)", n, as));
         req.headers["authorization"] = "Bearer " + t->second;
      }
      req.headers.emplace("user-agent", "modkit-scenario");

      out << "\n[" << n << "] " << req.method << " " << req.path << (req.raw_query.empty() ? "" : "?" + req.raw_query)
          << (as.empty() ? "" : "  as " + as) << "\n";
      if (!req.body.empty()) out << "     body " << shorten(req.body) << "\n";
      // What the response lacks of the step's expectation; empty when it holds.
      auto unmet = [&](const Response &res, const json &body) {
         std::vector<std::string> wrong;
         if (!s.contains("expect")) return wrong;
         const json &e = s["expect"];
         if (e.contains("status") && e["status"].get<int>() != res.status)
            wrong.push_back(fmt::format("status {}, got {}", e["status"].get<int>(), res.status));
         if (e.contains("errcode") && (!body.is_object() || body.value("errcode", "") != e["errcode"].get<std::string>()))
            wrong.push_back(fmt::format("errcode {}, got {}", e["errcode"].get<std::string>(),
                                        body.is_object() ? body.value("errcode", "none") : "none"));
         // Saved values may be expected too ("${room}"), as they may be sent.
         const json want = e.contains("body") ? substitute_json(e["body"], vars, n) : json();
         if (e.contains("body") && !contains_subset(body, want)) wrong.push_back("body containing " + shorten(want.dump()));
         return wrong;
      };
      // retry_ms waits for what modules do in the background (a timer's join, a task's write):
      // the request is repeated until its expectation holds or the time is up.
      const auto give_up = std::chrono::steady_clock::now() + std::chrono::milliseconds(s.value("retry_ms", 0));
      Response res;
      json body;
      std::vector<std::string> wrong;
      for (int attempt = 1;; ++attempt) {
         res = app.router().handle(req);
         body = res.content_type.rfind("application/json", 0) == 0 ? json::parse(res.body, nullptr, false) : json();
         wrong = unmet(res, body);
         if (wrong.empty() || std::chrono::steady_clock::now() >= give_up) {
            if (attempt > 1) out << "     (request sent " << attempt << " times, until its expectation "
                                 << (wrong.empty() ? "held" : "timed out") << ")\n";
            break;
         }
         std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      ++result.requests;
      std::string summary = std::to_string(res.status);
      if (body.is_object() && body.contains("errcode"))
         summary += " " + body.value("errcode", "") + ": " + body.value("error", "");
      else if (!body.is_discarded() && !body.is_null()) summary += " " + shorten(body.dump());
      else summary += " (" + res.content_type + ", " + std::to_string(res.body.size()) + " bytes) " +
                      shorten(res.body.substr(0, res.body.find('\n')), 120);
      out << "  -> " << summary << "\n";
      print_trace(res.trace, out);
      for (const auto &run : res.trace.runs) {
         const std::string category = run.callback.substr(0, run.callback.find('.'));
         if (!run.decided_by.empty()) deciding[category].insert(run.decided_by);
         for (const auto &a : run.answers) ran[category].insert(a.module);
      }

      if (res.status == 200 && body.is_object() && body.value("user_id", json()).is_string() &&
          body.value("access_token", json()).is_string())
         tokens[body["user_id"]] = body["access_token"];
      const json save = s.contains("save") ? s["save"] : json::object();
      for (const auto &[name, pointer] : save.items()) {
         const json::json_pointer ptr(pointer.get<std::string>());
         if (!body.is_object() || !body.contains(ptr))
            throw ScenarioError(fmt::format("step {}: cannot save {}: the response has nothing at {}", n, name, pointer.get<std::string>()));
         const json &v = body[ptr];
         vars[name] = v.is_string() ? v.get<std::string>() : v.dump();
      }
      if (s.contains("expect")) {
         ++result.expectations;
         if (!wrong.empty()) {
            ++result.failures;
            std::string list;
            for (const auto &w : wrong) list += (list.empty() ? "" : "; ") + w;
            out << "  !! expectation failed: expected " << list << "\n";
         }
      }
   }
   out << "\n== summary ==\n" << result.requests << " requests, " << result.expectations << " expectations, "
       << result.failures << " failed\n";
   out << "categories at work (decided: a module's answer decided a request; notified: modules told):\n";
   static const char *const all[] = {"spam_checker",     "third_party_rules",     "presence_router",
                                     "account_validity", "password_auth_provider", "background_update_controller",
                                     "account_data",     "extra_unsigned_fields",  "media_repository",
                                     "ratelimit",        "federation"};
   auto list = [](const std::set<std::string> &modules) {
      std::string text;
      for (const auto &m : modules) text += (text.empty() ? "" : ", ") + m;
      return text;
   };
   for (const char *c : all) {
      std::string line;
      if (deciding.count(c)) line = "decided: " + list(deciding[c]);
      if (ran.count(c) && !deciding.count(c)) line = "notified: " + list(ran[c]);
      out << "  " << fmt::format("{:<30}", c) << (line.empty() ? "(no module called)" : line) << "\n";
   }
   return result;
}

} // namespace chat

// department_lookup: the Caching example of Synapse's "Writing a module", for real. A cached
// coroutine asks an HTTP service for a user's department; the spam checker lets only some
// departments create rooms and says why to the others; the service's owner tells the module
// when a department changes (POST /_modkit/department_lookup/changed {"user_id": ...}), which
// invalidates that user's entry through the host, as Synapse's invalidate_cache does.
//
// Config: {"service": "http://127.0.0.1:8018/departments/", "may_create_rooms": ["engineering"]}
// The host config must grant the service's URL: "permissions": {"http": ["http://127.0.0.1:8018/"]}.
// The service answers GET <service><url-encoded user ID> with {"department": "..."}, 404 for a
// user it does not know.
#include <modkit/sdk/cached.hpp>
#include <modkit/sdk/categories/spam_checker.hpp>
#include <modkit/sdk/module.hpp>
#include <modkit/sdk/services/http.hpp>
#include <modkit/sdk/task.hpp>
#include <modkit/sdk/web.hpp>

#include <fmt/format.h>

#include <cctype>
#include <set>
#include <string>
#include <string_view>

namespace {

struct Config {
   std::string service;
   std::set<std::string> may_create_rooms;
};

void to_json(nlohmann::json &j, const Config &c) {
   j = {{"service", c.service}, {"may_create_rooms", c.may_create_rooms}};
}
void from_json(const nlohmann::json &j, Config &c) {
   j.at("service").get_to(c.service);
   j.at("may_create_rooms").get_to(c.may_create_rooms);
}

// A user ID as one path segment: everything but unreserved characters percent-encoded.
std::string path_segment(std::string_view text) {
   std::string out;
   for (unsigned char c : text) {
      if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') out += static_cast<char>(c);
      else out += fmt::format("%{:02X}", c);
   }
   return out;
}

} // namespace

class DepartmentLookup {
public:
   static nlohmann::json config_schema() {
      return {
         {"type", "object"},
         {"required", {"service", "may_create_rooms"}},
         {"additionalProperties", false},
         {"properties",
          {{"service", {{"type", "string"}, {"pattern", "^https?://.+/$"}}},
           {"may_create_rooms", {{"type", "array"}, {"items", {{"type", "string"}, {"minLength", 1}}}}}}},
      };
   }

   static Config parse_config(const nlohmann::json &raw) { return raw.get<Config>(); }

   DepartmentLookup(const Config &config, modkit::Api &api)
      : api_(api), config_(config), http_(api),
        departments_(api, "get_department_for_user", {1000, std::chrono::minutes(10), {}}, this,
                     &DepartmentLookup::fetch_department) {
      modkit::SpamCheckerCallbacks spam;
      spam.user_may_create_room = [this](modkit::Call &call, std::string_view user_id,
                                         const nlohmann::json &) -> modkit::task<modkit::SpamResult> {
         const std::string department = co_await departments_(user_id);
         if (config_.may_create_rooms.count(department)) co_return modkit::SpamResult::not_spam;
         // The client sees this errcode and message, as from a Synapse module returning (Codes, dict).
         call.set_error("M_FORBIDDEN",
                        department.empty() ? "Only staff of a known department may create rooms"
                                           : fmt::format("The {} department may not create rooms", department),
                        {{"department", department}});
         co_return modkit::SpamResult::forbidden;
      };
      api.register_spam_checker_callbacks(std::move(spam));
      api.register_web_resource("/_modkit/department_lookup/changed", [this](const modkit::Request &request,
                                                                             modkit::Response &response) {
         const auto body = nlohmann::json::parse(request.body(), nullptr, false);
         if (!body.is_object() || !body.contains("user_id") || !body["user_id"].is_string()) {
            response.set_status(400);
            response.write(R"({"errcode":"M_BAD_JSON","error":"expected {\"user_id\": \"@...\"}"})");
            return;
         }
         // Through the host, as another module or the host itself could: Synapse's invalidate_cache.
         api_.invalidate_cache("", "get_department_for_user", nlohmann::json::array({body["user_id"]}));
         response.write("{}");
      });
   }

private:
   // The Caching example's get_department_for_user: one HTTP request per user until invalidated;
   // concurrent callers for one user share it.
   modkit::task<std::string> fetch_department(std::string_view user_id) {
      modkit::HttpRequest request;
      request.url = config_.service + path_segment(user_id);
      request.timeout = std::chrono::seconds(5);
      const modkit::HttpResponse response = co_await http_.fetch(request);
      if (response.status == 404) co_return std::string();
      if (response.status != 200)
         throw modkit::Error(MODKIT_E_INTERNAL, fmt::format("{} answered {}", request.url, response.status));
      const auto body = nlohmann::json::parse(response.body, nullptr, false);
      if (!body.is_object() || !body.contains("department") || !body["department"].is_string())
         throw modkit::Error(MODKIT_E_INTERNAL, fmt::format("{} answered no department", request.url));
      co_return body["department"].get<std::string>();
   }

   modkit::Api &api_;
   Config config_;
   modkit::HttpClient http_;
   modkit::cached<modkit::task<std::string>(std::string_view)> departments_;
};

MODKIT_MODULE(DepartmentLookup, "department_lookup", "1.0.0",
              "Asks an HTTP service for users' departments (cached) and lets only some create rooms",
              "modkit.spam_checker")

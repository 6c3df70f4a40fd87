// A test module without parse_config (the raw config reaches the constructor) and without
// categories (the four-argument MODKIT_MODULE): web resources, host services, and attempts to
// register at the wrong time or in an undeclared category.
#include "../test_extension.h"

#include <modkit/sdk/categories/spam_checker.hpp>
#include <modkit/sdk/module.hpp>
#include <modkit/sdk/web.hpp>

#include <string>

class Webby {
public:
   Webby(nlohmann::json config, modkit::Api &api) : api_(api) {
      api.log().info("webby starts with {} config keys", config.size());
      if (config.value("try_spam_checker", false)) {
         modkit::SpamCheckerCallbacks callbacks;
         callbacks.user_may_invite = [](std::string_view, std::string_view, std::string_view) {
            return modkit::SpamResult::forbidden;
         };
         api.register_spam_checker_callbacks(std::move(callbacks)); // not declared: refused
      }

      const bool served = api.register_web_resource("/_test/echo", [](const modkit::Request &request,
                                                                       modkit::Response &response) {
         response.send_json({{"method", request.method()},
                             {"path", request.path()},
                             {"query", request.query()},
                             {"name", request.query_param("name").value_or("(none)")},
                             {"agent", request.header("User-Agent").value_or("(none)")},
                             {"user", request.user_id().value_or("(anonymous)")},
                             {"body", request.body()}},
                            201);
      });
      if (!served) api.log().warning("another module serves /_test/echo");
      api.register_web_resource("/_test/call", {this, &Webby::describe_call});
      api.register_web_resource("/_test/services", [this](const modkit::Request &, modkit::Response &response) {
         const auto *extension = api_.get_extension<test_extension>(TEST_EXTENSION_ID);
         response.send_json({{"web", api_.has_capability("modkit.web_resources/1")},
                             {"missing", api_.has_capability("modkit.nothing/1")},
                             {"answer", extension ? nlohmann::json(extension->answer) : nlohmann::json()},
                             {"module", api_.module_name()}});
      });
      api.register_web_resource("/_test/bad_header", [](const modkit::Request &, modkit::Response &response) {
         response.add_header("x-split", "a\r\nb");
      });
      // Registering from a request handler happens after init: the host refuses it.
      api.register_web_resource("/_test/late", [this](const modkit::Request &, modkit::Response &) {
         api_.register_web_resource("/_test/later", [](const modkit::Request &, modkit::Response &) {});
      });
   }

private:
   void describe_call(modkit::Call &call, const modkit::Request &, modkit::Response &response) const {
      const auto deadline = call.deadline();
      response.send_json({{"request_id", call.request_id()},
                          {"deadline_ns", deadline ? std::chrono::duration_cast<std::chrono::nanoseconds>(
                                                        deadline->time_since_epoch())
                                                        .count()
                                                   : 0},
                          {"cancelled", call.cancelled()}});
      call.throw_if_cancelled();
   }

   modkit::Api &api_;
};

MODKIT_MODULE(Webby, "webby", "0.2.0", "Serves test web resources")

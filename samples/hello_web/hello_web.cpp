// hello_web: serves GET /_modkit/hello?name=Ada with {"hello": "Ada"}.
#include <modkit/sdk.hpp>

#include <string>

class HelloWeb {
public:
   // Without parse_config the constructor receives the raw config.
   HelloWeb(const nlohmann::json &config, modkit::Api &api)
      : greeting_(config.value("greeting", std::string("hello"))) {
      api.register_web_resource("/_modkit/hello", {this, &HelloWeb::hello});
   }

private:
   // May run on several host threads at once: it only reads greeting_.
   void hello(const modkit::Request &request, modkit::Response &response) const {
      if (request.method() != "GET") {
         response.add_header("allow", "GET");
         response.send_json({{"error", "only GET is supported"}}, 405);
         return;
      }
      const std::string name = request.query_param("name").value_or("world");
      response.send_json({{greeting_, name}});
   }

   std::string greeting_;
};

MODKIT_MODULE(HelloWeb, "hello_web", "1.0.0", "Says hello over HTTP")

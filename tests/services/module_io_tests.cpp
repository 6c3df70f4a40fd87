// module_io_tests.cpp - modkit.storage/1 and modkit.http/1 as a module uses them: confined to
// its tables and its granted URLs, answered through its done callbacks, data kept across a
// restart of the host.
#include "probe_host.hpp"

#include <httplib.h>

using test::ask;
using test::Host;
using test::line_starting;
using test::load_with_services;

namespace {

std::string storage(const std::string &path) { return "{\"storage\": {\"path\": \"" + path + "\"}}"; }

} // namespace

TEST_CASE("a module keeps rows in its own tables, and they survive a restart of the host") {
   test::TempDir dir;
   const std::string db = dir.str() + "/host.sqlite3";
   {
      Host host;
      load_with_services(host, R"J([{"module": "services_a", "config": {"sql": [
         "CREATE TABLE services_a__kv (k TEXT PRIMARY KEY, v INTEGER)",
         {"sql": "INSERT INTO services_a__kv VALUES (?, ?)", "params": ["x", 7]},
         {"batch": [{"sql": "INSERT INTO services_a__kv VALUES ('y', 1)"},
                    {"sql": "INSERT INTO services_a__kv VALUES ('x', 2)"}]},
         "SELECT k, v FROM services_a__kv ORDER BY k"]}}])J",
                         storage(db));
      ask(host, "services_a", 10);
      CHECK(line_starting(host, "services_a:sql[0]=") == "services_a:sql[0]=ok {\"rows\":[],\"changes\":0}");
      CHECK(line_starting(host, "services_a:sql[1]=") == "services_a:sql[1]=ok {\"rows\":[],\"changes\":1}");
      // The batch's second insert breaks the key: neither row is kept.
      const std::string batch = line_starting(host, "services_a:sql[2]=");
      CHECK(batch.rfind("services_a:sql[2]=conflict statement 1", 0) == 0);
      CHECK(line_starting(host, "services_a:sql[3]=") ==
            R"J(services_a:sql[3]=ok {"rows":[{"k":"x","v":7}],"changes":0})J");
   }
   Host again;
   load_with_services(again, R"J([{"module": "services_a", "config": {"sql": [
      "SELECT v FROM services_a__kv WHERE k = 'x'"]}}])J",
                      storage(db));
   ask(again, "services_a", 10);
   CHECK(line_starting(again, "services_a:sql[0]=") == R"J(services_a:sql[0]=ok {"rows":[{"v":7}],"changes":0})J");
}

TEST_CASE("another module's tables, ATTACH and PRAGMA writes are denied") {
   Host host;
   load_with_services(host, R"J([{"module": "services_a", "config": {"sql": ["CREATE TABLE services_a__secret (x)"]}},
                                {"module": "services_b", "config": {"sql": [
                                   "SELECT * FROM services_a__secret",
                                   "ATTACH DATABASE '/tmp/x.db' AS other",
                                   "PRAGMA journal_mode = DELETE",
                                   "CREATE TABLE services_b__mine (x)"]}}])J",
                      storage(":memory:"));
   ask(host, "services_a", 10);
   REQUIRE(line_starting(host, "services_a:sql[0]=") == R"J(services_a:sql[0]=ok {"rows":[],"changes":0})J");
   ask(host, "services_b", 10);
   CHECK(line_starting(host, "services_b:sql[0]=").rfind("services_b:sql[0]=denied ", 0) == 0);
   CHECK(line_starting(host, "services_b:sql[1]=").rfind("services_b:sql[1]=denied ", 0) == 0);
   CHECK(line_starting(host, "services_b:sql[2]=").rfind("services_b:sql[2]=denied ", 0) == 0);
   CHECK(line_starting(host, "services_b:sql[3]=") == R"J(services_b:sql[3]=ok {"rows":[],"changes":0})J");
}

TEST_CASE("a module reaches the URLs its permissions grant, and nothing else opens a socket") {
   httplib::Server server;
   std::atomic<int> hits{0};
   server.Get("/dept", [&](const httplib::Request &, httplib::Response &res) {
      ++hits;
      res.set_content("engineering", "text/plain");
   });
   const int port = server.bind_to_any_port("127.0.0.1");
   std::thread serving([&] { server.listen_after_bind(); });
   while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
   const std::string base = "http://127.0.0.1:" + std::to_string(port);
   {
      Host host;
      load_with_services(host, "[{\"module\": \"services_a\", \"permissions\": {\"http\": [\"" + base +
                                  "/dept\"]}, \"config\": {\"http\": {\"url\": \"" + base + "/dept\"}}},"
                                  "{\"module\": \"services_b\", \"config\": {\"http\": {\"url\": \"" + base + "/dept\"}}}]");
      CHECK(ask(host, "services_b", 11) == MODKIT_E_DENIED);
      CHECK(host.logged("HTTP request to " + base + "/dept refused: not among the URL prefixes its permissions grant"));
      CHECK(hits == 0);
      CHECK(ask(host, "services_a", 11) == MODKIT_PENDING);
      CHECK(line_starting(host, "services_a:http=") == "services_a:http=ok 200 11 ");
      CHECK(hits == 1);
   }
   server.stop();
   serving.join();
}

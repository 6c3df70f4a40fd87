// run.hpp - runs the modkit binary the way a user does and captures what it did.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <utility>
#include <vector>

namespace cli_test {

struct Run {
   int status = -1;  // exit code; 128 + signal if it was killed
   std::string out;  // stdout
   std::string err;  // stderr
   double seconds = 0;
   // stdout parsed as one JSON document; fails the test when it is not.
   nlohmann::json json() const;
};

using Env = std::vector<std::pair<std::string, std::string>>;

// MODKIT_CLI (the modkit binary) with args, optionally with extra environment variables.
Run run_modkit(const std::vector<std::string> &args, const Env &env = {});

// Any program, for the tests that compare with system tools.
Run program(const std::vector<std::string> &argv, const Env &env = {});

// A fresh directory under CLI_WORK_DIR named after the test, emptied first.
std::string work_dir(const std::string &name);

std::string read_file(const std::string &path);
void write_file(const std::string &path, const std::string &text);
bool contains(const std::string &haystack, const std::string &needle);

// The path of a module built elsewhere in the tree, or "" when that target is not built.
std::string spam_c();
std::string probe_a();
std::string cli_fixture(const std::string &name); // tests/cli fixtures: "cli_segv", ...

} // namespace cli_test

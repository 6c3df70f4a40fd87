// usage_tests.cpp - the command line itself: help, versions, and usage errors (exit 2).
#include "run.hpp"

#include <doctest/doctest.h>

using namespace cli_test;

TEST_CASE("every subcommand has --help, which exits 0") {
   for (const std::vector<std::string> &args :
        std::vector<std::vector<std::string>>{{"--help"}, {"inspect", "--help"}, {"check", "--help"}, {"compat", "--help"},
                                              {"abi", "--help"}, {"abi", "dump", "--help"}, {"abi", "diff", "--help"},
                                              {"new", "--help"}}) {
      const Run run = run_modkit(args);
      INFO(args.front() << ": " << run.err);
      CHECK(run.status == 0);
      CHECK(contains(run.out, "Usage:"));
   }
   CHECK(contains(run_modkit({"check", "--help"}).out, "--json"));
   CHECK(contains(run_modkit({"--version"}).out, "(ABI 1.1)"));
}

TEST_CASE("usage errors exit 2, with a JSON document when --json was asked for") {
   CHECK(run_modkit({}).status == 2);
   CHECK(run_modkit({"frobnicate"}).status == 2);
   CHECK(run_modkit({"inspect"}).status == 2);
   CHECK(run_modkit({"abi"}).status == 2);
   CHECK(run_modkit({"abi", "diff", "only-one.json"}).status == 2);
   const Run run = run_modkit({"inspect", "--json", "--no-such-option", "x.so"});
   CHECK(run.status == 2);
   const auto doc = run.json();
   CHECK(doc["ok"] == false);
   CHECK(doc["command"] == "inspect");
   CHECK(doc["error"]["kind"] == "usage");
   CHECK_FALSE(run.err.empty());
}

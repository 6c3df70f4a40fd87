// check_symbol_versions and host_runtime_versions: a module needing a newer C or C++ runtime than
// the host's is refused before dlopen, naming both versions.
#include "fixture.hpp"

#include "elf/host_runtime.hpp"
#include "elf/symbol_versions.hpp"

#include <doctest/doctest.h>

using namespace modkit::elf;
using namespace modkit::elf::test;

namespace {

const std::vector<RuntimeVersion> host = {
   {"GLIBC", "2.36", "/lib/libc.so.6"},
   {"GLIBCXX", "3.4.30", "/lib/libstdc++.so.6"},
   {"CXXABI", "1.3.13", "/lib/libstdc++.so.6"},
};

Facts needing(std::vector<VersionNeed> needs) {
   Facts facts;
   facts.version_needs = std::move(needs);
   return facts;
}

} // namespace

TEST_CASE("symbol versions parse and compare by number, not by text") {
   const auto v = parse_symbol_version("GLIBCXX_3.4.30");
   REQUIRE(v);
   CHECK(v->family == "GLIBCXX");
   CHECK(v->text() == "3.4.30");
   CHECK_FALSE(parse_symbol_version("GLIBC_PRIVATE"));
   CHECK_FALSE(parse_symbol_version("GLIBC_ABI_DT_RELR"));
   CHECK_FALSE(parse_symbol_version("3.4"));
   CHECK_FALSE(parse_dotted("1..2"));
   CHECK_FALSE(parse_dotted("99999999999"));
   CHECK(compare_versions({2, 2, 5}, {2, 14}) < 0);
   CHECK(compare_versions({3, 4, 30}, {3, 4, 29}) > 0);
   CHECK(compare_versions({1, 3}, {1, 3, 0}) == 0);
   const auto highest = highest_versions({"GLIBC_2.2.5", "GLIBC_2.14", "GLIBCXX_3.4.9", "GLIBCXX_3.4.30", "CXXABI_1.3",
                                          "GLIBC_PRIVATE", "CXXABI_TM_1"});
   REQUIRE(highest.size() == 3);
   CHECK(highest[0].family + "_" + highest[0].text() == "GLIBC_2.14");
   CHECK(highest[1].family + "_" + highest[1].text() == "GLIBCXX_3.4.30");
   CHECK(highest[2].family + "_" + highest[2].text() == "CXXABI_1.3");
}

TEST_CASE("symbol versions no newer than the host's pass") {
   CHECK(check_symbol_versions(needing({}), host).empty());
   CHECK(check_symbol_versions(needing({{"libc.so.6", "GLIBC_2.2.5"},
                                        {"libc.so.6", "GLIBC_2.36"},
                                        {"libc.so.6", "GLIBC_PRIVATE"},
                                        {"libstdc++.so.6", "GLIBCXX_3.4.9"},
                                        {"libstdc++.so.6", "CXXABI_1.3.13"}}),
                               host)
            .empty());
}

TEST_CASE("a newer symbol version is refused, naming the requirement and the host's newest") {
   SUBCASE("one family") {
      const auto findings =
         check_symbol_versions(needing({{"libc.so.6", "GLIBC_2.2.5"}, {"libc.so.6", "GLIBC_2.99"}}), host);
      REQUIRE(findings.size() == 1);
      CHECK(findings[0].check == "hygiene.symbol_versions");
      CHECK(findings[0].message() ==
            "symbol versions: expected none newer than the host's runtime provides (GLIBC_2.36 in /lib/libc.so.6; "
            "rebuild the module against an older runtime), found GLIBC_2.99 required of libc.so.6");
   }
   SUBCASE("the newest need of each family, in the order the file lists them") {
      const auto findings = check_symbol_versions(needing({{"libstdc++.so.6", "GLIBCXX_3.4.31"},
                                                           {"libc.so.6", "GLIBC_2.38"},
                                                           {"libm.so.6", "GLIBC_2.40"},
                                                           {"libstdc++.so.6", "GLIBCXX_3.4.32"}}),
                                                  host);
      REQUIRE(findings.size() == 1);
      CHECK(findings[0].found == "GLIBCXX_3.4.32 required of libstdc++.so.6, GLIBC_2.40 required of libm.so.6");
      CHECK(contains(findings[0].expected, "GLIBCXX_3.4.30 in /lib/libstdc++.so.6, GLIBC_2.36 in /lib/libc.so.6"));
   }
   SUBCASE("numbers compare as numbers: 2.100 is newer than 2.36") {
      CHECK(check_symbol_versions(needing({{"libc.so.6", "GLIBC_2.100"}}), host).size() == 1);
   }
}

TEST_CASE("a family the host has no version for is not judged") {
   CHECK(check_symbol_versions(needing({{"libgcc_s.so.1", "GCC_99.0"}, {"libfoo.so.1", "FOO_9.9"}}), host).empty());
   CHECK(check_symbol_versions(needing({{"libc.so.6", "GLIBC_2.99"}}), {}).empty());
}

TEST_CASE("the host runtime is read once and covers the C library") {
   const std::vector<RuntimeVersion> &first = host_runtime_versions();
   CHECK(&host_runtime_versions() == &first);
   bool glibc = false;
   for (const RuntimeVersion &r : first) {
      glibc = glibc || (r.family == "GLIBC" && contains(r.library, "libc.so.6") && parse_dotted(r.highest));
   }
   CHECK(glibc);
   // This very process runs, so its own requirements are met: the check passes on its file.
   CHECK(check_symbol_versions(facts_of("/proc/self/exe"), first).empty());
}

// trust_tests.cpp - the file checks before any byte of a module is parsed, and proof that the
// file the dynamic linker maps is the file that was checked.
#include "support.hpp"

#include "link.hpp"
#include "trust.hpp"

#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <sys/stat.h>
#include <unistd.h>

using test::contains;
using test::fixture;
using test::Host;
using test::load_errors;
using test::TempDir;

namespace {

std::string copy_fixture(const TempDir &dir, const std::string &name) {
   const auto to = dir.path / (name + ".so");
   std::filesystem::copy_file(fixture(name), to);
   std::filesystem::permissions(to, std::filesystem::perms(0755));
   return to.string();
}

std::vector<modkit::LoadErrorItem> load_path(Host &host, const std::string &path) {
   return load_errors([&] {
      host.loader.load(R"({"modules": [{"module": ")" + path + R"(", "config": {"tag": "t"}}]})");
   });
}

// The name the dynamic linker recorded for the object containing address.
std::string link_map_name(const void *address) {
   Dl_info info{};
   struct link_map *map = nullptr;
   if (!dladdr1(address, &info, reinterpret_cast<void **>(&map), RTLD_DL_LINKMAP) || !map) return {};
   return map->l_name;
}

} // namespace

TEST_CASE("trust: a copy with safe permissions loads") {
   TempDir dir;
   Host host;
   const std::string path = copy_fixture(dir, "probe_a");
   host.loader.load(R"({"modules": [{"module": ")" + path + R"(", "config": {"tag": "t"}}]})");
   CHECK(host.loader.module_count() == 1);
}

TEST_CASE("trust: refusals name what is wrong with the file") {
   TempDir dir;
   Host host;
   SUBCASE("a symbolic link") {
      const auto link = dir.path / "link.so";
      std::filesystem::create_symlink(fixture("probe_a"), link);
      auto errors = load_path(host, link.string());
      REQUIRE(errors.size() == 1);
      CHECK(errors[0].stage == "trust");
      CHECK(contains(errors[0].message, "is a symbolic link"));
   }
   SUBCASE("group-writable") {
      const std::string path = copy_fixture(dir, "probe_a");
      std::filesystem::permissions(path, std::filesystem::perms(0775));
      auto errors = load_path(host, path);
      REQUIRE(errors.size() == 1);
      CHECK(errors[0].message == "is writable by its group (mode 0775); expected write permission for the owner only");
   }
   SUBCASE("world-writable") {
      const std::string path = copy_fixture(dir, "probe_a");
      std::filesystem::permissions(path, std::filesystem::perms(0757));
      auto errors = load_path(host, path);
      REQUIRE(errors.size() == 1);
      CHECK(contains(errors[0].message, "is writable by everyone (mode 0757)"));
   }
   SUBCASE("a directory") {
      std::filesystem::create_directory(dir.path / "dir.so");
      auto errors = load_path(host, (dir.path / "dir.so").string());
      REQUIRE(errors.size() == 1);
      CHECK(contains(errors[0].message, "is a directory; expected a regular file"));
   }
   SUBCASE("a FIFO does not block the host") {
      const auto fifo = dir.path / "fifo.so";
      REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
      auto errors = load_path(host, fifo.string());
      REQUIRE(errors.size() == 1);
      CHECK(contains(errors[0].message, "is a FIFO"));
   }
   SUBCASE("a relative path or a '..' component") {
      auto errors = load_path(host, "modules/x.so");
      REQUIRE(errors.size() == 1);
      CHECK(errors[0].stage == "resolve");
      CHECK(contains(errors[0].message, "is a relative path"));
      Host other;
      errors = load_path(other, dir.str() + "/../x.so");
      REQUIRE(errors.size() == 1);
      CHECK(contains(errors[0].message, "contains a \".\" or \"..\" component"));
   }
}

TEST_CASE("trust: a file owned by another user is refused unless the host relaxes it") {
   if (::geteuid() != 0) {
      MESSAGE("skipped: changing a file's owner needs root");
      return;
   }
   TempDir dir;
   const std::string path = copy_fixture(dir, "probe_a");
   REQUIRE(::chown(path.c_str(), 4242, 4242) == 0);
   {
      Host host;
      auto errors = load_path(host, path);
      REQUIRE(errors.size() == 1);
      CHECK(contains(errors[0].message, "is owned by uid 4242; expected root (0) or the host's user (uid 0)"));
   }
   modkit::Loader::Options options;
   options.categories = {test_category()};
   options.allow_any_owner = true;
   std::vector<std::string> lines;
   options.log = [&](modkit_log_level, const char *, std::string_view l) { lines.emplace_back(l); };
   modkit::Loader relaxed(options);
   relaxed.load(R"({"modules": [{"module": ")" + path + R"(", "config": {"tag": "t"}}]})");
   CHECK(relaxed.module_count() == 1);
   CHECK(contains(lines.at(0), "allow_any_owner is on"));
}

TEST_CASE("link: a file swapped after the check is refused") {
   using namespace modkit::loader;
   TempDir dir;
   const std::string checked = copy_fixture(dir, "probe_a");
   const std::string swapped = copy_fixture(dir, "probe_b");
   TrustedFile file;
   std::string error;
   REQUIRE(TrustedFile::open(checked, TrustPolicy{}, file, error));
   // Replace the checked path's file, as an attacker with write access to the directory would.
   std::filesystem::rename(swapped, checked);
   Linked linked;
   modkit_status code = MODKIT_OK;
   CHECK_FALSE(link_module(checked, file, linked, code, error));
   CHECK(code == MODKIT_E_DENIED);
   CHECK(contains(error, "the file changed between check and load"));
}

TEST_CASE("link: loading by path keeps the real file name for debuggers; /proc/self/fd/N does not") {
   using namespace modkit::loader;
   TempDir dir;
   const std::string path = copy_fixture(dir, "probe_c");
   TrustedFile file;
   std::string error;
   REQUIRE(TrustedFile::open(path, TrustPolicy{}, file, error));
   Linked linked;
   modkit_status code = MODKIT_OK;
   REQUIRE(link_module(path, file, linked, code, error));
   void *entry = ::dlsym(linked.handle, "modkit_module_entry");
   CHECK(link_map_name(entry) == path);

   // The alternative DESIGN.md weighs: the link map then names a descriptor, which gdb and
   // sanitizer symbolizers cannot open once it is closed, or in another process.
   const std::string other = copy_fixture(dir, "probe_b");
   const int fd = ::open(other.c_str(), O_RDONLY | O_CLOEXEC);
   REQUIRE(fd >= 0);
   const std::string by_fd = "/proc/self/fd/" + std::to_string(fd);
   void *handle = ::dlopen(by_fd.c_str(), RTLD_NOW | RTLD_LOCAL);
   REQUIRE(handle != nullptr);
   CHECK(link_map_name(::dlsym(handle, "modkit_module_entry")) == by_fd);
   ::dlclose(handle);
   ::close(fd);
   ::dlclose(linked.handle);
}

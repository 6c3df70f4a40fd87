// trust_tests.cpp - the file checks before any byte of a module is parsed, and proof that the
// file the dynamic linker maps is the file that was checked.
#include "support.hpp"

#include "link.hpp"
#include "trust.hpp"

#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <sys/mman.h>
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
   options.categories = {test_category(), modkit_spam_checker_category()}; // what the probe declares
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

TEST_CASE("link: the mapped file's identity is read for one address, by the kernel or from the text") {
   using namespace modkit::loader;
   TempDir dir;
   const std::string path = copy_fixture(dir, "probe_a");
   void *handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
   REQUIRE(handle);
   const void *inside = dlsym(handle, "modkit_module_entry");
   REQUIRE(inside);
   struct stat st{};
   REQUIRE(stat(path.c_str(), &st) == 0);
   auto from_text = [](const void *address, dev_t &dev, ino_t &ino) {
      const int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
      const bool found = fd >= 0 && mapped_file_identity_from_text(fd, address, dev, ino);
      if (fd >= 0) close(fd);
      return found;
   };
   SUBCASE("an address inside the module names its file, both ways") {
      dev_t dev{}, text_dev{};
      ino_t ino{}, text_ino{};
      REQUIRE(mapped_file_identity(inside, dev, ino));
      REQUIRE(from_text(inside, text_dev, text_ino));
      CHECK(dev == st.st_dev);
      CHECK(ino == st.st_ino);
      CHECK(text_dev == st.st_dev);
      CHECK(text_ino == st.st_ino);
   }
   SUBCASE("an anonymous mapping has no file; an unmapped address is not found") {
      const long page = sysconf(_SC_PAGESIZE);
      void *anon = mmap(nullptr, static_cast<size_t>(page) * 3, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      REQUIRE(anon != MAP_FAILED);
      char *middle = static_cast<char *>(anon) + page;
      REQUIRE(munmap(middle, static_cast<size_t>(page)) == 0); // a hole between two mappings
      dev_t dev{};
      ino_t ino = 1;
      CHECK(mapped_file_identity(anon, dev, ino));
      CHECK(ino == 0);
      ino = 1;
      CHECK(from_text(anon, dev, ino));
      CHECK(ino == 0);
      CHECK_FALSE(mapped_file_identity(middle, dev, ino));
      CHECK_FALSE(from_text(middle, dev, ino));
      munmap(anon, static_cast<size_t>(page));
      munmap(middle + page, static_cast<size_t>(page));
   }
   dlclose(handle);
}

TEST_CASE("link: a stale object under the file's name is avoided; a bare name check finds the object") {
   using namespace modkit::loader;
   TempDir dir;
   const std::string path = copy_fixture(dir, "probe_c");
   auto check_and_link = [&path] {
      TrustedFile file;
      std::string error;
      REQUIRE(TrustedFile::open(path, TrustPolicy{}, file, error));
      Linked linked;
      modkit_status code = MODKIT_OK;
      REQUIRE_MESSAGE(link_module(path, file, linked, code, error), error);
      return linked;
   };
   const Linked old = check_and_link();
   CHECK(old.name == path);
   CHECK(still_mapped(path));
   // A new build at the same path while the old object is still loaded under that name.
   std::filesystem::remove(path);
   copy_fixture(dir, "probe_c");
   const Linked fresh = check_and_link();
   CHECK(fresh.name != path); // another spelling of the path, so the new file is mapped
   CHECK(fresh.handle != old.handle);
   CHECK(still_mapped(fresh.name));
   dlclose(fresh.handle);
   dlclose(old.handle);
   CHECK_FALSE(still_mapped(path));
   CHECK_FALSE(still_mapped(fresh.name));
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

TEST_CASE("trust: every directory above the module is checked") {
   TempDir dir;
   Host host;
   std::filesystem::create_directories(dir.path / "mods");
   const auto mods = dir.path / "mods";
   std::filesystem::copy_file(fixture("probe_a"), mods / "probe_a.so");
   auto config = [&] {
      return R"({"module_path": [")" + mods.string() + R"("], "modules": [{"module": "probe_a", "config": {"tag": "a"}}]})";
   };
   SUBCASE("a world-writable directory is refused") {
      std::filesystem::permissions(mods, std::filesystem::perms(0777));
      auto errors = load_errors([&] { host.loader.load(config()); });
      REQUIRE(errors.size() == 1);
      CHECK(errors[0].stage == "trust");
      CHECK(errors[0].message == "directory " + mods.string() +
                                    " is writable by everyone (mode 0777); expected write permission for the owner "
                                    "only (or a root-owned sticky directory such as /tmp)");
   }
   SUBCASE("a group-writable ancestor is refused") {
      std::filesystem::permissions(dir.path, std::filesystem::perms(0770));
      auto errors = load_errors([&] { host.loader.load(config()); });
      REQUIRE(errors.size() == 1);
      CHECK(contains(errors[0].message, "directory " + dir.str() + " is writable by its group (mode 0770)"));
   }
   SUBCASE("a root-owned sticky shared directory is accepted") {
      if (::geteuid() != 0) {
         MESSAGE("skipped: a root-owned directory needs root");
         return;
      }
      std::filesystem::permissions(dir.path, std::filesystem::perms(01777));
      host.loader.load(config());
      CHECK(host.loader.module_count() == 1);
   }
   SUBCASE("a symbolic link in module_path is resolved, and the real directories are checked") {
      std::filesystem::create_directory_symlink(mods, dir.path / "alias");
      host.loader.load(R"({"module_path": [")" + (dir.path / "alias").string() +
                       R"("], "modules": [{"module": "probe_a", "config": {"tag": "a"}}]})");
      CHECK(host.loader.module_count() == 1);
   }
}

TEST_CASE("trust: a sha256 pin is checked on the opened file") {
   Host host;
   // The pin of the fixture itself, computed independently of the loader.
   std::string pin;
   {
      modkit::loader::TrustedFile file;
      std::string error;
      REQUIRE(modkit::loader::TrustedFile::open(fixture("probe_a"), {}, file, error));
      REQUIRE(file.sha256(pin, error));
   }
   REQUIRE(pin.size() == 64);
   auto load = [&](const std::string &sha) {
      host.load(R"([{"module": "probe_a", "sha256": ")" + sha + R"(", "config": {"tag": "a"}}])");
   };
   SUBCASE("matching, in any case") {
      std::string upper = pin;
      for (char &c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      load(upper);
      CHECK(host.loader.module_count() == 1);
   }
   SUBCASE("not matching") {
      std::string other = pin;
      other[0] = other[0] == '0' ? '1' : '0';
      auto errors = load_errors([&] { load(other); });
      REQUIRE(errors.size() == 1);
      CHECK(errors[0].pointer == "/modules/0/sha256");
      CHECK(errors[0].message == "content does not match the pin: expected sha256 " + other + ", found " + pin);
   }
   SUBCASE("malformed") {
      auto errors = load_errors([&] { load("abc"); });
      REQUIRE(errors.size() == 1);
      CHECK(errors[0].stage == "config");
      CHECK(contains(errors[0].message, "expected 64 hexadecimal digits"));
   }
}

TEST_CASE("hygiene checks can be switched off per module, with a reason that is logged") {
   Host host;
   SUBCASE("with a reason, the module loads and the reason is logged") {
      host.load(R"([{"module": "probe_execstack", "config": {"tag": "x"},
                     "hygiene_exceptions": {"exec_stack": "vendor build, fix promised in 2.1"}}])");
      CHECK(host.loader.module_count() == 1);
      CHECK(host.logged("module 'probe_execstack': hygiene check exec_stack is off by the host config (vendor build, "
                        "fix promised in 2.1)"));
   }
   SUBCASE("an unknown check or a missing reason is a config error") {
      auto errors = load_errors([&] {
         host.load(R"([{"module": "probe_execstack", "config": {"tag": "x"},
                        "hygiene_exceptions": {"exec_stak": "typo", "static_tls": ""}}])");
      });
      REQUIRE(errors.size() == 2);
      CHECK(errors[0].pointer == "/modules/0/hygiene_exceptions/exec_stak");
      CHECK(contains(errors[0].message, "unknown hygiene check; expected one of exec_stack, static_tls"));
      CHECK(errors[1].pointer == "/modules/0/hygiene_exceptions/static_tls");
      CHECK(contains(errors[1].message, "expected the reason, as a non-empty string"));
   }
   SUBCASE("another check is not switched off by an exception for one") {
      auto errors = load_errors([&] {
         host.load(R"([{"module": "probe_execstack", "config": {"tag": "x"},
                        "hygiene_exceptions": {"static_tls": "not this one"}}])");
      });
      REQUIRE(errors.size() == 1);
      CHECK(contains(errors[0].message, "stack"));
   }
}

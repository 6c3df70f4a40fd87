// slapd_server.hpp - OpenLDAP's slapd (Debian's package), started by a test on 127.0.0.1 with
// its own config and data in a temporary directory, and stopped with the fixture: nothing of
// the system's LDAP configuration is used or changed.
//
// The config is ldap_auth_provider/slapd.conf.in, which the scenario's service.py uses too.
// The directory is the original test suite's LDIF, loaded with slapadd -s: like the original's
// in-memory server (ldaptor), slapd then serves entries its schema would not admit (persons
// without sn). active_directory adds rootDomainNamingContext to the root DSE, as the original's
// _ActiveDirectoryLDAPServer does.
#pragma once

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <csignal>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

namespace test {

class Slapd {
public:
   explicit Slapd(bool active_directory = false) {
      char pattern[] = "/tmp/modkit-slapd-XXXXXX";
      REQUIRE(mkdtemp(pattern) != nullptr);
      dir_ = pattern;
      std::filesystem::create_directory(dir_ + "/data");
      write("rootdse.ldif", "dn:\nrootDomainNamingContext: DC=example,DC=org\n");
      std::string conf = read_file(LDAP_SLAPD_CONF);
      replace(conf, "{root_dse}", active_directory ? "rootDSE " + dir_ + "/rootdse.ldif" : "");
      replace(conf, "{dir}", dir_);
      write("slapd.conf", conf);
      const std::string load = "/usr/sbin/slapadd -s -f " + dir_ + "/slapd.conf -l " + LDAP_DIRECTORY_LDIF + " > " + dir_ +
                               "/slapadd.log 2>&1";
      REQUIRE_MESSAGE(std::system(load.c_str()) == 0, "slapadd failed: " << read("slapadd.log"));
      start();
   }
   ~Slapd() {
      stop();
      std::error_code ignored;
      std::filesystem::remove_all(dir_, ignored);
   }
   Slapd(const Slapd &) = delete;
   Slapd &operator=(const Slapd &) = delete;

   std::string uri() const { return "ldap://127.0.0.1:" + std::to_string(port_); }

   // Stops the server (the LDAP-down failure mode); its port then refuses connections.
   void stop() {
      if (pid_ <= 0) return;
      kill(pid_, SIGTERM);
      int status = 0;
      waitpid(pid_, &status, 0);
      pid_ = -1;
   }

private:
   void start() {
      port_ = free_port();
      const std::string url = uri() + "/", conf = dir_ + "/slapd.conf", log = dir_ + "/slapd.log";
      pid_ = fork();
      REQUIRE(pid_ >= 0);
      if (pid_ == 0) {
         const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
         if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
         }
         // -d 0: stay in the foreground, so this process is slapd's parent and waits for it.
         execl("/usr/sbin/slapd", "slapd", "-f", conf.c_str(), "-h", url.c_str(), "-d", "0", static_cast<char *>(nullptr));
         _exit(127);
      }
      const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      while (!accepts()) {
         int status = 0;
         if (waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            FAIL("slapd exited: " << read("slapd.log"));
         }
         REQUIRE_MESSAGE(std::chrono::steady_clock::now() < until, "slapd did not listen: " << read("slapd.log"));
         std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
   }

   bool accepts() const {
      const int fd = socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_port = htons(static_cast<uint16_t>(port_));
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      const bool ok = connect(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) == 0;
      close(fd);
      return ok;
   }

   // A port the kernel just handed out and took back: free for slapd to bind.
   static int free_port() {
      const int fd = socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      REQUIRE(bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) == 0);
      socklen_t size = sizeof a;
      getsockname(fd, reinterpret_cast<sockaddr *>(&a), &size);
      close(fd);
      return ntohs(a.sin_port);
   }

   void write(const std::string &name, const std::string &text) const { std::ofstream(dir_ + "/" + name) << text; }
   std::string read(const std::string &name) const { return read_file(dir_ + "/" + name); }
   static std::string read_file(const std::string &path) {
      std::ifstream in(path);
      std::stringstream s;
      s << in.rdbuf();
      return s.str();
   }
   static void replace(std::string &text, const std::string &from, const std::string &to) {
      for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
         text.replace(at, from.size(), to);
   }

   std::string dir_;
   int port_ = 0;
   pid_t pid_ = -1;
};

} // namespace test

#include "trust.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <utility>

namespace modkit::loader {

TrustedFile::~TrustedFile() {
   if (fd_ >= 0) ::close(fd_);
}

TrustedFile::TrustedFile(TrustedFile &&other) noexcept
   : fd_(std::exchange(other.fd_, -1)), st_(other.st_) {}

TrustedFile &TrustedFile::operator=(TrustedFile &&other) noexcept {
   std::swap(fd_, other.fd_);
   std::swap(st_, other.st_);
   return *this;
}

namespace {

const char *file_kind(mode_t mode) {
   if (S_ISDIR(mode)) return "a directory";
   if (S_ISCHR(mode)) return "a character device";
   if (S_ISBLK(mode)) return "a block device";
   if (S_ISFIFO(mode)) return "a FIFO";
   if (S_ISSOCK(mode)) return "a socket";
   return "not a regular file";
}

} // namespace

namespace {

bool owner_allowed(const struct stat &st, const TrustPolicy &policy) {
   return policy.allow_any_owner || st.st_uid == 0 || st.st_uid == ::geteuid();
}

std::string owner_error(const char *what, const std::string &path, const struct stat &st) {
   return fmt::format("{} {} is owned by uid {}; expected root (0) or the host's user (uid {})", what, path,
                      st.st_uid, ::geteuid());
}

bool check_directory(const std::string &path, const struct stat &st, const TrustPolicy &policy,
                     std::string &error) {
   if (!owner_allowed(st, policy)) {
      error = owner_error("directory", path, st);
      return false;
   }
   const bool shared_sticky = (st.st_mode & S_ISVTX) && st.st_uid == 0;
   if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !shared_sticky) {
      error = fmt::format("directory {} is writable by {} (mode {:04o}); expected write permission for the "
                          "owner only (or a root-owned sticky directory such as /tmp)",
                          path, (st.st_mode & S_IWOTH) ? "everyone" : "its group", st.st_mode & 07777);
      return false;
   }
   return true;
}

// Closes a descriptor on scope exit.
struct Fd {
   int fd = -1;
   ~Fd() {
      if (fd >= 0) ::close(fd);
   }
};

} // namespace

bool TrustedFile::open(const std::string &path, const TrustPolicy &policy, TrustedFile &out, std::string &error) {
   const auto slash = path.rfind('/');
   if (path.empty() || path.front() != '/' || slash == std::string::npos || slash + 1 == path.size()) {
      error = "is not an absolute file path";
      return false;
   }
   const std::string base = path.substr(slash + 1);
   char real[PATH_MAX];
   const std::string dir = slash == 0 ? "/" : path.substr(0, slash);
   if (!::realpath(dir.c_str(), real)) {
      error = fmt::format("directory {} cannot be resolved: {}", dir, std::strerror(errno));
      return false;
   }

   Fd at{::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)};
   struct stat st {};
   if (at.fd < 0 || ::fstat(at.fd, &st) != 0 || !check_directory("/", st, policy, error)) {
      if (error.empty()) error = fmt::format("cannot open /: {}", std::strerror(errno));
      return false;
   }
   std::string walked;
   const std::string canonical = real;
   size_t start = 1;
   while (start < canonical.size()) {
      size_t end = canonical.find('/', start);
      if (end == std::string::npos) end = canonical.size();
      const std::string part = canonical.substr(start, end - start);
      walked += "/" + part;
      Fd next{::openat(at.fd, part.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)};
      if (next.fd < 0) {
         error = errno == ELOOP || errno == ENOTDIR
                    ? fmt::format("directory {} was replaced by a symbolic link or a file while it was checked", walked)
                    : fmt::format("cannot open directory {}: {}", walked, std::strerror(errno));
         return false;
      }
      if (::fstat(next.fd, &st) != 0 || !check_directory(walked, st, policy, error)) {
         if (error.empty()) error = fmt::format("cannot stat directory {}: {}", walked, std::strerror(errno));
         return false;
      }
      std::swap(at.fd, next.fd);
      start = end + 1;
   }

   // O_NONBLOCK so that opening a FIFO planted at the path cannot hang the host.
   int fd = ::openat(at.fd, base.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
   if (fd < 0) {
      if (errno == ELOOP)
         error = "is a symbolic link; expected a regular file (modkit never follows links to modules)";
      else
         error = fmt::format("cannot open: {}", std::strerror(errno));
      return false;
   }
   TrustedFile file;
   file.fd_ = fd;
   if (::fstat(fd, &file.st_) != 0) {
      error = fmt::format("cannot stat: {}", std::strerror(errno));
      return false;
   }
   const struct stat &fst = file.st_;
   if (!S_ISREG(fst.st_mode)) {
      error = fmt::format("is {}; expected a regular file", file_kind(fst.st_mode));
      return false;
   }
   if (static_cast<uint64_t>(fst.st_size) > policy.max_size) {
      error = fmt::format("is {} bytes; expected at most {}", fst.st_size, policy.max_size);
      return false;
   }
   if (!owner_allowed(fst, policy)) {
      error = fmt::format("is owned by uid {}; expected root (0) or the host's user (uid {})", fst.st_uid,
                          ::geteuid());
      return false;
   }
   if (fst.st_mode & (S_IWGRP | S_IWOTH)) {
      error = fmt::format("is writable by {} (mode {:04o}); expected write permission for the owner only",
                          (fst.st_mode & S_IWOTH) ? "everyone" : "its group", fst.st_mode & 07777);
      return false;
   }
   out = std::move(file);
   return true;
}

bool TrustedFile::sha256(std::string &hex, std::string &error) const {
   EVP_MD_CTX *ctx = EVP_MD_CTX_new();
   if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) != 1) {
      EVP_MD_CTX_free(ctx);
      error = "cannot start a SHA-256 digest";
      return false;
   }
   unsigned char chunk[64 * 1024];
   off_t offset = 0;
   for (;;) {
      const ssize_t n = ::pread(fd_, chunk, sizeof chunk, offset);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
         EVP_MD_CTX_free(ctx);
         error = fmt::format("cannot read for the SHA-256 pin: {}", std::strerror(errno));
         return false;
      }
      if (n == 0) break;
      EVP_DigestUpdate(ctx, chunk, static_cast<size_t>(n));
      offset += n;
   }
   unsigned char digest[EVP_MAX_MD_SIZE];
   unsigned int size = 0;
   EVP_DigestFinal_ex(ctx, digest, &size);
   EVP_MD_CTX_free(ctx);
   hex.clear();
   for (unsigned i = 0; i < size; ++i) hex += fmt::format("{:02x}", digest[i]);
   return true;
}

} // namespace modkit::loader

#include "trust.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
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

bool TrustedFile::open(const std::string &path, const TrustPolicy &policy, TrustedFile &out,
                       std::string &error) {
   // O_NONBLOCK so that opening a FIFO planted at the path cannot hang the host.
   int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
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
   const struct stat &st = file.st_;
   if (!S_ISREG(st.st_mode)) {
      error = fmt::format("is {}; expected a regular file", file_kind(st.st_mode));
      return false;
   }
   if (static_cast<uint64_t>(st.st_size) > policy.max_size) {
      error = fmt::format("is {} bytes; expected at most {}", st.st_size, policy.max_size);
      return false;
   }
   const uid_t self = ::geteuid();
   if (!policy.allow_any_owner && st.st_uid != 0 && st.st_uid != self) {
      error = fmt::format("is owned by uid {}; expected root (0) or the host's user (uid {})",
                          st.st_uid, self);
      return false;
   }
   if (st.st_mode & (S_IWGRP | S_IWOTH)) {
      error = fmt::format("is writable by {} (mode {:04o}); expected write permission for the owner only",
                          (st.st_mode & S_IWOTH) ? "everyone" : "its group", st.st_mode & 07777);
      return false;
   }
   out = std::move(file);
   return true;
}

} // namespace modkit::loader

// trust.hpp - open the module file once, through checked directories, and check it on that
// descriptor.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <string>

namespace modkit::loader {

struct TrustPolicy {
   bool allow_any_owner = false;            // development only
   uint64_t max_size = 256ull * 1024 * 1024; // no real module is larger
};

// An open, checked module file. Every later stage reads through fd, so what is checked is
// what is loaded. Closes the descriptor on destruction.
class TrustedFile {
public:
   TrustedFile() = default;
   ~TrustedFile();
   TrustedFile(TrustedFile &&other) noexcept;
   TrustedFile &operator=(TrustedFile &&other) noexcept;
   TrustedFile(const TrustedFile &) = delete;
   TrustedFile &operator=(const TrustedFile &) = delete;

   int fd() const { return fd_; }
   const struct stat &stat() const { return st_; }

   // Walks the path from "/" one directory at a time with openat(O_NOFOLLOW), so no
   // symbolic link is followed and no directory can be swapped for one between checks; each
   // directory must be owned by root or the host's user and writable by nobody else (a
   // root-owned sticky directory such as /tmp is accepted: others cannot rename what is in
   // it). The file is then opened relative to the last checked directory and must be a
   // regular file within the size bounds, owned by root or the host's user, writable by
   // nobody else. The directory part is made canonical first (the host config is trusted,
   // symbolic links in it are resolved and then the real directories are checked).
   static bool open(const std::string &path, const TrustPolicy &policy, TrustedFile &out,
                    std::string &error);

   // Lowercase hex SHA-256 of the whole file, read through the descriptor.
   bool sha256(std::string &hex, std::string &error) const;

private:
   int fd_ = -1;
   struct stat st_ {};
};

} // namespace modkit::loader

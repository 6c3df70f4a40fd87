// trust.hpp - open the module file once and check it on that descriptor.
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

   // open(O_RDONLY|O_CLOEXEC|O_NOFOLLOW), then fstat: a regular file within the size bounds,
   // owned by root or the host's user, writable by nobody else.
   static bool open(const std::string &path, const TrustPolicy &policy, TrustedFile &out,
                    std::string &error);

private:
   int fd_ = -1;
   struct stat st_ {};
};

} // namespace modkit::loader

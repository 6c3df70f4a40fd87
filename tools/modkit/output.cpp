#include "output.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

namespace modkit::cli {

void print_json(const nlohmann::json &doc) {
   // Invalid UTF-8 in a module's strings is replaced rather than thrown on.
   const std::string text = doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
   std::fwrite(text.data(), 1, text.size(), stdout);
   std::fputc('\n', stdout);
}

std::string read_text_file(const std::string &path, const char *what) {
   // Only regular files, and not without bound: these are JSON documents a person passed.
   constexpr off_t max_size = 64 << 20;
   const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
   if (fd < 0) throw UsageError(fmt::format("cannot read {} {}: {}", what, path, std::strerror(errno)));
   struct stat st {};
   std::string text;
   std::string problem;
   if (::fstat(fd, &st) != 0) {
      problem = std::strerror(errno);
   } else if (!S_ISREG(st.st_mode)) {
      problem = "not a regular file";
   } else if (st.st_size > max_size) {
      problem = fmt::format("larger than {} bytes", max_size);
   } else {
      char buffer[65536];
      for (;;) {
         const ssize_t n = ::read(fd, buffer, sizeof buffer);
         if (n < 0 && errno == EINTR) continue;
         if (n < 0) problem = std::strerror(errno);
         if (n <= 0) break;
         text.append(buffer, static_cast<size_t>(n));
         if (text.size() > static_cast<size_t>(max_size)) {
            problem = fmt::format("larger than {} bytes", max_size);
            break;
         }
      }
   }
   ::close(fd);
   if (!problem.empty()) throw UsageError(fmt::format("cannot read {} {}: {}", what, path, problem));
   return text;
}

void write_text_file(const std::string &path, const std::string &text, const char *what) {
   std::ofstream out(path, std::ios::binary | std::ios::trunc);
   if (!out) throw UsageError(fmt::format("cannot write {} {}: {}", what, path, std::strerror(errno)));
   out << text;
   out.close();
   if (!out) throw UsageError(fmt::format("cannot write {} {}", what, path));
}

nlohmann::json parse_json_file(const std::string &path, const char *what) {
   const std::string text = read_text_file(path, what);
   try {
      return nlohmann::json::parse(text);
   } catch (const nlohmann::json::exception &e) {
      throw UsageError(fmt::format("{} {} is not valid JSON: {}", what, path, e.what()));
   }
}

std::string printable(const std::string &text) {
   std::string out;
   out.reserve(text.size());
   for (const char c : text) {
      const auto u = static_cast<unsigned char>(c);
      if ((u < 0x20 && c != '\t') || u == 0x7f)
         out += fmt::format("\\x{:02x}", u);
      else
         out += c;
   }
   return out;
}

} // namespace modkit::cli

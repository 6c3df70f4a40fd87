// modkit/sdk/log.hpp - fmt-style logging through the host: api.log().info("loaded {} words", n).
#pragma once

#include <modkit/sdk/detail/host_context.hpp>

#include <fmt/format.h>

#include <iterator>
#include <string_view>
#include <utility>

namespace modkit {

// Writes lines attributed to this module through the host's log function. A small value;
// copy it freely. Format strings are checked at compile time (fmt::format_string).
// Thread rule: [thread-safe]; usable until the module's destructor returns.
class Logger {
public:
   explicit Logger(const detail::HostContext &context) noexcept
      : api_(context.api), host_(context.host) {}

   template <class... Args>
   void debug(fmt::format_string<Args...> format, Args &&...args) const noexcept {
      write_formatted(MODKIT_LOG_DEBUG, format, std::forward<Args>(args)...);
   }
   template <class... Args>
   void info(fmt::format_string<Args...> format, Args &&...args) const noexcept {
      write_formatted(MODKIT_LOG_INFO, format, std::forward<Args>(args)...);
   }
   template <class... Args>
   void warning(fmt::format_string<Args...> format, Args &&...args) const noexcept {
      write_formatted(MODKIT_LOG_WARNING, format, std::forward<Args>(args)...);
   }
   template <class... Args>
   void error(fmt::format_string<Args...> format, Args &&...args) const noexcept {
      write_formatted(MODKIT_LOG_ERROR, format, std::forward<Args>(args)...);
   }

   // Writes message as it is.
   void write(modkit_log_level level, std::string_view message) const noexcept {
      if (api_ != nullptr && host_ != nullptr)
         api_->log(host_, level, modkit_str{message.data(), message.size()});
   }

private:
   // Logging never throws: a line that cannot be formatted (out of memory, or a formatter
   // that throws) is replaced by a note saying so, because callers log from destructors and
   // error paths.
   template <class... Args>
   void write_formatted(modkit_log_level level, fmt::format_string<Args...> format,
                        Args &&...args) const noexcept {
      try {
         fmt::memory_buffer line;
         fmt::format_to(std::back_inserter(line), format, std::forward<Args>(args)...);
         write(level, std::string_view(line.data(), line.size()));
      } catch (...) {
         write(level, "(a log line was dropped: formatting it failed)");
      }
   }

   const modkit_host_api *api_;
   modkit_host *host_;
};

} // namespace modkit

// output.hpp - what every subcommand shares: exit codes, the errors that end a command, and
// printing either one JSON document or human text.
#pragma once

#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string>

namespace modkit::cli {

// The process exit status of every subcommand.
enum exit_code : int {
   exit_ok = 0,      // the file or change is accepted
   exit_refused = 1, // the module or change is refused or incompatible
   exit_usage = 2,   // bad arguments, or a file that cannot be read or written
};

// Ends a command with exit_usage: a bad argument, an unreadable or unwritable file, an input
// document that is not what it should be. The message names the file and what was wrong.
class UsageError : public std::runtime_error {
public:
   using std::runtime_error::runtime_error;
};

// Prints the JSON document (pretty, newline-terminated) on stdout.
void print_json(const nlohmann::json &doc);

// The worse of two exit codes (usage > refused > ok).
inline int worst(int a, int b) { return a > b ? a : b; }

// Reads a whole file; throws UsageError naming the file and the reason.
std::string read_text_file(const std::string &path, const char *what);

// Writes a whole file, replacing it; throws UsageError naming the file and the reason.
void write_text_file(const std::string &path, const std::string &text, const char *what);

// Parses JSON text; throws UsageError("<what> <path> is not valid JSON: ...").
nlohmann::json parse_json_file(const std::string &path, const char *what);

// Text made safe for a terminal: control characters other than tab become \xNN, so a module's
// file cannot drive the terminal through the strings it embeds.
std::string printable(const std::string &text);

} // namespace modkit::cli

// manifest.hpp - the .note.modkit manifest as the loader reads it (see modkit/manifest.h).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace modkit::cli {

struct Manifest {
   std::string name, version, abi, sdk, compiler;
   std::vector<std::string> registers; // category IDs, from the comma-separated list
   // abi as MAJOR.MINOR; nullopt when the text is not of that form.
   std::optional<unsigned> abi_major, abi_minor;
};

// Reads the note's JSON text. Returns false, with problem saying what was found instead, when it is not what the loader
// accepts: a JSON object with "name", "version" and "abi" strings. Any other key is optional.
// A well-formed manifest whose abi is not MAJOR.MINOR parses, with abi_major unset.
bool parse_manifest(const std::string &text, Manifest &out, std::string &problem);

// "a, b,,c" -> {"a", "b", "c"}, as the loader splits "registers".
std::vector<std::string> split_list(const std::string &list);

// "1.3" -> {1, 3}; false unless two decimal numbers separated by one dot.
bool parse_major_minor(const std::string &text, unsigned &major, unsigned &minor);

} // namespace modkit::cli

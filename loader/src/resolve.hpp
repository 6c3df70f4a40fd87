// resolve.hpp - from the name in the host config to one absolute file path.
#pragma once

#include "errors.hpp"

#include <string>
#include <vector>

namespace modkit::loader {

// Module directories made absolute against base_dir (the config file's directory, or the
// current directory). A relative directory without a base is an error.
bool absolute_module_dirs(const std::vector<std::string> &dirs, const std::string &base_dir,
                          std::vector<std::string> &out, std::string &error);

// A bare name ("spam_filter") is looked up as <dir>/<name>.so (or <dir>/<name> when it already
// ends in ".so") in each directory, first match wins. A name with '/' must be an absolute path
// without "." or ".." components. Symbolic links are refused later, on open.
bool resolve_module(const std::string &module, const std::vector<std::string> &dirs,
                    std::string &path, std::string &error);

} // namespace modkit::loader

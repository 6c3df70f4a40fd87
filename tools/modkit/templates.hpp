// templates.hpp - the files `modkit new` writes: a module project that builds against an
// installed modkit and passes `modkit check` as generated.
#pragma once

#include <string>
#include <vector>

namespace modkit::cli {

struct ProjectFile {
   std::string path; // relative to the project directory
   std::string text;
};

// name is a C identifier; lang is "c" or "cpp".
std::vector<ProjectFile> project_files(const std::string &name, const std::string &lang);

// "my_filter" -> "MyFilter": the C++ template's class name.
std::string class_name_for(const std::string &name);

} // namespace modkit::cli

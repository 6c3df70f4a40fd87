// abi_dump_main.cpp - prints the ABI description of the headers it is compiled against. The
// ABI break test (abi_breaks.cmake) builds it, with tools/modkit/abi_table.cpp, against modified
// copies of the headers, to get the description a broken ABI would have.
#include "abi_table.hpp"
#include "abi_text.hpp"

#include <cstdio>

int main() {
   const std::string text = modkit::cli::abi_to_text(modkit::cli::current_abi_model());
   return std::fwrite(text.data(), 1, text.size(), stdout) == text.size() ? 0 : 1;
}

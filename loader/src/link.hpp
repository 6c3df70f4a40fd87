// link.hpp - dlopen the checked file, prove it is the same file, and fetch its descriptor.
#pragma once

#include "trust.hpp"

#include <modkit/module.h>

#include <string>
#include <vector>

namespace modkit::loader {

struct Linked {
   void *handle = nullptr;
   const modkit_module *desc = nullptr;
   std::string name; // what dlopen was given (the path, or another spelling of it)
};

// The IDs of this process's threads, from /proc/self/task.
std::vector<pid_t> process_threads();

// True while the dynamic linker still has an object loaded under this name.
bool still_mapped(const std::string &name);

// dlopen(path, RTLD_NOW | RTLD_LOCAL), then checks that the object the dynamic linker mapped
// has the device and inode of the descriptor that was checked (refusing a file swapped in
// between), resolves modkit_module_entry, calls it and validates the descriptor it returns.
// Loading by path rather than by /proc/self/fd/N keeps the real file name in the link map,
// which gdb and sanitizer symbolizers read (docs/abi.md, "Loading the checked file").
bool link_module(const std::string &path, const TrustedFile &file, Linked &out,
                 modkit_status &code, std::string &error);

// The (device, inode) of the file mapped at address, asked of /proc/self/maps with one
// PROCMAP_QUERY ioctl, or read from its text where the kernel is older than 6.11.
bool mapped_file_identity(const void *address, dev_t &dev, ino_t &ino);

// The text path alone, reading from maps_fd (an open /proc/self/maps at offset 0).
bool mapped_file_identity_from_text(int maps_fd, const void *address, dev_t &dev, ino_t &ino);

} // namespace modkit::loader

// read_section.hpp - the loader's own read sections, for the paths it dispatches itself.
#pragma once

#include "registry.hpp"

#include <modkit/loader.h>

namespace modkit::loader {

// A read section for the calling thread, ended on scope exit.
class ReadSection {
public:
   explicit ReadSection(modkit_loader_reader *reader)
      : reader_(reader), snapshot_(static_cast<const Snapshot *>(modkit_loader_read_begin(reader))) {}
   ~ReadSection() { modkit_loader_read_end(reader_); }
   ReadSection(const ReadSection &) = delete;
   ReadSection &operator=(const ReadSection &) = delete;
   const Snapshot &snapshot() const { return *snapshot_; }

private:
   modkit_loader_reader *reader_;
   const Snapshot *snapshot_;
};

// The index of the module with this descriptor name in snapshot, or -1.
inline long module_index(const Snapshot &snapshot, const char *name) {
   for (size_t i = 0; name && i < snapshot.module_names.size(); ++i) {
      if (snapshot.module_names[i] == name) return static_cast<long>(i);
   }
   return -1;
}

} // namespace modkit::loader

// ELF notes, for the modkit manifest. From PT_NOTE segments, which survive strip; from SHT_NOTE
// sections only when a file has no PT_NOTE (a relocatable object).
#include "elf/elf_image.hpp"

#include <modkit/manifest.h>

#include <elf.h>

namespace modkit::elf::detail {
namespace {

std::string without_trailing_nuls(std::string text) {
   while (!text.empty() && text.back() == '\0') text.pop_back();
   return text;
}

uint64_t round_up(uint64_t value, uint64_t align) { return (value + align - 1) & ~(align - 1); }

// Walks the notes in [offset, offset + size); the caller has checked that range is in the file.
// GNU tools lay notes out on 8 bytes in 8-aligned areas and on 4 bytes otherwise. Positions are
// relative to the area's start, which the linker aligned.
void read_note_area(const Image &image, uint64_t offset, uint64_t size, uint64_t area_align,
                    const char *what, Facts &facts) {
   const Bytes &b = image.bytes;
   const uint64_t align = area_align == 8 ? 8 : 4;
   const uint64_t header = 12; // n_namesz, n_descsz, n_type
   uint64_t at = 0;
   while (at < size && size - at >= header) {
      const uint32_t namesz = b.u32(offset + at), descsz = b.u32(offset + at + 4);
      const uint32_t type = b.u32(offset + at + 8);
      const uint64_t name_at = at + header;
      // An owner name is mandatory; a zero namesz is where a validator once read out of bounds.
      if (namesz == 0) {
         fail("note without an owner", "n_namesz", "at least 1 (the owner name and its NUL)", "0");
      }
      if (namesz > size - name_at) {
         fail("note name runs past its " + std::string(what), "n_namesz",
              "at most " + std::to_string(size - name_at) + " bytes left in the " + what,
              std::to_string(namesz));
      }
      // Padding aligns positions, not sizes: an 8-aligned "GNU" note has its descriptor at 16.
      const uint64_t desc_at = round_up(name_at + namesz, align);
      if (descsz != 0 && (desc_at > size || descsz > size - desc_at)) {
         fail("note descriptor runs past its " + std::string(what), "n_descsz",
              "at most " + std::to_string(desc_at > size ? 0 : size - desc_at) +
                 " bytes left in the " + what,
              std::to_string(descsz));
      }
      const std::string owner = without_trailing_nuls(b.text(offset + name_at, namesz));
      if (owner == MODKIT_NOTE_OWNER) {
         ++facts.modkit_note_count;
         if (type == MODKIT_NOTE_TYPE_MANIFEST) {
            facts.manifests.push_back(descsz == 0
                                         ? std::string()
                                         : without_trailing_nuls(b.text(offset + desc_at, descsz)));
         }
      }
      at = round_up(desc_at + descsz, align);
   }
}

} // namespace

void read_notes(const Image &image, Facts &facts) {
   bool has_segment = false;
   for (const Segment &p : image.segments) {
      if (p.type != PT_NOTE) continue;
      has_segment = true;
      read_note_area(image, p.offset, p.filesz, p.align, "segment", facts);
   }
   if (has_segment) return;
   for (const Section &s : image.sections) {
      if (s.type == SHT_NOTE)
         read_note_area(image, s.offset, s.size, s.addralign, "section", facts);
   }
}

} // namespace modkit::elf::detail

/* loader_layout_c11.c - the loader's layout pins as C11 sees them (a C host's compiler may
 * lay structs out differently from a C++ one only through a header bug, e.g. a C++-only
 * member), and the sizes it sees, for loader_layout_tests.cpp to compare. */
#include <modkit/loader.h>

#include <stddef.h>

#define SIZE(type, size) _Static_assert(sizeof(type) == (size), #type " changed size")
#define GROWS(type, size) _Static_assert(sizeof(type) >= (size), #type " shrank")
#define PIN(type, field, off) _Static_assert(offsetof(type, field) == (off), #type "." #field " moved")

_Static_assert(sizeof(void *) == 8 && sizeof(size_t) == 8, "layout pins are for LP64 targets");
#include "loader_layout_pins.inc"

size_t modkit_loader_layout_c11_size(int which);
/* sizeof, in C, of the structs in the order of loader_layout_tests.cpp's list; 0 past its end. */
size_t modkit_loader_layout_c11_size(int which) {
   static const size_t sizes[] = {
      sizeof(modkit_loader_options), sizeof(modkit_loader_error), sizeof(modkit_loader_module),
      sizeof(modkit_loader_entry), sizeof(modkit_loader_slot), sizeof(modkit_loader_snapshot),
      sizeof(modkit_loader_reader), sizeof(modkit_loader_web_resource), sizeof(modkit_loader_cache),
      sizeof(modkit_call)};
   return which >= 0 && which < (int)(sizeof sizes / sizeof sizes[0]) ? sizes[which] : 0;
}

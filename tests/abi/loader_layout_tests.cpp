// loader_layout_tests.cpp - pins the ABI 1.0 layout of the structs a host compiles in from
// modkit/loader.h (loader_layout_pins.inc), so a change that would break 1.0 hosts fails the
// build; loader_layout_c11.c pins the same as C11, and the test below checks that both
// languages agree on every size, grown or not.
#include <modkit/loader.h>

#include <doctest/doctest.h>

#include <cstddef>

#define SIZE(type, size) static_assert(sizeof(type) == (size), #type " changed size")
#define GROWS(type, size) static_assert(sizeof(type) >= (size), #type " shrank")
#define PIN(type, field, off) static_assert(offsetof(type, field) == (off), #type "." #field " moved")

static_assert(sizeof(void *) == 8 && sizeof(size_t) == 8, "layout pins are for LP64 targets");
#include "loader_layout_pins.inc"

extern "C" size_t modkit_loader_layout_c11_size(int which);

TEST_CASE("C11 and C++17 hosts see the same loader struct sizes") {
   const size_t sizes[] = {sizeof(modkit_loader_options), sizeof(modkit_loader_error),
                           sizeof(modkit_loader_module), sizeof(modkit_loader_entry),
                           sizeof(modkit_loader_slot), sizeof(modkit_loader_snapshot),
                           sizeof(modkit_loader_reader), sizeof(modkit_loader_web_resource),
                           sizeof(modkit_loader_cache), sizeof(modkit_call)};
   int i = 0;
   for (size_t size : sizes) {
      INFO("struct " << i);
      CHECK(modkit_loader_layout_c11_size(i++) == size);
   }
   CHECK(modkit_loader_layout_c11_size(i) == 0);
}

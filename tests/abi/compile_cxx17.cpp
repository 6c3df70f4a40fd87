/* compile_cxx17.cpp - every ABI header, as a C++17 translation unit with -Wpedantic -Werror. */
#include <modkit/all.h>

/* Uses a little of everything so that nothing is only parsed. */
int modkit_abi_compile_check(void);
int modkit_abi_compile_check(void) {
   const modkit_category *c = modkit_spam_checker_category();
   modkit_str s = modkit_str_from_cstr("x");
   return (int)c->slot_count + (int)s.size + (modkit_abi_compatible(1, 0, 1, 0) ? 1 : 0) +
          (modkit_status_name(MODKIT_E_CONFIG)[0] == 'c' ? 1 : 0);
}

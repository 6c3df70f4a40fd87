// fuzz_signature.cpp - slot signatures over arbitrary text, parsed against a category with a
// struct type, then prepared for libffi when they parse: the invoker must refuse every
// malformed signature with an error and prepare every valid one.
#include "invoke/invoker.hpp"
#include "invoke/signature.hpp"

#include <modkit/categories/spam_checker.h>

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
   const std::string text(reinterpret_cast<const char *>(data), size);
   const modkit_category *spam = modkit_spam_checker_category();
   std::vector<modkit::invoke::Param> params;
   std::string error;
   if (!modkit::invoke::parse_signature(text, spam->types, spam->type_count, params, error)) return 0;
   // A one-slot category with this signature, so prepare builds a real call interface.
   modkit_slot_desc slot{"fuzzed", 8, 0, 0, text.c_str(), MODKIT_COMBINE_RUN_ALL, MODKIT_ON_ERROR_FAIL_OPEN,
                         nullptr, -1, 0};
   modkit_category category = *spam;
   category.callbacks_size = 16;
   category.slot_count = 1;
   category.slots = &slot;
   modkit::invoke::Invoker invoker;
   (void)modkit::invoke::Invoker::prepare(category, 0, invoker, error);
   return 0;
}

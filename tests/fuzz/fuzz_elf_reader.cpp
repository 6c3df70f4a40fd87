// fuzz_elf_reader.cpp - the ELF reader and both policies over arbitrary bytes: nothing may
// crash, hang or read outside the input. Seeds: tests/fuzz/corpus/elf plus built modules.
#include "elf/elf_facts.hpp"
#include "elf/elf_policy.hpp"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
   modkit::elf::Facts facts;
   modkit::elf::ParseError error;
   const modkit::elf::HostFacts host = modkit::elf::HostFacts::current();
   if (!modkit::elf::read_facts_memory(data, size, facts, error)) {
      // Partial facts after a failure are part of the contract too.
      (void)error.message();
      (void)modkit::elf::check_ident(facts, host);
      return 0;
   }
   for (const modkit::elf::Finding &finding : modkit::elf::check_structure(facts, host)) {
      (void)finding.message();
   }
   for (const modkit::elf::Finding &finding : modkit::elf::check_hygiene(facts)) {
      (void)finding.message();
   }
   return 0;
}

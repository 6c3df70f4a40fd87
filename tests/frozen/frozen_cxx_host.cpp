// frozen_cxx_host.cpp - a host as a 1.0 author wrote it in C++17 with modkit/loader.hpp and
// modkit/dispatch.hpp, compiled against the 1.0 headers only (abi/baseline/1.0/include) and
// linked against this build's libmodkit-loader.so. Same modules and config as frozen_c_host;
// exit status 0 when every check passes, 1 otherwise.
#include <modkit/categories/spam_checker.h>
#include <modkit/dispatch.hpp>
#include <modkit/loader.hpp>

#include <cstdio>
#include <exception>

namespace {

int failures = 0;

void expect(bool ok, const char *what) {
   if (!ok) {
      std::fprintf(stderr, "frozen_cxx_host: expected %s\n", what);
      ++failures;
   }
}

// check_event_for_spam through first_non_zero, as the 1.0 chat host dispatches it.
template <class Slot>
modkit::Outcome ask(const Slot &slot, const char *content_json, modkit_spam_result &answer) {
   modkit_event event{};
   event.struct_size = sizeof event;
   event.type = modkit_str_from_cstr("m.room.message");
   event.content_json = modkit_str_from_cstr(content_json);
   modkit_call call = modkit_call_make(modkit_str_from_cstr("frozen-cxx"));
   answer = MODKIT_NOT_SPAM;
   return modkit::first_non_zero(slot.raw(), answer, [&](const modkit_loader_entry &e, modkit_spam_result *out) {
      return Slot::fn(e)(e.user_data, &call, &event, out);
   });
}

} // namespace

int main(int argc, char **argv) {
   if (argc != 2) return 2;
   try {
      modkit::Loader::Options options;
      options.categories = {modkit_spam_checker_category()};
      options.log = [](modkit_log_level, const char *, std::string_view) {};
      modkit::Loader loader(std::move(options));
      loader.load_file(argv[1]);
      expect(loader.get() != nullptr && modkit_loader_module_count(loader.get()) == 2, "two modules");

      modkit_spam_result answer{};
      auto spam = loader.slot<&modkit_spam_checker_callbacks::check_event_for_spam>(MODKIT_SPAM_CHECKER_ID);
      const modkit::Outcome refused = ask(spam, "{\"body\":\"casino\"}", answer);
      expect(refused.kind == modkit::Outcome::Kind::decided && refused.module_index == 0 &&
                answer == MODKIT_SPAM_FORBIDDEN, "frozen_c to refuse a casino message through the slot table");

      const modkit::SlotRef ref =
         loader.slot_ref<&modkit_spam_checker_callbacks::check_event_for_spam>(MODKIT_SPAM_CHECKER_ID);
      {
         modkit::ReadGuard guard(loader.reader());
         const modkit::Outcome in_section =
            ask(guard.slot<&modkit_spam_checker_callbacks::check_event_for_spam>(ref), "{\"body\":\"hi\"}", answer);
         expect(in_section.kind == modkit::Outcome::Kind::no_opinion, "no opinion on a friendly message in a read section");
      }
      expect(loader.reader()->depth == 0, "the read section to have ended");

      loader.unload_module("frozen_cxx");
      expect(loader.slot(MODKIT_SPAM_CHECKER_ID, "check_username_for_spam").count == 0,
             "no username checker once frozen_cxx is unloaded");
      loader.reload_module("frozen_c");
      spam = loader.slot<&modkit_spam_checker_callbacks::check_event_for_spam>(MODKIT_SPAM_CHECKER_ID);
      expect(ask(spam, "{\"body\":\"casino\"}", answer).kind == modkit::Outcome::Kind::decided,
             "the reloaded frozen_c to refuse a casino message");
   } catch (const std::exception &e) {
      std::fprintf(stderr, "frozen_cxx_host: %s\n", e.what());
      return 1;
   }
   if (failures == 0) std::printf("frozen_cxx_host: every 1.0 check passed\n");
   return failures ? 1 : 0;
}

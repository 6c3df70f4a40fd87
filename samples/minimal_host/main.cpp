// modkit-minimal-host - the smallest useful host: load the modules a config names, then ask
// them about a few events through the registry and print who decided what.
#include <modkit/categories/spam_checker.h>
#include <modkit/loader.hpp>

#include <cstdio>
#include <string>

namespace {

struct Message {
   const char *sender;
   std::string body;
};

std::string decided_by(const modkit::Loader &loader, const modkit::Outcome &out) {
   if (out.module_index == UINT32_MAX) return "no module objected";
   return std::string("decided by ") + loader.module(out.module_index).name;
}

void check_message(const modkit::Loader &loader, const Message &m) {
   auto slot = loader.slot<&modkit_spam_checker_callbacks::check_event_for_spam>(MODKIT_SPAM_CHECKER_ID);
   const std::string content = "{\"msgtype\":\"m.text\",\"body\":\"" + m.body + "\"}";
   modkit_event event{};
   event.struct_size = sizeof event;
   event.event_id = modkit_str_from_cstr("$demo");
   event.room_id = modkit_str_from_cstr("!lobby:example.org");
   event.sender = modkit_str_from_cstr(m.sender);
   event.type = modkit_str_from_cstr("m.room.message");
   event.content_json = {content.data(), content.size()};
   modkit_call call = modkit_call_make(modkit_str_from_cstr("demo-request"));
   modkit_spam_result result = MODKIT_NOT_SPAM;
   const modkit::Outcome out = modkit::first_non_zero(
      slot.raw(), result,
      [&](const modkit_loader_entry &e, modkit_spam_result *r) { return slot.fn(e)(e.user_data, &call, &event, r); },
      MODKIT_SPAM_FORBIDDEN, loader.observer());
   const std::string shown = m.body.size() > 40 ? m.body.substr(0, 37) + "..." : m.body;
   if (out.kind == modkit::Outcome::Kind::error)
      std::printf("  message from %-22s \"%s\" -> request fails (%s), %s\n", m.sender, shown.c_str(),
                  modkit_status_name(out.status), decided_by(loader, out).c_str());
   else if (result != MODKIT_NOT_SPAM)
      std::printf("  message from %-22s \"%s\" -> refused %s, %s\n", m.sender, shown.c_str(),
                  modkit_spam_result_errcode(result), decided_by(loader, out).c_str());
   else
      std::printf("  message from %-22s \"%s\" -> accepted, %s\n", m.sender, shown.c_str(),
                  decided_by(loader, out).c_str());
}

void check_profile(const modkit::Loader &loader, const char *user, const char *display_name) {
   auto slot = loader.slot<&modkit_spam_checker_callbacks::check_username_for_spam>(MODKIT_SPAM_CHECKER_ID);
   modkit_user_profile profile{};
   profile.struct_size = sizeof profile;
   profile.user_id = modkit_str_from_cstr(user);
   profile.display_name = modkit_str_from_cstr(display_name);
   modkit_call call = modkit_call_make(modkit_str_from_cstr("demo-request"));
   bool hidden = false;
   const modkit::Outcome out = modkit::first_non_zero(
      slot.raw(), hidden,
      [&](const modkit_loader_entry &e, bool *r) {
         return slot.fn(e)(e.user_data, &call, &profile, modkit_str_from_cstr("@alice:example.org"), r);
      },
      false, loader.observer());
   std::printf("  directory entry %-19s \"%s\" -> %s, %s\n", user, display_name, hidden ? "hidden" : "shown",
               decided_by(loader, out).c_str());
}

} // namespace

int main(int argc, char **argv) {
   if (argc != 2) {
      std::fprintf(stderr, "usage: %s HOST_CONFIG.json\n", argv[0]);
      return 2;
   }
   try {
      modkit::Loader::Options options;
      options.categories = {modkit_spam_checker_category()};
      options.log = [](modkit_log_level, const char *module, std::string_view line) {
         std::printf("  [%s] %.*s\n", module ? module : "loader", static_cast<int>(line.size()), line.data());
      };
      modkit::Loader loader(options);
      std::printf("loading %s\n", argv[1]);
      loader.load_file(argv[1]);
      for (size_t i = 0; i < loader.module_count(); ++i) {
         const auto &m = loader.module(i);
         std::printf("module %zu: %s %s - %s\n         config %s\n", i, m.name, m.version, m.description,
                     m.config_json);
      }
      std::printf("dispatching:\n");
      check_message(loader, {"@alice:example.org", "hello everyone, lunch at noon?"});
      check_message(loader, {"@mallory:example.org", "BUY NOW: cheap watches"});
      check_message(loader, {"@mallory:example.org", "you won the lottery"});
      check_message(loader, {"@mallory:example.org", "visit my casino"});
      check_message(loader, {"@bob:example.org", std::string(5000, 'a')});
      check_profile(loader, "@carol:example.org", "Carol");
      check_profile(loader, "@mallory:example.org", "Casino Mallory");
      std::printf("unloading\n");
   } catch (const modkit::LoadError &e) {
      std::fprintf(stderr, "modkit-minimal-host: could not load the modules:\n%s\n", e.what());
      return 1;
   } catch (const std::exception &e) {
      std::fprintf(stderr, "modkit-minimal-host: %s\n", e.what());
      return 1;
   }
   return 0;
}

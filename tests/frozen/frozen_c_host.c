/* frozen_c_host.c - a host as a 1.0 author wrote it in C11, compiled against the 1.0 headers
 * only (abi/baseline/1.0/include) and linked against this build's libmodkit-loader.so. It goes
 * through every way 1.0 offered to reach a module (the slot table, a read section with the
 * header's inline functions, dispatch_json with a 1.0 call handle), and through unload,
 * reload and load errors, with the 1.0 struct sizes; any mismatch fails it.
 * Usage: frozen_c_host HOST_CONFIG.json (frozen_c with word "casino", then frozen_cxx with
 * word "bot"). Exit status 0 when every check passes, 1 otherwise. */
#include <modkit/categories/spam_checker.h>
#include <modkit/loader.h>

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

static int failures;

#define EXPECT(cond)                                                              \
   do {                                                                           \
      if (!(cond)) {                                                              \
         fprintf(stderr, "frozen_c_host.c:%d: expected %s\n", __LINE__, #cond); \
         ++failures;                                                              \
      }                                                                           \
   } while (0)

typedef modkit_status (*check_event_fn)(void *, modkit_call *, const modkit_event *, modkit_spam_result *);
typedef modkit_status (*check_username_fn)(void *, modkit_call *, const modkit_user_profile *, modkit_str, bool *);

static modkit_event message(const char *content_json) {
   modkit_event event = {0};
   event.struct_size = sizeof event;
   event.event_id = modkit_str_from_cstr("$1");
   event.room_id = modkit_str_from_cstr("!room:example.org");
   event.sender = modkit_str_from_cstr("@mallory:example.org");
   event.type = modkit_str_from_cstr("m.room.message");
   event.content_json = modkit_str_from_cstr(content_json);
   return event;
}

/* The answer of a slot's only registrant to check_event_for_spam, through its function pointer
 * cast to the 1.0 header's member type. */
static modkit_spam_result ask_event(const modkit_loader_slot *slot, const char *content_json) {
   modkit_spam_checker_callbacks cb = {0};
   modkit_event event = message(content_json);
   modkit_call call = modkit_call_make(modkit_str_from_cstr("frozen-typed"));
   modkit_spam_result result = MODKIT_NOT_SPAM;
   EXPECT(slot != NULL && slot->count == 1);
   if (slot == NULL || slot->count != 1) return -1;
   cb.check_event_for_spam = (check_event_fn)slot->entries[0].fn;
   EXPECT(cb.check_event_for_spam(slot->entries[0].user_data, &call, &event, &result) == MODKIT_OK);
   return result;
}

static bool ask_username(const modkit_loader_slot *slot, const char *display_name) {
   modkit_spam_checker_callbacks cb = {0};
   modkit_user_profile profile = {0};
   modkit_call call = modkit_call_make(modkit_str_from_cstr("frozen-typed"));
   bool hidden = false;
   EXPECT(slot != NULL && slot->count == 1);
   if (slot == NULL || slot->count != 1) return false;
   profile.struct_size = sizeof profile;
   profile.user_id = modkit_str_from_cstr("@someone:example.org");
   profile.display_name = modkit_str_from_cstr(display_name);
   cb.check_username_for_spam = (check_username_fn)slot->entries[0].fn;
   EXPECT(cb.check_username_for_spam(slot->entries[0].user_data, &call, &profile, modkit_str_from_cstr("@a:x"),
                                     &hidden) == MODKIT_OK);
   return hidden;
}

static void check_modules(const modkit_loader *loader) {
   EXPECT(modkit_loader_module_count(loader) == 2);
   for (size_t i = 0; i < 2; ++i) {
      const modkit_loader_module *m = modkit_loader_module_at(loader, i);
      EXPECT(m != NULL && m->struct_size >= sizeof *m && m->position == i);
      if (m) EXPECT(strcmp(m->name, i == 0 ? "frozen_c" : "frozen_cxx") == 0 && strcmp(m->version, "1.0.0") == 0);
   }
   EXPECT(modkit_loader_module_at(loader, 2) == NULL);
}

/* The registry through its slot table. */
static void check_slots(const modkit_loader *loader) {
   const modkit_loader_slot *slot = NULL;
   EXPECT(modkit_loader_slot_at(loader, MODKIT_SPAM_CHECKER_ID, MODKIT_SPAM_CHECKER_CHECK_EVENT_FOR_SPAM, &slot) ==
          MODKIT_OK);
   EXPECT(ask_event(slot, "{\"body\":\"visit my casino\"}") == MODKIT_SPAM_FORBIDDEN);
   EXPECT(ask_event(slot, "{\"body\":\"lunch at noon?\"}") == MODKIT_NOT_SPAM);
   EXPECT(slot != NULL && slot->entries[0].module_index == 0 && strcmp(slot->desc->name, "check_event_for_spam") == 0);
   slot = NULL;
   EXPECT(modkit_loader_find_slot(loader, MODKIT_SPAM_CHECKER_ID, "check_username_for_spam", &slot) == MODKIT_OK);
   EXPECT(ask_username(slot, "Friendly bot") && !ask_username(slot, "Carol"));
   EXPECT(slot != NULL && slot->entries[0].module_index == 1);
   EXPECT(modkit_loader_find_slot(loader, MODKIT_SPAM_CHECKER_ID, "no_such_slot", &slot) == MODKIT_E_NOT_FOUND);
}

/* The registry inside a read section, with the 1.0 header's inline functions. */
static void check_read_section(modkit_loader *loader, uint32_t username_registrants) {
   modkit_loader_reader *reader = modkit_loader_reader_get(loader);
   const int32_t category = modkit_loader_category_index(loader, MODKIT_SPAM_CHECKER_ID);
   EXPECT(reader != NULL && reader->struct_size >= sizeof *reader && category == 0);
   if (reader == NULL || category != 0) return;
   const modkit_loader_snapshot *snap = modkit_loader_read_begin(reader);
   EXPECT(snap->struct_size >= sizeof *snap && snap->category_count == 1);
   EXPECT(ask_event(modkit_loader_snapshot_slot(snap, 0, MODKIT_SPAM_CHECKER_CHECK_EVENT_FOR_SPAM),
                    "{\"body\":\"casino night\"}") == MODKIT_SPAM_FORBIDDEN);
   const modkit_loader_slot *names = modkit_loader_snapshot_slot(snap, 0, MODKIT_SPAM_CHECKER_CHECK_USERNAME_FOR_SPAM);
   EXPECT(names != NULL && names->count == username_registrants);
   EXPECT(modkit_loader_snapshot_slot(snap, 0, MODKIT_SPAM_CHECKER_SLOT_COUNT) == NULL);
   modkit_loader_read_end(reader);
   EXPECT(reader->depth == 0);
}

/* The dynamic path, with a 1.0 call handle: the result must hold every member in expected
 * (NULL-terminated), in any order. */
static void check_dispatch_json(modkit_loader *loader, const char *body, const char *const *expected) {
   char args[256];
   modkit_buffer *result = modkit_loader_buffer_create();
   modkit_call call = modkit_call_make(modkit_str_from_cstr("frozen-dynamic"));
   snprintf(args, sizeof args,
            "{\"event\":{\"event_id\":\"$1\",\"room_id\":\"!r:x\",\"sender\":\"@m:x\",\"type\":\"m.room.message\","
            "\"content_json\":{\"body\":\"%s\"}}}", body);
   EXPECT(result != NULL);
   if (!result) return;
   const modkit_status status = modkit_loader_dispatch_json(loader, MODKIT_SPAM_CHECKER_ID, "check_event_for_spam",
                                                            args, strlen(args), &call, result);
   const modkit_str doc = modkit_loader_buffer_data(result);
   char text[1024];
   snprintf(text, sizeof text, "%.*s", (int)doc.size, doc.data);
   EXPECT(status == MODKIT_OK);
   for (; *expected; ++expected) {
      if (strstr(text, *expected) == NULL) {
         fprintf(stderr, "frozen_c_host: dispatch_json of \"%s\" gave %s, without %s\n", body, text, *expected);
         ++failures;
      }
   }
   modkit_loader_buffer_destroy(result);
}

/* A failed load reports its errors as 1.0 modkit_loader_error structs. */
static void check_errors(const modkit_loader_options *options) {
   static const char config[] = "{\"modules\": [{\"module\": \"/nonexistent/frozen_missing.so\"}]}";
   modkit_loader *loader = NULL;
   EXPECT(modkit_loader_create(options, &loader) == MODKIT_OK);
   if (!loader) return;
   EXPECT(modkit_loader_load(loader, config, strlen(config)) != MODKIT_OK);
   const modkit_loader_error *e = modkit_loader_error_at(loader, 0);
   EXPECT(modkit_loader_error_count(loader) >= 1 && e != NULL);
   if (e) EXPECT(e->struct_size >= sizeof *e && e->code != MODKIT_OK && strcmp(e->module, "/nonexistent/frozen_missing.so") == 0 && e->text[0] != '\0');
   modkit_loader_destroy(loader);
}

static void quiet(void *user_data, modkit_log_level level, const char *module, modkit_str text) {
   (void)user_data, (void)level, (void)module, (void)text;
}

int main(int argc, char **argv) {
   if (argc != 2) {
      fprintf(stderr, "usage: frozen_c_host HOST_CONFIG.json\n");
      return 2;
   }
   /* A 1.0 host binary names libmodkit-loader.so.1; a SONAME bump would leave it unresolved. */
   void *self = dlopen("libmodkit-loader.so.1", RTLD_LAZY | RTLD_NOLOAD);
   EXPECT(self != NULL);
   if (self) dlclose(self);
   const modkit_category *categories[] = {modkit_spam_checker_category()};
   modkit_loader_options options = {0};
   options.struct_size = sizeof options; /* the 1.0 size */
   options.categories = categories;
   options.category_count = 1;
   options.log = quiet;
   modkit_loader *loader = NULL;
   if (modkit_loader_create(&options, &loader) != MODKIT_OK) {
      fprintf(stderr, "frozen_c_host: modkit_loader_create refused 1.0 options: %s\n", modkit_loader_create_error());
      return 1;
   }
   if (modkit_loader_load_file(loader, argv[1]) != MODKIT_OK) {
      for (size_t i = 0; i < modkit_loader_error_count(loader); ++i)
         fprintf(stderr, "frozen_c_host: %s\n", modkit_loader_error_at(loader, i)->text);
      modkit_loader_destroy(loader);
      return 1;
   }
   check_modules(loader);
   check_slots(loader);
   check_read_section(loader, 1);
   static const char *const refused[] = {"\"outcome\":\"decided\"", "\"status\":\"ok\"", "\"module\":\"frozen_c\"",
                                         "\"answer\":{\"result\":1}", NULL};
   static const char *const no_opinion[] = {"\"outcome\":\"no_opinion\"", "\"module\":null", NULL};
   check_dispatch_json(loader, "casino tonight", refused);
   check_dispatch_json(loader, "hello", no_opinion);

   /* One module out, then the other swapped for a fresh instance of itself. */
   EXPECT(modkit_loader_unload_module(loader, "frozen_cxx") == MODKIT_OK);
   EXPECT(modkit_loader_module_count(loader) == 1);
   check_read_section(loader, 0);
   EXPECT(modkit_loader_reload_module(loader, "frozen_c") == MODKIT_OK);
   check_read_section(loader, 0);
   check_dispatch_json(loader, "casino again", refused);
   modkit_loader_destroy(loader);

   check_errors(&options);
   if (failures) fprintf(stderr, "frozen_c_host: %d check(s) failed\n", failures);
   else printf("frozen_c_host: every 1.0 check passed\n");
   return failures ? 1 : 0;
}

/* spam_host: a minimal C host for the consumer tests, built against an installed modkit.
 *
 *   spam_host MODULE_DIR MODULE CONFIG_JSON BODY EXPECTED
 *      loads MODULE (a bare name looked up in MODULE_DIR) with CONFIG_JSON, sends an
 *      m.room.message with BODY to check_event_for_spam and exits 0 when the combined answer
 *      equals EXPECTED (a modkit_spam_result number).
 *   spam_host --config-error POINTER MODULE_DIR MODULE CONFIG_JSON
 *      expects the load to fail with a config error at POINTER (a JSON pointer into the host
 *      config, e.g. /modules/0/config/ttl).
 */
#include <modkit/categories/spam_checker.h>
#include <modkit/loader.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int load(modkit_loader **loader, const char *dir, const char *module, const char *config) {
   static const modkit_category *categories[1];
   modkit_loader_options options;
   char text[4096];
   int n;
   categories[0] = modkit_spam_checker_category();
   memset(&options, 0, sizeof options);
   options.struct_size = sizeof options;
   options.categories = categories;
   options.category_count = 1;
   if (modkit_loader_create(&options, loader) != MODKIT_OK) {
      fprintf(stderr, "spam_host: modkit_loader_create failed\n");
      return -1;
   }
   n = snprintf(text, sizeof text, "{\"module_path\": [\"%s\"], \"modules\": [{\"module\": \"%s\", \"config\": %s}]}",
                dir, module, config);
   if (n < 0 || (size_t)n >= sizeof text) return -1;
   return modkit_loader_load(*loader, text, (size_t)n) == MODKIT_OK ? 0 : 1;
}

static void print_errors(const modkit_loader *loader) {
   size_t i;
   for (i = 0; i < modkit_loader_error_count(loader); ++i)
      fprintf(stderr, "spam_host: %s\n", modkit_loader_error_at(loader, i)->text);
}

static int expect_config_error(const char *pointer, const char *dir, const char *module, const char *config) {
   modkit_loader *loader = NULL;
   size_t i;
   int found = 0;
   if (load(&loader, dir, module, config) != 1) {
      fprintf(stderr, "spam_host: the load did not fail as expected\n");
      modkit_loader_destroy(loader);
      return 1;
   }
   for (i = 0; i < modkit_loader_error_count(loader); ++i) {
      const modkit_loader_error *e = modkit_loader_error_at(loader, i);
      printf("spam_host: refused: %s\n", e->text);
      if (e->code == MODKIT_E_CONFIG && strcmp(e->pointer, pointer) == 0) found = 1;
   }
   modkit_loader_destroy(loader);
   if (!found) fprintf(stderr, "spam_host: no config error at %s\n", pointer);
   return found ? 0 : 1;
}

static int check_body(const char *dir, const char *module, const char *config, const char *body, int expected) {
   modkit_loader *loader = NULL;
   const modkit_loader_slot *slot = NULL;
   const modkit_loader_module *info;
   modkit_event event;
   modkit_call call = modkit_call_make(modkit_str_from_cstr("consumer-test"));
   char content[1024];
   modkit_spam_result answer = MODKIT_NOT_SPAM;
   size_t i;
   int n;

   if (load(&loader, dir, module, config) != 0) {
      print_errors(loader);
      modkit_loader_destroy(loader);
      return 1;
   }
   info = modkit_loader_module_at(loader, 0);
   printf("spam_host: loaded %s %s from %s\n", info->name, info->version, info->path);

   if (modkit_loader_slot_at(loader, MODKIT_SPAM_CHECKER_ID, MODKIT_SPAM_CHECKER_CHECK_EVENT_FOR_SPAM, &slot) != MODKIT_OK ||
       slot->count == 0) {
      fprintf(stderr, "spam_host: the module registered no check_event_for_spam\n");
      modkit_loader_destroy(loader);
      return 1;
   }
   n = snprintf(content, sizeof content, "{\"body\": \"%s\"}", body);
   memset(&event, 0, sizeof event);
   event.struct_size = sizeof event;
   event.event_id = modkit_str_from_cstr("$event");
   event.room_id = modkit_str_from_cstr("!room:example.org");
   event.sender = modkit_str_from_cstr("@user:example.org");
   event.type = modkit_str_from_cstr("m.room.message");
   event.content_json.data = content;
   event.content_json.size = (size_t)n;

   /* The category's rule: the first answer other than MODKIT_NOT_SPAM wins. */
   for (i = 0; i < slot->count && answer == MODKIT_NOT_SPAM; ++i) {
      const modkit_loader_entry *entry = &slot->entries[i];
      modkit_status (*fn)(void *, modkit_call *, const modkit_event *, modkit_spam_result *);
      modkit_status status;
      memcpy(&fn, &entry->fn, sizeof fn);
      status = fn(entry->user_data, &call, &event, &answer);
      if (status != MODKIT_OK) {
         fprintf(stderr, "spam_host: check_event_for_spam failed: %s\n", modkit_status_name(status));
         modkit_loader_destroy(loader);
         return 1;
      }
   }
   modkit_loader_destroy(loader);
   printf("spam_host: \"%s\" -> %d (expected %d)\n", body, (int)answer, expected);
   return answer == expected ? 0 : 1;
}

int main(int argc, char **argv) {
   if (argc == 6 && strcmp(argv[1], "--config-error") == 0)
      return expect_config_error(argv[2], argv[3], argv[4], argv[5]);
   if (argc == 6) return check_body(argv[1], argv[2], argv[3], argv[4], atoi(argv[5]));
   fprintf(stderr, "usage: spam_host MODULE_DIR MODULE CONFIG_JSON BODY EXPECTED\n"
                   "       spam_host --config-error POINTER MODULE_DIR MODULE CONFIG_JSON\n");
   return 2;
}

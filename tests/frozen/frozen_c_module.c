/* frozen_c_module.c - a spam checker in C as a 1.0 module author wrote it, compiled against
 * the 1.0 headers only (abi/baseline/1.0/include). Refuses any message whose content contains
 * its config's "word" (plain bytes, no JSON parsing: the host's test events are simple). It
 * reads each call's request ID through the host API and fails a call without one, so a loader
 * that stopped honouring 1.0-sized call handles fails the host's checks. */
#include <modkit/categories/spam_checker.h>
#include <modkit/modkit.h>

#include <stdlib.h>
#include <string.h>

typedef struct filter {
   const modkit_host_api *api;
   char word[64];
} filter;

/* The word is whatever string value the config's only member holds. */
static bool read_word(modkit_str config, char *word, size_t cap) {
   const char *end = config.data + config.size;
   const char *open = memchr(config.data, ':', config.size);
   open = open ? memchr(open, '"', (size_t)(end - open)) : NULL;
   const char *close = open ? memchr(open + 1, '"', (size_t)(end - open - 1)) : NULL;
   if (!close || (size_t)(close - open - 1) >= cap || close == open + 1) return false;
   memcpy(word, open + 1, (size_t)(close - open - 1));
   word[close - open - 1] = '\0';
   return true;
}

static modkit_status check_event_for_spam(void *user_data, modkit_call *call, const modkit_event *event,
                                          modkit_spam_result *result) {
   const filter *f = user_data;
   const size_t n = strlen(f->word);
   if (f->api->call_request_id(call).size == 0) return MODKIT_E_INVALID_ARGUMENT;
   for (size_t i = 0; i + n <= event->content_json.size; ++i) {
      if (memcmp(event->content_json.data + i, f->word, n) == 0) {
         *result = MODKIT_SPAM_FORBIDDEN;
         break;
      }
   }
   return MODKIT_OK;
}

static modkit_status init(const modkit_host_api *api, modkit_host *host, modkit_str config, void **instance,
                          modkit_error_sink *err) {
   filter *f = calloc(1, sizeof *f);
   if (!f) return MODKIT_E_NO_MEMORY;
   f->api = api;
   if (!read_word(config, f->word, sizeof f->word)) {
      free(f);
      api->report_error(err, MODKIT_E_CONFIG, "/word", "expected a word of 1 to 63 bytes");
      return MODKIT_E_CONFIG;
   }
   modkit_spam_checker_callbacks callbacks = {0};
   callbacks.struct_size = sizeof callbacks;
   callbacks.check_event_for_spam = check_event_for_spam;
   const modkit_status s = modkit_register_spam_checker_callbacks(api, host, &callbacks, f);
   if (s != MODKIT_OK) {
      free(f);
      return s;
   }
   *instance = f;
   return MODKIT_OK;
}

static void deinit(void *instance) { free(instance); }

static const modkit_module descriptor = {
   sizeof(modkit_module), MODKIT_ABI_VERSION_MAJOR, MODKIT_ABI_VERSION_MINOR, "frozen_c", "1.0.0",
   "A 1.0 spam checker in C", NULL, NULL, init, deinit,
};

MODKIT_DECLARE_MODULE(descriptor, "frozen_c", "1.0.0", "modkit.spam_checker");

/* A module in plain C, built with nothing but a C compiler and `pkg-config modkit`.
 * Config: {"word": "..."}; check_event_for_spam refuses a message whose content has the word. */
#include <modkit/categories/spam_checker.h>
#include <modkit/manifest.h>

#include <stdlib.h>
#include <string.h>

typedef struct filter {
   char word[64];
} filter;

/* Finds the value of "word" in a flat JSON object; a deliberately small reader for a test. */
static int read_word(modkit_str config, char *out, size_t cap) {
   const char *end = config.data + config.size;
   const char *p = config.data;
   size_t n = 0;
   while (p + 6 <= end && memcmp(p, "\"word\"", 6) != 0) ++p;
   if (p + 6 > end) return 0;
   p += 6;
   while (p < end && (*p == ' ' || *p == ':')) ++p;
   if (p >= end || *p != '"') return 0;
   ++p;
   while (p < end && *p != '"' && n + 1 < cap) out[n++] = *p++;
   out[n] = '\0';
   return p < end && *p == '"' && n > 0;
}

static modkit_status MODKIT_ABI check_event(void *user_data, modkit_call *call, const modkit_event *event,
                                            modkit_spam_result *result) {
   const filter *f = (const filter *)user_data;
   const size_t len = strlen(f->word);
   size_t i;
   (void)call;
   for (i = 0; i + len <= event->content_json.size; ++i) {
      if (memcmp(event->content_json.data + i, f->word, len) == 0) {
         *result = MODKIT_SPAM_FORBIDDEN;
         return MODKIT_OK;
      }
   }
   return MODKIT_OK;
}

static modkit_status MODKIT_ABI parse_config(const modkit_host_api *api, modkit_str config, modkit_buffer *out,
                                             modkit_error_sink *err) {
   char word[64];
   if (!read_word(config, word, sizeof word)) {
      api->report_error(err, MODKIT_E_CONFIG, "/word", "expected a non-empty string of at most 63 bytes");
      return MODKIT_E_CONFIG;
   }
   return api->buffer_append(out, config.data, config.size);
}

static modkit_status MODKIT_ABI init(const modkit_host_api *api, modkit_host *host, modkit_str config,
                                     void **instance, modkit_error_sink *err) {
   modkit_spam_checker_callbacks callbacks;
   modkit_status status;
   filter *f = (filter *)calloc(1, sizeof *f);
   if (!f) return MODKIT_E_NO_MEMORY;
   if (!read_word(config, f->word, sizeof f->word)) {
      free(f);
      api->report_error(err, MODKIT_E_CONFIG, "/word", "expected a non-empty string");
      return MODKIT_E_CONFIG;
   }
   memset(&callbacks, 0, sizeof callbacks);
   callbacks.struct_size = sizeof callbacks;
   callbacks.check_event_for_spam = check_event;
   status = modkit_register_spam_checker_callbacks(api, host, &callbacks, f);
   if (status != MODKIT_OK) {
      free(f);
      api->report_error(err, status, "", "could not register the spam checker callbacks");
      return status;
   }
   *instance = f;
   return MODKIT_OK;
}

static void MODKIT_ABI deinit(void *instance) { free(instance); }

static const modkit_module descriptor = {
   sizeof(modkit_module), MODKIT_ABI_VERSION_MAJOR, MODKIT_ABI_VERSION_MINOR,
   "c_word_filter", "0.1.0", "A C module built with pkg-config", NULL,
   parse_config, init, deinit,
};

MODKIT_DECLARE_MODULE(descriptor, "c_word_filter", "0.1.0", "modkit.spam_checker");

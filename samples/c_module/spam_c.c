/* spam_c.c - a spam checker written in plain C against the modkit ABI only.
 *
 * Config: {"blocked_words": ["buy now", ...], "max_length": 2000}
 * Refuses messages that contain a blocked word (M_FORBIDDEN) or are longer than max_length
 * bytes (M_TOO_LARGE; at most 4095), hides users whose display name contains a blocked word
 * from the user directory, and refuses room aliases with one. Words match ignoring case. */
#include "json_scan.h"

#include <modkit/categories/spam_checker.h>
#include <modkit/modkit.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_WORDS = 32, MAX_WORD = 64 };

typedef struct spam_filter {
   const modkit_host_api *api;
   modkit_host *host;
   char words[MAX_WORDS][MAX_WORD];
   size_t word_count;
   int64_t max_length;
} spam_filter;

static const char schema[] =
   "{\"type\": \"object\", \"additionalProperties\": false,"
   " \"required\": [\"blocked_words\"],"
   " \"properties\": {"
   "   \"blocked_words\": {\"type\": \"array\", \"maxItems\": 32,"
   "                     \"items\": {\"type\": \"string\", \"minLength\": 1, \"maxLength\": 63}},"
   "   \"max_length\": {\"type\": \"integer\", \"minimum\": 1, \"maximum\": 4095}}}";

static char lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c; }

/* Case-insensitive search for word in text[0..size). */
static bool contains_word(const char *text, size_t size, const char *word) {
   const size_t n = strlen(word);
   for (size_t i = 0; n > 0 && i + n <= size; ++i) {
      size_t j = 0;
      while (j < n && lower(text[i + j]) == word[j]) ++j;
      if (j == n) return true;
   }
   return false;
}

static const char *blocked_word_in(const spam_filter *f, const char *text, size_t size) {
   for (size_t i = 0; i < f->word_count; ++i) {
      if (contains_word(text, size, f->words[i])) return f->words[i];
   }
   return NULL;
}

/* Reads "blocked_words" and "max_length" from config JSON into f; reports problems through err
 * when api and err are given. Returns the number of problems. */
static int read_config(const modkit_host_api *api, modkit_error_sink *err, modkit_str config, spam_filter *f) {
   int problems = 0;
   char pointer[64];
   json_scan v;
   f->word_count = 0;
   f->max_length = 4095;
   if (json_find_key(config.data, config.size, "max_length", &v) && !json_read_int(&v, &f->max_length)) {
      if (api) api->report_error(err, MODKIT_E_CONFIG, "/max_length", "expected an integer");
      ++problems;
   }
   if (!json_find_key(config.data, config.size, "blocked_words", &v) || !json_expect(&v, '[')) {
      if (api) api->report_error(err, MODKIT_E_CONFIG, "/blocked_words", "expected an array of words");
      return problems + 1;
   }
   if (json_peek(&v) == ']') return problems;
   for (size_t i = 0;; ++i) {
      char word[MAX_WORD];
      snprintf(pointer, sizeof pointer, "/blocked_words/%zu", i);
      if (i >= MAX_WORDS || !json_read_string(&v, word, sizeof word)) {
         if (api) api->report_error(err, MODKIT_E_CONFIG, pointer, "expected a word of at most 63 bytes");
         return problems + 1;
      }
      for (char *c = word; *c; ++c) *c = lower(*c);
      /* The schema cannot say "no duplicates, ignoring case"; this check can. */
      for (size_t j = 0; j < f->word_count; ++j) {
         if (strcmp(f->words[j], word) == 0) {
            char message[160];
            snprintf(message, sizeof message, "expected each word once, got \"%s\" again (first at /blocked_words/%zu)",
                     word, j);
            if (api) api->report_error(err, MODKIT_E_CONFIG, pointer, message);
            ++problems;
         }
      }
      memcpy(f->words[f->word_count++], word, sizeof word);
      if (json_expect(&v, ',')) continue;
      if (json_expect(&v, ']')) return problems;
      if (api) api->report_error(err, MODKIT_E_CONFIG, "/blocked_words", "expected ',' or ']'");
      return problems + 1;
   }
}

static modkit_status append(const modkit_host_api *api, modkit_buffer *out, const char *text) {
   return api->buffer_append(out, text, strlen(text));
}

/* Normalises the config: words lower-cased, max_length filled in. */
static modkit_status parse_config(const modkit_host_api *api, modkit_str config, modkit_buffer *out,
                                  modkit_error_sink *err) {
   spam_filter f;
   if (read_config(api, err, config, &f) > 0) return MODKIT_E_CONFIG;
   modkit_status s = append(api, out, "{\"blocked_words\":[");
   for (size_t i = 0; s == MODKIT_OK && i < f.word_count; ++i) {
      s = append(api, out, i ? ",\"" : "\"");
      for (const char *c = f.words[i]; s == MODKIT_OK && *c; ++c) {
         char esc[8];
         if (*c == '"' || *c == '\\') snprintf(esc, sizeof esc, "\\%c", *c);
         else if ((unsigned char)*c < 0x20) snprintf(esc, sizeof esc, "\\u%04x", (unsigned)*c);
         else snprintf(esc, sizeof esc, "%c", *c);
         s = append(api, out, esc);
      }
      if (s == MODKIT_OK) s = append(api, out, "\"");
   }
   char tail[64];
   snprintf(tail, sizeof tail, "],\"max_length\":%lld}", (long long)f.max_length);
   return s == MODKIT_OK ? append(api, out, tail) : s;
}

static void log_line(const spam_filter *f, modkit_log_level level, const char *text) {
   f->api->log(f->host, level, modkit_str_from_cstr(text));
}

static modkit_status check_event_for_spam(void *user_data, modkit_call *call, const modkit_event *event,
                                          modkit_spam_result *result) {
   const spam_filter *f = user_data;
   (void)call;
   json_scan body;
   char text[4096];
   if (!json_find_key(event->content_json.data, event->content_json.size, "body", &body)) return MODKIT_OK;
   if (json_peek(&body) != '"') return MODKIT_OK; /* not a text message */
   /* max_length is at most sizeof text - 1 (the schema says so), so a body that does not fit
    * is too long either way. */
   if (!json_read_string(&body, text, sizeof text) || (int64_t)strlen(text) > f->max_length) {
      *result = MODKIT_SPAM_TOO_LARGE;
      return MODKIT_OK;
   }
   const char *word = blocked_word_in(f, text, strlen(text));
   if (word) {
      /* Both parts capped, so the line always fits (and the compiler can see it does). */
      char line[256];
      const int sender_len = event->sender.size < 100 ? (int)event->sender.size : 100;
      snprintf(line, sizeof line, "refused a message from %.*s: it contains \"%.100s\"", sender_len,
               event->sender.data, word);
      log_line(f, MODKIT_LOG_INFO, line);
      *result = MODKIT_SPAM_FORBIDDEN;
   }
   return MODKIT_OK;
}

static modkit_status check_username_for_spam(void *user_data, modkit_call *call, const modkit_user_profile *profile,
                                             modkit_str requester_id, bool *is_spam) {
   const spam_filter *f = user_data;
   (void)call, (void)requester_id;
   if (profile->display_name.data)
      *is_spam = blocked_word_in(f, profile->display_name.data, profile->display_name.size) != NULL;
   return MODKIT_OK;
}

static modkit_status user_may_create_room_alias(void *user_data, modkit_call *call, modkit_str user_id,
                                                modkit_str room_alias, modkit_spam_result *result) {
   const spam_filter *f = user_data;
   (void)call, (void)user_id;
   if (blocked_word_in(f, room_alias.data, room_alias.size)) *result = MODKIT_SPAM_FORBIDDEN;
   return MODKIT_OK;
}

static modkit_status init(const modkit_host_api *api, modkit_host *host, modkit_str config, void **instance,
                          modkit_error_sink *err) {
   spam_filter *f = calloc(1, sizeof *f);
   if (!f) return MODKIT_E_NO_MEMORY;
   f->api = api;
   f->host = host;
   if (read_config(api, err, config, f) > 0) {
      free(f);
      return MODKIT_E_CONFIG;
   }
   modkit_spam_checker_callbacks callbacks = {0};
   callbacks.struct_size = sizeof callbacks;
   callbacks.check_event_for_spam = check_event_for_spam;
   callbacks.check_username_for_spam = check_username_for_spam;
   callbacks.user_may_create_room_alias = user_may_create_room_alias;
   const modkit_status s = modkit_register_spam_checker_callbacks(api, host, &callbacks, f);
   if (s != MODKIT_OK) {
      free(f);
      return s;
   }
   char line[96];
   snprintf(line, sizeof line, "blocking %zu words, messages up to %lld bytes", f->word_count,
            (long long)f->max_length);
   log_line(f, MODKIT_LOG_INFO, line);
   *instance = f;
   return MODKIT_OK;
}

static void deinit(void *instance) { free(instance); }

static const modkit_module descriptor = {
   sizeof(modkit_module),
   MODKIT_ABI_VERSION_MAJOR,
   MODKIT_ABI_VERSION_MINOR,
   "spam_c",
   "1.0.0",
   "Refuses messages with blocked words, written in C",
   schema,
   parse_config,
   init,
   deinit,
};

MODKIT_DECLARE_MODULE(descriptor, "spam_c", "1.0.0", "modkit.spam_checker");

/* spam_async.c - a spam checker in plain C that answers later, from its own worker thread
 * (ABI 1.1 asynchronous completion, the raw protocol of modkit/host.h).
 *
 * Config: {"blocked_words": ["crypto", ...], "delay_ms": 200}
 * check_event_for_spam refuses messages that contain a blocked word (M_FORBIDDEN), as a remote
 * spam service would, taking delay_ms to decide. When the host accepts it (call_can_suspend),
 * the callback copies what it needs from the event, queues it for the worker thread and returns
 * MODKIT_PENDING; the worker writes the answer and calls call_complete once the delay is over.
 * Calls the host cancels (or whose deadline passed) are completed early with
 * MODKIT_E_CANCELLED. When the host cannot suspend (a 1.0 host, or a call made the 1.0 way) the
 * callback decides at once, synchronously.
 *
 * The worker is one thread for every queued call: it sleeps until the earliest one is due, so
 * calls that arrive together are decided together, each delay_ms after it arrived. deinit
 * completes whatever is still queued (MODKIT_E_CANCELLED) and joins it. */
#define _POSIX_C_SOURCE 200809L

#include "json_scan.h"

#include <modkit/categories/spam_checker.h>
#include <modkit/modkit.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { MAX_WORDS = 32, MAX_WORD = 64, MAX_BODY = 4096, MAX_SENDER = 128 };

/* How often the worker looks for cancelled calls while some are queued: the host says a call is
 * cancelled through a flag (call_is_cancelled), not a notification. */
static const int64_t cancel_poll_ns = 10 * 1000000;

/* One suspended call, with copies of the inputs: the event is only valid during the callback.
 * call and result are the host's, valid until call_complete. */
typedef struct job {
   struct job *next;
   modkit_call *call;
   modkit_spam_result *result;
   int64_t due_ns; /* CLOCK_MONOTONIC */
   bool has_text;  /* false: not a text message, nothing to decide */
   bool too_large; /* the body does not fit MAX_BODY */
   char sender[MAX_SENDER];
   char text[MAX_BODY];
} job;

typedef struct spam_async {
   const modkit_host_api *api;
   modkit_host *host;
   char words[MAX_WORDS][MAX_WORD];
   size_t word_count;
   int64_t delay_ms;
   bool can_complete; /* the host has ABI 1.1's call_can_suspend and call_complete */

   /* The queue, in arrival (hence due) order, and the worker. mutex guards head, tail and
    * stopping; it is never held while calling into the host. */
   pthread_mutex_t mutex;
   pthread_cond_t wake;
   job *head, *tail;
   bool stopping;
   pthread_t worker;
} spam_async;

static const char schema[] =
   "{\"type\": \"object\", \"additionalProperties\": false,"
   " \"required\": [\"blocked_words\"],"
   " \"properties\": {"
   "   \"blocked_words\": {\"type\": \"array\", \"maxItems\": 32,"
   "                     \"items\": {\"type\": \"string\", \"minLength\": 1, \"maxLength\": 63}},"
   "   \"delay_ms\": {\"type\": \"integer\", \"minimum\": 0, \"maximum\": 60000}}}";

static int64_t now_ns(void) {
   struct timespec t;
   clock_gettime(CLOCK_MONOTONIC, &t);
   return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static char lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c; }

/* Case-insensitive search for word (lower case) in text. */
static bool contains_word(const char *text, const char *word) {
   const size_t n = strlen(word), size = strlen(text);
   for (size_t i = 0; n > 0 && i + n <= size; ++i) {
      size_t j = 0;
      while (j < n && lower(text[i + j]) == word[j]) ++j;
      if (j == n) return true;
   }
   return false;
}

static void log_line(const spam_async *f, modkit_log_level level, const char *text) {
   f->api->log(f->host, level, modkit_str_from_cstr(text));
}

/* ---- the decision, the same whether it is made now or on the worker ---- */

static modkit_spam_result decide(const spam_async *f, const job *j) {
   if (!j->has_text) return MODKIT_NOT_SPAM;
   if (j->too_large) return MODKIT_SPAM_TOO_LARGE;
   for (size_t i = 0; i < f->word_count; ++i) {
      if (contains_word(j->text, f->words[i])) {
         char line[256];
         snprintf(line, sizeof line, "refused a message from %.100s: it contains \"%.63s\"", j->sender, f->words[i]);
         log_line(f, MODKIT_LOG_INFO, line);
         return MODKIT_SPAM_FORBIDDEN;
      }
   }
   return MODKIT_NOT_SPAM;
}

/* Copies what the decision needs out of the event, which is only valid during the callback. */
static void copy_inputs(job *j, const modkit_event *event) {
   const size_t sender = event->sender.size < MAX_SENDER - 1 ? event->sender.size : MAX_SENDER - 1;
   if (sender > 0) memcpy(j->sender, event->sender.data, sender);
   j->sender[sender] = '\0';
   json_scan body;
   if (!json_find_key(event->content_json.data, event->content_json.size, "body", &body)) return;
   if (json_peek(&body) != '"') return; /* not a text message */
   j->has_text = true;
   j->too_large = !json_read_string(&body, j->text, sizeof j->text);
}

/* ---- the worker ---- */

/* Answers a job and completes its call. Called without the mutex: the host may go on with its
 * dispatch (call the next module, run the host's done) on this thread before it returns. */
static void complete(const spam_async *f, job *j, bool cancelled) {
   modkit_status status = MODKIT_E_CANCELLED;
   if (!cancelled) {
      *j->result = decide(f, j); /* outputs first, then the completion */
      status = MODKIT_OK;
   }
   f->api->call_complete(j->call, status);
   free(j);
}

static void *worker_main(void *arg) {
   spam_async *f = arg;
   pthread_mutex_lock(&f->mutex);
   for (;;) {
      if (!f->head) {
         if (f->stopping) break;
         pthread_cond_wait(&f->wake, &f->mutex);
         continue;
      }
      /* Take out every job that is due or cancelled (every job, when stopping). */
      const int64_t now = now_ns();
      job *ready = NULL, **ready_tail = &ready, **link = &f->head;
      f->tail = NULL;
      while (*link) {
         job *j = *link;
         if (f->stopping || j->due_ns <= now || f->api->call_is_cancelled(j->call)) {
            *link = j->next;
            j->next = NULL;
            *ready_tail = j;
            ready_tail = &j->next;
         } else {
            f->tail = j;
            link = &j->next;
         }
      }
      if (ready) {
         const bool stopping = f->stopping;
         pthread_mutex_unlock(&f->mutex);
         while (ready) {
            job *j = ready;
            ready = j->next;
            complete(f, j, stopping || j->due_ns > now);
         }
         pthread_mutex_lock(&f->mutex);
         continue;
      }
      /* Sleep until the first job is due, looking for cancellations meanwhile. */
      int64_t until = f->head->due_ns;
      if (until > now + cancel_poll_ns) until = now + cancel_poll_ns;
      const struct timespec at = {(time_t)(until / 1000000000), (long)(until % 1000000000)};
      pthread_cond_timedwait(&f->wake, &f->mutex, &at);
   }
   pthread_mutex_unlock(&f->mutex);
   return NULL;
}

/* ---- the callback ---- */

static modkit_status check_event_for_spam(void *user_data, modkit_call *call, const modkit_event *event,
                                          modkit_spam_result *result) {
   spam_async *f = user_data;
   if (!f->can_complete || !f->api->call_can_suspend(call)) {
      /* The host cannot wait for us: answer now, before returning. */
      job j;
      memset(&j, 0, sizeof j);
      copy_inputs(&j, event);
      *result = decide(f, &j);
      return MODKIT_OK;
   }
   job *j = calloc(1, sizeof *j);
   if (!j) return MODKIT_E_NO_MEMORY;
   copy_inputs(j, event);
   j->call = call;
   j->result = result;
   j->due_ns = now_ns() + f->delay_ms * 1000000;
   pthread_mutex_lock(&f->mutex);
   if (f->tail) f->tail->next = j;
   else f->head = j;
   f->tail = j;
   pthread_cond_signal(&f->wake);
   pthread_mutex_unlock(&f->mutex);
   /* From here the worker owns j and may complete the call before this returns; that is
    * allowed, and neither j nor call is touched again on this thread. */
   return MODKIT_PENDING;
}

/* ---- config, init and deinit ---- */

/* Reads "blocked_words" and "delay_ms" (the schema has checked their shape already). */
static int read_config(const modkit_host_api *api, modkit_error_sink *err, modkit_str config, spam_async *f) {
   json_scan v;
   f->word_count = 0;
   f->delay_ms = 200;
   if (json_find_key(config.data, config.size, "delay_ms", &v) && !json_read_int(&v, &f->delay_ms)) {
      api->report_error(err, MODKIT_E_CONFIG, "/delay_ms", "expected an integer number of milliseconds");
      return 1;
   }
   if (!json_find_key(config.data, config.size, "blocked_words", &v) || !json_expect(&v, '[')) {
      api->report_error(err, MODKIT_E_CONFIG, "/blocked_words", "expected an array of words");
      return 1;
   }
   if (json_peek(&v) == ']') return 0;
   for (;;) {
      char word[MAX_WORD];
      if (f->word_count >= MAX_WORDS || !json_read_string(&v, word, sizeof word)) {
         char pointer[64];
         snprintf(pointer, sizeof pointer, "/blocked_words/%zu", f->word_count);
         api->report_error(err, MODKIT_E_CONFIG, pointer, "expected a word of at most 63 bytes");
         return 1;
      }
      for (char *c = word; *c; ++c) *c = lower(*c);
      memcpy(f->words[f->word_count++], word, sizeof word);
      if (json_expect(&v, ',')) continue;
      if (json_expect(&v, ']')) return 0;
      api->report_error(err, MODKIT_E_CONFIG, "/blocked_words", "expected ',' or ']'");
      return 1;
   }
}

/* Completes whatever is queued (MODKIT_E_CANCELLED), stops the worker and frees f. */
static void destroy(spam_async *f) {
   pthread_mutex_lock(&f->mutex);
   f->stopping = true;
   pthread_cond_signal(&f->wake);
   pthread_mutex_unlock(&f->mutex);
   pthread_join(f->worker, NULL);
   pthread_cond_destroy(&f->wake);
   pthread_mutex_destroy(&f->mutex);
   free(f);
}

static modkit_status init(const modkit_host_api *api, modkit_host *host, modkit_str config, void **instance,
                          modkit_error_sink *err) {
   spam_async *f = calloc(1, sizeof *f);
   if (!f) return MODKIT_E_NO_MEMORY;
   f->api = api;
   f->host = host;
   if (read_config(api, err, config, f) > 0) {
      free(f);
      return MODKIT_E_CONFIG;
   }
   /* A 1.0 host's table ends before these fields: then every call is answered synchronously. */
   f->can_complete = MODKIT_HAS_FIELD(api, modkit_host_api, call_complete) && api->call_can_suspend &&
                     api->call_complete;

   /* The worker sleeps on CLOCK_MONOTONIC, the clock of call deadlines. */
   pthread_condattr_t attr;
   bool ok = pthread_condattr_init(&attr) == 0;
   ok = ok && pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0 && pthread_cond_init(&f->wake, &attr) == 0;
   pthread_condattr_destroy(&attr);
   if (!ok || pthread_mutex_init(&f->mutex, NULL) != 0) {
      if (ok) pthread_cond_destroy(&f->wake);
      free(f);
      api->report_error(err, MODKIT_E_INTERNAL, "", "cannot create the worker's mutex or condition variable");
      return MODKIT_E_INTERNAL;
   }
   if (pthread_create(&f->worker, NULL, worker_main, f) != 0) {
      pthread_cond_destroy(&f->wake);
      pthread_mutex_destroy(&f->mutex);
      free(f);
      api->report_error(err, MODKIT_E_INTERNAL, "", "cannot start the worker thread");
      return MODKIT_E_INTERNAL;
   }

   modkit_spam_checker_callbacks callbacks = {0};
   callbacks.struct_size = sizeof callbacks;
   callbacks.check_event_for_spam = check_event_for_spam;
   const modkit_status s = modkit_register_spam_checker_callbacks(api, host, &callbacks, f);
   if (s != MODKIT_OK) {
      destroy(f);
      return s;
   }
   char line[128];
   if (f->can_complete)
      snprintf(line, sizeof line, "blocking %zu words, deciding %lld ms after each call on a worker thread",
               f->word_count, (long long)f->delay_ms);
   else snprintf(line, sizeof line, "blocking %zu words; this host cannot suspend calls: answering at once",
                 f->word_count);
   log_line(f, MODKIT_LOG_INFO, line);
   *instance = f;
   return MODKIT_OK;
}

static void deinit(void *instance) { destroy(instance); }

static const modkit_module descriptor = {
   sizeof(modkit_module),
   MODKIT_ABI_VERSION_MAJOR,
   MODKIT_ABI_VERSION_MINOR,
   "spam_c_async",
   "1.0.0",
   "Refuses messages with blocked words after a delay, completing from a worker thread, written in C",
   schema,
   NULL,
   init,
   deinit,
};

MODKIT_DECLARE_MODULE(descriptor, "spam_c_async", "1.0.0", "modkit.spam_checker");

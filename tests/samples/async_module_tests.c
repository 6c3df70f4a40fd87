/* async_module_tests.c - the C sample spam_c_async (samples/c_async_module) under ABI 1.1
 * asynchronous completion, driven from plain C11 as a C host would: through
 * modkit_loader_dispatch_json_async (suspends, completes from its worker thread, overlaps,
 * deadline, cancellation, unload while suspended), through modkit_loader_dispatch_json and a
 * 1.0-style call handle (answers synchronously), and through the raw protocol of modkit/loader.h
 * (modkit_loader_call_arm / _call_returned / _pin).
 *
 *   async_module_tests        every path but the raw protocol
 *   async_module_tests raw    the raw protocol
 *
 * Prints each failed check, then "N passed, M failed"; exits 1 if any check failed. */
#define _POSIX_C_SOURCE 200809L

#include <modkit/categories/spam_checker.h>
#include <modkit/loader.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int passed, failed;

static bool check(bool ok, const char *what, int line) {
   if (ok) ++passed;
   else {
      ++failed;
      fprintf(stderr, "async_module_tests.c:%d: check failed: %s\n", line, what);
   }
   return ok;
}
#define CHECK(cond) check((cond), #cond, __LINE__)

/* How long the module holds each call. The timing checks are fractions and multiples of it, so
 * it is long enough that a loaded machine (ctest -j2 beside a sanitizer build) cannot break them. */
enum { DELAY_MS = 400 };
static const int64_t ms = 1000000;

/* ---- the log, from any thread ---- */

static pthread_mutex_t log_mutex = PTHREAD_MUTEX_INITIALIZER;
static char log_text[1 << 15];
static size_t log_size;

static void capture_log(void *user_data, modkit_log_level level, const char *module, modkit_str message) {
   (void)user_data, (void)level;
   pthread_mutex_lock(&log_mutex);
   const int n = snprintf(log_text + log_size, sizeof log_text - log_size, "%s|%.*s\n", module ? module : "-",
                          (int)message.size, message.data);
   if (n > 0 && (size_t)n < sizeof log_text - log_size) log_size += (size_t)n;
   pthread_mutex_unlock(&log_mutex);
}

static bool logged(const char *needle) {
   pthread_mutex_lock(&log_mutex);
   const bool found = strstr(log_text, needle) != NULL;
   pthread_mutex_unlock(&log_mutex);
   return found;
}

static int64_t now(void) { return (int64_t)modkit_loader_now_ns(); }

static void sleep_ms(long n) {
   struct timespec t = {n / 1000, (n % 1000) * 1000000};
   nanosleep(&t, NULL);
}

/* ---- one asynchronous dispatch, awaited on a condition variable ---- */

typedef struct waiter {
   pthread_mutex_t mutex;
   pthread_cond_t cond;
   pthread_t dispatcher;
   modkit_loader_async *async;
   int64_t started, finished;
   bool returned; /* dispatch_json_async has returned */
   bool done, done_before_return, done_elsewhere;
   int done_count;
   modkit_status status;
   char result[2048];
} waiter;

static void on_done(void *user_data, modkit_status status, modkit_str result_json) {
   waiter *w = user_data;
   pthread_mutex_lock(&w->mutex);
   ++w->done_count;
   w->status = status;
   snprintf(w->result, sizeof w->result, "%.*s", (int)result_json.size, result_json.data);
   w->done_before_return = !w->returned;
   w->done_elsewhere = !pthread_equal(pthread_self(), w->dispatcher);
   w->finished = now();
   w->done = true;
   pthread_cond_signal(&w->cond);
   pthread_mutex_unlock(&w->mutex);
}

static const char *event_args(const char *body) {
   static char args[512];
   snprintf(args, sizeof args,
            "{\"event\":{\"sender\":\"@mallory:example.org\",\"type\":\"m.room.message\","
            "\"content_json\":{\"msgtype\":\"m.text\",\"body\":\"%s\"}}}",
            body);
   return args;
}

static modkit_status start(modkit_loader *loader, waiter *w, const char *body, int64_t deadline_ns) {
   memset(w, 0, sizeof *w);
   pthread_mutex_init(&w->mutex, NULL);
   pthread_cond_init(&w->cond, NULL);
   w->dispatcher = pthread_self();
   modkit_loader_async_options options = {sizeof options, 0, MODKIT_STR_LIT("async-test"), deadline_ns};
   const char *args = event_args(body);
   w->started = now();
   const modkit_status s = modkit_loader_dispatch_json_async(loader, MODKIT_SPAM_CHECKER_ID, "check_event_for_spam",
                                                             args, strlen(args), &options, on_done, w, &w->async);
   pthread_mutex_lock(&w->mutex);
   w->returned = true;
   pthread_mutex_unlock(&w->mutex);
   return s;
}

static void wait_done(waiter *w) {
   pthread_mutex_lock(&w->mutex);
   while (!w->done) pthread_cond_wait(&w->cond, &w->mutex);
   pthread_mutex_unlock(&w->mutex);
}

static void finish(waiter *w) {
   wait_done(w);
   modkit_loader_async_release(w->async);
   pthread_cond_destroy(&w->cond);
   pthread_mutex_destroy(&w->mutex);
}

static bool has(const char *haystack, const char *needle) { return strstr(haystack, needle) != NULL; }

/* ---- the tests ---- */

static void test_suspends_and_completes(modkit_loader *loader) {
   waiter w;
   CHECK(start(loader, &w, "free CRYPTO airdrop", 0) == MODKIT_OK);
   CHECK(w.async != NULL);
   finish(&w);
   CHECK(w.done_count == 1);
   CHECK(!w.done_before_return); /* it suspended: done came later... */
   CHECK(w.done_elsewhere);      /* ...from the module's worker thread */
   CHECK(w.finished - w.started >= DELAY_MS * ms);
   CHECK(w.status == MODKIT_OK);
   CHECK(has(w.result, "\"outcome\":\"decided\""));
   CHECK(has(w.result, "\"module\":\"spam_c_async\""));
   CHECK(has(w.result, "\"answer\":{\"result\":1}"));
   CHECK(logged("spam_c_async|refused a message from @mallory:example.org: it contains \"crypto\""));

   CHECK(start(loader, &w, "lunch at noon?", 0) == MODKIT_OK);
   finish(&w);
   CHECK(w.status == MODKIT_OK);
   CHECK(has(w.result, "\"outcome\":\"no_opinion\""));
   CHECK(has(w.result, "\"outputs\":{\"result\":0}"));
}

static void test_answers_synchronously_when_the_call_cannot_suspend(modkit_loader *loader) {
   modkit_buffer *out = modkit_loader_buffer_create();
   const char *args = event_args("crypto for you");
   const int64_t t0 = now();
   CHECK(modkit_loader_dispatch_json(loader, MODKIT_SPAM_CHECKER_ID, "check_event_for_spam", args, strlen(args), NULL,
                                     out) == MODKIT_OK);
   CHECK(now() - t0 < DELAY_MS * ms / 2); /* no waiting for the worker */
   const modkit_str r = modkit_loader_buffer_data(out);
   char text[1024];
   snprintf(text, sizeof text, "%.*s", (int)r.size, r.data);
   CHECK(has(text, "\"answer\":{\"result\":1}"));
   modkit_loader_buffer_destroy(out);
}

static void test_dispatches_overlap(modkit_loader *loader) {
   enum { N = 4 };
   waiter w[N];
   static const char *const bodies[N] = {"crypto 1", "hello", "crypto 3", "crypto 4"};
   for (int i = 0; i < N; ++i) CHECK(start(loader, &w[i], bodies[i], 0) == MODKIT_OK);
   int64_t first_done = INT64_MAX, last_done = 0;
   for (int i = 0; i < N; ++i) {
      finish(&w[i]);
      CHECK(w[i].status == MODKIT_OK);
      CHECK(has(w[i].result, i == 1 ? "\"outcome\":\"no_opinion\"" : "\"answer\":{\"result\":1}"));
      if (w[i].finished < first_done) first_done = w[i].finished;
      if (w[i].finished > last_done) last_done = w[i].finished;
   }
   /* All four were started before any was done, and all were done within twice the delay: the
    * module decided them together, not one after another (that would take N delays). */
   CHECK(w[N - 1].started < first_done);
   printf("overlap: %d dispatches of %d ms each took %lld ms\n", N, DELAY_MS,
          (long long)((last_done - w[0].started) / ms));
   CHECK(last_done - w[0].started < 2 * DELAY_MS * ms);
}

static void test_deadline(modkit_loader *loader) {
   waiter w;
   CHECK(start(loader, &w, "crypto deadline", now() + 30 * ms) == MODKIT_OK);
   finish(&w);
   CHECK(w.done_count == 1);
   CHECK(w.done_elsewhere); /* the loader's timer thread */
   CHECK(w.status == MODKIT_E_TIMEOUT);
   CHECK(has(w.result, "\"outcome\":\"error\""));
   CHECK(has(w.result, "\"status\":\"timeout\""));
   CHECK(has(w.result, "\"module\":\"spam_c_async\""));
   CHECK(w.finished - w.started >= 30 * ms);
   CHECK(w.finished - w.started < DELAY_MS * ms);

   /* A deadline already past when the module suspends. */
   CHECK(start(loader, &w, "crypto deadline", now() - ms) == MODKIT_OK);
   finish(&w);
   CHECK(w.status == MODKIT_E_TIMEOUT);
}

static void test_cancel(modkit_loader *loader) {
   waiter w;
   CHECK(start(loader, &w, "crypto cancelled", 0) == MODKIT_OK);
   sleep_ms(20);
   pthread_mutex_lock(&w.mutex);
   const bool early = w.done;
   pthread_mutex_unlock(&w.mutex);
   CHECK(!early);
   modkit_loader_async_cancel(w.async);
   pthread_mutex_lock(&w.mutex);
   const bool done_in_cancel = w.done; /* done ran inside cancel, on this thread */
   const bool elsewhere = w.done_elsewhere;
   pthread_mutex_unlock(&w.mutex);
   CHECK(done_in_cancel);
   CHECK(!elsewhere);
   modkit_loader_async_cancel(w.async); /* a second cancel changes nothing */
   finish(&w);
   CHECK(w.done_count == 1);
   CHECK(w.status == MODKIT_E_CANCELLED);
   CHECK(has(w.result, "\"status\":\"cancelled\""));
   CHECK(w.finished - w.started < DELAY_MS * ms);
}

/* ---- the raw protocol, on the typed path ---- */

typedef struct raw_wait {
   pthread_mutex_t mutex;
   pthread_cond_t cond;
   bool done;
   modkit_status status;
} raw_wait;

static void on_raw_done(void *user_data, modkit_call *call, modkit_status status) {
   raw_wait *r = user_data;
   (void)call;
   pthread_mutex_lock(&r->mutex);
   r->status = status;
   r->done = true;
   pthread_cond_signal(&r->cond);
   pthread_mutex_unlock(&r->mutex);
}

typedef modkit_status (*check_event_fn)(void *, modkit_call *, const modkit_event *, modkit_spam_result *);

static void test_raw_protocol(modkit_loader *loader) {
   raw_wait r = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, MODKIT_OK};
   /* The event lives on the heap, and is scribbled over as soon as the callback has returned:
    * the module must have copied what it needs. */
   char *content = malloc(128);
   if (!CHECK(content != NULL)) return;
   strcpy(content, "{\"msgtype\":\"m.text\",\"body\":\"cheap crypto\"}");
   modkit_event event = {0};
   event.struct_size = sizeof event;
   event.sender = modkit_str_from_cstr("@mallory:example.org");
   event.type = modkit_str_from_cstr("m.room.message");
   event.content_json = modkit_str_from_cstr(content);
   modkit_spam_result result = 0; /* the output: must stay valid until the completion */

   modkit_call call = modkit_call_make(modkit_str_from_cstr("raw"));
   modkit_loader_reader *reader = modkit_loader_reader_get(loader);
   const modkit_loader_snapshot *snap = modkit_loader_read_begin(reader);
   const int32_t category = modkit_loader_category_index(loader, MODKIT_SPAM_CHECKER_ID);
   const modkit_loader_slot *slot =
      modkit_loader_snapshot_slot(snap, (uint32_t)category, MODKIT_SPAM_CHECKER_CHECK_EVENT_FOR_SPAM);
   if (!CHECK(slot != NULL && slot->count == 1)) {
      modkit_loader_read_end(reader);
      free(content);
      return;
   }
   const modkit_loader_entry *e = &slot->entries[0];
   modkit_spam_checker_callbacks cb = {0};
   cb.check_event_for_spam = (check_event_fn)e->fn;

   /* A 1.0-style call (modkit_call_make, not armed) cannot suspend: answered at once. */
   CHECK(cb.check_event_for_spam(e->user_data, &call, &event, &result) == MODKIT_OK);
   CHECK(result == MODKIT_SPAM_FORBIDDEN);
   result = 0;

   /* Armed: the callback suspends; the host pins the module and leaves the read section. */
   modkit_loader_call_arm(&call, on_raw_done, &r, loader);
   const modkit_status s = modkit_loader_call_returned(&call, cb.check_event_for_spam(e->user_data, &call, &event, &result));
   CHECK(s == MODKIT_PENDING);
   if (s == MODKIT_PENDING) modkit_loader_pin(snap, e->module_index);
   modkit_loader_read_end(reader);
   memset(content, 'x', 127);
   content[127] = '\0';
   if (s == MODKIT_PENDING) {
      pthread_mutex_lock(&r.mutex);
      while (!r.done) pthread_cond_wait(&r.cond, &r.mutex);
      pthread_mutex_unlock(&r.mutex);
      modkit_loader_unpin(snap, e->module_index);
   }
   CHECK(r.status == MODKIT_OK);
   CHECK(result == MODKIT_SPAM_FORBIDDEN);
   free(content);
}

static void test_unload_waits_for_a_suspended_call(modkit_loader *loader) {
   waiter w;
   CHECK(start(loader, &w, "crypto at unload", 0) == MODKIT_OK);
   const int64_t t0 = now();
   /* Unload waits for the pin, the module completes after its delay, then deinit joins the worker. */
   CHECK(modkit_loader_unload_module(loader, "spam_c_async") == MODKIT_OK);
   pthread_mutex_lock(&w.mutex);
   const bool done = w.done;
   pthread_mutex_unlock(&w.mutex);
   CHECK(done);
   CHECK(now() - t0 < 1000 * ms); /* well within pending_wait_ms */
   finish(&w);
   CHECK(w.status == MODKIT_OK);
   CHECK(has(w.result, "\"answer\":{\"result\":1}"));
   CHECK(!logged("never completed"));
   CHECK(modkit_loader_module_count(loader) == 0);
}

int main(int argc, char **argv) {
   const bool raw = argc > 1 && strcmp(argv[1], "raw") == 0;
   const modkit_category *categories[] = {modkit_spam_checker_category()};
   modkit_loader_options options = {0};
   options.struct_size = sizeof options;
   options.categories = categories;
   options.category_count = 1;
   options.log = capture_log;
   options.pending_wait_ms = 3000;
   modkit_loader *loader = NULL;
   if (!CHECK(modkit_loader_create(&options, &loader) == MODKIT_OK)) return 1;
   char config[1024];
   snprintf(config, sizeof config,
            "{\"module_path\": [\"%s\"], \"modules\": [{\"module\": \"spam_c_async\","
            " \"config\": {\"blocked_words\": [\"Crypto\"], \"delay_ms\": %d}}]}",
            MODKIT_SAMPLE_MODULE_DIR, DELAY_MS);
   if (CHECK(modkit_loader_load(loader, config, strlen(config)) == MODKIT_OK)) {
      char expected[128];
      snprintf(expected, sizeof expected,
               "spam_c_async|blocking 1 words, deciding %d ms after each call on a worker thread", DELAY_MS);
      CHECK(logged(expected));
      if (raw) {
         test_raw_protocol(loader);
      } else {
         test_suspends_and_completes(loader);
         test_answers_synchronously_when_the_call_cannot_suspend(loader);
         test_dispatches_overlap(loader);
         test_deadline(loader);
         test_cancel(loader);
         test_unload_waits_for_a_suspended_call(loader);
      }
   } else {
      for (size_t i = 0; i < modkit_loader_error_count(loader); ++i)
         fprintf(stderr, "load error: %s\n", modkit_loader_error_at(loader, i)->text);
   }
   modkit_loader_destroy(loader);
   printf("%d passed, %d failed\n", passed, failed);
   return failed == 0 ? 0 : 1;
}

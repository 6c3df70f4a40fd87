/* modkit-c-host - a host in plain C11 using only modkit/loader.h and the ABI headers.
 *
 * Loads the modules a host config names, prints them with their registrations, then asks
 * them about the same events twice: through the typed path (the registry's function
 * pointers, cast to the category header's types, combined here by hand) and through the
 * dynamic path (modkit_loader_dispatch_json), and prints both decisions side by side. Then,
 * when the config loads spam_c_async (samples/c_async_module), it dispatches asynchronously
 * (modkit_loader_dispatch_json_async) and waits for done on a condition variable: one call,
 * three at once, one past its deadline and one cancelled.
 * Exit status: 0 done, 1 the modules could not be loaded, 2 usage. */
#define _POSIX_C_SOURCE 200809L /* pthreads and nanosleep under -std=c11 */

#include <modkit/categories/password_auth_provider.h>
#include <modkit/categories/spam_checker.h>
#include <modkit/loader.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- a read-only view of the loader's compact JSON, just enough to print it ---- */

/* Skips one JSON value starting at p; returns the first byte after it. */
static const char *skip_value(const char *p, const char *end) {
   int depth = 0;
   for (; p < end; ++p) {
      if (*p == '"') {
         for (++p; p < end && *p != '"'; ++p)
            if (*p == '\\') ++p;
      } else if (*p == '{' || *p == '[') {
         ++depth;
      } else if (*p == '}' || *p == ']') {
         if (depth == 0) return p; /* the end of the enclosing container */
         if (--depth == 0) return p + 1;
      } else if (*p == ',' && depth == 0) {
         return p;
      }
      if (depth == 0 && *p == '"') return p + 1; /* a string on its own */
   }
   return end;
}

/* Finds the value of key in the top-level object text[0..size). */
static modkit_str json_member(modkit_str text, const char *key) {
   const char *p = text.data, *end = text.data + text.size;
   const size_t key_size = strlen(key);
   if (p == end || *p != '{') return (modkit_str){NULL, 0};
   for (++p; p < end && *p == '"';) {
      const char *name = p + 1;
      p = skip_value(p, end);
      const size_t name_size = (size_t)(p - name) - 1;
      const char *value = p + 1; /* after ':' */
      p = skip_value(value, end);
      if (name_size == key_size && memcmp(name, key, key_size) == 0)
         return (modkit_str){value, (size_t)(p - value)};
      if (p < end && *p == ',') ++p;
   }
   return (modkit_str){NULL, 0};
}

static bool json_is(modkit_str value, const char *text) {
   return value.size == strlen(text) && memcmp(value.data, text, value.size) == 0;
}

/* Prints the JSON value at p, one member per line; a container holding only scalars stays on
 * one line. Returns the first byte after the value. */
static const char *print_value(const char *p, const char *end, int indent) {
   const char *stop = skip_value(p, end);
   if (p == end || (*p != '{' && *p != '[')) {
      printf("%.*s", (int)(stop - p), p);
      return stop;
   }
   bool flat = true;
   for (const char *q = p + 1; q < stop - 1; ++q) {
      if (*q == '"') q = skip_value(q, stop) - 1;
      else if (*q == '{' || *q == '[') flat = false;
   }
   const bool object = *p == '{';
   putchar(*p);
   for (++p; p < stop - 1;) {
      if (!flat) printf("\n%*s", indent + 2, "");
      if (object) {
         const char *colon = skip_value(p, stop);
         printf("%.*s: ", (int)(colon - p), p);
         p = colon + 1;
      }
      p = print_value(p, stop - 1, indent + 2);
      if (p < stop - 1 && *p == ',') {
         printf(flat ? ", " : ",");
         ++p;
      }
   }
   if (!flat) printf("\n%*s", indent, "");
   putchar(object ? '}' : ']');
   return stop;
}

/* Appends text to out as a JSON string (quotes and escapes added). */
static void append_json_string(char *out, size_t cap, const char *text) {
   size_t n = strlen(out);
   if (n + 1 < cap) out[n++] = '"';
   for (const char *c = text; *c && n + 7 < cap; ++c) {
      if (*c == '"' || *c == '\\') n += (size_t)snprintf(out + n, cap - n, "\\%c", *c);
      else if ((unsigned char)*c < 0x20) n += (size_t)snprintf(out + n, cap - n, "\\u%04x", (unsigned)*c);
      else out[n++] = *c;
   }
   if (n + 1 < cap) out[n++] = '"';
   out[n] = '\0';
}

/* ---- the host ---- */

typedef struct host {
   modkit_loader *loader;
   modkit_buffer *result; /* reused by every dynamic dispatch */
} host;

static void print_log(void *user_data, modkit_log_level level, const char *module, modkit_str message) {
   (void)user_data, (void)level;
   printf("  [%s] %.*s\n", module ? module : "loader", (int)message.size, message.data);
}

static const char *module_name(const host *h, uint32_t index) {
   const modkit_loader_module *m = modkit_loader_module_at(h->loader, index);
   return m ? m->name : "?";
}

/* What first_non_zero concluded: the answer and who gave it (UINT32_MAX: nobody). */
typedef struct decision {
   int32_t answer;
   modkit_status status;    /* a failing module's status under "propagate" */
   uint32_t module_index;
} decision;

/* Applies the slot's exception policy to a failed call or an out-of-range answer; true when
 * the dispatch stops there. */
static bool stop_on_failure(const host *h, const modkit_loader_slot *slot, const modkit_loader_entry *e,
                            modkit_status status, int32_t deny, decision *d) {
   char line[160];
   snprintf(line, sizeof line, "%s.%s failed with status %s", slot->category->id, slot->desc->name,
            status == MODKIT_OK ? "ok (answer out of range)" : modkit_status_name(status));
   modkit_loader_log(h->loader, MODKIT_LOG_WARNING, module_name(h, e->module_index), modkit_str_from_cstr(line));
   if (slot->desc->on_error == MODKIT_ON_ERROR_FAIL_OPEN) return false;
   d->module_index = e->module_index;
   if (slot->desc->on_error == MODKIT_ON_ERROR_FAIL_CLOSED) d->answer = deny;
   else d->status = status == MODKIT_OK ? MODKIT_E_INVALID_ARGUMENT : status;
   return true;
}

/* The typed path for slots with an i32 answer: each registrant in config order, first
 * non-zero answer wins. call_one casts the entry's function pointer and calls it. */
typedef modkit_status (*call_i32_fn)(const modkit_loader_entry *e, modkit_call *call, const void *args,
                                     int32_t *answer);

static decision first_non_zero(const host *h, const char *category, uint32_t slot_index, call_i32_fn call_one,
                               const void *args, int32_t deny) {
   decision d = {0, MODKIT_OK, UINT32_MAX};
   const modkit_loader_slot *slot = NULL;
   if (modkit_loader_slot_at(h->loader, category, slot_index, &slot) != MODKIT_OK) return d;
   modkit_call call = modkit_call_make(modkit_str_from_cstr("c-host-typed"));
   for (size_t i = 0; i < slot->count; ++i) {
      const modkit_loader_entry *e = &slot->entries[i];
      int32_t answer = 0; /* zero-initialised: "no opinion" */
      const modkit_status status = call_one(e, &call, args, &answer);
      const bool in_range = slot->desc->out_max < 0 || (answer >= 0 && answer <= slot->desc->out_max);
      if (status != MODKIT_OK || !in_range) {
         if (stop_on_failure(h, slot, e, status, deny, &d)) return d;
         continue;
      }
      if (answer != 0) {
         d.answer = answer;
         d.module_index = e->module_index;
         return d;
      }
   }
   return d;
}

/* Each callback's function pointer type is the category header's member type: assigning the
 * cast pointer to the member makes the compiler check that the two agree. */
typedef modkit_status (*check_event_fn)(void *, modkit_call *, const modkit_event *, modkit_spam_result *);
typedef modkit_status (*check_username_fn)(void *, modkit_call *, const modkit_user_profile *, modkit_str, bool *);
typedef modkit_status (*check_registration_fn)(void *, modkit_call *, modkit_str, modkit_str, modkit_str,
                                               modkit_str, modkit_registration_behaviour *);

static modkit_status call_check_event(const modkit_loader_entry *e, modkit_call *call, const void *args,
                                      int32_t *answer) {
   modkit_spam_checker_callbacks cb = {0};
   cb.check_event_for_spam = (check_event_fn)e->fn;
   return cb.check_event_for_spam(e->user_data, call, args, answer);
}

static modkit_status call_check_username(const modkit_loader_entry *e, modkit_call *call, const void *args,
                                         int32_t *answer) {
   modkit_spam_checker_callbacks cb = {0};
   cb.check_username_for_spam = (check_username_fn)e->fn;
   bool hidden = false;
   const modkit_status s = cb.check_username_for_spam(e->user_data, call, args,
                                                      modkit_str_from_cstr("@alice:example.org"), &hidden);
   *answer = hidden;
   return s;
}

static modkit_status call_check_registration(const modkit_loader_entry *e, modkit_call *call, const void *args,
                                             int32_t *answer) {
   modkit_spam_checker_callbacks cb = {0};
   cb.check_registration_for_spam = (check_registration_fn)e->fn;
   return cb.check_registration_for_spam(e->user_data, call, (modkit_str){NULL, 0}, modkit_str_from_cstr(args),
                                         (modkit_str)MODKIT_STR_LIT("[]"), (modkit_str){NULL, 0}, answer);
}

/* Prints a dynamic dispatch's result document as "label: outcome by module: answer". */
static void print_dynamic(const char *label, modkit_status status, modkit_str doc) {
   if (status == MODKIT_E_INVALID_ARGUMENT || status == MODKIT_E_NOT_FOUND) {
      printf("    %s refused (%s): %.*s\n", label, modkit_status_name(status), (int)doc.size, doc.data);
      return;
   }
   const modkit_str outcome = json_member(doc, "outcome"), module = json_member(doc, "module");
   const modkit_str answer = json_member(doc, "answer");
   if (json_is(outcome, "\"no_opinion\"")) {
      /* Also when a deadline or a cancellation cut the dispatch short in a slot that fails open. */
      printf("    %s no module had an opinion%s%s%s\n", label, status == MODKIT_OK ? "" : " (status ",
             status == MODKIT_OK ? "" : modkit_status_name(status), status == MODKIT_OK ? "" : ")");
      return;
   }
   printf("    %s %.*s by %.*s, answer %.*s (status %s)\n", label, (int)outcome.size - 2, outcome.data + 1,
          (int)module.size - 2, module.data + 1, (int)answer.size, answer.data, modkit_status_name(status));
}

/* The dynamic path: the same question as JSON; prints "outcome by module: answer". */
static void dispatch(const host *h, const char *category, const char *slot, const char *args) {
   modkit_loader_buffer_clear(h->result);
   const modkit_status status =
      modkit_loader_dispatch_json(h->loader, category, slot, args, strlen(args), NULL, h->result);
   print_dynamic("dynamic:", status, modkit_loader_buffer_data(h->result));
}

static void print_typed(const host *h, decision d, const char *verdict) {
   if (d.module_index == UINT32_MAX) printf("    typed:   no module had an opinion\n");
   else if (d.status != MODKIT_OK)
      printf("    typed:   request fails (%s), decided by %s\n", modkit_status_name(d.status),
             module_name(h, d.module_index));
   else printf("    typed:   %s, decided by %s\n", verdict, module_name(h, d.module_index));
}

static void check_message(const host *h, const char *sender, const char *body) {
   char *content = malloc(strlen(body) * 6 + 64);
   char *args = malloc(strlen(body) * 6 + 256);
   if (!content || !args) {
      free(content), free(args);
      return;
   }
   strcpy(content, "{\"msgtype\":\"m.text\",\"body\":");
   append_json_string(content, strlen(body) * 6 + 64, body);
   strcat(content, "}");
   modkit_event event = {0};
   event.struct_size = sizeof event;
   event.event_id = modkit_str_from_cstr("$demo");
   event.room_id = modkit_str_from_cstr("!lobby:example.org");
   event.sender = modkit_str_from_cstr(sender);
   event.type = modkit_str_from_cstr("m.room.message");
   event.content_json = modkit_str_from_cstr(content);
   const size_t length = strlen(body);
   printf("  message from %s \"%.*s%s\"\n", sender, length > 40 ? 37 : (int)length, body, length > 40 ? "..." : "");
   const decision d = first_non_zero(h, MODKIT_SPAM_CHECKER_ID, MODKIT_SPAM_CHECKER_CHECK_EVENT_FOR_SPAM,
                                     call_check_event, &event, MODKIT_SPAM_FORBIDDEN);
   char verdict[64];
   snprintf(verdict, sizeof verdict, "refused %s", modkit_spam_result_errcode(d.answer));
   print_typed(h, d, verdict);
   snprintf(args, strlen(body) * 6 + 256, "{\"event\":{\"event_id\":\"$demo\",\"room_id\":\"!lobby:example.org\","
            "\"sender\":\"%s\",\"type\":\"m.room.message\",\"content_json\":%s}}", sender, content);
   dispatch(h, MODKIT_SPAM_CHECKER_ID, "check_event_for_spam", args);
   free(content), free(args);
}

static void check_profile(const host *h, const char *user, const char *display_name) {
   modkit_user_profile profile = {0};
   profile.struct_size = sizeof profile;
   profile.user_id = modkit_str_from_cstr(user);
   profile.display_name = modkit_str_from_cstr(display_name);
   printf("  directory entry %s \"%s\"\n", user, display_name);
   print_typed(h, first_non_zero(h, MODKIT_SPAM_CHECKER_ID, MODKIT_SPAM_CHECKER_CHECK_USERNAME_FOR_SPAM,
                                 call_check_username, &profile, 1), "hidden");
   char args[256] = "{\"user_profile\":{\"user_id\":";
   append_json_string(args, sizeof args, user);
   strcat(args, ",\"display_name\":");
   append_json_string(args, sizeof args, display_name);
   strcat(args, "},\"requester_id\":\"@alice:example.org\"}");
   dispatch(h, MODKIT_SPAM_CHECKER_ID, "check_username_for_spam", args);
}

static void check_registration(const host *h, const char *username) {
   static const char *const behaviours[] = {"allow", "shadow_ban", "deny"};
   printf("  registration of \"%s\"\n", username);
   const decision d = first_non_zero(h, MODKIT_SPAM_CHECKER_ID, MODKIT_SPAM_CHECKER_CHECK_REGISTRATION_FOR_SPAM,
                                     call_check_registration, username, MODKIT_REGISTRATION_DENY);
   print_typed(h, d, behaviours[d.answer >= 0 && d.answer <= 2 ? d.answer : 2]);
   char args[256] = "{\"email_threepid\":null,\"request_info\":[],\"auth_provider_id\":null,\"username\":";
   append_json_string(args, sizeof args, username);
   strcat(args, "}");
   dispatch(h, MODKIT_SPAM_CHECKER_ID, "check_registration_for_spam", args);
}

/* ---- the asynchronous dynamic path: dispatch_json_async, waiting on a condition variable ---- */

/* One asynchronous dispatch, from the host's side: done fills it in and signals cond. */
typedef struct waiter {
   pthread_mutex_t mutex;
   pthread_cond_t cond;
   pthread_t dispatcher;      /* the thread that called dispatch_json_async */
   modkit_loader_async *async;
   uint64_t started_ns;       /* modkit_loader_now_ns(), CLOCK_MONOTONIC */
   bool dispatch_returned;    /* set under mutex once dispatch_json_async has returned */
   /* Written by done, under mutex: */
   bool done;
   bool returned;             /* dispatch_json_async had returned when done ran */
   bool other_thread;         /* done ran on another thread than the dispatcher */
   modkit_status status;
   char *result;              /* a copy of result_json, which is valid only during done */
   size_t result_size;
   uint64_t done_ns;
} waiter;

/* done: called exactly once, on whichever thread finished the dispatch. It copies what it needs
 * and wakes the host; the module's worker thread (or the loader's timer thread) goes back to
 * work without waiting for the host. */
static void on_async_done(void *user_data, modkit_status status, modkit_str result_json) {
   waiter *w = user_data;
   char *copy = malloc(result_json.size + 1);
   if (copy) {
      if (result_json.size) memcpy(copy, result_json.data, result_json.size);
      copy[result_json.size] = '\0';
   }
   pthread_mutex_lock(&w->mutex);
   w->returned = w->dispatch_returned;
   w->status = status;
   w->result = copy;
   w->result_size = copy ? result_json.size : 0;
   w->other_thread = !pthread_equal(pthread_self(), w->dispatcher);
   w->done_ns = modkit_loader_now_ns();
   w->done = true;
   pthread_cond_signal(&w->cond);
   pthread_mutex_unlock(&w->mutex);
}

/* Starts check_event_for_spam for a message asynchronously; deadline_ms 0 is none. */
static void start_check(const host *h, waiter *w, const char *sender, const char *body, int64_t deadline_ms) {
   char args[512];
   snprintf(args, sizeof args,
            "{\"event\":{\"event_id\":\"$async\",\"room_id\":\"!lobby:example.org\",\"sender\":\"%s\","
            "\"type\":\"m.room.message\",\"content_json\":{\"msgtype\":\"m.text\",\"body\":\"%s\"}}}",
            sender, body);
   memset(w, 0, sizeof *w);
   pthread_mutex_init(&w->mutex, NULL);
   pthread_cond_init(&w->cond, NULL);
   w->dispatcher = pthread_self();
   w->started_ns = modkit_loader_now_ns();
   modkit_loader_async_options options = {0};
   options.struct_size = sizeof options;
   options.request_id = modkit_str_from_cstr("c-host-async");
   options.deadline_ns = deadline_ms ? (int64_t)w->started_ns + deadline_ms * 1000000 : 0;
   const modkit_status status = modkit_loader_dispatch_json_async(h->loader, MODKIT_SPAM_CHECKER_ID,
                                                                  "check_event_for_spam", args, strlen(args),
                                                                  &options, on_async_done, w, &w->async);
   pthread_mutex_lock(&w->mutex);
   w->dispatch_returned = true;
   if (status != MODKIT_OK && !w->done) {
      /* Nothing started and done was not called: this is the answer. */
      w->status = status;
      w->done = true;
   }
   pthread_mutex_unlock(&w->mutex);
}

/* Waits for done, then prints the result under label and frees what the dispatch held. */
static void finish_check(waiter *w, const char *label) {
   pthread_mutex_lock(&w->mutex);
   while (!w->done) pthread_cond_wait(&w->cond, &w->mutex);
   pthread_mutex_unlock(&w->mutex);
   print_dynamic(label, w->status, (modkit_str){w->result, w->result_size});
   modkit_loader_async_release(w->async); /* the handle is the host's until it releases it */
   free(w->result);
   pthread_cond_destroy(&w->cond);
   pthread_mutex_destroy(&w->mutex);
}

static long long elapsed_ms(uint64_t from, uint64_t to) { return (long long)((to - from) / 1000000); }

static void sleep_ms(long ms) {
   struct timespec t = {ms / 1000, (ms % 1000) * 1000000};
   nanosleep(&t, NULL);
}

/* The async demo; needs spam_c_async, whose config says how long it takes to decide. */
static void async_demo(const host *h) {
   int64_t delay_ms = -1;
   for (size_t i = 0; i < modkit_loader_module_count(h->loader); ++i) {
      const modkit_loader_module *m = modkit_loader_module_at(h->loader, i);
      if (strcmp(m->name, "spam_c_async") != 0) continue;
      const modkit_str delay = json_member(modkit_str_from_cstr(m->config_json), "delay_ms");
      delay_ms = delay.data ? strtoll(delay.data, NULL, 10) : 200;
   }
   if (delay_ms < 0) {
      printf("asynchronous dispatch: skipped, spam_c_async is not loaded\n");
      return;
   }
   printf("asynchronous dispatch (dispatch_json_async), done awaited on a condition variable:\n");
   waiter w[3];

   printf("  message from @mallory:example.org \"free crypto airdrop\"\n");
   start_check(h, &w[0], "@mallory:example.org", "free crypto airdrop", 0);
   finish_check(&w[0], "async:  ");
   printf("    spam_c_async suspended: %s; done ran on another thread: %s\n", w[0].returned ? "yes" : "no",
          w[0].other_thread ? "yes" : "no");
   printf("    took %lld ms (spam_c_async decides after %lld ms)\n", elapsed_ms(w[0].started_ns, w[0].done_ns),
          (long long)delay_ms);

   printf("  message from @mallory:example.org \"BUY NOW: cheap watches\"\n");
   start_check(h, &w[0], "@mallory:example.org", "BUY NOW: cheap watches", 0);
   finish_check(&w[0], "async:  ");
   printf("    decided before anyone suspended: done ran inline, before dispatch_json_async returned: %s\n",
          !w[0].returned && !w[0].other_thread ? "yes" : "no");

   printf("  three messages at once\n");
   const char *bodies[3] = {"crypto giveaway", "hello there", "more crypto"};
   for (int i = 0; i < 3; ++i) start_check(h, &w[i], "@mallory:example.org", bodies[i], 0);
   uint64_t first_start = w[0].started_ns, last_done = 0;
   for (int i = 0; i < 3; ++i) {
      char label[32];
      snprintf(label, sizeof label, "async %d:", i + 1);
      finish_check(&w[i], label);
      if (w[i].done_ns > last_done) last_done = w[i].done_ns;
   }
   const long long all_ms = elapsed_ms(first_start, last_done);
   printf("    the three overlapped (all done within twice the delay, not three times): %s\n",
          all_ms < 2 * delay_ms ? "yes" : "no");
   printf("    took %lld ms for the three\n", all_ms);

   printf("  with a deadline %lld ms away, shorter than spam_c_async's delay\n", (long long)delay_ms / 4);
   start_check(h, &w[0], "@mallory:example.org", "crypto again", delay_ms / 4);
   finish_check(&w[0], "async:  ");
   printf("    done ran on another thread (the loader's timer thread): %s\n", w[0].other_thread ? "yes" : "no");

   printf("  cancelled while spam_c_async decides\n");
   start_check(h, &w[0], "@mallory:example.org", "crypto once more", 0);
   sleep_ms((long)delay_ms / 4);
   modkit_loader_async_cancel(w[0].async); /* done runs now, on this thread */
   finish_check(&w[0], "async:  ");
   printf("    done ran before the delay was over: %s\n",
          elapsed_ms(w[0].started_ns, w[0].done_ns) < delay_ms ? "yes" : "no");
}

static int report_load_errors(const modkit_loader *loader, modkit_status status) {
   const size_t count = modkit_loader_error_count(loader);
   fprintf(stderr, "modkit-c-host: could not load the modules (%s), %zu error(s):\n", modkit_status_name(status),
           count);
   for (size_t i = 0; i < count; ++i) {
      const modkit_loader_error *e = modkit_loader_error_at(loader, i);
      fprintf(stderr, "  error %zu\n    code:    %s\n    stage:   %s\n    module:  %s\n    file:    %s\n"
                      "    pointer: %s\n    message: %s\n",
              i + 1, modkit_status_name(e->code), e->stage, e->module, e->file, e->pointer, e->message);
   }
   return 1;
}

int main(int argc, char **argv) {
   if (argc != 2 || argv[1][0] == '-') {
      fprintf(stderr, "usage: %s HOST_CONFIG.json\n", argv[0]);
      return 2;
   }
   const modkit_category *categories[] = {modkit_spam_checker_category(), modkit_password_auth_provider_category()};
   modkit_loader_options options = {0};
   options.struct_size = sizeof options;
   options.categories = categories;
   options.category_count = sizeof categories / sizeof categories[0];
   options.log = print_log;
   host h = {NULL, NULL};
   modkit_status status = modkit_loader_create(&options, &h.loader);
   if (status != MODKIT_OK) {
      fprintf(stderr, "modkit-c-host: cannot create the loader: %s\n", modkit_status_name(status));
      return 1;
   }
   printf("loading %s\n", argv[1]);
   status = modkit_loader_load_file(h.loader, argv[1]);
   if (status != MODKIT_OK) {
      const int code = report_load_errors(h.loader, status);
      modkit_loader_destroy(h.loader);
      return code;
   }
   h.result = modkit_loader_buffer_create();
   if (!h.result || modkit_loader_describe_json(h.loader, h.result) != MODKIT_OK) {
      fprintf(stderr, "modkit-c-host: cannot describe the modules\n");
      modkit_loader_buffer_destroy(h.result);
      modkit_loader_destroy(h.loader);
      return 1;
   }
   printf("loaded %zu modules; what each registered (describe_json):\n", modkit_loader_module_count(h.loader));
   const modkit_str modules = json_member(modkit_loader_buffer_data(h.result), "modules");
   printf("  ");
   print_value(modules.data, modules.data + modules.size, 2);
   putchar('\n');

   printf("dispatching, typed path (entry.fn) and dynamic path (dispatch_json):\n");
   check_message(&h, "@alice:example.org", "hello everyone, lunch at noon?");
   check_message(&h, "@mallory:example.org", "BUY NOW: cheap watches");
   check_message(&h, "@mallory:example.org", "visit my casino");
   check_message(&h, "@mallory:example.org", "cheap viagra here");
   char *long_body = malloc(5001);
   if (long_body) {
      memset(long_body, 'a', 5000);
      long_body[5000] = '\0';
      check_message(&h, "@bob:example.org", long_body);
      free(long_body);
   }
   check_profile(&h, "@carol:example.org", "Carol");
   check_profile(&h, "@mallory:example.org", "Casino Mallory");
   check_registration(&h, "carol");
   check_registration(&h, "admin");
   printf("  password login by email alice@example.org\n");
   dispatch(&h, MODKIT_PASSWORD_AUTH_PROVIDER_ID, "check_3pid_auth",
            "{\"medium\":\"email\",\"address\":\"alice@example.org\",\"password\":\"wonderland\"}");
   printf("  a dispatch with a wrong argument\n");
   dispatch(&h, MODKIT_SPAM_CHECKER_ID, "user_may_join_room", "{\"user_id\":\"@a:x\",\"room_id\":1}");

   async_demo(&h);

   printf("unloading\n");
   modkit_loader_buffer_destroy(h.result);
   modkit_loader_destroy(h.loader);
   return 0;
}

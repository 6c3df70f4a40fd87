/* async_module.c - the callee of the asynchronous dispatch benchmarks (ABI 1.1). Its spam check
 * answers NOT_SPAM; when the call can suspend it hands the call to its worker thread, which
 * completes it delay_us later (0: at once), the way a module waiting on a service would. Built
 * as bench_a00..bench_a15, so pending calls can spread over distinct modules. */
#define _POSIX_C_SOURCE 200809L
#include <modkit/categories/spam_checker.h>
#include <modkit/modkit.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef BENCH_MODULE_NAME
#error "BENCH_MODULE_NAME must be defined"
#endif

typedef struct job {
   struct job *next;
   modkit_call *call;
   modkit_spam_result *result;
   int64_t due_ns;
} job;

typedef struct module {
   const modkit_host_api *api;
   int64_t delay_ns;
   pthread_mutex_t mutex;
   pthread_cond_t wake;
   job *head, *tail; /* FIFO: one delay for all, so also in due order */
   int stopping;
   pthread_t worker;
} module;

static int64_t now_ns(void) {
   struct timespec ts;
   clock_gettime(CLOCK_MONOTONIC, &ts);
   return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void *run(void *arg) {
   module *m = arg;
   pthread_mutex_lock(&m->mutex);
   for (;;) {
      if (!m->head) {
         if (m->stopping) break;
         pthread_cond_wait(&m->wake, &m->mutex);
         continue;
      }
      if (!m->stopping && m->head->due_ns > now_ns()) {
         struct timespec until = {m->head->due_ns / 1000000000, m->head->due_ns % 1000000000};
         pthread_cond_timedwait(&m->wake, &m->mutex, &until);
         continue;
      }
      job *j = m->head;
      m->head = j->next;
      if (!m->head) m->tail = NULL;
      pthread_mutex_unlock(&m->mutex);
      *j->result = MODKIT_NOT_SPAM;
      m->api->call_complete(j->call, MODKIT_OK);
      free(j);
      pthread_mutex_lock(&m->mutex);
   }
   pthread_mutex_unlock(&m->mutex);
   return NULL;
}

static modkit_status check_event_for_spam(void *user_data, modkit_call *call, const modkit_event *event,
                                          modkit_spam_result *result) {
   module *m = user_data;
   (void)event;
   if (!m->api->call_can_suspend(call)) {
      *result = MODKIT_NOT_SPAM;
      return MODKIT_OK;
   }
   job *j = malloc(sizeof *j);
   if (!j) return MODKIT_E_NO_MEMORY;
   j->next = NULL;
   j->call = call;
   j->result = result;
   j->due_ns = m->delay_ns ? now_ns() + m->delay_ns : 0;
   pthread_mutex_lock(&m->mutex);
   if (m->tail) m->tail->next = j;
   else m->head = j;
   m->tail = j;
   pthread_cond_signal(&m->wake);
   pthread_mutex_unlock(&m->mutex);
   return MODKIT_PENDING;
}

static modkit_status parse_config(const modkit_host_api *api, modkit_str config, modkit_buffer *out,
                                  modkit_error_sink *err) {
   (void)err;
   return api->buffer_append(out, config.data, config.size);
}

static modkit_status init(const modkit_host_api *api, modkit_host *host, modkit_str config, void **instance,
                          modkit_error_sink *err) {
   module *m = calloc(1, sizeof *m);
   if (!m) return MODKIT_E_NO_MEMORY;
   m->api = api;
   /* The config is {"delay_us": N} or {}: a number after the colon, if any. */
   const char *colon = memchr(config.data, ':', config.size);
   m->delay_ns = colon ? atoll(colon + 1) * 1000 : 0;
   pthread_mutex_init(&m->mutex, NULL);
   pthread_cond_init(&m->wake, NULL);
   if (pthread_create(&m->worker, NULL, run, m) != 0) {
      api->report_error(err, MODKIT_E_INTERNAL, "", "cannot start the worker thread");
      free(m);
      return MODKIT_E_INTERNAL;
   }
   modkit_spam_checker_callbacks callbacks = {0};
   callbacks.struct_size = sizeof callbacks;
   callbacks.check_event_for_spam = check_event_for_spam;
   *instance = m;
   return modkit_register_spam_checker_callbacks(api, host, &callbacks, m);
}

static void deinit(void *instance) {
   module *m = instance;
   pthread_mutex_lock(&m->mutex);
   m->stopping = 1; /* whatever is queued completes now */
   pthread_cond_signal(&m->wake);
   pthread_mutex_unlock(&m->mutex);
   pthread_join(m->worker, NULL);
   free(m);
}

static const modkit_module descriptor = {
   sizeof(modkit_module), MODKIT_ABI_VERSION_MAJOR, MODKIT_ABI_VERSION_MINOR, BENCH_MODULE_NAME, "1.1.0",
   "an asynchronous dispatch benchmark callee", NULL, parse_config, init, deinit,
};

MODKIT_DECLARE_MODULE(descriptor, BENCH_MODULE_NAME, "1.1.0", "modkit.spam_checker");

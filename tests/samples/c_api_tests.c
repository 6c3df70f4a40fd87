/* c_api_tests.c - every function of modkit/loader.h, called from plain C11 as a C host would.
 *
 * Uses the probe fixture modules (tests/fixtures/probe.cpp: every answer comes from its config)
 * and the host-defined test category. Prints each failed check, then "N passed, M failed" as
 * its last line; exits 1 if any check failed. */
#include "test_category.h"

#include <modkit/categories/password_auth_provider.h>
#include <modkit/categories/spam_checker.h>
#include <modkit/loader.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int passed, failed;

static bool check(bool ok, const char *what, int line) {
   if (ok) ++passed;
   else {
      ++failed;
      fprintf(stderr, "c_api_tests.c:%d: check failed: %s\n", line, what);
   }
   return ok;
}
#define CHECK(cond) check((cond), #cond, __LINE__)

/* ---- the log, captured as "module|message" lines ---- */

static char log_text[1 << 16];
static size_t log_size;

static void capture_log(void *user_data, modkit_log_level level, const char *module, modkit_str message) {
   (void)user_data, (void)level;
   const int n = snprintf(log_text + log_size, sizeof log_text - log_size, "%s|%.*s\n", module ? module : "-",
                          (int)message.size, message.data);
   if (n > 0 && (size_t)n < sizeof log_text - log_size) log_size += (size_t)n;
}

static void log_clear(void) {
   log_size = 0;
   log_text[0] = '\0';
}

/* Where needle first appears in the log; -1 if it does not. */
static long log_find(const char *needle) {
   const char *at = strstr(log_text, needle);
   return at ? (long)(at - log_text) : -1;
}
static bool logged(const char *needle) { return log_find(needle) >= 0; }

/* ---- helpers ---- */

static bool str_is(modkit_str s, const char *text) {
   return s.size == strlen(text) && (s.size == 0 || memcmp(s.data, text, s.size) == 0);
}
static bool has(const char *haystack, const char *needle) { return haystack && strstr(haystack, needle) != NULL; }
static bool ends_with(const char *s, const char *tail) {
   return s && strlen(s) >= strlen(tail) && strcmp(s + strlen(s) - strlen(tail), tail) == 0;
}

static modkit_loader *create_host(void) {
   static const modkit_category *categories[3];
   categories[0] = modkit_spam_checker_category();
   categories[1] = modkit_password_auth_provider_category();
   categories[2] = test_category();
   modkit_loader_options o = {0};
   o.struct_size = sizeof o;
   o.categories = categories;
   o.category_count = 3;
   o.log = capture_log;
   static const char *const reserved[] = {"/_matrix/"};
   o.reserved_web_prefixes = reserved;
   o.reserved_web_prefix_count = 1;
   modkit_loader *loader = NULL;
   return modkit_loader_create(&o, &loader) == MODKIT_OK ? loader : NULL;
}

/* A host config of the fixture modules: modules_json is the "modules" array. */
static char *config_of(const char *modules_json) {
   const size_t cap = strlen(modules_json) + strlen(MODKIT_FIXTURE_DIR) + 64;
   char *text = malloc(cap);
   if (text) snprintf(text, cap, "{\"module_path\": [\"%s\"], \"modules\": %s}", MODKIT_FIXTURE_DIR, modules_json);
   return text;
}

static modkit_status load(modkit_loader *loader, const char *modules_json) {
   char *config = config_of(modules_json);
   const modkit_status s = config ? modkit_loader_load(loader, config, strlen(config)) : MODKIT_E_NO_MEMORY;
   free(config);
   return s;
}

/* Dispatches with args; the result document stays in the buffer. */
static modkit_status dispatch(modkit_loader *loader, modkit_buffer *out, const char *category, const char *slot,
                              const char *args, modkit_call *call) {
   modkit_loader_buffer_clear(out);
   return modkit_loader_dispatch_json(loader, category, slot, args, strlen(args), call, out);
}

/* The result text, NUL-terminated in a static copy for strstr. */
static const char *text_of(const modkit_buffer *out) {
   static char copy[8192];
   const modkit_str s = modkit_loader_buffer_data(out);
   const size_t n = s.size < sizeof copy - 1 ? s.size : sizeof copy - 1;
   if (n) memcpy(copy, s.data, n);
   copy[n] = '\0';
   return copy;
}

/* ---- creation ---- */

static void test_create(void) {
   modkit_loader *loader = NULL;
   modkit_loader_options o = {0};
   o.struct_size = sizeof o;
   o.log = capture_log;
   CHECK(modkit_loader_create(NULL, &loader) == MODKIT_E_INVALID_ARGUMENT);
   CHECK(modkit_loader_create(&o, NULL) == MODKIT_E_INVALID_ARGUMENT);

   modkit_loader_options short_options = o;
   short_options.struct_size = 4;
   CHECK(modkit_loader_create(&short_options, &loader) == MODKIT_E_INVALID_ARGUMENT);
   o.category_count = 1; /* but no array */
   CHECK(modkit_loader_create(&o, &loader) == MODKIT_E_INVALID_ARGUMENT);

   /* A slot whose offset lies outside the callbacks struct. */
   modkit_category broken = *test_category();
   broken.callbacks_size = 8;
   const modkit_category *bad[] = {&broken};
   o.categories = bad;
   log_clear();
   CHECK(modkit_loader_create(&o, &loader) == MODKIT_E_INVALID_ARGUMENT);
   CHECK(loader == NULL);
   CHECK(logged("outside the callbacks struct"));

   /* The same refusal for a category described in JSON, with the JSON pointer at fault. */
   o.categories = NULL;
   o.category_count = 0;
   o.categories_json = "[{\"id\": \"x.greeter\", \"major\": 1, \"slots\": []}]";
   log_clear();
   CHECK(modkit_loader_create(&o, &loader) == MODKIT_E_INVALID_ARGUMENT);
   CHECK(logged("/0/slots"));

   /* A well-formed JSON category is usable like one from a header. */
   o.categories_json = "[{\"id\": \"x.greeter\", \"major\": 1, \"slots\": [{\"name\": \"greet\", "
                       "\"signature\": \"name: str, reply: *buf\", \"combine\": \"first_non_zero\", "
                       "\"on_error\": \"fail_open\"}]}]";
   CHECK(modkit_loader_create(&o, &loader) == MODKIT_OK);
   const modkit_loader_slot *slot = NULL;
   CHECK(modkit_loader_find_slot(loader, "x.greeter", "greet", &slot) == MODKIT_OK && slot &&
         strcmp(slot->desc->signature, "name: str, reply: *buf") == 0 && slot->count == 0);
   modkit_loader_destroy(loader);

   modkit_loader_destroy(NULL); /* ignored */
}

/* ---- load errors, read as data ---- */

static void test_load_errors(void) {
   modkit_loader *loader = create_host();
   if (!CHECK(loader != NULL)) return;
   log_clear();
   const modkit_status s = load(loader, "[{\"module\": \"probe_a\", \"config\": {\"tag\": \"a\"}},"
                                        " {\"module\": \"probe_b\", \"config\": {\"tag\": \"b\", \"max_size\": \"big\"}}]");
   CHECK(s == MODKIT_E_CONFIG);
   CHECK(modkit_loader_error_count(loader) == 1);
   const modkit_loader_error *e = modkit_loader_error_at(loader, 0);
   if (CHECK(e != NULL)) {
      CHECK(e->struct_size == sizeof *e);
      CHECK(e->code == MODKIT_E_CONFIG);
      CHECK(strcmp(e->stage, "configure") == 0);
      CHECK(strcmp(e->module, "probe_b") == 0);
      CHECK(ends_with(e->file, "/probe_b.so"));
      CHECK(strcmp(e->pointer, "/modules/1/config/max_size") == 0);
      CHECK(has(e->message, "\"big\""));
      CHECK(has(e->text, "/modules/1/config/max_size") && has(e->text, "probe_b"));
   }
   CHECK(modkit_loader_error_at(loader, 1) == NULL);
   CHECK(modkit_loader_module_count(loader) == 0);
   CHECK(!logged("a:init")); /* no module is initialised unless every one configures */
   modkit_loader_destroy(loader);

   loader = create_host();
   if (!CHECK(loader != NULL)) return;
   CHECK(load(loader, "[{\"module\": \"no_such_module\", \"config\": {}}]") == MODKIT_E_NOT_FOUND);
   e = modkit_loader_error_at(loader, 0);
   CHECK(e && strcmp(e->stage, "resolve") == 0 && strcmp(e->module, "no_such_module") == 0 &&
         strcmp(e->file, "") == 0 && strcmp(e->pointer, "/modules/0/module") == 0);
   modkit_loader_destroy(loader);

   loader = create_host();
   if (!CHECK(loader != NULL)) return;
   CHECK(modkit_loader_load(loader, "{\"modules\": ", 12) != MODKIT_OK);
   e = modkit_loader_error_at(loader, 0);
   CHECK(e && strcmp(e->stage, "config") == 0);
   modkit_loader_destroy(loader);

   loader = create_host();
   if (!CHECK(loader != NULL)) return;
   CHECK(modkit_loader_load_file(loader, MODKIT_SCRATCH_DIR "/does-not-exist.json") != MODKIT_OK);
   e = modkit_loader_error_at(loader, 0);
   CHECK(e && strcmp(e->stage, "config") == 0 && has(e->message, "does-not-exist.json"));
   CHECK(modkit_loader_load_file(loader, NULL) == MODKIT_E_INVALID_ARGUMENT);
   CHECK(modkit_loader_load(NULL, "{}", 2) == MODKIT_E_INVALID_ARGUMENT);
   modkit_loader_destroy(loader);
}

/* ---- a loaded host ---- */

static const char three_probes[] =
   "{\"module_path\": [\"" MODKIT_FIXTURE_DIR "\"], \"modules\": ["
   " {\"module\": \"probe_a\", \"config\": {\"tag\": \"a\", \"ttl\": \"5s\", \"web\": [\"/_modkit/a/hello\"],"
   "   \"cache\": \"words\", \"answers\": {\"decide\": 0, \"check_event_for_spam\": 0}, \"errors\": {\"only\": 7}}},"
   " {\"module\": \"probe_b\", \"config\": {\"tag\": \"b\", \"answers\": {\"decide\": 2, \"check_event_for_spam\": 1}}},"
   " {\"module\": \"probe_c\", \"config\": {\"tag\": \"c\", \"answers\": {\"decide\": 1}, \"errors\": {\"strict\": 4}}}]}";

static modkit_loader *load_three_from_file(void) {
   const char *path = MODKIT_SCRATCH_DIR "/c_api_three_probes.json";
   FILE *f = fopen(path, "w");
   if (!CHECK(f != NULL)) return NULL;
   fputs(three_probes, f);
   fclose(f);
   modkit_loader *loader = create_host();
   if (!loader) return NULL;
   log_clear();
   if (!CHECK(modkit_loader_load_file(loader, path) == MODKIT_OK)) {
      for (size_t i = 0; i < modkit_loader_error_count(loader); ++i)
         fprintf(stderr, "  %s\n", modkit_loader_error_at(loader, i)->text);
      modkit_loader_destroy(loader);
      return NULL;
   }
   CHECK(modkit_loader_error_count(loader) == 0);
   CHECK(modkit_loader_load(loader, "{}", 2) == MODKIT_E_STATE); /* once per loader */
   CHECK(modkit_loader_error_count(loader) == 1 && strcmp(modkit_loader_error_at(loader, 0)->stage, "config") == 0);
   CHECK(modkit_loader_module_count(loader) == 3); /* the loaded modules are untouched */
   return loader;
}

static void test_modules(modkit_loader *loader) {
   CHECK(modkit_loader_module_count(loader) == 3);
   const modkit_loader_module *m = modkit_loader_module_at(loader, 0);
   if (CHECK(m != NULL)) {
      CHECK(m->struct_size == sizeof *m);
      CHECK(strcmp(m->name, "probe_a") == 0 && strcmp(m->version, "1.0.0") == 0);
      CHECK(strcmp(m->description, "configurable test module") == 0);
      CHECK(ends_with(m->path, "/probe_a.so"));
      CHECK(has(m->config_json, "\"ttl_ms\":5000") && !has(m->config_json, "\"ttl\":")); /* normalised */
      CHECK(m->position == 0);
   }
   CHECK(modkit_loader_module_at(loader, 2) && modkit_loader_module_at(loader, 2)->position == 2);
   CHECK(modkit_loader_module_at(loader, 3) == NULL);
   CHECK(modkit_loader_module_count(NULL) == 0);

   modkit_loader_log(loader, MODKIT_LOG_WARNING, "from-the-host", modkit_str_from_cstr("a line of the host's"));
   CHECK(logged("from-the-host|a line of the host's"));
}

typedef modkit_status (*decide_fn)(void *, modkit_call *, int32_t, int32_t *);
typedef modkit_status (*collect_fn)(void *, modkit_call *, modkit_buffer *);

static void test_registry_and_typed_calls(modkit_loader *loader) {
   const modkit_loader_slot *slot = NULL;
   CHECK(modkit_loader_slot_at(loader, TEST_CATEGORY_ID, TEST_DECIDE, &slot) == MODKIT_OK);
   if (!CHECK(slot && slot->count == 3)) return;
   CHECK(strcmp(slot->category->id, TEST_CATEGORY_ID) == 0 && strcmp(slot->desc->name, "decide") == 0);
   for (uint32_t i = 0; i < 3; ++i) CHECK(slot->entries[i].module_index == i);

   const modkit_loader_slot *by_name = NULL;
   CHECK(modkit_loader_find_slot(loader, TEST_CATEGORY_ID, "decide", &by_name) == MODKIT_OK && by_name &&
         by_name->desc == slot->desc && by_name->count == 3);
   CHECK(modkit_loader_find_slot(loader, TEST_CATEGORY_ID, "nope", &by_name) == MODKIT_E_NOT_FOUND && !by_name);
   CHECK(modkit_loader_slot_at(loader, "modkit.nope", 0, &by_name) == MODKIT_E_NOT_FOUND && !by_name);
   CHECK(modkit_loader_slot_at(loader, TEST_CATEGORY_ID, TEST_SLOT_COUNT, &by_name) == MODKIT_E_NOT_FOUND);
   CHECK(modkit_loader_slot_at(loader, TEST_CATEGORY_ID, 0, NULL) == MODKIT_E_INVALID_ARGUMENT);
   CHECK(modkit_loader_slot_at(loader, MODKIT_SPAM_CHECKER_ID, MODKIT_SPAM_CHECKER_CHECK_EVENT_FOR_SPAM, &by_name) ==
            MODKIT_OK &&
         by_name->count == 2);
   CHECK(modkit_loader_slot_at(loader, MODKIT_PASSWORD_AUTH_PROVIDER_ID, 0, &by_name) == MODKIT_OK &&
         by_name->count == 0);

   /* Typed: cast each entry to the slot's type; the first non-zero answer wins. */
   modkit_call call = modkit_call_make(modkit_str_from_cstr("req-42"));
   int32_t answer = 0;
   uint32_t decided_by = UINT32_MAX;
   for (size_t i = 0; i < slot->count && decided_by == UINT32_MAX; ++i) {
      test_callbacks cb = {0};
      cb.decide = (decide_fn)slot->entries[i].fn;
      int32_t value = 0;
      CHECK(cb.decide(slot->entries[i].user_data, &call, 7, &value) == MODKIT_OK);
      if (value != 0) answer = value, decided_by = slot->entries[i].module_index;
   }
   CHECK(answer == 2 && decided_by == 1);
   CHECK(logged("a:decide(7)@req-42") && logged("b:decide(7)@req-42") && !logged("c:decide(7)"));

   /* A "*buf" output: a host-owned buffer the module appends to. */
   modkit_buffer *buffer = modkit_loader_buffer_create();
   const modkit_loader_slot *collect = NULL;
   if (CHECK(buffer && modkit_loader_slot_at(loader, TEST_CATEGORY_ID, TEST_COLLECT, &collect) == MODKIT_OK)) {
      CHECK(str_is(modkit_loader_buffer_data(buffer), ""));
      test_callbacks cb = {0};
      cb.collect = (collect_fn)collect->entries[2].fn;
      CHECK(cb.collect(collect->entries[2].user_data, &call, buffer) == MODKIT_OK);
      CHECK(str_is(modkit_loader_buffer_data(buffer), "c"));
      modkit_loader_buffer_clear(buffer);
      CHECK(str_is(modkit_loader_buffer_data(buffer), ""));
   }
   modkit_loader_buffer_destroy(buffer);
   modkit_loader_buffer_destroy(NULL);
   CHECK(modkit_loader_buffer_data(NULL).data == NULL);
}

static uint64_t generation_now(modkit_loader *loader) {
   modkit_loader_reader *reader = modkit_loader_reader_get(loader);
   const uint64_t g = modkit_loader_read_begin(reader)->generation;
   modkit_loader_read_end(reader);
   return g;
}

static void test_read_sections(modkit_loader *loader) {
   const int32_t test = modkit_loader_category_index(loader, TEST_CATEGORY_ID);
   CHECK(test == 2); /* the order the loader was created with */
   CHECK(modkit_loader_category_index(loader, "modkit.nope") == -1);
   modkit_loader_reader *reader = modkit_loader_reader_get(loader);
   if (!CHECK(reader != NULL)) return;
   CHECK(modkit_loader_reader_get(loader) == reader); /* one per thread */
   const modkit_loader_snapshot *snap = modkit_loader_read_begin(reader);
   CHECK(snap->struct_size == sizeof *snap && snap->category_count == 3);
   const modkit_loader_slot *decide = modkit_loader_snapshot_slot(snap, (uint32_t)test, TEST_DECIDE);
   CHECK(decide && decide->count == 3);
   CHECK(modkit_loader_snapshot_slot(snap, (uint32_t)test, TEST_SLOT_COUNT) == NULL);
   CHECK(modkit_loader_snapshot_slot(snap, 3, 0) == NULL);
   CHECK(snap->web_resource_count == 1 && snap->cache_count == 1);
   CHECK(modkit_loader_read_begin(reader) == snap); /* sections nest */
   modkit_loader_read_end(reader);
   CHECK(reader->depth == 1);
   modkit_loader_read_end(reader);
   CHECK(reader->depth == 0 && reader->active == 0);
}

static void test_web_and_cache(modkit_loader *loader) {
   CHECK(modkit_loader_web_resource_count(loader) == 1);
   const modkit_loader_web_resource *w = modkit_loader_web_resource_at(loader, 0);
   CHECK(modkit_loader_web_resource_at(loader, 1) == NULL);
   if (CHECK(w && strcmp(w->path, "/_modkit/a/hello") == 0 && w->module_index == 0)) {
      modkit_http_request request = {0};
      request.struct_size = sizeof request;
      request.method = modkit_str_from_cstr("GET");
      request.path = modkit_str_from_cstr("/_modkit/a/hello");
      request.headers_json = modkit_str_from_cstr("{}");
      modkit_http_response *response = modkit_loader_response_create();
      modkit_call call = modkit_call_make(modkit_str_from_cstr("web-1"));
      CHECK(w->handler(w->user_data, &call, &request, response) == MODKIT_OK);
      CHECK(modkit_loader_response_status(response) == 200);
      CHECK(str_is(modkit_loader_response_body(response), "hello from a at /_modkit/a/hello"));
      CHECK(modkit_loader_response_header_count(response) == 1);
      modkit_str name = {0}, value = {0};
      CHECK(modkit_loader_response_header_at(response, 0, &name, &value) && str_is(name, "content-type") &&
            str_is(value, "text/plain"));
      CHECK(!modkit_loader_response_header_at(response, 1, &name, &value));
      modkit_loader_response_destroy(response);
   }
   CHECK(modkit_loader_response_status(NULL) == 0);

   CHECK(modkit_loader_cache_count(loader) == 1);
   const modkit_loader_cache *cache = modkit_loader_cache_at(loader, 0);
   CHECK(cache && strcmp(cache->name, "words") == 0 && cache->module_index == 0);
   CHECK(modkit_loader_cache_at(loader, 1) == NULL);
   const modkit_str key = MODKIT_STR_LIT("[\"spam\"]");
   CHECK(modkit_loader_invalidate_cache(loader, "probe_a", "words", &key) == MODKIT_OK);
   CHECK(logged("a:invalidate:[\"spam\"]"));
   CHECK(modkit_loader_invalidate_cache(loader, "probe_a", "words", NULL) == MODKIT_OK);
   CHECK(logged("a:invalidate:*"));
   CHECK(modkit_loader_invalidate_cache(loader, "probe_a", "phrases", NULL) == MODKIT_E_NOT_FOUND);
   CHECK(modkit_loader_invalidate_cache(loader, "probe_b", "words", NULL) == MODKIT_E_NOT_FOUND);
}

static void test_dynamic(modkit_loader *loader) {
   modkit_buffer *out = modkit_loader_buffer_create();
   if (!CHECK(out != NULL)) return;
   modkit_call call = modkit_call_make(modkit_str_from_cstr("req-dyn"));
   CHECK(dispatch(loader, out, TEST_CATEGORY_ID, "decide", "{\"input\": 7}", &call) == MODKIT_OK);
   CHECK(has(text_of(out), "\"outcome\":\"decided\"") && has(text_of(out), "\"module\":\"probe_b\"") &&
         has(text_of(out), "\"answer\":{\"result\":2}"));
   CHECK(logged("b:decide(7)@req-dyn"));
   CHECK(dispatch(loader, out, TEST_CATEGORY_ID, "decide", "[5]", NULL) == MODKIT_OK); /* arguments in order */
   CHECK(has(text_of(out), "\"module\":\"probe_b\"") && logged("a:decide(5)"));

   CHECK(dispatch(loader, out, TEST_CATEGORY_ID, "lenient", "{}", NULL) == MODKIT_OK);
   CHECK(has(text_of(out), "\"outcome\":\"no_opinion\"") && has(text_of(out), "\"module\":null"));
   CHECK(dispatch(loader, out, TEST_CATEGORY_ID, "strict", "{}", NULL) == MODKIT_OK); /* fails closed */
   CHECK(has(text_of(out), "\"outcome\":\"failed_closed\"") && has(text_of(out), "\"module\":\"probe_c\""));
   CHECK(dispatch(loader, out, TEST_CATEGORY_ID, "only", "{}", NULL) == MODKIT_E_STATE); /* propagates */
   CHECK(has(text_of(out), "\"outcome\":\"error\"") && has(text_of(out), "\"status\":\"state\""));
   CHECK(dispatch(loader, out, MODKIT_SPAM_CHECKER_ID, "check_event_for_spam",
                  "{\"event\": {\"sender\": \"@m:x\", \"content_json\": {\"body\": \"hi\"}}}", NULL) == MODKIT_OK);
   CHECK(has(text_of(out), "\"module\":\"probe_b\"") && logged("a:check_event_for_spam(@m:x)"));

   CHECK(dispatch(loader, out, TEST_CATEGORY_ID, "decide", "{\"input\": \"seven\"}", NULL) ==
         MODKIT_E_INVALID_ARGUMENT);
   CHECK(has(text_of(out), "\"error\":\"argument 'input'"));
   CHECK(dispatch(loader, out, TEST_CATEGORY_ID, "decide", "{\"input\": 4294967296}", NULL) ==
         MODKIT_E_INVALID_ARGUMENT);
   CHECK(has(text_of(out), "out of range for i32"));
   CHECK(dispatch(loader, out, TEST_CATEGORY_ID, "decide", "{}", NULL) == MODKIT_E_INVALID_ARGUMENT);
   CHECK(has(text_of(out), "missing argument 'input'"));
   CHECK(dispatch(loader, out, TEST_CATEGORY_ID, "decide", "{\"input\": ", NULL) == MODKIT_E_INVALID_ARGUMENT);
   CHECK(dispatch(loader, out, TEST_CATEGORY_ID, "nope", "{}", NULL) == MODKIT_E_NOT_FOUND);
   CHECK(dispatch(loader, out, "modkit.nope", "decide", "{}", NULL) == MODKIT_E_NOT_FOUND);
   CHECK(modkit_loader_dispatch_json(loader, TEST_CATEGORY_ID, "decide", "{}", 2, NULL, NULL) ==
         MODKIT_E_INVALID_ARGUMENT);

   /* One module alone. */
   modkit_loader_buffer_clear(out);
   CHECK(modkit_loader_call_json(loader, "probe_c", TEST_CATEGORY_ID, "decide", "{\"input\": 3}", 12, NULL, out) ==
         MODKIT_OK);
   CHECK(has(text_of(out), "\"module\":\"probe_c\"") && has(text_of(out), "\"outputs\":{\"result\":1}"));
   CHECK(modkit_loader_call_json(loader, "nobody", TEST_CATEGORY_ID, "decide", "{\"input\": 3}", 12, NULL, out) ==
         MODKIT_E_NOT_FOUND);
   CHECK(modkit_loader_call_json(loader, "probe_c", TEST_CATEGORY_ID, "decide", "{\"input\": true}", 15, NULL, out) ==
         MODKIT_E_INVALID_ARGUMENT);
   CHECK(has(text_of(out), "argument 'input'"));

   modkit_loader_buffer_clear(out);
   CHECK(modkit_loader_describe_json(loader, out) == MODKIT_OK);
   const char *doc = text_of(out);
   CHECK(has(doc, "\"name\":\"probe_a\"") && has(doc, "\"name\":\"probe_c\""));
   CHECK(has(doc, "\"web_resources\":[\"/_modkit/a/hello\"]") && has(doc, "\"cached_functions\":[\"words\"]"));
   CHECK(has(doc, "\"modkit.spam_checker\":[\"check_event_for_spam\"]"));
   CHECK(has(doc, "\"id\":\"modkit.password_auth_provider\""));
   CHECK(modkit_loader_describe_json(loader, NULL) == MODKIT_E_INVALID_ARGUMENT);
   modkit_loader_buffer_destroy(out);
}

static void test_unload_and_reload(modkit_loader *loader) {
   modkit_buffer *out = modkit_loader_buffer_create();
   /* Inside a read section the unload would wait for the section itself: refused. */
   modkit_loader_reader *reader = modkit_loader_reader_get(loader);
   modkit_loader_read_begin(reader);
   CHECK(modkit_loader_unload_module(loader, "probe_b") == MODKIT_E_STATE);
   CHECK(modkit_loader_reload_module(loader, "probe_b") == MODKIT_E_STATE);
   modkit_loader_read_end(reader);
   CHECK(modkit_loader_module_count(loader) == 3);
   const uint64_t before = generation_now(loader);
   CHECK(modkit_loader_unload_module(loader, "probe_b") == MODKIT_OK);
   CHECK(logged("b:deinit"));
   CHECK(generation_now(loader) > before);
   CHECK(modkit_loader_module_count(loader) == 2);
   CHECK(strcmp(modkit_loader_module_at(loader, 1)->name, "probe_c") == 0);
   const modkit_loader_slot *slot = NULL;
   CHECK(modkit_loader_slot_at(loader, TEST_CATEGORY_ID, TEST_DECIDE, &slot) == MODKIT_OK && slot->count == 2 &&
         slot->entries[1].module_index == 1);
   CHECK(dispatch(loader, out, TEST_CATEGORY_ID, "decide", "{\"input\": 1}", NULL) == MODKIT_OK);
   CHECK(has(text_of(out), "\"module\":\"probe_c\"") && has(text_of(out), "\"answer\":{\"result\":1}"));
   CHECK(modkit_loader_unload_module(loader, "probe_b") == MODKIT_E_NOT_FOUND);
   CHECK(modkit_loader_error_count(loader) == 1 && has(modkit_loader_error_at(loader, 0)->message, "probe_b"));
   CHECK(modkit_loader_unload_module(loader, NULL) == MODKIT_E_INVALID_ARGUMENT);

   log_clear();
   CHECK(modkit_loader_reload_module(loader, "probe_a") == MODKIT_OK);
   CHECK(logged("a:init") && logged("a:deinit"));
   CHECK(modkit_loader_module_count(loader) == 2 && strcmp(modkit_loader_module_at(loader, 0)->name, "probe_a") == 0);
   CHECK(modkit_loader_web_resource_count(loader) == 1); /* the new instance registered it again */
   CHECK(dispatch(loader, out, TEST_CATEGORY_ID, "decide", "{\"input\": 2}", NULL) == MODKIT_OK);
   CHECK(logged("a:decide(2)"));
   CHECK(modkit_loader_reload_module(loader, "probe_b") == MODKIT_E_NOT_FOUND);
   modkit_loader_buffer_destroy(out);

   log_clear();
   modkit_loader_destroy(loader);
   CHECK(logged("c:deinit") && logged("a:deinit") && log_find("c:deinit") < log_find("a:deinit")); /* reverse */
}

/* The exported twins of the inline functions (for FFI hosts), the snapshot's module list and
 * the per-callback metrics (since 1.1). */
static void test_exported_reads_and_metrics(modkit_loader *loader) {
   const int32_t test = modkit_loader_category_index(loader, TEST_CATEGORY_ID);
   modkit_loader_reader *reader = modkit_loader_reader_get(loader);
   if (!CHECK(reader != NULL && test >= 0)) return;
   const modkit_loader_snapshot *snap = modkit_loader_read_section_begin(reader);
   CHECK(reader->depth == 1 && reader->active != 0);
   const modkit_loader_slot *decide = modkit_loader_snapshot_slot_at(snap, (uint32_t)test, TEST_DECIDE);
   CHECK(decide && decide->count == 3);
   CHECK(modkit_loader_snapshot_slot_at(snap, (uint32_t)test, TEST_SLOT_COUNT) == NULL);
   CHECK(modkit_loader_snapshot_slot_at(NULL, 0, 0) == NULL);
   if (CHECK(MODKIT_HAS_FIELD(snap, modkit_loader_snapshot, modules) && snap->module_count == 3) && decide) {
      for (size_t i = 0; i < decide->count; ++i)
         CHECK(strcmp(snap->modules[decide->entries[i].module_index].name, i == 0 ? "probe_a" : i == 1 ? "probe_b" : "probe_c") == 0);
   }
   /* Three counted calls of decide, the second failing: the metric of each registration. */
   modkit_call call = modkit_call_make(modkit_str_from_cstr("metered"));
   for (size_t i = 0; decide && i < decide->count; ++i) {
      test_callbacks cb = {0};
      cb.decide = (decide_fn)decide->entries[i].fn;
      int32_t value = 0;
      const uint64_t started = modkit_loader_metrics_begin(reader);
      const modkit_status s = cb.decide(decide->entries[i].user_data, &call, 1, &value);
      modkit_loader_metrics_end(reader, &decide->entries[i], i == 1 ? MODKIT_E_INTERNAL : s, started);
      CHECK(decide->entries[i].reserved != 0);
   }
   modkit_loader_read_section_end(reader);
   CHECK(reader->depth == 0 && reader->active == 0);

   size_t found = 0;
   for (size_t i = 0; i < modkit_loader_metric_count(loader); ++i) {
      modkit_loader_metric m;
      memset(&m, 0, sizeof m);
      m.struct_size = sizeof m;
      if (!CHECK(modkit_loader_metric_at(loader, i, &m) == MODKIT_OK)) continue;
      if (strcmp(m.category_id, TEST_CATEGORY_ID) != 0 || strcmp(m.slot, "decide") != 0) continue;
      ++found;
      CHECK(m.calls >= 1);
      CHECK(m.errors == (strcmp(m.module, "probe_b") == 0 ? 1u : 0u));
      CHECK(m.timed_calls <= m.calls);
   }
   CHECK(found == 3);
   modkit_loader_metric small;
   memset(&small, 0, sizeof small);
   small.struct_size = 8; /* shorter than any shipped modkit_loader_metric */
   CHECK(modkit_loader_metric_at(loader, 0, &small) == MODKIT_E_INVALID_ARGUMENT);
   modkit_loader_metric none;
   memset(&none, 0, sizeof none);
   none.struct_size = sizeof none;
   CHECK(modkit_loader_metric_at(loader, modkit_loader_metric_count(loader), &none) == MODKIT_E_NOT_FOUND);
}

int main(void) {
   test_create();
   test_load_errors();
   modkit_loader *loader = load_three_from_file();
   if (loader) {
      test_modules(loader);
      test_registry_and_typed_calls(loader);
      test_read_sections(loader);
      test_exported_reads_and_metrics(loader);
      test_web_and_cache(loader);
      test_dynamic(loader);
      test_unload_and_reload(loader);
   }
   printf("%d passed, %d failed\n", passed, failed);
   return failed == 0 ? 0 : 1;
}

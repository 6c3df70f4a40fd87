/* dispatch_module.c - the callee of the dispatch and load benchmarks. Built many times under
 * distinct names (BENCH_MODULE_NAME), so a dispatch walks callbacks in distinct dlopened
 * modules and a startup loads distinct files. Its spam check reads the event and answers
 * NOT_SPAM, so a first-non-zero dispatch calls every module. */
#include <modkit/categories/spam_checker.h>
#include <modkit/modkit.h>

#ifndef BENCH_MODULE_NAME
#error "BENCH_MODULE_NAME must be defined"
#endif

static int calls;

static modkit_status check_event_for_spam(void *user_data, modkit_call *call, const modkit_event *event,
                                          modkit_spam_result *result) {
   (void)user_data, (void)call;
   calls += event->sender.size > 0;
   *result = MODKIT_NOT_SPAM;
   return MODKIT_OK;
}

static modkit_status parse_config(const modkit_host_api *api, modkit_str config, modkit_buffer *out,
                                  modkit_error_sink *err) {
   (void)err;
   return api->buffer_append(out, config.data, config.size);
}

static modkit_status init(const modkit_host_api *api, modkit_host *host, modkit_str config, void **instance,
                          modkit_error_sink *err) {
   (void)config, (void)err;
   modkit_spam_checker_callbacks callbacks = {0};
   callbacks.struct_size = sizeof callbacks;
   callbacks.check_event_for_spam = check_event_for_spam;
   *instance = NULL;
   return modkit_register_spam_checker_callbacks(api, host, &callbacks, NULL);
}

static void deinit(void *instance) { (void)instance; }

static const modkit_module descriptor = {
   sizeof(modkit_module), MODKIT_ABI_VERSION_MAJOR, MODKIT_ABI_VERSION_MINOR, BENCH_MODULE_NAME, "1.0.0",
   "a dispatch benchmark callee", NULL, parse_config, init, deinit,
};

MODKIT_DECLARE_MODULE(descriptor, BENCH_MODULE_NAME, "1.0.0", "modkit.spam_checker");

/* bench_module.c - the module the invoker benchmark calls: two spam-checker callbacks, one taking
 * strings by value and one a struct by pointer, each cheap but reading its arguments, so each
 * path's cost is the cost of getting there. */
#include <modkit/categories/spam_checker.h>
#include <modkit/modkit.h>

static modkit_status user_may_join_room(void *user_data, modkit_call *call, modkit_str user_id, modkit_str room_id,
                                        bool is_invited, modkit_spam_result *result) {
   (void)user_data, (void)call;
   if (!is_invited && user_id.size > 0 && room_id.size > 0 && room_id.data[0] == '#')
      *result = MODKIT_SPAM_FORBIDDEN;
   return MODKIT_OK;
}

static modkit_status check_event_for_spam(void *user_data, modkit_call *call, const modkit_event *event,
                                          modkit_spam_result *result) {
   (void)user_data, (void)call;
   if (event->sender.size > 0 && event->sender.data[0] == '@' && event->content_json.size > 2)
      *result = MODKIT_SPAM_FORBIDDEN;
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
   callbacks.user_may_join_room = user_may_join_room;
   callbacks.check_event_for_spam = check_event_for_spam;
   *instance = NULL;
   return modkit_register_spam_checker_callbacks(api, host, &callbacks, NULL);
}

static void deinit(void *instance) { (void)instance; }

static const modkit_module descriptor = {
   sizeof(modkit_module), MODKIT_ABI_VERSION_MAJOR, MODKIT_ABI_VERSION_MINOR, "bench_module", "1.0.0",
   "the invoker benchmark's callee", NULL, parse_config, init, deinit,
};

MODKIT_DECLARE_MODULE(descriptor, "bench_module", "1.0.0", "modkit.spam_checker");

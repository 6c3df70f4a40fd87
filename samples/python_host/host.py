#!/usr/bin/env python3
"""A modkit host in Python 3: the standard library's ctypes over libmodkit-loader.so.

Python cannot include the C headers, so the spam-checker and password-auth-provider
categories are described to the loader in JSON (options.categories_json), slot for slot as
modkit/categories/*.h define them. The host loads the modules a config names, prints them,
and dispatches spam checks and password checks by slot name with JSON arguments
(modkit_loader_dispatch_json), printing each decision and the module that made it. It also awaits dispatches from asyncio
(modkit_loader_dispatch_json_async, Loader.dispatch_async): several at once, one past its
deadline and one cancelled, with the C module spam_c_async, which decides on its own thread.

    host.py [--lib libmodkit-loader.so] CONFIG.json      (or MODKIT_LOADER_LIB=...)
    host.py --print-categories                            (the categories JSON, then exit)

Exit status: 0 done, 1 the loader refused the categories or the config, 2 usage.
"""
import argparse
import asyncio
import ctypes
import ctypes.util
import json
import os
import sys
import time

c = ctypes

# ---- the C API's types (modkit/str.h, modkit/loader.h) ----


class Str(c.Structure):
    """modkit_str: a borrowed byte range, not NUL-terminated."""
    _fields_ = [("data", c.c_void_p), ("size", c.c_size_t)]

    def bytes(self):
        return c.string_at(self.data, self.size) if self.data else b""


LOG_FN = c.CFUNCTYPE(None, c.c_void_p, c.c_int32, c.c_char_p, Str)
EXTENSION_FN = c.CFUNCTYPE(c.c_void_p, c.c_void_p, c.c_char_p)
# modkit_loader_async_done_fn(user_data, status, result_json): result_json is valid during the call only.
ASYNC_DONE_FN = c.CFUNCTYPE(None, c.c_void_p, c.c_int32, Str)


class Options(c.Structure):
    _fields_ = [("struct_size", c.c_uint32),
                ("categories", c.POINTER(c.c_void_p)), ("category_count", c.c_size_t),
                ("base_dir", c.c_char_p),
                ("log", LOG_FN), ("log_user_data", c.c_void_p),
                ("allow_any_owner", c.c_bool),
                ("reserved_web_prefixes", c.POINTER(c.c_char_p)), ("reserved_web_prefix_count", c.c_size_t),
                ("get_extension", EXTENSION_FN), ("extension_user_data", c.c_void_p),
                ("categories_json", c.c_char_p)]


class Error(c.Structure):
    _fields_ = [("struct_size", c.c_uint32), ("code", c.c_int32), ("stage", c.c_char_p),
                ("module", c.c_char_p), ("file", c.c_char_p), ("pointer", c.c_char_p),
                ("message", c.c_char_p), ("text", c.c_char_p)]


class Module(c.Structure):
    _fields_ = [("struct_size", c.c_uint32), ("name", c.c_char_p), ("version", c.c_char_p),
                ("description", c.c_char_p), ("path", c.c_char_p), ("config_json", c.c_char_p),
                ("position", c.c_size_t)]


class Slot(c.Structure):
    """modkit_loader_slot: every registrant of one slot in a snapshot (entries left opaque here)."""
    _fields_ = [("category", c.c_void_p), ("desc", c.c_void_p), ("entries", c.c_void_p), ("count", c.c_size_t)]


class Metric(c.Structure):
    """modkit_loader_metric: one (module, slot) registration's counts, over every thread."""
    _fields_ = [("struct_size", c.c_uint32), ("reserved", c.c_uint32), ("module", c.c_char_p),
                ("category_id", c.c_char_p), ("slot", c.c_char_p), ("calls", c.c_uint64), ("errors", c.c_uint64),
                ("timed_calls", c.c_uint64), ("timed_ns", c.c_uint64)]


class Call(c.Structure):
    """struct modkit_call, the per-call handle (request ID, deadline, cancelled flag)."""
    _fields_ = [("struct_size", c.c_uint32), ("reserved", c.c_uint32), ("request_id", Str),
                ("deadline_ns", c.c_int64), ("cancelled", c.c_void_p)]


class AsyncOptions(c.Structure):
    """modkit_loader_async_options: a request ID (copied) and a CLOCK_MONOTONIC deadline (0: none)."""
    _fields_ = [("struct_size", c.c_uint32), ("reserved", c.c_uint32), ("request_id", Str),
                ("deadline_ns", c.c_int64)]


# The structs spam-checker slots take by pointer (modkit/categories/objects.h). Declared here
# only so that ctypes computes their sizes and offsets for the categories JSON.
class Event(c.Structure):
    _fields_ = [("struct_size", c.c_uint32), ("event_id", Str), ("room_id", Str), ("sender", Str),
                ("type", Str), ("state_key", Str), ("content_json", Str), ("unsigned_json", Str),
                ("origin_server_ts", c.c_int64)]


class UserProfile(c.Structure):
    _fields_ = [("struct_size", c.c_uint32), ("user_id", Str), ("display_name", Str), ("avatar_url", Str)]


class MediaFileInfo(c.Structure):
    _fields_ = [("struct_size", c.c_uint32), ("server_name", Str), ("media_id", Str), ("upload_name", Str),
                ("media_type", Str), ("media_length", c.c_uint64), ("is_thumbnail", c.c_bool)]


# ---- the categories, as modkit/categories/spam_checker.h and password_auth_provider.h ----
# Slot order is the order of the callbacks struct: the loader lays a JSON category's struct
# out as struct_size and then one function pointer per slot, in the order listed.

def struct_type(name, ctype, types):
    fields = [{"name": f, "type": types.get(f, "str"), "offset": getattr(ctype, f).offset}
              for f, _ in ctype._fields_[1:]]
    return {"name": name, "size": c.sizeof(ctype), "fields": fields}


def slot(name, signature, combine, on_error, out_max, chain_to=None):
    return {"name": name, "signature": signature, "combine": combine, "on_error": on_error,
            "out_max": out_max, "chain_to": chain_to}


SPAM_RESULT_MAX, REGISTRATION_BEHAVIOUR_MAX, AUTH_RESULT_MAX = 4, 2, 1


def spam_checker():
    fnz, prop = "first_non_zero", "propagate"
    return {"id": "modkit.spam_checker", "major": 1, "minor": 0, "slots": [
        slot("check_event_for_spam", "event: &event, result: *i32", fnz, prop, SPAM_RESULT_MAX),
        slot("should_drop_federated_event", "event: &event, drop: *bool", fnz, prop, 1),
        slot("user_may_join_room", "user_id: str, room_id: str, is_invited: bool, result: *i32", fnz, prop,
             SPAM_RESULT_MAX),
        slot("user_may_invite", "inviter: str, invitee: str, room_id: str, result: *i32", fnz, prop,
             SPAM_RESULT_MAX),
        slot("federated_user_may_invite", "event: &event, result: *i32", "chained", prop, SPAM_RESULT_MAX,
             "user_may_invite"),
        slot("user_may_send_3pid_invite", "inviter: str, medium: str, address: str, room_id: str, result: *i32",
             fnz, prop, SPAM_RESULT_MAX),
        slot("user_may_create_room", "user_id: str, room_config: json, result: *i32", fnz, prop, SPAM_RESULT_MAX),
        slot("user_may_create_room_alias", "user_id: str, room_alias: str, result: *i32", fnz, prop,
             SPAM_RESULT_MAX),
        slot("user_may_publish_room", "user_id: str, room_id: str, result: *i32", fnz, prop, SPAM_RESULT_MAX),
        slot("user_may_send_state_event", "user_id: str, room_id: str, event_type: str, state_key: str, "
             "content: json, result: *i32", fnz, prop, SPAM_RESULT_MAX),
        slot("check_username_for_spam", "user_profile: &user_profile, requester_id: str, is_spam: *bool", fnz,
             prop, 1),
        slot("check_registration_for_spam", "email_threepid: json, username: str, request_info: json, "
             "auth_provider_id: str, behaviour: *i32", fnz, prop, REGISTRATION_BEHAVIOUR_MAX),
        slot("check_media_file_for_spam", "content: bytes, file_info: &media_file_info, result: *i32", fnz, prop,
             SPAM_RESULT_MAX),
        slot("check_login_for_spam", "user_id: str, device_id: str, initial_display_name: str, "
             "request_info: json, auth_provider_id: str, result: *i32", fnz, prop, SPAM_RESULT_MAX),
    ], "types": [
        struct_type("event", Event, {"content_json": "json", "unsigned_json": "json", "origin_server_ts": "i64"}),
        struct_type("user_profile", UserProfile, {}),
        struct_type("media_file_info", MediaFileInfo, {"media_length": "u64", "is_thumbnail": "bool"}),
    ]}


def password_auth_provider():
    return {"id": "modkit.password_auth_provider", "major": 1, "minor": 0, "slots": [
        slot("get_supported_login_types", "login_types: *buf", "merge", "propagate", -1),
        slot("auth_checkers", "username: str, login_type: str, login_dict: json, result: *i32, user_id: *buf",
             "keyed", "fail_open", AUTH_RESULT_MAX),
        slot("check_3pid_auth", "medium: str, address: str, password: str, result: *i32, user_id: *buf",
             "first_non_zero", "fail_open", AUTH_RESULT_MAX),
        slot("on_login_response", "login_response: json", "keyed", "propagate", -1),
        slot("on_logged_out", "user_id: str, device_id: str, access_token: str", "run_all", "fail_open", -1),
        slot("get_username_for_registration", "uia_results: json, params: json, found: *bool, username: *buf",
             "first_non_zero", "fail_closed", -1),
        slot("get_displayname_for_registration",
             "uia_results: json, params: json, found: *bool, display_name: *buf", "first_non_zero", "fail_closed",
             -1),
        slot("is_3pid_allowed", "medium: str, address: str, registration: bool, allowed: *bool", "all_true",
             "fail_closed", -1),
    ]}


CATEGORIES = [spam_checker(), password_auth_provider()]

# ---- the loader ----


def load_library(path):
    lib = c.CDLL(path)
    proto = {
        "modkit_loader_create": (c.c_int32, [c.POINTER(Options), c.POINTER(c.c_void_p)]),
        "modkit_loader_destroy": (None, [c.c_void_p]),
        "modkit_loader_load_file": (c.c_int32, [c.c_void_p, c.c_char_p]),
        "modkit_loader_error_count": (c.c_size_t, [c.c_void_p]),
        "modkit_loader_error_at": (c.POINTER(Error), [c.c_void_p, c.c_size_t]),
        "modkit_loader_module_count": (c.c_size_t, [c.c_void_p]),
        "modkit_loader_module_at": (c.POINTER(Module), [c.c_void_p, c.c_size_t]),
        "modkit_loader_describe_json": (c.c_int32, [c.c_void_p, c.c_void_p]),
        "modkit_loader_dispatch_json": (c.c_int32, [c.c_void_p, c.c_char_p, c.c_char_p, c.c_char_p, c.c_size_t,
                                                    c.POINTER(Call), c.c_void_p]),
        "modkit_loader_dispatch_json_async": (c.c_int32, [c.c_void_p, c.c_char_p, c.c_char_p, c.c_char_p,
                                                          c.c_size_t, c.POINTER(AsyncOptions), ASYNC_DONE_FN,
                                                          c.c_void_p, c.POINTER(c.c_void_p)]),
        "modkit_loader_async_cancel": (None, [c.c_void_p]),
        "modkit_loader_async_release": (None, [c.c_void_p]),
        "modkit_loader_now_ns": (c.c_uint64, []),
        "modkit_loader_buffer_create": (c.c_void_p, []),
        "modkit_loader_buffer_destroy": (None, [c.c_void_p]),
        "modkit_loader_buffer_data": (Str, [c.c_void_p]),
        # Read sections through the exported twins of loader.h's inline functions.
        "modkit_loader_reader_get": (c.c_void_p, [c.c_void_p]),
        "modkit_loader_read_section_begin": (c.c_void_p, [c.c_void_p]),
        "modkit_loader_read_section_end": (None, [c.c_void_p]),
        "modkit_loader_category_index": (c.c_int32, [c.c_void_p, c.c_char_p]),
        "modkit_loader_snapshot_slot_at": (c.POINTER(Slot), [c.c_void_p, c.c_uint32, c.c_uint32]),
        "modkit_loader_metric_count": (c.c_size_t, [c.c_void_p]),
        "modkit_loader_metric_at": (c.c_int32, [c.c_void_p, c.c_size_t, c.POINTER(Metric)]),
    }
    for name, (restype, argtypes) in proto.items():
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = restype, argtypes
    return lib


STATUS = {0: "ok", 1: "invalid_argument", 2: "version_mismatch", 3: "no_memory", 4: "internal", 5: "config",
          6: "not_found", 7: "state", 8: "unsupported", 9: "cancelled", 10: "timeout", 11: "conflict",
          12: "denied", 100: "pending"}


def text(raw):
    return raw.decode("utf-8", "replace") if raw is not None else ""


class Loader:
    def __init__(self, lib):
        self.lib = lib
        # ctypes must keep the callback and the JSON alive as long as the loader may use them.
        self._log = LOG_FN(self._print_log)
        self._categories = json.dumps(CATEGORIES).encode()
        options = Options(struct_size=c.sizeof(Options), log=self._log, categories_json=self._categories)
        self.handle = c.c_void_p()
        status = lib.modkit_loader_create(c.byref(options), c.byref(self.handle))
        if status != 0:
            raise RuntimeError("the loader refused the categories (%s)" % STATUS.get(status, status))
        self.buffer = lib.modkit_loader_buffer_create()
        # One done callback for every asynchronous dispatch, alive as long as the loader: it finds
        # the dispatch by the key it gets as user_data, so no per-call ctypes thunk has to be
        # kept alive until the loader's thread has left it.
        self._async_done = ASYNC_DONE_FN(self._on_async_done)
        self._pending = {}  # key -> (event loop, future), until done ran
        self._next_key = 1

    @staticmethod
    def _print_log(_user_data, _level, module, message):
        print("  [%s] %s" % (text(module) or "loader", text(message.bytes())), flush=True)

    def close(self):
        self.lib.modkit_loader_buffer_destroy(self.buffer)
        self.lib.modkit_loader_destroy(self.handle)

    def load_file(self, path):
        return self.lib.modkit_loader_load_file(self.handle, os.fsencode(path))

    def errors(self):
        count = self.lib.modkit_loader_error_count(self.handle)
        return [self.lib.modkit_loader_error_at(self.handle, i).contents for i in range(count)]

    def modules(self):
        count = self.lib.modkit_loader_module_count(self.handle)
        return [self.lib.modkit_loader_module_at(self.handle, i).contents for i in range(count)]

    def _result(self):
        return json.loads(self.lib.modkit_loader_buffer_data(self.buffer).bytes())

    def describe(self):
        self.lib.modkit_loader_describe_json(self.handle, self.buffer)
        return self._result()

    def dispatch(self, category, slot_name, args, request_id=b"python-host"):
        data = json.dumps(args).encode()
        call = Call(struct_size=c.sizeof(Call), request_id=Str(c.cast(c.c_char_p(request_id), c.c_void_p),
                                                                 len(request_id)))
        status = self.lib.modkit_loader_dispatch_json(self.handle, category.encode(), slot_name.encode(), data,
                                                      len(data), c.byref(call), self.buffer)
        return status, self._result()

    async def dispatch_async(self, category, slot_name, args, request_id=b"python-host-async", timeout=None):
        """dispatch() awaited from asyncio: modules may suspend, and the event loop runs meanwhile.

        timeout (seconds) sets the dispatch's deadline: the loader then ends it with the module it
        waits for treated as failed with "timeout". Cancelling the awaiting task cancels the
        dispatch (modkit_loader_async_cancel). Returns (status, result) as dispatch() does."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        key = self._next_key
        self._next_key += 1
        self._pending[key] = (loop, future)
        data = json.dumps(args).encode()
        options = AsyncOptions(struct_size=c.sizeof(AsyncOptions),
                               request_id=Str(c.cast(c.c_char_p(request_id), c.c_void_p), len(request_id)))
        if timeout is not None:
            options.deadline_ns = self.lib.modkit_loader_now_ns() + int(timeout * 1e9)
        handle = c.c_void_p()
        # ctypes lets go of the GIL during the call: a module may complete on its own thread and
        # the loader call done there before this returns.
        status = self.lib.modkit_loader_dispatch_json_async(self.handle, category.encode(), slot_name.encode(),
                                                            data, len(data), c.byref(options), self._async_done,
                                                            c.c_void_p(key), c.byref(handle))
        if status != 0 and self._pending.pop(key, None) is not None:
            # Nothing started, and done was not called: the status is the answer.
            future.set_result((status, {"error": "the loader refused the dispatch (%s)" % STATUS.get(status, status)}))
        try:
            return await future
        except asyncio.CancelledError:
            # done runs now, on this thread, if it has not yet; its result is dropped.
            self.lib.modkit_loader_async_cancel(handle)
            raise
        finally:
            self.lib.modkit_loader_async_release(handle)

    def _on_async_done(self, user_data, status, result_json):
        # On whichever thread finished the dispatch: this one, a module's or the loader's timer
        # thread. result_json is only valid during this call, so it is copied here.
        try:
            result = json.loads(result_json.bytes() or b"null")
        except ValueError as e:  # never raise here: the awaiting task would wait forever
            result = {"error": "the loader's result is not JSON: %s" % e}
        entry = self._pending.pop(user_data, None)
        if entry is None:
            return
        loop, future = entry

        def deliver():
            if not future.done():  # the awaiting task may have been cancelled
                future.set_result((status, result))
        try:
            loop.call_soon_threadsafe(deliver)
        except RuntimeError:  # the event loop is closed: nobody awaits this any more
            pass

    def pending_dispatches(self):
        """Asynchronous dispatches whose done has not run yet."""
        return len(self._pending)

    def registrants(self, category, slot_index):
        """How many modules registered a slot, read in a read section (what a dispatch would see)."""
        reader = self.lib.modkit_loader_reader_get(self.handle)
        snapshot = self.lib.modkit_loader_read_section_begin(reader)
        try:
            index = self.lib.modkit_loader_category_index(self.handle, category.encode())
            slot = self.lib.modkit_loader_snapshot_slot_at(snapshot, index, slot_index)
            return slot.contents.count if slot else 0
        finally:
            self.lib.modkit_loader_read_section_end(reader)

    def metrics(self):
        out = []
        for i in range(self.lib.modkit_loader_metric_count(self.handle)):
            m = Metric(struct_size=c.sizeof(Metric))
            if self.lib.modkit_loader_metric_at(self.handle, i, c.byref(m)) == 0:
                out.append(m)
        return out

# ---- the demo ----


def decision(status, r, verdict, silence="no module had an opinion"):
    """Words a dispatch's result; verdict(answer or None) words a decision."""
    if "error" in r:
        line = "refused by the loader (%s): %s" % (STATUS.get(status, status), r["error"])
    elif r["outcome"] == "decided":
        line = "%s, decided by %s" % (verdict(r["answer"]), r["module"])
    elif r["outcome"] == "failed_closed":
        line = "%s, because %s failed" % (verdict(None), r["module"])
    elif r["outcome"] == "error":
        line = "request fails (%s), error in %s" % (r["status"], r["module"])
    else:
        line = silence
    return line


def show(loader, category, slot_name, args, what, verdict, silence="no module had an opinion"):
    """Dispatches one event and prints the decision."""
    status, r = loader.dispatch(category, slot_name, args)
    print("  %-28s %s -> %s" % (slot_name, what, decision(status, r, verdict, silence)), flush=True)


def spam_result(answer):
    codes = {1: "M_FORBIDDEN", 2: "M_LIMIT_EXCEEDED", 3: "M_RESOURCE_LIMIT_EXCEEDED", 4: "M_TOO_LARGE"}
    return "refused " + codes.get(answer["result"], "M_FORBIDDEN") if answer else "refused M_FORBIDDEN"


def run_demo(loader):
    spam = "modkit.spam_checker"
    print("spam checks (dispatch_json):")
    for sender, body in [("@alice:example.org", "hello everyone, lunch at noon?"),
                         ("@mallory:example.org", "BUY NOW: cheap watches"),
                         ("@mallory:example.org", "visit my casino"),
                         ("@mallory:example.org", "cheap viagra here")]:
        event = {"event_id": "$demo", "room_id": "!lobby:example.org", "sender": sender, "type": "m.room.message",
                 "content_json": {"msgtype": "m.text", "body": body}, "origin_server_ts": 1700000000000}
        show(loader, spam, "check_event_for_spam", {"event": event}, '%s "%s"' % (sender, body), spam_result)
    for user, name in [("@carol:example.org", "Carol"), ("@mallory:example.org", "Casino Mallory")]:
        show(loader, spam, "check_username_for_spam",
             {"user_profile": {"user_id": user, "display_name": name}, "requester_id": "@alice:example.org"},
             '%s "%s"' % (user, name), lambda a: "hidden")
    show(loader, spam, "user_may_create_room_alias", {"user_id": "@mallory:example.org",
                                                       "room_alias": "#casino:example.org"},
         "#casino:example.org", spam_result)

    print("password checks (dispatch_json):")
    behaviours = {1: "shadow-banned", 2: "denied"}
    for username in ["carol", "admin", "al"]:
        show(loader, spam, "check_registration_for_spam",
             {"email_threepid": None, "username": username, "request_info": [], "auth_provider_id": None},
             '"%s"' % username, lambda a: "registration " + behaviours.get(a["behaviour"], "denied") if a else "denied")
    for provider in ["oidc", "saml"]:
        show(loader, spam, "check_login_for_spam",
             {"user_id": "@carol:example.org", "device_id": None, "initial_display_name": None, "request_info": [],
              "auth_provider_id": provider}, "@carol:example.org via %s" % provider, spam_result)
    auth = "modkit.password_auth_provider"
    authenticated = lambda a: "authenticated as " + a["user_id"] if a else "not authenticated"
    for user, password in [("alice", "wonderland"), ("alice", "guess")]:
        show(loader, auth, "auth_checkers", {"username": user, "login_type": "m.login.password",
                                             "login_dict": {"password": password}},
             "%s with password %s" % (user, password), authenticated)
    show(loader, auth, "check_3pid_auth", {"medium": "email", "address": "alice@example.org",
                                           "password": "wonderland"}, "email alice@example.org", authenticated)
    for address in ["bob@example.org", "eve@blocked.example"]:
        show(loader, auth, "is_3pid_allowed", {"medium": "email", "address": address, "registration": True},
             "email " + address, lambda a: "not allowed", silence="allowed, no module objected")
    show(loader, spam, "user_may_join_room", {"user_id": "@a:example.org", "room_id": 1},
         "a room ID that is not a string", spam_result)


def message(sender, body):
    return {"event": {"event_id": "$async", "room_id": "!lobby:example.org", "sender": sender,
                      "type": "m.room.message", "content_json": {"msgtype": "m.text", "body": body}}}


async def run_async_demo(loader, delay):
    """Awaits dispatches to spam_c_async, which decides delay seconds after each call."""
    spam = "modkit.spam_checker"
    print("asynchronous dispatch (dispatch_json_async, awaited from asyncio):")

    async def timed(body, **kwargs):
        started = time.monotonic()
        status, r = await loader.dispatch_async(spam, "check_event_for_spam",
                                                message("@mallory:example.org", body), **kwargs)
        return status, r, started, time.monotonic()

    # Several at once: the event loop awaits them together, and spam_c_async's worker decides
    # them together, so they take about one delay, not one each.
    bodies = ["crypto giveaway", "hello there", "more crypto", "lunch?"]
    results = await asyncio.gather(*(timed(b) for b in bodies))
    for body, (status, r, _, _) in zip(bodies, results):
        print("  %-28s %s -> %s" % ("check_event_for_spam", '"%s"' % body, decision(status, r, spam_result)),
              flush=True)
    first = min(r[2] for r in results)
    last = max(r[3] for r in results)
    overlapped = all(r[2] < min(x[3] for x in results) for r in results)  # every one started before any ended
    print("  the %d dispatches overlapped: %s; all done within twice the delay: %s"
          % (len(bodies), "yes" if overlapped else "no", "yes" if last - first < 2 * delay else "no"))
    print("  took %d ms for %d dispatches, each decided after %d ms"
          % ((last - first) * 1000, len(bodies), delay * 1000), flush=True)

    # A deadline shorter than the module's delay: the loader ends the dispatch at the deadline.
    status, r, started, ended = await timed("crypto again", timeout=delay / 4)
    print("  with a deadline of %d ms -> %s" % (delay * 250, decision(status, r, spam_result)))
    print("  the deadline ended it before the module decided: %s" % ("yes" if ended - started < delay else "no"))

    # Cancelling the awaiting task cancels the dispatch.
    task = asyncio.ensure_future(timed("crypto once more"))
    await asyncio.sleep(delay / 4)
    cancelled_at = time.monotonic()
    task.cancel()
    try:
        await task
        print("  cancelled task -> it finished anyway")
    except asyncio.CancelledError:
        print("  cancelled task -> CancelledError; done ran: %s"
              % ("yes" if loader.pending_dispatches() == 0 else "no"))
        print("  cancelled in %d ms" % ((time.monotonic() - cancelled_at) * 1000))
    print("  done not yet run: %d" % loader.pending_dispatches(), flush=True)


def async_module_delay(loader):
    """spam_c_async's delay in seconds, or None when it is not loaded."""
    for m in loader.modules():
        if text(m.name) == "spam_c_async":
            return json.loads(text(m.config_json)).get("delay_ms", 200) / 1000
    return None


def main(argv):
    parser = argparse.ArgumentParser(description="A modkit host over libmodkit-loader.so through ctypes.")
    parser.add_argument("config", nargs="?", help="the host config (JSON)")
    parser.add_argument("--lib", default=os.environ.get("MODKIT_LOADER_LIB"),
                        help="path of libmodkit-loader.so (default: $MODKIT_LOADER_LIB, then the system's)")
    parser.add_argument("--print-categories", action="store_true", help="print the categories JSON and exit")
    args = parser.parse_args(argv)
    if args.print_categories:
        print(json.dumps(CATEGORIES, indent=1))
        return 0
    if not args.config:
        parser.print_usage(sys.stderr)
        print("host.py: a host config is required", file=sys.stderr)
        return 2
    lib_path = args.lib or ctypes.util.find_library("modkit-loader")
    if not lib_path:
        print("host.py: libmodkit-loader.so not found; give --lib or set MODKIT_LOADER_LIB", file=sys.stderr)
        return 2
    try:
        loader = Loader(load_library(lib_path))
    except (OSError, AttributeError, RuntimeError) as e:
        print("host.py: %s" % e, file=sys.stderr)
        return 1
    try:
        print("loading %s" % args.config, flush=True)
        status = loader.load_file(args.config)
        if status != 0:
            errors = loader.errors()
            print("host.py: could not load the modules (%s), %d error(s):" % (STATUS.get(status, status), len(errors)),
                  file=sys.stderr)
            for i, e in enumerate(errors, 1):
                print("  error %d\n    code:    %s\n    stage:   %s\n    module:  %s\n    file:    %s\n"
                      "    pointer: %s\n    message: %s" % (i, STATUS.get(e.code, e.code), text(e.stage),
                                                           text(e.module), text(e.file), text(e.pointer),
                                                           text(e.message)), file=sys.stderr)
            return 1
        described = {m["name"]: m for m in loader.describe()["modules"]}
        print("loaded %d modules:" % len(described))
        for m in loader.modules():
            name = text(m.name)
            print("  %s %s (position %d): %s" % (name, text(m.version), m.position, text(m.description)))
            for category, slots in described[name]["registrations"].items():
                print("    %s: %s" % (category, ", ".join(slots)))
        run_demo(loader)
        print("registry (read section): check_event_for_spam has %d registrant(s)"
              % loader.registrants("modkit.spam_checker", 0))
        print("metrics (calls that reached each module):")
        for m in sorted(loader.metrics(), key=lambda m: (text(m.module), text(m.slot))):
            if m.calls:
                print("  %s %s.%s: %d calls, %d errors" % (text(m.module), text(m.category_id), text(m.slot), m.calls,
                                                           m.errors))
        delay = async_module_delay(loader)
        if delay is not None:
            asyncio.run(run_async_demo(loader, delay))
        print("unloading", flush=True)
        return 0
    finally:
        loader.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

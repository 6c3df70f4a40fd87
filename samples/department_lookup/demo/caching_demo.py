#!/usr/bin/env python3
"""The Caching example, live: the department_lookup module in the chat host, asking a small
departments service that this script starts on 127.0.0.1.

The script starts the service (an HTTP server on a port the kernel picks), writes a chat host
config that loads department_lookup and grants it that service's URL, starts modkit-chat-host
on another free port, and then acts as a client: it registers users, creates rooms, changes a
department in the service and tells the module so, printing each step and checking what should
happen (the module's error reaching the client, the cache answering repeats, invalidation).

    caching_demo.py --host PATH/modkit-chat-host --modules DIR

Exit status: 0 every check held, 1 one did not, 2 usage or the host would not start.
"""
import argparse
import http.server
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.parse
import urllib.request

SERVER = "example.org"


class Departments(http.server.ThreadingHTTPServer):
    """GET /departments/<user ID> -> {"department": ...}, 404 for a user it does not know."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), DepartmentsHandler)
        self.lock = threading.Lock()
        self.departments = {f"@alice:{SERVER}": "engineering", f"@bob:{SERVER}": "sales"}
        self.asked = 0

    @property
    def base(self):
        return f"http://127.0.0.1:{self.server_address[1]}/"


class DepartmentsHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        prefix = "/departments/"
        user = urllib.parse.unquote(self.path[len(prefix):]) if self.path.startswith(prefix) else None
        with self.server.lock:
            self.server.asked += 1
            department = self.server.departments.get(user) if user else None
        if department is None:
            body, status = b'{"error": "unknown user"}', 404
        else:
            body, status = json.dumps({"department": department}).encode(), 200
        print(f"    departments service: GET {self.path} -> {status} {department or ''}".rstrip())
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass  # each request is printed once, above


class ChatHost:
    """modkit-chat-host serving on 127.0.0.1, its log collected on a thread."""

    def __init__(self, binary, config_path):
        self.proc = subprocess.Popen([binary, "--config", config_path, "--listen", "127.0.0.1:0"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.lines = queue.Queue()
        self.log = []
        threading.Thread(target=self._read, daemon=True).start()
        self.base = None
        while self.base is None:
            try:
                line = self.lines.get(timeout=30)
            except queue.Empty:
                raise RuntimeError("the chat host did not start within 30 s")
            if line is None:
                raise RuntimeError("the chat host exited: " + "\n".join(self.log))
            marker = " serving on "
            if marker in line:
                self.base = line.split(marker, 1)[1].strip()

    def _read(self):
        for line in self.proc.stderr:
            self.log.append(line.rstrip())
            self.lines.put(line)
        self.lines.put(None)

    def request(self, method, path, body=None, token=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("Authorization", "Bearer " + token)
        try:
            with urllib.request.urlopen(req, timeout=20) as r:
                return r.status, json.loads(r.read() or b"{}")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")

    def stop(self):
        self.proc.terminate()
        try:
            return self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()


class Demo:
    def __init__(self, host, service):
        self.host = host
        self.service = service
        self.failures = 0

    def check(self, what, ok):
        print(f"  {'ok  ' if ok else 'FAIL'} {what}")
        if not ok:
            self.failures += 1

    def register(self, name):
        status, body = self.host.request("POST", "/_matrix/client/v3/register",
                                         {"username": name, "password": "pw-" + name,
                                          "auth": {"type": "m.login.dummy"}})
        self.check(f"register {name}: {status}", status == 200)
        return body.get("access_token", "")

    def create_room(self, who, token, expect_status, expect=None):
        asked = self.service.asked
        status, body = self.host.request("POST", "/_matrix/client/v3/createRoom", {"name": who + "'s room"}, token)
        print(f"  {who} creates a room: {status} {json.dumps(body)}")
        self.check(f"status {expect_status}", status == expect_status)
        for key, value in (expect or {}).items():
            self.check(f"{key} is {json.dumps(value)}", body.get(key) == value)
        return self.service.asked - asked

    def run(self):
        print("Users register; the module has asked the service nothing yet.")
        alice, bob = self.register("alice"), self.register("bob")

        print("\nAlice (engineering) may create rooms: the module asks the service once.")
        self.check("the service was asked once", self.create_room("alice", alice, 200) == 1)

        print("\nBob (sales) may not: the client sees the module's errcode, message and extra field.")
        asked = self.create_room("bob", bob, 403, {"errcode": "M_FORBIDDEN",
                                                   "error": "The sales department may not create rooms",
                                                   "department": "sales"})
        self.check("the service was asked once", asked == 1)

        print("\nBob again: the cached answer decides, the service is not asked.")
        self.check("the service was not asked", self.create_room("bob", bob, 403, {"department": "sales"}) == 0)

        print("\nBob moves to engineering. Until the module is told, its cache still says sales.")
        with self.service.lock:
            self.service.departments[f"@bob:{SERVER}"] = "engineering"
        self.check("the service was not asked", self.create_room("bob", bob, 403, {"department": "sales"}) == 0)

        print("\nThe service's owner tells the module; it invalidates bob's entry through the host.")
        status, body = self.host.request("POST", "/_modkit/department_lookup/changed", {"user_id": f"@bob:{SERVER}"})
        print(f"  POST /_modkit/department_lookup/changed: {status} {json.dumps(body)}")
        self.check("status 200", status == 200)
        self.check("the service was asked once more", self.create_room("bob", bob, 200) == 1)

        print("\nA malformed notice is refused; nothing is invalidated.")
        status, body = self.host.request("POST", "/_modkit/department_lookup/changed", {"user": "bob"})
        print(f"  POST /_modkit/department_lookup/changed: {status} {json.dumps(body)}")
        self.check("status 400", status == 400)
        self.check("the service was not asked", self.create_room("bob", bob, 200) == 0)
        return self.failures


def write_config(directory, modules, service_base):
    config = {
        "server_name": SERVER,
        "listen": "127.0.0.1:0",
        "module_call_timeout_ms": 5000,
        "modkit": {
            "module_path": [os.path.abspath(modules)],
            "modules": [{
                "module": "department_lookup",
                "config": {"service": service_base + "departments/", "may_create_rooms": ["engineering"]},
                "permissions": {"http": [service_base]},
            }],
        },
    }
    path = os.path.join(directory, "config.json")
    with open(path, "w") as f:
        json.dump(config, f, indent=2)
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", required=True, help="the modkit-chat-host binary")
    parser.add_argument("--modules", required=True, help="the directory holding department_lookup.so")
    args = parser.parse_args()

    service = Departments()
    threading.Thread(target=service.serve_forever, daemon=True).start()
    print(f"departments service on {service.base}")
    with tempfile.TemporaryDirectory() as directory:
        config = write_config(directory, args.modules, service.base)
        try:
            host = ChatHost(args.host, config)
        except RuntimeError as e:
            print(f"caching_demo: {e}", file=sys.stderr)
            return 2
        print(f"chat host on {host.base}\n")
        try:
            failures = Demo(host, service).run()
        finally:
            status = host.stop()
            service.shutdown()
        print("\nthe chat host's log:")
        for line in host.log:
            print("  | " + line)
    if status != 0:
        print(f"caching_demo: the chat host exited with status {status}", file=sys.stderr)
        failures += 1
    print(f"\n{'every check held' if failures == 0 else f'{failures} check(s) failed'}")
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

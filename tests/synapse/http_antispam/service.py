#!/usr/bin/env python3
"""A small antispam service in the shape synapse-http-antispam talks to: POST /<callback> with
the callback's parameters as JSON; 200 {} allows, another status refuses with the body.

Its rules, for the scenarios and the benchmark: users whose localpart starts with "mallory"
may not create rooms (M_FORBIDDEN, with a "policy" field), invites of users starting with "spam"
are refused without an errcode (so M_FORBIDDEN), and messages containing "buy now" are spam.
Everything else is allowed. /ping answers with the ID it was sent.

As a program: runs the chat host's scenarios for the port, the first with this service up and
the second after it has stopped, and fails unless both pass:
  service.py --host modkit-chat-host --config config.json.in --up up.json --down down.json
The config's {antispam_url} becomes the service's base URL.
"""
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def verdict(callback, params):
    """(status, body) for one callback."""
    if callback == "ping":
        return 200, {"id": params.get("id"), "status": "ok"}
    if callback == "user_may_create_room" and params.get("user_id", "").startswith("@mallory"):
        return 403, {"errcode": "M_FORBIDDEN", "error": "Room creation is closed to you", "policy": "#rules:example.org"}
    if callback == "user_may_invite" and params.get("invitee", "").startswith("@spam"):
        return 403, {"error": "That user only sends spam"}
    if callback == "check_event_for_spam":
        body = params.get("event", {}).get("content", {}).get("body", "")
        if isinstance(body, str) and "buy now" in body.lower():
            return 400, {"errcode": "M_FORBIDDEN", "error": "This message looks like spam"}
    return 200, {}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: with Nagle's algorithm the body would wait for the
    # client's delayed ACK (40 ms) on a kept-alive connection.
    disable_nagle_algorithm = True

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        try:
            params = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            params = {}
        status, body = verdict(self.path.strip("/"), params)
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass  # quiet: the host's transcript says what happened


def start():
    """Starts the service on 127.0.0.1 (a free port) in a thread; returns (server, base URL)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def stop(server):
    server.shutdown()
    server.server_close()


def main():
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import scenario_driver
    return scenario_driver.main(__doc__.split("\n\n")[0], "{antispam_url}", lambda work: start(), stop)


if __name__ == "__main__":
    sys.exit(main())

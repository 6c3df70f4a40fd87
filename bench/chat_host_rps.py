#!/usr/bin/env python3
"""The chat host under wrk: requests per second for a spam-checked message send, and what the
modules add to each request.

For each module count N (default 0, 1, 4, 16), this starts modkit-chat-host on a free loopback
port with N spam-checker modules (bench_d00 .. bench_d<N-1>, bench/dispatch_module.c: each reads
the event and answers NOT_SPAM, so every module is called), registers a user, creates a room,
sends one message to check the path answers 200, runs wrk for a short warm-up and then for
--seconds with bench/chat_host_send.lua (a PUT /rooms/{room}/send/m.room.message/{txn} with a
fresh transaction ID per request, on kept-alive connections; --close for a connection per
request), and stops the host. It reports wrk's requests per second and
latency percentiles, and the host's own CPU time per request (user + system, from
/proc/PID/stat, so what wrk itself spends on the same two cores is not counted):

    python3 bench/chat_host_rps.py --host build/bench/samples/chat_host/modkit-chat-host \\
        --modules build/bench/bench/modules [--counts 0,1,4,16] [--seconds 5] [--out FILE]

With "ports" among the counts, the same send is measured with the Synapse modules ported to
modkit (samples/synapse) loaded instead, each configured as an operator would, and
http_antispam asking a local antispam service (tests/synapse/http_antispam/service.py, started
here) about every message:

    python3 bench/chat_host_rps.py ... --counts 0,ports --port-modules build/bench/samples/modules \
        --antispam-service tests/synapse/http_antispam/service.py

Traffic goes only to 127.0.0.1, for a bounded time. Exit status 2 when wrk is not installed.
"""
import argparse
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request

from chat_host_process import ChatHost, emit

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "chat_host_send.lua")
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """The process's user + system CPU time, all its threads, from /proc/PID/stat."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime (fields 14 and 15)


def call(base, method, path, body=None, token=None):
    request = urllib.request.Request(base + path, method=method,
                                     data=json.dumps(body).encode() if body is not None else None)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"{}")


def port_modules(antispam_url):
    """The ported Synapse modules, in a config an operator could write: every one is loaded,
    and on a message send email_account_validity (is_user_expired, a cached lookup),
    auto_accept_invite (on_new_event) and http_antispam (check_event_for_spam, one request to
    the service) are called."""
    return [
        {"module": "user_restrictions", "config": {"rules": [], "default_deny": []}},
        {"module": "domain_rule_checker", "config": {"can_invite_if_not_in_domain_mapping": True}},
        {"module": "auto_accept_invite", "config": {"accept_invites_only_for_direct_messages": True}},
        {"module": "http_antispam", "config": {"base_url": antispam_url},
         "permissions": {"http": [antispam_url + "/"]}},
        {"module": "ldap_auth_provider",
         "config": {"uri": "ldap://127.0.0.1:1", "base": "ou=people,dc=example,dc=org",
                    "attributes": {"uid": "cn", "name": "gn", "mail": "mail"}}},
        {"module": "email_account_validity", "config": {"period": "6w", "renew_at": "1w"}},
    ]


def start_host(binary, modules_dir, n, workdir, ports=None):
    """modkit-chat-host with N bench modules (or the ported ones)."""
    modules = [] if ports else [{"module": "bench_d%02d" % i, "config": {}} for i in range(n)]
    path = [os.path.abspath(modules_dir)]
    if ports:
        modules, path = ports["modules"], [os.path.abspath(ports["dir"])]
    config = {"server_name": "bench.example.org", "listen": "127.0.0.1:0",
              "modkit": {"module_path": path, "modules": modules}}
    if ports:
        config["public_baseurl"] = "https://bench.example.org/"  # email_account_validity's links
    return ChatHost(binary, config, workdir, "host-%s" % n)


def parse_wrk(text):
    def number(pattern, default=None):
        m = re.search(pattern, text)
        return float(m.group(1)) if m else default

    def millis(pattern):
        m = re.search(pattern + r"\s+([0-9.]+)(us|ms|s)\b", text)
        if not m:
            return None
        return float(m.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[m.group(2)]

    requests = number(r"([0-9]+) requests in")
    if requests is None:
        sys.exit("chat_host_rps.py: cannot read wrk's output:\n" + text)
    socket_errors = sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) ([0-9]+)",
                                                    re.search(r"Socket errors:.*", text).group(0))) \
        if "Socket errors:" in text else 0
    return {"requests": int(requests), "requests_per_second": number(r"Requests/sec:\s+([0-9.]+)"),
            "non_2xx": int(number(r"Non-2xx or 3xx responses: ([0-9]+)", 0)), "socket_errors": socket_errors,
            "latency_p50_ms": millis(r"\b50%"), "latency_p99_ms": millis(r"\b99%")}


def wrk(url, seconds, threads, connections, room, token, close=False):
    env = dict(os.environ, CHAT_ROOM=room, CHAT_TOKEN=token, CHAT_CLOSE="1" if close else "0")
    out = subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d", "%gs" % seconds,
                          "--latency", "-s", SCRIPT, url], env=env, capture_output=True, text=True,
                         timeout=seconds + 60)
    if out.returncode != 0:
        sys.exit("chat_host_rps.py: wrk failed:\n" + out.stdout + out.stderr)
    return parse_wrk(out.stdout)


def measure(args, n, workdir, ports=None):
    host = start_host(args.host, args.modules, n, workdir, ports)
    try:
        token = call(host.base, "POST", "/_matrix/client/v3/register",
                     {"username": "bench", "password": "bench-password",
                      "auth": {"type": "m.login.dummy"}})["access_token"]
        room = call(host.base, "POST", "/_matrix/client/v3/createRoom", {"name": "bench"}, token)["room_id"]
        quoted = urllib.parse.quote(room, safe="")
        call(host.base, "PUT", "/_matrix/client/v3/rooms/%s/send/m.room.message/check" % quoted,
             {"msgtype": "m.text", "body": "hello"}, token)
        wrk(host.base, args.warmup, args.threads, args.connections, quoted, token, args.close)
        cpu = cpu_seconds(host.process.pid)
        result = wrk(host.base, args.seconds, args.threads, args.connections, quoted, token, args.close)
        cpu = cpu_seconds(host.process.pid) - cpu
    finally:
        host.stop()
    if result["non_2xx"] or result["socket_errors"]:
        sys.exit("chat_host_rps.py: %d modules: %d non-2xx responses, %d socket errors" % (
            n, result["non_2xx"], result["socket_errors"]))
    result.update({"modules": len(ports["modules"]) if ports else n, "ports": bool(ports), "seconds": args.seconds,
                   "keep_alive": not args.close, "server_cpu_seconds": cpu,
                   "server_cpu_us_per_request": cpu * 1e6 / max(result["requests"], 1)})
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", required=True, help="the modkit-chat-host binary")
    parser.add_argument("--modules", required=True, help="the directory holding bench_d00.so .. bench_d15.so")
    parser.add_argument("--counts", default="0,1,4,16", help="module counts, comma-separated (at most 16)")
    parser.add_argument("--seconds", type=float, default=5, help="how long wrk runs per count")
    parser.add_argument("--warmup", type=float, default=1, help="wrk's warm-up before each measurement")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--connections", type=int, default=4, help="wrk connections")
    parser.add_argument("--close", action="store_true", help="a connection per request instead of keep-alive")
    parser.add_argument("--port-modules", help='the directory holding the ported modules (for "ports")')
    parser.add_argument("--antispam-service", help='tests/synapse/http_antispam/service.py (for "ports")')
    parser.add_argument("--out", help="also write the JSON here")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("chat_host_rps.py: wrk is not installed (Debian package wrk)", file=sys.stderr)
        sys.exit(2)
    names = args.counts.split(",")
    counts = [int(c) for c in names if c != "ports"]
    if any(c < 0 or c > 16 for c in counts):
        sys.exit("chat_host_rps.py: module counts are 0 to 16")
    if "ports" in names and not (args.port_modules and args.antispam_service):
        sys.exit('chat_host_rps.py: "ports" needs --port-modules and --antispam-service')
    version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split("\n")[0]
    with tempfile.TemporaryDirectory(prefix="modkit-chat-bench-") as workdir:
        runs = [measure(args, n, workdir) for n in counts]
        if "ports" in names:
            spec = importlib.util.spec_from_file_location("antispam_service", args.antispam_service)
            service = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(service)
            server, url = service.start()
            try:
                runs.append(measure(args, "ports", workdir, {"dir": args.port_modules, "modules": port_modules(url)}))
            finally:
                server.shutdown()
                server.server_close()
    emit({"wrk": version, "threads": args.threads, "connections": args.connections, "runs": runs}, args.out)


if __name__ == "__main__":
    main()

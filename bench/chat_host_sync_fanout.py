#!/usr/bin/env python3
"""The chat host with many idle Matrix clients: one message fanned out to N long-polling /sync
requests, and what those waiting requests cost everyone else.

This starts modkit-chat-host (no modules) on a free loopback port, registers a sender and N
readers (default 500), all in one room, and gives each reader its own connection with a /sync
waiting for news (timeout 60 s). Then, for each of --rounds rounds:

  - once all N requests are parked (the host's modkit_sync_requests_waiting gauge says so), the
    sender sends one message, and the time from the send until each reader has read the whole
    answer is taken; "last" is the time until the slowest reader has it;
  - each reader then waits again from its new next_batch.

Before the first round, with all N waiting, it also times --probes requests of another client
(GET /account/whoami on a connection of its own), next to the same probes with no /sync waiting:
long polls must not starve other requests. And it reads the host's thread count (/proc) with
none and with N requests waiting: waiting must not cost threads.

    python3 bench/chat_host_sync_fanout.py --host build/bench/samples/chat_host/modkit-chat-host \\
        [--clients 500] [--rounds 20] [--out FILE]

Prints one JSON document: p50 and p99 over the rounds of the time until the last reader has the
message, p50 and p99 over every (round, reader) delivery, the probe latencies with and without
the waiting clients, and the thread counts. Traffic goes only to 127.0.0.1.
"""
import argparse
import asyncio
import json
import re
import resource
import sys
import tempfile
import time
import urllib.parse

from chat_host_process import ChatHost, emit


def percentile(values, p):
    ordered = sorted(values)
    if not ordered:
        return None
    k = (len(ordered) - 1) * p / 100.0
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def threads_of(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"^Threads:\s+(\d+)", f.read(), re.M).group(1))


class Connection:
    """One kept-alive HTTP/1.1 connection: a request, then its whole answer."""

    def __init__(self, reader, writer):
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    def send(self, method, path, body=None, token=None):
        data = b"" if body is None else json.dumps(body).encode()
        head = "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\n" % (method, path, len(data))
        if token:
            head += "Authorization: Bearer %s\r\n" % token
        self.writer.write(head.encode() + b"\r\n" + data)

    async def answer(self):
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))
        body = await self.reader.readexactly(length)
        return status, json.loads(body or b"{}")

    async def call(self, method, path, body=None, token=None):
        self.send(method, path, body, token)
        status, answer = await self.answer()
        if status != 200:
            sys.exit("chat_host_sync_fanout.py: %s %s answered %d: %s" % (method, path, status, answer))
        return answer

    def close(self):
        self.writer.close()


async def register(conn, name, extra=None):
    body = {"username": name, "password": "pw-" + name, "auth": {"type": "m.login.dummy"}}
    if extra:
        body["auth"] = extra
    return (await conn.call("POST", "/_matrix/client/v3/register", body))["access_token"]


async def waiting(admin, token):
    text = await admin_metrics(admin, token)
    return int(re.search(r"^modkit_sync_requests_waiting (\d+)$", text, re.M).group(1))


async def admin_metrics(conn, token):
    conn.send("GET", "/metrics", None, token)
    head = await conn.reader.readuntil(b"\r\n\r\n")
    length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))
    return (await conn.reader.readexactly(length)).decode()


async def until_waiting(admin, token, n, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await waiting(admin, token) >= n:
            return
        await asyncio.sleep(0.005)
    sys.exit("chat_host_sync_fanout.py: fewer than %d /sync requests were waiting after %d s" % (n, timeout))


async def probe(port, token, count):
    conn = await Connection.open(port)
    times = []
    for _ in range(count):
        start = time.perf_counter()
        await conn.call("GET", "/_matrix/client/v3/account/whoami", None, token)
        times.append((time.perf_counter() - start) * 1e3)
    conn.close()
    return times


async def run(args, host):
    port = host.port
    setup = await Connection.open(port)
    admin_token = await register(setup, "admin", {"type": "m.login.registration_token", "token": "bench-operator"})
    sender = await register(setup, "sender")
    room = (await setup.call("POST", "/_matrix/client/v3/createRoom", {"preset": "public_chat"}, sender))["room_id"]
    quoted = urllib.parse.quote(room, safe="")
    readers = []
    for i in range(args.clients):
        token = await register(setup, "reader%04d" % i)
        await setup.call("POST", "/_matrix/client/v3/rooms/%s/join" % quoted, {}, token)
        readers.append(token)
    admin = await Connection.open(port)

    threads_idle = threads_of(host.process.pid)
    probe_idle = await probe(port, sender, args.probes)

    conns = [await Connection.open(port) for _ in readers]
    since = []
    for conn, token in zip(conns, readers):
        since.append((await conn.call("GET", "/_matrix/client/v3/sync?timeout=0", None, token))["next_batch"])

    def wait_all():
        for conn, token, s in zip(conns, readers, since):
            conn.send("GET", "/_matrix/client/v3/sync?since=%s&timeout=60000" % s, None, token)

    wait_all()
    await until_waiting(admin, admin_token, len(readers))
    threads_waiting = threads_of(host.process.pid)
    probe_busy = await probe(port, sender, args.probes)

    lasts, deliveries = [], []
    for r in range(args.rounds):
        await until_waiting(admin, admin_token, len(readers))
        got = [None] * len(conns)

        async def read(i):
            status, answer = await conns[i].answer()
            got[i] = time.perf_counter()
            if status != 200:
                sys.exit("chat_host_sync_fanout.py: a /sync answered %d" % status)
            events = answer["rooms"]["join"].get(room, {}).get("timeline", {}).get("events", [])
            if not any(e.get("content", {}).get("body") == "round %d" % r for e in events):
                sys.exit("chat_host_sync_fanout.py: a reader woke without the message of round %d" % r)
            since[i] = answer["next_batch"]

        readers_done = [asyncio.ensure_future(read(i)) for i in range(len(conns))]
        start = time.perf_counter()
        await setup.call("PUT", "/_matrix/client/v3/rooms/%s/send/m.room.message/r%d" % (quoted, r),
                         {"msgtype": "m.text", "body": "round %d" % r}, sender)
        await asyncio.gather(*readers_done)
        times = [(t - start) * 1e3 for t in got]
        lasts.append(max(times))
        deliveries.extend(times)
        wait_all()

    for conn in conns:
        conn.close()
    return {"clients": len(readers), "rounds": args.rounds,
            "last_p50_ms": percentile(lasts, 50), "last_p99_ms": percentile(lasts, 99),
            "delivery_p50_ms": percentile(deliveries, 50), "delivery_p99_ms": percentile(deliveries, 99),
            "probe_idle_p50_ms": percentile(probe_idle, 50), "probe_idle_p99_ms": percentile(probe_idle, 99),
            "probe_waiting_p50_ms": percentile(probe_busy, 50), "probe_waiting_p99_ms": percentile(probe_busy, 99),
            "threads_idle": threads_idle, "threads_waiting": threads_waiting}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", required=True, help="the modkit-chat-host binary")
    parser.add_argument("--clients", type=int, default=500, help="long-polling readers")
    parser.add_argument("--rounds", type=int, default=20, help="messages fanned out, one at a time")
    parser.add_argument("--probes", type=int, default=200, help="requests timed with and without the readers waiting")
    parser.add_argument("--out", help="also write the JSON here")
    args = parser.parse_args()
    # Each reader holds a socket here and one in the host.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 4 * args.clients + 256)), hard))
    with tempfile.TemporaryDirectory(prefix="modkit-chat-fanout-") as workdir:
        config = {"server_name": "bench.example.org", "listen": "127.0.0.1:0",
                  "admins": ["@admin:bench.example.org"], "admin_registration_token": "bench-operator",
                  "limits": {"max_connections": 4096}, "modkit": {"module_path": [], "modules": []}}
        host = ChatHost(args.host, config, workdir)
        try:
            result = asyncio.run(run(args, host))
        finally:
            host.stop()
    emit(result, args.out)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Synapse's spam-checker dispatch, reproduced: the reference modkit's dispatch is compared with.

Synapse's SpamCheckerModuleApiCallbacks.check_event_for_spam does, per event,

    for callback in self._check_event_for_spam_callbacks:
        res = await delay_cancellation(callback(event))
        if res is not NOT_SPAM: return res

This script runs that loop (without delay_cancellation and Measure, which only add to it) over
N = 1, 4, 16 async callbacks that each read the event and return NOT_SPAM, inside one running
asyncio event loop, and reports the median over 5 repetitions of the CPU time per event
(time.process_time_ns, like Google Benchmark's CPU time) and the wall-clock time, as JSON:

    python3 bench/synapse_loop.py [--out FILE]
"""
import asyncio
import json
import platform
import statistics
import sys
import time

NOT_SPAM = "NOT_SPAM"
REPETITIONS = 5


class Event:
    __slots__ = ("sender", "room_id", "type", "content")

    def __init__(self):
        self.sender = "@alice:example.org"
        self.room_id = "!room:example.org"
        self.type = "m.room.message"
        self.content = {"body": "hello"}


def make_callback():
    async def check_event_for_spam(event):
        if not event.sender:
            return "M_FORBIDDEN"
        return NOT_SPAM

    return check_event_for_spam


async def check_event_for_spam(callbacks, event):
    for callback in callbacks:
        res = await callback(event)
        if res != NOT_SPAM:
            return res
    return NOT_SPAM


async def measure(callbacks, event, events):
    wall, cpu = time.perf_counter_ns(), time.process_time_ns()
    for _ in range(events):
        await check_event_for_spam(callbacks, event)
    return time.perf_counter_ns() - wall, time.process_time_ns() - cpu


async def run():
    event = Event()
    results = []
    for n in (1, 4, 16):
        callbacks = [make_callback() for _ in range(n)]
        events = 200_000 // n
        await measure(callbacks, event, events // 10)  # warm-up
        walls, cpus = [], []
        for _ in range(REPETITIONS):
            wall, cpu = await measure(callbacks, event, events)
            walls.append(wall / events)
            cpus.append(cpu / events)
        results.append({"n": n, "events": events, "repetitions": REPETITIONS,
                        "median_real_ns": statistics.median(walls), "median_cpu_ns": statistics.median(cpus),
                        "cpu_cv": statistics.pstdev(cpus) / statistics.mean(cpus)})
    return results


def main(argv):
    out = None
    if len(argv) == 3 and argv[1] == "--out":
        out = argv[2]
    elif len(argv) != 1:
        sys.exit("usage: synapse_loop.py [--out FILE]")
    doc = {"python": platform.python_version(), "benchmarks": asyncio.run(run())}
    text = json.dumps(doc, indent=2)
    if out:
        with open(out, "w") as f:
            f.write(text + "\n")
    else:
        print(text)


if __name__ == "__main__":
    main(sys.argv)

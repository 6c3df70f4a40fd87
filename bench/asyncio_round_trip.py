#!/usr/bin/env python3
"""asyncio_round_trip.py - the Python reference for BM_async_round_trip: an asyncio task hands a
future to a worker thread through a queue, the worker sets it with call_soon_threadsafe, and the
task awaits it. Prints the median wall-clock time per round trip over five runs, in ns.

    python3 bench/asyncio_round_trip.py [ROUND_TRIPS]
"""
import asyncio
import queue
import statistics
import sys
import threading
import time


async def run(round_trips):
    loop = asyncio.get_running_loop()
    jobs = queue.Queue()

    def worker():
        while True:
            future = jobs.get()
            if future is None:
                return
            loop.call_soon_threadsafe(future.set_result, 0)

    thread = threading.Thread(target=worker)
    thread.start()
    started = time.perf_counter_ns()
    for _ in range(round_trips):
        future = loop.create_future()
        jobs.put(future)
        await future
    elapsed = time.perf_counter_ns() - started
    jobs.put(None)
    thread.join()
    return elapsed / round_trips


def main():
    round_trips = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    runs = [asyncio.run(run(round_trips)) for _ in range(5)]
    print("asyncio round trip: median %.0f ns over %d round trips x 5 runs (runs: %s)"
          % (statistics.median(runs), round_trips, ", ".join("%.0f" % r for r in runs)))


if __name__ == "__main__":
    main()

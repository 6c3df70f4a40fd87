#!/usr/bin/env python3
"""Prints the table of docs/benchmarks.md from invoke_bench's JSON output.

    invoke_bench --benchmark_repetitions=5 --benchmark_enable_random_interleaving=true \
                 --benchmark_out=invoke.json --benchmark_out_format=json
    python3 bench/summarize.py invoke.json

For each callee shape (the <...> of the benchmark names) and each benchmark: the median over
the repetitions of the wall-clock and CPU time per iteration, the CPU time's coefficient of
variation across the repetitions, the ratios of its median CPU time
to the same shape's bare ffi_call and direct call (CPU time, because on a shared machine
wall-clock time also counts other processes' turns), and the heap allocations per iteration.
"""
import json
import re
import sys

ROWS = ["BM_direct_call", "BM_ffi_call", "BM_invoker_call", "BM_invoker_bind", "BM_dispatch_json"]


def main(path):
    with open(path) as f:
        doc = json.load(f)
    medians, cvs = {}, {}
    for b in doc["benchmarks"]:
        m = re.fullmatch(r"(\w+)<(\w+)>", b["run_name"])
        if m and b.get("aggregate_name") == "median":
            medians.setdefault(m.group(2), {})[m.group(1)] = b
        if m and b.get("aggregate_name") == "cv":
            cvs[b["run_name"]] = b["cpu_time"]
    if not medians:
        sys.exit("summarize.py: no medians (run with --benchmark_repetitions > 1)")
    print("| callee | benchmark | median time (ns) | median CPU (ns) | CPU CV | CPU × ffi_call | CPU × direct call "
          "| allocs/iter |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for shape, rows in sorted(medians.items()):
        missing = [r for r in ROWS if r not in rows]
        if missing:
            sys.exit("summarize.py: %s has no median for %s" % (shape, ", ".join(missing)))
        ffi, direct = rows["BM_ffi_call"]["cpu_time"], rows["BM_direct_call"]["cpu_time"]
        for name in ROWS:
            b = rows[name]
            if b.get("time_unit", "ns") != "ns":
                sys.exit("summarize.py: expected times in ns, got %s" % b["time_unit"])
            cv = cvs.get(b["run_name"])
            print("| %s | `%s` | %.1f | %.1f | %s | %.2f | %.1f | %.2f |" % (
                shape, name, b["real_time"], b["cpu_time"], "%.0f%%" % (100 * cv) if cv is not None else "?",
                b["cpu_time"] / ffi, b["cpu_time"] / direct, b.get("allocs_per_iter", 0)))
    c = doc["context"]
    print("\n%s, %d CPUs at %d MHz, load average %s, benchmark library build: %s" % (
        c.get("date", "?"), c.get("num_cpus", 0), c.get("mhz_per_cpu", 0),
        "/".join("%.2f" % x for x in c.get("load_avg", [])), c.get("library_build_type", "?")))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: summarize.py INVOKE_BENCH_OUTPUT.json")
    main(sys.argv[1])

#!/usr/bin/env python3
"""Prints the tables of docs/benchmarks.md from the benchmarks' JSON output.

    modkit_bench --benchmark_repetitions=5 --benchmark_enable_random_interleaving=true \
                 --benchmark_out=modkit.json --benchmark_out_format=json
    python3 bench/synapse_loop.py --out synapse.json
    python3 bench/summarize.py modkit.json [synapse.json]

(invoke_bench's output alone gives the first table only.) The first table, the dynamic invoker:

For each callee shape (the <...> of the benchmark names) and each benchmark: the median over
the repetitions of the wall-clock and CPU time per iteration, the CPU time's coefficient of
variation across the repetitions, the ratios of its median CPU time
to the same shape's bare ffi_call and direct call (CPU time, because on a shared machine
wall-clock time also counts other processes' turns), and the heap allocations per iteration.

The second table (modkit_bench's own rows): each row's median CPU time next to its in-run
reference's, their ratio, the issue's target for that ratio and whether it was met, and the heap
allocations per iteration; then resident memory per module (all of it, what is file-backed, and
the loader's kept heap), the chat host under wrk (requests per second and the host's CPU time per
request for 0, 1, 4 and 16 modules) and, given synapse.json, Synapse's Python loop next to
modkit's dispatch of the same N callbacks.
"""
import json
import re
import sys

ROWS = ["BM_direct_call", "BM_ffi_call", "BM_invoker_call", "BM_invoker_bind", "BM_dispatch_json"]


def invoker_table(doc):
    medians, cvs = {}, {}
    for b in doc["benchmarks"]:
        m = re.fullmatch(r"(\w+)<(\w+)>", b["run_name"])
        if m and b.get("aggregate_name") == "median":
            medians.setdefault(m.group(2), {})[m.group(1)] = b
        if m and b.get("aggregate_name") == "cv":
            cvs[b["run_name"]] = b["cpu_time"]
    if not medians:
        return
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


# (row, reference, target ratio or None): the target is the issue's, row CPU / reference CPU.
ROWS_VS_REFERENCE = (
    [("BM_dispatch_first/%d" % n, "BM_raw_loop_first/%d" % n, 1.25) for n in (1, 4, 16)] +
    [("BM_dispatch_all/%d" % n, "BM_raw_loop_all/%d" % n, 1.25) for n in (1, 4, 16)] +
    [("BM_guarded_first/%d" % n, "BM_raw_loop_first/%d" % n, 1.5) for n in (1, 4, 16)] +
    [("BM_guarded_all/%d" % n, "BM_raw_loop_all/%d" % n, 1.5) for n in (1, 4, 16)] +
    [("BM_metered_first/%d" % n, "BM_guarded_first/%d" % n, 1.3) for n in (1, 4, 16)] +
    [("BM_metered_all/%d" % n, "BM_guarded_all/%d" % n, 1.3) for n in (1, 4, 16)] +
    [("BM_cached_hit_string", "BM_map_find", 2.5), ("BM_cached_hit_array", "BM_map_find", 2.5),
     ("BM_loader_cycle", "BM_raw_dlopen_cycle", 1.3), ("BM_boost_dll_cycle", "BM_raw_dlopen_cycle", None),
     ("BM_poco_cycle", "BM_raw_dlopen_cycle", None), ("BM_boost_dll_call", "BM_raw_call", None),
     ("BM_poco_call", "BM_raw_call", None), ("BM_loader_startup_100", "BM_raw_startup_100", 1.3),
     ("BM_elf_read_facts", "BM_raw_dlopen_cycle_1000", 1.0)] +
    [("BM_async_ready_first/%d" % n, "BM_guarded_first/%d" % n, 1.5) for n in (1, 4, 16)] +
    [("BM_async_round_trip/real_time", "BM_promise_round_trip/real_time", 1.0)] +
    [("BM_timer_arm_fire/real_time", "BM_cv_timer_arm_fire/real_time", 2.0),
     ("BM_metric_counter_add", "BM_atomic_increment", 2.0),
     ("BM_http_client_service/real_time", "BM_http_client_raw_multi/real_time", 1.3),
     ("BM_storage_insert_service", "BM_storage_insert_raw", 1.5),
     ("BM_storage_read_service", "BM_storage_read_raw", 1.5),
     ("BM_storage_insert_pipelined/real_time", "BM_storage_insert_raw", 1.5),
     ("BM_storage_read_pipelined/real_time", "BM_storage_read_raw", 1.5)])
# Rows compared by wall-clock time (a hand-off between threads is mostly waiting).
WALL_CLOCK = ("BM_async_round_trip", "BM_promise_round_trip", "BM_timer_arm_fire", "BM_cv_timer_arm_fire",
              "BM_http_client_", "BM_storage_")
# Rows whose iteration is several items: their time is divided by this many (one statement each).
PER_ITEM = {"BM_storage_insert_pipelined/real_time": 256, "BM_storage_read_pipelined/real_time": 256}
# Rows whose target is also "no heap allocation per iteration".
ZERO_ALLOCS = ("BM_dispatch_", "BM_guarded_", "BM_metered_", "BM_cached_hit_", "BM_metric_counter_add")


def ns(b):
    scale = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}[b.get("time_unit", "ns")]
    return b["cpu_time"] * scale, b["real_time"] * scale


def fmt(x):
    return "%.0f" % x if x >= 100 else "%.1f" % x


def modkit_table(doc, synapse):
    medians, cvs = {}, {}
    for b in doc["benchmarks"]:
        if b.get("aggregate_name") == "median":
            medians[b["run_name"]] = b
        elif b.get("aggregate_name") == "cv":
            cvs[b["run_name"]] = b["cpu_time"]
    if "BM_raw_loop_first/1" not in medians:
        return
    print("\n| row | reference | median CPU (ns) | reference CPU (ns) | ratio | target | met | allocs/iter | CPU CV |")
    print("|---|---|---:|---:|---:|---:|---|---:|---:|")
    for row, ref, target in ROWS_VS_REFERENCE:
        if row not in medians or ref not in medians:
            print("| `%s` | `%s` | missing | | | | | | |" % (row, ref))
            continue
        which = 1 if row.startswith(WALL_CLOCK) else 0
        cpu, ref_cpu = ns(medians[row])[which] / PER_ITEM.get(row, 1), ns(medians[ref])[which]
        ratio = cpu / ref_cpu
        allocs = medians[row].get("allocs_per_iter")
        met = "" if target is None else ("yes" if ratio <= target else "**no**")
        if row.startswith(ZERO_ALLOCS) and allocs is not None and allocs > 0:
            met = "**no** (allocates)" if met == "yes" else met + " (allocates)"
        cv = cvs.get(row)
        print("| `%s` | `%s` | %s | %s | %.2f | %s | %s | %s | %s |" % (
            row, ref, fmt(cpu), fmt(ref_cpu), ratio, "≤ %.2f" % target if target else "", met,
            "%.2f" % allocs if allocs is not None else "", "%.0f%%" % (100 * cv) if cv is not None else "?"))
    rss = next((b for name, b in medians.items() if name.startswith("BM_resident_memory")), None)
    if rss:
        own = rss["loader_own_kib_per_module"]
        print("\nResident memory per module (growth from 1 to 100 modules / 99, fresh processes, medians): "
              "raw dlopen %.1f KiB, loader %.1f KiB, the loader's own %.1f KiB (target ≤ 4 KiB: %s)" % (
                  rss["raw_kib_per_module"], rss["loader_kib_per_module"], own, "met" if own <= 4 else "**missed**"))
        if "loader_own_heap_kib_per_module" in rss:
            print("\nOf the loader's own: file-backed %.1f KiB (pages of the modules' files that the loader reads and "
                  "a bare dlopen + entry call does not), anonymous %.1f KiB; heap the loader allocates and keeps: "
                  "%.2f KiB per module" % (rss["loader_own_file_kib_per_module"], rss["loader_own_anon_kib_per_module"],
                                            rss["loader_own_heap_kib_per_module"]))
    cli = medians.get("BM_cli_inspect_1000")
    raw = medians.get("BM_raw_dlopen_cycle_1000")
    if cli and raw and "cli_cpu_ns_per_file" in cli:
        per_file = cli["cli_cpu_ns_per_file"]
        print("\n`modkit inspect` over 1,000 files in one invocation (medians): %.0f files/s, %.0f ns CPU per file "
              "(process start included) = %.2f × a raw dlopen cycle of one of those files (%.0f ns; target < 1: %s)" % (
                  cli["files_per_second"], per_file, per_file / ns(raw)[0], ns(raw)[0],
                  "met" if per_file < ns(raw)[0] else "**missed**"))
    else:
        print("\n`modkit inspect` (BM_cli_inspect_1000): missing (the CLI was not built or failed)")
    chat_table(medians, cvs_of(doc))
    fanout_table(medians)
    if synapse:
        print("\n| N callbacks | Synapse's loop, Python %s: CPU ns/event | modkit `BM_dispatch_first/N` CPU ns "
              "| Python ÷ modkit | modkit `BM_guarded_first/N` CPU ns | Python ÷ guarded |" % synapse["python"])
        print("|---:|---:|---:|---:|---:|---:|")
        for s in synapse["benchmarks"]:
            n = s["n"]
            d, g = medians.get("BM_dispatch_first/%d" % n), medians.get("BM_guarded_first/%d" % n)
            dc = ns(d)[0] if d else None
            gc = ns(g)[0] if g else None
            print("| %d | %s | %s | %s | %s | %s |" % (
                n, fmt(s["median_cpu_ns"]), fmt(dc) if dc else "missing", "%.0f×" % (s["median_cpu_ns"] / dc) if dc else "",
                fmt(gc) if gc else "missing", "%.0f×" % (s["median_cpu_ns"] / gc) if gc else ""))


def cvs_of(doc):
    """The cv aggregate of every benchmark, counters included, by run name."""
    return {b["run_name"]: b for b in doc["benchmarks"] if b.get("aggregate_name") == "cv"}


def chat_table(medians, cvs):
    """The chat host under wrk (BM_chat_host_send/N): requests per second, the host's CPU time per
    request, and what N modules add to it next to the typed dispatch of the same N callbacks."""
    runs = {int(name.split("/")[1]): b for name, b in medians.items()
            if name.startswith("BM_chat_host_send/") and "server_cpu_us_per_request" in b}
    if not runs:
        print("\nThe chat host under wrk (BM_chat_host_send): missing (wrk not installed, or the host not built)")
        return
    base = runs.get(0)
    print("\n| modules | requests/s | CV | host CPU per request (µs) | CV | added vs 0 modules (µs) "
          "| modkit `BM_dispatch_first/N` (µs) | latency p50 / p99 (ms) |")
    print("|---:|---:|---:|---:|---:|---:|---:|---|")
    for n, b in sorted(runs.items()):
        cv = cvs.get(b["run_name"], {})
        cpu = b["server_cpu_us_per_request"]
        added = "%+.1f" % (cpu - base["server_cpu_us_per_request"]) if base and n else ""
        dispatch = medians.get("BM_dispatch_first/%d" % n)
        print("| %d | %.0f | %s | %.1f | %s | %s | %s | %.2f / %.2f |" % (
            n, b["requests_per_second"], "%.0f%%" % (100 * cv["requests_per_second"]) if cv else "?", cpu,
            "%.0f%%" % (100 * cv["server_cpu_us_per_request"]) if cv else "?", added,
            "%.3f" % (ns(dispatch)[0] / 1e3) if dispatch else "", b["latency_p50_ms"], b["latency_p99_ms"]))
    ports = medians.get("BM_chat_host_send_ports")
    if ports and "server_cpu_us_per_request" in ports:
        cv = cvs.get(ports["run_name"], {})
        cpu = ports["server_cpu_us_per_request"]
        print("| the %d Synapse ports (http_antispam asking a local service) | %.0f | %s | %.1f | %s | %s |  | %.2f / %.2f |" % (
            ports.get("modules", 0), ports["requests_per_second"],
            "%.0f%%" % (100 * cv["requests_per_second"]) if cv else "?", cpu,
            "%.0f%%" % (100 * cv["server_cpu_us_per_request"]) if cv else "?",
            "%+.1f" % (cpu - base["server_cpu_us_per_request"]) if base else "",
            ports["latency_p50_ms"], ports["latency_p99_ms"]))


def fanout_table(medians):
    """One message to many long-polling /sync clients (BM_chat_host_sync_fanout)."""
    f = medians.get("BM_chat_host_sync_fanout")
    if not f or "last_p50_ms" not in f:
        print("\nOne message to long-polling clients (BM_chat_host_sync_fanout): missing (the host not built)")
        return
    print("\n| long-polling clients | until the last has it, p50 / p99 (ms) | each delivery, p50 / p99 (ms) "
          "| another client's request, none waiting / all waiting, p99 (ms) | host threads, none / all waiting |")
    print("|---:|---|---|---|---|")
    print("| %d | %.1f / %.1f | %.1f / %.1f | %.2f / %.2f | %d / %d |" % (
        f["clients"], f["last_p50_ms"], f["last_p99_ms"], f["delivery_p50_ms"], f["delivery_p99_ms"],
        f["probe_idle_p99_ms"], f["probe_waiting_p99_ms"], f["threads_idle"], f["threads_waiting"]))


def main(path, synapse_path=None):
    with open(path) as f:
        doc = json.load(f)
    synapse = None
    if synapse_path:
        with open(synapse_path) as f:
            synapse = json.load(f)
    invoker_table(doc)
    modkit_table(doc, synapse)
    c = doc["context"]
    print("\n%s, %d CPUs at %d MHz, load average %s, benchmark library build: %s" % (
        c.get("date", "?"), c.get("num_cpus", 0), c.get("mhz_per_cpu", 0),
        "/".join("%.2f" % x for x in c.get("load_avg", [])), c.get("library_build_type", "?")))


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: summarize.py BENCH_OUTPUT.json [SYNAPSE_LOOP.json]")
    main(*sys.argv[1:])

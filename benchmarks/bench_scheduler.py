"""Time ``schedule(plan)`` on synthetic plans of growing size, with peak memory per size.

    python benchmarks/bench_scheduler.py --sizes 1000 10000 100000 1000000

Each size runs in a fresh subprocess so that its peak resident set size (``ru_maxrss``) is its own;
the plan is generated first (not timed) and ``schedule()`` is then timed alone with
``time.perf_counter``, best of N. For context the same process times a naive pure-Python longest path
over the same links (every link read as finish-to-start, durations in plain days, no calendars,
lags, constraints or backward pass): it is the floor any Python CPM pays for walking the graph, not a
competitor. ``schedule()`` returns its task and link records as columns and builds the records on
first use (see ``RecordTable``); "+ all records" is what building every one of them then costs, for
a reader that walks them all. The output is a Markdown table ready for BENCHMARKS.md, preceded by a description of the
machine and the commit measured ("+dirty" when ``src`` has uncommitted changes).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wbs_tools.core.model import Plan

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from machine import machine, peak_rss_mb  # noqa: E402  (the benchmarks folder, also when imported)


def default_repeats(n: int) -> int:
    """Best of 5 for small plans, fewer where one run already takes seconds."""
    return 5 if n <= 10_000 else (3 if n <= 100_000 else 1)


def naive_longest_path(plan: Plan) -> float:
    """Finish of the longest path in days, every link read as finish-to-start (Kahn's order)."""
    tasks = plan.tasks
    index = {t.id: i for i, t in enumerate(tasks)}
    n = len(tasks)
    dur = [(t.duration.minutes / 480.0) if t.duration is not None else 0.0 for t in tasks]
    succs: list[list[int]] = [[] for _ in range(n)]
    indegree = [0] * n
    for link in plan.links:
        p, s = index[link.predecessor], index[link.successor]
        succs[p].append(s)
        indegree[s] += 1
    start = [0.0] * n
    ready = [i for i in range(n) if indegree[i] == 0]
    finish = 0.0
    while ready:
        i = ready.pop()
        f = start[i] + dur[i]
        finish = max(finish, f)
        for s in succs[i]:
            if f > start[s]:
                start[s] = f
            indegree[s] -= 1
            if indegree[s] == 0:
                ready.append(s)
    return finish


def best_of(repeats: int, fn: Callable[[Plan], object], arg: Plan) -> tuple[float, float]:
    """Best wall time and best CPU time of ``fn(arg)``; the result is dropped between runs.

    CPU time is reported beside wall time because a shared machine inflates wall time only.
    """
    best_wall = best_cpu = float("inf")
    for _ in range(repeats):
        gc.collect()
        c0, t0 = time.process_time(), time.perf_counter()
        result = fn(arg)
        best_wall = min(best_wall, time.perf_counter() - t0)
        best_cpu = min(best_cpu, time.process_time() - c0)
        del result
    return best_wall, best_cpu


def measure(n: int, repeats: int, seed: int) -> dict[str, float]:
    """One size, in this process: generate, time schedule() and the naive pass, report peak RSS."""
    sys.path.insert(0, str(HERE))
    from generate import generate_plan

    from wbs_tools.core.cpm import schedule

    t0 = time.perf_counter()
    plan = generate_plan(n, seed)
    generate_s = time.perf_counter() - t0
    gc.collect()
    rss_plan = peak_rss_mb()
    schedule_s, schedule_cpu = best_of(repeats, schedule, plan)
    rss_peak = peak_rss_mb()
    records_s = float("inf")
    for _ in range(repeats):  # every task and link record built, as a reader of all of them would
        result = schedule(plan)
        t0 = time.perf_counter()
        list(result.tasks), list(result.links)  # every record, outline numbers and dates included
        records_s = min(records_s, time.perf_counter() - t0)
        del result
    naive_s, _ = best_of(repeats, naive_longest_path, plan)
    return {
        "tasks": n, "links": len(plan.links), "repeats": repeats, "generate_s": generate_s,
        "schedule_s": schedule_s, "schedule_cpu_s": schedule_cpu, "records_s": records_s, "naive_s": naive_s,
        "rss_plan_mb": rss_plan, "rss_peak_mb": rss_peak, "load_avg": os.getloadavg()[0],
    }


def run_child(n: int, repeats: int, seed: int) -> dict[str, float]:
    """Measure one size in a fresh interpreter so each peak RSS belongs to that size alone."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", str(n), "--repeats", str(repeats),
           "--seed", str(seed)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


HEADER = ("| tasks | links | schedule() s | CPU s | tasks/s | + all records s | peak RSS MB | RSS/task KB | "
          "scheduler RSS/task KB | naive s | schedule/naive | generate s | load |")


def row(r: dict[str, float]) -> str:
    n = r["tasks"]
    own = (r["rss_peak_mb"] - r["rss_plan_mb"]) * 1024 / n
    return (f"| {n:,} | {r['links']:,} | {r['schedule_s']:.3f} | {r['schedule_cpu_s']:.3f} | "
            f"{n / r['schedule_s']:,.0f} | {r['records_s']:.3f} | {r['rss_peak_mb']:,.0f} | "
            f"{r['rss_peak_mb'] * 1024 / n:.2f} | "
            f"{own:.2f} | {r['naive_s']:.3f} | {r['schedule_s'] / r['naive_s']:.0f}x | {r['generate_s']:.2f} | "
            f"{r['load_avg']:.1f} |")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    ap.add_argument("--repeats", type=int, default=None, help="best of N (default: 5, 3 or 1 by size)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, default=None, help="also write the raw figures here")
    ap.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.child is not None:
        repeats = args.repeats or default_repeats(args.child)
        print(json.dumps(measure(args.child, repeats, args.seed)))
        return 0

    info = machine()
    print(f"date: {dt.date.today().isoformat()}")
    for key, value in info.items():
        print(f"{key}: {value}")
    print(f"load average (1 min) at start: {os.getloadavg()[0]:.2f}")
    shown = sys.argv[1:] if argv is None else argv
    print(f"command: python benchmarks/bench_scheduler.py {' '.join(shown)}\n")
    print(HEADER)
    print("|" + "---:|" * (HEADER.count("|") - 1))
    results = []
    for n in args.sizes:
        r = run_child(n, args.repeats or default_repeats(n), args.seed)
        results.append(r)
        print(row(r), flush=True)
    if args.json:
        args.json.write_text(json.dumps({"machine": info, "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

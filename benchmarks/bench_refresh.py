"""Time ``wbs refresh`` against the obvious alternative, an openpyxl load and save of the same workbook.

    python benchmarks/bench_refresh.py --sizes 10000 100000 1000000
    python benchmarks/bench_refresh.py --profile 100000          # cProfile of one refresh

For each size a plan workbook is generated first (not timed): up to 100k tasks with the template
(``build_workbook``: every sheet, tables, drop-downs, notes, the Gantt formats), above that as a
streamed workbook (XlsxWriter ``constant_memory``) holding only the Tasks, Calendar and Settings
inputs under the template's headers, since the template keeps every cell in memory. Then, on copies
of that same file and each in a fresh interpreter (so a peak RSS is that measurement's own):

* refresh: ``refresh_workbook`` as ``wbs refresh`` calls it, backup included, with the time spent in
  each phase (read, schedule, the rest of compute, render of the new package, the atomic write);
* openpyxl: ``load_workbook`` + ``save``, the round trip a tool built on openpyxl would make.

The machine's load average is printed beside each row: on a shared machine wall time is inflated.
The output ends with a Markdown table ready for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from machine import machine, peak_rss_mb  # noqa: E402  (the benchmarks folder, also when imported)

TEMPLATE_UP_TO = 100_000  # larger plans are written streamed: the template holds every cell in memory
GOAL_RATIO = 0.1  # 100k tasks: refresh in under a tenth of the openpyxl round trip
GOAL_1M_SECONDS, GOAL_1M_MB = 60.0, 2048.0


# -- generating plan workbooks ---------------------------------------------------------------------------
def make_plan(n: int, seed: int) -> Any:
    """The scheduler benchmark's synthetic programme of ``n`` tasks."""
    sys.path.insert(0, str(HERE))
    from generate import generate_plan

    return generate_plan(n, seed)


def write_streamed(path: Path, plan: Any) -> None:
    """Only the inputs: Tasks, Calendar and Settings tables under the template's titles and headers,
    written row by row so that a million tasks need little memory."""
    import xlsxwriter

    from wbs_tools.core.model import Plan
    from wbs_tools.workbook.layout import CALENDAR_WEEK, DATE, DATETIME, HOLIDAYS, PERCENT, SETTINGS, TASKS, TIME
    from wbs_tools.workbook.plan_rows import sheet_rows, task_rows

    rows = sheet_rows(Plan(plan.settings, [], [], plan.calendars))
    rows[TASKS.table_name] = task_rows(plan)
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    formats = {fmt: workbook.add_format({"num_format": fmt}) for fmt in (DATE, DATETIME, PERCENT, TIME)}
    bold = workbook.add_format({"bold": True})
    for name, layouts in ((TASKS.name, (TASKS,)), (CALENDAR_WEEK.name, (CALENDAR_WEEK, HOLIDAYS)),
                          (SETTINGS.name, (SETTINGS,))):
        ws = workbook.add_worksheet(name)
        ws.write_string(0, 0, name, bold)
        ws.write_string(1, 0, layouts[0].guidance)
        top = layouts[0].header_row - 1
        for layout in layouts:
            for col, column in enumerate(layout.columns, start=layout.first_column - 1):
                ws.write_string(top, col, column.title, bold)
        height = max(len(rows[layout.table_name]) for layout in layouts)
        for n in range(height):
            for layout in layouts:
                table = rows[layout.table_name]
                if n >= len(table):
                    continue
                for col, column in enumerate(layout.columns, start=layout.first_column - 1):
                    value = table[n].get(column.key)
                    if value is None:
                        continue
                    if isinstance(value, dt.time):
                        ws.write_datetime(top + 1 + n, col, value, formats[TIME])
                    elif isinstance(value, dt.date):
                        ws.write_datetime(top + 1 + n, col, value, formats[column.number_format or DATETIME])
                    elif column.number_format == PERCENT:
                        ws.write_number(top + 1 + n, col, value, formats[PERCENT])
                    else:
                        ws.write(top + 1 + n, col, value)
        rows[layouts[0].table_name] = []  # free the task rows as soon as they are written
    workbook.close()


def generate(n: int, seed: int, kind: str, path: Path) -> dict[str, Any]:
    from wbs_tools.workbook.template import build_workbook

    t0 = time.perf_counter()
    plan = make_plan(n, seed)
    t1 = time.perf_counter()
    if kind == "template":
        build_workbook(path, plan=plan)
    else:
        write_streamed(path, plan)
    return {"plan_s": t1 - t0, "write_s": time.perf_counter() - t1, "links": len(plan.links),
            "bytes": path.stat().st_size, "rss_mb": peak_rss_mb()}


# -- the two measurements -------------------------------------------------------------------------------
def timed(phases: dict[str, float], name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` adding its wall time to ``phases[name]`` on every call."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            phases[name] = phases.get(name, 0.0) + time.perf_counter() - start

    return wrapper


def measure_refresh(path: Path, status_date: str | None = None) -> dict[str, Any]:
    """One ``refresh_workbook`` call, its phases timed by wrapping the functions it calls."""
    import wbs_tools.refresh as refresh
    from wbs_tools.workbook import lossless

    phases: dict[str, float] = {}
    refresh.read_workbook = timed(phases, "read", refresh.read_workbook)
    refresh.schedule = timed(phases, "schedule", refresh.schedule)
    refresh.compute = timed(phases, "compute", refresh.compute)
    refresh.write_workbook = timed(phases, "write", refresh.write_workbook)
    lossless.edit_package = timed(phases, "render", lossless.edit_package)  # the zip is built in "disk"
    lossless.write_atomically = timed(phases, "disk", lossless.write_atomically)
    size = path.stat().st_size
    c0, t0 = time.process_time(), time.perf_counter()
    when = dt.datetime.fromisoformat(status_date) if status_date else None
    result = refresh.refresh_workbook(path, status_date=when)
    total, cpu = time.perf_counter() - t0, time.process_time() - c0
    used = result.schedule.plan.settings.status_date if result.schedule else None
    return {"total_s": total, "cpu_s": cpu, "rss_mb": peak_rss_mb(), "outcome": result.outcome.value,
            "message": result.message[:300], "cells": result.write.cells_written if result.write else 0,
            "findings": len(result.findings), "bytes_in": size, "bytes_out": path.stat().st_size,
            "status_date": used.isoformat() if used else None, **phases}


def measure_openpyxl(path: Path) -> dict[str, Any]:
    import openpyxl

    c0, t0 = time.process_time(), time.perf_counter()
    workbook = openpyxl.load_workbook(path)
    t1 = time.perf_counter()
    workbook.save(path.with_name("openpyxl-" + path.name))
    t2 = time.perf_counter()
    return {"total_s": t2 - t0, "load_s": t1 - t0, "save_s": t2 - t1, "cpu_s": time.process_time() - c0,
            "rss_mb": peak_rss_mb()}


def profile_refresh(path: Path, top: int) -> None:
    import cProfile
    import pstats

    from wbs_tools.refresh import refresh_workbook

    profiler = cProfile.Profile()
    profiler.runcall(refresh_workbook, path)
    stats = pstats.Stats(profiler, stream=sys.stdout)
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)


# -- running children --------------------------------------------------------------------------------------
def child(args: list[str], timeout: float, memory_gb: float) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter, bounded in time and address space."""
    limit = int(memory_gb * 2**30)

    def bound() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    load = os.getloadavg()[0]
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", *args]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, preexec_fn=bound, check=False)
    except subprocess.TimeoutExpired:
        return {"error": f"not done after {timeout:.0f} s", "load": load}
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["?"])[-1]
        return {"error": f"exit {done.returncode}: {last[:200]}", "load": load}
    return {**json.loads(done.stdout.strip().splitlines()[-1]), "load": max(load, os.getloadavg()[0])}


def best(runs: list[dict[str, Any]]) -> dict[str, Any]:
    ok = [r for r in runs if "error" not in r]
    return min(ok, key=lambda r: r["total_s"]) if ok else runs[-1]


def measure_size(n: int, args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    kind = args.kind if args.kind != "auto" else ("template" if n <= TEMPLATE_UP_TO else "stream")
    source = folder / f"plan-{n}.xlsx"
    made = child(["generate", str(n), str(args.seed), kind, str(source)], args.timeout, args.memory_gb)
    if "error" in made:
        return {"tasks": n, "kind": kind, "generate": made}
    repeats = args.repeats or (3 if n <= 10_000 else 1)
    refreshes, rounds = [], []
    weekly: dict[str, Any] = {"error": "not measured"}
    for k in range(repeats):
        copy = folder / f"refresh-{n}-{k}.xlsx"
        shutil.copy(source, copy)
        refreshes.append(child(["refresh", str(copy)], args.timeout, args.memory_gb))
        if args.weekly and k == 0 and refreshes[-1].get("status_date"):
            week_later = dt.datetime.fromisoformat(refreshes[-1]["status_date"]) + dt.timedelta(days=7)
            weekly = child(["refresh", str(copy), week_later.isoformat()], args.timeout, args.memory_gb)
        for leftover in folder.glob(f"refresh-{n}-{k}.xlsx*"):
            leftover.unlink()
        if not args.no_openpyxl:
            rounds.append(child(["openpyxl", str(source)], args.timeout, args.memory_gb))
            folder.joinpath(f"openpyxl-{source.name}").unlink(missing_ok=True)
        print(f"  {n:,} tasks, run {k + 1}/{repeats}: refresh {refreshes[-1]}, openpyxl "
              f"{rounds[-1] if rounds else 'skipped'}", file=sys.stderr, flush=True)
    source.unlink()
    return {"tasks": n, "kind": kind, "generate": made, "refresh": best(refreshes),
            "openpyxl": best(rounds) if rounds else {"error": "skipped"}, "repeats": repeats, "weekly": weekly}


# -- the report ----------------------------------------------------------------------------------------------
HEADER = ("| tasks | workbook | file MB | refresh s | read | schedule | compute rest | render | atomic write "
          "| refresh CPU s | refresh peak RSS MB | openpyxl load s | openpyxl save s | openpyxl s "
          "| openpyxl CPU s | openpyxl peak RSS MB | refresh / openpyxl (wall) | (CPU) | load |")


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def table_row(r: dict[str, Any]) -> str:
    n, ref, opx = r["tasks"], r.get("refresh", {}), r.get("openpyxl", {})
    size = r["generate"].get("bytes")
    cells = [f"{n:,}", r["kind"], "-" if size is None else f"{size / 1e6:.1f}"]
    if "error" in ref or not ref:
        cells += [ref.get("error") or r["generate"].get("error", "-")] + ["-"] * 7
    else:
        rest = ref.get("compute", 0.0) - ref.get("schedule", 0.0)
        failed = "" if ref["outcome"] in ("refreshed", "unchanged") else f" ({ref['outcome']}: {ref['message']})"
        cells += [_s(ref["total_s"]) + failed, _s(ref.get("read")), _s(ref.get("schedule")), _s(rest),
                  _s(ref.get("render")), _s(ref.get("disk")), _s(ref["cpu_s"]), f"{ref['rss_mb']:,.0f}"]
    if "error" in opx or not opx:
        cells += [opx.get("error", "-"), "-", "-", "-", "-", "-", "-"]
    else:
        done = bool(ref) and "error" not in ref
        cells += [_s(opx["load_s"]), _s(opx["save_s"]), _s(opx["total_s"]), _s(opx["cpu_s"]),
                  f"{opx['rss_mb']:,.0f}", f"{ref['total_s'] / opx['total_s']:.2f}" if done else "-",
                  f"{ref['cpu_s'] / opx['cpu_s']:.2f}" if done else "-"]
    load = max(x.get("load", 0.0) for x in (r["generate"], ref, opx))
    return "| " + " | ".join(cells) + f" | {load:.1f} |"


WEEKLY_HEADER = ("| tasks | first refresh s | weekly refresh s | read | schedule | compute rest | render "
                 "| atomic write | weekly CPU s | weekly peak RSS MB |")


def weekly_row(r: dict[str, Any]) -> str:
    first, week = r.get("refresh", {}), r.get("weekly", {})
    cells = [f"{r['tasks']:,}", _s(first.get("total_s"))]
    if "error" in week:
        return "| " + " | ".join(cells + [week["error"]] + ["-"] * 7) + " |"
    rest = week.get("compute", 0.0) - week.get("schedule", 0.0)
    cells += [_s(week["total_s"]), _s(week.get("read")), _s(week.get("schedule")), _s(rest), _s(week.get("render")),
              _s(week.get("disk")), _s(week["cpu_s"]), f"{week['rss_mb']:,.0f}"]
    return "| " + " | ".join(cells) + " |"


def goals(results: list[dict[str, Any]]) -> list[str]:
    out = []
    for r in results:
        ref, opx = r.get("refresh", {}), r.get("openpyxl", {})
        if r["tasks"] == 100_000 and "total_s" in ref and "total_s" in opx:
            ratio, cpu = ref["total_s"] / opx["total_s"], ref["cpu_s"] / opx["cpu_s"]
            met = max(ratio, cpu) < GOAL_RATIO
            out.append(f"100k tasks: refresh takes {ratio:.2f} of the openpyxl round trip's wall time and {cpu:.2f} "
                       f"of its CPU time (goal under {GOAL_RATIO}): {'met' if met else 'not met'}")
        if r["tasks"] == 1_000_000 and "total_s" in ref:
            met = ref["total_s"] < GOAL_1M_SECONDS and ref["rss_mb"] < GOAL_1M_MB
            out.append(f"1M tasks: refresh {ref['total_s']:.0f} s, peak {ref['rss_mb']:,.0f} MB (goal under "
                       f"{GOAL_1M_SECONDS:.0f} s and {GOAL_1M_MB:,.0f} MB): {'met' if met else 'not met'}")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--kind", choices=("auto", "template", "stream"), default="auto",
                    help=f"workbook generator (auto: template up to {TEMPLATE_UP_TO:,} tasks)")
    ap.add_argument("--repeats", type=int, default=None, help="best of N (default 3 up to 10k tasks, else 1)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=3600.0, help="seconds allowed per measurement")
    ap.add_argument("--memory-gb", type=float, default=12.0, help="address-space limit per measurement")
    ap.add_argument("--no-openpyxl", action="store_true", help="time the refresh alone")
    ap.add_argument("--weekly", action="store_true",
                    help="also time a second refresh of the first copy, a week later (the usual refresh)")
    ap.add_argument("--profile", type=int, default=None, metavar="N", help="cProfile one refresh of N tasks")
    ap.add_argument("--top", type=int, default=30, help="functions shown per profile listing")
    ap.add_argument("--json", type=Path, default=None, help="also write the raw figures here")
    ap.add_argument("--child", nargs="+", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.child:
        what, rest = args.child[0], args.child[1:]
        if what == "generate":
            figures = generate(int(rest[0]), int(rest[1]), rest[2], Path(rest[3]))
        elif what == "refresh":
            figures = measure_refresh(Path(rest[0]), rest[1] if len(rest) > 1 else None)
        elif what == "openpyxl":
            figures = measure_openpyxl(Path(rest[0]))
        else:
            profile_refresh(Path(rest[0]), int(rest[1]))
            return 0
        print(json.dumps(figures))
        return 0

    with tempfile.TemporaryDirectory(prefix="bench_refresh.") as tmp:
        folder = Path(tmp)
        if args.profile is not None:
            kind = args.kind if args.kind != "auto" else ("template" if args.profile <= TEMPLATE_UP_TO else "stream")
            source = folder / "plan.xlsx"
            print(child(["generate", str(args.profile), str(args.seed), kind, str(source)], args.timeout,
                        args.memory_gb), file=sys.stderr)
            subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", "profile", str(source),
                            str(args.top)], check=True)
            return 0
        print(f"date: {dt.date.today().isoformat()}")
        for key, value in machine().items():
            print(f"{key}: {value}")
        print(f"load average (1, 5, 15 min) at start: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
        shown = sys.argv[1:] if argv is None else argv
        print(f"command: python benchmarks/bench_refresh.py {' '.join(shown)}\n", flush=True)
        results = [measure_size(n, args, folder) for n in args.sizes]
    print(HEADER)
    print("|---:|---|" + "---:|" * (HEADER.count("|") - 3))
    for r in results:
        print(table_row(r))
    if args.weekly:
        print("\nThe same workbooks refreshed again a week later (status date + 7 days), as every refresh after")
        print("the first one is: the workbook now holds last week's status snapshot and the mirrored links.\n")
        print(WEEKLY_HEADER)
        print("|---:|" + "---:|" * (WEEKLY_HEADER.count("|") - 2))
        for r in results:
            print(weekly_row(r))
    print()
    for line in goals(results):
        print(f"* {line}")
    print(f"\nload average (1, 5, 15 min) at end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

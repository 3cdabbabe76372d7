"""Throughput of ``wbs refresh DIR --jobs N`` against a loop of openpyxl load + save over the same files.

    python benchmarks/bench_batch.py --plans 1000 --tasks 200 --jobs 2
    python benchmarks/bench_batch.py --plans 100 --json out/batch.json      # a quick look

A folder of ``--plans`` workbooks of ``--tasks`` tasks is built first (not timed): ``--distinct``
different plans from ``generate.py`` (links of all types, lags, two calendars, constraints,
progress), each copied to several file names, so building the folder takes seconds, not minutes;
every file is still read, computed and written on its own. Then, in the same run and on the same
machine:

* ``openpyxl``: one process loops ``load_workbook`` + ``save`` over a copy of the folder, the
  cheapest "open every plan and save it" a script can do (it computes nothing);
* ``cold``: ``wbs refresh DIR --jobs N``, the first run: every plan is read, scheduled and written;
* ``forced``: the same again with ``--force``: every plan recomputed, nothing left to write;
* ``weekly``: ``--edited`` percent of the plans had a duration changed since (a normal week), the
  rest are recognised as unchanged by their fingerprint;
* ``idle``: nothing changed since the last run.

Each wbs run is the real command in a fresh interpreter, timed from launch to exit (start-up,
discovery, the process pool and the run report included). Plans per second and the ratio to the
openpyxl loop are printed as a Markdown table for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from machine import cpu_model  # noqa: E402  (the benchmarks folder, also when imported)

STATUS_DATE = "2026-03-06"


def build_one(args: tuple[str, int, int]) -> str:
    """Build plan ``seed`` of ``tasks`` tasks at ``path`` (run in a worker process)."""
    path, tasks, seed = args
    sys.path.insert(0, str(HERE))
    from generate import generate_plan

    from wbs_tools.workbook.template import build_workbook

    build_workbook(path, plan=generate_plan(tasks, seed=seed))
    return path


def build_folder(folder: Path, plans: int, tasks: int, distinct: int, jobs: int) -> None:
    masters = folder / ".masters"
    masters.mkdir(parents=True)
    work = [(str(masters / f"m{seed:03}.xlsx"), tasks, seed) for seed in range(min(distinct, plans))]
    with ProcessPoolExecutor(jobs) as pool:
        built = list(pool.map(build_one, work))
    for n in range(plans):
        shutil.copyfile(built[n % len(built)], folder / f"plan{n:05}.xlsx")
    shutil.rmtree(masters)


def openpyxl_loop(folder: Path) -> float:
    """Seconds to load and save every workbook with openpyxl, one after the other."""
    import openpyxl

    files = sorted(folder.glob("*.xlsx"))
    start = time.perf_counter()
    for path in files:
        openpyxl.load_workbook(path).save(path)
    return time.perf_counter() - start


def wbs_run(folder: Path, jobs: int, report: Path, *extra: str) -> tuple[float, dict[str, object]]:
    """Wall seconds of one ``wbs refresh`` command, from launch to exit, and its run report."""
    command = [sys.executable, "-m", "wbs_tools.cli", "refresh", str(folder), "--jobs", str(jobs),
               "--status-date", STATUS_DATE, "--no-backup", "--report", str(report), *extra]
    start = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False)
    elapsed = time.perf_counter() - start
    if not report.is_file():
        raise SystemExit(f"wbs refresh exited with {done.returncode} and no report:\n{done.stderr[-3000:]}")
    return elapsed, json.loads(report.read_text())


def edit_some(folder: Path, percent: float, seed: int = 1) -> int:
    """Change one duration in ``percent`` of the plans, as their PMs would during a week."""
    from wbs_tools.workbook.lossless import write_workbook
    from wbs_tools.workbook.reader import read_workbook

    files = sorted(folder.glob("*.xlsx"))
    chosen = random.Random(seed).sample(files, max(1, round(len(files) * percent / 100)))
    for path in chosen:
        task = next(t for t in read_workbook(path).plan.tasks if t.duration is not None and t.duration.minutes > 0)
        sheet, cell = task.cells["duration"].split("!")
        write_workbook(path, edits={sheet: {cell: f"{task.duration.minutes / 480 + 1:g}d"}}, backup=False)
    return len(chosen)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plans", type=int, default=1000)
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--distinct", type=int, default=50, help="different plans among the files")
    parser.add_argument("--edited", type=float, default=10.0, help="percent of plans edited for the weekly run")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="wbs-bench-") as temp:
        root = Path(temp)
        folder, control = root / "plans", root / "openpyxl"
        started = time.perf_counter()
        build_folder(folder, args.plans, args.tasks, args.distinct, args.jobs)
        shutil.copytree(folder, control)
        print(f"built {args.plans} plans of {args.tasks} tasks in {time.perf_counter() - started:.1f} s",
              file=sys.stderr)
        baseline = openpyxl_loop(control)
        runs: dict[str, tuple[float, dict[str, object]]] = {}
        runs["cold"] = wbs_run(folder, args.jobs, root / "cold.json")
        runs["forced"] = wbs_run(folder, args.jobs, root / "forced.json", "--force")
        edited = edit_some(folder, args.edited)
        runs["weekly"] = wbs_run(folder, args.jobs, root / "weekly.json")
        runs["idle"] = wbs_run(folder, args.jobs, root / "idle.json")

    base_rate = args.plans / baseline
    figures: dict[str, object] = {
        "plans": args.plans, "tasks": args.tasks, "jobs": args.jobs, "distinct": args.distinct, "edited": edited,
        "cpu": cpu_model(), "cores": os.cpu_count(), "python": platform.python_version(),
        "load": os.getloadavg()[0] if hasattr(os, "getloadavg") else None, "openpyxl_s": round(baseline, 2),
        "openpyxl_plans_per_s": round(base_rate, 2)}
    print(f"Machine: {figures['cpu']}, {figures['cores']} cores, Python {figures['python']}; "
          f"{args.plans} plans x {args.tasks} tasks ({args.distinct} distinct), --jobs {args.jobs}\n")
    print("| run | refreshed | unchanged | wall s | plans/s | x openpyxl loop |")
    print("|---|---:|---:|---:|---:|---:|")
    print(f"| openpyxl load + save loop | - | - | {baseline:.1f} | {base_rate:.1f} | 1.0 |")
    results = {}
    for name, (elapsed, report) in runs.items():
        counts = report["counts"]
        assert isinstance(counts, dict)
        rate = args.plans / elapsed
        results[name] = {"wall_s": round(elapsed, 2), "plans_per_s": round(rate, 1),
                         "ratio": round(rate / base_rate, 1), "counts": counts}
        print(f"| {name} | {counts['refreshed']} | {counts['unchanged']} | {elapsed:.1f} | {rate:.1f} "
              f"| {rate / base_rate:.1f} |")
    figures["runs"] = results
    if figures["load"] is not None:
        print(f"\n1-minute load average at the end: {figures['load']:.2f}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()

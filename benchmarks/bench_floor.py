"""The least any refresh of a plan must spend, measured, beside the real refresh and the openpyxl round trip.

    python benchmarks/bench_floor.py --tasks 100000
    python benchmarks/bench_floor.py --tasks 200 --repeats 20      # one plan of a batch

A refresh has to parse the sheets it reads, inflate the parts it rewrites and deflate their new
content, schedule, touch each task row at least once in Python on the way in and once on the way
out, and prove the new file before it replaces the workbook. Each of those is timed here at its
cheapest, on the same generated workbook as ``bench_refresh.py``:

* parse: python-calamine (Rust) turning every worksheet into Python values, the fastest reader of
  .xlsx there is for Python (the refresh reads with it too);
* inflate, deflate: ISA-L (python-isal, the fastest deflate there is for Python; the refresh
  deflates with it too) on exactly the parts a real refresh of this file rewrote, deflating at
  level 1;
* schedule: ``schedule(plan)`` on the plan already in memory;
* a Python step per row: one function call per row of the parsed Tasks sheet, and one
  ``bytes % tuple`` per task with its computed values already encoded;
* verify: the CRC of the new file and its rewritten parts inflated once more.

Their sum is a floor that no refresh written in Python on these libraries goes under. It is
printed with the real refresh and the openpyxl round trip of the same file, each measured in a fresh
interpreter in the same run, and with the budget the goals leave: a tenth of the openpyxl round trip
for one plan; for a batch at ten times the openpyxl loop on two workers, a fifth of it per plan.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import shutil
import struct
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_refresh import child  # noqa: E402  (the benchmarks folder, also when imported)
from machine import machine  # noqa: E402

from wbs_tools.workbook.deflate import codec  # noqa: E402  (ISA-L, as the refresh uses)

COMPUTED_TASK_COLUMNS = 14  # Tasks columns a refresh writes (outline number, the six dates, slack...)


def best_of(repeats: int, work: Callable[[], object]) -> float:
    """The shortest wall time of ``work`` over ``repeats`` calls."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def warm_refresh(source: Path, folder: Path, repeats: int) -> float:
    """Best wall time of ``refresh_workbook`` on copies of ``source`` in this interpreter, after one
    refresh to warm it up: what each plan costs a batch worker that has refreshed others before."""
    from wbs_tools.refresh import refresh_workbook

    times = []
    for k in range(repeats + 1):
        copy = folder / f"warm-{k}.xlsx"
        shutil.copy(source, copy)
        start = time.perf_counter()
        refresh_workbook(copy, backup=False)
        times.append(time.perf_counter() - start)
        copy.unlink()
    return min(times[1:])


def rewritten_parts(before: Path, after: Path) -> list[str]:
    """Parts of ``after`` that are new or differ from ``before`` (by size and CRC)."""
    with zipfile.ZipFile(before) as old, zipfile.ZipFile(after) as new:
        was = {i.filename: (i.CRC, i.file_size) for i in old.infolist()}
        return [i.filename for i in new.infolist() if was.get(i.filename) != (i.CRC, i.file_size)]


def floor(source: Path, refreshed: Path, repeats: int) -> dict[str, float]:
    """Seconds of each unavoidable step (best of ``repeats``)."""
    from python_calamine import CalamineWorkbook

    from wbs_tools.core.cpm import schedule
    from wbs_tools.workbook.layout import TASKS
    from wbs_tools.workbook.reader import read_workbook

    data, out = source.read_bytes(), refreshed.read_bytes()
    parts = rewritten_parts(source, refreshed)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = set(zf.namelist())
    old_parts = [p for p in parts if p in names]
    with zipfile.ZipFile(io.BytesIO(out)) as zf:
        new_content = [zf.read(p) for p in parts]

    def parse() -> list[list[Any]]:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        return [book.get_sheet_by_name(name).to_python() for name in book.sheet_names]

    def inflate(package: bytes, members: list[str]) -> None:
        with zipfile.ZipFile(io.BytesIO(package)) as zf:
            for member in members:
                info = zf.getinfo(member)
                names, extra = struct.unpack_from("<2H", package, info.header_offset + 26)
                start = info.header_offset + 30 + names + extra
                codec.decompress(memoryview(package)[start : start + info.compress_size], -15)

    def deflate() -> None:
        for content in new_content:
            packer = codec.compressobj(1, codec.DEFLATED, -15)
            packer.compress(content)
            packer.flush()

    plan = read_workbook(source).plan
    plan.settings.status_date = plan.settings.status_date or dt.datetime(2026, 3, 13, 17)
    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    task_rows = book.get_sheet_by_name(TASKS.name).to_python()
    del book
    encoded = [(str(t.id).encode(),) * COMPUTED_TASK_COLUMNS for t in plan.tasks]
    template = b"".join(b'<c r="A%s" s="7"><v>%s</v></c>' for _ in range(COMPUTED_TASK_COLUMNS // 2))

    def take(row: object) -> object:
        return row

    def rows_in() -> None:
        for row in task_rows:
            take(row)

    def rows_out() -> None:
        for values in encoded:
            template % values  # the cost of producing a row is the point

    return {
        "parse every sheet (calamine)": best_of(repeats, parse),
        "inflate the parts rewritten": best_of(repeats, lambda: inflate(data, old_parts)),
        "deflate their new content": best_of(repeats, deflate),
        "schedule": best_of(repeats, lambda: schedule(plan)),
        "a Python call per task row read": best_of(repeats, rows_in),
        "a bytes % tuple per task row written": best_of(repeats, rows_out),
        "verify: CRC of the file, rewritten parts inflated": best_of(
            repeats, lambda: (codec.crc32(out), inflate(out, parts))),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", type=int, default=100_000)
    ap.add_argument("--repeats", type=int, default=3, help="best of N for every figure")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=3600.0)
    ap.add_argument("--memory-gb", type=float, default=12.0)
    args = ap.parse_args(argv)
    n = args.tasks
    print(f"date: {dt.date.today().isoformat()}")
    for key, value in machine().items():
        print(f"{key}: {value}")
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    print(f"command: python benchmarks/bench_floor.py {' '.join(sys.argv[1:] if argv is None else argv)}\n")
    with tempfile.TemporaryDirectory(prefix="bench_floor.") as tmp:
        folder = Path(tmp)
        source, copy = folder / "plan.xlsx", folder / "refreshed.xlsx"
        made = child(["generate", str(n), str(args.seed), "template" if n <= 100_000 else "stream", str(source)],
                      args.timeout, args.memory_gb)
        if "error" in made:
            raise SystemExit(f"cannot generate the plan: {made['error']}")
        refreshes, rounds = [], []
        for _ in range(args.repeats):
            shutil.copy(source, copy)
            refreshes.append(child(["refresh", str(copy)], args.timeout, args.memory_gb))
            rounds.append(child(["openpyxl", str(source)], args.timeout, args.memory_gb))
        failed = [r["error"] for r in refreshes + rounds if "error" in r]
        if failed:
            raise SystemExit(f"a measurement failed: {failed[0]}")
        steps = floor(source, copy, args.repeats)
        warm_s = warm_refresh(source, folder, args.repeats)
    refresh_s = min(r["total_s"] for r in refreshes)
    openpyxl_s = min(r["total_s"] for r in rounds)
    total = sum(steps.values())
    unit, scale = ("ms", 1000.0) if openpyxl_s < 1 else ("s", 1.0)
    print(f"{n:,} tasks, {made['bytes'] / 1e6:.1f} MB; every figure the best of {args.repeats}\n")
    print(f"| step | {unit} | ÷ openpyxl round trip |")
    print("|---|---:|---:|")
    for name, seconds in steps.items():
        print(f"| {name} | {seconds * scale:.2f} | {seconds / openpyxl_s:.3f} |")
    print(f"| **floor: the sum** | **{total * scale:.2f}** | **{total / openpyxl_s:.3f}** |")
    print(f"| refresh: `refresh_workbook` in a fresh interpreter, backup included | {refresh_s * scale:.2f} | "
          f"{refresh_s / openpyxl_s:.3f} |")
    print(f"| refresh: the same in a warm interpreter (a batch worker), no backup | {warm_s * scale:.2f} | "
          f"{warm_s / openpyxl_s:.3f} |")
    print(f"| openpyxl load + save | {openpyxl_s * scale:.2f} | 1.000 |")
    print(f"\n* one plan at a tenth of the openpyxl round trip: budget {openpyxl_s / 10 * scale:.2f} {unit}; "
          f"the floor takes {total / (openpyxl_s / 10):.0%} of it, the refresh {refresh_s / (openpyxl_s / 10):.0%}")
    print(f"* a batch at ten times the openpyxl loop on two workers: budget {openpyxl_s / 5 * scale:.2f} {unit} "
          f"of one worker per plan (perfect scaling); the floor takes {total / (openpyxl_s / 5):.0%} of it, "
          f"the warm refresh {warm_s / (openpyxl_s / 5):.0%}")
    print(f"\nload average at end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Batch refresh of a folder: exact counts, untouched skips, incremental runs, locks, kills, Dask.

The folder mixes plans of several sizes (one in a subfolder), a plan whose links loop (error
findings), a truncated workbook, a plan open in Excel (an owner file beside it), a workbook that is
not a plan and a text file. Every expectation follows from that mix.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import gc
import io
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import ClassVar

import pytest
import xlsxwriter
from python_calamine import CalamineWorkbook
from typer.testing import CliRunner

from wbs_tools import __version__
from wbs_tools.batch import FileOutcome, discover, inspect, is_plan, refresh_paths, run_jobs
from wbs_tools.batch.runner import Job, fingerprint, refresh_one, stamped_fingerprint
from wbs_tools.batch.sidecar import CACHE_NAME, Cache, CacheEntry, FileLock, lock_path, remove_stale_temps
from wbs_tools.cli import app
from wbs_tools.core.model import Duration, Link, Plan, Settings, Task
from wbs_tools.core.parsing import parse_date
from wbs_tools.refresh import refresh_workbook
from wbs_tools.workbook.lossless import write_workbook
from wbs_tools.workbook.reader import read_workbook
from wbs_tools.workbook.template import build_workbook

STATUS = dt.datetime(2026, 3, 6, 17)
PLANS = {"small.xlsx": 4, "medium.xlsx": 15, "large.xlsx": 40, "sub/deep.xlsx": 8}
FAST = {"backoff": 0.01, "retries": 1, "status_date": STATUS}


def make_plan(tasks: int, seed: int, *, loop: bool = False) -> Plan:
    """A phase of ``tasks - 2`` chained work items ending in a milestone; ``loop`` links the end back."""
    rng = random.Random(seed)
    items = [Task(1, "Delivery", 1)]
    items += [Task(i, f"Work item {i}", 2, Duration(rng.randint(1, 8) * 480.0), owner="Ann")
              for i in range(2, tasks)]
    items.append(Task(tasks, "Go-live", 2, Duration(0.0), milestone=True))
    links = [Link(i - 1, i) for i in range(3, tasks + 1)]
    if loop:
        links.append(Link(tasks - 1, 3))
    settings = Settings(project_name=f"Plan {seed}", start=dt.datetime(2026, 1, 5, 8),
                        status_date=dt.datetime(2026, 2, 27, 17))
    return Plan(settings, items, links)


@pytest.fixture(scope="module")
def originals(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("originals")
    (root / "sub").mkdir()
    for seed, (name, size) in enumerate(PLANS.items()):
        build_workbook(root / name, plan=make_plan(size, seed))
    build_workbook(root / "loop.xlsx", plan=make_plan(10, 7, loop=True))
    build_workbook(root / "open.xlsx", plan=make_plan(10, 8))
    (root / "~$open.xlsx").write_bytes(b"\x05owner")
    book = xlsxwriter.Workbook(str(root / "budget.xlsx"))
    book.add_worksheet("Budget").write(0, 0, "Q1")
    book.close()
    whole = (root / "small.xlsx").read_bytes()
    (root / "broken.xlsx").write_bytes(whole[: len(whole) // 2])
    (root / "notes.txt").write_text("not a workbook")
    return root


@pytest.fixture
def folder(originals: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(originals, tmp_path / "plans"))


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def opens(path: Path) -> None:
    """The workbook is a sound zip and every sheet reads."""
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None
    with CalamineWorkbook.from_path(str(path)) as book:
        for name in book.sheet_names:
            book.get_sheet_by_name(name).to_python()


def test_counts_are_exact_and_skipped_files_untouched(folder: Path, originals: Path) -> None:
    report = refresh_paths([folder], recursive=True, jobs=2, **FAST)
    assert report.counts == {"refreshed": 5, "unchanged": 0, "locked": 1, "not-a-plan": 1, "failed": 1,
                             "total": 8, "plans_with_errors": 1}
    assert report.exit_code == 2
    by_name = {Path(r.path).relative_to(folder).as_posix(): r for r in report.records}
    assert by_name["open.xlsx"].outcome == "locked" and "~$open.xlsx" in by_name["open.xlsx"].message
    assert by_name["open.xlsx"].attempts == 2  # one retry
    assert by_name["broken.xlsx"].outcome == "failed" and "not a readable" in by_name["broken.xlsx"].message
    assert by_name["loop.xlsx"].errors >= 1 and by_name["large.xlsx"].tasks == 39
    before, after = snapshot(originals), snapshot(folder)
    for name in ("open.xlsx", "~$open.xlsx", "budget.xlsx", "broken.xlsx", "notes.txt"):
        assert after[name] == before[name], name
    for name in (*PLANS, "loop.xlsx"):
        assert after[name] != before[name], name
        assert after[name + ".bak"] == before[name]
        opens(folder / name)
    assert not list(folder.rglob("*.wbs-lock")) and not list(folder.rglob("*.tmp"))


def test_the_fingerprint_of_what_was_written_is_that_of_the_file(folder: Path) -> None:
    """The cache keeps the fingerprint of the parts as written (no second read of the file): the same
    digest as the file's own zip directory gives, for a first refresh and a re-refresh."""
    path = folder / "medium.xlsx"
    for status in (STATUS, STATUS + dt.timedelta(days=7)):
        result = refresh_workbook(path, status_date=status, backup=False)
        assert result.write is not None and result.write.parts
        assert [name for name, _crc, _size in result.write.parts] == zipfile.ZipFile(path).namelist()
        assert stamped_fingerprint(result.write.parts) == fingerprint(path)
    untouched = refresh_workbook(path, status_date=status, backup=False)
    assert untouched.write is not None and not untouched.write.changed and untouched.write.parts == ()


def test_a_job_leaves_the_cycle_collector_as_it_found_it(folder: Path) -> None:
    """A worker refreshes with the collector off and turns it back on once the plan is gone: on, even
    when the job fails; and left off for a caller that had turned it off."""
    job = Job(str(folder / "small.xlsx"), "small.xlsx", STATUS, dt.date(2026, 3, 6), backup=False)
    assert gc.isenabled()
    assert refresh_one(job).outcome == "refreshed" and gc.isenabled()
    assert refresh_one(replace(job, path=str(folder / "broken.xlsx"))).outcome == "failed" and gc.isenabled()
    gc.disable()
    try:
        assert refresh_one(replace(job, path=str(folder / "medium.xlsx"))).outcome == "refreshed"
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_second_run_rewrites_nothing(folder: Path) -> None:
    refresh_paths([folder], recursive=True, jobs=2, **FAST)
    stamps = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in folder.rglob("*.xlsx")}
    again = refresh_paths([folder], recursive=True, jobs=2, **FAST)
    assert again.counts["refreshed"] == 0 and again.counts["unchanged"] == 5
    assert all(r.cached for r in again.records if r.outcome == "unchanged")
    forced = refresh_paths([folder], recursive=True, jobs=1, force=True, **FAST)  # recomputes, still writes nothing
    assert forced.counts["unchanged"] == 5 and not any(r.cached for r in forced.records)
    assert {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in folder.rglob("*.xlsx")} == stamps
    strip = [{k: v for k, v in f.items() if k not in ("seconds", "cached", "attempts", "outcome")}
             for f in again.files()]
    assert strip == [{k: v for k, v in f.items() if k not in ("seconds", "cached", "attempts", "outcome")}
                     for f in forced.files()]


def test_changed_input_or_status_date_is_recomputed(folder: Path) -> None:
    refresh_paths([folder], recursive=True, **FAST)
    plan = folder / "medium.xlsx"
    cell = read_workbook(plan).plan.tasks[1].cells["duration"].split("!")[1]
    write_workbook(plan, edits={"Tasks": {cell: "9d"}}, backup=False)  # a PM edits a duration
    report = refresh_paths([folder], recursive=True, **FAST)
    assert [Path(r.path).name for r in report.records if r.outcome == "refreshed"] == ["medium.xlsx"]
    later = refresh_paths([folder], recursive=True, backoff=0.01, retries=0, status_date=STATUS + dt.timedelta(7))
    assert later.counts["refreshed"] == 5


def test_cache_is_only_a_shortcut(folder: Path) -> None:
    refresh_paths([folder], recursive=True, **FAST)
    (folder / CACHE_NAME).write_text("{ not json")
    report = refresh_paths([folder], recursive=True, **FAST)
    assert report.counts["unchanged"] == 5 and not any(r.cached for r in report.records)
    assert set(Cache.load(folder).entries) == {*PLANS, "loop.xlsx"}


def test_cache_saves_during_a_run_keep_deleted_files_and_the_last_save_drops_them(tmp_path: Path) -> None:
    names = ["plan.xlsx", 'odd "name" \u00e9.xlsx', "gone.xlsx"]
    for name in names:
        (tmp_path / name).write_bytes(b"x")
    cache = Cache.load(tmp_path)
    entries = {name: CacheEntry(f"{n:032}", None, __version__, tasks=n, finish="2026-09-18T17:00:00")
               for n, name in enumerate(names)}
    for name, entry in entries.items():
        cache.put(name, entry)
    (tmp_path / "gone.xlsx").unlink()
    time.sleep(0.01)
    cache.save(every=0.001)  # a save during a run, past its interval
    assert Cache.load(tmp_path).entries == entries
    cache.put("plan.xlsx", replace(entries["plan.xlsx"], tasks=7))  # a changed entry is written anew
    cache.save()
    data = json.loads((tmp_path / CACHE_NAME).read_text(encoding="utf-8"))
    assert data["format"] == 1 and sorted(data["files"]) == sorted(names[:2])
    assert Cache.load(tmp_path).entries == {"plan.xlsx": replace(entries["plan.xlsx"], tasks=7),
                                           names[1]: entries[names[1]]}


def test_cache_entry_of_a_clock_dated_plan_expires_with_the_day() -> None:
    entry = CacheEntry("f" * 32, None, __version__, day="2026-03-06")
    assert entry.matches("f" * 32, None, __version__, dt.date(2026, 3, 6))
    assert not entry.matches("f" * 32, None, __version__, dt.date(2026, 3, 7))
    assert not entry.matches("f" * 32, STATUS, __version__, dt.date(2026, 3, 6))
    assert not entry.matches("f" * 32, None, "0.0.0", dt.date(2026, 3, 6))


def test_recognition_reads_only_sheet_names(folder: Path) -> None:
    names, print_ = inspect(folder / "small.xlsx")
    assert is_plan(names) and len(print_) == 32
    assert not is_plan(inspect(folder / "budget.xlsx")[0])
    assert not is_plan(["Tasks", "Budget"]) and is_plan(["WBS", "Settings", "Check", "Calendar"])
    assert [p.name for p in discover(folder)] == ["broken.xlsx", "budget.xlsx", "large.xlsx", "loop.xlsx",
                                                  "medium.xlsx", "open.xlsx", "small.xlsx"]
    assert len(discover(folder, recursive=True)) == 8


def test_a_second_refresher_waits_for_the_lock(folder: Path) -> None:
    plan = folder / "small.xlsx"
    held = FileLock.acquire(plan)
    assert held is not None and FileLock.acquire(plan) is None
    report = refresh_paths([plan], **FAST)
    assert report.records[0].outcome == "locked" and "another wbs refresh" in report.records[0].message
    timer = threading.Timer(0.3, held.release)
    timer.start()
    report = refresh_paths([plan], backoff=0.1, retries=6, status_date=STATUS)
    timer.join()
    assert report.records[0].outcome == "refreshed" and report.records[0].attempts > 1
    assert not lock_path(plan).exists()


def test_lock_survives_its_file_being_recycled(tmp_path: Path) -> None:
    plan = tmp_path / "p.xlsx"
    first = FileLock.acquire(plan)
    assert first is not None
    first.release()
    again = FileLock.acquire(plan)
    assert again is not None and lock_path(plan).exists()
    again.release()
    old = plan.with_name(f".{plan.name}.abc.tmp")
    old.write_bytes(b"partial")
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    fresh = plan.with_name(f".{plan.name}.def.tmp")
    fresh.write_bytes(b"being written")
    assert remove_stale_temps(tmp_path, [plan.name]) == [old] and fresh.exists()


def test_dead_worker_costs_only_its_jobs() -> None:
    """Workers that die (even before the next job is handed over) cost their jobs, never the run."""
    jobs = list(range(3, 15))
    results = list(run_jobs(os._exit, jobs, workers=2, on_crash=lambda job, error: ("crashed", job)))
    assert sorted(results) == [("crashed", job) for job in jobs]


class _StartFails(ProcessPoolExecutor):
    """A real pool whose first hand-over fails to start a worker, as when a dying worker takes the fork
    server down with it (its socket closes mid-handover: OSError or ConnectionRefusedError)."""

    methods: ClassVar[list[str]] = []  # the start method of each pool made

    def __init__(self, workers: int, mp_context: BaseContext) -> None:
        super().__init__(workers, mp_context=mp_context)
        self.methods.append(mp_context.get_start_method())
        self.refuse = len(self.methods) == 1

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def]
        if self.refuse:
            self.refuse = False
            raise ConnectionRefusedError(111, "Connection refused")
        return super().submit(fn, *args, **kwargs)


def test_a_pool_that_cannot_start_a_worker_is_replaced_by_spawned_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    from wbs_tools.batch import runner

    monkeypatch.setattr(runner, "ProcessPoolExecutor", _StartFails)
    _StartFails.methods.clear()
    with _another_thread():  # as a progress bar would run: the workers come from a fork server
        results = list(run_jobs(abs, list(range(-8, 0)), workers=2))
    assert sorted(results) == list(range(1, 9))  # every job once: none lost, none run twice
    assert _StartFails.methods == ["forkserver", "spawn"]


@contextlib.contextmanager
def _another_thread() -> Iterator[None]:
    done = threading.Event()
    thread = threading.Thread(target=done.wait, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


_PARENTS = """
import os, sys, threading
from wbs_tools.batch.runner import run_jobs

def parent(_job):
    return os.getppid()

if __name__ == "__main__":
    done = threading.Event()
    if sys.argv[1] == "threaded":
        threading.Thread(target=done.wait, daemon=True).start()
    parents = set(run_jobs(parent, list(range(6)), workers=2))
    done.set()
    print("forked here" if parents == {os.getpid()} else "elsewhere")
"""


@pytest.mark.parametrize("threaded, started", [(False, "forked here"), (True, "elsewhere")])
def test_workers_are_forked_only_from_a_process_without_threads(tmp_path: Path, threaded: bool,
                                                                 started: str) -> None:
    """A scheduled run (no other thread) forks its workers, the engine already imported; with a
    thread running (a progress bar) forking could deadlock, and they come from the fork server."""
    script = tmp_path / "parents.py"
    script.write_text(_PARENTS)
    run = subprocess.run([sys.executable, str(script), "threaded" if threaded else "plain"],
                         capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == started


def test_cli_refreshes_a_folder_and_writes_the_report(folder: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "logs" / "run.json"
    result = runner.invoke(app, ["refresh", str(folder), "--recursive", "--jobs", "2", "--status-date",
                                 "2026-03-06", "--report", str(out)])
    assert result.exit_code == 2, result.output
    assert "refreshed" in result.output and "Needs attention" in result.output
    data = json.loads(out.read_text())
    assert data["counts"]["refreshed"] == 5 and data["exit_code"] == 2 and len(data["files"]) == 8
    csv_out = tmp_path / "run.csv"
    result = runner.invoke(app, ["refresh", str(folder), "-r", "--status-date", "2026-03-06", "--report", str(csv_out)])
    rows = list(csv.DictReader(io.StringIO(csv_out.read_text())))
    assert sum(r["outcome"] == "unchanged" for r in rows) == 5 and len(rows) == 8
    single = runner.invoke(app, ["refresh", str(folder / "small.xlsx"), "--status-date", "2026-03-13"])
    assert single.exit_code == 0 and "refreshed" in single.output  # one file: the output as before


def _changed(root: Path, before: dict[str, bytes]) -> int:
    count = 0
    for name, data in before.items():
        with contextlib.suppress(OSError):  # being replaced right now
            count += (root / name).read_bytes() != data
    return count


def test_killed_run_leaves_old_or_new_files_and_rerun_converges(tmp_path: Path) -> None:
    root, expected_dir = tmp_path / "plans", tmp_path / "expected"
    root.mkdir()
    for n in range(8):  # 48 files, so that a fast run is still caught mid-way
        build_workbook(root / f"p{n:02}.xlsx", plan=make_plan(120, n))
        for copy in range(1, 6):
            shutil.copyfile(root / f"p{n:02}.xlsx", root / f"p{n:02}-{copy}.xlsx")
    shutil.copytree(root, expected_dir)
    when = parse_date("2026-03-06", day_first=None, default_minute=17 * 60)
    for path in expected_dir.glob("*.xlsx"):
        refresh_workbook(path, status_date=when, backup=False)
    original, expected = snapshot(root), snapshot(expected_dir)
    command = [sys.executable, "-m", "wbs_tools.cli", "refresh", str(root), "-j", "2", "--status-date", "2026-03-06"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 60
    while not _changed(root, original) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    done = _changed(root, original)
    assert 0 < done < len(original)
    for name in original:
        opens(root / name)
        assert (root / name).read_bytes() in (original[name], expected[name]), name
    report = refresh_paths([root], jobs=2, status_date=when, backoff=0.01)
    assert report.counts["failed"] == report.counts["locked"] == 0
    assert report.counts["refreshed"] + report.counts["unchanged"] == len(original)
    assert {k: v for k, v in snapshot(root).items() if k.endswith(".xlsx")} == expected
    assert refresh_paths([root], jobs=2, status_date=when).counts["refreshed"] == 0


def test_dask_cluster_gives_the_local_result(originals: Path, tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    local_dir = Path(shutil.copytree(originals, tmp_path / "local"))
    dask_dir = Path(shutil.copytree(originals, tmp_path / "dask"))
    local = refresh_paths([local_dir], recursive=True, jobs=2, **FAST)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        address = cluster.scheduler_address.replace("tcp://", "dask://")
        remote = refresh_paths([dask_dir], recursive=True, executor=address, **FAST)

    def plain(report_dir: Path, files: list[dict[str, object]]) -> list[dict[str, object]]:
        return [{**{k: v for k, v in f.items() if k != "seconds"},
                 "path": Path(str(f["path"])).relative_to(report_dir).as_posix()} for f in files]

    assert plain(dask_dir, remote.files()) == plain(local_dir, local.files())
    assert remote.counts == local.counts and remote.exit_code == local.exit_code
    assert snapshot(dask_dir) == {k: v for k, v in snapshot(local_dir).items()}
    assert FileOutcome.REFRESHED.value in {r.outcome for r in remote.records}

"""Refresh every plan workbook under a folder, in parallel, without ever corrupting or racing a file.

The unit of work is ``refresh_one(job) -> FileRecord``: plain data in, plain data out, so a local
process pool and a Dask cluster run the very same function and produce the same records. Per file:

1. recognise a plan from the sheet names in ``xl/workbook.xml`` (the zip directory and one small
   part, nothing else), so foreign workbooks are skipped without being parsed;
2. fingerprint the package from its central directory (name, CRC-32 and size of every part, no
   inflating); when it equals the fingerprint left by the last refresh, with the same status date
   and wbs_tools version, the plan is up to date and nothing is computed (see ``sidecar``);
3. take an OS lock on a sidecar file (``.NAME.wbs-lock``) so two refreshers never work on one file,
   and call ``refresh_workbook``, which writes through a verified temporary file and an atomic
   rename: a crash or a kill at any moment leaves the old or the new workbook, never a torn one;
4. retry with exponential backoff while the file is locked (open in Excel, another refresher) or
   was saved by someone while it was being refreshed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import multiprocessing
import os
import threading
import time
import traceback
import zipfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from enum import Enum
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import TypeVar

from wbs_tools import __version__
from wbs_tools.batch.report import BatchReport
from wbs_tools.batch.sidecar import Cache, CacheEntry, FileLock, remove_stale_temps
from wbs_tools.core.gcpause import collector_paused
from wbs_tools.refresh import Outcome, refresh_workbook
from wbs_tools.workbook.layout import LAYOUTS, TASKS
from wbs_tools.workbook.lossless import lock_files
from wbs_tools.workbook.package import Stamp, WorkbookError, parse_xml, resolve_target
from wbs_tools.workbook.reader_tables import sheet_key

T = TypeVar("T")
R = TypeVar("R")
PLAN_SUFFIXES = (".xlsx", ".xlsm")
MAX_WORKBOOK_PART = 8 * 1024 * 1024  # xl/workbook.xml lists sheets and names: kilobytes in practice
PLAN_SHEETS = frozenset(sheet_key(layout.name) for layout in LAYOUTS)
MIN_PLAN_SHEETS = 3  # wbs_tools sheet names a workbook needs to be taken for a plan
_OFFICE_DOCUMENT = "/officeDocument"


class FileOutcome(str, Enum):
    """What happened to one file; ``LOCKED`` and ``NOT_A_PLAN`` are skips, not failures."""

    REFRESHED = "refreshed"
    UNCHANGED = "unchanged"
    LOCKED = "locked"
    NOT_A_PLAN = "not-a-plan"
    FAILED = "failed"


@dataclass(frozen=True)
class Job:
    """One file to refresh; everything a worker needs, picklable."""

    path: str  # absolute, as workers must see it
    shown: str  # as reported
    status_date: dt.datetime | None = None
    today: dt.date | None = None
    backup: bool = True
    cached: CacheEntry | None = None
    retries: int = 3
    backoff: float = 0.5  # seconds before the first retry; doubled each time


@dataclass(frozen=True)
class FileRecord:
    """The outcome of one file, as the run report lists it (``entry`` is kept for the cache only)."""

    path: str
    outcome: str
    message: str = ""
    tasks: int = 0
    findings: int = 0
    errors: int = 0
    finish: str | None = None
    cached: bool = False
    attempts: int = 0
    seconds: float = 0.0
    entry: CacheEntry | None = None


# --- discovery and recognition --------------------------------------------------------------------


def is_candidate(name: str) -> bool:
    """A workbook name worth opening: not an Office owner file (``~$``), temporary or hidden file."""
    return name.lower().endswith(PLAN_SUFFIXES) and not name.startswith(("~", "."))


def discover(root: Path, *, recursive: bool = False) -> list[Path]:
    """Workbooks in ``root`` (and its subfolders with ``recursive``), sorted; hidden folders are skipped."""
    if root.is_file():
        return [root]
    if not recursive:
        return sorted(p for p in root.iterdir() if is_candidate(p.name) and p.is_file())
    found: list[Path] = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found += [Path(folder, f) for f in sorted(files) if is_candidate(f)]
    return found


def _workbook_part(zf: zipfile.ZipFile) -> str:
    """The main part named by the package relationships (``xl/workbook.xml`` in every real file)."""
    try:
        rels = parse_xml(zf.read("_rels/.rels"), "_rels/.rels")
    except KeyError:
        return "xl/workbook.xml"
    for rel in rels:
        if isinstance(rel.tag, str) and rel.get("Type", "").endswith(_OFFICE_DOCUMENT):
            return resolve_target("", rel.get("Target", ""))
    return "xl/workbook.xml"


def inspect(path: Path) -> tuple[list[str], str]:
    """The sheet names and the fingerprint of a workbook, from its zip directory and workbook part."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            info = zf.getinfo(_workbook_part(zf))
            if info.file_size > MAX_WORKBOOK_PART:
                raise WorkbookError(f"{path.name}: the workbook part is {info.file_size} bytes, not a workbook")
            root = parse_xml(zf.read(info), info.filename)
    except (KeyError, zipfile.BadZipFile, zipfile.LargeZipFile, OSError, RuntimeError, ValueError) as exc:
        raise WorkbookError(f"not a readable xlsx/xlsm workbook ({exc})") from exc
    names = [el.get("name", "") for el in root.iter("{*}sheet")]  # in any namespace, or none
    return names, package_fingerprint(infos)


def package_fingerprint(infos: Iterable[zipfile.ZipInfo]) -> str:
    """A digest of every part's name, CRC-32 and size: any saved change to any cell changes it."""
    return stamped_fingerprint((info.filename, info.CRC, info.file_size) for info in infos)


def stamped_fingerprint(parts: Iterable[Stamp]) -> str:
    """``package_fingerprint`` of the parts as they were written (name, CRC-32, size), without reading
    the file again: what was written is what was proven on disk before it replaced the workbook."""
    lines = "".join([f"{name}\0{crc:08x}\0{size}\n" for name, crc, size in parts])
    return hashlib.sha256(lines.encode()).hexdigest()[:32]


def fingerprint(path: Path) -> str:
    """The fingerprint alone: the zip directory, without parsing the workbook part as ``inspect`` does."""
    try:
        with zipfile.ZipFile(path) as zf:
            return package_fingerprint(zf.infolist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, RuntimeError, ValueError) as exc:
        raise WorkbookError(f"not a readable xlsx/xlsm workbook ({exc})") from exc


def is_plan(sheet_names: Iterable[str]) -> bool:
    """A plan carries several wbs_tools sheets, Tasks (or the Check sheet wbs_tools adds) among them."""
    keys = {sheet_key(name) for name in sheet_names} & PLAN_SHEETS
    return len(keys) >= MIN_PLAN_SHEETS and bool(keys & {sheet_key(TASKS.name), sheet_key("Check")})


# --- the per-file job -------------------------------------------------------------------------------


def refresh_one(job: Job) -> FileRecord:
    """Refresh one file; never raises, so one bad file cannot stop a run of thousands."""
    started = time.perf_counter()
    try:
        # the collector comes back once the plan's objects are gone (refcounting frees them as this returns),
        # not while the refresh's result still holds them all: a batch worker would walk each plan once more
        with collector_paused():
            record = _refresh(job)
    except Exception as exc:  # a bug must cost one file, not the run; the report keeps the reason
        line = traceback.format_exception_only(type(exc), exc)[-1].strip()
        record = FileRecord(job.shown, FileOutcome.FAILED.value, f"internal error: {line}", attempts=1)
    return replace(record, seconds=round(time.perf_counter() - started, 4))


def _refresh(job: Job) -> FileRecord:
    path = Path(job.path)
    try:
        names, before = inspect(path)
    except WorkbookError as exc:
        return FileRecord(job.shown, FileOutcome.FAILED.value, str(exc))
    if not is_plan(names):
        return FileRecord(job.shown, FileOutcome.NOT_A_PLAN.value,
                          "not a plan workbook (no Tasks, Settings, Check... sheets)")
    if job.cached is not None and job.cached.matches(before, job.status_date, __version__, job.today):
        return _from_entry(job, job.cached, FileOutcome.UNCHANGED, cached=True, attempts=0)
    delay, attempts = job.backoff, 0
    while True:
        attempts += 1
        record, retry = _attempt(job, path)
        if not retry or attempts > job.retries:
            return replace(record, attempts=attempts)
        time.sleep(delay)
        delay *= 2


def _attempt(job: Job, path: Path) -> tuple[FileRecord, bool]:
    """One locked refresh; the flag says whether waiting could help."""
    try:
        lock = FileLock.acquire(path)
    except OSError as exc:
        return FileRecord(job.shown, FileOutcome.FAILED.value, f"cannot lock ({exc.strerror or exc})"), False
    if lock is None:
        return FileRecord(job.shown, FileOutcome.LOCKED.value, "another wbs refresh is updating it"), True
    with lock:
        result = refresh_workbook(path, status_date=job.status_date, backup=job.backup)
        if result.outcome is Outcome.LOCKED:
            return FileRecord(job.shown, FileOutcome.LOCKED.value, result.message), True
        if result.outcome is Outcome.FAILED:
            return FileRecord(job.shown, FileOutcome.FAILED.value, result.message), "changed on disk" in result.message
        written = result.write.parts if result.write is not None else ()
        after = stamped_fingerprint(written) if written else fingerprint(path)
        opened = bool(lock_files(path))  # opened meanwhile: its next save may not be ours, so do not vouch for it
    finish = result.schedule.project_finish if result.schedule else None
    clock = job.status_date is None and any(f.code == "settings.no-status-date" for f in result.findings)
    entry = CacheEntry(
        fingerprint=after, status_date=CacheEntry.date_key(job.status_date), tool=__version__,
        day=job.today.isoformat() if clock and job.today else None,
        tasks=result.schedule.leaf_count() if result.schedule else 0,
        findings=len(result.findings), errors=result.errors, finish=finish.isoformat() if finish else None)
    outcome = FileOutcome.REFRESHED if result.outcome is Outcome.REFRESHED else FileOutcome.UNCHANGED
    record = _from_entry(job, entry, outcome, cached=False, attempts=1)
    return (replace(record, entry=None) if opened else record), False


def _crash_record(job: Job, error: BaseException) -> FileRecord:
    return FileRecord(job.shown, FileOutcome.FAILED.value, f"the worker died while refreshing it ({error})",
                      attempts=1)


def _from_entry(job: Job, entry: CacheEntry, outcome: FileOutcome, *, cached: bool, attempts: int) -> FileRecord:
    return FileRecord(job.shown, outcome.value, "", entry.tasks, entry.findings, entry.errors, entry.finish,
                      cached, attempts, entry=entry)


# --- executors: the same job on a local process pool or a Dask cluster ------------------------------


class ExecutorError(RuntimeError):
    """The executor cannot be used: an unknown scheme, Dask not installed, the scheduler unreachable."""


def run_jobs(func: Callable[[T], R], jobs: Sequence[T], *, executor: str = "local", workers: int = 1,
             on_crash: Callable[[T, BaseException], R] | None = None) -> Iterator[R]:
    """``func`` over ``jobs``, results in completion order. ``func`` must be importable by workers.

    A job whose worker process dies is given ``on_crash(job, error)`` (the error is raised without it).
    """
    if executor.startswith(("dask://", "tcp://")):
        try:
            import distributed
        except ImportError as exc:
            raise ExecutorError("the Dask executor needs the dask extra: pip install 'wbs_tools[dask]'") from exc
        return _dask(distributed, func, jobs, "tcp://" + executor.split("://", 1)[1], on_crash)
    if executor != "local":
        raise ExecutorError(f"unknown executor {executor!r}: use local or dask://HOST:PORT")
    if workers <= 1 or len(jobs) <= 1:
        return map(func, jobs)
    return _pool(func, jobs, workers, on_crash)


def _crashed(job: T, error: BaseException, on_crash: Callable[[T, BaseException], R] | None) -> R:
    if on_crash is None:
        raise error
    return on_crash(job, error)


_REFUSALS_BEFORE_GIVING_UP = 3


def _pool(func: Callable[[T], R], jobs: Sequence[T], workers: int,
          on_crash: Callable[[T, BaseException], R] | None) -> Iterator[R]:
    """A process pool fed a few jobs ahead of the workers, so results stream and memory stays flat.

    Workers are forked from this process when it runs no other thread (a scheduled run, where no
    progress bar is drawn): they start at once, the engine already imported. Forking a threaded
    process can deadlock, so a run showing a progress bar starts them from a fork server (or spawns
    them), as does the pool that replaces one a dying worker broke (the broken pool's thread may
    linger). A worker that dies can take the fork server down with it (its socket closes
    mid-handover); the run then spawns its workers.
    """
    method = _start_method()
    context = _context(method)
    queue: deque[T] = deque(jobs)
    pending: dict[Future[R], T] = {}
    pool = ProcessPoolExecutor(workers, mp_context=context)
    refusals = 0  # jobs refused in a row by fresh pools: a machine that cannot start a process at all
    try:
        while queue or pending:
            refused = False
            while queue and len(pending) < 4 * workers:
                job = queue.popleft()
                try:
                    pending[pool.submit(func, job)] = job
                    refusals = 0
                except (BrokenProcessPool, OSError) as exc:  # no worker could take it: it never started
                    if isinstance(exc, OSError) and method != "spawn":  # the fork server is gone
                        method, context = "spawn", multiprocessing.get_context("spawn")
                    refusals += 1
                    if refusals > _REFUSALS_BEFORE_GIVING_UP:
                        yield _crashed(job, exc, on_crash)
                    else:
                        queue.appendleft(job)
                    refused = True
                    break
            done = wait(pending, return_when=FIRST_COMPLETED).done if pending else set()
            broken = refused
            for future in done:
                job = pending.pop(future)
                try:
                    result = future.result()
                except BrokenProcessPool as exc:
                    broken, result = True, _crashed(job, exc, on_crash)
                yield result
            # a worker that died took the pool down: every job in flight died with it; the rest get a fresh one
            if broken:
                for job in list(pending.values()):
                    yield _crashed(job, BrokenProcessPool("the worker process died"), on_crash)
                pending.clear()
                pool.shutdown(wait=False, cancel_futures=True)
                if method == "fork":
                    method = _start_method(threaded=True)
                    context = _context(method)
                pool = ProcessPoolExecutor(workers, mp_context=context)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _start_method(*, threaded: bool | None = None) -> str:
    """fork for a process running no other thread, else a fork server, else spawn (see ``_pool``)."""
    methods = multiprocessing.get_all_start_methods()
    if threaded is None:
        threaded = threading.active_count() > 1
    if "fork" in methods and not threaded:
        return "fork"
    return "forkserver" if "forkserver" in methods else "spawn"


def _context(method: str) -> BaseContext:
    context = multiprocessing.get_context(method)
    if method == "forkserver":
        context.set_forkserver_preload([__name__])
    return context


def _dask(distributed: object, func: Callable[[T], R], jobs: Sequence[T], address: str,
          on_crash: Callable[[T, BaseException], R] | None) -> Iterator[R]:
    """The jobs on a Dask distributed cluster; its workers must see the files at the same paths."""
    try:
        client = distributed.Client(address, timeout="20s", set_as_default=False)  # type: ignore[attr-defined]
    except (OSError, TimeoutError) as exc:
        raise ExecutorError(f"cannot reach the Dask scheduler at {address} ({exc})") from exc
    with client:
        futures = client.map(func, list(jobs), pure=False)
        by_key = {future.key: job for future, job in zip(futures, jobs, strict=True)}
        for future in distributed.as_completed(futures, loop=client.loop):  # type: ignore[attr-defined]
            if future.status == "error":
                yield _crashed(by_key[future.key], future.exception(), on_crash)
            else:
                yield future.result()


# --- a run over folders -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """A discovered file: where it is shown, and its folder's cache key."""

    path: Path
    root: Path
    key: str


def collect(paths: Sequence[str | os.PathLike[str]], *, recursive: bool = False) -> list[Target]:
    """Every candidate workbook under ``paths`` (folders and files), each once, in path order."""
    seen: set[Path] = set()
    targets: list[Target] = []
    for given in map(Path, paths):
        root = given if given.is_dir() else given.parent
        for path in discover(given, recursive=recursive):
            real = path.resolve()
            if real not in seen:
                seen.add(real)
                targets.append(Target(path, root, path.relative_to(root).as_posix()))
    return sorted(targets, key=lambda t: str(t.path))


def refresh_paths(
    paths: Sequence[str | os.PathLike[str]],
    *,
    recursive: bool = False,
    jobs: int = 1,
    status_date: dt.datetime | None = None,
    executor: str = "local",
    backup: bool = True,
    force: bool = False,
    retries: int = 3,
    backoff: float = 0.5,
    on_start: Callable[[int], None] | None = None,
    on_result: Callable[[FileRecord], None] | None = None,
) -> BatchReport:
    """Refresh every plan under ``paths``; ``force`` ignores the fingerprints of the last run.

    ``executor`` is ``local`` (a process pool of ``jobs`` workers, in-process for one) or
    ``dask://HOST:PORT`` (a Dask distributed scheduler whose workers see the same paths).
    """
    started, clock = dt.datetime.now().astimezone(), time.perf_counter()
    today = dt.date.today()
    targets = collect(paths, recursive=recursive)
    caches = {root: Cache.load(root) for root in {t.root for t in targets}}
    folders: dict[Path, set[str]] = {}
    for t in targets:
        folders.setdefault(t.path.parent, set()).add(t.path.name)
    for folder, names in folders.items():
        remove_stale_temps(folder, names)
    by_shown = {str(t.path): t for t in targets}
    work = [Job(str(t.path.resolve()), str(t.path), status_date, today, backup,
                None if force else caches[t.root].get(t.key), retries, backoff) for t in targets]
    if on_start is not None:
        on_start(len(work))
    records: list[FileRecord] = []
    try:
        for record in run_jobs(refresh_one, work, executor=executor, workers=jobs, on_crash=_crash_record):
            target = by_shown[record.path]
            caches[target.root].put(target.key, record.entry)
            records.append(record)
            if on_result is not None:
                on_result(record)
            for cache in caches.values():
                cache.save(every=2.0)
    finally:
        for cache in caches.values():
            cache.save()
    return BatchReport(
        records=sorted((replace(r, entry=None) for r in records), key=lambda r: r.path),
        roots=[str(p) for p in paths], status_date=status_date.isoformat() if status_date else None,
        executor=executor, jobs=jobs, started=started.isoformat(timespec="seconds"),
        seconds=round(time.perf_counter() - clock, 3))

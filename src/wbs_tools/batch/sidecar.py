"""The files a batch run keeps beside the workbooks: per-file OS locks and the folder's fingerprint cache.

Lock: ``.NAME.wbs-lock`` beside ``NAME``, held with ``flock`` (``msvcrt.locking`` on Windows) for
the whole read-compute-write of that workbook. The OS drops the lock when its holder dies, even on
SIGKILL, so a crashed run never blocks the next one. The holder deletes the sidecar while still
holding it; a process that locked a file meanwhile sees that the path no longer names its file and
starts again, so the folder is not littered and two holders can never coexist.

Cache: ``.wbs-cache.json`` at the top of each folder run maps a workbook's relative path to the
fingerprint the file had right after its last refresh (plus the status date, wbs_tools version and
what the report says about the plan). It lives outside the workbooks because recording it inside
would itself be a write, and a customer's file must only change when its content does. The cache
is only ever an optimisation: a missing, stale or corrupt cache means the plans are recomputed, and
``refresh_workbook`` then finds nothing to change and leaves the files untouched.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, fields
from pathlib import Path
from types import TracebackType

if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt
else:
    import fcntl

CACHE_NAME = ".wbs-cache.json"
CACHE_FORMAT = 1
LOCK_SUFFIX = ".wbs-lock"
STALE_TEMP_SECONDS = 600.0  # a temporary file this old was left by a killed writer


def lock_path(path: Path) -> Path:
    return path.with_name(f".{path.name}{LOCK_SUFFIX}")


class FileLock:
    """An exclusive, non-blocking OS lock on a workbook's sidecar file; use ``acquire`` and ``with``."""

    def __init__(self, fd: int, path: Path) -> None:
        self.fd, self.path = fd, path

    @classmethod
    def acquire(cls, workbook: Path) -> FileLock | None:
        """The lock, or None when another process holds it; OSError if the folder is not writable."""
        path = lock_path(workbook)
        while True:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            if not _try_lock(fd):
                os.close(fd)
                return None
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(path))
            except FileNotFoundError:
                same = False
            if same:
                return cls(fd, path)
            os.close(fd)  # the previous holder deleted the file we locked: lock the new one

    def release(self) -> None:
        if self.fd < 0:
            return
        if sys.platform != "win32":
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)  # while still holding it (see the module docstring)
        else:  # pragma: no cover
            msvcrt.locking(self.fd, msvcrt.LK_UNLCK, 1)
        os.close(self.fd)
        self.fd = -1
        if sys.platform == "win32":  # pragma: no cover - an open file cannot be deleted there; best effort
            with contextlib.suppress(OSError):
                os.unlink(self.path)

    def __enter__(self) -> FileLock:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()


def _try_lock(fd: int) -> bool:
    try:
        if sys.platform == "win32":  # pragma: no cover
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        else:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except (BlockingIOError, PermissionError):
        return False
    except OSError as exc:  # pragma: no cover - msvcrt reports contention as EDEADLOCK / EACCES
        if getattr(exc, "errno", None) in (13, 36):
            return False
        raise
    return True


def remove_stale_temps(folder: Path, workbooks: Iterable[str], older_than: float = STALE_TEMP_SECONDS) -> list[Path]:
    """Delete the temporary copies (``.NAME.xxxx.tmp``) a killed writer left beside these workbooks.

    One listing of the folder; only files older than any real write could take are removed.
    """
    names, limit = set(workbooks), time.time() - older_than
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        if not (entry.name.startswith(".") and entry.name.endswith(".tmp")):
            continue
        if entry.name[1:-4].rpartition(".")[0] in names:
            with contextlib.suppress(OSError):
                if entry.stat().st_mtime < limit:
                    os.unlink(entry.path)
                    removed.append(Path(entry.path))
    return removed


@dataclass(frozen=True)
class CacheEntry:
    """A workbook as the last refresh left it, and what the run report says about the plan."""

    fingerprint: str
    status_date: str | None  # the --status-date of that run, None when the workbook's own was used
    tool: str  # wbs_tools version
    day: str | None = None  # the run's day when the plan had no status date and the clock supplied it
    tasks: int = 0
    findings: int = 0
    errors: int = 0
    finish: str | None = None

    @staticmethod
    def date_key(status_date: dt.datetime | None) -> str | None:
        return status_date.isoformat() if status_date is not None else None

    def matches(self, fingerprint: str, status_date: dt.datetime | None, tool: str, today: dt.date | None) -> bool:
        """Whether a refresh now would compute exactly what it computed then."""
        return (self.fingerprint == fingerprint and self.status_date == self.date_key(status_date)
                and self.tool == tool and (self.day is None or (today is not None and self.day == today.isoformat())))


class Cache:
    """The fingerprints of one folder; written atomically, so a kill leaves the old or the new one."""

    def __init__(self, path: Path, entries: dict[str, CacheEntry]) -> None:
        self.path, self.entries = path, entries
        self._dirty, self._saved_at = False, time.monotonic()
        self._lines: dict[str, str] = {}  # key -> its line of the file, written once per entry

    @classmethod
    def load(cls, folder: Path) -> Cache:
        path = folder / CACHE_NAME
        entries: dict[str, CacheEntry] = {}
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("format") == CACHE_FORMAT:
                known = {f.name for f in fields(CacheEntry)}
                entries = {key: CacheEntry(**{k: v for k, v in value.items() if k in known})
                           for key, value in data.get("files", {}).items()}
        except (OSError, ValueError, TypeError, AttributeError):
            entries = {}  # no cache, or an unreadable one: everything is recomputed
        return cls(path, entries)

    def get(self, key: str) -> CacheEntry | None:
        return self.entries.get(key)

    def put(self, key: str, entry: CacheEntry | None) -> None:
        """Record a refreshed plan; ``None`` forgets the file (locked, failed, not a plan)."""
        if entry is None:
            self._dirty |= self.entries.pop(key, None) is not None
            self._lines.pop(key, None)
        elif self.entries.get(key) != entry:
            self.entries[key] = entry
            self._lines.pop(key, None)
            self._dirty = True

    def _line(self, key: str) -> str:
        line = self._lines.get(key)
        if line is None:
            fields_of = {f.name: getattr(self.entries[key], f.name) for f in fields(CacheEntry)}
            line = self._lines[key] = f"  {json.dumps(key)}: {json.dumps(fields_of, sort_keys=True)}"
        return line

    def save(self, every: float = 0.0) -> None:
        """Write the cache if it changed (and at most once per ``every`` seconds); never raises.

        The saves during a run (``every`` > 0) keep entries of files deleted meanwhile (they only go
        unused); the last one, without ``every``, drops them. An entry's line is built once, so a run
        of thousands of plans does not spend its parent process re-encoding the whole cache.
        """
        if not self._dirty or time.monotonic() - self._saved_at < every:
            return
        keys = sorted(self.entries)
        if not every:
            keys = [key for key in keys if (self.path.parent / key).exists()]
        lines = [self._line(key) for key in keys]
        text = '{\n "files": {\n' + ",\n".join(lines) + f'\n }},\n "format": {CACHE_FORMAT}\n}}'
        temp: str | None = None
        try:
            fd, temp = tempfile.mkstemp(prefix=f"{CACHE_NAME}.", suffix=".tmp", dir=self.path.parent)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.chmod(temp, self.path.stat().st_mode & 0o777 if self.path.exists() else 0o644)
            os.replace(temp, self.path)
        except OSError:
            if temp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(temp)
            return  # a read-only folder: the run still works, only without the shortcut
        self._dirty, self._saved_at = False, time.monotonic()

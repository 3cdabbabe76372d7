"""Files replaced whole: written beside the target, synced, then renamed over it.

A reader (Excel, a mail job, a PMO script) then sees the old file or the new one, never half of one,
and a power cut after the rename finds the new one. A replaced file keeps its mode; a new one gets
the mode ``open()`` would give it, not the temporary file's private 0600.
"""

from __future__ import annotations

import os
import stat
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def new_file_mode() -> int:
    """The mode ``open()`` would give a new file here: 0o666 less the process umask."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def sync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (POSIX; elsewhere the rename is as durable as it gets)."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sync_while(fd: int, work: Callable[[], T]) -> T:
    """``work()``, while ``os.fsync(fd)`` runs on a thread of its own: the flush is a wait on the disk
    (the interpreter lock released), the work is CPU (verifying what was written), so one hides the
    other. Both are done when this returns; a failed flush raises after the work."""
    failed: list[OSError] = []

    def flush() -> None:
        try:
            os.fsync(fd)
        except OSError as exc:
            failed.append(exc)

    thread = threading.Thread(target=flush, name="wbs-fsync", daemon=True)
    thread.start()
    try:
        result = work()
    finally:
        thread.join()
    if failed:
        raise failed[0]
    return result


def replace_file(target: Path, data: bytes) -> Path:
    """Write ``data`` to ``target`` as a complete file or not at all; returns ``target``."""
    folder = target.parent
    folder.mkdir(parents=True, exist_ok=True)
    mode = stat.S_IMODE(target.stat().st_mode) if target.exists() else new_file_mode()
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
        os.replace(temp, target)
        sync_folder(folder)
    finally:
        if os.path.exists(temp):
            os.unlink(temp)
    return target

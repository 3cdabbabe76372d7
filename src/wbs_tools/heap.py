"""Give the memory a finished phase freed back to the system before the next phase grows.

A large refresh goes through phases that each build and drop hundreds of megabytes of short-lived
objects (the reader's cell arrays, the scheduler's working lists, the status model's rows). CPython
frees them, but the C allocator (glibc's) keeps most of those pages in the process, pinned by the
few objects that outlive the phase beside them, so the next phase's peak stacks on the last one's
(at a million tasks, about 450 MB more at the peak). ``malloc_trim`` hands every wholly free page
back. It costs milliseconds, so only plans large enough to gain from it ask for it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from collections.abc import Callable
from functools import cache

#: plans of at least this many tasks release freed memory between phases
LARGE_PLAN_TASKS = 50_000


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim: Callable[[int], int] = libc.malloc_trim  # glibc only; musl and others have none
    except (OSError, AttributeError):
        return None
    return trim


def release_freed(tasks: int) -> bool:
    """Return freed pages to the system when a plan of ``tasks`` tasks is large; True if it was done."""
    if tasks < LARGE_PLAN_TASKS:
        return False
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True

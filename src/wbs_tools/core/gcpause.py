"""Keep Python's cyclic garbage collector out of phases that build many objects and no cycles.

Reading a 100,000-row plan or evaluating its status allocates millions of small tuples, dicts and
dataclasses, none of them garbage; each allocation burst sets off collections that walk the whole heap
again and again (a third of a read, two thirds of the status report at 100,000 tasks). Reference
counting still frees everything as usual while the collector waits; it runs again once the phase ends.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


class collector_paused:
    """Pause the cyclic collector for the block; nested or concurrent pauses leave it to the outermost.

    A class rather than a generator-based context manager: it is entered dozens of times per refresh,
    and contextlib's machinery would cost more than the pause itself."""

    __slots__ = ("_paused",)

    def __enter__(self) -> None:
        self._paused = gc.isenabled()
        if self._paused:
            gc.disable()

    def __exit__(self, *_exc: object) -> None:
        if self._paused:
            gc.enable()


def without_collector(fn: Callable[P, R]) -> Callable[P, R]:
    """``fn`` run with the cyclic collector paused (see ``collector_paused``)."""

    @wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with collector_paused():
            return fn(*args, **kwargs)

    return wrapper

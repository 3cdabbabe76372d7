"""Frozen dataclasses, and those that write out their ``__init__``, copied and pickled by rebuilding
them from their fields.

When the engine is compiled (``setup.py``) a dataclass is a native class. A frozen one's
``__setattr__`` refuses the attribute-by-attribute restore that ``pickle`` and ``copy`` use, and a
native ``__init__`` written by hand is called by the class's ``__new__`` itself, without the
arguments it needs. Rebuilding either from its fields works compiled and interpreted alike, so both
are registered the same way.
"""

from __future__ import annotations

import copyreg
import dataclasses
import sys
from collections.abc import Iterator
from typing import Any


def rebuilt_dataclasses(module_name: str) -> Iterator[type]:
    """The dataclasses defined in the module ``module_name`` that are frozen or write out their
    ``__init__`` (``init=False``)."""
    for value in list(vars(sys.modules[module_name]).values()):
        if isinstance(value, type) and value.__module__ == module_name and dataclasses.is_dataclass(value):
            params = value.__dataclass_params__  # type: ignore[attr-defined]
            if params.frozen or not params.init:
                yield value


def copied_by_fields(module_name: str) -> None:
    """Register every such dataclass defined in ``module_name`` (called at the end of that module)."""
    for cls in rebuilt_dataclasses(module_name):
        copyreg.pickle(cls, _by_fields)


def _by_fields(obj: Any) -> tuple[Any, tuple[type, dict[str, Any]]]:
    return _rebuilt, (type(obj), {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj) if f.init})


def _rebuilt(cls: type, values: dict[str, Any]) -> Any:
    return cls(**values)

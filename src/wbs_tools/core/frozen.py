"""Frozen dataclasses copied and pickled by rebuilding them from their fields.

When the engine is compiled (``setup.py``) a frozen dataclass is a native class, and its frozen
``__setattr__`` refuses the attribute-by-attribute restore that ``pickle`` and ``copy`` use. Rebuilding
it from its fields works compiled and interpreted alike, so both are registered the same way.
"""

from __future__ import annotations

import copyreg
import dataclasses
import sys
from collections.abc import Iterator
from typing import Any


def frozen_dataclasses(module_name: str) -> Iterator[type]:
    """The frozen dataclasses defined in the module ``module_name``."""
    for value in list(vars(sys.modules[module_name]).values()):
        if (isinstance(value, type) and value.__module__ == module_name and dataclasses.is_dataclass(value)
                and value.__dataclass_params__.frozen):  # type: ignore[attr-defined]
            yield value


def copied_by_fields(module_name: str) -> None:
    """Register every frozen dataclass defined in ``module_name`` (called at the end of that module)."""
    for cls in frozen_dataclasses(module_name):
        copyreg.pickle(cls, _by_fields)


def _by_fields(obj: Any) -> tuple[Any, tuple[type, dict[str, Any]]]:
    return _rebuilt, (type(obj), {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj) if f.init})


def _rebuilt(cls: type, values: dict[str, Any]) -> Any:
    return cls(**values)

"""The engine compiled by mypyc (``pip install .``, see setup.py) is the engine of the Python sources.

An installed wheel runs every module setup.py compiles as an extension, and refreshes a workbook to
the same bytes as the sources do; the rest of the suite runs against whichever is installed.
"""

from __future__ import annotations

import ast
import copy
import copyreg
import dataclasses
import datetime as dt
import importlib
import os
import pickle
import runpy
import shutil
import subprocess
import sys
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

import pytest

import wbs_tools
from wbs_tools.core.durations import parse_duration
from wbs_tools.core.frozen import rebuilt_dataclasses
from wbs_tools.core.model import Duration, Lag, Link, LinkType, Task
from wbs_tools.refresh import Outcome, refresh_workbook
from wbs_tools.workbook.sample import sample_plan, sample_registers
from wbs_tools.workbook.template import build_workbook

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "src"
SETUP = runpy.run_path(str(ROOT / "setup.py"), run_name="setup_lists")  # its lists, without building
STATUS = dt.datetime(2026, 3, 6, 17)

installed_wheel = pytest.mark.skipif(
    Path(wbs_tools.__file__).resolve().is_relative_to(SOURCES) or os.environ.get("WBS_TOOLS_COMPILE") == "0",
    reason="the sources themselves are installed (editable): nothing is compiled")


def _module_name(source: str) -> str:
    return source.removeprefix("src/").removesuffix(".py").replace("/", ".")


def test_setup_compiles_the_engine_packages_and_names_every_exception() -> None:
    compiled = {_module_name(s) for s in SETUP["compiled_sources"]()}
    assert {"wbs_tools.core.cpm", "wbs_tools.workbook.reader", "wbs_tools.workbook.sheet_patch"} <= compiled
    for kept in SETUP["INTERPRETED"]:
        assert (SOURCES / kept).is_file(), f"{kept} is listed as interpreted but does not exist"
        assert _module_name(kept) not in compiled


def test_no_compiled_module_uses_cached_property() -> None:
    """mypyc compiles ``functools.cached_property`` as a plain property, recomputed at every read
    (a refresh of a million tasks rebuilt lists per task and never finished): such modules stay
    interpreted (setup.py)."""
    offenders = [s for s in SETUP["compiled_sources"]() if "cached_property" in (ROOT / s).read_text(encoding="utf-8")]
    assert not offenders


@installed_wheel
def test_an_installed_wheel_runs_every_engine_module_compiled() -> None:
    assert wbs_tools.COMPILED
    for source in SETUP["compiled_sources"]():
        module = importlib.import_module(_module_name(source))
        assert module.__file__ is not None and module.__file__.endswith(tuple(EXTENSION_SUFFIXES)), module.__name__
    for kept in SETUP["INTERPRETED"]:
        module = importlib.import_module(_module_name(kept))
        assert module.__file__ is not None and module.__file__.endswith(".py"), module.__name__


LATER = dt.datetime(2026, 3, 13, 17)

_SOURCE_REFRESH = """
import datetime as dt, sys
import wbs_tools
from wbs_tools.refresh import refresh_workbook
assert not wbs_tools.COMPILED, wbs_tools.__file__
refresh_workbook(sys.argv[1], status_date=dt.datetime(2026, 3, 6, 17), backup=False)
refresh_workbook(sys.argv[2], status_date=dt.datetime(2026, 3, 13, 17), backup=False)
"""


@installed_wheel
def test_the_compiled_and_the_source_engine_write_the_same_bytes(tmp_path: Path) -> None:
    """A first refresh (every computed cell new), and a refresh a week later of a refreshed plan."""
    fresh, refreshed = tmp_path / "fresh.xlsx", tmp_path / "refreshed.xlsx"
    build_workbook(fresh, plan=sample_plan(), registers=sample_registers())
    shutil.copyfile(fresh, refreshed)
    assert refresh_workbook(refreshed, status_date=STATUS, backup=False).outcome is Outcome.REFRESHED
    ways = {way: (tmp_path / f"{way}-fresh.xlsx", tmp_path / f"{way}-refreshed.xlsx") for way in ("compiled", "source")}
    for first, second in ways.values():
        shutil.copyfile(fresh, first)
        shutil.copyfile(refreshed, second)

    first, second = ways["compiled"]
    assert refresh_workbook(first, status_date=STATUS, backup=False).outcome is Outcome.REFRESHED
    assert refresh_workbook(second, status_date=LATER, backup=False).outcome is Outcome.REFRESHED
    environment = {**os.environ, "PYTHONPATH": str(SOURCES)}  # the sources ahead of the installed wheel
    run = subprocess.run([sys.executable, "-c", _SOURCE_REFRESH, *map(str, ways["source"])], env=environment,
                         capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stderr
    for compiled, source in zip(ways["compiled"], ways["source"], strict=True):
        assert compiled.read_bytes() == source.read_bytes(), compiled.name


def test_every_frozen_or_written_out_dataclass_of_the_engine_copies_and_pickles_by_its_fields() -> None:
    """Compiled, a frozen dataclass refuses pickle's and copy's attribute-by-attribute restore, and one
    with a written-out ``__init__`` has it called without arguments; each engine module registers its
    own (``wbs_tools.core.frozen``), which this keeps true for new ones."""
    missing = [f"{cls.__module__}.{cls.__name__}" for name in _engine_modules() for cls in rebuilt_dataclasses(name)
               if cls not in copyreg.dispatch_table]
    assert not missing, "add copied_by_fields(__name__) at the end of their modules"
    duration = parse_duration("3d")
    assert copy.deepcopy(duration) == pickle.loads(pickle.dumps(duration)) == duration
    task = Task(4, "Build", 2, duration, baselines={}, cells={"name": "Tasks!E7"})
    for twin in (copy.deepcopy(task), pickle.loads(pickle.dumps(task)), copy.copy(task)):
        assert twin == task and twin is not task
    assert copy.deepcopy(task).cells is not task.cells
    link = Link(1, 4, LinkType.SS, Lag(Duration(480.0)), "Tasks!I7")
    assert copy.deepcopy(link) == pickle.loads(pickle.dumps(link)) == link


def _engine_modules() -> list[str]:
    """The names of the modules setup.py compiles, imported."""
    return [importlib.import_module(_module_name(source)).__name__ for source in SETUP["compiled_sources"]()]


def _written_out_inits() -> list[type]:
    """The engine's dataclasses whose ``__init__`` is written by hand (``init=False``): the generated
    one stays interpreted under mypyc, so the ones a plan builds by the thousand are written out."""
    return [cls for name in _engine_modules() for cls in rebuilt_dataclasses(name)
            if not cls.__dataclass_params__.init]  # type: ignore[attr-defined]


def _fields_and_init(cls: type) -> tuple[list[tuple[str, str | None]], list[tuple[str, str | None]]]:
    """(name, default as written) of the class's fields and of its ``__init__``'s parameters, read
    from its source (compiled, the method shows no signature); a field's ``default_factory`` reads
    as None, the default that stands for a fresh object each."""
    tree = ast.parse((SOURCES / (cls.__module__.replace(".", "/") + ".py")).read_text(encoding="utf-8"))
    body = next(node for node in ast.walk(tree) if isinstance(node, ast.ClassDef) and node.name == cls.__name__).body
    fields: list[tuple[str, str | None]] = []
    for node in body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            default = None if node.value is None else ast.unparse(node.value)
            fields.append((node.target.id, "None" if default and default.startswith("field(default_factory")
                           else default))
    init = next(node for node in body if isinstance(node, ast.FunctionDef) and node.name == "__init__")
    names = [a.arg for a in init.args.args[1:]]
    defaults = [None] * (len(names) - len(init.args.defaults)) + [ast.unparse(d) for d in init.args.defaults]
    return fields, list(zip(names, defaults, strict=True))


def test_a_written_out_init_takes_the_fields_in_order_with_their_defaults() -> None:
    classes = _written_out_inits()
    assert {cls.__name__ for cls in classes} >= {"Link", "Task"}
    for cls in classes:
        fields, parameters = _fields_and_init(cls)
        assert parameters == fields, cls.__name__
    first, second = Task(1), Task(2, uid=7)
    assert (first.uid, second.uid) == (1, 7) and first.baselines is not second.baselines
    assert first.cells is not second.cells and first.baselines == {} == first.cells
    assert dataclasses.replace(Link(1, 2), lag=Lag(Duration(480.0))) == Link(1, 2, LinkType.FS, Lag(Duration(480.0)))


@installed_wheel
def test_a_written_out_init_is_compiled() -> None:
    """What the hand-written ``__init__`` is for: a native method, not the interpreted function
    dataclasses would generate (which keeps a ``__code__``)."""
    for cls in _written_out_inits():
        assert not hasattr(vars(cls)["__init__"], "__code__"), cls.__name__

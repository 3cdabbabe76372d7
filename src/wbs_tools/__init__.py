"""wbs_tools: a project-plan engine for Excel workbooks.

Critical-path scheduling that agrees with Microsoft Project, tolerant reading of what people type,
and results as plain objects or pandas DataFrames.

>>> import datetime as dt
>>> import wbs_tools as wbs
>>> plan = wbs.Plan(wbs.Settings(start=dt.datetime(2026, 1, 5, 8)),
...                 [wbs.Task(1, "Design", duration=wbs.parse_duration("2d")),
...                  wbs.Task(2, "Build", duration=wbs.parse_duration("3d"))],
...                 wbs.parse_predecessors("1FS+1d", successor=2)[0])
>>> result = wbs.schedule(plan)
>>> f"{result.project_finish:%Y-%m-%d %H:%M}", [t.critical for t in result.tasks]
('2026-01-12 17:00', [True, True])
"""

from importlib.machinery import EXTENSION_SUFFIXES
from typing import TYPE_CHECKING

from wbs_tools.api import ScheduleRun, UnsupportedFileError, load_plan, schedule_file
from wbs_tools.core import cpm as _cpm_module
from wbs_tools.core.cpm import schedule
from wbs_tools.core.earned_value import EarnedValue, Variance, baseline_variances, earned_value
from wbs_tools.core.findings import FINDING_CODES, Finding, Severity
from wbs_tools.core.model import (
    Baseline,
    CalendarSpec,
    ConstraintType,
    Duration,
    Lag,
    Link,
    LinkType,
    Plan,
    Settings,
    Task,
    WorkingTime,
)
from wbs_tools.core.parsing import (
    InputError,
    format_date,
    format_duration,
    format_lag,
    format_predecessors,
    parse_date,
    parse_duration,
    parse_lag,
    parse_predecessors,
)
from wbs_tools.core.schedule import Driver, DriverKind, LinkSchedule, RecordTable, Schedule, TaskSchedule

if TYPE_CHECKING:
    from wbs_tools.frames import findings_frame, links_frame, tasks_frame

__version__ = "0.1.0"

#: whether the engine (``wbs_tools.core``, ``wbs_tools.workbook``) runs as C extensions built by mypyc
#: (``pip install .``, see setup.py) or as its Python source (an editable install): same results, and
#: about 14% less CPU per refresh when compiled
COMPILED = (_cpm_module.__file__ or "").endswith(tuple(EXTENSION_SUFFIXES))

_FRAMES = frozenset({"findings_frame", "links_frame", "tasks_frame"})


def __getattr__(name: str) -> object:
    """The DataFrame helpers load pandas on first use, so the CLI and batch workers start without it."""
    if name in _FRAMES:
        from wbs_tools import frames

        return getattr(frames, name)
    raise AttributeError(f"module 'wbs_tools' has no attribute {name!r}")

__all__ = [
    "COMPILED",
    "FINDING_CODES",
    "Baseline",
    "CalendarSpec",
    "ConstraintType",
    "Driver",
    "DriverKind",
    "Duration",
    "EarnedValue",
    "Finding",
    "InputError",
    "Lag",
    "Link",
    "LinkSchedule",
    "LinkType",
    "Plan",
    "RecordTable",
    "Schedule",
    "ScheduleRun",
    "Settings",
    "Severity",
    "Task",
    "TaskSchedule",
    "UnsupportedFileError",
    "Variance",
    "WorkingTime",
    "baseline_variances",
    "earned_value",
    "findings_frame",
    "format_date",
    "format_duration",
    "format_lag",
    "format_predecessors",
    "links_frame",
    "load_plan",
    "parse_date",
    "parse_duration",
    "parse_lag",
    "parse_predecessors",
    "schedule",
    "schedule_file",
    "tasks_frame",
]

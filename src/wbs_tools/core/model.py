"""The neutral plan model: what every reader produces and the scheduler consumes.

Durations and lags are kept in minutes of working time (or elapsed minutes when ``elapsed``), the
way Microsoft Project keeps them; the unit a person typed is kept only to format the value back.
Where a value came from (a workbook cell, an XML element) travels with it in ``cells`` so that a
finding can point at it without the core knowing anything about Excel.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from enum import Enum

from wbs_tools.core.frozen import copied_by_fields


class LinkType(str, Enum):
    """How a successor depends on its predecessor (finish-to-start, start-to-start, ...)."""

    FS = "FS"
    SS = "SS"
    FF = "FF"
    SF = "SF"


class ConstraintType(str, Enum):
    """Microsoft Project's eight date constraints."""

    ASAP = "ASAP"
    ALAP = "ALAP"
    SNET = "SNET"
    SNLT = "SNLT"
    FNET = "FNET"
    FNLT = "FNLT"
    MSO = "MSO"
    MFO = "MFO"

    @property
    def needs_date(self) -> bool:
        return self not in (ConstraintType.ASAP, ConstraintType.ALAP)


@dataclass(frozen=True, slots=True)
class Duration:
    """A span of time: working minutes, or wall-clock minutes when ``elapsed``.

    ``unit`` is the unit it was typed in (m, h, d, w, mo, with an ``e`` prefix when elapsed); it only
    matters for formatting the value back the way the user wrote it.
    """

    minutes: float
    elapsed: bool = False
    unit: str = "d"

    @property
    def is_zero(self) -> bool:
        return self.minutes == 0


ZERO = Duration(0.0)


@dataclass(frozen=True, slots=True)
class Lag:
    """Lag (positive) or lead (negative) on a link; either a duration or a percentage.

    A percent lag is a share of the predecessor's duration, counted on the successor's calendar.
    """

    duration: Duration = ZERO
    percent: float | None = None

    @property
    def is_zero(self) -> bool:
        return self.percent == 0 if self.percent is not None else self.duration.is_zero


NO_LAG = Lag()


@dataclass(frozen=True, slots=True, init=False)
class Link:
    """A dependency between two tasks, identified by their user-visible IDs.

    ``__init__`` is written out (see ``Task``): a plan reads a link per predecessor.
    """

    predecessor: int
    successor: int
    type: LinkType = LinkType.FS
    lag: Lag = NO_LAG
    origin: str | None = None  # where it was typed, e.g. "Tasks!F12" or "Dependencies!A4"

    def __init__(self, predecessor: int, successor: int, type: LinkType = LinkType.FS,
                 lag: Lag = NO_LAG, origin: str | None = None) -> None:
        put = object.__setattr__  # frozen: what the generated __init__ does, compiled
        put(self, "predecessor", predecessor)
        put(self, "successor", successor)
        put(self, "type", type)
        put(self, "lag", lag)
        put(self, "origin", origin)


@dataclass(frozen=True, slots=True)
class Baseline:
    """One saved baseline (Baseline, Baseline1..10) of a task."""

    start: dt.datetime | None = None
    finish: dt.datetime | None = None
    duration_minutes: float | None = None
    cost: float | None = None
    work_minutes: float | None = None


@dataclass(slots=True, init=False)
class Task:
    """One row of the work breakdown.

    ``id`` is the number people use in predecessor cells; ``uid`` is a stable identity kept for
    interchange (MSPDI) and defaults to ``id``. Summary status is derived from the outline: a task
    followed by a deeper task is a summary.

    ``__init__`` is written out, in the fields' order with their defaults (a test holds it to them):
    the one dataclasses generates is interpreted even when the engine is compiled, twenty times the
    cost of a compiled one, and a plan makes a task per row.
    """

    id: int
    name: str = ""
    outline_level: int = 1
    duration: Duration | None = None
    uid: int | None = None
    wbs: str | None = None  # a WBS code as typed; checked against the outline
    milestone: bool = False
    manual: bool = False
    manual_start: dt.datetime | None = None
    manual_finish: dt.datetime | None = None
    constraint: ConstraintType = ConstraintType.ASAP
    constraint_date: dt.datetime | None = None
    deadline: dt.datetime | None = None
    calendar: str | None = None
    percent_complete: float = 0.0
    actual_start: dt.datetime | None = None
    actual_finish: dt.datetime | None = None
    remaining_duration: Duration | None = None
    baselines: dict[int, Baseline] = field(default_factory=dict)
    cost: float | None = None  # budgeted cost at completion
    actual_cost: float | None = None
    owner: str | None = None
    notes: str | None = None
    active: bool = True
    cells: MutableMapping[str, str] = field(default_factory=dict)  # field name -> where it was read

    def __init__(self, id: int, name: str = "", outline_level: int = 1,
                 duration: Duration | None = None, uid: int | None = None, wbs: str | None = None,
                 milestone: bool = False, manual: bool = False, manual_start: dt.datetime | None = None,
                 manual_finish: dt.datetime | None = None, constraint: ConstraintType = ConstraintType.ASAP,
                 constraint_date: dt.datetime | None = None, deadline: dt.datetime | None = None,
                 calendar: str | None = None, percent_complete: float = 0.0,
                 actual_start: dt.datetime | None = None, actual_finish: dt.datetime | None = None,
                 remaining_duration: Duration | None = None, baselines: dict[int, Baseline] | None = None,
                 cost: float | None = None, actual_cost: float | None = None, owner: str | None = None,
                 notes: str | None = None, active: bool = True,
                 cells: MutableMapping[str, str] | None = None) -> None:
        self.id = id
        self.name = name
        self.outline_level = outline_level
        self.duration = duration
        self.uid = id if uid is None else uid
        self.wbs = wbs
        self.milestone = milestone
        self.manual = manual
        self.manual_start = manual_start
        self.manual_finish = manual_finish
        self.constraint = constraint
        self.constraint_date = constraint_date
        self.deadline = deadline
        self.calendar = calendar
        self.percent_complete = percent_complete
        self.actual_start = actual_start
        self.actual_finish = actual_finish
        self.remaining_duration = remaining_duration
        self.baselines = {} if baselines is None else baselines
        self.cost = cost
        self.actual_cost = actual_cost
        self.owner = owner
        self.notes = notes
        self.active = active
        self.cells = {} if cells is None else cells


@dataclass(frozen=True, slots=True)
class WorkingTime:
    """A working period within a day, in minutes after midnight (end exclusive; 1440 = midnight)."""

    start: int
    end: int


STANDARD_DAY: tuple[WorkingTime, ...] = (WorkingTime(8 * 60, 12 * 60), WorkingTime(13 * 60, 17 * 60))


@dataclass
class CalendarSpec:
    """A working calendar as people describe it: a working week plus dated exceptions.

    ``week`` maps Python weekday numbers (Monday = 0) to that day's working periods; a missing or
    empty day is non-working. ``exceptions`` override whole dates (empty tuple = holiday). Public
    holidays of ``country`` (and ``subdivision``) come from the ``holidays`` package.
    """

    name: str = "Standard"
    week: dict[int, tuple[WorkingTime, ...]] = field(
        default_factory=lambda: {d: STANDARD_DAY for d in range(5)}
    )
    exceptions: dict[dt.date, tuple[WorkingTime, ...]] = field(default_factory=dict)
    country: str | None = None
    subdivision: str | None = None
    uid: int | None = None


@dataclass
class Settings:
    """Plan-wide settings (the workbook's Settings sheet, MSPDI's project element)."""

    project_name: str = ""
    start: dt.datetime | None = None
    status_date: dt.datetime | None = None
    calendar: str = "Standard"
    minutes_per_day: int = 480
    minutes_per_week: int = 2400
    days_per_month: int = 20
    critical_slack_minutes: float = 0.0
    multiple_critical_paths: bool = False
    honor_constraints: bool = True
    day_first: bool = False
    reschedule_after_status_date: bool = False
    default_start_minute: int = 8 * 60
    default_finish_minute: int = 17 * 60
    currency: str = ""


@dataclass
class Plan:
    """A whole plan: settings, calendars, tasks in outline order, and links."""

    settings: Settings = field(default_factory=Settings)
    tasks: list[Task] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    calendars: dict[str, CalendarSpec] = field(default_factory=lambda: {"Standard": CalendarSpec()})

    def task_by_id(self) -> dict[int, Task]:
        return {t.id: t for t in self.tasks}


copied_by_fields(__name__)

"""The records a status report is made of: plain, frozen values a renderer can lay out as it likes.

Every text field here is copied from the workbook as typed, so a renderer must escape it; dates are
naive datetimes on the plan's clock; "days" are working days of the plan's default calendar, because
that is how a project manager counts slip ("three days late" does not count the weekend).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from wbs_tools.core.frozen import copied_by_fields


class Rag(str, Enum):
    """Red / amber / green, ordered so that the worst of several can be taken."""

    GREEN = "Green"
    AMBER = "Amber"
    RED = "Red"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Rag.GREEN: 0, Rag.AMBER: 1, Rag.RED: 2}


def worst(rags: Iterable[Rag]) -> Rag:
    """The worst of ``rags`` (green when there are none)."""
    return max(rags, key=lambda r: r.rank, default=Rag.GREEN)


@dataclass(frozen=True)
class AreaStatus:
    """The RAG of one area and the rules that set it, in words a steering committee reads."""

    area: str
    rag: Rag
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Progress:
    """Duration-weighted % complete: planned from the baseline at the status date, and actual."""

    planned: float
    actual: float
    previous_actual: float | None = None

    @property
    def gap(self) -> float:
        """Points behind plan (negative when ahead)."""
        return self.planned - self.actual


@dataclass(frozen=True)
class FinishForecast:
    """Where the project is heading: forecast finish against the baseline and last week's forecast."""

    forecast: dt.datetime | None
    baseline: dt.datetime | None
    variance_days: float | None  # forecast minus baseline; positive = later
    previous: dt.datetime | None = None
    change_days: float | None = None  # forecast minus last report's forecast


@dataclass(frozen=True)
class TaskLine:
    """A task as a report row (critical-path look-ahead, milestones, deadlines)."""

    id: int
    outline_number: str
    name: str
    start: dt.datetime | None
    finish: dt.datetime | None
    percent_complete: float
    critical: bool
    owner: str = ""
    slack_days: float = 0.0
    baseline_finish: dt.datetime | None = None
    variance_days: float | None = None  # finish minus baseline finish
    deadline: dt.datetime | None = None
    driver: str = ""  # why it starts when it does, with task names rather than IDs

    @property
    def label(self) -> str:
        return f"{self.outline_number} {self.name}".strip()

    @property
    def done(self) -> bool:
        return self.percent_complete >= 100


@dataclass(frozen=True)
class ActionLine:
    """An action item as the status call needs it (same meanings as the Action Items sheet)."""

    id: str
    action: str
    owner: str
    needed_by: str
    needed_by_task: int | None
    due_date: dt.date | None
    status: str
    is_open: bool
    days_overdue: int = 0  # working days past due at the status date
    blocked_by: tuple[str, ...] = ()  # open actions it waits on
    blocks_critical: bool = False  # open and needed by a critical task that is not complete
    needed_by_label: str = ""  # "4.1 ETL platform licence & install" when needed by a task

    @property
    def overdue(self) -> bool:
        return self.days_overdue > 0


@dataclass(frozen=True)
class OwnerActions:
    """Open actions that need chasing, for one owner: overdue, blocked, or holding up the critical path."""

    owner: str
    actions: tuple[ActionLine, ...]


@dataclass(frozen=True)
class IssueLine:
    """An issue with its working-day age and SLA, as on the Issue Log."""

    id: str
    what: str
    severity: str  # "Critical", "High", "Medium", "Low" or "" when not set
    status: str
    is_open: bool
    owner: str
    reported_on: dt.date | None
    where: str = ""
    age_days: int | None = None
    sla_days: float | None = None
    sla_breach: bool = False


@dataclass(frozen=True)
class SeverityCount:
    """Open issues of one severity: how many, how many past the SLA, and the oldest age."""

    severity: str
    open: int
    breaching: int
    oldest_days: int | None


@dataclass(frozen=True)
class ChangeLine:
    """One requirement change from the Change Log: what changed, from what to what, decided by whom."""

    detected_on: dt.date
    requirement_id: str
    field: str
    old_value: str
    new_value: str
    decided_by: str


@dataclass(frozen=True)
class SignOffLine:
    """One validation on the Sign-off sheet."""

    item_id: str
    validated_by: str
    date: dt.date | None
    result: str
    anomalies: str

    @property
    def rejected(self) -> bool:
        return self.result.strip().casefold().startswith(("reject", "fail", "declin", "not accept"))


def format_day(value: dt.date | None, *, year: bool = True) -> str:
    """Fri 27 Feb 2026: the weekday is what people check a date against."""
    if value is None:
        return "-"
    return f"{value:%a} {value.day} {value:%b}" + (f" {value:%Y}" if year else "")


def format_days(n: float | None, *, signed: bool = False) -> str:
    """Working days as a short figure: 3, 2.5, +1 (when ``signed``), or "-" when unknown."""
    if n is None:
        return "-"
    return f"{n:+g}" if signed and n else f"{n:g}"


copied_by_fields(__name__)

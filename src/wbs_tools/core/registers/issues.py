"""Issue log: who found what, when, where and how to see it again, with age, SLA and reopenings.

Age and SLA are in working days on the plan calendar, counted from "Reported on" to "Resolved on"
(or to the status date while open), so an issue raised on Friday is not two days older by Monday.
The SLA of each severity comes from Settings. A resolved issue keeps its breach flag: it says the
fix came late, which is what a customer asks about at the steering meeting.

Reopenings need history the sheet does not hold: each refresh stores every issue's status, and its
reopened count, in one cell of the hidden status-history sheet (``format_issue_states``). An issue
Resolved or Closed in that snapshot and open now has been reopened once more. Refreshing twice
changes nothing, because the second refresh sees the first one's snapshot.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any
from urllib.parse import quote, unquote

from wbs_tools.core.calendar import WorkCalendar
from wbs_tools.core.findings import Finding
from wbs_tools.core.frozen import copied_by_fields
from wbs_tools.core.gcpause import without_collector
from wbs_tools.core.registers.cells import (
    Locate,
    Row,
    RowReader,
    TaskIndex,
    duplicate_check,
    id_key,
    is_blank,
    lookup,
    task_index,
    task_ref,
    text,
    working_days,
)
from wbs_tools.core.schedule import Schedule, TaskSchedule

SHEET = "Issue Log"
INPUT_KEYS = ("id", "reported_by", "reported_on", "what", "where", "how_to_replicate", "severity", "priority",
              "owner", "status", "resolved_on", "resolution")


class IssueStatus(str, Enum):
    """The drop-down values; typed variants ("fixed", "won't fix", "reopened") are read as these."""

    OPEN = "Open"
    IN_PROGRESS = "In progress"
    WAITING = "Waiting"
    RESOLVED = "Resolved"
    CLOSED = "Closed"

    @property
    def closed(self) -> bool:
        """Resolved and Closed stop the clock; anything else is open."""
        return self in (IssueStatus.RESOLVED, IssueStatus.CLOSED)


class IssueSeverity(str, Enum):
    """Impact, which sets the SLA ("blocker", "major", "minor" are read as these)."""

    CRITICAL = "Critical"
    HIGH = "High"
    MEDIUM = "Medium"
    LOW = "Low"


_STATUS_WORDS: dict[str, IssueStatus] = {
    **dict.fromkeys(("open", "new", "reopened", "raised", "todo", "notstarted", "logged"), IssueStatus.OPEN),
    **dict.fromkeys(("inprogress", "started", "ongoing", "wip", "active", "investigating", "fixing",
                     "intest", "retest"), IssueStatus.IN_PROGRESS),
    **dict.fromkeys(("waiting", "onhold", "hold", "blocked", "pending", "deferred"), IssueStatus.WAITING),
    **dict.fromkeys(("resolved", "fixed", "done", "complete", "completed"), IssueStatus.RESOLVED),
    **dict.fromkeys(("closed", "cancelled", "canceled", "wontfix", "duplicate", "rejected", "notanissue",
                     "accepted"), IssueStatus.CLOSED),
}
_SEVERITY_WORDS: dict[str, IssueSeverity] = {
    **dict.fromkeys(("critical", "crit", "blocker", "showstopper", "sev1", "s1", "urgent"), IssueSeverity.CRITICAL),
    **dict.fromkeys(("high", "major", "sev2", "s2"), IssueSeverity.HIGH),
    **dict.fromkeys(("medium", "med", "moderate", "normal", "sev3", "s3"), IssueSeverity.MEDIUM),
    **dict.fromkeys(("low", "minor", "trivial", "cosmetic", "sev4", "s4"), IssueSeverity.LOW),
}

#: Working days an issue may stay open, per severity: the Settings sheet's defaults.
DEFAULT_SLA_DAYS: dict[IssueSeverity, float] = {
    IssueSeverity.CRITICAL: 1, IssueSeverity.HIGH: 3, IssueSeverity.MEDIUM: 10, IssueSeverity.LOW: 30,
}


@dataclass(frozen=True)
class IssueState:
    """What the status-history snapshot keeps per issue."""

    status: IssueStatus
    reopened: int = 0


@dataclass(frozen=True)
class Issue:
    """One issue row as read, with age, SLA and reopenings computed."""

    row: int | None
    id: str
    reported_by: str
    reported_on: dt.date | None
    what: str
    where: str
    where_task: int | None  # "Where" read as a task ID, when it is one
    how_to_replicate: str
    severity: IssueSeverity | None
    priority: str
    owner: str
    status: IssueStatus
    resolved_on: dt.date | None
    resolution: str
    age_days: int | None = None
    sla_days: float | None = None
    sla_breach: bool = False  # open, or was open, longer than the SLA of its severity
    reopened_count: int = 0

    @property
    def is_open(self) -> bool:
        return not self.status.closed

    def computed_cells(self) -> dict[str, object]:
        """The sheet's computed columns, keyed as in the workbook layout."""
        return {"age_days": self.age_days, "sla_breach": self.sla_breach, "reopened_count": self.reopened_count}


@dataclass(frozen=True)
class IssueReport:
    """The rows in sheet order, their problems, and the status snapshot the next refresh compares with."""

    items: tuple[Issue, ...]
    findings: tuple[Finding, ...]
    states: str  # the snapshot to store for the next refresh (``issue_states`` of the history sheet)

    @property
    def open_issues(self) -> tuple[Issue, ...]:
        return tuple(i for i in self.items if i.is_open)


def parse_issue_status(value: object) -> IssueStatus | None:
    return None if is_blank(value) else lookup(value, _STATUS_WORDS)


def sla_table(settings: Mapping[Any, object] | None) -> dict[IssueSeverity, float]:
    """SLA days per severity from Settings: keys may be severities or ``sla_days_high`` style keys.

    A missing or unreadable value keeps its default, as the Settings sheet itself does.
    """
    table = dict(DEFAULT_SLA_DAYS)
    for key, value in (settings or {}).items():
        name = re.sub(r"^sla\s*_?days\s*[_:]?\s*", "", text(key).casefold())
        severity = lookup(name, _SEVERITY_WORDS) if name else None
        if severity is None or isinstance(value, bool):
            continue
        try:
            days = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError, OverflowError):
            continue
        if math.isfinite(days) and days >= 0:
            table[severity] = days
    return table


# -- the snapshot of statuses ------------------------------------------------------------------------

_ID_SAFE = " -_.#()/+&'@!*:,"  # characters kept readable in the cell; ';', '=' and '%' are escaped


def format_issue_states(issues: Iterable[Issue]) -> str:
    """One cell: ``I-001=Resolved; I-004=Open/2`` (status, then the reopened count when not 0)."""
    parts = []
    seen: set[str] = set()
    for issue in issues:
        key = id_key(issue.id)
        if not key or key in seen:
            continue
        seen.add(key)
        count = f"/{issue.reopened_count}" if issue.reopened_count else ""
        parts.append(f"{quote(issue.id, safe=_ID_SAFE)}={issue.status.value}{count}")
    return "; ".join(parts)


def parse_issue_states(value: object) -> dict[str, IssueState]:
    """The stored snapshot by ID key; unreadable pairs are dropped (the history is advisory)."""
    states: dict[str, IssueState] = {}
    if not isinstance(value, str):
        return states
    for part in value.split(";"):
        shown, equals, state = part.rpartition("=")
        if not equals:
            continue
        status_text, _, count_text = state.partition("/")
        status = parse_issue_status(status_text)
        key = id_key(unquote(shown))
        if status is None or not key:
            continue
        count = int(count_text) if count_text.strip().isdecimal() else 0
        states.setdefault(key, IssueState(status, min(count, 10**6)))
    return states


# -- evaluation --------------------------------------------------------------------------------------

def _read(reader: RowReader, tasks: Mapping[int, TaskSchedule], status_date: dt.date) -> Issue:
    status, unknown = reader.choice("status", _STATUS_WORDS)
    if unknown:
        reader.add("bad-status", "status", f"Status {unknown!r} is not one of Open, In progress, Waiting, "
                   "Resolved or Closed; Open was assumed.", "Pick a status from the drop-down.")
    status = status or IssueStatus.OPEN
    severity, unknown = reader.choice("severity", _SEVERITY_WORDS)
    if unknown:
        reader.add("bad-severity", "severity", f"Severity {unknown!r} is not one of Critical, High, Medium "
                   "or Low; no SLA applies.", "Pick a severity from the drop-down.")
    reported_on = reader.date("reported_on", "Reported on")
    resolved_on = reader.date("resolved_on", "Resolved on")
    if reported_on is not None and reported_on > status_date:
        reader.add("future-report", "reported_on", f"Reported on {reported_on:%Y-%m-%d}, after the status "
                   f"date {status_date:%Y-%m-%d}.", "Check the year, or move the status date.")
    if reader.blank("reported_on") and not status.closed:
        reader.add("no-reported-on", "reported_on", "The issue has no 'Reported on' date; its age and SLA "
                   "are not known.", "Type the day it was found.")
    if resolved_on is not None and not status.closed:
        reader.add("resolved-date-open", "status", f"Resolved on {resolved_on:%Y-%m-%d} is typed but the "
                   f"status is {status.value}.", "Set the status to Resolved or Closed, or clear the date.")
    if reader.blank("resolved_on") and status.closed:
        reader.add("resolved-without-date", "resolved_on", f"The issue is {status.value} without a "
                   "'Resolved on' date; its age is not known.", "Type the day it was resolved.")
    if reported_on is not None and resolved_on is not None and resolved_on < reported_on:
        reader.add("resolved-before-reported", "resolved_on", f"Resolved on {resolved_on:%Y-%m-%d} is "
                   f"before Reported on {reported_on:%Y-%m-%d}.", "Check both dates.")
    where_task = task_ref(reader.row.get("where"))
    if where_task is not None and tasks and where_task not in tasks:
        reader.add("unknown-task", "where", f"'Where' names task {where_task}, which is not in the plan.",
                   "Use a task ID from the Tasks sheet, or a system area.", task_id=where_task)
    return Issue(
        row=reader.number, id=reader.text("id"), reported_by=reader.text("reported_by"), reported_on=reported_on,
        what=reader.text("what"), where=reader.text("where"), where_task=where_task,
        how_to_replicate=reader.text("how_to_replicate"), severity=severity, priority=reader.text("priority"),
        owner=reader.text("owner"), status=status, resolved_on=resolved_on, resolution=reader.text("resolution"),
    )


def _age(issue: Issue, status_date: dt.date, calendar: WorkCalendar) -> int | None:
    end = issue.resolved_on if issue.status.closed else status_date
    if issue.reported_on is None or end is None or end < issue.reported_on:
        return None
    return working_days(calendar, issue.reported_on, end)


@without_collector
def evaluate_issues(
    rows: Iterable[Row],
    *,
    status_date: dt.date,
    calendar: WorkCalendar,
    previous_states: object = None,  # the stored cell as read (text expected), or its parsed form
    sla_days: Mapping[Any, object] | None = None,
    schedule: Schedule | TaskIndex | Iterable[TaskSchedule] | None = None,
    locate: Locate | None = None,
    sheet: str = SHEET,
) -> IssueReport:
    """Read the Issue Log rows and compute age, SLA breach and reopened count.

    ``previous_states`` is the last stored snapshot (the text cell or its parsed form);
    ``sla_days`` the SLA settings (see ``sla_table``); ``schedule`` the tasks "Where" may name.
    """
    if isinstance(status_date, dt.datetime):
        status_date = status_date.date()
    tasks = task_index(schedule)
    sla = sla_table(sla_days)
    before = previous_states if isinstance(previous_states, Mapping) else parse_issue_states(previous_states)
    findings: list[Finding] = []
    readers = [RowReader(r, sheet, "issue", locate, findings) for r in rows
               if not all(is_blank(r.get(k)) for k in INPUT_KEYS)]
    items = [_read(reader, tasks, status_date) for reader in readers]
    first = set(duplicate_check(readers, [i.id for i in items], "Issue").values())
    done = []
    for n, issue in enumerate(items):
        age = _age(issue, status_date, calendar)
        limit = sla.get(issue.severity) if issue.severity is not None else None
        previous = before.get(id_key(issue.id)) if n in first else None
        reopened = previous.reopened if previous is not None else 0
        if previous is not None and previous.status.closed and issue.is_open:
            reopened += 1
        done.append(replace(issue, age_days=age, sla_days=limit,
                            sla_breach=age is not None and limit is not None and age > limit,
                            reopened_count=reopened))
    return IssueReport(tuple(done), tuple(findings), format_issue_states(done))


copied_by_fields(__name__)

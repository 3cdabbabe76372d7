"""Week over week: what a report remembers about the plan, and what changed since the last one.

A workbook has no history of its own, so each report stores a small snapshot on a hidden sheet: the
project's forecast finish and progress, each leaf task's start, finish and criticality, and the open
issues. The next report compares with it to say what slipped, which issues are new or closed and
how the critical path moved. The rows are a long table (``SNAPSHOT_COLUMNS``) so any number of
tasks fits and old weeks can stay below; ``StatusSnapshot.from_rows`` picks the latest week before
the one being reported, so refreshing twice on one status date still compares with last week.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from wbs_tools.core.dates import parse_date
from wbs_tools.core.frozen import copied_by_fields
from wbs_tools.core.gcpause import without_collector
from wbs_tools.core.status.progress import DayCounter, PlanFacts

#: Columns of the snapshot table, in order.
SNAPSHOT_COLUMNS = ("status_date", "kind", "key", "name", "start", "finish", "baseline_finish", "critical", "value")


class TaskMark(NamedTuple):
    """One leaf task as it stood at a report: a named tuple, made at C speed for each of a million
    tasks when the snapshot is taken and when last week's is read back."""

    name: str
    start: dt.datetime | None
    finish: dt.datetime | None
    critical: bool
    baseline_finish: dt.datetime | None = None


SheetValue = str | int | float | bool | dt.datetime | None  # what a snapshot row holds: cell values


@dataclass(frozen=True)
class IssueMark:
    """One open issue as it stood at a report."""

    what: str
    severity: str


@dataclass(frozen=True)
class StatusSnapshot:
    """What one report stores for the next: see the module notes."""

    status_date: dt.datetime
    project_name: str = ""
    project_start: dt.datetime | None = None
    project_finish: dt.datetime | None = None
    baseline_finish: dt.datetime | None = None
    percent_complete: float | None = None
    tasks: Mapping[int, TaskMark] = field(default_factory=dict)
    open_issues: Mapping[str, IssueMark] = field(default_factory=dict)

    def to_rows(self) -> list[dict[str, object]]:
        """The snapshot as rows keyed by ``SNAPSHOT_COLUMNS``: one project row, then tasks, then issues."""
        return [dict(zip(SNAPSHOT_COLUMNS, row, strict=True)) for row in self.table_rows()]

    @property
    def row_count(self) -> int:
        return 1 + len(self.tasks) + len(self.open_issues)

    def table_rows(self) -> Iterator[tuple[SheetValue, ...]]:
        """:meth:`to_rows` as tuples in ``SNAPSHOT_COLUMNS`` order, made as they are read (a million
        tasks are a million rows, which a sheet takes one at a time), each value as a sheet holds it:
        an empty text is no value."""
        when = self.status_date
        yield (when, "project", None, self.project_name or None, self.project_start, self.project_finish,
               self.baseline_finish, None, self.percent_complete)
        for tid, m in self.tasks.items():
            yield when, "task", tid, m.name or None, m.start, m.finish, m.baseline_finish, m.critical, None
        for iid, issue in self.open_issues.items():
            yield when, "issue", iid or None, issue.what or None, None, None, None, None, issue.severity or None

    @classmethod
    @without_collector
    def from_rows(cls, rows: Iterable[Mapping[str, object]], *, before: dt.datetime | None = None
                  ) -> StatusSnapshot | None:
        """The latest snapshot in ``rows`` (strictly before ``before`` when given), or None.

        Values are read the way a workbook returns them: task IDs as 12.0, flags as TRUE, dates as
        datetimes or text. Unreadable rows are skipped: the history is advisory.
        """
        weeks: dict[dt.datetime, list[Mapping[str, object]]] = {}
        for row in rows:
            when = _instant(row.get("status_date"))
            if when is not None and (before is None or when < before):
                weeks.setdefault(when, []).append(row)
        if not weeks:
            return None
        when = max(weeks)
        project: Mapping[str, object] = {}
        tasks: dict[int, TaskMark] = {}
        issues: dict[str, IssueMark] = {}
        for row in weeks[when]:
            kind = row.get("kind")
            if kind != "task":  # as stored; anything else as a user may have typed it
                kind = text(kind).casefold()
            if kind == "project":
                project = row
            elif kind == "task" and (tid := _task_id(row.get("key"))) is not None:
                tasks[tid] = TaskMark(text(row.get("name")), _instant(row.get("start")), _instant(row.get("finish")),
                                      _flag(row.get("critical")), _instant(row.get("baseline_finish")))
            elif kind == "issue" and text(row.get("key")):
                issues[text(row.get("key"))] = IssueMark(text(row.get("name")), text(row.get("value")))
        return cls(when, text(project.get("name")), _instant(project.get("start")), _instant(project.get("finish")),
                   _instant(project.get("baseline_finish")), _number(project.get("value")), tasks, issues)


def text(value: object) -> str:
    """A stored cell as text; 12.0 reads as "12" (a workbook keeps every number as a float)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return " ".join(str(value).split())


def _instant(value: object) -> dt.datetime | None:
    """A stored date and time: a datetime, an ISO text, or an Excel serial number."""
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time())
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value.strip())
        except ValueError:
            pass
    if not text(value) or isinstance(value, bool):
        return None
    try:
        return parse_date(value, day_first=None, default_minute=0)  # type: ignore[arg-type]
    except (ValueError, OverflowError, TypeError):
        return None


def _task_id(value: object) -> int | None:
    if value.__class__ is float and value.is_integer():  # type: ignore[attr-defined]  # as stored
        return int(value)  # type: ignore[call-overload]
    try:
        number = float(text(value))
    except ValueError:
        return None
    return int(number) if math.isfinite(number) and number.is_integer() else None


def _flag(value: object) -> bool:
    if isinstance(value, bool):
        return value
    return text(value).casefold() in ("true", "1", "yes", "y", "x")


def _number(value: object) -> float | None:
    try:
        number = float(text(value).rstrip("%"))
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def take_snapshot(facts: PlanFacts, status: dt.datetime, percent_complete: float | None,
                  open_issues: Mapping[str, IssueMark]) -> StatusSnapshot:
    """The snapshot of the plan as reported at ``status``."""
    sched = facts.schedule
    tasks = {ts.id: TaskMark(ts.name, ts.start, ts.finish, ts.critical,
                             t.baselines[0].finish if 0 in t.baselines else None)
             for t, ts in facts.leaves()}
    return StatusSnapshot(status, sched.plan.settings.project_name, sched.project_start, sched.project_finish,
                          facts.baseline_finish, percent_complete, tasks, dict(open_issues))


@dataclass(frozen=True)
class TaskMove:
    """A leaf task whose dates moved between two reports (positive days = later)."""

    id: int
    outline_number: str
    name: str
    start_before: dt.datetime | None
    start_after: dt.datetime | None
    finish_before: dt.datetime | None
    finish_after: dt.datetime | None
    start_days: float
    finish_days: float
    critical: bool
    own_days: float = 0.0  # the part of the finish slip that started at this task
    cause: str = ""  # e.g. "took 2 working days longer"

    @property
    def label(self) -> str:
        return f"{self.outline_number} {self.name}".strip()

    @property
    def milestone(self) -> bool:
        """Zero-length: a milestone (the snapshot keeps dates, not task types)."""
        return self.start_after is not None and self.start_after == self.finish_after


@dataclass(frozen=True)
class IssueRef:
    id: str
    what: str
    severity: str


@dataclass(frozen=True)
class TaskRef:
    id: int
    label: str


@dataclass(frozen=True)
class SnapshotDiff:
    """What changed between two reports."""

    previous_date: dt.datetime
    current_date: dt.datetime
    finish_before: dt.datetime | None
    finish_after: dt.datetime | None
    finish_days: float | None
    moves: tuple[TaskMove, ...]
    new_issues: tuple[IssueRef, ...]
    closed_issues: tuple[IssueRef, ...]
    critical_added: tuple[TaskRef, ...]
    critical_removed: tuple[TaskRef, ...]
    added_tasks: tuple[TaskRef, ...] = ()
    removed_tasks: tuple[TaskRef, ...] = ()

    @property
    def slips(self) -> tuple[TaskMove, ...]:
        """Moves that finish later."""
        return tuple(m for m in self.moves if m.finish_days > 0)

    @property
    def origins(self) -> tuple[TaskMove, ...]:
        """Moves that started a slip rather than inheriting it, biggest first."""
        return tuple(sorted((m for m in self.moves if m.own_days > 0), key=lambda m: -m.own_days))


def diff_snapshots(previous: StatusSnapshot, current: StatusSnapshot, days: DayCounter,
                   outline: Mapping[int, str] | None = None,
                   calendars: Mapping[int, str | None] | None = None) -> SnapshotDiff:
    """Task moves, new and closed issues, critical-path changes, added and removed tasks.

    A task's move is counted in working days of its own calendar (``calendars`` by task ID), the
    project finish on the default calendar. A task that finished drops off the critical path by
    definition, so it is not reported as leaving it.
    """
    outline = outline or {}
    calendars = calendars or {}
    moves = []
    for tid, now in current.tasks.items():
        was = previous.tasks.get(tid)
        if was is None:
            continue
        cal = calendars.get(tid)
        start = days.between(was.start, now.start, cal) if was.start and now.start else 0.0
        finish = days.between(was.finish, now.finish, cal) if was.finish and now.finish else 0.0
        if start or finish:
            moves.append(TaskMove(tid, outline.get(tid, ""), now.name, was.start, now.start, was.finish, now.finish,
                                  start, finish, now.critical))
    finish_days = None
    if previous.project_finish and current.project_finish:
        finish_days = days.between(previous.project_finish, current.project_finish)

    def refs(ids: Iterable[int], marks: Mapping[int, TaskMark]) -> tuple[TaskRef, ...]:
        return tuple(TaskRef(i, f"{outline.get(i, '')} {marks[i].name}".strip()) for i in ids)

    finished = {i for i, m in current.tasks.items() if m.finish is not None and m.finish <= current.status_date}
    was_critical = {i for i, m in previous.tasks.items() if m.critical and i not in finished}
    now_critical = {i for i, m in current.tasks.items() if m.critical}
    order = list(current.tasks)
    became_critical = now_critical - was_critical  # once, not per task
    return SnapshotDiff(
        previous.status_date, current.status_date, previous.project_finish, current.project_finish, finish_days,
        tuple(moves),
        tuple(IssueRef(i, m.what, m.severity) for i, m in current.open_issues.items() if i not in previous.open_issues),
        tuple(IssueRef(i, m.what, m.severity) for i, m in previous.open_issues.items() if i not in current.open_issues),
        refs([i for i in order if i in became_critical and i in previous.tasks], current.tasks),
        refs(sorted(was_critical - now_critical, key=lambda i: (i not in current.tasks, i)),
             {**previous.tasks, **current.tasks}),
        refs([i for i in order if i not in previous.tasks], current.tasks),
        refs(sorted(set(previous.tasks) - set(current.tasks)), previous.tasks),
    )


copied_by_fields(__name__)

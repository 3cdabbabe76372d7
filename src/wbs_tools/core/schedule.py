"""What the scheduler returns: dates, slack and the reason for each task's position."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import Enum
from itertools import repeat
from operator import gt, itemgetter
from typing import Any, NamedTuple, TypeVar, overload

from wbs_tools.core.findings import Finding
from wbs_tools.core.gcpause import collector_paused
from wbs_tools.core.model import Link, Plan


class DriverKind(str, Enum):
    """Why a task starts when it does (answers "why did it move?")."""

    PROJECT_START = "project start"
    LINK = "predecessor link"
    CONSTRAINT = "constraint"
    ACTUAL = "actual start"
    STATUS_DATE = "status date"
    MANUAL = "manually scheduled"
    SUMMARY = "summary roll-up"


class Driver(NamedTuple):
    """Immutable: a tuple, so hundreds of thousands are built in C (``tuple.__new__``) by the scheduler."""

    kind: DriverKind
    link: Link | None = None
    date: dt.datetime | None = None

    def describe(self) -> str:
        if self.kind is DriverKind.LINK and self.link is not None:
            lag = "" if self.link.lag.is_zero else " with lag"
            return f"driven by task {self.link.predecessor} ({self.link.type.value}{lag})"
        if self.date is not None:
            return f"{self.kind.value} {self.date:%Y-%m-%d %H:%M}"
        return self.kind.value


class TaskSchedule(NamedTuple):
    """The computed side of one task. Slack is in working minutes on the task's calendar.

    An immutable record (a named tuple): the scheduler builds one per task from its result columns in C.
    """

    id: int
    uid: int
    name: str
    outline_level: int
    outline_number: str
    summary: bool
    milestone: bool
    parent_id: int | None
    start: dt.datetime | None = None
    finish: dt.datetime | None = None
    early_start: dt.datetime | None = None
    early_finish: dt.datetime | None = None
    late_start: dt.datetime | None = None
    late_finish: dt.datetime | None = None
    duration_minutes: float = 0.0
    total_slack_minutes: float = 0.0
    free_slack_minutes: float = 0.0
    critical: bool = False
    percent_complete: float = 0.0
    in_cycle: bool = False
    driver: Driver | None = None


class LinkSchedule(NamedTuple):
    """A link the engine used, with whether it drives its successor and how much slack it has."""

    link: Link
    driving: bool
    slack_minutes: float


_R = TypeVar("_R", bound=tuple)  # type: ignore[type-arg]


def records(kind: type[_R], rows: Iterable[tuple[Any, ...]]) -> list[_R]:
    """``[kind(*row) for row in rows]`` for a named tuple, in C: no Python call per record, which is
    most of what building a million of them costs."""
    return list(map(tuple.__new__, repeat(kind), rows))  # type: ignore[arg-type]


Column = list[Any] | Callable[[], list[Any]]  # a column, or how to compute it when first read


class RecordTable(Sequence[_R]):
    """Records of one named-tuple kind, kept as columns: a column is computed when first read and the
    records are built (in C) when first used.

    Readers of a few fields (the workbook writer, DataFrames) take ``column(name)`` and never pay for
    records; a million records cost more than the scheduling arithmetic, mostly in memory traffic. As
    a sequence it behaves like the list of records (and pickles as one).
    """

    __slots__ = ("_columns", "_kind", "_length", "_records")

    def __init__(self, kind: type[_R], length: int, columns: dict[str, Column]) -> None:
        fields: tuple[str, ...] = kind._fields  # type: ignore[attr-defined]
        if set(columns) != set(fields):
            raise ValueError(f"columns {sorted(columns)} do not match {kind.__name__}'s fields")
        self._kind, self._length, self._columns = kind, length, columns
        self._records: list[_R] | None = None

    def column(self, name: str) -> list[Any]:
        """One field of every record, in order (do not modify)."""
        value = self._columns.get(name)
        if value is None:  # the records are built and the columns let go: read it off the records
            fields: tuple[str, ...] = self._kind._fields  # type: ignore[attr-defined]
            value = self._columns[name] = list(map(itemgetter(fields.index(name)), self._all()))
        elif callable(value):
            with collector_paused():  # a column is many objects and no cycles
                value = self._columns[name] = value()
        return value

    def _all(self) -> list[_R]:
        if self._records is None:
            fields: tuple[str, ...] = self._kind._fields  # type: ignore[attr-defined]
            with collector_paused():
                self._records = records(self._kind, zip(*map(self.column, fields), strict=True))
            self._columns = {}  # the records hold the same values: a million-row table keeps one copy
        return self._records

    def __len__(self) -> int:
        return self._length

    @overload
    def __getitem__(self, index: int) -> _R: ...
    @overload
    def __getitem__(self, index: slice) -> list[_R]: ...
    def __getitem__(self, index: int | slice) -> _R | list[_R]:
        return self._all()[index]

    def __iter__(self) -> Iterator[_R]:
        return iter(self._all())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, RecordTable):
            other = other._all()
        return self._all() == other if isinstance(other, list) else NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._kind.__name__}, {self._length} records)"

    def __reduce__(self) -> tuple[type[list[_R]], tuple[list[_R]]]:
        return list, (self._all(),)


def fields_of(rows: Sequence[_R], names: Sequence[str]) -> Iterator[tuple[Any, ...]]:
    """The named fields of every record, record by record: read off the records when they are built
    (one pass in C), otherwise zipped from a RecordTable's columns, so no record is built for it."""
    if isinstance(rows, RecordTable) and rows._records is None:
        return zip(*map(rows.column, names), strict=True)
    if not rows:
        return iter(())
    fields: tuple[str, ...] = type(rows[0])._fields  # type: ignore[attr-defined]
    picked = itemgetter(*map(fields.index, names))
    return map(picked, rows) if len(names) > 1 else zip(map(picked, rows))  # type: ignore[arg-type]


def column_of(rows: Sequence[_R], name: str) -> list[Any]:
    """One field of every record, from a RecordTable's column or, for a plain list, record by record."""
    if isinstance(rows, RecordTable):
        return rows.column(name)
    return [getattr(row, name) for row in rows]


@dataclass
class Schedule:
    plan: Plan
    tasks: Sequence[TaskSchedule]  # same order as plan.tasks; from the scheduler, a RecordTable
    links: Sequence[LinkSchedule]
    findings: list[Finding] = field(default_factory=list)
    project_start: dt.datetime | None = None
    project_finish: dt.datetime | None = None

    def by_id(self) -> dict[int, TaskSchedule]:
        return {t.id: t for t in self.tasks}

    @property
    def critical_tasks(self) -> list[TaskSchedule]:
        return [t for t in self.tasks if t.critical and not t.summary]

    def leaf_count(self) -> int:
        """How many tasks are not summaries (read from the columns: no records are built)."""
        return column_of(self.tasks, "summary").count(False)

    def critical_count(self) -> int:
        """How many tasks that are not summaries are critical."""
        return sum(map(gt, column_of(self.tasks, "critical"), column_of(self.tasks, "summary")))

"""What the scheduler returns: dates, slack and the reason for each task's position."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import Enum

from wbs_tools.core.findings import Finding
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


@dataclass(frozen=True, slots=True)
class Driver:
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


@dataclass(slots=True)
class TaskSchedule:
    """The computed side of one task. Slack is in working minutes on the task's calendar."""

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


@dataclass(slots=True)
class LinkSchedule:
    """A link the engine used, with whether it drives its successor and how much slack it has."""

    link: Link
    driving: bool
    slack_minutes: float


@dataclass
class Schedule:
    plan: Plan
    tasks: list[TaskSchedule]  # same order as plan.tasks
    links: list[LinkSchedule]
    findings: list[Finding] = field(default_factory=list)
    project_start: dt.datetime | None = None
    project_finish: dt.datetime | None = None

    def by_id(self) -> dict[int, TaskSchedule]:
        return {t.id: t for t in self.tasks}

    @property
    def critical_tasks(self) -> list[TaskSchedule]:
        return [t for t in self.tasks if t.critical and not t.summary]

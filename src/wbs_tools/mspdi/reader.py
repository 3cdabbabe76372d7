"""Read a Microsoft Project XML (MSPDI) file into the neutral plan model.

Only what a person enters is read: settings, calendars, the outline, durations, links, constraints,
progress, baselines and costs. Values Microsoft Project computes (Start, Finish, early/late dates,
slack, Critical) are ignored, except the dates of manually scheduled tasks, which *are* input. A value
that cannot be read becomes a :class:`~wbs_tools.core.findings.Finding` pointing at its XML element;
a file that is not MSPDI at all raises :class:`MspdiError`.

Calendars are read by :mod:`wbs_tools.mspdi.calendars`, tasks' fields by :mod:`wbs_tools.mspdi.task_fields`;
the document is vetted first by :mod:`wbs_tools.mspdi.document`.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from typing import TypeVar

from lxml import etree

from wbs_tools.core.findings import Finding, Severity, make_finding
from wbs_tools.core.model import (
    Link,
    Plan,
    Settings,
    Task,
)
from wbs_tools.mspdi.calendars import YEARS_AFTER, YEARS_BEFORE, CalendarReading, Horizon
from wbs_tools.mspdi.document import MAX_BYTES, MspdiError, child_elements, field_flag, field_text, parse_document
from wbs_tools.mspdi.task_fields import TASK_FIELDS, TaskFields
from wbs_tools.mspdi.values import (
    LINK_TYPE_BY_CODE,
    ValueFormatError,
    lag_from_xml,
    parse_bool,
    parse_datetime,
    parse_float,
    parse_format,
    parse_int,
    parse_time_minutes,
)

__all__ = ["MAX_BYTES", "MspdiError", "parse_document", "read_mspdi"]


_T = TypeVar("_T")


def read_mspdi(source: str | os.PathLike[str] | bytes) -> tuple[Plan, list[Finding]]:
    """Read an MSPDI document (a path, or its bytes) into a plan and the findings about it."""
    return ProjectReader(parse_document(source).getroot()).read()


class ProjectReader(CalendarReading):
    """One pass over a parsed document; collects findings as it goes."""

    def __init__(self, root: etree._Element) -> None:
        self.root = root
        self.prefix = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""
        self.findings: list[Finding] = []
        self.project = child_elements(root)
        self.task_tags = tuple(self.q(name) for name in TASK_FIELDS)
        self.settings = Settings()
        self.default_unit = "d"
        self.horizon = Horizon(dt.date(1984, 1, 1), dt.date(2149, 12, 31))
        self.week_start = 0
        self.project_calendar_uid: int | None = None
        self.calendar_names: dict[int, str] = {}
        self.uid_to_id: dict[int, int] = {}
        self.external_uids: set[int] = set()

    def q(self, name: str) -> str:
        return self.prefix + name

    def read(self) -> tuple[Plan, list[Finding]]:
        self._read_settings()
        calendars = self._read_calendars()
        tasks, link_sources = self._read_tasks()
        links = self._read_links(link_sources)
        plan = Plan(settings=self.settings, tasks=tasks, links=links, calendars=calendars)
        return plan, self.findings

    # -- findings and typed field access

    def _warn_setting(self, name: str, text: str) -> None:
        self.findings.append(
            make_finding(
                "settings.bad-value",
                f"The project setting {name} ({text!r}) could not be read; its default was used.",
                field=name,
                location=f"Project <{name}>",
            )
        )

    def _setting(self, name: str, parse: Callable[[str], _T], default: _T) -> _T:
        text = field_text(self.project, name)
        if text is None:
            return default
        try:
            return parse(text)
        except ValueFormatError:
            self._warn_setting(name, text)
            return default

    # -- settings

    def _read_settings(self) -> None:
        s = self.settings
        s.project_name = field_text(self.project, "Title") or field_text(self.project, "Name") or ""
        s.start = self._setting("StartDate", parse_datetime, None)
        s.status_date = self._setting("StatusDate", parse_datetime, None)
        s.minutes_per_day = self._setting("MinutesPerDay", parse_int, s.minutes_per_day) or 480
        s.minutes_per_week = self._setting("MinutesPerWeek", parse_int, s.minutes_per_week) or 2400
        s.days_per_month = self._setting("DaysPerMonth", parse_int, s.days_per_month) or 20
        s.honor_constraints = self._setting("HonorConstraints", parse_bool, s.honor_constraints)
        s.multiple_critical_paths = self._setting("MultipleCriticalPaths", parse_bool, False)
        s.critical_slack_minutes = self._setting("CriticalSlackLimit", parse_float, 0.0) * s.minutes_per_day
        s.default_start_minute = self._setting("DefaultStartTime", parse_time_minutes, s.default_start_minute)
        s.default_finish_minute = self._setting(
            "DefaultFinishTime", lambda t: parse_time_minutes(t, end=True), s.default_finish_minute
        )
        s.reschedule_after_status_date = self._setting("MoveRemainingStartsForward", parse_bool, False)
        s.currency = field_text(self.project, "CurrencySymbol") or ""
        self.default_unit = parse_format(self._setting("DurationFormat", parse_int, None)).unit
        self.week_start = self._setting("WeekStartDay", parse_int, 0) % 7
        self.project_calendar_uid = self._setting("CalendarUID", parse_int, None)
        if not self._setting("ScheduleFromStart", parse_bool, True):
            self.findings.append(
                make_finding(
                    "settings.bad-value",
                    "The project is scheduled from its finish date; wbs_tools schedules from the start.",
                    field="ScheduleFromStart",
                    location="Project <ScheduleFromStart>",
                    severity=Severity.WARNING,
                )
            )
        anchor = (s.start or dt.datetime.now()).date()
        self.horizon = Horizon(
            dt.date(max(anchor.year - YEARS_BEFORE, 1), 1, 1), dt.date(min(anchor.year + YEARS_AFTER, 9999), 12, 31)
        )

    # -- tasks

    def _read_tasks(self) -> tuple[list[Task], list[tuple[Task, list[etree._Element]]]]:
        container = self.project.get("Tasks")
        tasks: list[Task] = []
        link_sources: list[tuple[Task, list[etree._Element]]] = []
        for element in container.iterfind(self.q("Task")) if container is not None else ():
            fields = child_elements(element, self.task_tags)
            task = self._read_task(fields)
            if task is not None:
                tasks.append(task)
                link_sources.append((task, list(element.iterfind(self.q("PredecessorLink")))))
        self._check_ids(tasks)
        self.uid_to_id = {t.uid: t.id for t in tasks if t.uid is not None}
        return tasks, link_sources

    def _skip(self, fields: dict[str, etree._Element], uid: int) -> bool:
        """The project summary task (UID 0 / outline level 0), null rows and external tasks are not
        plan rows."""
        if uid == 0 or field_text(fields, "OutlineLevel") == "0":
            return True
        if field_flag(fields, "IsNull", False):
            return True
        if field_flag(fields, "ExternalTask", False):
            self.external_uids.add(uid)
            return True
        return False

    def _read_task(self, fields: dict[str, etree._Element]) -> Task | None:
        try:
            uid = parse_int(field_text(fields, "UID") or "")
        except ValueFormatError:
            return None
        if self._skip(fields, uid):
            return None
        field_reader = TaskFields(self, fields, uid)
        return field_reader.build()

    def _check_ids(self, tasks: list[Task]) -> None:
        """IDs are row numbers people type in predecessor cells; missing or repeated ones make links
        ambiguous, so the rows are renumbered in file order (links are kept through UIDs)."""
        seen: set[int] = set()
        problem: str | None = None
        for task in tasks:
            if task.id <= 0:
                problem = "task.no-id"
            elif task.id in seen:
                problem = problem or "task.duplicate-id"
            seen.add(task.id)
        if problem is None:
            return
        for number, task in enumerate(tasks, start=1):
            task.id = number
        self.findings.append(
            make_finding(
                problem,
                "Some tasks have no ID or share one; all tasks were renumbered in file order.",
                field="id",
                location="Tasks",
                severity=Severity.WARNING,
            )
        )

    # -- links

    def _read_links(self, sources: list[tuple[Task, list[etree._Element]]]) -> list[Link]:
        links: list[Link] = []
        for task, elements in sources:
            for element in elements:
                link = self._read_link(task, child_elements(element))
                if link is not None:
                    links.append(link)
        return links

    def _link_finding(self, task: Task, message: str, *, severity: Severity | None = None) -> None:
        self.findings.append(
            make_finding(
                "link.unknown-task",
                message,
                task_id=task.id,
                field="predecessors",
                location=f"Task UID {task.uid} <PredecessorLink>",
                severity=severity,
            )
        )

    def _read_link(self, task: Task, fields: dict[str, etree._Element]) -> Link | None:
        location = f"Task UID {task.uid} <PredecessorLink>"
        pred_text = field_text(fields, "PredecessorUID")
        if pred_text is None:
            return None
        if field_flag(fields, "CrossProject", False):
            name = field_text(fields, "CrossProjectName") or "another project"
            self._link_finding(
                task,
                f"Task {task.id} depends on a task in {name}; links across projects are ignored.",
                severity=Severity.WARNING,
            )
            return None
        try:
            pred_uid = parse_int(pred_text)
            type_code = parse_int(field_text(fields, "Type") or "1")
            lag_format_text = field_text(fields, "LagFormat")
            lag = lag_from_xml(
                parse_int(field_text(fields, "LinkLag") or "0"),
                parse_int(lag_format_text) if lag_format_text is not None else None,
            )
        except ValueFormatError as exc:
            self.findings.append(
                make_finding(
                    "link.bad-syntax",
                    f"A predecessor link of task {task.id} could not be read ({exc}); it was ignored.",
                    task_id=task.id,
                    field="predecessors",
                    location=location,
                )
            )
            return None
        link_type = LINK_TYPE_BY_CODE.get(type_code)
        if link_type is None:
            self.findings.append(
                make_finding(
                    "link.bad-syntax",
                    f"A predecessor link of task {task.id} has unknown type {type_code}; it was ignored.",
                    task_id=task.id,
                    field="predecessors",
                    location=location,
                )
            )
            return None
        if pred_uid in self.external_uids:
            self._link_finding(
                task,
                f"Task {task.id} depends on an external task (UID {pred_uid}); the link is ignored.",
                severity=Severity.WARNING,
            )
            return None
        if pred_uid not in self.uid_to_id:
            self._link_finding(
                task,
                f"Task {task.id} names a predecessor with UID {pred_uid}, which is not in the file; "
                "the link was ignored.",
            )
            return None
        return Link(predecessor=self.uid_to_id[pred_uid], successor=task.id, type=link_type, lag=lag, origin=location)

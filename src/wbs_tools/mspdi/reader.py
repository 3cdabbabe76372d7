"""Read a Microsoft Project XML (MSPDI) file into the neutral plan model.

Only what a person enters is read: settings, calendars, the outline, durations, links, constraints,
progress, baselines and costs. Values Microsoft Project computes (Start, Finish, early/late dates,
slack, Critical) are ignored, except the dates of manually scheduled tasks, which *are* input. A value
that cannot be read becomes a :class:`~wbs_tools.core.findings.Finding` pointing at its XML element;
a file that is not MSPDI at all raises :class:`MspdiError`.

Calendars are flattened into the model's shape, a working week plus dated exceptions: a derived
calendar takes its base calendar's week and exceptions and overlays its own, recurring exceptions are
expanded into the dates they fall on, and alternate work weeks become dated exceptions on the days
where they differ from the default week.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from lxml import etree

from wbs_tools.core.findings import Finding, Severity, make_finding
from wbs_tools.core.model import (
    STANDARD_DAY,
    CalendarSpec,
    Link,
    Plan,
    Settings,
    Task,
    WorkingTime,
)
from wbs_tools.mspdi.document import MAX_BYTES, MspdiError, child_elements, field_text, parse_document
from wbs_tools.mspdi.recurrence import Recurrence, dates_between, recurrence_dates
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
    python_weekday,
)

__all__ = ["MAX_BYTES", "MspdiError", "parse_document", "read_mspdi"]

#: Recurring exceptions and alternate work weeks are expanded this many years around the project start.
YEARS_BEFORE, YEARS_AFTER = 10, 30

_T = TypeVar("_T")
_Times = tuple[WorkingTime, ...]
_STANDARD_WEEK: dict[int, _Times] = {d: (STANDARD_DAY if d < 5 else ()) for d in range(7)}


def read_mspdi(source: str | os.PathLike[str] | bytes) -> tuple[Plan, list[Finding]]:
    """Read an MSPDI document (a path, or its bytes) into a plan and the findings about it."""
    return ProjectReader(parse_document(source).getroot()).read()


# --- calendars ------------------------------------------------------------------------------------


@dataclass
class _WorkWeek:
    start: dt.date
    finish: dt.date
    days: dict[int, _Times | None]


@dataclass
class _RawCalendar:
    """A calendar as the file states it, before inheritance from its base is applied."""

    uid: int
    name: str
    is_base: bool
    base_uid: int | None
    week: dict[int, _Times | None] = field(default_factory=dict)  # None: "use the base calendar"
    exceptions: dict[dt.date, _Times] = field(default_factory=dict)
    work_weeks: list[_WorkWeek] = field(default_factory=list)


@dataclass
class _Resolved:
    week: dict[int, _Times]
    exceptions: dict[dt.date, _Times]


@dataclass(frozen=True)
class _Horizon:
    """The span of dates recurring exceptions and work weeks are expanded over."""

    first: dt.date
    last: dt.date

    def clamp(self, start: dt.date, finish: dt.date) -> tuple[dt.date, dt.date]:
        return max(start, self.first), min(finish, self.last)


class ProjectReader:
    """One pass over a parsed document; collects findings as it goes."""

    def __init__(self, root: etree._Element) -> None:
        self.root = root
        self.prefix = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""
        self.findings: list[Finding] = []
        self.project = child_elements(root)
        self.task_tags = tuple(self.q(name) for name in TASK_FIELDS)
        self.settings = Settings()
        self.default_unit = "d"
        self.horizon = _Horizon(dt.date(1984, 1, 1), dt.date(2149, 12, 31))
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
        self.horizon = _Horizon(
            dt.date(max(anchor.year - YEARS_BEFORE, 1), 1, 1), dt.date(min(anchor.year + YEARS_AFTER, 9999), 12, 31)
        )

    # -- calendars

    def _read_calendars(self) -> dict[str, CalendarSpec]:
        raw: dict[int, _RawCalendar] = {}
        container = self.project.get("Calendars")
        for element in container.iterfind(self.q("Calendar")) if container is not None else ():
            cal = self._read_calendar(element)
            if cal is not None and cal.uid not in raw:
                raw[cal.uid] = cal
        wanted = self._wanted_calendars(raw)
        self.calendar_names = self._unique_names(raw, wanted)
        resolved: dict[int, _Resolved] = {}
        specs: dict[str, CalendarSpec] = {}
        for uid in wanted:
            res = self._resolve(uid, raw, resolved, ())
            specs[self.calendar_names[uid]] = CalendarSpec(
                name=self.calendar_names[uid],
                week={d: t for d, t in sorted(res.week.items()) if t},
                exceptions=dict(sorted(res.exceptions.items())),
                uid=uid,
            )
        self._choose_project_calendar(raw, specs)
        return specs or {"Standard": CalendarSpec()}

    def _choose_project_calendar(self, raw: dict[int, _RawCalendar], specs: dict[str, CalendarSpec]) -> None:
        uid = self.project_calendar_uid
        if uid is not None and uid in self.calendar_names:
            self.settings.calendar = self.calendar_names[uid]
            return
        if uid is not None:
            self.findings.append(
                make_finding(
                    "settings.bad-value",
                    f"The project calendar (UID {uid}) is not among the file's calendars; "
                    "the first base calendar was used.",
                    field="CalendarUID",
                    location="Project <CalendarUID>",
                )
            )
        bases = [self.calendar_names[u] for u, c in raw.items() if c.is_base and u in self.calendar_names]
        self.settings.calendar = bases[0] if bases else next(iter(specs), "Standard")

    def _wanted_calendars(self, raw: dict[int, _RawCalendar]) -> list[int]:
        """Base calendars, the project calendar and task calendars (resource calendars are dropped:
        the plan model has no resources), plus the bases those derive from."""
        wanted = {uid for uid, cal in raw.items() if cal.is_base}
        if self.project_calendar_uid is not None:
            wanted.add(self.project_calendar_uid)
        tasks = self.project.get("Tasks")
        for element in tasks.iterfind(f"{self.q('Task')}/{self.q('CalendarUID')}") if tasks is not None else ():
            try:
                wanted.add(parse_int(element.text or ""))
            except ValueFormatError:
                continue
        closure: set[int] = set()
        for uid in wanted:
            while uid in raw and uid not in closure:
                closure.add(uid)
                uid = raw[uid].base_uid if raw[uid].base_uid is not None else -1
        return [uid for uid in raw if uid in closure]

    @staticmethod
    def _unique_names(raw: dict[int, _RawCalendar], wanted: list[int]) -> dict[int, str]:
        counts: dict[str, int] = {}
        for uid in wanted:
            counts[raw[uid].name] = counts.get(raw[uid].name, 0) + 1
        return {uid: raw[uid].name if counts[raw[uid].name] == 1 else f"{raw[uid].name} ({uid})" for uid in wanted}

    def _read_calendar(self, element: etree._Element) -> _RawCalendar | None:
        fields = child_elements(element)
        try:
            uid = parse_int(field_text(fields, "UID") or "")
        except ValueFormatError:
            return None
        base_text = field_text(fields, "BaseCalendarUID")
        base_uid = parse_int(base_text) if base_text and base_text.lstrip("-").isdigit() else None
        is_base = ProjectReader._flag(fields, "IsBaseCalendar", base_uid in (None, -1))
        cal = _RawCalendar(
            uid=uid,
            name=field_text(fields, "Name") or f"Calendar {uid}",
            is_base=is_base,
            base_uid=None if is_base or base_uid == -1 else base_uid,
        )
        self._read_week_days(fields.get("WeekDays"), cal)
        self._read_exceptions(fields.get("Exceptions"), cal)
        self._read_work_weeks(fields.get("WorkWeeks"), cal)
        return cal

    def _working_times(self, day_fields: dict[str, etree._Element]) -> _Times | None:
        """The day's periods: ``()`` when non-working, None when the day defers to its default."""
        working = field_text(day_fields, "DayWorking")
        if working is None:
            return None
        if not parse_bool(working):
            return ()
        periods: list[WorkingTime] = []
        container = day_fields.get("WorkingTimes")
        for wt in container.iterfind(self.q("WorkingTime")) if container is not None else ():
            wt_fields = child_elements(wt)
            start_text, end_text = field_text(wt_fields, "FromTime"), field_text(wt_fields, "ToTime")
            if start_text is None or end_text is None:
                continue
            start = parse_time_minutes(start_text)
            end = parse_time_minutes(end_text, end=True)
            if end <= start:
                end = 1440
            periods.append(WorkingTime(start, end))
        return tuple(sorted(periods, key=lambda p: p.start)) or None

    def _read_week_days(self, container: etree._Element | None, cal: _RawCalendar) -> None:
        """Default week (``DayType`` 1..7) and, in files older than Project 2007, dated exceptions
        (``DayType`` 0 with a ``TimePeriod``)."""
        for element in container.iterfind(self.q("WeekDay")) if container is not None else ():
            fields = child_elements(element)
            try:
                kind = parse_int(field_text(fields, "DayType") or "")
                times = self._working_times(fields)
            except ValueFormatError:
                continue
            if 1 <= kind <= 7:
                cal.week[python_weekday(kind)] = times
            elif kind == 0:
                self._read_day_exception(fields, times, cal)

    def _read_day_exception(self, fields: dict[str, etree._Element], times: _Times | None, cal: _RawCalendar) -> None:
        span = self._time_period(fields.get("TimePeriod"))
        if span is None:
            return
        start, finish = self.horizon.clamp(*span)
        for day in dates_between(start, finish):
            cal.exceptions.setdefault(day, times if times is not None else ())

    def _time_period(self, element: etree._Element | None) -> tuple[dt.date, dt.date] | None:
        if element is None:
            return None
        fields = child_elements(element)
        try:
            start = parse_datetime(field_text(fields, "FromDate") or "").date()
            finish = parse_datetime(field_text(fields, "ToDate") or "").date()
        except ValueFormatError:
            return None
        return (start, finish) if finish >= start else None

    def _read_exceptions(self, container: etree._Element | None, cal: _RawCalendar) -> None:
        """Project 2007+ exceptions; when present they restate the old ``DayType`` 0 entries, so
        they replace them."""
        if container is None:
            return
        dated: dict[dt.date, _Times] = {}
        for element in container.iterfind(self.q("Exception")):
            fields = child_elements(element)
            span = self._time_period(fields.get("TimePeriod"))
            if span is None:
                continue
            try:
                times = self._working_times(fields)
                rec = self._recurrence(fields)
            except ValueFormatError:
                continue
            start, finish = self.horizon.clamp(*span)
            for day in recurrence_dates(rec, start, finish, self.week_start):
                dated[day] = times if times is not None else ()
        cal.exceptions = dated

    @staticmethod
    def _recurrence(fields: dict[str, etree._Element]) -> Recurrence:
        def number(name: str, default: int) -> int:
            text = field_text(fields, name)
            return parse_int(text) if text is not None else default

        by_count = field_text(fields, "EnteredByOccurrences")
        occurrences = number("Occurrences", 0)
        return Recurrence(
            kind=number("Type", 9),
            period=number("Period", 1),
            days_of_week=number("DaysOfWeek", 0),
            month_item=number("MonthItem", 0),
            month_position=number("MonthPosition", 0),
            month=min(max(number("Month", 0), 0), 11),
            month_day=number("MonthDay", 1),
            occurrences=occurrences if by_count is not None and parse_bool(by_count) and occurrences > 0 else None,
        )

    def _read_work_weeks(self, container: etree._Element | None, cal: _RawCalendar) -> None:
        for element in container.iterfind(self.q("WorkWeek")) if container is not None else ():
            fields = child_elements(element)
            span = self._time_period(fields.get("TimePeriod"))
            if span is None:
                continue
            days: dict[int, _Times | None] = {}
            week_days = fields.get("WeekDays")
            for day in week_days.iterfind(self.q("WeekDay")) if week_days is not None else ():
                day_fields = child_elements(day)
                try:
                    kind = parse_int(field_text(day_fields, "DayType") or "")
                    if 1 <= kind <= 7:
                        days[python_weekday(kind)] = self._working_times(day_fields)
                except ValueFormatError:
                    continue
            cal.work_weeks.append(_WorkWeek(*self.horizon.clamp(*span), days=days))

    def _resolve(
        self, uid: int, raw: dict[int, _RawCalendar], done: dict[int, _Resolved], chain: tuple[int, ...]
    ) -> _Resolved:
        """Flatten a calendar: the base's week and exceptions, overlaid by its own work weeks, week
        days and exceptions (a day it leaves to the base keeps the base's value)."""
        if uid in done:
            return done[uid]
        cal = raw[uid]
        base: _Resolved | None = None
        if cal.base_uid is not None and cal.base_uid in raw and cal.base_uid not in chain:
            base = self._resolve(cal.base_uid, raw, done, (*chain, uid))
        fallback = base.week if base is not None else _STANDARD_WEEK
        week: dict[int, _Times] = {}
        for day in range(7):
            own = cal.week.get(day)
            week[day] = own if own is not None else fallback[day]
        exceptions = dict(base.exceptions) if base is not None else {}
        for ww in cal.work_weeks:
            for day in dates_between(ww.start, ww.finish):
                times = ww.days.get(day.weekday())
                if times is not None and times != week[day.weekday()]:
                    exceptions[day] = times
                elif times is not None:
                    exceptions.pop(day, None)
        exceptions.update(cal.exceptions)
        done[uid] = _Resolved(week=week, exceptions=exceptions)
        return done[uid]

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
        if self._flag(fields, "IsNull", False):
            return True
        if self._flag(fields, "ExternalTask", False):
            self.external_uids.add(uid)
            return True
        return False

    @staticmethod
    def _flag(fields: dict[str, etree._Element], name: str, default: bool) -> bool:
        text = field_text(fields, name)
        try:
            return parse_bool(text) if text is not None else default
        except ValueFormatError:
            return default

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
        if self._flag(fields, "CrossProject", False):
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

"""MSPDI calendars flattened into the model's shape: a working week plus dated exceptions.

A derived calendar takes its base calendar's week and exceptions and overlays its own, recurring
exceptions are expanded into the dates they fall on, and alternate work weeks become dated exceptions
on the days where they differ from the default week.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from lxml import etree

from wbs_tools.core.findings import Finding, make_finding
from wbs_tools.core.model import (
    STANDARD_DAY,
    CalendarSpec,
    Settings,
    WorkingTime,
)
from wbs_tools.mspdi.document import child_elements, field_flag, field_text
from wbs_tools.mspdi.recurrence import Recurrence, dates_between, recurrence_dates
from wbs_tools.mspdi.values import (
    ValueFormatError,
    parse_bool,
    parse_datetime,
    parse_int,
    parse_time_minutes,
    python_weekday,
)

#: Recurring exceptions and alternate work weeks are expanded this many years around the project start.
YEARS_BEFORE, YEARS_AFTER = 10, 30

_Times = tuple[WorkingTime, ...]
_STANDARD_WEEK: dict[int, _Times] = {d: (STANDARD_DAY if d < 5 else ()) for d in range(7)}


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
class Horizon:
    """The span of dates recurring exceptions and work weeks are expanded over."""

    first: dt.date
    last: dt.date

    def clamp(self, start: dt.date, finish: dt.date) -> tuple[dt.date, dt.date]:
        return max(start, self.first), min(finish, self.last)


class CalendarReading:
    """The calendar part of ``ProjectReader``: reads ``Project/Calendars`` with the reader's state."""

    project: dict[str, etree._Element]
    settings: Settings
    findings: list[Finding]
    horizon: Horizon
    week_start: int
    project_calendar_uid: int | None
    calendar_names: dict[int, str]

    def q(self, name: str) -> str:
        raise NotImplementedError

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
                base_uid = raw[uid].base_uid
                uid = base_uid if base_uid is not None else -1
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
        base_uid = parse_int(base_text) if base_text and base_text.lstrip("-").isdecimal() else None
        is_base = field_flag(fields, "IsBaseCalendar", base_uid in (None, -1))
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
        for weekday in range(7):
            own = cal.week.get(weekday)
            week[weekday] = own if own is not None else fallback[weekday]
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

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

import calendar as pycalendar
import datetime as dt
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

from lxml import etree

from wbs_tools.core.findings import Finding, Severity, make_finding
from wbs_tools.core.model import (
    STANDARD_DAY,
    Baseline,
    CalendarSpec,
    Duration,
    Link,
    Plan,
    Settings,
    Task,
    WorkingTime,
)
from wbs_tools.mspdi.values import (
    CONSTRAINT_BY_CODE,
    LINK_TYPE_BY_CODE,
    MSPDI_NS,
    ValueFormatError,
    duration_from_xml,
    lag_from_xml,
    parse_bool,
    parse_currency,
    parse_datetime,
    parse_duration_minutes,
    parse_float,
    parse_format,
    parse_int,
    parse_time_minutes,
    python_weekday,
    weekday_bit,
)

__all__ = ["MAX_BYTES", "MspdiError", "parse_document", "read_mspdi"]

#: Files above this size are refused rather than parsed (the largest real plans are tens of MB).
MAX_BYTES = 200 * 1024 * 1024
#: Recurring exceptions and alternate work weeks are expanded this many years around the project start.
YEARS_BEFORE, YEARS_AFTER = 10, 30

_T = TypeVar("_T")
_Times = tuple[WorkingTime, ...]
_STANDARD_WEEK: dict[int, _Times] = {d: (STANDARD_DAY if d < 5 else ()) for d in range(7)}


class MspdiError(ValueError):
    """The input is not a readable MSPDI document (not XML, not a Project, too large, or hostile)."""


_DTD_IN_PROLOG = re.compile(rb"^(?:\s|<\?.*?\?>|<!--.*?-->)*<!DOCTYPE", re.DOTALL)
_NO_DTD = "not an MSPDI file: it declares a DTD, which Microsoft Project never writes"


# --- parsing --------------------------------------------------------------------------------------


def _safe_parser() -> etree.XMLParser:
    """A parser that never expands entities, loads a DTD or touches the network."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
        dtd_validation=False,
        remove_comments=False,
    )


def _read_bytes(source: str | os.PathLike[str] | bytes) -> bytes:
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    else:
        path = os.fspath(source)
        size = os.path.getsize(path)
        if size > MAX_BYTES:
            raise MspdiError(f"{path}: {size} bytes is over the {MAX_BYTES} byte limit for MSPDI files")
        with open(path, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise MspdiError(f"the document is over the {MAX_BYTES} byte limit for MSPDI files")
    return data


def _declares_dtd(data: bytes) -> bool:
    """Spot a DOCTYPE before handing bytes to the parser, so an entity bomb is refused by name
    rather than by whichever parser limit trips first."""
    head = data[: 1 << 20]
    for bom, codec in ((b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if head.startswith(bom):
            head = head[len(bom) : len(bom) + (len(head) - len(bom)) // 2 * 2].decode(codec, "replace").encode()
            break
    return bool(_DTD_IN_PROLOG.match(head.removeprefix(b"\xef\xbb\xbf")))


def parse_document(source: str | os.PathLike[str] | bytes) -> etree._ElementTree:
    """Parse and vet an MSPDI document: ``bytes`` are the document, a ``str`` or path names a file.

    A document carrying a DTD is refused: MSPDI never has one, and a DTD is how entity-expansion
    ("billion laughs") and external-entity attacks are delivered.
    """
    data = _read_bytes(source)
    if _declares_dtd(data):
        raise MspdiError(_NO_DTD)
    try:
        tree = etree.ElementTree(etree.fromstring(data, _safe_parser()))
    except etree.XMLSyntaxError as exc:
        raise MspdiError(f"not an MSPDI file: the XML cannot be parsed ({exc})") from None
    docinfo = tree.docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise MspdiError(_NO_DTD)
    root = tree.getroot()
    tag = root.tag if isinstance(root.tag, str) else ""
    namespace, _, local = tag[1:].partition("}") if tag.startswith("{") else ("", "", tag)
    if local != "Project" or namespace not in ("", MSPDI_NS):
        raise MspdiError(f"not an MSPDI file: the root element is <{tag}>, not a Microsoft Project <Project>")
    return tree


def read_mspdi(source: str | os.PathLike[str] | bytes) -> tuple[Plan, list[Finding]]:
    """Read an MSPDI document (a path, or its bytes) into a plan and the findings about it."""
    return _Reader(parse_document(source).getroot()).read()


# --- element access -------------------------------------------------------------------------------


def _children(element: etree._Element, tags: tuple[str, ...] = ()) -> dict[str, etree._Element]:
    """First child element per local name, in one pass; ``tags`` (qualified names) lets lxml skip
    the many children a reader does not need (a task has about a hundred)."""
    result: dict[str, etree._Element] = {}
    for child in element.iterchildren(*tags) if tags else element:
        tag = child.tag
        if isinstance(tag, str):
            result.setdefault(tag.rpartition("}")[2], child)
    return result


#: The ``Task`` children the reader uses.
TASK_FIELDS = (
    "UID", "ID", "Name", "Active", "Manual", "IsNull", "WBS", "OutlineNumber", "OutlineLevel", "Start", "Finish",
    "Duration", "ManualStart", "ManualFinish", "DurationFormat", "Milestone", "ExternalTask", "PercentComplete",
    "Cost", "ActualStart", "ActualFinish", "ActualCost", "RemainingDuration", "ConstraintType", "CalendarUID",
    "ConstraintDate", "Deadline", "Notes", "Baseline",
)  # fmt: skip


def _text(fields: dict[str, etree._Element], name: str) -> str | None:
    """Stripped text of a field, or None when it is absent or empty."""
    element = fields.get(name)
    if element is None or element.text is None:
        return None
    text = element.text.strip()
    return text or None


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


def _dates(start: dt.date, finish: dt.date) -> Iterator[dt.date]:
    day = start
    while day <= finish:
        yield day
        day += dt.timedelta(days=1)


def _add_months(day: dt.date, months: int) -> tuple[int, int]:
    index = day.year * 12 + day.month - 1 + months
    return index // 12, index % 12 + 1


def _nth_in_month(year: int, month: int, item: int, position: int) -> dt.date | None:
    """The ``position``-th (0..3, 4 = last) day of kind ``item`` in a month.

    ``item`` is ``Exception/MonthItem``: 0 any day, 1 weekday, 2 weekend day, 3..9 Sunday..Saturday.
    """
    last = pycalendar.monthrange(year, month)[1]
    days = [dt.date(year, month, d) for d in range(1, last + 1)]
    if item == 1:
        days = [d for d in days if d.weekday() < 5]
    elif item == 2:
        days = [d for d in days if d.weekday() >= 5]
    elif 3 <= item <= 9:
        days = [d for d in days if d.weekday() == python_weekday(item - 2)]
    if not days:
        return None
    if position >= 4:
        return days[-1]
    return days[position] if position < len(days) else None


def _month_day(year: int, month: int, day: int) -> dt.date:
    """Day ``day`` of a month, or its last day when the month is shorter."""
    return dt.date(year, month, min(max(day, 1), pycalendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class _Recurrence:
    """The recurrence fields of an ``Exception`` element (Project 2007 and later)."""

    kind: int | None
    period: int
    days_of_week: int
    month_item: int
    month_position: int
    month: int
    month_day: int
    occurrences: int | None


def _recurrence_dates(rec: _Recurrence, start: dt.date, finish: dt.date, week_start: int) -> Iterator[dt.date]:
    """Dates an exception applies to within ``start..finish``.

    ``kind`` is ``Exception/Type``: 1/7 daily, 2 yearly on a date, 3 yearly by position, 4 monthly on a
    day, 5 monthly by position, 6 weekly; anything else is a plain date range.
    """
    period = max(rec.period, 1)
    if rec.kind in (1, 7):
        candidates: Iterator[dt.date] = (d for i, d in enumerate(_dates(start, finish)) if i % period == 0)
    elif rec.kind == 6:
        anchor = start - dt.timedelta(days=(start.weekday() - week_start) % 7)
        candidates = (
            d
            for d in _dates(start, finish)
            if rec.days_of_week & weekday_bit(d.weekday()) and ((d - anchor).days // 7) % period == 0
        )
    elif rec.kind in (2, 3, 4, 5):
        candidates = _monthly_dates(rec, start, finish, period)
    else:
        candidates = _dates(start, finish)
    for count, day in enumerate(candidates):
        if rec.occurrences is not None and count >= rec.occurrences:
            return
        yield day


def _monthly_dates(rec: _Recurrence, start: dt.date, finish: dt.date, period: int) -> Iterator[dt.date]:
    """Monthly (every ``period`` months from the start month) or yearly (in ``Month``) occurrences."""
    yearly = rec.kind in (2, 3)
    if yearly:
        months = (
            (year, rec.month + 1) for year in range(start.year, finish.year + 1) if (year - start.year) % period == 0
        )
    else:
        count = (finish.year - start.year) * 12 + finish.month - start.month + 1
        months = (_add_months(start, offset) for offset in range(0, count, period))
    for year, month in months:
        if rec.kind in (3, 5):
            day = _nth_in_month(year, month, rec.month_item, rec.month_position)
        else:
            day = _month_day(year, month, rec.month_day)
        if day is not None and start <= day <= finish:
            yield day


class _Reader:
    """One pass over a parsed document; collects findings as it goes."""

    def __init__(self, root: etree._Element) -> None:
        self.root = root
        self.prefix = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""
        self.findings: list[Finding] = []
        self.project = _children(root)
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
        text = _text(self.project, name)
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
        s.project_name = _text(self.project, "Title") or _text(self.project, "Name") or ""
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
        s.currency = _text(self.project, "CurrencySymbol") or ""
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
        fields = _children(element)
        try:
            uid = parse_int(_text(fields, "UID") or "")
        except ValueFormatError:
            return None
        base_text = _text(fields, "BaseCalendarUID")
        base_uid = parse_int(base_text) if base_text and base_text.lstrip("-").isdigit() else None
        is_base = _Reader._flag(fields, "IsBaseCalendar", base_uid in (None, -1))
        cal = _RawCalendar(
            uid=uid,
            name=_text(fields, "Name") or f"Calendar {uid}",
            is_base=is_base,
            base_uid=None if is_base or base_uid == -1 else base_uid,
        )
        self._read_week_days(fields.get("WeekDays"), cal)
        self._read_exceptions(fields.get("Exceptions"), cal)
        self._read_work_weeks(fields.get("WorkWeeks"), cal)
        return cal

    def _working_times(self, day_fields: dict[str, etree._Element]) -> _Times | None:
        """The day's periods: ``()`` when non-working, None when the day defers to its default."""
        working = _text(day_fields, "DayWorking")
        if working is None:
            return None
        if not parse_bool(working):
            return ()
        periods: list[WorkingTime] = []
        container = day_fields.get("WorkingTimes")
        for wt in container.iterfind(self.q("WorkingTime")) if container is not None else ():
            wt_fields = _children(wt)
            start_text, end_text = _text(wt_fields, "FromTime"), _text(wt_fields, "ToTime")
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
            fields = _children(element)
            try:
                kind = parse_int(_text(fields, "DayType") or "")
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
        for day in _dates(start, finish):
            cal.exceptions.setdefault(day, times if times is not None else ())

    def _time_period(self, element: etree._Element | None) -> tuple[dt.date, dt.date] | None:
        if element is None:
            return None
        fields = _children(element)
        try:
            start = parse_datetime(_text(fields, "FromDate") or "").date()
            finish = parse_datetime(_text(fields, "ToDate") or "").date()
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
            fields = _children(element)
            span = self._time_period(fields.get("TimePeriod"))
            if span is None:
                continue
            try:
                times = self._working_times(fields)
                rec = self._recurrence(fields)
            except ValueFormatError:
                continue
            start, finish = self.horizon.clamp(*span)
            for day in _recurrence_dates(rec, start, finish, self.week_start):
                dated[day] = times if times is not None else ()
        cal.exceptions = dated

    @staticmethod
    def _recurrence(fields: dict[str, etree._Element]) -> _Recurrence:
        def number(name: str, default: int) -> int:
            text = _text(fields, name)
            return parse_int(text) if text is not None else default

        by_count = _text(fields, "EnteredByOccurrences")
        occurrences = number("Occurrences", 0)
        return _Recurrence(
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
            fields = _children(element)
            span = self._time_period(fields.get("TimePeriod"))
            if span is None:
                continue
            days: dict[int, _Times | None] = {}
            week_days = fields.get("WeekDays")
            for day in week_days.iterfind(self.q("WeekDay")) if week_days is not None else ():
                day_fields = _children(day)
                try:
                    kind = parse_int(_text(day_fields, "DayType") or "")
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
            for day in _dates(ww.start, ww.finish):
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
            fields = _children(element, self.task_tags)
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
        if uid == 0 or _text(fields, "OutlineLevel") == "0":
            return True
        if self._flag(fields, "IsNull", False):
            return True
        if self._flag(fields, "ExternalTask", False):
            self.external_uids.add(uid)
            return True
        return False

    @staticmethod
    def _flag(fields: dict[str, etree._Element], name: str, default: bool) -> bool:
        text = _text(fields, name)
        try:
            return parse_bool(text) if text is not None else default
        except ValueFormatError:
            return default

    def _read_task(self, fields: dict[str, etree._Element]) -> Task | None:
        try:
            uid = parse_int(_text(fields, "UID") or "")
        except ValueFormatError:
            return None
        if self._skip(fields, uid):
            return None
        field_reader = _TaskFields(self, fields, uid)
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
                link = self._read_link(task, _children(element))
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
        pred_text = _text(fields, "PredecessorUID")
        if pred_text is None:
            return None
        if self._flag(fields, "CrossProject", False):
            name = _text(fields, "CrossProjectName") or "another project"
            self._link_finding(
                task,
                f"Task {task.id} depends on a task in {name}; links across projects are ignored.",
                severity=Severity.WARNING,
            )
            return None
        try:
            pred_uid = parse_int(pred_text)
            type_code = parse_int(_text(fields, "Type") or "1")
            lag_format_text = _text(fields, "LagFormat")
            lag = lag_from_xml(
                parse_int(_text(fields, "LinkLag") or "0"),
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


class _TaskFields:
    """Reads one ``Task`` element's input fields, recording where each came from."""

    def __init__(self, reader: _Reader, fields: dict[str, etree._Element], uid: int) -> None:
        self.reader = reader
        self.fields = fields
        self.uid = uid
        self.id = 0
        self.cells: dict[str, str] = {}
        settings = reader.settings
        self.minutes_per_day = settings.minutes_per_day
        self.days_per_month = settings.days_per_month

    def location(self, element: str) -> str:
        return f"Task UID {self.uid} <{element}>"

    def text(self, element: str, field_name: str) -> str | None:
        value = _text(self.fields, element)
        if value is not None:
            self.cells[field_name] = self.location(element)
        return value

    def finding(self, code: str, message: str, field_name: str, element: str) -> None:
        self.reader.findings.append(
            make_finding(code, message, task_id=self.id, field=field_name, location=self.location(element))
        )

    def date(self, element: str, field_name: str) -> dt.datetime | None:
        value = self.text(element, field_name)
        if value is None:
            return None
        try:
            return parse_datetime(value)
        except ValueFormatError:
            self.finding("task.bad-date", f"Task {self.id}: {element} {value!r} is not a date.", field_name, element)
            return None

    def number(self, element: str, field_name: str, code: str) -> float | None:
        value = self.text(element, field_name)
        if value is None:
            return None
        try:
            return parse_float(value)
        except ValueFormatError:
            self.finding(code, f"Task {self.id}: {element} {value!r} is not a number.", field_name, element)
            return None

    def duration(self, element: str, field_name: str, code: int | None) -> Duration | None:
        value = self.text(element, field_name)
        if value is None:
            return None
        try:
            result = duration_from_xml(
                value,
                code,
                default_unit=self.reader.default_unit,
                minutes_per_day=self.minutes_per_day,
                days_per_month=self.days_per_month,
            )
        except ValueFormatError:
            self.finding(
                "task.bad-duration", f"Task {self.id}: {element} {value!r} is not a duration.", field_name, element
            )
            return Duration(float(self.minutes_per_day))
        if result.minutes < 0:
            self.finding(
                "task.negative-duration", f"Task {self.id}: {element} is negative; 0 was used.", field_name, element
            )
            return Duration(0.0, result.elapsed, result.unit)
        return result

    def build(self) -> Task:
        identity = self.text("ID", "id")
        try:
            self.id = parse_int(identity) if identity is not None else 0
        except ValueFormatError:
            self.id = 0
        name = self.text("Name", "name") or ""
        outline_number = _text(self.fields, "OutlineNumber")
        level = self.number("OutlineLevel", "outline_level", "task.bad-outline")
        if level is None:
            level = outline_number.count(".") + 1 if outline_number else 1
        code = self._format_code(_text(self.fields, "DurationFormat"))
        task = Task(
            id=self.id,
            uid=self.uid,
            name=name,
            outline_level=max(int(level), 1),
            duration=self.duration("Duration", "duration", code),
            wbs=self.text("WBS", "wbs") or outline_number,
            milestone=self._flag("Milestone", "milestone"),
            remaining_duration=self.duration("RemainingDuration", "remaining_duration", code),
            deadline=self.date("Deadline", "deadline"),
            actual_start=self.date("ActualStart", "actual_start"),
            actual_finish=self.date("ActualFinish", "actual_finish"),
            cost=self._currency("Cost", "cost"),
            actual_cost=self._currency("ActualCost", "actual_cost"),
            notes=_text(self.fields, "Notes"),
            active=self._flag("Active", "active", default=True),
            calendar=self._calendar(),
            baselines=self._baselines(code),
            cells=self.cells,
        )
        if task.notes is not None:
            self.cells["notes"] = self.location("Notes")
        self._manual(task)
        self._constraint(task)
        self._progress(task)
        return task

    @staticmethod
    def _format_code(text: str | None) -> int | None:
        try:
            return parse_int(text) if text is not None else None
        except ValueFormatError:
            return None

    def _flag(self, element: str, field_name: str, default: bool = False) -> bool:
        value = self.text(element, field_name)
        try:
            return parse_bool(value) if value is not None else default
        except ValueFormatError:
            return default

    def _currency(self, element: str, field_name: str) -> float | None:
        value = self.text(element, field_name)
        try:
            return parse_currency(value) if value is not None else None
        except ValueFormatError:
            return None

    def _calendar(self) -> str | None:
        value = self.text("CalendarUID", "calendar")
        if value is None:
            return None
        try:
            uid = parse_int(value)
        except ValueFormatError:
            uid = None
        if uid == -1:
            self.cells.pop("calendar", None)
            return None
        if uid is None or uid not in self.reader.calendar_names:
            self.finding(
                "task.unknown-calendar",
                f"Task {self.id} uses calendar UID {value}, which is not in the file; the project calendar was used.",
                "calendar",
                "CalendarUID",
            )
            return None
        return self.reader.calendar_names[uid]

    def _manual(self, task: Task) -> None:
        """A manually scheduled task's Start and Finish are what the user typed, not results."""
        task.manual = self._flag("Manual", "manual")
        if not task.manual:
            return
        for attr, elements in (
            ("manual_start", ("Start", "ManualStart")),
            ("manual_finish", ("Finish", "ManualFinish")),
        ):
            for element in elements:
                if _text(self.fields, element) is not None:
                    setattr(task, attr, self.date(element, attr))
                    break

    def _constraint(self, task: Task) -> None:
        value = self.text("ConstraintType", "constraint")
        if value is None:
            return
        try:
            constraint = CONSTRAINT_BY_CODE.get(parse_int(value))
        except ValueFormatError:
            constraint = None
        if constraint is None:
            self.finding(
                "task.bad-constraint",
                f"Task {self.id}: constraint type {value!r} is unknown; As Soon As Possible was used.",
                "constraint",
                "ConstraintType",
            )
            return
        if not constraint.needs_date:
            task.constraint = constraint
            return
        date = self.date("ConstraintDate", "constraint_date")
        if date is None:
            self.finding(
                "task.constraint-date-missing",
                f"Task {self.id}: the {constraint.value} constraint has no date; it was ignored.",
                "constraint_date",
                "ConstraintDate",
            )
            return
        task.constraint, task.constraint_date = constraint, date

    def _progress(self, task: Task) -> None:
        percent = self.number("PercentComplete", "percent_complete", "task.bad-percent")
        if percent is not None and not 0 <= percent <= 100:
            self.finding(
                "task.bad-percent",
                f"Task {self.id}: % complete {percent:g} is not between 0 and 100; 0 was used.",
                "percent_complete",
                "PercentComplete",
            )
            percent = None
        task.percent_complete = percent or 0.0
        if task.actual_start and task.actual_finish and task.actual_finish < task.actual_start:
            self.finding(
                "task.actual-finish-before-start",
                f"Task {self.id}: actual finish {task.actual_finish:%Y-%m-%d %H:%M} is before its actual start.",
                "actual_finish",
                "ActualFinish",
            )

    def _baselines(self, code: int | None) -> dict[int, Baseline]:
        baselines: dict[int, Baseline] = {}
        for element in self.fields_all("Baseline"):
            b = _children(element)
            try:
                number = parse_int(_text(b, "Number") or "0")
                baseline = self._baseline(b, code)
            except ValueFormatError:
                continue
            if 0 <= number <= 10 and baseline != Baseline():
                baselines[number] = baseline
        return baselines

    def _baseline(self, b: dict[str, etree._Element], code: int | None) -> Baseline:
        own_code = self._format_code(_text(b, "DurationFormat"))
        elapsed = parse_format(own_code if own_code is not None else code, self.reader.default_unit).elapsed

        def minutes(text: str) -> float:
            return parse_duration_minutes(
                text, elapsed=elapsed, minutes_per_day=self.minutes_per_day, days_per_month=self.days_per_month
            )

        def work(text: str) -> float:
            return parse_duration_minutes(text, minutes_per_day=self.minutes_per_day)

        def value(name: str, parse: Callable[[str], _T]) -> _T | None:
            text = _text(b, name)
            return parse(text) if text is not None else None

        return Baseline(
            start=value("Start", parse_datetime),
            finish=value("Finish", parse_datetime),
            duration_minutes=value("Duration", minutes),
            cost=value("Cost", parse_currency),
            work_minutes=value("Work", work),
        )

    def fields_all(self, name: str) -> Iterator[etree._Element]:
        """All child elements named ``name`` (``_children`` keeps only the first)."""
        first = self.fields.get(name)
        if first is None:
            return iter(())
        parent = first.getparent()
        return parent.iterfind(first.tag) if parent is not None else iter((first,))

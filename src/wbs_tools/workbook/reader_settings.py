"""The Settings sheet (key/value rows) and the Calendar sheet (working week and dated exceptions).

A setting that cannot be read keeps its default and becomes a ``settings.bad-value`` finding at its
Value cell. Settings are matched by label like headers are (case, spaces, punctuation and a trailing
unit ignored), or by their defined name ("Project_Start"), wherever the row is on the sheet.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from wbs_tools.core.findings import Finding
from wbs_tools.core.model import STANDARD_DAY, CalendarSpec, Settings, WorkingTime
from wbs_tools.core.parsing import InputError, parse_date
from wbs_tools.workbook.layout import SETTINGS_ROWS, Setting, normalize_header
from wbs_tools.workbook.reader_tables import Sheet, TableLocation
from wbs_tools.workbook.reader_values import (
    Cell,
    check_error,
    finding,
    is_empty,
    minute_of_day,
    number_of,
    text_of,
    whole_number,
    yes_no,
)

_SETTING_ALIASES = {"start": "project_start", "startdate": "project_start", "projectstartdate": "project_start",
                    "statusdate": "status_date", "datadate": "status_date", "project": "project_name",
                    "country": "calendar_country", "subdivision": "calendar_subdivision",
                    "region": "calendar_subdivision", "dateformat": "date_order"}
_SETTING_KEYS: dict[str, Setting] = {
    **{normalize_header(alias): s for alias, key in _SETTING_ALIASES.items() for s in SETTINGS_ROWS if s.key == key},
    **{normalize_header(text): s for s in SETTINGS_ROWS for text in (s.key, s.name, s.label)},
}
_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_ORDERS: dict[str, bool | None] = {"ymd": None, "iso": None, "dmy": True, "mdy": False}


@dataclass
class SettingsRead:
    """The settings with what they imply for reading the other sheets."""

    settings: Settings = field(default_factory=Settings)
    day_first: bool | None = None  # None: text dates must not be ambiguous (Date order YMD or blank)
    country: str | None = None
    subdivision: str | None = None
    extra: dict[str, object] = field(default_factory=dict)  # SLA days and other non-model settings
    cells: dict[str, str] = field(default_factory=dict)  # setting key -> its Value cell


def read_settings(sheet: Sheet | None, table: TableLocation | None, findings: list[Finding]) -> SettingsRead:
    """Read the key/value rows; without a header the value is the first cell right of the label."""
    out = SettingsRead()
    if sheet is None:
        return out
    values: dict[str, Cell] = {}
    key_column = table.columns.get("setting") if table else None
    value_column = table.columns.get("value") if table else None
    for row in range((table.header_row if table else sheet.row0) + 1, sheet.max_row + 1):
        cells = sheet.row(row)
        for index, cell in enumerate(cells[:8] if key_column is None else ()):
            if isinstance(cell, str) and normalize_header(cell) in _SETTING_KEYS:
                key_column, value_column = sheet.col0 + index + 1, value_column or sheet.col0 + index + 2
                break
        label = sheet.value(row, key_column) if key_column else None
        setting = _SETTING_KEYS.get(normalize_header(label)) if isinstance(label, str) else None
        if setting is not None and value_column is not None and setting.key not in values:
            values[setting.key] = sheet.value(row, value_column)
            out.cells[setting.key] = sheet.address(row, value_column)
    _apply(out, values, findings)
    return out


T = TypeVar("T")


def _apply(out: SettingsRead, values: dict[str, Cell], findings: list[Finding]) -> None:
    """Interpret the values in dependency order: units and date order first, then what they govern."""
    s = out.settings

    def read(key: str, convert: Callable[[Cell], T]) -> T | None:
        value = values.get(key)
        if is_empty(value):
            return None
        try:
            return convert(value)
        except InputError as error:
            label = next(x.label for x in SETTINGS_ROWS if x.key == key)
            findings.append(finding("settings.bad-value", f"{label}: {error}; the default was used",
                                    location=out.cells.get(key), field=key))
            return None

    def positive(limit: float, least: float = 0.0) -> Callable[[Cell], float]:
        def convert(value: Cell) -> float:
            number = number_of(value)
            if not (0 < number <= limit and number >= least):
                raise InputError(f"{number:g} is not between {max(least, 0):g} and {limit:g}")
            return number
        return convert

    def order(value: Cell) -> str:
        text = normalize_header(text_of(value) or "")
        if text not in _ORDERS:
            raise InputError(f"'{text_of(value)}' is not a date order: use YMD, DMY or MDY")
        return text

    def text(value: Cell) -> str:
        check_error(value, "a name")
        return text_of(value) or ""

    s.project_name = read("project_name", text) or ""
    s.currency = read("currency", text) or ""
    s.calendar = read("calendar", text) or s.calendar
    if (hours := read("hours_per_day", positive(24, least=1 / 60))) is not None:
        s.minutes_per_day = round(hours * 60)
    if (hours := read("hours_per_week", positive(168, least=1 / 60))) is not None:
        s.minutes_per_week = round(hours * 60)
    s.days_per_month = read("days_per_month", lambda v: whole_number(positive(31)(v), "a whole number of days")) \
        or s.days_per_month
    if (minute := read("default_start_time", minute_of_day)) is not None:
        s.default_start_minute = minute
    if (minute := read("default_finish_time", lambda v: minute_of_day(v, end=True) % 1440)) is not None:
        s.default_finish_minute = minute
    out.day_first = _ORDERS[read("date_order", order) or "ymd"]
    s.day_first = out.day_first is True
    s.status_date = read("status_date", lambda v: parse_date(v, day_first=out.day_first,
                                                             default_minute=s.default_finish_minute))
    today = s.status_date.date() if s.status_date else None
    s.start = read("project_start", lambda v: parse_date(v, day_first=out.day_first, today=today,
                                                         default_minute=s.default_start_minute))
    if (days := read("critical_slack_days", number_of)) is not None:
        s.critical_slack_minutes = days * s.minutes_per_day
    for key in ("multiple_critical_paths", "honor_constraints", "reschedule_after_status_date"):
        if (flag := read(key, yes_no)) is not None:
            setattr(s, key, flag)
    out.country = (read("calendar_country", text) or "").upper() or None
    out.subdivision = (read("calendar_subdivision", text) or "").upper() or None
    for setting in SETTINGS_ROWS:
        if setting.key.startswith("sla_days_"):
            days = read(setting.key, number_of)
            out.extra[setting.key] = setting.default if days is None else int(days) if days.is_integer() else days


def check_country(read: SettingsRead, findings: list[Finding]) -> None:
    """Keep a country (and subdivision) only when the ``holidays`` package knows it."""
    if read.country is None:
        read.subdivision = None
        return
    import holidays

    if read.country not in holidays.list_supported_countries():
        findings.append(finding("calendar.unknown-country", f"public holidays are not known for country "
                                f"'{read.country}'; use an ISO code such as GB, US or DE",
                                location=read.cells.get("calendar_country"), field="calendar_country"))
        read.country = read.subdivision = None
        return
    if read.subdivision is None:
        return
    try:
        holidays.country_holidays(read.country, subdiv=read.subdivision)
    except (NotImplementedError, KeyError, ValueError):
        known = ", ".join(holidays.list_supported_countries()[read.country][:12])
        findings.append(finding("calendar.unknown-country", f"'{read.subdivision}' is not a subdivision of "
                                f"{read.country} (known: {known}); national holidays only were used",
                                location=read.cells.get("calendar_subdivision"), field="calendar_subdivision"))
        read.subdivision = None


def read_week(sheet: Sheet, table: TableLocation, rows: list[int], calendars: dict[str, CalendarSpec],
              findings: list[Finding]) -> None:
    """Working-week rows (Calendar, Day, Working?, From/To pairs) into ``calendars``, by name."""
    for row in rows if "day" in table.columns else ():  # without Day: reported as a missing column
        cell = {k: sheet.value(row, c) for k, c in table.columns.items()}

        def bad(key: str, message: str, row: int = row) -> None:
            findings.append(finding("cell.bad-value", message, location=table.address(row, key), field=key))

        typed = text_of(cell.get("calendar")) or "Standard"
        name = next((known for known in calendars if known.casefold() == typed.casefold()), typed)
        day_text = normalize_header(text_of(cell.get("day")) or "")
        day = next((n for n, d in enumerate(_DAYS) if len(day_text) >= 2 and d.startswith(day_text)), None)
        if day is None:
            bad("day", f"'{text_of(cell.get('day')) or ''}' is not a day of the week; the row was ignored")
            continue
        periods: list[WorkingTime] = []
        for start_key, end_key in (("from1", "to1"), ("from2", "to2")):
            start, end = cell.get(start_key), cell.get(end_key)
            if is_empty(start) and is_empty(end):
                continue
            try:
                if is_empty(start) or is_empty(end):
                    raise InputError("a working period needs both its From and its To time")
                begin, finish = minute_of_day(start), minute_of_day(end, end=True)
                if finish <= begin or (periods and begin < periods[-1].end):
                    raise InputError(f"{text_of(start)}-{text_of(end)} is not a period after the ones before")
                periods.append(WorkingTime(begin, finish))
            except InputError as error:
                bad(start_key, f"{name} {_DAYS[day].title()}: {error}; the period was ignored")
        try:
            working = bool(periods) if is_empty(cell.get("working")) else yes_no(cell.get("working"))
        except InputError as error:
            bad("working", f"{name} {_DAYS[day].title()}: {error}; the day's hours were kept")
            continue
        spec = calendars.setdefault(name, CalendarSpec(name))
        if working:
            spec.week[day] = tuple(periods) or STANDARD_DAY
        else:
            spec.week.pop(day, None)  # a missing day is a day off


def read_holidays(sheet: Sheet, table: TableLocation, rows: list[int], calendars: dict[str, CalendarSpec],
                  day_first: bool | None, findings: list[Finding]) -> None:
    """Dated exceptions: a day off (Working? No or blank) or an extra working day with standard hours."""
    names = {name.casefold(): name for name in calendars}
    # an extra working day has the calendar's standard hours (its first working day's)
    standard = {name: next((spec.week[d] for d in range(7) if spec.week.get(d)), STANDARD_DAY)
                for name, spec in calendars.items()}
    for row in rows if "date" in table.columns else ():  # without Date: reported as a missing column
        cell: dict[str, Cell] = {k: sheet.value(row, c) for k, c in table.columns.items()}
        try:
            day = parse_date(cell["date"], day_first=day_first).date()
            working = False if is_empty(cell.get("working")) else yes_no(cell.get("working"))
        except InputError as error:
            code = "task.ambiguous-date" if str(error).startswith("ambiguous") else "cell.bad-value"
            findings.append(finding(code, f"calendar exception: {error}; the row was ignored",
                                    location=table.address(row, "date"), field="date"))
            continue
        wanted = text_of(cell.get("calendar"))
        if wanted is not None and wanted.casefold() not in names:
            findings.append(finding("cell.bad-value", f"calendar '{wanted}' is not in the working week table; "
                                    f"the exception on {day:%Y-%m-%d} was ignored",
                                    location=table.address(row, "calendar"), field="calendar"))
            continue
        for name in calendars if wanted is None else (names[wanted.casefold()],):
            calendars[name].exceptions[day] = standard[name] if working else ()

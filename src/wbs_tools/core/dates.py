"""Dates as people type them, or as Excel stores them, read without guessing and without a clock.

Accepted: datetimes and dates, Excel serial numbers (1899-12-30 epoch, a fraction is the time of
day), ISO text ("2026-03-02", "2026-03-02 13:00", "20260302"), numeric dates in the plan's
declared order ("02/03/2026", "2.3.26"), month names ("3 Mar 2026", "March 3, 2026", "Tue 3/3/26")
and, only when a status date is given as ``today``, relative words ("today", "next Tue", "in 3
days", "+2w"). Results are naive datetimes rounded to the minute, in years 1900-2200.

Rules a reader should know:

* ``day_first`` is the plan's declared date order. With ``day_first=None`` a date whose day and
  month could be swapped ("02/03/2026") is refused as ambiguous instead of guessed; a weekday
  typed with it ("Mon 2/3/26") settles it when only one reading falls on that weekday.
* A weekday that contradicts the date ("Mon 3/3/26", a Tuesday) is refused.
* A date without a time of day gets ``default_minute`` (08:00; callers pass 17:00 for finishes).
  A datetime value at exactly midnight counts as a date without time, because that is how Excel
  stores a date cell; typed text with an explicit "00:00" keeps midnight.
* Two-digit years are 2000-2099 (dateutil would pick a century from the current clock).
* A missing year is taken from ``today`` when given, otherwise refused; a missing day or month
  is always refused ("March 2026" is not a date).
"""

from __future__ import annotations

import datetime as dt
import math
import re

from dateutil import parser as dateutil_parser

from wbs_tools.core.date_words import YearsFrom2000
from wbs_tools.core.durations import InputError, excel_error, excel_error_message, real_number

__all__ = ["format_date", "parse_date"]

EXCEL_EPOCH = dt.datetime(1899, 12, 30)
MIN_YEAR, MAX_YEAR = 1900, 2200

_WEEKDAYS: dict[str, int] = {}
for _number_of_day, _names in enumerate(
    (
        ("mon", "monday"),
        ("tue", "tues", "tuesday"),
        ("wed", "weds", "wednesday"),
        ("thu", "thur", "thurs", "thursday"),
        ("fri", "friday"),
        ("sat", "saturday"),
        ("sun", "sunday"),
    )
):
    _WEEKDAYS.update(dict.fromkeys(_names, _number_of_day))
_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

_ISO = re.compile(
    r"(\d{4})(?:([-/.])(\d{1,2})\2(\d{1,2})|(\d{2})(\d{2}))"
    r"(?:(?:\s+|t)(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*(am|pm)?)?",
    re.ASCII,
)
_SERIAL = re.compile(r"\d{5}(?:\.\d+)?", re.ASCII)
_NEXT = re.compile(r"next\s+([a-z]+)", re.ASCII)
_SHIFT = re.compile(
    r"(?:in\s+(\d{1,5})\s*|([+-])\s*(\d{1,5})\s*)(d|days?|w|wks?|weeks?)(?:\s+(?:from\s+)?(?:today|now))?",
    re.ASCII,
)


_INFO = YearsFrom2000()
_PROBES = (dt.datetime(2000, 1, 1, 0, 0), dt.datetime(2004, 2, 2, 1, 1))  # both leap years


def _check(value: dt.datetime, shown: object) -> dt.datetime:
    """Round to the minute and keep years in the range the scheduler handles."""
    if value.second == 0 and value.microsecond == 0 and value.tzinfo is None and MIN_YEAR <= value.year <= MAX_YEAR:
        return value  # a whole minute already (nearly every date a plan holds)
    for _ in range(2):  # before rounding (no overflow near year 9999) and after it
        if not MIN_YEAR <= value.year <= MAX_YEAR:
            raise InputError(f"{shown!s} is outside the years {MIN_YEAR}-{MAX_YEAR}: check the year")
        rounded = value.replace(second=0, microsecond=0, tzinfo=None)
        value = rounded + dt.timedelta(minutes=1) if value.second >= 30 else rounded
    return value


def _at(day: dt.date, minute: int) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day) + dt.timedelta(minutes=minute)


def _from_serial(serial: float, shown: object, default_minute: int) -> dt.datetime:
    """An Excel serial day number; a whole number is a date without time."""
    if not math.isfinite(serial) or not 0 <= serial < 200_000:
        raise InputError(f"{shown!s} is not a date: type a date such as 2026-03-02")
    days = math.floor(serial)
    minute = round((serial - days) * 1440)
    value = EXCEL_EPOCH + dt.timedelta(days=days, minutes=minute if serial != days else default_minute)
    return _check(value, shown)


def _relative(text: str, today: dt.date | None, default_minute: int, shown: str) -> dt.datetime | None:
    """Relative words ("today", "next Tue", "in 3 days", "+2w"), which need a status date."""
    offsets = {"today": 0, "tomorrow": 1, "yesterday": -1}
    next_day = _NEXT.fullmatch(text)
    shift = _SHIFT.fullmatch(text)
    if text not in offsets and not shift and not (next_day and next_day[1] in _WEEKDAYS):
        return None
    if today is None:
        raise InputError(
            f"relative dates such as '{shown}' need a status date: set Status date in Settings "
            "or type a date such as 2026-03-02"
        )
    base = today.date() if isinstance(today, dt.datetime) else today
    if text in offsets:
        days = offsets[text]
    elif next_day:
        days = (_WEEKDAYS[next_day[1]] - base.weekday() - 1) % 7 + 1
    else:
        assert shift is not None
        count = int(shift[1] or shift[3]) * (7 if shift[4].startswith("w") else 1)
        days = -count if shift[2] == "-" else count
    try:
        day = base + dt.timedelta(days=days)
    except OverflowError as error:
        raise InputError(f"'{shown}' is outside the years {MIN_YEAR}-{MAX_YEAR}") from error
    return _check(_at(day, default_minute), shown)


def _dateutil(text: str, day_first: bool, year: int | None, default_minute: int, shown: str) -> dt.datetime:
    """Parse with dateutil twice, from two different defaults, to see which fields were typed."""
    try:
        first, second = (
            dateutil_parser.parse(text, parserinfo=_INFO, dayfirst=day_first, default=probe, ignoretz=True)
            for probe in _PROBES
        )
    except (ValueError, ArithmeticError, TypeError, IndexError) as error:  # dateutil on garbage
        raise InputError(f"'{shown}' is not a date: type a date such as 2026-03-02 or 2 Mar 2026") from error
    if first.month != second.month or first.day != second.day:
        raise InputError(f"'{shown}' is not a date: it needs a day, a month and a year")
    if first.year != second.year:
        if year is None:
            raise InputError(f"'{shown}' has no year: add the year, e.g. 2026-03-02")
        try:
            first = first.replace(year=year)
        except ValueError as error:
            raise InputError(f"'{shown}' does not exist in {year}") from error
    if first.hour != second.hour:
        return _at(first, default_minute)
    return first.replace(minute=first.minute if first.minute == second.minute else 0)


def _ambiguity(text: str, readings: dict[bool, dt.datetime], weekday: int | None, shown: str) -> dt.datetime:
    """Pick the reading that falls on the typed weekday, or refuse the ambiguous date."""
    matching = [value for value in readings.values() if value.weekday() == weekday]
    if len(matching) == 1:
        return matching[0]
    day_first, month_first = readings[True], readings[False]
    raise InputError(
        f"ambiguous: {shown} could be {day_first.day} {day_first:%B} or {month_first.day} {month_first:%B}; "
        f"set Date order in Settings or type {day_first:%Y-%m-%d}"
    )


def parse_date(
    text: object,
    *,
    day_first: bool | None,
    today: dt.date | None = None,
    default_minute: int = 480,
) -> dt.datetime:
    """Read a date cell into a naive datetime (see the module notes for the rules).

    >>> parse_date("02/03/2026", day_first=True)
    datetime.datetime(2026, 3, 2, 8, 0)
    >>> parse_date("March 3, 2026 1:30pm", day_first=False)
    datetime.datetime(2026, 3, 3, 13, 30)
    >>> parse_date(45500.5, day_first=None)
    datetime.datetime(2024, 7, 27, 12, 0)
    >>> parse_date("next tue", day_first=None, today=dt.date(2026, 3, 3), default_minute=1020)
    datetime.datetime(2026, 3, 10, 17, 0)
    >>> parse_date("02/03/2026", day_first=None)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    wbs_tools.core.durations.InputError: ambiguous: 02/03/2026 could be 2 March or 3 February; set Date order ...
    """
    if isinstance(default_minute, bool) or not isinstance(default_minute, int) or not 0 <= default_minute < 1440:
        raise InputError(f"the default time must be a minute of the day (0-1439), not {default_minute!r}")
    if isinstance(text, dt.datetime):
        if text.time() == dt.time(0, 0):
            return _check(_at(text, default_minute), text)
        return _check(text, text)
    if isinstance(text, dt.date):
        return _check(_at(text, default_minute), text)
    serial = real_number(text)
    if serial is not None:
        return _from_serial(serial, text, default_minute)
    if not isinstance(text, str):
        raise InputError(f"{text!r} is not a date: type a date such as 2026-03-02")
    if (code := excel_error(text)) is not None:
        raise InputError(excel_error_message(code, "a date"))
    shown = text.strip()
    clean = re.sub(r"\s+", " ", shown.lower().replace("\u00a0", " "))
    if not clean:
        raise InputError("the date is empty: type a date such as 2026-03-02")
    if not clean.isascii():
        raise InputError(f"'{shown}' is not a date: type a date such as 2026-03-02 or 2 Mar 2026")
    if _SERIAL.fullmatch(clean):
        return _from_serial(float(clean), shown, default_minute)
    if (iso := _ISO.fullmatch(clean)) is not None:
        year, month, day = int(iso[1]), int(iso[3] or iso[5]), int(iso[4] or iso[6])
        hour = int(iso[7] or 0)
        if iso[10] and 1 <= hour <= 12:
            hour = hour % 12 + (12 if iso[10] == "pm" else 0)
        try:
            value = dt.datetime(year, month, day)
            if iso[7] is None:
                return _check(_at(value, default_minute), shown)
            return _check(value.replace(hour=hour, minute=int(iso[8]), second=int(iso[9] or 0)), shown)
        except ValueError as error:
            raise InputError(f"'{shown}' is not a date: no such day or time") from error
    if re.match(r"\d{4}[-/.]", clean):  # year first but not ISO: dateutil would misread it
        raise InputError(f"'{shown}' is not a date: write it as 2026-03-02 or 2026-03-02 13:00")
    relative = _relative(clean, today, default_minute, shown)
    if relative is not None:
        return relative
    this_year = today.year if today is not None else None
    words = set(re.findall(r"[a-z]+", clean))
    weekdays = {_WEEKDAYS[word] for word in words if word in _WEEKDAYS}
    weekday = weekdays.pop() if len(weekdays) == 1 else None
    if day_first is None:
        readings = {order: _dateutil(clean, order, this_year, default_minute, shown) for order in (True, False)}
        value = readings[True] if readings[True] == readings[False] else _ambiguity(clean, readings, weekday, shown)
    else:
        value = _dateutil(clean, day_first, this_year, default_minute, shown)
    if weekday is not None and value.weekday() != weekday:
        raise InputError(f"'{shown}': {value:%Y-%m-%d} is a {_DAY_NAMES[value.weekday()]}, not a {_DAY_NAMES[weekday]}")
    return _check(value, shown)


def format_date(value: dt.datetime | dt.date, *, default_minute: int | None = None) -> str:
    """Write a date as unambiguous ISO text; the time is left out when it is ``default_minute``.

    >>> format_date(dt.datetime(2026, 3, 2, 13, 0)), format_date(dt.datetime(2026, 3, 2, 8), default_minute=480)
    ('2026-03-02 13:00', '2026-03-02')
    """
    if not isinstance(value, dt.datetime):
        return f"{value:%Y-%m-%d}"
    if default_minute is not None and value.hour * 60 + value.minute == default_minute and not value.second:
        return f"{value:%Y-%m-%d}"
    return f"{value:%Y-%m-%d %H:%M}"

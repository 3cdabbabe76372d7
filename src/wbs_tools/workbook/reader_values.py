"""Cell values as people type them (numbers as text, Yes/No, times), and findings located at cells.

Every converter raises only ``InputError`` with a message a project manager can act on; the table
readers turn that into a finding at the cell and carry on with a default. Codes this reader needs
are registered in ``FINDING_CODES``.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

from wbs_tools.core.durations import InputError, excel_error, excel_error_message, format_number, real_number
from wbs_tools.core.findings import Finding, make_finding

#: A cell as calamine gives it (str, float, int, bool, date, datetime, time, timedelta) or None; the
#: parsers check the type at run time and refuse what they cannot read.
Cell = Any

#: code -> (severity, meaning, registered code used until this one is registered)
def finding(code: str, message: str, *, fallback: str | None = None, location: str | None = None,
            task_id: int | None = None, field: str | None = None, hint: str | None = None) -> Finding:
    """A finding for a registered code (``fallback`` is kept for callers that name an alternative)."""
    del fallback
    return make_finding(code, message, task_id=task_id, field=field, location=location, hint=hint)


def is_empty(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def check_error(value: object, what: str) -> None:
    """Raise for a cell that shows an Excel error, naming what should be typed instead."""
    code = excel_error(value)
    if code is not None:
        raise InputError(excel_error_message(code, what))


def text_of(value: object) -> str | None:
    """A cell as text: numbers without a spurious ".0", dates as ISO; None when empty."""
    if is_empty(value):
        return None
    if isinstance(value, bool):
        return "Yes" if value else "No"
    number = real_number(value)
    if number is not None:
        return format_number(number) if math.isfinite(number) else str(number)
    if isinstance(value, dt.datetime):
        return value.isoformat(" ", "minutes")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value).strip()


def whole_number(value: object, what: str = "a whole number") -> int:
    """3, 3.0, "3" and " 3.0 " -> 3; anything else raises."""
    check_error(value, what)
    number = real_number(value)
    if number is None and isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d+(?:\.0*)?\s*", value, re.ASCII):
        number = float(value)
    if number is None or not math.isfinite(number) or not number.is_integer():
        raise InputError(f"{_shown(value)} is not {what}")
    return int(number)


_COMMA_GROUPS = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?", re.ASCII)  # 1,200.50
_DOT_GROUPS = re.compile(r"[+-]?\d{1,3}(?:\.\d{3})+,\d+", re.ASCII)  # 1.200,50


def number_of(value: object, what: str = "a number") -> float:
    """A number cell, or text such as "1,200", "£1,200.50", "12,5" or "1.200,50"."""
    check_error(value, what)
    number = real_number(value)
    if number is None and isinstance(value, str):
        clean = re.sub(r"[^\d,.+-]", "", value)
        if _COMMA_GROUPS.fullmatch(clean):
            clean = clean.replace(",", "")
        elif _DOT_GROUPS.fullmatch(clean):
            clean = clean.replace(".", "").replace(",", ".")
        elif clean.count(",") == 1 and "." not in clean:
            clean = clean.replace(",", ".")
        if re.fullmatch(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)", clean, re.ASCII) and re.search(r"\d", value):
            number = float(clean)
    if number is None or not math.isfinite(number):
        raise InputError(f"{_shown(value)} is not {what}")
    return number


_YES = {"yes", "y", "true", "1", "on", "x", "working", "work"}
_NO = {"no", "n", "false", "0", "off", "nonworking", "off day", "holiday"}


def yes_no(value: object) -> bool:
    """Yes/No, TRUE/FALSE, 1/0 (a cell or text, any case)."""
    check_error(value, "Yes or No")
    if isinstance(value, bool):
        return value
    number = real_number(value)
    if number in (0.0, 1.0):
        return number == 1.0
    if isinstance(value, str):
        word = " ".join(value.strip().lower().replace("-", "").split())
        if word in _YES or word in _NO:
            return word in _YES
    raise InputError(f"{_shown(value)} is not Yes or No")


_TIME = re.compile(r"(\d{1,2})(?:[:.h](\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?", re.ASCII)


def minute_of_day(value: object, *, end: bool = False) -> int:
    """A time of day in minutes after midnight: 08:00, "8:30", "5pm", 0.5 (Excel's fraction of a day).

    With ``end`` a period's end is read: "24:00", 1.0 or midnight mean 1440 (the end of the day).
    """
    check_error(value, "a time such as 08:00")
    minute: float | None = None
    if isinstance(value, dt.time):
        minute = value.hour * 60 + value.minute + value.second / 60
    elif isinstance(value, dt.timedelta):
        minute = value.total_seconds() / 60
    elif isinstance(value, dt.datetime) and value.date() <= dt.date(1900, 1, 1):  # a time past 24:00
        minute = (value - dt.datetime(1899, 12, 31)).total_seconds() / 60
    elif isinstance(value, dt.date) and not isinstance(value, dt.datetime) and value == dt.date(1900, 1, 1):
        minute = 1440
    elif (number := real_number(value)) is not None:
        minute = number * 1440 if 0 <= number <= 1 else (number * 60 if 1 < number <= 24 else None)
    elif isinstance(value, str) and (match := _TIME.fullmatch(value.strip().lower())):
        hour, minutes, half = int(match[1]), int(match[2] or 0), (match[3] or "")[:1]
        if half and 1 <= hour <= 12:
            hour = hour % 12 + (12 if half == "p" else 0)
        minute = hour * 60 + minutes if minutes < 60 else None
    if minute is None or not math.isfinite(minute) or not 0 <= minute <= 1440:
        raise InputError(f"{_shown(value)} is not a time of day: type a time such as 08:00 or 17:30")
    minute = round(minute)
    if end and minute == 0:
        return 1440
    if minute == 1440 and not end:
        raise InputError(f"{_shown(value)} is not a start time: a working period cannot start at 24:00")
    return minute


def _shown(value: object) -> str:
    if value is None:
        return "an empty cell"
    return f"'{value.strip()}'" if isinstance(value, str) else repr(value)

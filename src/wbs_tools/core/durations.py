"""Durations and lags as people type them into a plan ("3d", "2.5 days", "1ew", "-2d", "50%").

The grammar is Microsoft Project's: a number and a unit, working units (m, h, d, w, mo) converted
with the plan's minutes per day / week and days per month, elapsed units (em, eh, ed, ew, emo)
with 24-hour days, 7-day weeks and 30-day months. The unit typed is kept in the result so that
``format_duration`` writes the value back the way it was written.

This module also holds ``InputError``, the one exception every parser in ``wbs_tools.core``
raises; the other parsers build on it (import it from ``wbs_tools.core.parsing``).
"""

from __future__ import annotations

import math
import numbers
import re
from decimal import Decimal

from wbs_tools.core.model import Duration, Lag

__all__ = [
    "UNIT_ALIASES",
    "InputError",
    "excel_error",
    "excel_error_message",
    "format_duration",
    "format_lag",
    "format_number",
    "parse_duration",
    "parse_lag",
    "real_number",
]


class InputError(ValueError):
    """A cell value that cannot be read; the message tells a project manager how to fix it."""


#: What people type -> the canonical working unit. Elapsed units are these with an ``e`` prefix.
_BASE_UNITS: dict[str, str] = {
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), "m"),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), "h"),
    **dict.fromkeys(("d", "dy", "dys", "day", "days"), "d"),
    **dict.fromkeys(("w", "wk", "wks", "week", "weeks"), "w"),
    **dict.fromkeys(("mo", "mos", "mon", "mons", "month", "months"), "mo"),
}
#: Every unit spelling accepted (lower case, spaces removed, "elapsed" shortened to "e").
UNIT_ALIASES: dict[str, str] = {
    **_BASE_UNITS,
    **{"e" + alias: "e" + unit for alias, unit in _BASE_UNITS.items()},
}
_ELAPSED_MINUTES: dict[str, float] = {"em": 1, "eh": 60, "ed": 1440, "ew": 10080, "emo": 43200}

_EXCEL_ERRORS = ("#REF!", "#N/A", "#VALUE!", "#DIV/0!", "#NAME?", "#NULL!", "#NUM!", "#SPILL!", "#CALC!")
_SPAN = re.compile(r"([+-])?\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-z]+(?:\s+[a-z]+)?)?", re.ASCII)
_DECIMAL_COMMA = re.compile(r"(?<=\d),(?=\d)")
_DASHES = str.maketrans({"\u2212": "-", "\u2013": "-", "\u2014": "-", "\u00a0": " "})

_DURATION_HELP = "use a number and a unit such as 3d, 2.5 days, 1w, 4h"
_LAG_HELP = "use a duration such as 2d, or -1d for a lead, or a percentage such as 50%"


def excel_error(value: object) -> str | None:
    """The Excel error code a cell shows ("#REF!", ...), or None: these come from broken formulas.

    >>> excel_error(" #ref! "), excel_error("3d")
    ('#REF!', None)
    """
    if not isinstance(value, str):
        return None
    code = value.strip().upper()
    return code if code in _EXCEL_ERRORS else None


def excel_error_message(code: str, what: str) -> str:
    """The message for a cell that shows an Excel error instead of a value."""
    return f"cell shows an Excel error ({code}): fix the formula or type {what}"


def format_number(value: float) -> str:
    """Shortest plain decimal that reads back as exactly ``value`` (no exponent, no trailing .0).

    >>> format_number(2.5), format_number(3.0), format_number(1e-7), format_number(-0.0)
    ('2.5', '3', '0.0000001', '0')
    """
    if value == 0:
        return "0"
    text = format(Decimal(repr(float(value))), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _unit_minutes(minutes_per_day: float, minutes_per_week: float, days_per_month: float) -> dict[str, float]:
    """Minutes in one of each canonical unit under the plan's settings."""
    for name, value in (
        ("Minutes per day", minutes_per_day),
        ("Minutes per week", minutes_per_week),
        ("Days per month", days_per_month),
    ):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 < value < math.inf:
            raise InputError(f"{name} must be a positive number, not {value!r}: check Settings")
    working = {"m": 1, "h": 60, "d": minutes_per_day, "w": minutes_per_week, "mo": days_per_month * minutes_per_day}
    return {**working, **_ELAPSED_MINUTES}


def real_number(value: object) -> float | None:
    """A real number cell value as float (bools are not numbers here), else None."""
    kind = type(value)
    if kind is float:  # the usual cases first: the ABC check below is slow
        return value  # type: ignore[return-value]
    if kind is str or kind is bool or value is None:
        return None
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    return None


def _span(text: object, what: str, help_: str, factors: dict[str, float]) -> tuple[float, str]:
    """Read a signed number and unit into (minutes, canonical unit); bare numbers are days."""
    number = real_number(text)
    if number is not None:
        if not math.isfinite(number):
            raise InputError(f"{text!r} is not {what}: {help_}")
        return number * factors["d"], "d"
    if not isinstance(text, str):
        raise InputError(f"{text!r} is not {what}: {help_}")
    if (code := excel_error(text)) is not None:
        raise InputError(excel_error_message(code, what))
    clean = _DECIMAL_COMMA.sub(".", text.translate(_DASHES).strip().lower())
    if clean.endswith("?"):  # MS Project's "estimated" marker
        clean = clean[:-1].rstrip()
    match = _SPAN.fullmatch(clean)
    unit = "d"
    if match and match[3]:
        spelled = re.sub(r"\s+", "", match[3])
        spelled = "e" + spelled[len("elapsed") :] if spelled.startswith("elapsed") else spelled
        unit = UNIT_ALIASES.get(spelled, "")
    if not match or not unit:
        raise InputError(f"'{text.strip()}' is not {what}: {help_}")
    minutes = float(match[2]) * factors[unit]
    if not math.isfinite(minutes):
        raise InputError(f"'{text.strip()}' is too large to be {what}")
    return (-minutes if match[1] == "-" else minutes), unit


def parse_duration(
    text: object,
    *,
    minutes_per_day: float = 480,
    minutes_per_week: float = 2400,
    days_per_month: float = 20,
) -> Duration:
    """Read a duration cell; a bare number is days, empty is zero, negative is refused.

    >>> parse_duration("2.5 days")
    Duration(minutes=1200.0, elapsed=False, unit='d')
    >>> parse_duration("3 elapsed days")
    Duration(minutes=4320.0, elapsed=True, unit='ed')
    >>> parse_duration("1,5w?").minutes, parse_duration(2).minutes, parse_duration("").minutes
    (3600.0, 960.0, 0.0)
    >>> parse_duration("3 dyas")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    wbs_tools.core.durations.InputError: '3 dyas' is not a duration: use a number and a unit such as 3d, ...
    """
    factors = _unit_minutes(minutes_per_day, minutes_per_week, days_per_month)
    if text is None or (isinstance(text, str) and not text.strip()):
        return Duration(0.0)
    minutes, unit = _span(text, "a duration", _DURATION_HELP, factors)
    if minutes < 0:
        raise InputError(f"'{str(text).strip()}' is negative: a duration must be 0 or more")
    return Duration(minutes + 0.0, unit.startswith("e"), unit)


def _canonical_unit(duration: Duration) -> str:
    """The unit to write: the one typed if known, matched to the elapsed flag."""
    unit = UNIT_ALIASES.get(duration.unit.strip().lower().replace(" ", ""), "d")
    base = unit[1:] if unit.startswith("e") else unit
    return "e" + base if duration.elapsed else base


def _format_span(minutes: float, unit: str, factors: dict[str, float]) -> str:
    """Write minutes in ``unit`` with the shortest number that ``_span`` reads back exactly."""
    if minutes == 0 or not math.isfinite(minutes):
        return f"{format_number(minutes) if minutes else '0'}{unit}"
    factor = factors[unit]
    value = minutes / factor
    candidates = [value, math.nextafter(value, math.inf), math.nextafter(value, -math.inf)]
    for digits in range(1, 18):
        for candidate in candidates:
            number = float(f"{candidate:.{digits}g}")
            if number * factor == minutes:
                return f"{format_number(number)}{unit}"
    return f"{format_number(value)}{unit}"


def format_duration(
    duration: Duration,
    *,
    minutes_per_day: float = 480,
    minutes_per_week: float = 2400,
    days_per_month: float = 20,
) -> str:
    """Write a duration in the unit it was typed in ("3d", "2.5d", "4h", "3ed").

    >>> format_duration(parse_duration("2.5 days")), format_duration(parse_duration("3 elapsed days"))
    ('2.5d', '3ed')
    """
    factors = _unit_minutes(minutes_per_day, minutes_per_week, days_per_month)
    return _format_span(duration.minutes, _canonical_unit(duration), factors)


def parse_lag(
    text: object,
    *,
    minutes_per_day: float = 480,
    minutes_per_week: float = 2400,
    days_per_month: float = 20,
) -> Lag:
    """Read a link lag: a duration (negative = lead) or a percentage of the predecessor's duration.

    >>> parse_lag("-2d").duration.minutes, parse_lag("50%").percent, parse_lag("-25 %").percent
    (-960.0, 50.0, -25.0)
    """
    factors = _unit_minutes(minutes_per_day, minutes_per_week, days_per_month)
    if text is None or (isinstance(text, str) and not text.strip()):
        return Lag()
    if isinstance(text, str) and text.rstrip().endswith("%"):
        clean = _DECIMAL_COMMA.sub(".", text.translate(_DASHES).strip()[:-1].strip())
        match = re.fullmatch(r"([+-])?\s*(\d+(?:\.\d*)?|\.\d+)", clean, re.ASCII)
        if not match or not math.isfinite(percent := float(match[2])):
            raise InputError(f"'{text.strip()}' is not a lag: {_LAG_HELP}")
        return Lag(percent=(-percent if match[1] == "-" else percent) + 0.0)
    minutes, unit = _span(text, "a lag", _LAG_HELP, factors)
    return Lag(Duration(minutes + 0.0, unit.startswith("e"), unit))


def format_lag(
    lag: Lag,
    *,
    minutes_per_day: float = 480,
    minutes_per_week: float = 2400,
    days_per_month: float = 20,
) -> str:
    """Write a lag back ("2d", "-1d", "50%"); no sign for positive values.

    >>> format_lag(parse_lag("-2 days")), format_lag(parse_lag("+50%"))
    ('-2d', '50%')
    """
    if lag.percent is not None:
        return f"{format_number(lag.percent)}%"
    return format_duration(
        lag.duration,
        minutes_per_day=minutes_per_day,
        minutes_per_week=minutes_per_week,
        days_per_month=days_per_month,
    )

"""Value conversions between MSPDI text and the plan model.

MSPDI (Microsoft Project's XML) stores durations as ISO-8601 spans of wall-clock hours
(``PT8H0M0S`` is one 8-hour working day), link lags and slack as integers in tenths of a minute,
costs in hundredths of the currency unit, and enumerations as small integer codes. The display unit
of a duration or lag travels separately in a *format* code; an elapsed format means the span ignores
the calendar. Everything here is a pure function so the reader and writer agree by construction.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass

from wbs_tools.core.model import ConstraintType, Duration, Lag, LinkType

MSPDI_NS = "http://schemas.microsoft.com/project"

#: Link type codes of ``PredecessorLink/Type``.
LINK_TYPE_BY_CODE: dict[int, LinkType] = {0: LinkType.FF, 1: LinkType.FS, 2: LinkType.SF, 3: LinkType.SS}
LINK_TYPE_CODE: dict[LinkType, int] = {v: k for k, v in LINK_TYPE_BY_CODE.items()}

#: Constraint type codes of ``Task/ConstraintType``.
CONSTRAINT_BY_CODE: dict[int, ConstraintType] = {
    0: ConstraintType.ASAP,
    1: ConstraintType.ALAP,
    2: ConstraintType.MSO,
    3: ConstraintType.MFO,
    4: ConstraintType.SNET,
    5: ConstraintType.SNLT,
    6: ConstraintType.FNET,
    7: ConstraintType.FNLT,
}
CONSTRAINT_CODE: dict[ConstraintType, int] = {v: k for k, v in CONSTRAINT_BY_CODE.items()}

#: Base duration/lag format codes -> unit as the model spells it (``e`` prefix = elapsed).
_UNIT_BY_CODE: dict[int, str] = {
    3: "m",
    4: "em",
    5: "h",
    6: "eh",
    7: "d",
    8: "ed",
    9: "w",
    10: "ew",
    11: "mo",
    12: "emo",
    19: "%",
    20: "e%",
}
_CODE_BY_UNIT: dict[str, int] = {v: k for k, v in _UNIT_BY_CODE.items()}
#: An estimated ("?") format is the base code plus 32; 21 and 53 mean "no format".
ESTIMATED_OFFSET = 32
_NULL_FORMATS = frozenset({21, 53})

_TRUE = frozenset({"1", "true"})
_FALSE = frozenset({"0", "false"})


class ValueFormatError(ValueError):
    """A text value does not have the shape its MSPDI element requires."""


# --- booleans and numbers -------------------------------------------------------------------------


def parse_bool(text: str) -> bool:
    """MSPDI booleans are ``0``/``1``; ``true``/``false`` are accepted as other writers use them."""
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueFormatError(f"not a boolean: {text!r}")


def parse_int(text: str) -> int:
    """Integers, tolerating a decimal form such as ``480.0`` that some writers produce."""
    try:
        value = float(text.strip())
    except ValueError as exc:
        raise ValueFormatError(f"not a number: {text!r}") from exc
    if not math.isfinite(value):
        raise ValueFormatError(f"not a finite number: {text!r}")
    return round(value)


def parse_float(text: str) -> float:
    try:
        value = float(text.strip())
    except ValueError as exc:
        raise ValueFormatError(f"not a number: {text!r}") from exc
    if not math.isfinite(value):
        raise ValueFormatError(f"not a finite number: {text!r}")
    return value


def parse_currency(text: str) -> float:
    """Costs are stored in hundredths of the currency unit (``14600`` is 146.00)."""
    return parse_float(text) / 100.0


def format_currency(value: float) -> str:
    return format_number(value * 100.0)


def format_number(value: float) -> str:
    """Whole numbers without a trailing ``.0``; others with up to 4 decimals."""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.4f}".rstrip("0").rstrip(".")


def format_bool(value: bool) -> str:
    return "1" if value else "0"


# --- dates and times ------------------------------------------------------------------------------

_DATETIME_RE = re.compile(
    r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?)?"
    r"\s*(?:Z|[+-]\d{2}:?\d{2})?\s*$"
)
_TIME_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?\s*$")


def parse_datetime(text: str) -> dt.datetime:
    """``2014-10-17T08:00:00`` (seconds, fractions and a zone suffix are tolerated; the zone is
    dropped because Microsoft Project's dates are local wall-clock times)."""
    match = _DATETIME_RE.match(text)
    if not match:
        raise ValueFormatError(f"not a date: {text!r}")
    year, month, day, hour, minute, second = (int(g) if g else 0 for g in match.groups())
    try:
        if hour == 24 and minute == 0 and second == 0:
            return dt.datetime(year, month, day) + dt.timedelta(days=1)
        return dt.datetime(year, month, day, hour, minute, second)
    except ValueError as exc:
        raise ValueFormatError(f"not a date: {text!r}") from exc


def format_datetime(value: dt.datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S")


def parse_time_minutes(text: str, *, end: bool = False) -> int:
    """Minutes after midnight; as an end of a working period ``00:00:00`` means midnight (1440)."""
    match = _TIME_RE.match(text)
    if not match:
        raise ValueFormatError(f"not a time: {text!r}")
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 24 or minute > 59 or (hour == 24 and minute):
        raise ValueFormatError(f"not a time: {text!r}")
    minutes = hour * 60 + minute
    return 1440 if end and minutes == 0 else minutes


def format_time_minutes(minutes: int) -> str:
    """Inverse of :func:`parse_time_minutes`; midnight as an end is written ``00:00:00``."""
    hour, minute = divmod(int(minutes) % 1440, 60)
    return f"{hour:02d}:{minute:02d}:00"


# --- durations ------------------------------------------------------------------------------------

_DURATION_RE = re.compile(
    r"^\s*(-)?P(?:(-?\d+(?:\.\d+)?)Y)?(?:(-?\d+(?:\.\d+)?)M)?(?:(-?\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(-?\d+(?:\.\d+)?)H)?(?:(-?\d+(?:\.\d+)?)M)?(?:(-?\d+(?:\.\d+)?)S)?)?\s*$"
)


@dataclass(frozen=True)
class FormatCode:
    """A decoded duration/lag format: the unit as the model spells it, and its flags."""

    unit: str
    elapsed: bool
    estimated: bool = False

    @property
    def percent(self) -> bool:
        return self.unit.endswith("%")


def parse_format(code: int | None, default_unit: str = "d") -> FormatCode:
    """Decode ``DurationFormat``/``LagFormat``; unknown or "null" formats give ``default_unit``."""
    if code is None or code in _NULL_FORMATS:
        unit, estimated = default_unit, code == 53
    else:
        estimated = code > ESTIMATED_OFFSET
        unit = _UNIT_BY_CODE.get(code - ESTIMATED_OFFSET if estimated else code, default_unit)
    return FormatCode(unit=unit, elapsed=unit.startswith("e"), estimated=estimated)


def format_code(unit: str, elapsed: bool, *, estimated: bool = False) -> int:
    """Encode a model unit (``d``, ``eh``, ...) as a format code; ``elapsed`` adds the ``e``."""
    base = unit[1:] if unit.startswith("e") else unit
    if base not in {"m", "h", "d", "w", "mo", "%"}:
        base = "d"
    code = _CODE_BY_UNIT[("e" if elapsed else "") + base]
    return code + ESTIMATED_OFFSET if estimated else code


def parse_duration_minutes(
    text: str, *, elapsed: bool = False, minutes_per_day: float = 480, days_per_month: float = 20
) -> float:
    """Minutes of an ``xsd:duration`` such as ``PT8H0M0S`` or ``-PT16H0M0S`` (``PT-16H0M0S`` too).

    Microsoft Project writes only hours, minutes and seconds, which are minutes as they stand
    (working minutes unless the format is elapsed). Day, month and year parts from other writers are
    converted with the project's day length (or 24 hours when elapsed).
    """
    match = _DURATION_RE.match(text)
    if not match or not any(match.groups()[1:]):
        raise ValueFormatError(f"not a duration: {text!r}")
    sign = -1.0 if match.group(1) else 1.0
    years, months, days, hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups()[1:])
    day = 1440.0 if elapsed else float(minutes_per_day)
    month = 30 * 1440.0 if elapsed else days_per_month * day
    total = years * 12 * month + months * month + days * day + hours * 60 + minutes + seconds / 60
    return sign * total


def format_duration_minutes(minutes: float) -> str:
    """``PT8H0M0S``: whole hours, whole minutes and (rarely) seconds, the form Project reads."""
    sign = "-" if minutes < 0 else ""
    total_seconds = round(abs(minutes) * 60)
    hours, rest = divmod(total_seconds, 3600)
    mins, secs = divmod(rest, 60)
    return f"{sign}PT{hours}H{mins}M{secs}S"


def duration_from_xml(
    text: str,
    code: int | None,
    *,
    default_unit: str = "d",
    minutes_per_day: float = 480,
    days_per_month: float = 20,
) -> Duration:
    """A model duration from ``Duration`` text and its ``DurationFormat`` code."""
    fmt = parse_format(code, default_unit)
    unit = fmt.unit if not fmt.percent else ("ed" if fmt.elapsed else "d")
    minutes = parse_duration_minutes(
        text, elapsed=fmt.elapsed, minutes_per_day=minutes_per_day, days_per_month=days_per_month
    )
    return Duration(minutes=minutes, elapsed=fmt.elapsed, unit=unit)


def duration_format_code(duration: Duration) -> int:
    return format_code(duration.unit, duration.elapsed)


# --- lags and slack -------------------------------------------------------------------------------


def lag_from_xml(link_lag: int, lag_format: int | None) -> Lag:
    """A lag from ``LinkLag`` and ``LagFormat``.

    Duration lags are tenths of a minute. A percent lag (format 19/20) is stored as the percentage
    itself (``-75`` is -75 %), not in tenths: that is how Microsoft Project files converted by MPXJ
    and by Aspose encode it, and what the corpus confirms. An elapsed percent lag keeps its flag on
    the (zero) duration part since :class:`Lag` has no field for it.
    """
    fmt = parse_format(lag_format, "d")
    if fmt.percent:
        elapsed_flag = Duration(0.0, elapsed=True, unit="ed") if fmt.elapsed else Duration(0.0)
        return Lag(duration=elapsed_flag, percent=float(link_lag))
    return Lag(duration=Duration(link_lag / 10.0, elapsed=fmt.elapsed, unit=fmt.unit))


def lag_to_xml(lag: Lag) -> tuple[int, int]:
    """``(LinkLag, LagFormat)`` for a lag; the inverse of :func:`lag_from_xml`."""
    if lag.percent is not None:
        return round(lag.percent), format_code("%", lag.duration.elapsed)
    duration = lag.duration
    return round(duration.minutes * 10), format_code(duration.unit, duration.elapsed)


def minutes_to_tenths(minutes: float) -> int:
    """Slack and lags are integers in tenths of a minute."""
    return round(minutes * 10)


def tenths_to_minutes(tenths: int | float) -> float:
    return tenths / 10.0


# --- calendars ------------------------------------------------------------------------------------


def python_weekday(day_type: int) -> int:
    """``WeekDay/DayType`` 1 = Sunday ... 7 = Saturday -> Python's Monday = 0 ... Sunday = 6."""
    if not 1 <= day_type <= 7:
        raise ValueFormatError(f"not a day type: {day_type}")
    return (day_type + 5) % 7


def day_type(weekday: int) -> int:
    """Inverse of :func:`python_weekday`."""
    return (weekday + 1) % 7 + 1


def weekday_bit(weekday: int) -> int:
    """The ``Exception/DaysOfWeek`` bit of a Python weekday (Sunday = 1, Monday = 2, ... Saturday = 64)."""
    return 1 << (day_type(weekday) - 1)

"""Readers for what people type into plan cells, and writers for their canonical text.

Every ``parse_x`` raises only ``InputError`` (a ``ValueError``) with a message a project manager
can act on, and has a ``format_x`` such that ``parse_x(format_x(v)) == v``. The parsers are pure:
no Excel, no clock (relative dates take the status date as an argument). This module is the one
place to import them from; durations, predecessors and dates live in their own modules, and
% complete and constraint types are read here.
"""

from __future__ import annotations

import math
import re

from wbs_tools.core.dates import format_date, parse_date
from wbs_tools.core.durations import (
    InputError,
    excel_error,
    excel_error_message,
    format_duration,
    format_lag,
    format_number,
    parse_duration,
    parse_lag,
    real_number,
)
from wbs_tools.core.model import ConstraintType
from wbs_tools.core.predecessors import format_predecessors, parse_predecessors

__all__ = [
    "InputError",
    "format_constraint_type",
    "format_date",
    "format_duration",
    "format_lag",
    "format_percent",
    "format_predecessors",
    "parse_constraint_type",
    "parse_date",
    "parse_duration",
    "parse_lag",
    "parse_percent",
    "parse_predecessors",
]

_PERCENT_HELP = "type a number from 0 to 100, such as 50 or 50%"


def parse_percent(text: object) -> float:
    """Read % complete as a number from 0 to 100.

    Excel keeps a cell formatted as a percentage as a fraction (50% is stored as 0.5), so a
    *float* from 0 to 1 is taken as a fraction; an int, or any text, is taken as percent:
    ``0.5 -> 50``, ``1.0 -> 100``, ``1 -> 1``, ``"0.5" -> 0.5``, ``"50%" -> 50``. A reader that
    knows the cell's number format and wants otherwise should pass text. Empty means 0.

    >>> parse_percent("50%"), parse_percent(0.5), parse_percent(50), parse_percent("12,5")
    (50.0, 50.0, 50.0, 12.5)
    >>> parse_percent("120%")
    Traceback (most recent call last):
    wbs_tools.core.durations.InputError: '120%' is not a % complete: type a number from 0 to 100, such as 50 or 50%
    """
    number = real_number(text)
    if number is not None:
        if isinstance(text, float) and 0 <= number <= 1:
            number = round(number * 100, 10)  # 0.07 * 100 would be 7.000000000000001
        shown = repr(text)
    elif text is None or (isinstance(text, str) and not text.strip()):
        return 0.0
    elif isinstance(text, str):
        if (code := excel_error(text)) is not None:
            raise InputError(excel_error_message(code, "a percentage"))
        shown = f"'{text.strip()}'"
        clean = re.sub(r"(?<=\d),(?=\d)", ".", text.strip().removesuffix("%").strip())
        match = re.fullmatch(r"\+?(\d+(?:\.\d*)?|\.\d+)", clean, re.ASCII)
        number = float(match[1]) if match else math.nan
    else:
        raise InputError(f"{text!r} is not a % complete: {_PERCENT_HELP}")
    if not 0 <= number <= 100:
        raise InputError(f"{shown} is not a % complete: {_PERCENT_HELP}")
    return number + 0.0


def format_percent(value: float) -> str:
    """Write a percentage as text that ``parse_percent`` reads back exactly ("50%", "12.5%").

    >>> format_percent(50.0), format_percent(12.5)
    ('50%', '12.5%')
    """
    return f"{format_number(value)}%"


_CONSTRAINT_NAMES: dict[ConstraintType, str] = {
    ConstraintType.ASAP: "As Soon As Possible",
    ConstraintType.ALAP: "As Late As Possible",
    ConstraintType.SNET: "Start No Earlier Than",
    ConstraintType.SNLT: "Start No Later Than",
    ConstraintType.FNET: "Finish No Earlier Than",
    ConstraintType.FNLT: "Finish No Later Than",
    ConstraintType.MSO: "Must Start On",
    ConstraintType.MFO: "Must Finish On",
}
_CONSTRAINT_LOOKUP: dict[str, ConstraintType] = {
    **{kind.value.lower(): kind for kind in ConstraintType},
    **{re.sub(r"[^a-z]", "", name.lower()): kind for kind, name in _CONSTRAINT_NAMES.items()},
    **{re.sub(r"[^a-z]", "", name.lower().replace(" no ", " not ")): kind for kind, name in _CONSTRAINT_NAMES.items()},
}


def parse_constraint_type(text: object) -> ConstraintType:
    """Read a constraint: a code ("SNET") or MS Project's name ("Start No Earlier Than"), any case.

    Spaces, hyphens and "not" for "no" are tolerated; empty means As Soon As Possible.

    >>> parse_constraint_type("snet"), parse_constraint_type("Must Start On"), parse_constraint_type("")
    (<ConstraintType.SNET: 'SNET'>, <ConstraintType.MSO: 'MSO'>, <ConstraintType.ASAP: 'ASAP'>)
    """
    if isinstance(text, ConstraintType):
        return text
    if text is None or (isinstance(text, str) and not text.strip()):
        return ConstraintType.ASAP
    if isinstance(text, str):
        if (code := excel_error(text)) is not None:
            raise InputError(excel_error_message(code, "a constraint type"))
        found = _CONSTRAINT_LOOKUP.get(re.sub(r"[^a-z]", "", text.lower()))
        if found is not None:
            return found
    shown = f"'{text.strip()}'" if isinstance(text, str) else repr(text)
    raise InputError(
        f"{shown} is not a constraint type: use ASAP, ALAP, SNET, SNLT, FNET, FNLT, MSO or MFO, "
        "or a name such as Start No Earlier Than"
    )


def format_constraint_type(kind: ConstraintType, *, long: bool = False) -> str:
    """Write a constraint as its code ("SNET") or, with ``long``, MS Project's name.

    >>> format_constraint_type(ConstraintType.SNET), format_constraint_type(ConstraintType.MFO, long=True)
    ('SNET', 'Must Finish On')
    """
    return _CONSTRAINT_NAMES[kind] if long else kind.value

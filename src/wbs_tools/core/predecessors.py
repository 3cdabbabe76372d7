"""Predecessor cells in Microsoft Project's notation: "3", "3FS+2d", "5SS-1d;7FF+50%".

A cell holds a list of entries, each ``ID[TYPE][(+|-)LAG]``. Entries are separated by ``,`` or
``;`` or line breaks, and spaces between complete entries are tolerated ("3 4 5"). One bad entry
must not cost the good ones, so ``parse_predecessors`` returns the links it could read together
with one message per entry it could not; the caller turns those into ``link.bad-syntax`` findings.

A comma is a separator, except a decimal comma inside a lag: between digits after a ``+``/``-``
when a unit or ``%`` follows ("3FS+1,5d"), or anywhere in a lag when the cell uses ``;`` between
entries ("3FS+1,5;4"). IDs are only read here; whether they exist is checked elsewhere.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

from wbs_tools.core.durations import (
    UNIT_ALIASES,
    InputError,
    excel_error,
    excel_error_message,
    format_lag,
    parse_lag,
    real_number,
)
from wbs_tools.core.model import Lag, Link, LinkType

__all__ = ["format_predecessors", "parse_predecessors"]

_UNITS = "|".join(sorted({*UNIT_ALIASES, "elapsed"}, key=len, reverse=True))
_UNIT_COMMA = re.compile(rf"([+-]\s*\d+),(\d+\s*(?:%|(?:{_UNITS})(?![a-z])))", re.ASCII)
_LAG_COMMA = re.compile(r"([+-]\s*\d+),(\d)", re.ASCII)
_SEPARATORS = re.compile(r"[,;\r\n]+")
_LAG = r"[+-]\s*(?:\d+(?:\.\d*)?|\.\d+)(?:\s*(?:elapsed\s*)?(?:[a-z]+|%))?(?:\s*\?)?"
_ENTRY = re.compile(rf"(?P<id>\d+)(?:\s*(?P<type>[a-z]+))?(?:\s*(?P<lag>{_LAG}))?", re.ASCII)
_LOOSE = re.compile(r"(?P<id>\d+)\s*(?P<type>[a-z]*)\s*(?P<lag>[+-].*)?", re.ASCII | re.DOTALL | re.IGNORECASE)
_DASHES = str.maketrans({"\u2212": "-", "\u2013": "-", "\u2014": "-", "\u00a0": " ", "\t": " "})
_EXAMPLES = "e.g. 3, 3FS+2d, 5SS-1d or 7FF+50%"


def _why(entry: str) -> str:
    """Explain what is wrong with an entry that does not read."""
    loose = _LOOSE.fullmatch(entry)
    if not loose:
        return f"write a task ID, then optionally a type (FS, SS, FF, SF) and a lag, {_EXAMPLES}"
    kind = loose["type"].upper()
    if kind and kind not in LinkType.__members__:
        return f"{kind} is not a link type: use FS, SS, FF or SF, {_EXAMPLES}"
    lag = (loose["lag"] or "").strip()
    if lag[1:].strip() == "":
        return f"the lag after {lag or 'the type'} is missing, {_EXAMPLES}"
    return f"the lag '{lag}' is not a duration or percentage, {_EXAMPLES}"


def _entries(chunk: str) -> list[re.Match[str]] | None:
    """Split one separator-free piece into entries ("3 4", "3 FS + 2 days"); None if it does not read."""
    found: list[re.Match[str]] = []
    pos = 0
    while pos < len(chunk):
        if found and not (chunk[pos - 1].isspace() or chunk[pos].isspace()):
            return None  # "3FS4": entries must be apart
        while chunk[pos].isspace():
            pos += 1
        match = _ENTRY.match(chunk, pos)
        if not match:
            return None
        found.append(match)
        pos = match.end()
    return found


def _link(match: re.Match[str], successor: int, origin: str | None, settings: dict[str, float]) -> Link:
    """Build one link from an entry; raises InputError for an unknown type or unreadable lag."""
    kind = (match["type"] or "fs").upper()
    if kind not in LinkType.__members__:
        raise InputError(kind)
    lag = parse_lag(match["lag"], **settings) if match["lag"] else Lag()
    return Link(int(match["id"]), successor, LinkType[kind], Lag() if lag.is_zero else lag, origin)


def parse_predecessors(
    text: object,
    successor: int,
    *,
    origin: str | None = None,
    minutes_per_day: float = 480,
    minutes_per_week: float = 2400,
    days_per_month: float = 20,
) -> tuple[list[Link], list[str]]:
    """Read a predecessor cell into links to ``successor``, plus one message per unreadable entry.

    A number cell (3 or 3.0) is one task ID. Type defaults to FS; a zero lag is no lag.

    >>> links, errors = parse_predecessors("3FS+2d; 5ss-1d, 4XX+2, 7", 9)
    >>> [(link.predecessor, link.type.value, link.lag.duration.minutes) for link in links]
    [(3, 'FS', 960.0), (5, 'SS', -480.0), (7, 'FS', 0.0)]
    >>> errors
    ["'4XX+2' is not a predecessor: XX is not a link type: use FS, SS, FF or SF, e.g. 3, 3FS+2d, 5SS-1d or 7FF+50%"]
    """
    settings = {
        "minutes_per_day": minutes_per_day,
        "minutes_per_week": minutes_per_week,
        "days_per_month": days_per_month,
    }
    parse_lag("0", **settings)  # refuse bad settings up front, not once per entry
    if text is None:
        return [], []
    number = real_number(text)
    if number is not None:
        if math.isfinite(number) and number >= 0 and number.is_integer():
            return [Link(int(number), successor, origin=origin)], []
        return [], [f"{text!r} is not a predecessor: a task ID is a whole number such as 3"]
    if not isinstance(text, str):
        return [], [f"{text!r} is not a predecessor: {_EXAMPLES}"]
    if (code := excel_error(text)) is not None:
        return [], [excel_error_message(code, "the predecessor IDs")]
    clean = text.translate(_DASHES)
    clean = (_LAG_COMMA if ";" in clean else _UNIT_COMMA).sub(r"\1.\2", clean)
    links: list[Link] = []
    errors: list[str] = []
    for raw in _SEPARATORS.split(clean):
        chunk = raw.strip()
        if not chunk:
            continue
        lowered = chunk.lower()
        matches = _entries(lowered) if lowered.isascii() else None
        try:
            if matches is None:
                raise InputError(chunk)
            links.extend(_link(match, successor, origin, settings) for match in matches)
        except InputError:
            errors.append(f"'{chunk}' is not a predecessor: {_why(chunk)}")
    return links, errors


def format_predecessors(
    links: Iterable[Link],
    *,
    separator: str = ";",
    minutes_per_day: float = 480,
    minutes_per_week: float = 2400,
    days_per_month: float = 20,
) -> str:
    """Write links back in canonical form, FS left out when there is no lag (as MS Project does).

    >>> format_predecessors(parse_predecessors("3 fs + 2 days, 5SS-1d, 7FS, 8ff+50%", 9)[0])
    '3FS+2d;5SS-1d;7;8FF+50%'
    """
    entries = []
    for link in links:
        lag = ""
        if not link.lag.is_zero:
            lag = format_lag(
                link.lag,
                minutes_per_day=minutes_per_day,
                minutes_per_week=minutes_per_week,
                days_per_month=days_per_month,
            )
            lag = lag if lag.startswith("-") else "+" + lag
        kind = "" if link.type is LinkType.FS and not lag else link.type.value
        entries.append(f"{link.predecessor}{kind}{lag}")
    return separator.join(entries)

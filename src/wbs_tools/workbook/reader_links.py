"""Links: predecessor cells, the Dependencies sheet, link types and task IDs as typed, and where each
link was typed.

Repeated texts are parsed once: durations ("5d") per distinct cell, predecessor entries per distinct
text after the ID ("FS+2d"), since a 100,000-row plan repeats a few hundred of them.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import NamedTuple

from wbs_tools.core.findings import Finding
from wbs_tools.core.model import Duration, Lag, Link, LinkType, Plan
from wbs_tools.core.parsing import InputError, parse_duration, parse_lag, parse_predecessors
from wbs_tools.workbook.layout import DEPENDENCIES
from wbs_tools.workbook.reader_tables import Sheet, TableLocation, data_rows
from wbs_tools.workbook.reader_values import Cell, finding, is_empty, text_of, whole_number


class Units(NamedTuple):  # a tuple: hashed fast as the key of the parse caches below
    minutes_per_day: float
    minutes_per_week: float
    days_per_month: float


@functools.lru_cache(maxsize=65536, typed=True)  # typed: TRUE must not hit the entry of 1.0
def cached_duration(value: Cell, units: Units) -> Duration:
    return parse_duration(value, minutes_per_day=units.minutes_per_day,
                          minutes_per_week=units.minutes_per_week, days_per_month=units.days_per_month)


_ENTRY = re.compile(r"\s*(\d+)(.*)", re.DOTALL | re.ASCII)
_SEPARATORS = re.compile(r"[;\r\n]+")


@functools.lru_cache(maxsize=65536)
def entry_tail(tail: str, units: Units) -> tuple[LinkType, Lag] | None:
    """Type and lag of an entry's text after its ID ("FS+2d"), or None when it is not one plain link."""
    links, errors = parse_predecessors("1" + tail, 0, minutes_per_day=units.minutes_per_day,
                                       minutes_per_week=units.minutes_per_week, days_per_month=units.days_per_month)
    return (links[0].type, links[0].lag) if len(links) == 1 and not errors and links[0].predecessor == 1 else None


def predecessor_entries(value: Cell, units: Units) -> tuple[list[tuple[int, LinkType, Lag]], list[str]]:
    """Entries of a predecessor cell. IDs make most cells unique, so each entry's tail is parsed once
    per distinct tail; a cell with commas or anything unusual goes to the full parser as a whole."""
    cls = value.__class__
    if (cls is float or cls is int) and 0 <= value < 10**15 and (cls is int or value.is_integer()):  # type: ignore[operator,union-attr]
        alone = entry_tail("", units)  # a number typed in a General cell: one ID, FS without lag
        if alone is not None:
            return [(int(value), *alone)], []  # type: ignore[arg-type]
    if isinstance(value, str) and "," not in value and value.isascii():
        entries = []
        split = ";" in value or "\n" in value or "\r" in value
        plain: tuple[LinkType, Lag] | None = None
        for chunk in _SEPARATORS.split(value) if split else (value,):
            if chunk.isdigit():  # an ID alone, as most entries are: FS without lag
                plain = plain or entry_tail("", units)
                if plain is not None:
                    entries.append((int(chunk), *plain))
                    continue
            match = _ENTRY.fullmatch(chunk) if chunk.strip() else None
            tail = entry_tail(match[2], units) if match else None
            if chunk.strip() and tail is None:
                break
            if match and tail:
                entries.append((int(match[1]), *tail))
        else:
            return entries, []
    links, errors = parse_predecessors(value, 0, minutes_per_day=units.minutes_per_day,
                                       minutes_per_week=units.minutes_per_week, days_per_month=units.days_per_month)
    return [(link.predecessor, link.type, link.lag) for link in links], errors



def task_id(value: object, role: str) -> int:
    if is_empty(value):
        raise InputError(f"the {role} ID is missing: type the task's ID")
    return whole_number(value, f"a {role} ID (a whole number)")


LINK_TYPES = {"fs": LinkType.FS, "ss": LinkType.SS, "ff": LinkType.FF, "sf": LinkType.SF,
               "finishstart": LinkType.FS, "startstart": LinkType.SS, "finishfinish": LinkType.FF,
               "startfinish": LinkType.SF}


def link_type(value: object) -> LinkType:
    """FS/SS/FF/SF in any case, or spelled out ("Finish-to-Start"); empty means FS."""
    text = text_of(value)
    if text is None:
        return LinkType.FS
    found = LINK_TYPES.get(re.sub(r"[^a-z]", "", text.lower()).replace("to", ""))
    if found is None:
        raise InputError(f"'{text}' is not a link type: use FS, SS, FF or SF")
    return found


def read_dependencies(sheet: Sheet, table: TableLocation, plan: Plan, findings: list[Finding],
                      mirror_rows: list[int]) -> list[Link]:
    """Links typed on the Dependencies sheet; rows mirrored from Predecessors cells (their row numbers go
    to ``mirror_rows``) are skipped."""
    s = plan.settings
    keys = [k for k in table.columns if not DEPENDENCIES.column(k).computed]
    wanted = [k for k in _READ if k in table.columns]
    columns = [table.columns[k] for k in wanted]
    units = Units(s.minutes_per_day, s.minutes_per_week, s.days_per_month)
    links = []
    typed: dict[tuple[int, int], list[Link]] | None = None  # the Predecessors links by (pred, succ)
    for row in data_rows(sheet, table, keys):
        cell: dict[str, Cell] = dict(zip(wanted, sheet.values(row, columns), strict=True))  # type: ignore[arg-type]
        source = cell.get("source")
        if source == "Tasks" or re.match(r"\s*tasks?\b", text_of(source) or "", re.IGNORECASE):
            mirror_rows.append(row)
            if typed is None:
                typed = {}
                for lk in plan.links:
                    typed.setdefault((lk.predecessor, lk.successor), []).append(lk)
            _check_mirror(typed, table, row, cell, units, findings)
            continue
        if is_empty(cell.get("predecessor_id")) and is_empty(cell.get("successor_id")):
            continue  # a note or a heading, not a link
        origin = table.address(row, "predecessor_id") or sheet.address(row, min(table.columns.values()))
        key = "predecessor_id"
        try:
            pred = task_id(cell.get("predecessor_id"), "predecessor")
            key = "successor_id"
            succ = task_id(cell.get("successor_id"), "successor")
            key = "type"
            kind = link_type(cell.get("type"))
            key = "lag"
            lag = _lag(cell.get("lag"), units)
        except InputError as error:
            shown = text_of(cell.get(key)) or "(empty)"
            message = f"{DEPENDENCIES.column(key).title} {shown}: {error}; the link was ignored"
            findings.append(finding("link.bad-syntax", message, field=key,
                                         location=table.address(row, key) or origin))
            continue
        links.append(Link(pred, succ, kind, lag, origin))
    return links


#: the Dependencies columns a refresh reads (the others are its own output or the user's notes)
_READ = ("source", "predecessor_id", "successor_id", "type", "lag")


def _id(value: Cell, role: str) -> int:
    """``task_id``, with the number a mirrored row holds taken directly."""
    if type(value) is float and value.is_integer():
        return int(value)
    return task_id(value, role)


@functools.lru_cache(maxsize=4096)
def _type_text(value: str) -> LinkType:
    return link_type(value)


@functools.lru_cache(maxsize=65536, typed=True)
def _lag(value: Cell, units: Units) -> Lag:
    return parse_lag(value, minutes_per_day=units.minutes_per_day, minutes_per_week=units.minutes_per_week,
                     days_per_month=units.days_per_month)


def _check_mirror(links: dict[tuple[int, int], list[Link]], table: TableLocation, row: int,
                  cell: dict[str, Cell], units: Units, findings: list[Finding]) -> None:
    """A row mirrored from a Predecessors cell is rewritten on refresh: an edit there is reported.

    A 100,000-link plan has as many mirrored rows, holding a few hundred distinct types and lags."""
    try:
        pair: tuple[int, int] | None = (_id(cell.get("predecessor_id"), "predecessor"),
                                        _id(cell.get("successor_id"), "successor"))
        kind = cell.get("type")
        kind = _type_text(kind) if type(kind) is str else link_type(kind)
        lag = _lag(cell.get("lag"), units)
    except InputError:
        pair = None
    typed = links.get(pair, []) if pair is not None else []
    if typed and any((lk.type, lk.lag) == (kind, lag) for lk in typed):
        return
    key = "predecessor_id" if not typed else ("type" if all(lk.type != kind for lk in typed) else "lag")
    findings.append(finding(
        "link.mirror-edited", "this row repeats a link from the Predecessors column (Source: Tasks) and "
        "is rewritten on every refresh, so the edit was not used", field=key,
        location=table.address(row, key),
        hint="Change the link in the Tasks sheet's Predecessors cell, or set Source to Dependencies."))


class LinkSources(Mapping[tuple[int, int], tuple[str, ...]]):
    """(predecessor, successor) -> the sheets the link was typed on ("Tasks" and/or "Dependencies").

    Worked out from the links when first looked at: a refresh never asks, and a dict of a million
    pairs would stay in memory with the plan. Reads, compares and pickles as that dict.
    """

    __slots__ = ("_found", "_links", "_prefix", "_sheets")

    def __init__(self, links: Sequence[Link], prefix: str, sheets: tuple[str, str]) -> None:
        self._links: tuple[Link, ...] = tuple(links)  # the plan's list may change later
        self._prefix, self._sheets = prefix, sheets  # origin prefix of the Dependencies sheet; (Tasks, Dependencies)
        self._found: dict[tuple[int, int], tuple[str, ...]] | None = None

    def _table(self) -> dict[tuple[int, int], tuple[str, ...]]:
        if self._found is None:
            found: dict[tuple[int, int], tuple[str, ...]] = {}
            tasks, dependencies = self._sheets
            for link in self._links:
                sheet_of = dependencies if (link.origin or "").startswith(self._prefix) else tasks
                known = found.get((link.predecessor, link.successor), ())
                found[link.predecessor, link.successor] = known if sheet_of in known else (*known, sheet_of)
            self._found, self._links = found, ()
        return self._found

    def __getitem__(self, key: tuple[int, int]) -> tuple[str, ...]:
        return self._table()[key]

    def __iter__(self) -> Iterator[tuple[int, int]]:
        return iter(self._table())

    def __len__(self) -> int:
        return len(self._table())

    def __repr__(self) -> str:
        return repr(self._table())

    def __reduce__(self) -> tuple[type[dict[tuple[int, int], tuple[str, ...]]],
                                  tuple[dict[tuple[int, int], tuple[str, ...]]]]:
        return dict, (dict(self._table()),)

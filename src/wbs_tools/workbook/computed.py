"""The computed columns of a plan workbook, as cell edits.

Only columns the layout marks COMPUTED are ever produced here, at the rows where the reader found
each task or link, so an input cell can never be overwritten. Owned sheets (Check, ...) are built as
whole rows.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import partial
from itertools import pairwise
from operator import itemgetter

from wbs_tools.core.earned_value import baseline_variances
from wbs_tools.core.findings import Finding, Severity
from wbs_tools.core.model import Link
from wbs_tools.core.parsing import format_lag
from wbs_tools.core.registers.cells import column_letters
from wbs_tools.core.schedule import DriverKind, Schedule, column_of, fields_of
from wbs_tools.workbook.cell_edits import MAX_ROW, CellEdits, RowCells, StreamedEdits
from wbs_tools.workbook.layout import CHECK, DEPENDENCIES, MAX_ROWS, TASKS, SheetLayout
from wbs_tools.workbook.lossless import CellValue, OwnedSheet
from wbs_tools.workbook.reader_cells import RowCells as RowAddresses
from wbs_tools.workbook.reader_tables import TableLocation

_ROW = re.compile(r"!\$?[A-Z]{1,3}\$?(\d+)$")


def column_letter(number: int) -> str:
    """1 -> A, 27 -> AA.

    >>> column_letter(1), column_letter(28), column_letter(16384)
    ('A', 'AB', 'XFD')
    """
    return column_letters(number)


def row_of(addresses: Iterable[str | None]) -> int | None:
    """The sheet row of the first "Sheet!B12" style address."""
    for address in addresses:
        m = _ROW.search(address or "")
        if m:
            return int(m.group(1))
    return None


def _days(minutes: float, per_day: float) -> float:
    return round(minutes / per_day, 2)


def _flags(in_cycle: bool, deadline_missed: bool, finish_slip: float | None, total_slack_minutes: float) -> str:
    flags = []
    if in_cycle:
        flags.append("in a loop")
    if deadline_missed:
        flags.append("deadline missed")
    if finish_slip is not None and finish_slip > 0:
        flags.append(f"{finish_slip:g}d behind baseline")
    if total_slack_minutes < 0:
        flags.append("negative slack")
    return "; ".join(flags)


TASK_KEYS = ("outline_number", "start", "finish", "early_start", "early_finish", "late_start", "late_finish",
             "critical", "total_slack_days", "free_slack_days", "start_variance_days", "finish_variance_days",
             "driver", "flags")


def _task_tuples(schedule: Schedule) -> Iterator[tuple[CellValue, ...]]:
    """Per task (in plan order), the computed Tasks columns in TASK_KEYS order, read from the
    schedule's columns (no per-task record is needed). Slack in days and notes of dated drivers (actual
    starts, constraints) repeat across a plan, a few thousand values, so each is worked out once."""
    per_day = schedule.plan.settings.minutes_per_day
    variances = baseline_variances(schedule)
    missed = {f.task_id for f in schedule.findings if f.code == "schedule.deadline-missed"}
    days: dict[float, float] = {}
    notes: dict[tuple[DriverKind, dt.datetime | None], str] = {}
    for (task_id, number, start, finish, early_start, early_finish, late_start, late_finish, critical, total, free,
         driver, in_cycle) in fields_of(schedule.tasks, _TUPLE_FIELDS):
        var = variances.get(task_id) if variances else None
        if var is None:
            start_var = finish_var = None
        else:
            start_var = None if var.start_days is None else round(var.start_days, 2)
            finish_var = None if var.finish_days is None else round(var.finish_days, 2)
        if (total_days := days.get(total)) is None:
            total_days = days[total] = round(total / per_day, 2)
        if (free_days := days.get(free)) is None:
            free_days = days[free] = round(free / per_day, 2)
        note = None
        if driver is not None:
            if driver.kind is DriverKind.LINK and driver.link is not None:
                note = driver.describe()  # one predecessor drives few tasks: nothing to share
            elif (note := notes.get((driver.kind, driver.date))) is None:
                note = notes[driver.kind, driver.date] = driver.describe()
        flagged = in_cycle or total < 0 or (finish_var is not None and finish_var > 0) or task_id in missed
        yield (number, start, finish, early_start, early_finish, late_start, late_finish, critical,
               total_days, free_days, start_var, finish_var, note,
               _flags(in_cycle, task_id in missed, finish_var, total) or None if flagged else None)


_TUPLE_FIELDS = ("id", "outline_number", "start", "finish", "early_start", "early_finish", "late_start",
                 "late_finish", "critical", "total_slack_minutes", "free_slack_minutes", "driver", "in_cycle")


def task_values(schedule: Schedule) -> list[dict[str, CellValue]]:
    """Per task (in plan order, so two rows sharing an ID keep their own), every computed Tasks column."""
    return [dict(zip(TASK_KEYS, values, strict=True)) for values in _task_tuples(schedule)]


def table_columns(location: TableLocation, layout: SheetLayout, *, inputs: bool = False) -> list[tuple[int, str]]:
    """(sheet column, key) of the table's computed columns (and input columns in rows wbs_tools owns),
    by column; worked out once per table, not per row."""
    found: dict[int, str] = {}
    for column in layout.columns:
        number = location.columns.get(column.key)
        if (column.computed or inputs) and number is not None:
            found[number] = column.key
    return sorted(found.items())


def _row_cells(columns: Sequence[tuple[int, str]], values: Mapping[str, CellValue]) -> RowCells:
    return [(number, values[key]) for number, key in columns if key in values]


def tasks_edits(schedule: Schedule, location: TableLocation) -> CellEdits:
    """The Tasks sheet's computed columns, produced row by row as the writer reaches them (nothing is
    held per cell in between). A row found twice keeps its first task's values."""
    index = {key: i for i, key in enumerate(TASK_KEYS)}
    picks = [(number, index[key]) for number, key in table_columns(location, TASKS) if key in index]
    rows: list[int | None] = []
    seen: set[int] = set()
    for task in schedule.plan.tasks:
        cells = task.cells
        row = cells.single_row if isinstance(cells, RowAddresses) else None  # known without parsing addresses
        if row is None:
            row = row_of(cells.values())
        if row is None or row in seen:
            rows.append(None)
        else:
            rows.append(row)
            seen.add(row)
    found = [r for r in rows if r is not None]
    ascending = all(a < b for a, b in pairwise(found)) and (not found or (found[0] >= 1 and found[-1] <= MAX_ROW))
    del found
    del seen
    if not picks or not ascending:
        edits = CellEdits()
        if picks:
            for row, values in zip(rows, _task_tuples(schedule), strict=True):
                if row is not None:
                    edits.set_row(row, [(number, values[i]) for number, i in picks])
        return edits

    numbers = tuple(number for number, _i in picks)
    pick: Callable[[tuple[CellValue, ...]], tuple[CellValue, ...]] = (
        itemgetter(*(i for _number, i in picks)) if len(picks) > 1 else lambda values: (values[picks[0][1]],))

    return StreamedEdits(partial(_picked_rows, rows, schedule, pick), numbers,
                         len(picks) * (len(rows) - rows.count(None)))


def _picked_rows(rows: list[int | None], schedule: Schedule,
                 pick: Callable[[tuple[CellValue, ...]], tuple[CellValue, ...]]
                 ) -> Iterator[tuple[int, tuple[CellValue, ...]]]:
    """Each task's row and its picked computed values (``rows``: the task's row, None to skip it)."""
    for row, values in zip(rows, _task_tuples(schedule), strict=True):
        if row is not None:
            yield row, pick(values)  # in C: no Python step per cell


LINK_KEYS = ("predecessor_name", "successor_name", "predecessor_finish", "successor_start", "driving",
             "link_slack_days", "source")
#: a mirrored link's row: the link as typed, then its computed columns
MIRROR_KEYS = ("predecessor_id", "successor_id", "type", "lag", *LINK_KEYS)


class _TaskDates:
    """Name, start and finish of each task by ID (the last task of a reused ID, as ``by_id``), read
    from the schedule's columns: the Dependencies sheet needs them for every link."""

    def __init__(self, schedule: Schedule) -> None:
        tasks = schedule.tasks
        self.at = dict(zip(column_of(tasks, "id"), range(len(tasks)), strict=True))
        self.name, self.start, self.finish = (column_of(tasks, key) for key in ("name", "start", "finish"))


_Used = tuple[bool, float]  # a link the engine used: driving, slack in minutes


def _link_tuple(link: Link, used: _Used | None, tasks: _TaskDates, per_day: float, source: str
                ) -> tuple[CellValue, ...]:
    """A link's computed Dependencies columns in LINK_KEYS order."""
    p, s = tasks.at.get(link.predecessor), tasks.at.get(link.successor)
    return (None if p is None else tasks.name[p], None if s is None else tasks.name[s],
            None if p is None else tasks.finish[p], None if s is None else tasks.start[s],
            None if used is None else used[0], None if used is None else _days(used[1], per_day),
            "ignored: see Check" if used is None else source)


def dependencies_edits(schedule: Schedule, location: TableLocation, mirror_rows: Sequence[int] = (),
                       tasks_sheet: str = TASKS.name) -> tuple[CellEdits, int]:
    """The Dependencies sheet shows every link the engine used; also returns how many did not fit.

    Rows typed there get their computed columns. Links typed in the Tasks sheet's Predecessors cells
    are mirrored into rows marked Source "Tasks", which wbs_tools owns: they are rewritten in place,
    new ones go below the table's last row (down to Excel's last row), and mirrors of links that no
    longer exist are cleared. Everything is read from the schedule's columns (no record is built).
    """
    tasks = _TaskDates(schedule)
    settings = schedule.plan.settings
    per_day = settings.minutes_per_day
    links = schedule.links
    used_links = list(zip(column_of(links, "link"), zip(column_of(links, "driving"),
                                                        column_of(links, "slack_minutes"), strict=True),
                          strict=True))
    used: dict[tuple[int, int, str | None], _Used] | None = None  # made when a row typed here needs it
    edits = CellEdits()
    computed = table_columns(location, DEPENDENCIES)
    owned = table_columns(location, DEPENDENCIES, inputs=True)
    prefix = f"{location.sheet}!"
    for link in schedule.plan.links:
        row = row_of([link.origin]) if (link.origin or "").startswith(prefix) else None
        if row is not None:
            if used is None:
                used = {(link.predecessor, link.successor, link.origin): found for link, found in used_links}
            found = used.get((link.predecessor, link.successor, link.origin))
            typed = dict(zip(LINK_KEYS, _link_tuple(link, found, tasks, per_day, DEPENDENCIES.name), strict=True))
            edits.set_row(row, _row_cells(computed, typed))
    mirror_prefix = f"{tasks_sheet}!"
    mirrored = sorted((pair for pair in used_links if (pair[0].origin or "").startswith(mirror_prefix)),
                      key=lambda pair: (pair[0].successor, pair[0].predecessor))
    rows = sorted(mirror_rows)
    next_row = max([location.last_row, *rows, location.header_row]) + 1
    units = {"minutes_per_day": settings.minutes_per_day, "minutes_per_week": settings.minutes_per_week,
             "days_per_month": settings.days_per_month}
    left_out = 0
    # (sheet column, index in MIRROR_KEYS) of the owned columns a mirror fills: its row is built from
    # one tuple per link rather than a mapping per link
    picks = [(number, MIRROR_KEYS.index(key)) for number, key in owned if key in MIRROR_KEYS]
    numbers = [number for number, _i in picks]
    pick = _picker([i for _n, i in picks])
    lag_texts: dict[int, str] = {}  # by the Lag object's id: links share a handful of them
    mirrors: list[tuple[int, tuple[CellValue, ...]]] = []  # (row, values in ``numbers``), rows ascending
    for n, (link, found) in enumerate(mirrored):
        if n < len(rows):
            row = rows[n]
        else:
            if next_row > MAX_ROWS:  # the sheet is full: the rest are shown in Predecessors only
                left_out = len(mirrored) - n
                break
            row, next_row = next_row, next_row + 1
        lag = link.lag
        if lag.is_zero:
            lag_text = None
        elif (lag_text := lag_texts.get(id(lag))) is None:
            lag_text = lag_texts[id(lag)] = format_lag(lag, **units)
        values = (link.predecessor, link.successor, link.type.value, lag_text,
                  *_link_tuple(link, found, tasks, per_day, tasks_sheet))
        mirrors.append((row, pick(values)))
    gone = [(number, None) for number, key in owned if key != "note"]
    if not edits.rows and len(mirrored) >= len(rows) and numbers:
        # mirrors only (the sheet's links all come from Predecessors): rows in one set of columns,
        # which the writer takes as they are
        return StreamedEdits(lambda: iter(mirrors), tuple(numbers), len(numbers) * len(mirrors)), left_out
    for row, values in mirrors:
        edits.set_row(row, list(zip(numbers, values, strict=True)))
    for row in rows[len(mirrored):]:  # mirrors of links that are gone (a note typed there stays)
        edits.set_row(row, list(gone))
    return edits, left_out


def _picker(indices: list[int]) -> Callable[[Sequence[CellValue]], tuple[CellValue, ...]]:
    """The values at ``indices``, always as a tuple (``itemgetter`` returns a bare value for one index)."""
    if len(indices) > 1:
        return itemgetter(*indices)
    return lambda values: tuple(values[i] for i in indices)


def _clip(text: str, limit: int = 2000) -> str:
    """A message quoting a huge cell is cut short (Excel holds at most 32,767 characters a cell)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


_SEVERITY_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


def check_sheet(findings: Iterable[Finding], *, title: str = "Check") -> OwnedSheet:
    """The Check sheet: every finding, errors first, where it is and what to do."""
    ordered = sorted(findings, key=lambda f: (_SEVERITY_ORDER[f.severity], f.location or "", f.code))
    rows: list[list[CellValue]] = [
        [title],
        [f"{len(ordered)} findings. Fix the cell named in Where; wbs_tools never changes what you typed."],
        [c.title for c in CHECK.columns],
    ]
    room = MAX_ROWS - len(rows)
    if len(ordered) > room:  # errors first, so what is cut is the least severe
        ordered, rest = ordered[:room - 1], len(ordered) - (room - 1)
    else:
        rest = 0
    for f in ordered:
        where = f.location or (f"task {f.task_id}" if f.task_id is not None else "")
        rows.append([f.severity.value, f.code, where, _clip(f.message), _clip(f.hint or "")])
    if rest:
        rows.append(["", "", "", f"{rest:,} more findings do not fit on this sheet; `wbs check PLAN --json` "
                     "lists them all", ""])
    widths = {i + 1: c.width for i, c in enumerate(CHECK.columns)}
    return OwnedSheet(rows=rows, column_widths=widths, freeze_rows=3)

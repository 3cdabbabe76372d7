"""The registers and the weekly status, as a refresh writes them into the workbook.

Computed register columns go into the rows where the reader found them; the Change Log, the Status
sheet and the hidden history and snapshot sheets are owned and rewritten whole from what the
workbook held plus what this refresh learned. Everything is a function of the workbook's content
and the status date, so refreshing twice gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain, islice
from typing import overload

from wbs_tools.core.calendar import WorkCalendar
from wbs_tools.core.findings import Finding, make_finding
from wbs_tools.core.registers import (
    capture_changes,
    evaluate_actions,
    evaluate_issues,
    evaluate_signoffs,
    last_changed,
    parse_change_log,
    sla_table,
)
from wbs_tools.core.registers.cells import id_key
from wbs_tools.core.schedule import Schedule
from wbs_tools.core.status import RagRules, StatusReport, StatusSnapshot, build_status, status_sheet_rows
from wbs_tools.core.status.register_rows import register_view
from wbs_tools.workbook.cell_edits import CellEdits
from wbs_tools.workbook.computed import table_columns
from wbs_tools.workbook.layout import (
    ACTIONS,
    CHANGE_LOG,
    ISSUES,
    MAX_ROWS,
    REQUIREMENTS,
    REQUIREMENTS_SNAPSHOT,
    SIGN_OFF,
    STATUS,
    STATUS_HISTORY,
    STATUS_SNAPSHOT,
    SheetLayout,
)
from wbs_tools.workbook.lossless import CellValue, OwnedSheet
from wbs_tools.workbook.reader import WorkbookData

Rows = list[dict[str, object]]


@dataclass
class RegisterOutput:
    edits: dict[str, CellEdits] = field(default_factory=dict)  # sheet -> cells by row and column
    owned: dict[str, OwnedSheet] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    status: StatusReport | None = None


def owned_table(layout: SheetLayout, rows: Iterable[Mapping[str, object] | tuple[object, ...]], *,
                title: str | None = None, guidance: str = "") -> OwnedSheet:
    """An owned sheet in its layout's shape: title and guidance rows above visible tables. A row is a
    mapping by column key, or a tuple of the layout's columns in order."""
    head = _head_rows(layout, title, guidance)
    return _owned(layout, [*head, *_cells(layout, rows)])


def owned_table_made(layout: SheetLayout, make_rows: Callable[[], Iterable[Mapping[str, object] | tuple[object, ...]]],
                     count: int, ready: Callable[[], Iterable[Sequence[CellValue]]] | None = None) -> OwnedSheet:
    """:func:`owned_table` whose ``count`` rows are made by ``make_rows`` (then ``ready``) each time the
    sheet is read, not held: a million-task snapshot is written without a list per task. ``ready``
    makes rows of cell values already (no empty text), taken as they are, without a step per row."""
    def made() -> Iterable[Sequence[CellValue]]:
        converted = _cells(layout, make_rows())
        return converted if ready is None else chain(converted, ready())

    return _owned(layout, _MadeRows(_head_rows(layout, None, ""), made, count))


def _head_rows(layout: SheetLayout, title: str | None, guidance: str) -> list[list[CellValue]]:
    out: list[list[CellValue]] = []
    if layout.header_row >= 3:
        out += [[title or layout.name], [guidance or layout.guidance]]
        out += [[] for _ in range(layout.header_row - 3)]
    out.append([c.title for c in layout.columns])
    return out


def _cells(layout: SheetLayout, rows: Iterable[Mapping[str, object] | tuple[object, ...]]
           ) -> Iterator[list[CellValue]]:
    keys = [c.key for c in layout.columns]
    plain = _PLAIN
    for row in rows:
        values = row if row.__class__ is tuple else map(row.get, keys)  # type: ignore[union-attr]
        # text that is not empty is kept as it is too, without a call
        yield [v if (c := v.__class__) in plain or (c is str and v) else _cell(v) for v in values]  # type: ignore[misc]


def _owned(layout: SheetLayout, rows: Sequence[Sequence[CellValue]]) -> OwnedSheet:
    return OwnedSheet(rows=rows, state="hidden" if layout.hidden else "visible",
                      column_widths={i + 1: c.width for i, c in enumerate(layout.columns)},
                      freeze_rows=layout.header_row, width=max(len(layout.columns), 1))


class _MadeRows(Sequence[Sequence[CellValue]]):
    """Rows made anew each time they are read (see :func:`owned_table_made`)."""

    def __init__(self, head: list[list[CellValue]], make: Callable[[], Iterable[Sequence[CellValue]]],
                 count: int) -> None:
        self.head, self.make, self.made = head, make, count

    def __len__(self) -> int:
        return len(self.head) + self.made

    def __iter__(self) -> Iterator[Sequence[CellValue]]:
        return chain(self.head, self.make())

    @overload
    def __getitem__(self, index: int) -> Sequence[CellValue]: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Sequence[CellValue]]: ...
    def __getitem__(self, index: int | slice) -> Sequence[CellValue] | Sequence[Sequence[CellValue]]:
        return list(self)[index]


_PLAIN = frozenset({int, float, bool, dt.date, dt.datetime, type(None)})  # kept as they are by _cell


def _cell(value: object) -> CellValue:
    """A value as the sheet keeps it; empty text is no value, so it reads back the same."""
    if isinstance(value, str):
        return value or None
    if value is None or isinstance(value, (int, float, bool, dt.date)):
        return value
    return str(value)


def _computed_edits(data: WorkbookData, layout: SheetLayout, per_row: Iterable[tuple[int | None, Mapping]]
                    ) -> CellEdits:
    table = data.table(layout)
    edits = CellEdits()
    if table is None:
        return edits
    columns = dict(table_columns(table, layout))
    for row, values in per_row:
        if row is None:
            continue
        cells = {number: _cell(value) for key, value in values.items()
                 if (number := table.columns.get(key)) is not None and number in columns}
        edits.set_row(row, sorted(cells.items()))
    return edits


def _add(out: RegisterOutput, data: WorkbookData, layout: SheetLayout, edits: CellEdits) -> None:
    table = data.table(layout)
    if table is not None and edits:
        out.edits.setdefault(table.sheet, CellEdits()).update(edits)


def _when(value: object) -> dt.datetime | None:
    """A stored status date: a date cell, or ISO text where the workbook has no date style."""
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time(17))
    if isinstance(value, str):
        try:
            return _when(dt.datetime.fromisoformat(value.strip()))
        except ValueError:
            return None
    return None


def _latest(rows: Sequence[Mapping[str, object]], status: dt.datetime) -> Mapping[str, object] | None:
    """The last history row strictly before this status date (refreshing twice on a day is stable)."""
    dated = [(when, r) for r in rows if (when := _when(r.get("status_date"))) is not None and when < status]
    return max(dated, key=lambda pair: pair[0])[1] if dated else None


def _other_dates(rows: Iterable[Mapping[str, object]], status: dt.datetime) -> list[Mapping[str, object]]:
    """Stored rows of other weeks; this week's are replaced by the fresh ones. The rows go as they were
    read: an owned table takes its columns by key (``"_row"`` is not one)."""
    day = status.date()
    return [r for r in rows if (when := _when(r.get("status_date"))) is None or when.date() != day]


def _recent_weeks(rows: Iterable[Mapping[str, object]], status: dt.datetime, room: int
                  ) -> list[Mapping[str, object]]:
    """Stored snapshot rows of other weeks, whole weeks from the newest back, as many as ``room`` rows
    hold: a large plan's snapshot would otherwise outgrow the sheet within weeks (the report only
    compares with the latest earlier week; older ones serve a report re-run for a past date)."""
    weeks: dict[dt.date, list[Mapping[str, object]]] = {}
    today = status.date()
    for r in rows:
        when = _when(r.get("status_date"))
        if when is not None and (day := when.date()) != today:
            weeks.setdefault(day, []).append(r)
    kept: set[dt.date] = set()
    for day in sorted(weeks, reverse=True):
        if len(weeks[day]) > room:
            break
        kept.add(day)
        room -= len(weeks[day])
    return [row for day, week in weeks.items() if day in kept for row in week]


def register_output(data: WorkbookData, schedule: Schedule, calendar: WorkCalendar, status: dt.datetime,
                    decider: str | None) -> RegisterOutput:
    """Evaluate the four registers and the status report; lay them out for the workbook."""
    regs = data.registers
    out = RegisterOutput()
    locate = data.locate
    day = status.date()
    sla = sla_table(data.settings_extra)

    actions = evaluate_actions(regs.get(ACTIONS.name, []), status_date=day, calendar=calendar,
                               schedule=schedule, locate=locate)
    _add(out, data, ACTIONS, _computed_edits(data, ACTIONS, ((a.row, a.computed_cells()) for a in actions.items)))

    history = regs.get(STATUS_HISTORY.name, [])
    last = _latest(history, status)
    issues = evaluate_issues(regs.get(ISSUES.name, []), status_date=day, calendar=calendar,
                             previous_states=last.get("issue_states") if last else None, sla_days=sla,
                             schedule=schedule, locate=locate)
    _add(out, data, ISSUES, _computed_edits(data, ISSUES, ((i.row, i.computed_cells()) for i in issues.items)))

    requirements = regs.get(REQUIREMENTS.name, [])
    snapshot = [r for r in regs.get(REQUIREMENTS_SNAPSHOT.name, []) if r.get("requirement_id") is not None]
    changes, new_snapshot = capture_changes(requirements, snapshot, day, decider)
    if not snapshot:  # the first refresh takes the baseline: nothing has changed yet
        changes = []
    old_log = [{k: v for k, v in r.items() if k != "_row"} for r in regs.get(CHANGE_LOG.name, [])]
    change_log = old_log + [c.as_row() for c in changes]
    signoffs = evaluate_signoffs(regs.get(SIGN_OFF.name, []), requirements=requirements, change_log=change_log,
                                 schedule=schedule, status_date=day, locate=locate)
    _add(out, data, SIGN_OFF,
         _computed_edits(data, SIGN_OFF, ((s.row, s.computed_cells()) for s in signoffs.entries)))
    changed = last_changed(parse_change_log(change_log))
    _add(out, data, REQUIREMENTS, _computed_edits(data, REQUIREMENTS, (
        (r.get("_row"), {"last_changed": changed.get(id_key(r.get("id"))),  # type: ignore[misc]
                         "signed_off": signoffs.is_signed_off(str(r.get("id") or ""))})
        for r in requirements if r.get("id") is not None)))

    out.owned[CHANGE_LOG.name] = owned_table(CHANGE_LOG, change_log)
    out.owned[REQUIREMENTS_SNAPSHOT.name] = owned_table(REQUIREMENTS_SNAPSHOT, new_snapshot)

    registers: dict[str, Sequence[Mapping[str, object]]] = {**regs, CHANGE_LOG.name: change_log}
    snapshots = regs.get(STATUS_SNAPSHOT.name, [])
    previous = StatusSnapshot.from_rows(snapshots, before=status) if snapshots else None
    report = build_status(schedule, registers, status_date=status, previous=previous,
                          rules=RagRules(sla_days=tuple((s.value, d) for s, d in sla.items())),
                          view=register_view(actions, issues, change_log, signoffs))
    out.status = report
    out.owned[STATUS.name] = owned_table(STATUS, status_sheet_rows(report),
                                         title=f"Status at {status:%a %d %b %Y}: {report.overall.rag.value}")
    out.owned[STATUS_HISTORY.name] = owned_table(
        STATUS_HISTORY, [*_other_dates(history, status), {**report.history_row(), "issue_states": issues.states}])
    snapshot_now = report.snapshot
    current_rows = snapshot_now.row_count
    room = MAX_ROWS - STATUS_SNAPSHOT.header_row
    if current_rows > room:
        out.findings.append(make_finding(
            "sheet.full", f"this week's status snapshot has {current_rows:,} rows, more than a sheet holds; "
            f"the last {current_rows - room:,} were left out, so next week's report cannot compare those tasks",
            location=f"{STATUS_SNAPSHOT.name}!A{MAX_ROWS}"))
        current_rows = room
    earlier = _recent_weeks(snapshots, status, room - current_rows)
    out.owned[STATUS_SNAPSHOT.name] = owned_table_made(
        STATUS_SNAPSHOT, lambda: earlier, len(earlier) + current_rows,
        ready=lambda: islice(snapshot_now.table_rows(), current_rows))
    out.findings = [*out.findings, *actions.findings, *issues.findings, *signoffs.findings]
    return out

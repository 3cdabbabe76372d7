"""Read a plan workbook into a ``Plan``, the registers and the exact place of every table.

Bad input is normal input: a cell that does not read becomes a finding located at that cell
("Tasks!F12") and the rest of the workbook is still read; only a file that is not a workbook at all
(encrypted, an old .xls, a damaged zip, beyond the size limits) raises ``WorkbookError``.

Sheets are found by name (ignoring case and spaces) or, failing that, by a header row that matches
the table, so a Tasks sheet renamed "WBS" still reads. Values are read with python-calamine: the
cached results of formulas, never the formulas. Every field read is located: ``Task.cells`` maps the
field to its cell and ``Link.origin`` is the Predecessors cell or the Dependencies row, so the
scheduler's findings (a missing predecessor, a loop) point at cells too.

Text dates follow Settings "Date order": DMY and MDY read day-first and month-first; YMD (the
default) takes ISO and any text that reads one way only, and reports "02/03/2026" as ambiguous
rather than guessing. Dependencies rows whose Source says "Tasks" mirror a Predecessors cell and are
not read again. Register sheets are handed over as raw rows for the register logic to interpret.

>>> data = read_workbook("plan.xlsx")  # doctest: +SKIP
>>> data.plan.tasks[0].cells["duration"], data.cells["Tasks"].header_row  # doctest: +SKIP
('Tasks!F4', 3)
"""

from __future__ import annotations

import datetime as dt
import io
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from python_calamine import CalamineWorkbook, SheetTypeEnum

from wbs_tools.core.durations import excel_error
from wbs_tools.core.findings import Finding
from wbs_tools.core.gcpause import without_collector
from wbs_tools.core.model import CalendarSpec, Plan
from wbs_tools.workbook.layout import (
    CALENDAR_WEEK,
    CHECK,
    DEPENDENCIES,
    HOLIDAYS,
    LAYOUTS,
    LISTS,
    SETTINGS,
    STATUS,
    STATUS_SNAPSHOT,
    TASKS,
    SheetLayout,
)
from wbs_tools.workbook.package import DEFAULT_LIMITS, Limits, Package, WorkbookError, read_bounded
from wbs_tools.workbook.properties import package_modified_by
from wbs_tools.workbook.reader_links import LinkSources, read_dependencies
from wbs_tools.workbook.reader_settings import check_country, read_holidays, read_settings, read_week
from wbs_tools.workbook.reader_tables import (
    Sheet,
    TableLocation,
    TableRow,
    col_letters,
    data_rows,
    find_header,
    indented_formats,
    load_sheet,
    name_indents,
    sheet_key,
    sheet_parts,
    table_end,
)
from wbs_tools.workbook.reader_tasks import TaskReader
from wbs_tools.workbook.reader_values import finding

__all__ = ["Indents", "Sheet", "TableLocation", "WorkbookData", "WorkbookError", "read_values", "read_workbook",
           "table_key"]

#: ``indents(sheet name, column)`` -> {row: indent} for the indented cells of that column.
Indents = Callable[[str, int], Mapping[int, int]]

#: Sheets read as rows of raw values for the register logic, keyed by sheet name in ``registers``: every
#: layout but the plan's own tables and the report sheets rewritten whole (the hidden history sheets too).
REGISTER_LAYOUTS = tuple(x for x in LAYOUTS if x not in (TASKS, DEPENDENCIES, CALENDAR_WEEK, HOLIDAYS, SETTINGS,
                                                         LISTS, STATUS, CHECK))
#: Columns a table cannot do without: a finding names them when the header lacks them.
REQUIRED: dict[str, tuple[str, ...]] = {
    TASKS.table_name: ("id", "name", "duration"), DEPENDENCIES.table_name: ("predecessor_id", "successor_id"),
    CALENDAR_WEEK.table_name: ("day",), HOLIDAYS.table_name: ("date",),
}
_MISSING_OUTCOME = {"id": ("task.no-id", "IDs were assigned in row order"),
                    "duration": ("task.bad-duration", "every task was given 1 day")}
MIN_RENAMED_MATCHES = 3  # header columns a differently named sheet needs to be taken for a table


@dataclass
class WorkbookData:
    """Everything read from a workbook.

    ``cells`` tells where each table was found, keyed by sheet name ("Tasks", "Action Items"...; see
    ``table_key`` for the Calendar sheet's second table); a table that was not found has no entry.
    ``registers`` maps register sheet names ("Action Items"...) to rows keyed by column key with the
    raw cell values (None when empty) and ``"_row"``, the sheet row (read-only :class:`TableRow` mappings
    for the status snapshot, a row per task; dicts for the others). ``link_sources`` tells for each
    (predecessor, successor) the sheets it was typed on, "Tasks" and/or "Dependencies".
    """

    plan: Plan
    findings: list[Finding] = field(default_factory=list)
    registers: dict[str, list[Mapping[str, object]]] = field(default_factory=dict)
    cells: dict[str, TableLocation] = field(default_factory=dict)
    link_sources: Mapping[tuple[int, int], tuple[str, ...]] = field(default_factory=dict)
    settings_extra: dict[str, object] = field(default_factory=dict)  # SLA days per severity
    setting_cells: dict[str, str] = field(default_factory=dict)  # setting key -> "Settings!B7"
    mirror_rows: list[int] = field(default_factory=list)  # Dependencies rows wbs_tools wrote (Source "Tasks")
    last_modified_by: str | None = None  # who saved the file last (docProps), when read from a file

    def table(self, layout: SheetLayout) -> TableLocation | None:
        return self.cells.get(table_key(layout))

    def locate(self, sheet: str, row: int, key: str) -> str | None:
        """The cell of column ``key`` in ``row`` of the layout sheet named ``sheet`` (registers use it)."""
        for layout in LAYOUTS:
            found = self.table(layout) if layout.name == sheet else None
            if found is not None and found.address(row, key) is not None:
                return found.address(row, key)
        return None


def table_key(layout: SheetLayout) -> str:
    """A table's key in ``WorkbookData.cells``: the layout's sheet name ("Tasks"), or its table name for
    the second table of a sheet (the Calendar sheet's holidays are "tblHolidays")."""
    first = next(x for x in LAYOUTS if x.name == layout.name)
    return layout.name if first is layout else layout.table_name


@without_collector
def read_workbook(path: str | os.PathLike[str], limits: Limits | None = None, *, data: bytes | None = None,
                  opened: Package | None = None) -> WorkbookData:
    """Read a plan workbook; raises ``WorkbookError`` only when the file itself cannot be read.

    ``data``: the file's bytes when the caller has read them already (a refresh reads the file once,
    so the edits it computes are applied to the very content they were computed from). ``opened``:
    those bytes opened already (a refresh opens them once, for reading and for writing); it is only read.
    """
    path = Path(path)
    if opened is not None and (data is None or not opened.opened_over(data)):
        raise ValueError("the package must be opened over the data given")
    if data is None:
        _stat, data = read_bounded(path, limits)
    elif len(data) > (limit := (limits or DEFAULT_LIMITS).max_file_bytes):
        raise WorkbookError(f"{path.name}: larger than {limit} bytes")
    pkg = opened if opened is not None else Package(data, limits)
    parts, styles = sheet_parts(pkg)
    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as exc:  # calamine's own error types: a password, damaged XML, a bad zip
        raise WorkbookError(f"{path.name}: the workbook cannot be read ({exc})") from exc
    reader = _Reader(book, pkg, parts, styles)
    try:
        return reader.read()
    finally:
        if reader.book is not None:
            book.close()


@without_collector
def read_values(sheets: Mapping[str, Sheet], indents: Indents | None = None) -> WorkbookData:
    """The same reading as ``read_workbook``, over worksheets whose values are already in memory.

    ``sheets`` maps each worksheet name, in workbook order, to its values; an error cell holds its
    text ("#N/A"). The Excel buttons read a live workbook this way (``wbs_tools.excel.live``), so a
    plan reads the same whether it is open in Excel or saved. ``indents`` tells the indentation of the
    Task name cells, which a plan without an Outline level column uses for its outline.
    """
    return _Reader(None, None, {}, None, sheets=sheets, indents=indents).read()


class _Reader:
    def __init__(self, book: CalamineWorkbook | None, pkg: Package | None, parts: dict[str, str],
                 styles: str | None, *, sheets: Mapping[str, Sheet] | None = None,
                 indents: Indents | None = None) -> None:
        self.book, self.pkg, self.parts, self.styles = book, pkg, parts, styles
        if sheets is not None:  # already in memory: nothing is loaded from the package
            self.names = list(sheets)
        else:
            assert book is not None
            self.names = [m.name for m in book.sheets_metadata if m.typ == SheetTypeEnum.WorkSheet]
        self.findings: list[Finding] = []
        self.mirror_rows: list[int] = []
        self.loaded: dict[str, Sheet] = dict(sheets or {})
        self.indents = indents
        self.named: dict[str, Sheet] = {}  # table name -> the sheet carrying the layout's name
        self.tables: dict[str, tuple[Sheet, TableLocation]] = {}
        self.indented: bool | None = None  # whether any cell format indents: the sheet XML is kept for them

    def sheet(self, name: str, *, header_only: bool = False) -> Sheet:
        if name in self.loaded:
            return self.loaded[name]
        assert self.book is not None and self.pkg is not None  # in-memory sheets are all in ``loaded``
        shape = _task_columns if sheet_key(name) == sheet_key(TASKS.name) else None
        sheet = load_sheet(self.book, self.pkg, name, self.parts.get(name), header_only=header_only, shape=shape)
        if not header_only:
            if self.indented is None:
                self.indented = bool(indented_formats(self.pkg, self.styles))
            if not self.indented:
                sheet.xml = None  # only indents are read from it, once its error cells are known
            self.loaded[name] = sheet
        return sheet

    def _release_tasks(self, sheet: Sheet) -> Callable[[], None]:
        """Called once the Tasks rows are read: a sheet loaded here lets go of its cell values."""
        def release() -> None:
            if self.book is None and self.pkg is not None:
                sheet.rows = ()
        return release

    def read(self) -> WorkbookData:
        self._locate()
        settings_table = self.tables.get(SETTINGS.table_name)
        settings_sheet = self.named.get(SETTINGS.table_name) or (settings_table[0] if settings_table else None)
        read = read_settings(settings_sheet, settings_table[1] if settings_table else None, self.findings)
        check_country(read, self.findings)
        plan = Plan(read.settings, calendars=self._calendars(read.day_first))
        for spec in plan.calendars.values():
            spec.country, spec.subdivision = read.country, read.subdivision
        spelled = {name.casefold(): name for name in plan.calendars}
        read.settings.calendar = spelled.get(read.settings.calendar.casefold(), read.settings.calendar)
        if read.settings.calendar not in plan.calendars:
            self.findings.append(finding("settings.bad-value", f"Default calendar '{read.settings.calendar}' is "
                                         "not on the Calendar sheet; Standard was used",
                                         location=read.cells.get("calendar"), field="calendar"))
            read.settings.calendar = "Standard"
        if TASKS.table_name in self.tables:
            sheet, table = self.tables[TASKS.table_name]
            reader = TaskReader(sheet, table, read.settings, read.day_first, self.findings,
                                lambda: self._indents(sheet, table.columns["name"])
                                if "name" in table.columns else {}, list(plan.calendars),
                                self._release_tasks(sheet))
            plan.tasks, plan.links = reader.read(), reader.links
        if DEPENDENCIES.table_name in self.tables:
            sheet, table = self.tables[DEPENDENCIES.table_name]
            plan.links += read_dependencies(sheet, table, plan, self.findings, self.mirror_rows)
        sources = LinkSources(plan.links, self._origin_prefix(), (TASKS.name, DEPENDENCIES.name))
        cells = {table_key(x): self.tables[x.table_name][1] for x in LAYOUTS if x.table_name in self.tables}
        return WorkbookData(plan, self.findings, self._registers(), cells, sources, read.extra, read.cells,
                            self.mirror_rows, package_modified_by(self.pkg) if self.pkg is not None else None)

    def _indents(self, sheet: Sheet, column: int) -> dict[int, int]:
        if self.indents is not None:
            return dict(self.indents(sheet.name, column))
        if self.pkg is None:
            return {}
        return name_indents(self.pkg, self.styles, sheet.xml, column)

    def _locate(self) -> None:
        """Find every layout's table: by sheet name first, then by header on the other sheets."""
        by_key = {sheet_key(name): name for name in self.names}
        headers: dict[str, tuple[str, int, dict[str, int]]] = {}
        missing: list[SheetLayout] = []
        for layout in LAYOUTS:
            name = by_key.get(sheet_key(layout.name))
            if name is None:
                missing.append(layout)
                continue
            self.named[layout.table_name] = self.sheet(name)
            header = find_header(self.sheet(name), layout)
            if header is not None:
                headers[layout.table_name] = (name, *header)
        for layout in LAYOUTS:  # two tables of one sheet cannot share header cells: the fuller one keeps them
            mine = headers.get(layout.table_name)
            rivals = [headers[o.table_name] for o in LAYOUTS if o is not layout and o.table_name in headers]
            if mine and any(r[:2] == mine[:2] and set(r[2].values()) & set(mine[2].values())
                            and len(r[2]) > len(mine[2]) for r in rivals):
                del headers[layout.table_name]
        claimed = {sheet.name for sheet in self.named.values()}
        candidates = []
        for layout in missing:
            if layout.owned or layout.hidden or layout is LISTS:
                continue
            for name in self.names:
                header = None if name in claimed else find_header(self.sheet(name, header_only=True), layout)
                if header is not None and len(header[1]) >= MIN_RENAMED_MATCHES:
                    candidates.append((len(header[1]), layout, name, header))
        taken: dict[str, str] = {}
        for _, layout, name, (row, columns) in sorted(candidates, key=lambda c: -c[0]):
            if layout.table_name not in headers and taken.setdefault(name, layout.name) == layout.name:
                headers[layout.table_name] = (name, row, columns)
        for table_name, (name, row, columns) in headers.items():
            stops = [r for other, (n, r, c) in headers.items() if other != table_name and n == name
                     and min(c.values()) <= max(columns.values()) and min(columns.values()) <= max(c.values())]
            sheet = self.sheet(name)
            self.tables[table_name] = (sheet, TableLocation(name, row, columns, row + 1,
                                                            table_end(sheet, row, columns, stops)))
        self._report_structure()
        if self.book is not None:  # every sheet needed is loaded: calamine's copy of the workbook goes
            self.book.close()
            self.book = None

    def _report_structure(self) -> None:
        """Findings for a missing Tasks sheet, a header that cannot be found, a missing required column."""
        if TASKS.table_name not in self.named and TASKS.table_name not in self.tables:
            self.findings.append(finding("sheet.not-found", "the workbook has no Tasks sheet: add a sheet named "
                                         "Tasks with a header row such as ID, Task name, Duration, Predecessors"))
        for layout in LAYOUTS:
            sheet = self.named.get(layout.table_name)
            sibling_found = any(o.name == layout.name and o.table_name in self.tables for o in LAYOUTS if o != layout)
            if (sheet is not None and layout.table_name not in self.tables and not sibling_found
                    and not layout.owned and layout not in (SETTINGS, LISTS)):
                titles = ", ".join(c.title for c in layout.columns[:4])
                self.findings.append(finding("sheet.no-header", f"no header row found in the first rows of "
                                             f"{sheet.name}: the {layout.name} table was not read; restore its "
                                             f"header ({titles}...)", location=f"{sheet.name}!A1"))
        for sheet in {sheet.name: sheet for sheet, _ in self.tables.values() if sheet.cut_from}.values():
            self.findings.append(finding("sheet.truncated", f"{sheet.name} has values as far as {sheet.cut_from}, too "
                                         f"large a range to read whole; only rows up to {sheet.max_row} were read: "
                                         "delete the stray cells", location=f"{sheet.name}!{sheet.cut_from}"))
        for table_name, keys in REQUIRED.items():
            if table_name not in self.tables:
                continue
            sheet, table = self.tables[table_name]
            layout = next(x for x in LAYOUTS if x.table_name == table_name)
            for key in keys:
                if key not in table.columns:
                    code, outcome = _MISSING_OUTCOME.get(key, ("settings.bad-value", "the rest was read"))
                    where = f"{sheet.name}!{col_letters(min(table.columns.values()))}{table.header_row}"
                    self.findings.append(finding(
                        "sheet.missing-column", f"the {layout.name} table (header row {table.header_row}) has no "
                        f"'{layout.column(key).title}' column: add one; {outcome}", fallback=code, location=where,
                        field=key))

    def _calendars(self, day_first: bool | None) -> dict[str, CalendarSpec]:
        calendars = {"Standard": CalendarSpec()}
        if CALENDAR_WEEK.table_name in self.tables:
            sheet, table = self.tables[CALENDAR_WEEK.table_name]
            read_week(sheet, table, data_rows(sheet, table, list(table.columns)), calendars, self.findings)
        if HOLIDAYS.table_name in self.tables:
            sheet, table = self.tables[HOLIDAYS.table_name]
            read_holidays(sheet, table, data_rows(sheet, table, list(table.columns)), calendars, day_first,
                          self.findings)
        return calendars

    def _origin_prefix(self) -> str:
        found = self.tables.get(DEPENDENCIES.table_name)
        return f"{found[0].name}!" if found else "\0"

    def _registers(self) -> dict[str, list[Mapping[str, object]]]:
        registers: dict[str, list[Mapping[str, object]]] = {}
        for layout in REGISTER_LAYOUTS:
            rows: list[Mapping[str, object]] = []
            if layout.table_name in self.tables:
                sheet, table = self.tables[layout.table_name]
                keys = [k for k in table.columns if layout.owned or not layout.column(k).computed]
                named = list(table.columns.items())
                columns = [column for _, column in named]
                # a row per task: rows as tuples, each date one object however many rows repeat it
                compact = layout is STATUS_SNAPSHOT
                index = {key: i for i, key in enumerate(["_row", *table.columns])}
                moments: dict[dt.datetime, dt.datetime] = {}
                for number in data_rows(sheet, table, keys):
                    values: list[object] = [number]
                    for (key, column), value in zip(named, sheet.values(number, columns), strict=True):
                        if isinstance(value, str):  # an error code or blank text reads as empty
                            if (code := excel_error(value)) is not None:
                                self.findings.append(finding(
                                    "cell.excel-error", f"{layout.name} row {number}: the cell shows {code}; it was "
                                    "treated as empty", location=sheet.address(number, column), field=key))
                                value = None
                            elif not value.strip():
                                value = None
                        elif compact and value.__class__ is dt.datetime:
                            value = moments.setdefault(value, value)  # type: ignore[arg-type]
                        values.append(value)
                    rows.append(TableRow(index, tuple(values)) if compact else dict(zip(index, values, strict=True)))
            registers[layout.name] = rows
        return registers


def _task_columns(head: Sheet) -> tuple[list[int], list[int]] | None:
    """The Tasks sheet keeps the values of its input columns and only whether a computed column holds
    anything (where the table ends); the user's own columns are not read."""
    found = find_header(head, TASKS)
    if found is None:
        return None
    columns = found[1]
    return ([c for k, c in columns.items() if not TASKS.column(k).computed],
            [c for k, c in columns.items() if TASKS.column(k).computed])

"""The live-workbook adapter: a plan open in Excel, read and written through xlwings.

The buttons run the same use case as ``wbs refresh`` (``wbs_tools.refresh.compute``); only the way the
workbook is reached differs. Reading takes each worksheet's used range in one call (unsaved edits
included) and hands the values to the same reader as a saved file (``read_values``). Writing puts the
computed cells back as rectangles of neighbouring computed cells, one call each, and refuses any cell
that is not in a computed column of a table the reader found, so nothing a person typed is ever
overwritten. Sheets wbs_tools owns (Check, Status...) are replaced as one block and what is left of
their old content is cleared.

Excel hands values over unlike a file reader: every date-formatted cell as a datetime counted from
1899-12-30 (a time of day reads as 1899-12-30 08:00), errors as codes (read here as their text,
"#N/A"), and text assigned to a cell is parsed as if typed ("1.10" would become the number 1.1).
``from_excel`` and ``to_excel`` make up for that, so the reader and Excel see what a saved file holds.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from wbs_tools.workbook.layout import DEPENDENCIES, LAYOUTS
from wbs_tools.workbook.lossless import CellValue, OwnedSheet
from wbs_tools.workbook.reader import Sheet, WorkbookData, read_values
from wbs_tools.workbook.reader_tables import MAX_CELLS, col_letters, col_number

if TYPE_CHECKING:  # xlwings is needed in Excel only (the ``excel`` extra)
    import xlwings as xw

OLE_EPOCH = dt.datetime(1899, 12, 30)  # day 0 of the dates Excel hands over
_LEAP_BUG_END = dt.datetime(1900, 3, 1)  # before it, Excel's own calendar is one day ahead of day counts
_REF = re.compile(r"\$?([A-Za-z]{1,3})\$?(\d+)")
Block = tuple[int, int, list[list[CellValue]]]  # top row, left column, rows of values


def from_excel(value: object) -> object:
    """A value as Excel hands it over -> as python-calamine reads the same cell from the saved file.

    >>> from_excel(dt.datetime(1899, 12, 30, 8, 0)), from_excel(dt.datetime(2026, 3, 2))
    (datetime.time(8, 0), datetime.date(2026, 3, 2))
    >>> from_excel(dt.datetime(2026, 3, 2, 17, 0)), from_excel(dt.datetime(1899, 12, 31))
    (datetime.datetime(2026, 3, 2, 17, 0), datetime.date(1900, 1, 1))
    """
    if not isinstance(value, dt.datetime):
        return value
    value = value.replace(tzinfo=None)
    if OLE_EPOCH <= value < OLE_EPOCH + dt.timedelta(days=1):
        return value.time()
    if OLE_EPOCH < value < _LEAP_BUG_END:
        value += dt.timedelta(days=1)
    return value.date() if value.time() == dt.time() else value


def to_excel(value: CellValue) -> object:
    """A computed value as Excel must be given it: text behind an apostrophe, which Excel keeps as the
    text itself rather than parsing it ("1.10" stays an outline number); None empties the cell.

    >>> to_excel("1.10"), to_excel(""), to_excel(3.5)
    ("'1.10", None, 3.5)
    """
    if isinstance(value, str):
        return "'" + value if value else None
    return value


def cell_of(ref: str) -> tuple[int, int]:
    """"H12" -> (12, 8)."""
    match = _REF.fullmatch(ref)
    if match is None:
        raise ValueError(f"not a cell reference: {ref!r}")
    return int(match[2]), col_number(match[1])


def runs(numbers: Sequence[int]) -> Iterator[tuple[int, int]]:
    """Stretches of consecutive numbers in a sorted list.

    >>> list(runs([1, 2, 3, 7, 8, 10]))
    [(1, 3), (7, 8), (10, 10)]
    """
    start = previous = None
    for number in numbers:
        if previous is not None and number == previous + 1:
            previous = number
            continue
        if start is not None and previous is not None:
            yield start, previous
        start = previous = number
    if start is not None and previous is not None:
        yield start, previous


def blocks(cells: Mapping[tuple[int, int], CellValue]) -> list[Block]:
    """The cells as rectangles, each written in one call: runs of consecutive rows per column, then
    neighbouring columns whose runs cover the same rows side by side. No cell outside ``cells`` is in
    a block, so a gap (a blank row, an input column between two computed ones) is never written.

    >>> blocks({(4, 7): 1, (5, 7): 2, (4, 8): 3, (5, 8): 4, (5, 9): 5})
    [(4, 7, [[1, 3], [2, 4]]), (5, 9, [[5]])]
    """
    rows_of: dict[int, list[int]] = {}
    for row, column in cells:
        rows_of.setdefault(column, []).append(row)
    columns_of: dict[tuple[int, int], list[int]] = {}
    for column, rows in rows_of.items():
        for first_last in runs(sorted(rows)):
            columns_of.setdefault(first_last, []).append(column)
    out: list[Block] = []
    for (first, last), columns in columns_of.items():
        for left, right in runs(sorted(columns)):
            out.append((first, left, [[cells[r, c] for c in range(left, right + 1)] for r in range(first, last + 1)]))
    return sorted(out, key=lambda block: (block[0], block[1]))


def computed_columns(data: WorkbookData) -> dict[str, dict[int, int]]:
    """Sheet -> {column: header row} of the computed columns of every table the reader found (owned
    sheets aside: they are replaced whole). Only cells below those headers may be written."""
    out: dict[str, dict[int, int]] = {}
    for layout in LAYOUTS:
        table = data.table(layout)
        if table is None or layout.owned:
            continue
        for column in layout.columns:
            if column.computed and column.key in table.columns:
                out.setdefault(table.sheet, {})[table.columns[column.key]] = table.header_row
    return out


def mirror_cells(data: WorkbookData) -> tuple[str, set[int], int, set[int]] | None:
    """Where the Dependencies sheet's mirror rows (Source "Tasks") may be written: the sheet, the rows
    that are mirrors now, the row after which new mirrors go, and the table's columns."""
    table = data.table(DEPENDENCIES)
    if table is None:
        return None
    after = max([table.last_row, table.header_row, *data.mirror_rows])
    return table.sheet, set(data.mirror_rows), after, set(table.columns.values())


def read_sheet(sheet: xw.Sheet) -> Sheet:
    """One worksheet's values in one call: its used range, error cells as their text.

    A used range too large to read whole (a stray value far down) is read in its top part only, as
    the file reader does, and reported by the reader as a finding.
    """
    used = sheet.used_range
    rows, columns = used.shape
    top, left = used.row, used.column
    limit = max(1, MAX_CELLS // max(columns, 1))
    cut = None
    if rows > limit:
        cut = f"{col_letters(left + columns - 1)}{top + rows - 1}"
        used = sheet.range((top, left), (top + limit - 1, left + columns - 1))
    values = used.options(ndim=2, err_to_str=True).value
    return Sheet(sheet.name, [[from_excel(v) for v in row] for row in values], (top - 1, left - 1), {}, None, cut)


def indent_level(cell: xw.Range) -> int:
    """A cell's indentation, through Excel's own object: Windows (COM) and macOS (AppleScript) differ."""
    native: Any = cell.api
    level = getattr(native, "IndentLevel", None)
    if level is None and hasattr(native, "indent_level"):
        level = native.indent_level.get()
    return int(level or 0)


class LiveBook:
    """A workbook open in Excel, read and written as ``wbs refresh`` reads and writes the saved file.

    ``progress`` receives a short text before each step (the buttons show it in the status bar).
    """

    def __init__(self, book: xw.Book, progress: Callable[[str], None] | None = None) -> None:
        self.book = book
        self.progress = progress or (lambda text: None)
        self.sheets: dict[str, Sheet] = {}

    def read(self) -> WorkbookData:
        """Every worksheet, one read call each, through the same reader as a saved workbook."""
        worksheets = list(self.book.sheets)
        for number, sheet in enumerate(worksheets, start=1):
            self.progress(f"reading {sheet.name} ({number}/{len(worksheets)})")
            self.sheets[sheet.name] = read_sheet(sheet)
        return read_values(self.sheets, self._indents)

    def _indents(self, sheet_name: str, column: int) -> dict[int, int]:
        """Indents of a column's filled cells, asked only for a plan whose outline comes from the Task
        name's indentation (no level typed); Excel answers one cell at a time."""
        values, sheet = self.sheets[sheet_name], self.book.sheets[sheet_name]
        self.progress(f"reading the outline of {sheet_name}")
        found = {}
        for row in range(values.row0 + 1, values.max_row + 1):
            if values.value(row, column) not in (None, "") and (level := indent_level(sheet.range((row, column)))):
                found[row] = level
        return found

    def write_edits(self, data: WorkbookData, edits: Mapping[str, Mapping[str, CellValue]]) -> int:
        """Write computed cells ({sheet: {"H12": value}}) in blocks; returns the number of write calls.

        Raises ValueError, before writing anything, for a cell outside the computed columns of the
        tables in ``data``: an input cell is never written.
        """
        allowed = computed_columns(data)
        mirrors = mirror_cells(data)
        cells: dict[str, dict[tuple[int, int], CellValue]] = {}
        for sheet_name, refs in edits.items():
            columns = allowed.get(sheet_name, {})
            for ref, value in refs.items():
                row, column = cell_of(ref)
                mirror = (mirrors is not None and sheet_name == mirrors[0] and column in mirrors[3]
                          and (row in mirrors[1] or row > mirrors[2]))
                if not mirror and (column not in columns or row <= columns[column]):
                    raise ValueError(f"{sheet_name}!{ref} is not a computed cell: nothing was written")
                cells.setdefault(sheet_name, {})[row, column] = value
        calls = 0
        for sheet_name, values in cells.items():
            self.progress(f"writing {sheet_name}")
            sheet = self.book.sheets[sheet_name]
            for top, left, rows in blocks(values):
                target = sheet.range((top, left), (top + len(rows) - 1, left + len(rows[0]) - 1))
                target.value = [[to_excel(v) for v in row] for row in rows]
                calls += 1
        return calls

    def write_owned(self, owned: Mapping[str, OwnedSheet]) -> None:
        """Replace each owned sheet's content (adding the sheet when the workbook has none)."""
        for name, content in owned.items():
            self.progress(f"writing {name}")
            self._replace(self._sheet(name), content)

    def _sheet(self, name: str) -> xw.Sheet:
        """The sheet named ``name`` (compared as Excel does, without case), added at the end if missing."""
        for sheet in self.book.sheets:
            if sheet.name.casefold() == name.casefold():
                return sheet
        active = self.book.sheets.active
        sheet = self.book.sheets.add(name, after=self.book.sheets[len(self.book.sheets) - 1])
        active.activate()
        return sheet

    @staticmethod
    def _replace(sheet: xw.Sheet, content: OwnedSheet) -> None:
        visible = content.state == "visible"
        shown = sheet.visible  # Windows answers -1 (shown), 0 (hidden) or 2 (very hidden); macOS a bool
        if (shown is True or shown == -1) != visible:
            sheet.visible = visible
        old = sheet.used_range
        old_bottom, old_right = old.row + old.shape[0] - 1, old.column + old.shape[1] - 1
        top, height = content.start_row, len(content.rows)
        width = max((len(row) for row in content.rows), default=0)
        if height and width:
            padded = [[to_excel(v) for v in row] + [None] * (width - len(row)) for row in content.rows]
            sheet.range((top, 1), (top + height - 1, width)).value = padded
        if old_bottom >= top + height:
            sheet.range((top + height, 1), (old_bottom, max(old_right, width, 1))).clear_contents()
        if height and old_right > width:
            sheet.range((top, width + 1), (top + height - 1, old_right)).clear_contents()

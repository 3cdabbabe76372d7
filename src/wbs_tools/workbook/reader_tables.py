"""Finding the layout's tables in a workbook as people leave it, and reading their cells exactly.

Values come from python-calamine (cached results of formulas, dates as date/datetime). Two things
calamine does not expose are read from the sheet XML with a byte scan: cells holding an Excel error
(calamine returns them as empty) and the indentation of the Task name cells (used as the outline
level when no level is typed). A merged range has its value in its top-left cell only, which is how
Excel stores it, so the other cells of the range read as empty.

Tables are located by their header text, never by position: the header row is the row among the
first ``HEADER_SCAN_ROWS`` that matches most of the layout's column titles or aliases, in any order,
with the user's own columns ignored. Two tables may share a sheet (the Calendar sheet holds the
working week and the holidays side by side), so a header row is split where a column title repeats
and each table takes its best-matching part.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice
from operator import itemgetter
from typing import Any

from lxml import etree
from python_calamine import CalamineWorkbook

from wbs_tools.core.durations import excel_error
from wbs_tools.core.frozen import copied_by_fields
from wbs_tools.core.registers.cells import column_letters as col_letters
from wbs_tools.workbook.layout import MAX_ROWS, Column, SheetLayout, find_column, normalize_header
from wbs_tools.workbook.package import Package, WorkbookError, parse_xml, read_relationships, resolve_target

HEADER_SCAN_ROWS = 20
MIN_HEADER_MATCHES = 2
# a used range beyond this (a stray value in column XFD...) is read only in part; a full sheet of 40
# columns, every row Excel allows, fits
MAX_CELLS = 40 * MAX_ROWS

_CELL_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?c\s")
_REF_ATTR = re.compile(rb'\br\s*=\s*["\']\$?([A-Za-z]{1,3})\$?(\d{1,7})["\']')
_STYLE_ATTR = re.compile(rb'\bs\s*=\s*["\'](\d+)["\']')
_VALUE = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?v>([^<]*)<")
_CELL_END = re.compile(rb"</(?:[A-Za-z_][\w.-]*:)?c>")


@dataclass(frozen=True)
class TableLocation:
    """Where a layout table sits in the file: the writer puts computed values by these numbers.

    Rows and columns are 1-based sheet numbers; ``columns`` maps the layout's column keys found in
    the header to their sheet column. ``last_row`` is the last row holding data, and is
    ``first_row - 1`` when the table has no data rows.
    """

    sheet: str
    header_row: int
    columns: dict[str, int] = field(default_factory=dict)
    first_row: int = 0
    last_row: int = 0

    def address(self, row: int, key: str) -> str | None:
        """``"Tasks!F12"`` for the column ``key`` in ``row``; None when the column is not there."""
        column = self.columns.get(key)
        return None if column is None else f"{self.sheet}!{col_letters(column)}{row}"


class Sheet:
    """One worksheet's values addressed by 1-based row and column, with its error cells."""

    def __init__(self, name: str, rows: Sequence[Sequence[object]], origin: tuple[int, int],
                 errors: dict[tuple[int, int], str], xml: bytes | None = None, cut_from: str | None = None) -> None:
        self.name = name
        self.cut_from = cut_from  # the far corner of the used range when only its top rows were read
        self.rows = rows
        self.row0, self.col0 = origin  # 0-based sheet position of rows[0][0]
        self.errors = errors
        self.xml = xml
        self.max_row = self.row0 + len(rows)

    def row(self, number: int) -> Sequence[object]:
        index = number - 1 - self.row0
        return self.rows[index] if 0 <= index < len(self.rows) else ()

    def value(self, row: int, column: int) -> object:
        """The cell's value; None when empty. An error cell reads as its code, e.g. "#REF!"."""
        cells = self.row(row)
        index = column - 1 - self.col0
        value = cells[index] if 0 <= index < len(cells) else None
        if value == "" or value is None:
            return self.errors.get((row, column)) if self.errors else None
        return value

    def values(self, row: int, columns: Sequence[int]) -> list[object]:
        """``[self.value(row, c) for c in columns]``, the row looked up once: tables of 100,000 rows."""
        cells = self.row(row)
        width, col0, errors = len(cells), self.col0 + 1, self.errors
        out: list[object] = []
        for column in columns:
            index = column - col0
            value = cells[index] if 0 <= index < width else None
            if value == "" or value is None:
                value = errors.get((row, column)) if errors else None
            out.append(value)
        return out

    def address(self, row: int, column: int) -> str:
        return f"{self.name}!{col_letters(column)}{row}"


class TableRow(Mapping[str, object]):
    """One row of a long table read as a read-only mapping over a tuple: a row per task of the status
    snapshot, a million of them, would take about half a gigabyte more as dicts."""

    __slots__ = ("_index", "_values")

    def __init__(self, index: Mapping[str, int], values: tuple[object, ...]) -> None:
        self._index, self._values = index, values  # index: key -> position, shared by the table's rows

    def __getitem__(self, key: str) -> object:
        return self._values[self._index[key]]

    def get(self, key: str, default: object = None) -> object:  # type: ignore[override]
        i = self._index.get(key)
        return default if i is None else self._values[i]

    def __iter__(self) -> Iterator[str]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)

    def __repr__(self) -> str:
        return f"TableRow({dict(self)!r})"


def col_number(letters: str) -> int:
    number = 0
    for char in letters.upper():
        number = number * 26 + ord(char) - 64
    return number


def sheet_parts(pkg: Package) -> tuple[dict[str, str], str | None]:
    """Worksheet name -> its XML part, and the styles part: where error cells and indents are read."""
    office = [r for r in read_relationships(pkg, "") if r.type.endswith("/officeDocument") and not r.external]
    part = resolve_target("", office[0].target) if office else ""
    if part.endswith(".bin"):
        raise WorkbookError("binary workbooks (.xlsb) are not supported; save the file as .xlsx or .xlsm")
    if part not in pkg:
        raise WorkbookError("not an Excel workbook (the package has no workbook part)")
    rels = {r.id: r for r in read_relationships(pkg, part) if not r.external}
    parts: dict[str, str] = {}
    for element in parse_xml(pkg.read(part), part).iter():
        if isinstance(element.tag, str) and etree.QName(element).localname == "sheet":
            rel_id = next((v for k, v in element.attrib.items() if str(k).endswith("}id")), "")
            if rel_id in rels:
                parts[element.get("name", "")] = resolve_target(part, rels[rel_id].target)
    styles = next((resolve_target(part, r.target) for r in rels.values() if r.type.endswith("/styles")), None)
    return parts, styles


#: ``shape(head)`` -> the 1-based sheet columns whose values are kept and those only whose presence is
#: kept, given the sheet's first ``HEADER_SCAN_ROWS`` rows; None keeps every value.
Shape = Callable[["Sheet"], tuple[Collection[int], Collection[int]] | None]
PRESENT = True  # stands for the values of a row's presence-only columns: one of them is not empty


def load_sheet(book: CalamineWorkbook, pkg: Package, name: str, part: str | None, *,
               header_only: bool = False, shape: Shape | None = None) -> Sheet:
    """Read one sheet through calamine (``book``), plus its error cells from the XML part.

    Rows are converted one at a time from calamine's row iterator. With ``shape``, the rows below the
    header scan keep the values of the columns it names; its presence-only columns read as empty but
    for the first, which holds ``PRESENT`` where any of them has a value, and the other columns read
    as empty. The first rows, where headers are looked for, are kept whole.
    """
    try:
        calamine_sheet = book.get_sheet_by_name(name)
        height, width = calamine_sheet.height, calamine_sheet.width
        limit = HEADER_SCAN_ROWS if header_only else max(1, MAX_CELLS // max(width, 1))
        start, end = calamine_sheet.start or (0, 0), calamine_sheet.end or (0, 0)
        if header_only:
            rows: list[Sequence[object]] = list(calamine_sheet.to_python(skip_empty_area=True,
                                                                         nrows=min(height, limit)))
        else:
            found = islice(calamine_sheet.iter_rows(), start[0], start[0] + min(height, limit))
            rows = list(islice(found, max(0, HEADER_SCAN_ROWS - start[0])))
            shaped = shape(Sheet(name, rows, (start[0], start[1]), {})) if shape is not None else None
            convert = _projection(width, start[1], *shaped) if shaped is not None else None
            rows.extend(map(convert, found) if convert is not None else found)
            del found
        del calamine_sheet
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # calamine raises its own errors, and a Rust panic (a BaseException)
        raise WorkbookError(f"the sheet {name!r} cannot be read ({exc})") from exc
    xml = pkg.read(part) if part and part in pkg and not header_only else None
    cut = f"{col_letters(end[1] + 1)}{end[0] + 1}" if height > limit and not header_only else None
    return Sheet(name, rows, (start[0], start[1]), error_cells(xml) if xml else {}, xml, cut)


def _projection(width: int, col0: int, keep: Collection[int],
                presence: Collection[int]) -> Callable[[list[Any]], Sequence[object]] | None:
    """A row of calamine's (a list of ``width`` cells from sheet column ``col0 + 1``) as a tuple as wide,
    holding only what ``load_sheet`` says; None when it would keep every value."""
    kept = {c - 1 - col0 for c in keep} & set(range(width))
    marks = sorted({c - 1 - col0 for c in presence} & set(range(width)) - kept)
    if width < 2 or len(kept) == width:
        return None
    # calamine's row gets two cells appended: None, and the presence mark
    order = [j if j in kept else width + 1 if marks and j == marks[0] else width for j in range(width)]
    pick = itemgetter(*order)
    present = itemgetter(*marks, width) if marks else None
    blank = ("",) * len(marks) + (None,)

    def convert(row: list[Any]) -> Sequence[object]:
        row.append(None)
        row.append(None if present is None or present(row) == blank else PRESENT)
        return pick(row)  # type: ignore[no-any-return]

    return convert


def error_cells(xml: bytes) -> dict[tuple[int, int], str]:
    """Cells whose cached value is an Excel error (``t="e"``): (row, column) -> "#REF!"."""
    found: dict[tuple[int, int], str] = {}
    for marker in (b't="e"', b"t='e'"):
        at = xml.find(marker)
        while at >= 0:
            begin, end = xml.rfind(b"<", 0, at), xml.find(b">", at)
            ref = _REF_ATTR.search(xml, begin, end) if begin >= 0 and _CELL_TAG.match(xml, begin) else None
            if ref is not None and end > 0:
                close = _CELL_END.search(xml, end) if xml[end - 1:end] != b"/" else None
                value = _VALUE.search(xml, end, close.start()) if close else None
                code = excel_error(value[1].decode("utf-8", "replace")) if value else None
                found[int(ref[2]), col_number(ref[1].decode())] = code or "#N/A"
            at = xml.find(marker, at + 1)
    return found


def name_indents(pkg: Package, styles_part: str | None, xml: bytes | None, column: int) -> dict[int, int]:
    """Row -> indent of the cells in ``column`` that carry an indented style (rows without: absent)."""
    indented = indented_formats(pkg, styles_part) if xml else {}
    if not indented or not xml:
        return {}
    letters = col_letters(column).encode()
    found: dict[int, int] = {}
    for match in re.finditer(rb'<(?:[A-Za-z_][\w.-]*:)?c\s[^>]*?\br\s*=\s*["\']' + letters + rb'(\d+)["\'][^>]*>', xml):
        style = _STYLE_ATTR.search(match[0])
        if style is not None and int(style[1]) in indented:
            found[int(match[1])] = indented[int(style[1])]
    return found


def indented_formats(pkg: Package, styles_part: str | None) -> dict[int, int]:
    """Cell format index -> indent for the formats of the styles part that indent (none: no indents)."""
    if not styles_part or styles_part not in pkg:
        return {}
    return dict(_indents_in(pkg.read(styles_part), styles_part))


@functools.lru_cache(maxsize=8)
def _indents_in(data: bytes, part: str) -> dict[int, int]:
    """Worked out once per styles part (plans made from one template share it); callers get a copy."""
    return _indented_styles(parse_xml(data, part))


def _indented_styles(styles: etree._Element) -> dict[int, int]:
    """Cell format index -> alignment indent, for the formats that indent."""
    out: dict[int, int] = {}
    for holder in styles:
        if isinstance(holder.tag, str) and etree.QName(holder).localname == "cellXfs":
            for index, xf in enumerate(x for x in holder if isinstance(x.tag, str)):
                for child in xf:
                    if isinstance(child.tag, str) and etree.QName(child).localname == "alignment":
                        indent = child.get("indent", "0")
                        if indent.isdecimal() and int(indent) > 0:
                            out[index] = int(indent)
    return out


#: layout -> cell text -> the column it names (None: none); headers are looked for in the first rows of
#: every sheet, data rows among them, so the texts of a batch's plans would pile up: a layout's are
#: forgotten past ``_TEXTS_KEPT``
_COLUMNS_NAMED: dict[SheetLayout, dict[str, Column | None]] = {}
_TEXTS_KEPT = 4096


def match_header(sheet: Sheet, layout: SheetLayout, row: int) -> dict[str, int]:
    """The best-matching part of one row as a header: column key -> sheet column."""
    named = _COLUMNS_NAMED.get(layout)
    if named is None or len(named) > _TEXTS_KEPT:
        named = _COLUMNS_NAMED[layout] = {}
    parts: list[dict[str, int]] = [{}]
    for index, value in enumerate(sheet.row(row)):
        if not isinstance(value, str):
            continue
        if value in named:
            column = named[value]
        else:
            column = named[value] = find_column(layout, value) if value.strip() else None
        if column is None:
            continue
        if column.key in parts[-1]:
            parts.append({})
        parts[-1].setdefault(column.key, sheet.col0 + index + 1)
    return max(parts, key=len)


def find_header(sheet: Sheet, layout: SheetLayout) -> tuple[int, dict[str, int]] | None:
    """The header row (1-based) and its columns, or None when no row looks like the header."""
    best: tuple[int, dict[str, int]] | None = None
    every = _column_keys(layout)
    for row in range(sheet.row0 + 1, min(sheet.max_row, HEADER_SCAN_ROWS) + 1):
        columns = match_header(sheet, layout, row)
        if len(columns) >= MIN_HEADER_MATCHES and (best is None or len(columns) > len(best[1])):
            best = (row, columns)
            if len(columns) == every:  # no row below can name more (the rows below are data, usually)
                break
    return best


@functools.cache
def _column_keys(layout: SheetLayout) -> int:
    return len({column.key for column in layout.columns})


def sheet_key(name: str) -> str:
    """Sheet names compared ignoring case, spaces and punctuation ("Issue log" is "Issue Log")."""
    return normalize_header(name)


def data_rows(sheet: Sheet, location: TableLocation, keys: Sequence[str]) -> list[int]:
    """Rows below the header with a value in any of ``keys``' columns (blank rows are skipped)."""
    columns = [location.columns[k] - 1 - sheet.col0 for k in keys if k in location.columns]
    errors = {row for row, column in sheet.errors if column - 1 - sheet.col0 in columns}
    found = []
    first, last = location.first_row, location.last_row
    for number in range(first, last + 1):
        cells = sheet.row(number)
        if number in errors or any(0 <= c < len(cells) and cells[c] not in ("", None) for c in columns):
            found.append(number)
    return found


def table_end(sheet: Sheet, header_row: int, columns: dict[str, int], stops: Sequence[int]) -> int:
    """Last row with data in the table's columns, before the next table header below it."""
    limit = min([r - 1 for r in stops if r > header_row], default=sheet.max_row)
    indices = [c - 1 - sheet.col0 for c in columns.values()]
    for number in range(limit, header_row, -1):
        cells = sheet.row(number)
        if any(0 <= c < len(cells) and cells[c] not in ("", None) for c in indices):
            return number
        if sheet.errors and any((number, c) in sheet.errors for c in columns.values()):
            return number
    return header_row


copied_by_fields(__name__)

"""Open a workbook file in the in-memory Excel of ``support.xlwings_memory``, as Excel would hold it."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import xlwings as xw
from python_calamine import CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

from support.xlwings_memory import ENGINE, ERROR_CODES, LEAP_BUG_END, OLE_EPOCH, Book, Sheet, install
from wbs_tools.workbook.package import Package
from wbs_tools.workbook.reader_tables import error_cells, name_indents, sheet_parts


def to_com(value: object) -> object:
    """A cell value as python-calamine reads it from a file -> as Excel's COM interface returns it."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.time):
        return OLE_EPOCH.replace(hour=value.hour, minute=value.minute, second=value.second)
    if isinstance(value, dt.date):
        instant = value if isinstance(value, dt.datetime) else dt.datetime(value.year, value.month, value.day)
        return instant - dt.timedelta(days=1) if instant < LEAP_BUG_END else instant
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def open_book(path: str | Path, *, fullname: str | None = None) -> xw.Book:
    """A real ``xw.Book`` over the cell values of the workbook file at ``path``, as Excel would hold them.

    Values come from python-calamine (cached formula results), error cells from the sheet XML, and each
    cell's indent from its style. ``fullname`` is what ``book.fullname`` reports (the path by default).
    """
    install()
    data = Path(path).read_bytes()
    app = ENGINE.apps.add()
    book = Book(app, Path(path).name, fullname if fullname is not None else str(Path(path).resolve()))
    package = Package(data)
    parts, styles = sheet_parts(package)
    calamine = CalamineWorkbook.from_filelike(io.BytesIO(data))
    for meta in calamine.sheets_metadata:
        if meta.typ != SheetTypeEnum.WorkSheet:
            continue
        sheet = Sheet(book, meta.name)
        sheet.visible = meta.visible == SheetVisibleEnum.Visible
        source = calamine.get_sheet_by_name(meta.name)
        top, left = source.start or (0, 0)
        for r, row in enumerate(source.to_python(skip_empty_area=True)):
            for c, value in enumerate(row):
                if (com := to_com(value)) is not None:
                    sheet.data[top + r + 1, left + c + 1] = com
        xml = package.read(parts[meta.name]) if meta.name in parts else b""
        for key, code in error_cells(xml).items():
            sheet.data[key] = ERROR_CODES.get(code, ERROR_CODES["#N/A"])
        for column in sorted({c for _, c in sheet.data}):
            for row_number, indent in name_indents(package, styles, xml, column).items():
                sheet.indents[row_number, column] = indent
        book.sheet_list.append(sheet)
    book.defined = _defined_names(data)
    app.book_list.insert(0, book)
    return xw.Book(impl=book)


def _defined_names(data: bytes) -> dict[str, str]:
    """Workbook-level defined names -> their formula, from xl/workbook.xml."""
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        xml = package.read("xl/workbook.xml").decode("utf-8")
    found = re.findall(r'<definedName name="([^"]+)"(?![^>]*localSheetId)[^>]*>([^<]*)</definedName>', xml)
    return {name: "=" + formula.replace("&quot;", '"').replace("&amp;", "&") for name, formula in found}


def cells_of(book: xw.Book) -> dict[str, dict[tuple[int, int], object]]:
    """Every sheet's cells (a copy), keyed by sheet name."""
    return {sheet.name: dict(sheet.impl.data) for sheet in book.sheets}


def forget_caller() -> None:
    """Undo ``xw.Book.set_mock_caller()``."""
    if hasattr(xw.Book, "_mock_caller"):
        del xw.Book._mock_caller

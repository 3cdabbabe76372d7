"""An in-memory xlwings engine, so that the real ``xw.Book``/``xw.Sheet``/``xw.Range`` objects and
xlwings' own conversion pipeline run the Excel buttons on Linux, where xlwings has no engine.

The engine implements xlwings' engine interface (``xlwings.base_classes``) over a dict of cells per
sheet and hands values over the way Excel's COM interface does, because that is what the live
adapter must cope with: numbers as floats, dates and times as datetimes counted from 1899-12-30 (a
time of day reads as 1899-12-30 08:00), errors as COM error codes, and a string written to a cell
parsed as if typed (``"1.2"`` becomes a number, ``"'1.2"`` stays text). It records every value read,
write and clear so tests can count the calls and see which cells were touched.
``support.memory_workbooks`` opens a workbook file in it.

It relies on xlwings internals (the ``impl`` classes, the engine registry), hence the pinned xlwings.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import xlwings as xw
from xlwings import base_classes

OLE_EPOCH = dt.datetime(1899, 12, 30)
LEAP_BUG_END = dt.datetime(1900, 3, 1)  # below serial 61, Excel's 1900 calendar is a day ahead of OLE dates
#: The COM error codes Excel returns for error cells (as in ``xlwings._xlwindows.cell_errors``).
ERROR_CODES = {"#DIV/0!": -2146826281, "#N/A": -2146826246, "#NAME?": -2146826259, "#NULL!": -2146826288,
               "#NUM!": -2146826252, "#REF!": -2146826265, "#VALUE!": -2146826273}
ERROR_TEXT = {code: text for text, code in ERROR_CODES.items()}
_NUMBER = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*")
_PIDS = itertools.count(4242)


@dataclass(frozen=True)
class Call:
    """One value access: ``kind`` is "read", "write" or "clear"; the rectangle is 1-based."""

    kind: str
    sheet: str
    row: int
    column: int
    rows: int
    columns: int

    def cells(self) -> Iterator[tuple[int, int]]:
        for r in range(self.row, self.row + self.rows):
            for c in range(self.column, self.column + self.columns):
                yield r, c


def _typed(value: object) -> object:
    """What a cell holds after ``Range.Value = value``: a number is a double, and a string is parsed
    as if typed into it."""
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, str):
        return value
    if value.startswith("'"):
        return value[1:] or None
    if _NUMBER.fullmatch(value):
        return float(value)
    if value.strip().upper() in ("TRUE", "FALSE"):
        return value.strip().upper() == "TRUE"
    return value or None


def _setting(name: str) -> Any:
    """A read-write property kept in the object's ``settings`` dict (xlwings' base classes declare
    these as properties that raise, so plain attributes cannot stand in)."""
    return property(lambda self: self.settings[name], lambda self, value: self.settings.__setitem__(name, value))


class Engine:
    """The engine object xlwings looks values up through (``app.engine.impl``)."""

    name = "memory"
    type = "desktop"

    def __init__(self) -> None:
        self.apps = Apps()
        self.calls: list[Call] = []

    @staticmethod
    def prepare_xl_data_element(value: object, options: Any) -> object:
        """Python -> COM, as ``xlwings._xlwindows``: dates become datetimes, None an empty cell."""
        if value is None:
            return ""
        if isinstance(value, dt.datetime):
            return value.replace(tzinfo=None)
        if isinstance(value, dt.date):
            return dt.datetime(value.year, value.month, value.day)
        if isinstance(value, dt.time):
            return OLE_EPOCH.replace(hour=value.hour, minute=value.minute, second=value.second)
        return value

    @staticmethod
    def clean_value_data(data: Any, datetime_builder: Any, empty_as: Any, number_builder: Any,
                         err_to_str: bool) -> list[list[object]]:
        """COM -> Python, as ``xlwings._xlwindows``: error codes become their text or None."""
        def clean(value: object) -> object:
            if value in ("", None):
                return empty_as
            if isinstance(value, int) and not isinstance(value, bool) and value in ERROR_TEXT:
                return ERROR_TEXT[value] if err_to_str else None
            if number_builder is not None and isinstance(value, float):
                return number_builder(value)
            return value
        return [[clean(value) for value in row] for row in data]


class Apps(base_classes.Apps):
    def __init__(self) -> None:
        self.apps: list[App] = []

    def add(self, spec: Any = None, add_book: Any = None, xl: Any = None, visible: Any = None) -> App:
        app = App()
        self.apps.insert(0, app)
        return app

    def __iter__(self) -> Iterator[App]:
        return iter(self.apps)

    def __len__(self) -> int:
        return len(self.apps)


class App(base_classes.App):
    """Excel itself: its books, status bar and message boxes (recorded; answers come from a queue)."""

    def __init__(self) -> None:
        self._pid = next(_PIDS)
        self.book_list: list[Book] = []
        self.status_bar_history: list[str | bool] = []
        self.alerts: list[dict[str, object]] = []
        self.answers: list[str] = []
        self.settings: dict[str, object] = {"screen_updating": True, "display_alerts": True,
                                            "enable_events": True, "calculation": "automatic", "visible": True}

    screen_updating = _setting("screen_updating")
    display_alerts = _setting("display_alerts")
    enable_events = _setting("enable_events")
    calculation = _setting("calculation")
    visible = _setting("visible")

    @property
    def engine(self) -> Engine:
        return ENGINE

    @property
    def pid(self) -> int:
        return self._pid

    @property
    def status_bar(self) -> str | bool:
        return self.status_bar_history[-1] if self.status_bar_history else False

    @status_bar.setter
    def status_bar(self, value: str | bool) -> None:
        self.status_bar_history.append(value)

    def activate(self, steal_focus: bool = False) -> None:
        """This Excel becomes the active one (the first of the engine's apps)."""
        ENGINE.apps.apps.remove(self)
        ENGINE.apps.apps.insert(0, self)

    def alert(self, prompt: str, title: str | None, buttons: str, mode: str | None, callback: Any) -> str:
        self.alerts.append({"prompt": prompt, "title": title, "buttons": buttons, "mode": mode})
        if self.answers:
            return self.answers.pop(0)
        return "no" if buttons in ("yes_no", "yes_no_cancel") else "ok"


class Book(base_classes.Book):
    def __init__(self, app: App, name: str, fullname: str) -> None:
        self._app, self._name, self.fullname_value = app, name, fullname
        self.sheet_list: list[Sheet] = []
        self.defined: dict[str, str] = {}  # workbook-level defined name -> refers_to ("=...")
        self.active_sheet: Sheet | None = None

    @property
    def name(self) -> str:
        return self._name

    @property
    def fullname(self) -> str:
        return self.fullname_value

    @property
    def app(self) -> App:
        return self._app

    @property
    def sheets(self) -> Sheets:
        return Sheets(self)

    @property
    def names(self) -> Names:
        return Names(self)

    def activate(self) -> None:
        self._app.book_list.remove(self)
        self._app.book_list.insert(0, self)

    def sheet(self, name: str) -> Sheet:
        """The sheet called ``name``, compared as Excel does: without case."""
        return next(s for s in self.sheet_list if s.name.casefold() == name.casefold())


class Sheets(base_classes.Sheets):
    def __init__(self, book: Book) -> None:
        self.book = book

    @property
    def active(self) -> Sheet:
        return self.book.active_sheet or self.book.sheet_list[0]

    def __call__(self, name_or_index: int | str) -> Sheet:
        if isinstance(name_or_index, int):
            return self.book.sheet_list[name_or_index - 1]
        try:
            return self.book.sheet(name_or_index)
        except StopIteration:
            raise KeyError(name_or_index) from None

    def __len__(self) -> int:
        return len(self.book.sheet_list)

    def __iter__(self) -> Iterator[Sheet]:
        return iter(list(self.book.sheet_list))

    def add(self, before: Sheet | None = None, after: Sheet | None = None, name: str | None = None) -> Sheet:
        sheet = Sheet(self.book, name or f"Sheet{len(self.book.sheet_list) + 1}")
        at = (self.book.sheet_list.index(before) if before is not None
              else self.book.sheet_list.index(after) + 1 if after is not None else 0)
        self.book.sheet_list.insert(at, sheet)
        self.book.active_sheet = sheet
        return sheet


class Sheet(base_classes.Sheet):
    def __init__(self, book: Book, name: str, cells: dict[tuple[int, int], object] | None = None) -> None:
        self._book, self._name = book, name
        self.data: dict[tuple[int, int], object] = cells or {}
        self.indents: dict[tuple[int, int], int] = {}  # (row, column) -> IndentLevel
        self.settings: dict[str, object] = {"visible": True}

    visible = _setting("visible")

    @property
    def name(self) -> str:
        return self._name

    @property
    def book(self) -> Book:
        return self._book

    def activate(self) -> None:
        self._book.active_sheet = self

    def range(self, arg1: Any, arg2: Any = None) -> Range:
        if isinstance(arg1, tuple) and len(arg1) == 4:
            return Range(self, *arg1)
        first = _corner(arg1)
        last = _corner(arg2) if arg2 is not None else first
        if isinstance(arg1, Range) and arg2 is None:
            return arg1
        (r1, c1), (r2, c2) = first, last
        if isinstance(arg1, str) and arg2 is None and ":" in arg1:
            (r1, c1), (r2, c2) = (_corner(part) for part in arg1.split(":"))
        return Range(self, min(r1, r2), min(c1, c2), abs(r2 - r1) + 1, abs(c2 - c1) + 1)

    @property
    def used_range(self) -> Range:
        if not self.data:
            return Range(self, 1, 1, 1, 1)
        rows = [r for r, _ in self.data]
        columns = [c for _, c in self.data]
        return Range(self, min(rows), min(columns), max(rows) - min(rows) + 1, max(columns) - min(columns) + 1)


def _corner(arg: Any) -> tuple[int, int]:
    if isinstance(arg, Range):
        return arg.row, arg.column
    if isinstance(arg, tuple):
        return int(arg[0]), int(arg[1])
    match = re.fullmatch(r"\$?([A-Za-z]{1,3})\$?(\d+)", str(arg))
    if match is None:
        raise ValueError(f"not a cell reference: {arg!r}")
    number = 0
    for char in match[1].upper():
        number = number * 26 + ord(char) - 64
    return int(match[2]), number


class _CellApi:
    """The little of Excel's native Range object the adapter reads: the first cell's indent."""

    def __init__(self, rng: Range) -> None:
        self.IndentLevel = rng.sheet.indents.get((rng.row, rng.column), 0)


class Range(base_classes.Range):
    def __init__(self, sheet: Sheet, row: int, column: int, rows: int, columns: int) -> None:
        if row < 1 or column < 1:
            raise IndexError("xlwings/Excel ranges are 1-based")
        self._sheet, self._row, self._column, self._rows, self._columns = sheet, row, column, rows, columns
        self.options: dict[str, Any] = {}

    @property
    def api(self) -> _CellApi:
        return _CellApi(self)

    @property
    def sheet(self) -> Sheet:
        return self._sheet

    @property
    def row(self) -> int:
        return self._row

    @property
    def column(self) -> int:
        return self._column

    @property
    def shape(self) -> tuple[int, int]:
        return self._rows, self._columns

    def __len__(self) -> int:
        return self._rows * self._columns

    def __call__(self, *args: int) -> Range:
        row, column = (args[0], args[1]) if len(args) == 2 else divmod(args[0] - 1, self._columns)
        if len(args) == 1:
            row, column = row + 1, column + 1
        return Range(self._sheet, self._row + row - 1, self._column + column - 1, 1, 1)

    def _log(self, kind: str) -> None:
        ENGINE.calls.append(Call(kind, self._sheet.name, self._row, self._column, self._rows, self._columns))

    @property
    def raw_value(self) -> object:
        self._log("read")
        cells = self._sheet.data
        rows = tuple(tuple(cells.get((r, c)) for c in range(self._column, self._column + self._columns))
                     for r in range(self._row, self._row + self._rows))
        return rows[0][0] if self._rows == self._columns == 1 else rows

    @raw_value.setter
    def raw_value(self, data: object) -> None:
        self._log("write")
        scalar = not isinstance(data, (list, tuple))
        for r, c in itertools.product(range(self._rows), range(self._columns)):
            value = _typed(data if scalar else data[r][c])  # type: ignore[index]
            key = (self._row + r, self._column + c)
            if value is None:
                self._sheet.data.pop(key, None)
            else:
                self._sheet.data[key] = value

    def clear_contents(self) -> None:
        self._log("clear")
        for key in list(self._sheet.data):
            if self._row <= key[0] < self._row + self._rows and self._column <= key[1] < self._column + self._columns:
                del self._sheet.data[key]

    def get_address(self, row_absolute: bool, col_absolute: bool, external: bool) -> str:
        from xlwings.utils import col_name

        first = f"{col_name(self._column)}{self._row}"
        last = f"{col_name(self._column + self._columns - 1)}{self._row + self._rows - 1}"
        return first if self._rows == self._columns == 1 else f"{first}:{last}"

    @property
    def address(self) -> str:
        return self.get_address(True, True, False)


class Names(base_classes.Names):
    def __init__(self, book: Book) -> None:
        self.book = book

    def __call__(self, name_or_index: int | str) -> Name:
        names = list(self.book.defined)
        key = names[name_or_index - 1] if isinstance(name_or_index, int) else next(
            (n for n in names if n.casefold() == str(name_or_index).casefold()), None)
        if key is None:
            raise KeyError(name_or_index)
        return Name(self.book, key)

    def contains(self, name_or_index: int | str) -> bool:
        return any(n.casefold() == str(name_or_index).casefold() for n in self.book.defined)

    def __len__(self) -> int:
        return len(self.book.defined)


class Name(base_classes.Name):
    def __init__(self, book: Book, name: str) -> None:
        self.book, self._name = book, name

    @property
    def name(self) -> str:
        return self._name

    @property
    def refers_to(self) -> str:
        return self.book.defined[self._name]

    @refers_to.setter
    def refers_to(self, value: str) -> None:
        self.book.defined[self._name] = value


ENGINE = Engine()


def install() -> xw.main.Engine:
    """Register the engine with xlwings (once) and make it the active one; returns the wrapper."""
    if "memory" not in xw.engines.engines_by_name:
        xw.engines.add(xw.main.Engine(impl=ENGINE))
    engine = xw.engines["memory"]
    engine.activate()
    return engine

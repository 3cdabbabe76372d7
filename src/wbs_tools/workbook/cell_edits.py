"""Cell edits of one sheet addressed by numbers, and the cells a write reports, without "H12" strings.

A refresh of a large plan writes millions of cells. Building an "H12" key for each and parsing it
back in the writer cost more than writing the cell, so the computed columns are handed over as rows
of (column, value) pairs. Both classes still read as the A1-addressed mappings and sequences
callers know, built lazily when someone asks.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import lru_cache
from typing import Any, overload

from wbs_tools.workbook.cell_values import CellValue
from wbs_tools.workbook.layout import MAX_COLUMNS as MAX_COL
from wbs_tools.workbook.layout import MAX_ROWS as MAX_ROW

_REF = re.compile(r"\$?([A-Za-z]{1,3})\$?([0-9]{1,7})")
RowCells = list[tuple[int, CellValue]]


@lru_cache(maxsize=4096)
def col_number(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


@lru_cache(maxsize=16_384)
def col_letters(n: int) -> str:
    out = ""
    while n:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


def split_ref(ref: str) -> tuple[int, int]:
    """``"H12"`` -> (12, 8); raises ValueError outside Excel's grid."""
    m = _REF.fullmatch(ref.strip())
    if not m:
        raise ValueError(f"not a cell reference: {ref!r}")
    row, col = int(m.group(2)), col_number(m.group(1))
    if not (1 <= row <= MAX_ROW and 1 <= col <= MAX_COL):
        raise ValueError(f"cell reference outside the sheet: {ref!r}")
    return row, col


class CellEdits(Mapping[str, CellValue]):
    """``{row: [(column, value), ...]}`` for one sheet; also a read-only ``{"H12": value}`` mapping.

    ``set_row`` replaces values cell by cell, as ``dict.update`` would: the last value set wins.
    """

    def __init__(self) -> None:
        self._cells: dict[int, RowCells] = {}
        self._count = 0

    @property
    def rows(self) -> dict[int, RowCells]:
        """``{row: [(column, value), ...]}``; read it, change it through ``set_row``."""
        return self._cells

    def set_row(self, row: int, cells: RowCells) -> None:
        """Cells of ``row`` as (column, value), columns ascending and distinct."""
        if not cells:
            return
        if not (1 <= row <= MAX_ROW and cells[0][0] >= 1 and cells[-1][0] <= MAX_COL):
            raise ValueError(f"cell outside the sheet in row {row}")
        rows = self.rows
        old = rows.get(row)
        if old is None:
            rows[row] = cells
            self._count += len(cells)
            return
        merged = dict(old)
        merged.update(cells)
        rows[row] = sorted(merged.items())
        self._count += len(merged) - len(old)

    def set(self, ref: str, value: CellValue) -> None:
        row, col = split_ref(ref)
        self.set_row(row, [(col, value)])

    def update(self, other: Mapping[str, CellValue] | CellEdits) -> None:  # type: ignore[override]
        if isinstance(other, CellEdits):
            for row, cells in other.rows.items():
                self.set_row(row, cells)
            return
        for ref, value in other.items():
            self.set(ref, value)

    def sorted_rows(self) -> Iterable[tuple[int, RowCells]]:
        return sorted(self.rows.items())

    def __getitem__(self, ref: str) -> CellValue:
        row, col = split_ref(ref)
        for c, value in self.rows.get(row, ()):
            if c == col:
                return value
        raise KeyError(ref)

    def __iter__(self) -> Iterator[str]:
        for row, cells in self.sorted_rows():
            for col, _value in cells:
                yield f"{col_letters(col)}{row}"

    def __len__(self) -> int:
        return self._count

    def __repr__(self) -> str:
        return f"CellEdits({len(self)} cells in {len(self.rows)} rows)"


RowValues = tuple[CellValue, ...]


class FixedColumns(Iterable[tuple[int, RowCells]]):
    """Rows ascending whose cells are all in the same ``columns``, given as (row, values): the sheet
    writer reads them as they are, anyone else iterates (row, cells) as from any edits."""

    def __init__(self, columns: tuple[int, ...], rows: Iterator[tuple[int, RowValues]]) -> None:
        self.columns, self.rows = columns, rows

    def __iter__(self) -> Iterator[tuple[int, RowCells]]:
        columns = self.columns
        for row, values in self.rows:
            yield row, list(zip(columns, values, strict=True))


class StreamedEdits(CellEdits):
    """Cell edits produced row by row when the writer reaches them, never all held at once (a million
    task rows would be fourteen million (column, value) pairs).

    ``produce`` yields (row, values in ``columns``) with rows ascending and distinct, and can be called
    again. Cells set afterwards (another table on the same sheet) are merged in as the rows stream
    past; asking for a cell by reference, or counting them with such extra cells, builds the whole
    mapping once.
    """

    def __init__(self, produce: Callable[[], Iterator[tuple[int, RowValues]]], columns: tuple[int, ...],
                 count: int) -> None:
        super().__init__()
        self._produce: Callable[[], Iterator[tuple[int, RowValues]]] | None = produce
        self._columns = columns
        self._streamed = count  # cells ``produce`` yields
        self._extra = CellEdits()
        self._built = False

    @property
    def rows(self) -> dict[int, RowCells]:
        """Built on first read; the stream is not produced again after that."""
        if not self._built:
            built = CellEdits()
            for row, cells in self.sorted_rows():
                built.set_row(row, cells)
            self._cells, self._count, self._produce, self._built = built.rows, len(built), None, True
        return self._cells

    def set_row(self, row: int, cells: RowCells) -> None:
        if self._built:
            super().set_row(row, cells)
        else:
            self._extra.set_row(row, cells)

    def sorted_rows(self) -> Iterable[tuple[int, RowCells]]:
        if self._produce is None:
            return super().sorted_rows()
        streamed = FixedColumns(self._columns, self._produce())
        if not self._extra.rows:
            return streamed
        return self._merged(iter(streamed), self._extra.sorted_rows())

    @staticmethod
    def _merged(first: Iterator[tuple[int, RowCells]],
                second: Iterable[tuple[int, RowCells]]) -> Iterator[tuple[int, RowCells]]:
        """Two ascending streams of rows as one; a row in both takes the second's value per cell."""
        pending = iter(second)
        other = next(pending, None)
        for row, cells in first:
            while other is not None and other[0] < row:
                yield other
                other = next(pending, None)
            if other is not None and other[0] == row:
                merged = dict(cells)
                merged.update(other[1])
                yield row, sorted(merged.items())
                other = next(pending, None)
            else:
                yield row, cells
        while other is not None:
            yield other
            other = next(pending, None)

    def __len__(self) -> int:
        if not self._built and not self._extra.rows:
            return self._streamed
        _ = self.rows  # built once
        return self._count

    def __repr__(self) -> str:
        return f"StreamedEdits({len(self)} cells)"


def as_rows(cells: Mapping[str, CellValue] | CellEdits) -> Iterable[tuple[int, RowCells]]:
    """Any edits as rows ascending, each with its cells by column ascending."""
    if isinstance(cells, CellEdits):
        return cells.sorted_rows()
    by_row: dict[int, dict[int, CellValue]] = {}
    for ref, value in cells.items():
        row, col = split_ref(ref)
        by_row.setdefault(row, {})[col] = value
    return [(row, sorted(found.items())) for row, found in sorted(by_row.items())]


class CellRefs(Sequence[str]):
    """Cells written, kept as runs of consecutive rows written in the same columns (a million task
    rows are a few runs, not a million tuples) and spelled "H12" only when read."""

    def __init__(self, rows: Iterable[tuple[int, Sequence[int]]] = ()) -> None:
        self.runs: list[list[Any]] = []  # [first row, last row, columns as a tuple]
        self._len = 0
        self._refs: tuple[str, ...] | None = None
        for row, cols in rows:
            self.add(row, cols)

    def add(self, row: int, cols: Sequence[int]) -> None:
        if not cols:
            return
        if cols.__class__ is not tuple:
            cols = tuple(cols)
        self._len += len(cols)
        self._refs = None
        runs = self.runs
        if runs:
            last = runs[-1]
            if last[1] + 1 == row and (last[2] is cols or last[2] == cols):
                last[1] = row
                return
        runs.append([row, row, cols])

    def _all(self) -> tuple[str, ...]:
        if self._refs is None:
            self._refs = tuple(f"{col_letters(c)}{row}" for first, last, cols in self.runs
                               for row in range(first, last + 1) for c in cols)
        return self._refs

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...
    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        return self._all()[index]

    def __len__(self) -> int:
        return self._len

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, CellRefs | tuple | list):
            return tuple(self) == tuple(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._all())

    def __repr__(self) -> str:
        return repr(self._all()) if self._len <= 20 else f"CellRefs({self._len} cells)"

"""Rows of an owned sheet formatted a block at a time, column by column, with the loops in C.

A million-task status snapshot is a million rows of the same shape. Taken a block of rows at a time,
each column is encoded in one pass (dates and flags from the encoder's cache, task IDs and plain
names formatted without a call per value) and the block's XML is one join of the columns
interleaved: no Python step per row. A block this cannot write exactly as the row-by-row path of
:mod:`owned_rows` would (a row with no value at all, a date in a column without a date style) is
refused, and left to that path.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from itertools import chain, repeat
from operator import methodcaller

from wbs_tools.workbook.cell_values import CellValue, ValueEncoder
from wbs_tools.workbook.sheet_xml import col_letters

_NONE = type(None)
_COUNT_NONE = methodcaller("count", None)


class ColumnBlocks:
    """Formats blocks of equally long rows; see :meth:`block`. The styles are per 1-based column:
    ``style_attr`` for values, ``date_attr`` for dates, ``date_style`` None where no date style exists."""

    def __init__(self, p: bytes, style_attr: Sequence[bytes], date_attr: Sequence[bytes],
                 date_style: Sequence[str | None], encode: ValueEncoder) -> None:
        self.style_attr, self.date_attr, self.date_style, self.encode = style_attr, date_attr, date_style, encode
        self.row_open, self.row_close = b"<" + p + b'row r="', b"</" + p + b"row>"
        self.cell_open = b"<" + p + b'c r="'

    def block(self, rows: Sequence[Sequence[CellValue]], first_row: int) -> tuple[bytes, int] | None:
        """The ``<row>`` elements of ``rows`` (all as long as the first) numbered from ``first_row``,
        and the last column holding a value; None when the row-by-row path must write them."""
        if not rows or not rows[0]:
            return None
        rns = list(map(b"%d".__mod__, range(first_row, first_row + len(rows))))
        parts: list[Iterable[bytes]] = [repeat(self.row_open), rns, repeat(b'">')]
        last = 0
        gaps = False
        for c, column in enumerate(zip(*rows, strict=True), start=1):
            kinds = set(map(type, column))
            blank = _NONE in kinds
            if blank:
                kinds.discard(_NONE)
                gaps = True
                if not kinds:
                    continue
            dates = sum(issubclass(k, dt.date) for k in kinds)
            if dates and self.date_style[c] is None:
                return None  # dates become text there, value by value
            style_attr, date_attr = b'"' + self.style_attr[c], b'"' + self.date_attr[c]
            styles: Iterable[bytes] = repeat(date_attr if dates else style_attr)
            if 0 < dates < len(kinds):
                styles = [date_attr if isinstance(v, dt.date) else style_attr for v in column]
            head, rests = self.cell_open + col_letters(c).encode(), self.encode.rests(column, kinds)
            if blank:  # an empty cell is not written: each of its pieces is empty
                parts += [[b"" if v is None else head for v in column],
                          [b"" if v is None else rn for v, rn in zip(column, rns, strict=True)],
                          [b"" if v is None else s for v, s in zip(column, styles, strict=False)],
                          [b"" if v is None else r for v, r in zip(column, rests, strict=True)]]
            else:
                parts += [repeat(head), rns, styles, rests]
            last = c
        if gaps and len(rows[0]) in map(_COUNT_NONE, rows):
            return None  # a row without a value is left out altogether
        parts.append(repeat(self.row_close))
        return b"".join(chain.from_iterable(zip(*parts, strict=False))), last  # the repeats are endless

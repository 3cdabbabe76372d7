"""Row plans for the sheet writer: when consecutive rows have the same cells and the same edited
columns (every task row, nearly always), where each new or rewritten cell goes and which style it
takes are worked out once, and each row only formats its row number and values into templates."""

from __future__ import annotations

import re
from bisect import bisect_left
from itertools import pairwise

from wbs_tools.workbook.cell_edits import RowCells, col_letters
from wbs_tools.workbook.sheet_base import (
    _MISSING,
    _PLAIN_ATTRS,
    SheetPatch,
    SheetPatcherBase,
    style_attribute,
)

_SPANS_VALUE = re.compile(rb'\sspans="([^"]*)"')
Attrs = tuple[bytes, str | None, bool]  # (style attribute as written, t, self-closing)
# where a run of new cells goes: before the cell whose reference starts with ``anchor`` (None: at the
# row's end), the run's first and last index among the edited cells, and its %-template
Group = tuple[bytes | None, int, int, bytes]


class _Filled:
    """How rows with one layout of cells are edited when every edited column already has a cell: per
    edited cell, its index among the row's cells split at ``<c r="``, its column letters and the style
    it had in the first such row. A cell that reads exactly as the new value would be written is left
    alone, an empty one with that style is filled; anything else sends the row to the cell by cell
    path."""

    __slots__ = ("cells", "last")

    def __init__(self, cells: list[tuple[int, bytes, bytes, bytes]]) -> None:
        self.cells = cells  # (index among the row's cells, column letters, style, style + "/>")
        self.last = max((k for k, *_rest in cells), default=0)  # the row has at least last + 1 pieces


class _Plan:
    """How the new cells of every row with one layout of existing cells and one set of edited columns
    are written, when none of those columns has a cell yet: the runs of new cells, each a template
    that only needs the row number and the values' bytes."""

    __slots__ = ("added", "from_row", "groups")

    def __init__(self, groups: list[Group], added: list[int], from_row: int) -> None:
        self.groups = groups
        self.added = added
        self.from_row = from_row  # the styles hold for rows after this one (the columns' last cells)


class PlannedRows(SheetPatcherBase):
    """The per-column caches of the writer and the row plans built from them."""

    shape_re: re.Pattern[bytes]  # a cell's opening up to its column letters (set when a run starts)

    def _setup(self) -> None:
        p = self.p
        self.cell_open = b"<" + p + b'c r="'
        self.cell_close = b"</" + p + b"c>"
        self.row_close = b"</" + p + b"row>"
        self.ext_open = b"<" + p + b"extLst"
        self.heads: dict[int, bytes] = {}
        self.attrs: dict[bytes, Attrs | None] = {}
        self.shapes: dict[tuple[bytes, ...], tuple[list[int], frozenset[int]] | None] = {}
        self.tail_styles: dict[int, bytes] = {}
        self.new_styles: dict[int, bytes] = {}
        self.above_styles: dict[int, tuple[int, bytes]] = {}  # column -> (its last cell's row, style)
        # (the row's cells' column letters joined by spaces, the edited columns) -> plan
        self.plans: dict[tuple[bytes, tuple[int, ...]], _Plan | _Filled | None] = {}
        self.new_rows: dict[tuple[int, ...], bytes] = {}  # edited columns -> template of a row below the data
        # edited columns -> the plan of the last row whose edited cells all existed: the next such row
        # tries it first, without reading the shape of its cells (:meth:`_filled_row` checks each one)
        self.filled: dict[tuple[int, ...], _Filled] = {}
        self.span_fixes: dict[tuple[bytes, tuple[int, ...]], bytes] = {}

    def _head(self, col: int) -> bytes:
        """``<c r="H`` for column H: a cell's reference is this and its row number."""
        found = self.heads[col] = self.cell_open + col_letters(col).encode()
        return found

    def _plain(self, attrs: bytes) -> Attrs | None:
        """The attributes after ``r`` of a cell when they are only a style and a type, else None."""
        if attrs not in self.attrs:
            m = _PLAIN_ATTRS.fullmatch(attrs)
            self.attrs[attrs] = None if m is None else (m.group(1) or b"", m.group(2).decode() if m.group(2) else None,
                                                        bool(m.group(3)))
        return self.attrs[attrs]

    def _shape(self, lo: int, hi: int) -> tuple[list[bytes], list[int], frozenset[int]] | None:
        """Column letters and numbers (as a list and a set) of every cell in a row, when each states ``r``
        first, else None."""
        data = self.data
        found = self.shape_re.findall(data, lo, hi)
        if len(found) != data.count(b"<" + self.p + b"c", lo, hi):
            return None  # a cell without r, or not first, or rich text (<color>...): the general path
        key = tuple(found)
        if key not in self.shapes:
            cols = [self._col(letters) for letters in found]
            self.shapes[key] = (cols, frozenset(cols)) if all(a < b for a, b in pairwise(cols)) else None
        known = self.shapes[key]
        return None if known is None else (found, *known)

    def _col(self, letters: bytes) -> int:
        n = 0
        for ch in letters.upper():
            n = n * 26 + ch - 64
        return n

    def _new_style(self, row: int, col: int, row_attrs: bytes, cells: RowCells) -> bytes:
        """A new cell's style attribute; worked out once per column unless the row or the cell above
        decides it (below the column's last cell, the cell above is always that one)."""
        custom = b"customFormat" in row_attrs
        if not custom:
            found = self.new_styles.get(col)
            if found is not None:
                return found
            above = self.above_styles.get(col)
            if above is not None and row > above[0]:
                return above[1]
        static = self._static_style(col)
        if static is not _MISSING:
            found = self.new_styles[col] = style_attribute(static)  # type: ignore[arg-type]
            return found
        if self.style_row is None and col not in self.columns:
            self._column(col, (c for c, _v in cells))  # the row's other columns in the same pass
        style = self._style_for(row, col, row_attrs)
        if not custom:
            if any(lo <= col <= hi for lo, hi, _s in self.col_styles):
                self.new_styles[col] = style_attribute(style)  # the column's style, whatever the row
            elif self.style_row is None:
                rows, styles = self._column(col)
                self.above_styles[col] = (rows[-1], style_attribute(styles[-1])) if rows else (0, b"")
        return style_attribute(style)

    def _plan(self, row: int, found: list[bytes], cols: tuple[int, ...], row_attrs: bytes, cells: RowCells,
              lo: int, hi: int) -> _Plan | _Filled | None:
        """The plan for rows shaped as ``found`` (their cells' column letters) edited in ``cols``, or None
        when only some columns have a cell or a new cell's style depends on more than its column."""
        present = {self._col(letters): letters for letters in found}
        if len(present) != len(found) or any(a >= b for a, b in pairwise(present)):
            return None
        if all(col in present for col in cols):
            return self._filled_plan(row, found, cols, present, lo, hi)
        if any(col in present for col in cols):
            return None
        existing = sorted(present)
        groups: list[Group] = []
        from_row = 0
        k_prev, start = -1, 0
        parts: list[bytes] = []
        for n, col in enumerate(cols):
            style = self._new_style(row, col, row_attrs, cells)
            if col not in self.new_styles:
                above = self.above_styles.get(col)
                if above is None or row <= above[0] or above[1] != style:
                    return None
                from_row = max(from_row, above[0])
            k = bisect_left(existing, col)
            if k != k_prev and parts:
                anchor = self.cell_open + present[existing[k_prev]] if k_prev < len(existing) else None
                groups.append((anchor, start, n, b"".join(parts)))
                parts, start = [], n
            k_prev = k
            parts.append((self.heads.get(col) or self._head(col)).replace(b"%", b"%%") + b'%b"'
                         + style.replace(b"%", b"%%") + b"%b")
        anchor = self.cell_open + present[existing[k_prev]] if k_prev < len(existing) else None
        groups.append((anchor, start, len(cols), b"".join(parts)))
        return _Plan(groups, list(cols), from_row)

    def _filled_plan(self, row: int, found: list[bytes], cols: tuple[int, ...], present: dict[int, bytes],
                     lo: int, hi: int) -> _Filled | None:
        chunks = self.data[lo:hi].split(self.cell_open)
        index = {letters: k for k, letters in enumerate(found, start=1)}
        tail = str(row).encode() + b'"'
        planned: list[tuple[int, bytes, bytes, bytes]] = []
        for col in cols:
            letters = present[col]
            k = index[letters]
            chunk = chunks[k]
            if not chunk.startswith(letters + tail):
                return None
            gt = chunk.find(b">")
            attrs = chunk[len(letters) + len(tail) : gt - 1 if chunk[gt - 1 : gt] == b"/" else gt]
            plain = self._plain(attrs)
            if gt < 0 or plain is None:
                return None
            planned.append((k, letters, plain[0], plain[0] + b"/>"))
        return _Filled(planned)

    def _filled_row(self, plan: _Filled, m: re.Match[bytes], lo: int, hi: int, row: int, cols: tuple[int, ...],
                    values: tuple[object, ...], result: SheetPatch, rests: tuple[bytes, ...] | None = None
                    ) -> tuple[bytes | None, int] | None:
        """A row whose edited cells all exist, when each holds the new value or is empty: else None.

        Each edited piece of the row (split at ``<c r="``) must read whole as its new cell or as the
        empty cell of the plan, reference included: the plan of another row of the same edited
        columns serves where it holds, whatever the row's other cells."""
        data = self.data
        chunks = data[lo:hi].split(self.cell_open)
        if len(chunks) <= plan.last:
            return None
        if rests is None:
            rests = tuple(self.encode.rests(values))  # type: ignore[arg-type]
        rq = str(row).encode() + b'"'
        written: list[int] = []
        for (k, letters, style, empty), col, rest in zip(plan.cells, cols, rests, strict=True):
            at = letters + rq
            new = at + style + rest
            old = chunks[k]
            if old != new:
                if old != at + empty:
                    return None
                chunks[k] = new
                written.append(col)
        result.unchanged += len(cols) - len(written)
        end = hi + len(self.row_close)
        if not written:
            return None, end
        result.written.add(row, written)
        return b"".join([data[m.start() : lo], self.cell_open.join(chunks), data[hi:end]]), end

    def _planned_row(self, plan: _Plan, m: re.Match[bytes], lo: int, hi: int, row: int, cols: tuple[int, ...],
                     values: tuple[object, ...], result: SheetPatch, rests: tuple[bytes, ...] | None = None
                     ) -> tuple[bytes, int] | None:
        """A row written from its plan: the existing cells copied in stretches, the new ones formatted."""
        data = self.data
        rn = str(row).encode()
        tail = rn + b'"'
        args: list[bytes] = [rn] * (2 * len(values))
        args[1::2] = rests if rests is not None else self.encode.rests(values)  # type: ignore[arg-type]
        head = data[m.start() : lo]
        if b"spans" in head:
            head = self._fixed_spans(head, cols, plan.added)
        pieces = [head]
        pos = lo
        for anchor, a, b, template in plan.groups:
            if anchor is None:
                ext = data.find(self.ext_open, pos, hi)
                at = hi if ext < 0 else ext
            else:
                at = data.find(anchor + tail, pos, hi)
                if at < 0:
                    return None
            pieces.append(data[pos:at])
            pieces.append(template % tuple(args[2 * a : 2 * b]))
            pos = at
        end = hi + len(self.row_close)
        pieces.append(data[pos:end])
        result.written.add(row, cols)
        return b"".join(pieces), end

    def _fixed_spans(self, head: bytes, cols: tuple[int, ...], added: list[int]) -> bytes:
        spans = _SPANS_VALUE.search(head)
        if spans is None:
            return self._spans(head, added)
        key = (spans.group(1), cols)
        new = self.span_fixes.get(key)
        if new is None:
            fixed = _SPANS_VALUE.search(self._spans(head, added))
            new = self.span_fixes[key] = fixed.group(1) if fixed else spans.group(1)
        return head if new == spans.group(1) else head[: spans.start(1)] + new + head[spans.end(1) :]

    def _new_row_template(self, row: int, cells: RowCells) -> bytes:
        """A %-template of a row below the data with these columns: each column's style is fixed there."""
        styles = self.tail_styles
        parts = [(b"<" + self.p + b'row r="').replace(b"%", b"%%") + b'%b">']
        for col, _value in cells:
            style = styles.get(col)
            if style is None:
                style = styles[col] = style_attribute(self._style_for(row, col, None))
            parts.append((self.heads.get(col) or self._head(col)).replace(b"%", b"%%") + b'%b"'
                         + style.replace(b"%", b"%%") + b"%b")
        parts.append(self.row_close.replace(b"%", b"%%"))
        return b"".join(parts)

"""The fast path of :func:`sheet_xml.patch_sheet`: cells found by their reference, rows written whole.

A large plan's refresh sets millions of cells, nearly all of them shaped as Excel writes them
(``<c r="H12" s="5" t="s">``, in column order) or as the template leaves them empty
(``<c r="H12" s="5"/>``). Such a cell is found with one byte search for ``<c r="H12"`` inside its
row and rewritten from bytes kept ready per column and per distinct value; the cells of a row that
do not move are never looked at. New rows below the data are written whole, each column's style
worked out once. Anything else (formulas, extension lists, cells without ``r``, other attribute
orders) falls back to the general cell by cell patch of the row, so the output is the same.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable
from itertools import pairwise

from wbs_tools.workbook.cell_edits import MAX_COL, RowCells, col_letters
from wbs_tools.workbook.package import WorkbookError
from wbs_tools.workbook.sheet_xml import (
    _MISSING,
    _PLAIN_ATTRS,
    SheetPatch,
    SheetPatcherBase,
    _style_attr,
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

    __slots__ = ("cells",)

    def __init__(self, cells: list[tuple[int, bytes, bytes]]) -> None:
        self.cells = cells


class _Plan:
    """How the new cells of every row with one layout of existing cells and one set of edited columns
    are written, when none of those columns has a cell yet: the runs of new cells, each a template
    that only needs the row number and the values' bytes."""

    __slots__ = ("added", "from_row", "groups")

    def __init__(self, groups: list[Group], added: list[int], from_row: int) -> None:
        self.groups = groups
        self.added = added
        self.from_row = from_row  # the styles hold for rows after this one (the columns' last cells)


class SheetWriter(SheetPatcherBase):
    """Patches one worksheet part; :meth:`run` returns the new bytes and what was done."""

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
        self.plans: dict[tuple[tuple[bytes, ...], tuple[int, ...]], _Plan | _Filled | None] = {}
        self.new_rows: dict[tuple[int, ...], bytes] = {}  # edited columns -> template of a row below the data
        self.span_fixes: dict[tuple[bytes, tuple[int, ...]], bytes] = {}

    def _head(self, col: int) -> bytes:
        """``<c r="H`` for column H: a cell's reference is this and its row number."""
        found = self.heads[col] = self.cell_open + col_letters(col).encode()
        return found

    def _plain(self, attrs: bytes) -> Attrs | None:
        """The attributes after ``r`` of a cell when they are only a style and a type, else None."""
        if attrs not in self.attrs:
            m = _PLAIN_ATTRS.fullmatch(attrs)
            self.attrs[attrs] = None if m is None else (m.group(1) or b"", m.group(2) and m.group(2).decode(),
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
            found = self.new_styles[col] = _style_attr(static)  # type: ignore[arg-type]
            return found
        if self.style_row is None and col not in self.columns:
            self._column(col, (c for c, _v in cells))  # the row's other columns in the same pass
        style = self._style_for(row, col, row_attrs)
        if not custom:
            if any(lo <= col <= hi for lo, hi, _s in self.col_styles):
                self.new_styles[col] = _style_attr(style)  # the column's style, whatever the row
            elif self.style_row is None:
                rows, styles = self._column(col)
                self.above_styles[col] = (rows[-1], _style_attr(styles[-1])) if rows else (0, b"")
        return _style_attr(style)

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
        planned: list[tuple[int, bytes, bytes]] = []
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
            planned.append((k, letters, plain[0]))
        return _Filled(planned)

    def _filled_row(self, plan: _Filled, m: re.Match[bytes], lo: int, hi: int, row: int, cols: tuple[int, ...],
                    values: tuple[object, ...], result: SheetPatch) -> tuple[bytes | None, int] | None:
        """A row whose edited cells all exist, when each holds the new value or is empty: else None."""
        data = self.data
        enc, cache = self.encode, self.encode.cache
        chunks = data[lo:hi].split(self.cell_open)
        rq = str(row).encode() + b'"'
        written: list[int] = []
        for (k, letters, style), col, v in zip(plan.cells, cols, values, strict=True):
            rest = (cache.get((v.__class__, v)) or enc(v))[3]  # type: ignore[arg-type]
            new = letters + rq + style + rest
            old = chunks[k]
            if old != new:
                if old != letters + rq + style + b"/>":
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
                     values: tuple[object, ...], result: SheetPatch) -> tuple[bytes, int] | None:
        """A row written from its plan: the existing cells copied in stretches, the new ones formatted."""
        data = self.data
        enc, cache = self.encode, self.encode.cache
        rn = str(row).encode()
        tail = rn + b'"'
        args: list[bytes] = [rn] * (2 * len(values))
        args[1::2] = [(cache.get((v.__class__, v)) or enc(v))[3] for v in values]  # type: ignore[arg-type]
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

    def _fast_row(self, i: int, row: int, cells: RowCells, result: SheetPatch) -> tuple[bytes | None, int] | None:
        """(the edited row's new bytes or None when nothing changes, where the row ends), or None to
        take the general path."""
        data = self.data
        m = self.row_re.match(data, self.row_starts[i])
        if m is None or m.group(2):
            return None
        lo = m.end()
        hi = data.find(self.row_close, lo, self.content[1])
        if hi < 0:
            return None
        row_attrs = m.group(1)
        if b"customFormat" not in row_attrs:
            found = self.shape_re.findall(data, lo, hi)
            if len(found) == data.count(self.c_open, lo, hi):
                cols, values = zip(*cells, strict=True)
                key = (tuple(found), cols)
                plans = self.plans
                plan = plans[key] if key in plans else plans.setdefault(key, self._plan(row, found, cols,
                                                                                        row_attrs, cells, lo, hi))
                if plan.__class__ is _Filled:
                    filled = self._filled_row(plan, m, lo, hi, row, cols, values, result)  # type: ignore[arg-type]
                    if filled is not None:
                        return filled
                elif plan is not None and row > plan.from_row:  # type: ignore[union-attr]
                    done = self._planned_row(plan, m, lo, hi, row, cols, values, result)  # type: ignore[arg-type]
                    if done is not None:
                        return done
        tail = str(row).encode() + b'"'
        enc, cache, heads = self.encode, self.encode.cache, self.heads
        close_c = self.cell_close
        pieces: list[bytes] = [data[m.start() : lo]]
        pos = lo
        written: list[int] = []
        added: list[int] = []
        unchanged = 0
        shape: tuple[list[bytes], list[int], frozenset[int]] | None = None
        present: frozenset[int] = frozenset()  # the row's columns, once its shape is known
        for col, value in cells:
            needle = (heads.get(col) or self._head(col)) + tail
            j = data.find(needle, pos, hi) if shape is None or col in present else -1
            e = cache.get((value.__class__, value)) or enc(value)
            if j < 0:  # a new cell: goes before the first cell to its right
                if shape is None or col in present:
                    if data.find(needle, lo, pos) >= 0:
                        return None
                    if shape is None:
                        if (shape := self._shape(lo, hi)) is None:
                            return None
                        present = shape[2]
                k = bisect_left(shape[1], col)
                if k < len(shape[1]):
                    at = data.find(self.cell_open + shape[0][k] + tail, pos, hi)
                else:
                    ext = data.find(self.ext_open, pos, hi)
                    at = hi if ext < 0 else ext
                if at < 0:
                    return None
                pieces += [data[pos:at], needle, self._new_style(row, col, m.group(1), cells), e[3]]
                pos = at
                added.append(col)
                written.append(col)
                continue
            k = j + len(needle)
            gt = data.find(b">", k, hi)
            attrs = data[k:gt]
            plain = self.attrs.get(attrs) or self._plain(attrs)
            if plain is None or gt < 0:
                return None
            style, old_t, empty = plain
            body = e[2]
            if empty:
                if not body:
                    unchanged += 1
                    continue
                end = gt + 1
            else:
                c_end = data.find(close_c, gt, hi)
                if c_end < 0:
                    return None
                content, end = data[gt + 1 : c_end], c_end + len(close_c)
                if content == body and (not body or (old_t or "n") == (e[0] or "n")):
                    unchanged += 1
                    continue
                if b"<" + self.p + b"f" in content or self.ext_open in content:
                    return None  # formulas and extension lists: the general path
                if content and self._same(old_t or "n", content, value):
                    unchanged += 1
                    continue
            pieces += [data[pos:j], needle, style, e[3]]
            pos = end
            written.append(col)
        result.unchanged += unchanged
        end = hi + len(self.row_close)
        if not written:
            return None, end
        result.written.add(row, written)
        if added:
            pieces[0] = self._spans(pieces[0], added)
        pieces.append(data[pos:end])
        return b"".join(pieces), end

    def _new_row(self, row: int, cells: RowCells, tail_row: bool, result: SheetPatch) -> bytes:
        """A row that does not exist yet; below the data each column's style is worked out once."""
        if tail_row:
            cols, values = zip(*cells, strict=True)
            template = self.new_rows.get(cols)
            if template is None:
                template = self.new_rows[cols] = self._new_row_template(row, cells)
            rn = str(row).encode()
            args: list[bytes] = [rn] * (1 + 2 * len(values))
            cache, enc = self.encode.cache, self.encode
            args[2::2] = [(cache.get((v.__class__, v)) or enc(v))[3] for v in values]  # type: ignore[arg-type]
            result.written.add(row, cols)
            return template % tuple(args)
        tail = str(row).encode() + b'"'
        enc, cache, heads, styles = self.encode, self.encode.cache, self.heads, self.tail_styles
        pieces = [b"<" + self.p + b'row r="' + tail + b">"]
        for col, value in cells:
            style = styles.get(col) if tail_row else None
            if style is None:
                style = _style_attr(self._style_for(row, col, None))
                if tail_row:
                    styles[col] = style
            pieces += [heads.get(col) or self._head(col), tail, style,
                       (cache.get((value.__class__, value)) or enc(value))[3]]
        pieces.append(self.row_close)
        result.written.add(row, [col for col, _v in cells])
        return b"".join(pieces)

    def _new_row_template(self, row: int, cells: RowCells) -> bytes:
        """A %-template of a row below the data with these columns: each column's style is fixed there."""
        styles = self.tail_styles
        parts = [(b"<" + self.p + b'row r="').replace(b"%", b"%%") + b'%b">']
        for col, _value in cells:
            style = styles.get(col)
            if style is None:
                style = styles[col] = _style_attr(self._style_for(row, col, None))
            parts.append((self.heads.get(col) or self._head(col)).replace(b"%", b"%%") + b'%b"'
                         + style.replace(b"%", b"%%") + b"%b")
        parts.append(self.row_close.replace(b"%", b"%%"))
        return b"".join(parts)

    def _unprotected(self, row: int, cells: RowCells, result: SheetPatch) -> RowCells:
        keep: RowCells = []
        for col, value in cells:
            reason = self.protected.get((row, col))
            if reason is None:
                keep.append((col, value))
            else:
                self.encode(value)  # an invalid value is refused even where it is not written
                result.skipped.append((f"{col_letters(col)}{row}", reason))
        return keep

    def run(self, rows: Iterable[tuple[int, RowCells]]) -> SheetPatch:
        """Apply edits given as rows ascending, each with its cells by column ascending. The new part is
        left in ``result.chunks`` (the head up to the first edited row, blocks of rows, the tail)."""
        self._setup()
        self.shape_re = re.compile(rb"<" + re.escape(self.p) + rb'c r="([A-Z]{1,3})[0-9]')
        self.c_open = b"<" + self.p + b"c"
        result = SheetPatch(self.data)
        keys, starts = self.row_keys, self.row_starts
        protected_rows = {r for r, _c in self.protected}
        out = _Blocks(memoryview(self.data))
        cursor, i, n = 0, 0, len(keys)
        last_key = keys[-1] if keys else 0
        r1 = r2 = c2 = 0
        c1 = MAX_COL + 1
        for row, cells in rows:
            if row in protected_rows:
                cells = self._unprotected(row, cells, result)
                if not cells:
                    continue
            r1, r2 = r1 or row, row
            if cells[0][0] < c1:
                c1 = cells[0][0]
            if cells[-1][0] > c2:
                c2 = cells[-1][0]
            i = bisect_left(keys, row, i)
            if i < n and keys[i] == row:
                fast = self._fast_row(i, row, cells, result)
                if fast is None:
                    elem = self._row(i)
                    new, start, end = self._patch_row(elem, cells, result), elem.start, elem.end
                else:
                    (new, end), start = fast, starts[i]
                if new is not None:
                    out.add(cursor, start, new)
                    cursor = end
            else:
                at = starts[i] if i < n else self.content[1]
                out.add(cursor, at, self._new_row(row, cells, row > last_key, result))
                cursor = at
        if not result.written:
            return result
        chunks = out.finish(cursor)
        view = out.view
        tag = self.sheet_data
        if tag.group(2):  # <sheetData/> becomes <sheetData>rows</sheetData>
            p = self.p
            rows_xml = b"".join(chunks[1:-1])
            opened = b"<" + p + b"sheetData" + tag.group(1) + b">"
            chunks = [view[: tag.start()], opened + rows_xml + b"</" + p + b"sheetData>", view[tag.end() :]]
        dims = self._dimension(((r1, c1), (r2, c2)))
        if dims:
            start, stop, new = dims[0]
            first = chunks[0]
            if len(first) < stop:
                raise WorkbookError(f"the part {self.part!r} has its <dimension> among its cells")
            chunks[:1] = [view[:start], new, view[stop : len(first)]]
        # short views become bytes of their own, so the original part can go once the patch is done
        result.chunks = [bytes(c) if isinstance(c, memoryview) and len(c) <= _Blocks.BLOCK else c for c in chunks]
        return result


class _Blocks:
    """The patched part as it is built: the original bytes up to the first edited row, then the new
    rows and the unchanged stretches between them joined into blocks of about a megabyte (a million
    rows are a few hundred objects, not millions), long unchanged stretches kept as views."""

    BLOCK = 1 << 20
    KEEP_VIEW = 1 << 16

    def __init__(self, view: memoryview) -> None:
        self.view = view
        self.chunks: list[bytes | memoryview] = []
        self.block: list[bytes | memoryview] = []
        self.size = 0

    def _flush(self) -> None:
        if self.block:
            self.chunks.append(b"".join(self.block))
            self.block, self.size = [], 0

    def add(self, cursor: int, start: int, new: bytes) -> None:
        """The original bytes [cursor, start), then ``new``."""
        if not self.chunks:
            self.chunks.append(self.view[cursor:start])  # the head: <dimension> is fixed in it later
        elif start - cursor >= self.KEEP_VIEW:
            self._flush()
            self.chunks.append(self.view[cursor:start])
        elif start > cursor:
            self.block.append(self.view[cursor:start])
            self.size += start - cursor
        self.block.append(new)
        self.size += len(new)
        if self.size >= self.BLOCK:
            self._flush()

    def finish(self, cursor: int) -> list[bytes | memoryview]:
        self._flush()
        self.chunks.append(self.view[cursor:])
        return self.chunks

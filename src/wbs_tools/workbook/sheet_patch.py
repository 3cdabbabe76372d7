"""The fast path of :func:`sheet_xml.patch_sheet`: cells found by their reference, rows written whole.

A large plan's refresh sets millions of cells, nearly all of them shaped as Excel writes them
(``<c r="H12" s="5" t="s">``, in column order) or as the template leaves them empty
(``<c r="H12" s="5"/>``). Such a cell is found with one byte search for ``<c r="H12"`` inside its
row and rewritten from bytes kept ready per column and per distinct value; the cells of a row that
do not move are never looked at. Rows sharing their cells' layout and edited columns follow a plan
made once (:mod:`row_plans`): new cells formatted into templates, filled cells compared whole. New
rows below the data are written whole from a template per set of columns. Anything else (formulas,
extension lists, cells without ``r``, other attribute orders) falls back to the general cell by cell
patch of the row, so the output is the same.
"""

from __future__ import annotations

import re
import tempfile
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import BinaryIO, ClassVar

from wbs_tools.workbook.cell_edits import MAX_COL, FixedColumns, RowCells, RowValues, col_letters
from wbs_tools.workbook.cell_values import ValueEncoder
from wbs_tools.workbook.package import WorkbookError
from wbs_tools.workbook.package_out import Deflater
from wbs_tools.workbook.row_plans import PlannedRows, _Filled
from wbs_tools.workbook.sheet_base import SheetPatch, style_attribute


class SheetWriter(PlannedRows):
    """Patches one worksheet part; :meth:`run` returns the new bytes and what was done."""

    def _fast_row(self, i: int, row: int, cols: tuple[int, ...], values: RowValues, result: SheetPatch,
                  rests: tuple[bytes, ...] | None = None) -> tuple[bytes | None, int] | None:
        """(the edited row's new bytes or None when nothing changes, where the row ends), or None to
        take the general path. ``rests``: the values' cell bytes (``encode(v)[3]``) when known."""
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
            last = self.filled.get(cols)
            if last is not None:
                done = self._filled_row(last, m, lo, hi, row, cols, values, result, rests)
                if done is not None:
                    return done
            found = self.shape_re.findall(data, lo, hi)
            if len(found) == data.count(self.c_open, lo, hi):
                key = (b" ".join(found), cols)
                plans = self.plans
                try:
                    plan = plans[key]
                except KeyError:
                    cells = list(zip(cols, values, strict=True))
                    plan = plans[key] = self._plan(row, found, cols, row_attrs, cells, lo, hi)
                if plan.__class__ is _Filled:
                    filled = self._filled_row(plan, m, lo, hi, row, cols, values, result,  # type: ignore[arg-type]
                                              rests)
                    if filled is not None:
                        self.filled[cols] = plan  # type: ignore[assignment]
                        return filled
                elif plan is not None and row > plan.from_row:  # type: ignore[union-attr]
                    done = self._planned_row(plan, m, lo, hi, row, cols, values, result,  # type: ignore[arg-type]
                                             rests)
                    if done is not None:
                        return done
        cells = list(zip(cols, values, strict=True))
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
                if b"<" + self.p + b"f" in content or self.ext_open in content or self.c_open in content:
                    return None  # formulas, extension lists and anything nested: the general path
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

    def _new_row(self, row: int, cols: tuple[int, ...], values: RowValues, tail_row: bool, result: SheetPatch,
                 rests: tuple[bytes, ...] | None = None) -> bytes:
        """A row that does not exist yet; below the data each column's style is worked out once.
        ``rests``: the values' cell bytes (``encode(v)[3]``) when known."""
        if tail_row:
            template = self.new_rows.get(cols)
            if template is None:
                template = self.new_rows[cols] = self._new_row_template(row, list(zip(cols, values, strict=True)))
            rn = str(row).encode()
            args: list[bytes] = [rn] * (1 + 2 * len(values))
            args[2::2] = rests if rests is not None else self.encode.rests(values)
            result.written.add(row, cols)
            return template % tuple(args)
        tail = str(row).encode() + b'"'
        enc, cache, heads, styles = self.encode, self.encode.cache, self.heads, self.tail_styles
        pieces = [b"<" + self.p + b'row r="' + tail + b">"]
        for col, value in zip(cols, values, strict=True):
            style: bytes | None = styles.get(col) if tail_row else None
            if style is None:
                style = style_attribute(self._style_for(row, col, None))
                if tail_row:
                    styles[col] = style
            pieces += [heads.get(col) or self._head(col), tail, style,
                       (cache.get((value.__class__, value)) or enc(value))[3]]
        pieces.append(self.row_close)
        result.written.add(row, cols)
        return b"".join(pieces)

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

    def run(self, rows: Iterable[tuple[int, RowCells]], *, deflate_from: int | None = None,
            spill_dir: Path | None = None) -> SheetPatch:
        """Apply edits given as rows ascending, each with its cells by column ascending. The new part is
        left in ``result.chunks`` (the head up to the first edited row, blocks of rows, the tail), or,
        for a part of ``deflate_from`` bytes or more, deflated as it is built in ``result.deflated``
        (its bytes kept in a temporary file in ``spill_dir`` when given)."""
        self._setup()
        self.shape_re = re.compile(rb"<" + re.escape(self.p) + rb'c r="([A-Z]{1,3})[0-9]')
        self.c_open = b"<" + self.p + b"c"
        result = SheetPatch(self.data)
        protected_rows = {r for r, _c in self.protected}
        deflate = deflate_from is not None and len(self.data) >= deflate_from and not self.sheet_data.group(2)
        deflater = None
        if deflate:
            spill = _spill_file(spill_dir) if spill_dir is not None else None
            deflater = Deflater(background=True, spill=spill)
        out = _Blocks(memoryview(self.data), deflater)
        try:
            return self._patch(rows, result, out, protected_rows)
        finally:
            if out.deflater is not None:
                out.deflater.cancel()  # a no-op once the part is deflated

    def _patch(self, rows: Iterable[tuple[int, RowCells]], result: SheetPatch, out: _Blocks,
               protected_rows: set[int]) -> SheetPatch:
        keys, starts = self.row_keys, self.row_starts
        cursor, i, n = 0, 0, len(keys)
        last_key = keys[-1] if keys else 0
        r1 = r2 = c2 = 0
        c1 = MAX_COL + 1
        fixed = rows.columns if isinstance(rows, FixedColumns) else None
        stream: Iterable[tuple[int, RowCells | RowValues, tuple[bytes, ...] | None]] = (
            _with_rests(rows.rows, self.encode) if isinstance(rows, FixedColumns)
            else ((row, given, None) for row, given in rows))
        for row, given, rests in stream:
            if fixed is None:
                if not given:
                    continue
                cols, values = zip(*given, strict=True)  # type: ignore[misc]
            else:
                cols, values = fixed, given  # type: ignore[assignment]
            if row in protected_rows:
                cells = self._unprotected(row, list(zip(cols, values, strict=True)), result)
                if not cells:
                    continue
                cols, values = zip(*cells, strict=True)  # type: ignore[assignment]
                rests = None
            r1, r2 = r1 or row, row
            if cols[0] < c1:
                c1 = cols[0]
            if cols[-1] > c2:
                c2 = cols[-1]
            i = bisect_left(keys, row, i)
            if i < n and keys[i] == row:
                fast = self._fast_row(i, row, cols, values, result, rests)
                if fast is None:
                    elem = self._row(i)
                    cells = list(zip(cols, values, strict=True))
                    new, start, end = self._patch_row(elem, cells, result), elem.start, elem.end
                else:
                    (new, end), start = fast, starts[i]
                if new is not None:
                    out.add(cursor, start, new)
                    cursor = end
            else:
                at = starts[i] if i < n else self.content[1]
                out.add(cursor, at, self._new_row(row, cols, values, row > last_key, result, rests))
                cursor = at
        if not result.written:
            return result
        chunks = out.finish(cursor)
        view = out.view
        corners = ((r1, c1), (r2, c2))
        if out.deflater is not None:  # chunks: the head alone; the rest is deflated already
            head = bytes(chunks[0])
            if box := self._box(corners, len(head)):
                start, stop, new = box
                head = head[:start] + new + head[stop:]
            result.deflated = out.deflater.after(head)
            return result
        tag = self.sheet_data
        if tag.group(2):  # <sheetData/> becomes <sheetData>rows</sheetData>
            p = self.p
            rows_xml = b"".join(chunks[1:-1])
            opened = b"<" + p + b"sheetData" + tag.group(1) + b">"
            chunks = [view[: tag.start()], opened + rows_xml + b"</" + p + b"sheetData>", view[tag.end() :]]
        if box := self._box(corners, len(chunks[0])):
            start, stop, new = box
            chunks[:1] = [view[:start], new, view[stop : len(chunks[0])]]
        # short views become bytes of their own, so the original part can go once the patch is done
        result.chunks = [bytes(c) if isinstance(c, memoryview) and len(c) <= _Blocks.BLOCK else c for c in chunks]
        return result


    def _box(self, corners: tuple[tuple[int, int], tuple[int, int]], head: int
              ) -> tuple[int, int, bytes] | None:
        """The new ``<dimension>`` (start, stop, bytes), which must lie in the first ``head`` bytes."""
        dims = self._dimension(corners)
        if not dims:
            return None
        if head < dims[0][1]:
            raise WorkbookError(f"the part {self.part!r} has its <dimension> among its cells")
        return dims[0]


_ENCODE_ROWS = 1024  # rows whose values are encoded together, column by column


def _with_rests(rows: Iterator[tuple[int, RowValues]], encode: ValueEncoder
                ) -> Iterator[tuple[int, RowValues, tuple[bytes, ...]]]:
    """The rows with their values' cell bytes, encoded a block of rows at a time, column by column
    (:meth:`ValueEncoder.rests`: dates and flags looked up in C, outline numbers and notes formatted
    without a call each)."""
    while chunk := list(islice(rows, _ENCODE_ROWS)):
        numbers, values = zip(*chunk, strict=True)
        yield from zip(numbers, values, zip(*map(encode.rests, zip(*values, strict=True)), strict=True), strict=True)


def _spill_file(folder: Path) -> BinaryIO | None:
    """A temporary file for a part's deflated bytes, or None (they stay in memory) where none can be
    made; it closes with the part once written, or when the patch is abandoned."""
    try:
        return tempfile.TemporaryFile(prefix=".wbs-", dir=folder)
    except OSError:
        return None


class _Blocks:
    """The patched part as it is built: the original bytes up to the first edited row, then the new
    rows and the unchanged stretches between them joined into blocks of about a megabyte (a million
    rows are a few hundred objects, not millions), long unchanged stretches kept as views."""

    BLOCK: ClassVar[int] = 1 << 20
    KEEP_VIEW: ClassVar[int] = 1 << 16

    def __init__(self, view: memoryview, deflater: Deflater | None = None) -> None:
        self.view = view
        self.chunks: list[bytes | memoryview] = []
        self.block: list[bytes | memoryview] = []
        self.size = 0
        self.deflater = deflater  # when given, everything after the head goes there as it comes
        self._keep = self.chunks.append if deflater is None else deflater.add

    def _flush(self) -> None:
        if self.block:
            self._keep(b"".join(self.block))
            self.block, self.size = [], 0

    def add(self, cursor: int, start: int, new: bytes) -> None:
        """The original bytes [cursor, start), then ``new``."""
        if not self.chunks:
            self.chunks.append(self.view[cursor:start])  # the head: <dimension> is fixed in it later
        elif start - cursor >= self.KEEP_VIEW:
            self._flush()
            self._keep(self.view[cursor:start])
        elif start > cursor:
            self.block.append(self.view[cursor:start])
            self.size += start - cursor
        self.block.append(new)
        self.size += len(new)
        if self.size >= self.BLOCK:
            self._flush()

    def finish(self, cursor: int) -> list[bytes | memoryview]:
        self._flush()
        self._keep(self.view[cursor:])
        return self.chunks

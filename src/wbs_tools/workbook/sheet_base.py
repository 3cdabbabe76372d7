"""One worksheet part indexed for patching - its rows, cells and the styles new cells take - and the
cell by cell patch that handles every shape SpreadsheetML allows (see :mod:`sheet_xml`)."""

from __future__ import annotations

import datetime as dt
import functools
import html
import re
from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from itertools import pairwise

from wbs_tools.workbook.cell_edits import (
    CellRefs,
    RowCells,
    col_letters,
    col_number,
    split_ref,
)
from wbs_tools.workbook.cell_values import (
    CellValue,
    Encoded,
    decode_text,
    encoder,
    excel_serial,
)
from wbs_tools.workbook.package import (
    ATTRS,
    Deflated,
    WorkbookError,
    escape_attr,
    get_attrs,
    retag,
    root_prefix,
    set_attrs,
    start_tag,
)

MAIN_NAMESPACES = (
    "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "http://purl.oclc.org/ooxml/spreadsheetml/main",
)


# --- the patch -------------------------------------------------------------------------------------


@dataclass
class SheetPatch:
    """What happened to one sheet: the new bytes and the cells written, left unchanged or skipped."""

    data: bytes
    written: CellRefs = field(default_factory=CellRefs)
    unchanged: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    removed_formulas: bool = False
    chunks: list[bytes | memoryview] | None = None  # the new part in pieces, before :func:`patch_sheet` joins it
    deflated: Deflated | None = None  # or the new part deflated as it was built (a large part)
    #: every change is a splice the fast path proves: a cell Excel-shaped (its attributes ``s`` and ``t``,
    #: no cell inside it) replaced whole, or whole cells and rows put before a tag; the new part is then
    #: well-formed if the original is. False once a row took the cell by cell path.
    proven: bool = True


@dataclass(slots=True)
class _Elem:
    """One ``<row>`` located in the part: [start, end) with its inner content span."""

    key: int  # row number
    start: int
    end: int
    attrs: bytes
    inner: tuple[int, int] | None  # None for a self-closing element


ROW_NUMBER = re.compile(rb"\sr\s*=\s*[\"'](\d+)[\"']")
_S_NUM = re.compile(rb"\ss\s*=\s*[\"'](\d+)[\"']")
_T_ATTR = re.compile(rb"\st\s*=\s*[\"'](\w*)[\"']")
_R_LETTERS = re.compile(rb"(?<![\w:])r\s*=\s*[\"']\$?([A-Za-z]{1,3})")
_SPANS = re.compile(rb"\sspans\s*=\s*[\"']([^\"']*)[\"']")
# the attributes after ``r`` of a cell as Excel writes it: nothing but a style and a type
_PLAIN_ATTRS = re.compile(rb'( s="[0-9]+")?(?: t="(\w+)")?(/?)')
_MISSING = object()


def element_pattern(prefix: bytes, local: str, key: bytes = rb"(\d+)") -> re.Pattern[bytes]:
    """A whole non-nesting element: group 1 = the ``key`` part of a leading ``r`` attribute, group 2 =
    the attributes after it, group 3 = content (None when self-closing)."""
    name = re.escape(prefix + local.encode())
    r_attr = rb"(?:\s+r\s*=\s*[\"']" + key + rb"[^\"']*[\"'])?"  # ``r`` first, as Excel writes it
    body = rb"([^<]*(?:<(?!/" + name + rb">)[^<]*)*)"  # anything up to the closing tag, unrolled for speed
    return re.compile(rb"<" + name + rb"(?=[\s/>])" + r_attr + rb"(" + ATTRS + rb")\s*(?:/>|>" + body
                      + rb"</" + name + rb">)")


def column_styles(data: bytes, prefix: bytes, end: int) -> list[tuple[int, int, str]]:
    """(min, max, style) of the ``<col>`` elements before ``end``: what an empty cell displays with.
    A batch's plans, made from one template, mostly share their columns: each distinct ``<cols>`` is
    read once."""
    opened = data.find(b"<" + prefix + b"cols", 0, end)
    if opened < 0:
        return []
    closed = data.rfind(b"</" + prefix + b"cols>", opened, end)  # a sheet may have several <cols>
    return list(_styles_in_cols(data[opened : end if closed < 0 else closed], prefix))


@functools.lru_cache(maxsize=256)
def _styles_in_cols(cols: bytes, prefix: bytes) -> tuple[tuple[int, int, str], ...]:
    return tuple((int(a.get("min", 0)), int(a.get("max", 0)), a["style"])
                 for m in start_tag(prefix, "col").finditer(cols) if "style" in (a := get_attrs(m.group(1))))


def style_attribute(style: str | None) -> bytes:
    """A new cell's `` s="N"``. A style is an index; one that is anything else in a file (a ``<col>`` or
    a row's ``s``, read unescaped) is escaped, so that what wbs_tools writes stays well-formed as made."""
    if not style:
        return b""
    return b' s="' + (style.encode() if style.isascii() and style.isdigit() else escape_attr(style)) + b'"'


class SheetPatcherBase:
    """One worksheet part indexed for patching: its rows, cells and the styles new cells take.

    The cell by cell methods here handle every shape SpreadsheetML allows (cells without ``r``, any
    attribute order, formulas, extension lists); :mod:`sheet_patch` adds the fast path for the
    cells Excel and wbs_tools write, and falls back to these for anything else.
    """

    def __init__(self, data: bytes, part: str, date1904: bool, overwrite_formulas: bool,
                 style_row: int | None, shared_string: Callable[[int], str | None],
                 protected: Mapping[tuple[int, int], str]) -> None:
        self.data, self.part, self.date1904, self.protected = data, part, date1904, protected
        self.overwrite_formulas, self.style_row, self.shared_string = overwrite_formulas, style_row, shared_string
        self.p, ns = root_prefix(data, part)
        if ns not in MAIN_NAMESPACES:
            raise WorkbookError(f"the part {part!r} is not a SpreadsheetML worksheet")
        p, pe = self.p, re.escape(self.p)
        self.row_re, self.f_re = start_tag(p, "row"), start_tag(p, "f")
        self.v_re = re.compile(rb"<" + pe + rb"v(?:\s[^>]*)?>(.*?)</" + pe + rb"v>", re.S)
        self.t_re = re.compile(rb"<" + pe + rb"t(?:\s[^>]*)?>(.*?)</" + pe + rb"t>", re.S)
        self.rph_re = re.compile(rb"<" + pe + rb"rPh\b.*?</" + pe + rb"rPh>", re.S)
        self.ext_re = re.compile(rb"<" + pe + rb"extLst>.*?</" + pe + rb"extLst>", re.S)
        sheet_data = start_tag(p, "sheetData").search(data)
        if sheet_data is None:
            raise WorkbookError(f"the part {part!r} has no <sheetData>")
        self.sheet_data: re.Match[bytes] = sheet_data
        begin = self.sheet_data.end()
        end = begin if self.sheet_data.group(2) else data.find(b"</" + p + b"sheetData>", begin)
        if end < 0:
            raise WorkbookError(f"the part {part!r} has an unterminated <sheetData>")
        if data.find(b"<!", begin, end) >= 0 or data.find(b"<?", begin, end) >= 0:
            raise WorkbookError(f"the part {part!r} has comments or CDATA among its cells (unsupported)")
        self.content = (begin, end)
        self.row_keys, self.row_starts = self._index_rows(begin, end)
        self.cells_re = element_pattern(p, "c", key=rb"\$?([A-Za-z]{1,3})")
        self.columns: dict[int, tuple[list[int], list[str | None]]] = {}
        self.encode = encoder(p, date1904)
        self.col_styles = column_styles(data, p, self.sheet_data.start())
        self._static_styles: dict[int, object] = {}
        self._uniform: bool | None = None

    def _index_rows(self, begin: int, end: int) -> tuple[list[int], list[int]]:
        """Row numbers and start offsets. Two C-level passes when every row states its ``r`` (Excel
        always does); a row's end is only looked for when the row is edited."""
        data, p = self.data, self.p
        starts = [m.start() for m in re.compile(rb"<" + re.escape(p) + rb"row(?=[\s/>])").finditer(data, begin, end)]
        numbers = re.compile(rb"<" + re.escape(p) + rb"row\s[^>]*?(?<![\w:])r\s*=\s*[\"'](\d+)")
        found = numbers.findall(data, begin, end)
        if len(found) == len(starts):
            keys = list(map(int, found))
        else:  # some rows leave ``r`` implicit: one more than the previous row
            keys, prev = [], 0
            for start in starts:
                m = self.row_re.match(data, start)
                k = ROW_NUMBER.search(m.group(1)) if m else None
                prev = int(k.group(1)) if k else prev + 1
                keys.append(prev)
        if any(a >= b for a, b in pairwise(keys)):
            raise WorkbookError(f"the part {self.part!r} lists rows out of order")
        return keys, starts

    def _row(self, i: int) -> _Elem:
        m = self.row_re.match(self.data, self.row_starts[i])
        if m is None:
            raise WorkbookError(f"the part {self.part!r} has a malformed <row>")
        if m.group(2):
            return _Elem(self.row_keys[i], m.start(), m.end(), m.group(1), None)
        close = self.data.find(b"</" + self.p + b"row>", m.end(), self.content[1])
        if close < 0:
            raise WorkbookError(f"the part {self.part!r} has an unterminated <row>")
        return _Elem(self.row_keys[i], m.start(), close + len(self.p) + 6, m.group(1), (m.end(), close))

    def _cells(self, row: _Elem) -> tuple[list[int], list[re.Match[bytes]]]:
        """Column numbers and matches of the row's cells; a cell without ``r`` follows the previous one."""
        if row.inner is None:
            return [], []
        matches = list(self.cells_re.finditer(self.data, *row.inner))
        keys: list[int] = []
        prev = 0
        for m in matches:
            letters = m.group(1) or ((r := _R_LETTERS.search(m.group(2))) and r.group(1))
            prev = col_number(letters.decode()) if letters else prev + 1
            keys.append(prev)
        if any(a >= b for a, b in pairwise(keys)):
            raise WorkbookError(f"the part {self.part!r} lists cells out of order in row {row.key}")
        return keys, matches

    # styles for cells that do not exist yet
    def _column(self, col: int, also: Iterable[int] = ()) -> tuple[list[int], list[str | None]]:
        """Rows and styles of the column's existing cells; columns in ``also`` are indexed in the same
        pass over the part (a large sheet is read once, not once per column)."""
        if col not in self.columns:
            wanted = sorted({col, *also} - self.columns.keys())
            letters = b"|".join(re.escape(col_letters(c).encode()) for c in wanted)
            if self._refs_first():
                pattern = re.compile(rb"<" + re.escape(self.p) + rb'c r="\$?(' + letters + rb')\$?(\d+)"[^>]*>')
            else:
                pattern = re.compile(rb"<" + re.escape(self.p) + rb"c\s[^>]*?\br\s*=\s*[\"']\$?(" + letters
                                     + rb")\$?(\d+)[\"'][^>]*>", re.I)
            found: dict[int, tuple[list[int], list[str | None]]] = {c: ([], []) for c in wanted}
            number = {col_letters(c).encode(): c for c in wanted}
            for m in pattern.finditer(self.data, *self.content):
                s = _S_NUM.search(m.group(0))
                rows, styles = found[number[m.group(1).upper()]]
                rows.append(int(m.group(2)))
                styles.append(s.group(1).decode() if s else None)
            self.columns.update(found)
        return self.columns[col]

    def _refs_first(self) -> bool:
        """Whether every cell opens as ``<c r="`` with its reference in capitals, as Excel writes them:
        a column's cells are then found with a pattern several times faster than the general one."""
        if self._uniform is None:
            data, (lo, hi), opened = self.data, self.content, b"<" + self.p + b'c r="'
            self._uniform = (data.count(b"<" + self.p + b"c", lo, hi) == data.count(opened, lo, hi)
                             and re.compile(re.escape(opened) + rb"\$?[a-z]").search(data, lo, hi) is None)
        return self._uniform

    def _static_style(self, col: int) -> object:
        """The style a new cell of ``col`` takes whatever its row, or ``_MISSING`` when that depends on
        the row (its own format, the cell above)."""
        found = self._static_styles.get(col)
        if found is None:
            found = _MISSING
            if self.style_row is not None:
                rows, styles = self._column(col)
                i = bisect_left(rows, self.style_row)
                if i < len(rows) and rows[i] == self.style_row:
                    found = styles[i]
            self._static_styles[col] = found
        return found

    def _style_for(self, row: int, col: int, row_attrs: bytes | None) -> str | None:
        """A new cell's style: the template row's, else the row's or column's (what the empty cell shows
        now, and what Excel gives a typed value), else the nearest cell above (a formatted list)."""
        static = self._static_style(col)
        if static is not _MISSING:
            return static  # type: ignore[return-value]
        if row_attrs is not None and b"customFormat" in row_attrs:
            a = get_attrs(row_attrs)
            if a.get("customFormat") in ("1", "true") and "s" in a:
                return a["s"]
        style = next((s for lo, hi, s in self.col_styles if lo <= col <= hi), None)
        if style is not None or self.style_row is not None:
            return style
        rows, styles = self._column(col)
        i = bisect_left(rows, row) - 1
        return styles[i] if i >= 0 else None

    # cells
    def _same(self, cell_type: str, content: bytes, value: CellValue) -> bool:
        m = self.v_re.search(content)
        v = html.unescape(m.group(1).decode()) if m else None
        if value is None:
            return v is None and b"<" + self.p + b"is" not in content
        if isinstance(value, bool):
            return cell_type == "b" and v is not None and v.strip() in (("1", "true") if value else ("0", "false"))
        if isinstance(value, str):
            if cell_type == "s" and v is not None and v.strip().isdecimal():
                return self.shared_string(int(v)) == value
            if cell_type == "inlineStr":
                texts = self.t_re.findall(self.rph_re.sub(b"", content))
                return decode_text(html.unescape(b"".join(texts).decode())) == value
            return cell_type == "str" and v is not None and decode_text(v) == value
        if cell_type != "n" or v is None:
            return False
        try:
            old = float(v)
        except ValueError:
            return False
        return old == (excel_serial(value, self.date1904) if isinstance(value, dt.date) else float(value))

    def _rewrite(self, cell: re.Match[bytes], ref: str, value: CellValue, result: SheetPatch) -> bytes | None:
        """The new ``<c>`` element, or None when skipped (formula) or already holding the value."""
        content = cell.group(3) or b""
        attrs = self.data[cell.start() + len(self.p) + 2 : cell.end(2)]  # all of them, ``r`` included
        t_attr = _T_ATTR.search(attrs)
        formula = self.f_re.search(content)
        if formula:
            f = get_attrs(formula.group(1))
            if not self.overwrite_formulas:
                result.skipped.append((ref, "the cell holds a formula"))
                return None
            if f.get("t") == "shared" and "ref" in f:
                result.skipped.append((ref, "other cells share this cell's formula"))
                return None
            if f.get("t") in ("array", "dataTable") and ":" in f.get("ref", ""):
                result.skipped.append((ref, "the cell is part of an array formula or data table"))
                return None
            result.removed_formulas = True
        elif self._same(t_attr.group(1).decode() if t_attr else "n", content, value):
            result.unchanged += 1
            return None
        t, _t_attr, body, _rest = self.encode(value)
        ext = self.ext_re.search(content)
        body += ext.group(0) if ext else b""
        p = self.p
        head = b"<" + p + b"c" + set_attrs(attrs, {"t": t, "cm": None, "vm": None})
        return head + (b">" + body + b"</" + p + b"c>" if body else b"/>")

    def _cell(self, ref: str, style: str | None, encoded: Encoded) -> bytes:
        return b"<" + self.p + b'c r="' + ref.encode() + b'"' + style_attribute(style) + encoded[3]

    def _patch_row(self, row: _Elem, cells: RowCells, result: SheetPatch) -> bytes | None:
        """The row with ``cells`` set, any shape of row; None when no cell changes."""
        result.proven = False  # any shape: the part is parsed whole once written
        p, data = self.p, self.data
        keys, existing = self._cells(row)
        splices: list[tuple[int, int, bytes]] = []
        added: list[int] = []
        written: list[int] = []
        close = row.inner[1] if row.inner else row.end
        if row.inner is not None and (ext := data.find(b"<" + p + b"extLst", *row.inner)) >= 0:
            close = min(close, ext)  # new cells go before the row's own extension list
        for col, value in cells:
            ref = f"{col_letters(col)}{row.key}"
            i = bisect_left(keys, col)
            if i < len(keys) and keys[i] == col:
                new = self._rewrite(existing[i], ref, value, result)
                if new is not None:
                    splices.append((existing[i].start(), existing[i].end(), new))
                    written.append(col)
            else:
                at = existing[i].start() if i < len(existing) else close
                splices.append((at, at, self._cell(ref, self._style_for(row.key, col, row.attrs),
                                                   self.encode(value))))
                added.append(col)
                written.append(col)
        if not splices:
            return None
        result.written.add(row.key, written)
        head = data[row.start : row.inner[0]] if row.inner else b"<" + p + b"row" + row.attrs + b">"
        head = self._spans(head, added)
        if row.inner is None:  # <row .../> grows children
            return head + b"".join(s[2] for s in splices) + b"</" + p + b"row>"
        return head + _apply(data, splices, *row.inner) + data[row.inner[1] : row.end]

    def _spans(self, head: bytes, added: list[int]) -> bytes:
        """The row's start tag with its hint of its first:last column still covering its cells."""
        spans = _SPANS.search(head) if added else None
        if spans:
            bounds = [tuple(int(x) for x in s.split(b":")) for s in spans.group(1).split() if b":" in s]
            if bounds and not all(any(lo <= c <= hi for lo, hi in bounds) for c in added):
                lo = min([b[0] for b in bounds] + added)
                hi = max([b[-1] for b in bounds] + added)
                head = head[: spans.start(1)] + f"{lo}:{hi}".encode() + head[spans.end(1) :]
        return head

    def _dimension(self, box: tuple[tuple[int, int], ...]) -> list[tuple[int, int, bytes]]:
        """Widen ``<dimension ref>`` to cover the edited cells; nothing else outside sheetData changes."""
        m = start_tag(self.p, "dimension").search(self.data, 0, self.sheet_data.start())
        if m is None:
            return []
        try:
            corners = [split_ref(x) for x in get_attrs(m.group(1)).get("ref", "").split(":")]
        except ValueError:
            return []
        points = corners + list(box)
        r1, c1 = min(r for r, _ in points), min(c for _, c in points)
        r2, c2 = max(r for r, _ in points), max(c for _, c in points)
        if (r1, c1) == min(corners) and (r2, c2) == max(corners):
            return []
        ref = f"{col_letters(c1)}{r1}" + ("" if (r1, c1) == (r2, c2) else f":{col_letters(c2)}{r2}")
        return [(m.start(), m.end(), retag(m, {"ref": ref}))]


def _apply(data: bytes, splices: list[tuple[int, int, bytes]], begin: int, end: int) -> bytes:
    """data[begin:end] with each (start, stop, replacement) applied; insertions keep their order."""
    out: list[bytes] = []
    pos = begin
    for start, stop, new in sorted(splices, key=lambda s: s[0]):
        out += [data[pos:start], new]
        pos = stop
    out.append(data[pos:end])
    return b"".join(out)

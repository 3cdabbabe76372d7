"""The rows of an owned sheet as worksheet XML: a new part from a plain frame, or an existing part's
rows from ``start_row`` down replaced while its frame (titles, widths, panes, page setup) is kept.

A status snapshot of a million tasks is a million rows of a dozen cells, so each row is formatted
into a template made once per sequence of value types, the column letters and styles fixed in it.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import groupby, islice
from typing import TYPE_CHECKING, Literal

from lxml import etree

from wbs_tools.core.frozen import copied_by_fields
from wbs_tools.workbook.cell_values import encoder
from wbs_tools.workbook.owned_columns import ColumnBlocks
from wbs_tools.workbook.package import (
    Package,
    WorkbookError,
    get_attrs,
    parse_xml,
    retag,
    root_prefix,
    start_tag,
)
from wbs_tools.workbook.sheet_base import style_attribute
from wbs_tools.workbook.sheet_xml import (
    MAX_COL,
    MAX_ROW,
    CellValue,
    col_letters,
    column_styles,
    element_pattern,
    split_ref,
)

if TYPE_CHECKING:
    from wbs_tools.workbook.owned_sheet import WorkbookInfo

SheetState = Literal["visible", "hidden", "veryHidden"]
_REL_NS = {
    "http://schemas.openxmlformats.org/spreadsheetml/2006/main":
        "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "http://purl.oclc.org/ooxml/spreadsheetml/main": "http://purl.oclc.org/ooxml/officeDocument/relationships",
}
_DATE_FORMATS = {14: 0, 15: 1, 16: 1, 17: 1, 22: 2}  # builtin date formats, preferred first


@dataclass(frozen=True)
class OwnedSheet:
    """A sheet whose rows wbs_tools rewrites on every write, from ``start_row`` (column A) down.

    Replacing keeps the existing sheet's frame - rows above ``start_row`` (a template's title and
    headers), column widths and styles, panes, page setup - and gives each cell its column's style.
    ``column_widths`` and ``freeze_rows`` only shape a sheet that is being created. Dates need a date
    style: the column's if it is one, else the workbook's plainest date style, else they become ISO
    text - adding a style would mean rewriting the shared styles part.
    """

    rows: Sequence[Sequence[CellValue]]
    start_row: int = 1
    state: SheetState = "visible"
    column_widths: dict[int, float] = field(default_factory=dict)  # 1-based column -> width (chars)
    freeze_rows: int = 0
    mark: bool = True  # False: a sheet added for the person (``wbs adopt``); later writes never replace it
    width: int | None = None  # the most cells in a row, when known (saves a pass over a million rows)

    def __post_init__(self) -> None:
        if self.start_row < 1 or self.freeze_rows < 0 or self.state not in ("visible", "hidden", "veryHidden"):
            raise ValueError(f"invalid owned sheet layout: start_row={self.start_row}, "
                             f"freeze_rows={self.freeze_rows}, state={self.state!r}")


@dataclass(frozen=True)
class DateStyles:
    """Which cell formats (``s`` indexes) show dates, and the plainest of them; read, never added."""

    dates: frozenset[str] = frozenset()
    best: str | None = None


def date_styles(pkg: Package, info: WorkbookInfo) -> DateStyles:
    part = info.related.get("styles")
    if not part:
        return DateStyles()
    return _date_styles_in(pkg.read(part), part)


@functools.lru_cache(maxsize=8)
def _date_styles_in(data: bytes, part: str) -> DateStyles:
    """Worked out once per styles part: plans made from one template share it."""
    root = parse_xml(data, part)
    q = f"{{{etree.QName(root).namespace}}}"
    custom = {int(f.get("numFmtId", "0")): f.get("formatCode", "") for f in root.iter(f"{q}numFmt")}
    ranked: list[tuple[int, int]] = []
    for i, xf in enumerate(root.findall(f"{q}cellXfs/{q}xf")):
        fmt = int(xf.get("numFmtId", "0") or 0)
        rank = _DATE_FORMATS.get(fmt)
        code = re.sub(r'"[^"]*"|\[[^\]]*\]', "", custom.get(fmt, "")).lower()
        if rank is None and "d" in code and "y" in code:
            rank = 1 if "h" in code else 0
        if rank is not None:
            plain = all(xf.get(k, "0") == "0" for k in ("fontId", "fillId", "borderId"))
            ranked.append((rank + (0 if plain else 3), i))
    return DateStyles(frozenset(str(i) for _r, i in ranked), str(min(ranked)[1]) if ranked else None)


_BLOCK = 1 << 20  # rows are joined into blocks of about this many bytes
_BLOCK_ROWS = 2048  # rows taken at a time: runs of equally long rows among them are formatted by column
_MIN_BLOCK_ROWS = 8


def _rows_xml(sheet: OwnedSheet, p: bytes, col_styles: list[tuple[int, int, str]], styles: DateStyles,
              date1904: bool) -> tuple[list[bytes], int]:
    """The ``<row>`` elements for ``sheet.rows``, in blocks of about a megabyte, and the last column used."""
    width = sheet.width if sheet.width is not None else max(map(len, sheet.rows), default=0)
    if sheet.start_row + len(sheet.rows) - 1 > MAX_ROW or width > MAX_COL:
        raise ValueError("an owned sheet's rows do not fit on an Excel sheet")
    column_style = [next((s for lo, hi, s in col_styles if lo <= c <= hi), None) for c in range(width + 1)]
    style_attr = list(map(style_attribute, column_style))
    date_style = [s if s in styles.dates else styles.best for s in column_style]
    date_attr = list(map(style_attribute, date_style))
    letters = [b'<' + p + b'c r="' + col_letters(c).encode() for c in range(1, width + 1)]
    encode = encoder(p, date1904)
    cache = encode.cache
    close_row = b"</" + p + b"row>"
    # per sequence of value types: the row as a %-template of its row number and values, and its last
    # column; None when a date has no date style (it becomes text, row by row)
    templates: dict[tuple[type, ...], tuple[bytes, tuple[int, int] | None] | None] = {}
    blocks_of = ColumnBlocks(p, style_attr, date_attr, date_style, encode)

    def row_xml(r: int, values: Sequence[CellValue]) -> tuple[bytes, int] | None:
        """One row and its last column; None for a row without a value (not written)."""
        kinds = tuple(map(type, values))
        try:
            found = templates[kinds]
        except KeyError:
            found = templates[kinds] = _row_template(kinds, p, style_attr, date_attr, date_style, close_row)
        if found is not None:
            template, used = found
            if not used:
                return None
            rn = str(r).encode()
            args: list[bytes] = [rn] * (1 + 2 * used[0])
            args[2::2] = [(cache.get((v.__class__, v)) or encode(v))[3] for v in values if v is not None]
            return template % tuple(args), used[1]
        tail = str(r).encode() + b'"'
        cells: list[bytes] = []
        last = 0
        for c, value in enumerate(values, start=1):
            if value is None:
                continue
            style = style_attr[c]
            if isinstance(value, dt.date):
                style = date_attr[c]
                if date_style[c] is None:
                    value = value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
            cells += [letters[c - 1], tail, style, encode(value)[3]]
            last = c
        if not cells:
            return None
        return b"".join([b"<" + p + b'row r="', tail, b">", *cells, close_row]), last

    out: list[bytes] = []
    blocks: list[bytes] = []
    size = 0
    last_col = 1
    r = sheet.start_row
    rows = iter(sheet.rows)
    while chunk := list(islice(rows, _BLOCK_ROWS)):
        for _width, same in groupby(chunk, len):  # runs of rows as long as each other
            run = list(same)
            done = blocks_of.block(run, r) if len(run) >= _MIN_BLOCK_ROWS else None
            made = [done] if done is not None else [row_xml(n, values) for n, values in enumerate(run, start=r)]
            r += len(run)
            for row in made:
                if row is None:
                    continue
                out.append(row[0])
                size += len(row[0])
                if row[1] > last_col:
                    last_col = row[1]
                if size >= _BLOCK:
                    blocks.append(b"".join(out))
                    out, size = [], 0
    if out:
        blocks.append(b"".join(out))
    return blocks, last_col


def _row_template(kinds: tuple[type, ...], p: bytes, style_attr: list[bytes], date_attr: list[bytes],
                  date_style: list[str | None], close_row: bytes) -> tuple[bytes, tuple[int, int] | None] | None:
    """(template, (cells, last column) or None when the row is empty) for values of these types in
    order, or None when a date must become text (no date style in its column)."""
    parts = [(b"<" + p + b'row r="').replace(b"%", b"%%") + b'%b">']
    count = last = 0
    for c, kind in enumerate(kinds, start=1):
        if kind is type(None):
            continue
        style = style_attr[c]
        if issubclass(kind, dt.date):
            if date_style[c] is None:
                return None
            style = date_attr[c]
        parts.append((b"<" + p + b'c r="' + col_letters(c).encode()).replace(b"%", b"%%") + b'%b"'
                     + style.replace(b"%", b"%%") + b"%b")
        count, last = count + 1, c
    parts.append(close_row.replace(b"%", b"%%"))
    return b"".join(parts), ((count, last) if count else None)


def render_sheet(sheet: OwnedSheet, *, namespace: str, styles: DateStyles, date1904: bool) -> list[bytes]:
    """A new worksheet part for an owned sheet, in pieces: a plain frame, then filled like an existing one."""
    pane = ""
    if sheet.freeze_rows > 0:
        n = sheet.freeze_rows
        pane = (f'<pane ySplit="{n}" topLeftCell="A{n + 1}" activePane="bottomLeft" state="frozen"/>'
                '<selection pane="bottomLeft"/>')
    cols = "".join(
        f'<col min="{c}" max="{c}" width="{w:g}" customWidth="1"/>' for c, w in sorted(sheet.column_widths.items())
    )
    frame = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<worksheet xmlns="{namespace}" xmlns:r="{_REL_NS[namespace]}"><dimension ref="A1"/>'
        f'<sheetViews><sheetView workbookViewId="0">{pane}</sheetView></sheetViews>'
        '<sheetFormatPr defaultRowHeight="15"/>' + (f"<cols>{cols}</cols>" if cols else "") + "<sheetData/>"
        '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/></worksheet>'
    )
    return refill_chunks(frame.encode(), "new sheet", sheet, styles, date1904)


def refill_sheet(old: bytes, part: str, sheet: OwnedSheet, styles: DateStyles, date1904: bool) -> bytes:
    """The existing owned sheet with its rows from ``start_row`` down replaced; its frame is kept."""
    return b"".join(refill_chunks(old, part, sheet, styles, date1904))


def refill_chunks(old: bytes, part: str, sheet: OwnedSheet, styles: DateStyles, date1904: bool) -> list[bytes]:
    """:func:`refill_sheet` in pieces (the frame before the rows, blocks of rows, the frame after), so
    a sheet of a million rows is never copied whole."""
    p, _ns = root_prefix(old, part)
    tag = start_tag(p, "sheetData").search(old)
    if tag is None:
        raise WorkbookError(f"the part {part!r} has no <sheetData>")
    close = b"</" + p + b"sheetData>"
    end = tag.end() if tag.group(2) else old.index(close, tag.end()) + len(close)
    kept, number = [], 0
    for m in element_pattern(p, "row").finditer(old, tag.end(), end):
        number = int(m.group(1)) if m.group(1) else number + 1
        if number < sheet.start_row:
            kept.append(m.group(0))
    rows, last_col = _rows_xml(sheet, p, column_styles(old, p, tag.start()), styles, date1904)
    last_row = max(sheet.start_row + len(sheet.rows) - 1, 1)
    head, tail = old[: tag.start()], old[end:]
    changes: list[tuple[int, int, int, bytes]] = []  # (0 head / 1 tail, start, stop, new tag)
    for local in ("dimension", "autoFilter"):  # both end at the old last row; rows above stay
        pattern = start_tag(p, local)
        found, where = pattern.search(head), 0
        if found is None:
            found, where = pattern.search(tail), 1
        if found is None:
            continue
        m = found
        try:
            (r1, c1), (_r2, c2) = (split_ref(x) for x in (get_attrs(m.group(1)).get("ref", "").split(":") * 2)[:2])
        except ValueError:
            continue
        c2 = max(c2, last_col) if local == "dimension" else c2
        grown = f"{col_letters(c1)}{r1}:{col_letters(c2)}{max(last_row, r1)}"
        changes.append((where, m.start(), m.end(), retag(m, {"ref": grown})))
    frame = [head, tail]
    for where, start, stop, text in sorted(changes, reverse=True):
        frame[where] = frame[where][:start] + text + frame[where][stop:]
    opened = b"<" + p + b"sheetData" + tag.group(1) + b">"
    return [frame[0] + opened + b"".join(kept), *rows, close + frame[1]]


copied_by_fields(__name__)

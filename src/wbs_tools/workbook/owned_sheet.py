"""Sheets that belong to wbs_tools (e.g. "Check" findings, "Status"), and the workbook parts that list them.

Adding a sheet touches exactly four things: the new worksheet part, one ``<sheet>`` entry (plus a
hidden marker name) in ``workbook.xml``, one relationship in its ``.rels`` and one ``Override`` in
``[Content_Types].xml`` - each a byte splice, so every other byte of those parts survives.
``docProps/app.xml`` (sheet titles) is left alone: it is a cache Excel rewrites on every save and
nothing checks it against the workbook.

Ownership is recorded in the workbook itself with a hidden, sheet-scoped defined name
``_wbs_owned``: Excel keeps it when the file is saved and moves it with the sheet when tabs are
reordered, so a user's own sheet that happens to be called "Status" is never overwritten.
"""

from __future__ import annotations

import datetime as dt
import html
import posixpath
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from lxml import etree

from wbs_tools.workbook.cell_values import encoder
from wbs_tools.workbook.package import (
    Package,
    SplicedPart,
    WorkbookError,
    get_attrs,
    parse_xml,
    read_relationships,
    rels_part,
    resolve_target,
    retag,
    root_prefix,
    set_attrs,
    start_tag,
)
from wbs_tools.workbook.sheet_xml import (
    MAX_COL,
    MAX_ROW,
    CellValue,
    col_letters,
    column_styles,
    element_pattern,
    split_ref,
)

SheetState = Literal["visible", "hidden", "veryHidden"]
MARKER = "_wbs_owned"
WORKSHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
_REL_NS = {
    "http://schemas.openxmlformats.org/spreadsheetml/2006/main":
        "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "http://purl.oclc.org/ooxml/spreadsheetml/main": "http://purl.oclc.org/ooxml/officeDocument/relationships",
}
_BAD_NAME = re.compile(r"[\[\]:*?/\\]")
# workbook.xml children that come after <definedNames> / <calcPr> (ECMA-376 CT_Workbook order)
_AFTER_CALC_PR = ("oleSize", "customWorkbookViews", "pivotCaches", "smartTagPr", "smartTagTypes",
                  "webPublishing", "fileRecoveryPr", "webPublishObjects", "extLst")
_AFTER_DEFINED_NAMES = ("calcPr", *_AFTER_CALC_PR)
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

    def __post_init__(self) -> None:
        if self.start_row < 1 or self.freeze_rows < 0 or self.state not in ("visible", "hidden", "veryHidden"):
            raise ValueError(f"invalid owned sheet layout: start_row={self.start_row}, "
                             f"freeze_rows={self.freeze_rows}, state={self.state!r}")


@dataclass(frozen=True)
class SheetEntry:
    name: str
    index: int
    sheet_id: int
    state: str
    kind: str  # worksheet, chartsheet, dialogsheet, macrosheet, ...
    part: str | None


@dataclass
class WorkbookInfo:
    """What the workbook part says: its sheets and the parts they live in, and the date system."""

    part: str
    namespace: str
    sheets: list[SheetEntry]
    date1904: bool
    owned: set[int]
    related: dict[str, str]  # relationship type suffix -> part (sharedStrings, styles, calcChain)

    def find(self, name: str) -> SheetEntry | None:
        """Sheet names are unique ignoring case, as in Excel."""
        key = name.casefold()
        return next((s for s in self.sheets if s.name.casefold() == key), None)


def read_workbook(pkg: Package) -> WorkbookInfo:
    office = [r for r in read_relationships(pkg, "") if r.type.endswith("/officeDocument")]
    if not office:
        raise WorkbookError("not a workbook package (no officeDocument relationship)")
    wanted = posixpath.normpath(office[0].target.lstrip("/"))
    if wanted.endswith(".bin"):
        raise WorkbookError("binary workbooks (.xlsb) are not supported; save as .xlsx or .xlsm")
    part = pkg.find(wanted)
    if part is None:
        raise WorkbookError(f"the workbook part {wanted!r} is missing")
    root = parse_xml(pkg.read(part), part)
    ns = etree.QName(root).namespace or ""
    if ns not in _REL_NS:
        raise WorkbookError(f"the part {part!r} is not a SpreadsheetML workbook")
    rels = {r.id: r for r in read_relationships(pkg, part)}
    q = f"{{{ns}}}"
    sheets: list[SheetEntry] = []
    for i, el in enumerate(root.findall(f"{q}sheets/{q}sheet")):
        rel = rels.get(el.get(f"{{{_REL_NS[ns]}}}id", ""))
        target = None if rel is None or rel.external else pkg.find(resolve_target(part, rel.target))
        kind = rel.type.rsplit("/", 1)[-1] if rel else "missing"
        sheets.append(SheetEntry(el.get("name", ""), i, int(el.get("sheetId", "0") or 0),
                                 el.get("state", "visible"), kind, target))
    pr = root.find(f"{q}workbookPr")
    owned = {
        int(n.get("localSheetId", "-1"))
        for n in root.findall(f"{q}definedNames/{q}definedName")
        if n.get("name") == MARKER
    }
    related: dict[str, str] = {}
    for r in rels.values():
        if not r.external and (found := pkg.find(resolve_target(part, r.target))) is not None:
            related.setdefault(r.type.rsplit("/", 1)[-1], found)
    date1904 = pr is not None and pr.get("date1904") in ("1", "true")
    return WorkbookInfo(part, ns, sheets, date1904, owned, related)


def check_sheet_name(name: str) -> None:
    if not name or len(name) > 31 or _BAD_NAME.search(name) or name[0] == "'" or name[-1] == "'":
        raise ValueError(f"not a valid Excel sheet name: {name!r}")
    if name.casefold() == "history":
        raise ValueError("Excel reserves the sheet name 'History'")


@dataclass(frozen=True)
class DateStyles:
    """Which cell formats (``s`` indexes) show dates, and the plainest of them; read, never added."""

    dates: frozenset[str] = frozenset()
    best: str | None = None


def date_styles(pkg: Package, info: WorkbookInfo) -> DateStyles:
    part = info.related.get("styles")
    if not part:
        return DateStyles()
    root = parse_xml(pkg.read(part), part)
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


def _rows_xml(sheet: OwnedSheet, p: bytes, col_styles: list[tuple[int, int, str]], styles: DateStyles,
              date1904: bool) -> tuple[list[bytes], int]:
    """The ``<row>`` elements for ``sheet.rows``, in blocks of about a megabyte, and the last column used."""
    if sheet.start_row + len(sheet.rows) - 1 > MAX_ROW or any(len(values) > MAX_COL for values in sheet.rows):
        raise ValueError("an owned sheet's rows do not fit on an Excel sheet")
    width = max((len(values) for values in sheet.rows), default=0)
    column_style = [next((s for lo, hi, s in col_styles if lo <= c <= hi), None) for c in range(width + 1)]
    style_attr = [b' s="' + s.encode() + b'"' if s else b"" for s in column_style]
    date_style = [s if s in styles.dates else styles.best for s in column_style]
    date_attr = [b' s="' + s.encode() + b'"' if s else b"" for s in date_style]
    letters = [b'<' + p + b'c r="' + col_letters(c).encode() for c in range(1, width + 1)]
    encode = encoder(p, date1904)
    cache = encode.cache
    close_row = b"</" + p + b"row>"
    # per sequence of value types: the row as a %-template of its row number and values, and its last
    # column; None when a date has no date style (it becomes text, row by row)
    templates: dict[tuple[type, ...], tuple[bytes, int] | None] = {}
    out: list[bytes] = []
    blocks: list[bytes] = []
    size = 0
    last_col = 1
    for r, values in enumerate(sheet.rows, start=sheet.start_row):
        kinds = tuple(map(type, values))
        if kinds in templates:
            found = templates[kinds]
        else:
            found = templates[kinds] = _row_template(kinds, p, style_attr, date_attr, date_style, close_row)
        if found is not None:
            template, used = found
            if not used:
                continue
            rn = str(r).encode()
            args: list[bytes] = [rn] * (1 + 2 * used[0])
            args[2::2] = [(cache.get((v.__class__, v)) or encode(v))[3] for v in values if v is not None]
            row_xml = template % tuple(args)
            if used[1] > last_col:
                last_col = used[1]
        else:
            tail = str(r).encode() + b'"'
            cells: list[bytes] = []
            for c, value in enumerate(values, start=1):
                if value is None:
                    continue
                style = style_attr[c]
                if isinstance(value, dt.date):
                    style = date_attr[c]
                    if date_style[c] is None:
                        value = value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
                cells += [letters[c - 1], tail, style, encode(value)[3]]
                if c > last_col:
                    last_col = c
            if not cells:
                continue
            row_xml = b"".join([b"<" + p + b'row r="', tail, b">", *cells, close_row])
        out.append(row_xml)
        size += len(row_xml)
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


# --- byte splices on the structural parts ----------------------------------------------------------


class WorkbookEditor:
    """Structural edits to workbook.xml, its relationships and the content types, as byte splices."""

    def __init__(self, pkg: Package, info: WorkbookInfo) -> None:
        self.pkg, self.info = pkg, info
        self.workbook = SplicedPart(pkg, info.part)
        rels = pkg.find(rels_part(info.part))
        if rels is None:
            raise WorkbookError(f"the workbook part {info.part!r} has no relationships part")
        self.rels = SplicedPart(pkg, rels)
        types = pkg.find("[Content_Types].xml")
        if types is None:
            raise WorkbookError("the package has no [Content_Types].xml")
        self.types = SplicedPart(pkg, types)
        self.rel_ns = _REL_NS[info.namespace]
        root = parse_xml(self.workbook.data, info.part)
        self.r_prefix = next((k for k, v in root.nsmap.items() if v == self.rel_ns and k), None)
        self.formulas_dropped = False  # a refilled sheet lost formulas: the calc chain must go

    def _element(self, local: str, attrs: dict[str, str | None], part: SplicedPart) -> bytes:
        return b"<" + part.p + local.encode() + set_attrs(b"", attrs) + b"/>"

    def _mark(self, index: int, name: str) -> None:
        quoted = "'" + name.replace("'", "''") + "'!$A$1"
        wb = self.workbook
        el = (b"<" + wb.p + b"definedName" + set_attrs(b"", {"name": MARKER, "localSheetId": str(index),
              "hidden": "1"}) + b">" + html.escape(quoted, quote=False).encode() + b"</" + wb.p + b"definedName>")
        names = wb.tags("definedNames")
        if names and not names[0].group(2):
            at = wb.close_tag("definedNames")
            wb.splice(at, at, el)
        elif names:  # <definedNames/>
            m = names[0]
            wb.splice(m.start(), m.end(), b"<" + wb.p + b"definedNames>" + el + b"</" + wb.p + b"definedNames>")
        else:
            block = b"<" + wb.p + b"definedNames>" + el + b"</" + wb.p + b"definedNames>"
            wb.insert_before_first(_AFTER_DEFINED_NAMES, wb.close_tag("sheets"), block, "workbook")
        self.info.owned.add(index)

    def put_sheet(self, name: str, sheet: OwnedSheet, styles: DateStyles, *, replace_unmarked: bool) -> str:
        """Add the sheet, or refill the one of that name if wbs_tools owns it; returns its part name."""
        check_sheet_name(name)
        entry = self.info.find(name)
        state = sheet.state
        if entry is None:
            xml = render_sheet(sheet, namespace=self.info.namespace, styles=styles, date1904=self.info.date1904)
            return self._add_sheet(name, xml, state, mark=sheet.mark)
        if entry.kind != "worksheet" or entry.part is None or entry.part not in self.pkg:
            raise WorkbookError(f"the sheet {entry.name!r} exists and is not a worksheet")
        if entry.index not in self.info.owned:
            if not replace_unmarked:
                raise WorkbookError(f"the workbook already has a sheet {entry.name!r} that wbs_tools did not "
                                    "create; rename it or choose another name")
            self._mark(entry.index, entry.name)
        old = self.pkg.read(entry.part)
        chunks = refill_chunks(old, entry.part, sheet, styles, self.info.date1904)
        if sum(map(len, chunks)) != len(old) or b"".join(chunks) != old:
            self.pkg.write(entry.part, chunks if len(chunks) > 2 else b"".join(chunks))
            formula = start_tag(root_prefix(old, entry.part)[0], "f")
            self.formulas_dropped |= sum(len(formula.findall(c)) for c in chunks) < len(formula.findall(old))
        if entry.state != state:
            m = self.workbook.tags("sheet", within="sheets")[entry.index]
            self.workbook.splice(m.start(), m.end(), retag(m, {"state": None if state == "visible" else state}))
        return entry.part

    def _add_sheet(self, name: str, xml: list[bytes], state: SheetState, *, mark: bool = True) -> str:
        folder = posixpath.dirname(self.info.part)
        taken = {n.lower() for n in self.pkg.names}
        n = 1
        while posixpath.join(folder, f"worksheets/sheet{n}.xml").lower() in taken:
            n += 1
        part = posixpath.join(folder, f"worksheets/sheet{n}.xml")
        ids = {get_attrs(m.group(1)).get("Id") for m in self.rels.tags("Relationship")}
        k = len(ids) + 1
        while f"rId{k}" in ids:
            k += 1
        rid = f"rId{k}"
        self.pkg.write(part, xml if len(xml) > 2 else b"".join(xml))
        rel = self._element("Relationship", {"Id": rid, "Type": f"{self.rel_ns}/worksheet",
                                             "Target": f"worksheets/sheet{n}.xml"}, self.rels)
        at = self.rels.close_tag("Relationships")
        self.rels.splice(at, at, rel)
        over = self._element("Override", {"PartName": "/" + part, "ContentType": WORKSHEET_TYPE}, self.types)
        at = self.types.close_tag("Types")
        self.types.splice(at, at, over)
        sheet_id = max((s.sheet_id for s in self.info.sheets), default=0) + 1
        r_attr = f"{self.r_prefix}:id" if self.r_prefix else "r:id"
        attrs = {"name": name, "sheetId": str(sheet_id), "state": None if state == "visible" else state,
                 r_attr: rid}
        if self.r_prefix is None:
            attrs["xmlns:r"] = self.rel_ns
        at = self.workbook.close_tag("sheets")
        self.workbook.splice(at, at, self._element("sheet", attrs, self.workbook))
        index = len(self.info.sheets)
        self.info.sheets.append(SheetEntry(name, index, sheet_id, state, "worksheet", part))
        if mark:
            self._mark(index, name)
        return part

    def full_calc_on_load(self) -> None:
        """Ask Excel to recalculate every formula when the file is next opened."""
        wb = self.workbook
        found = wb.tags("calcPr")
        if found:
            m = found[0]
            wb.splice(m.start(), m.end(), retag(m, {"fullCalcOnLoad": "1"}))
        else:
            el = self._element("calcPr", {"fullCalcOnLoad": "1"}, wb)
            wb.insert_before_first(_AFTER_CALC_PR, wb.close_tag("sheets"), el, "workbook")

    def drop_calc_chain(self) -> str | None:
        """Remove the calculation chain (Excel rebuilds it) once a formula cell lost its formula."""
        part = self.info.related.get("calcChain")
        if part is None or part not in self.pkg:
            return None
        self.pkg.remove(part)
        for m in self.rels.tags("Relationship"):
            a = get_attrs(m.group(1))
            if a.get("Type", "").endswith("/calcChain"):
                self.rels.remove_where("Relationship", "Id", a.get("Id", ""))
                break
        self.types.remove_where("Override", "PartName", "/" + part)
        del self.info.related["calcChain"]
        return part

    def save(self) -> list[str]:
        """Write back the structural parts that changed; returns their names."""
        return [p.name for p in (self.workbook, self.rels, self.types) if p.save()]

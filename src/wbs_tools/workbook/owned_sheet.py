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

import html
import posixpath
import re
from dataclasses import dataclass

from lxml import etree

from wbs_tools.core.frozen import copied_by_fields
from wbs_tools.workbook.owned_rows import (
    _REL_NS,
    DateStyles,
    OwnedSheet,
    SheetState,
    date_styles,
    refill_chunks,
    refill_sheet,
    render_sheet,
)
from wbs_tools.workbook.package import (
    Package,
    SplicedPart,
    WorkbookError,
    check_well_formed,
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

__all__ = [
    "MARKER", "WORKSHEET_TYPE", "DateStyles", "OwnedSheet", "SheetEntry", "SheetState", "WorkbookEditor",
    "WorkbookInfo", "check_sheet_name", "date_styles", "read_workbook", "refill_chunks", "refill_sheet",
    "render_sheet",
]

MARKER = "_wbs_owned"
WORKSHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
_BAD_NAME = re.compile(r"[\[\]:*?/\\]")
# workbook.xml children that come after <definedNames> / <calcPr> (ECMA-376 CT_Workbook order)
_AFTER_CALC_PR = ("oleSize", "customWorkbookViews", "pivotCaches", "smartTagPr", "smartTagTypes",
                  "webPublishing", "fileRecoveryPr", "webPublishObjects", "extLst")
_AFTER_DEFINED_NAMES = ("calcPr", *_AFTER_CALC_PR)


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
        self.proven: set[str] = set()  # sheet parts whose frame was checked; their rows are well-formed as made

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
            part = self._add_sheet(name, xml, state, mark=sheet.mark)
            self._prove(part, xml)
            return part
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
            self._prove(entry.part, chunks)
            self.pkg.write(entry.part, chunks if len(chunks) > 2 else b"".join(chunks))
            formula = start_tag(root_prefix(old, entry.part)[0], "f")
            self.formulas_dropped |= sum(len(formula.findall(c)) for c in chunks) < len(formula.findall(old))
        if entry.state != state:
            m = self.workbook.tags("sheet", within="sheets")[entry.index]
            self.workbook.splice(m.start(), m.end(), retag(m, {"state": None if state == "visible" else state}))
        return entry.part

    def _prove(self, part: str, chunks: list[bytes]) -> None:
        """The sheet's frame (its first and last chunk: everything but the rows written) is checked
        as a document of its own; the rows come from templates and encoded values."""
        check_well_formed(chunks[0] + chunks[-1], part)
        self.proven.add(part)

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


copied_by_fields(__name__)

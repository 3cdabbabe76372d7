"""The edit of a workbook package in memory: computed cells spliced into their sheets, owned sheets
put in place, every other part untouched; what was done is reported. :mod:`lossless` writes the result
to disk."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from wbs_tools.core.frozen import copied_by_fields
from wbs_tools.workbook import package
from wbs_tools.workbook.cell_edits import CellEdits, as_rows
from wbs_tools.workbook.owned_sheet import OwnedSheet, WorkbookEditor, date_styles, read_workbook
from wbs_tools.workbook.package import (
    Limits,
    Package,
    Stamp,
    WorkbookError,
    check_well_formed,
    parse_xml,
    read_relationships,
    resolve_target,
    verify_package,
)
from wbs_tools.workbook.sheet_xml import CellValue, decode_text, sheet_writer, split_ref

Edits = Mapping[str, Mapping[str, CellValue] | CellEdits]  # sheet name -> {"H12": value} or CellEdits


@dataclass(frozen=True)
class SkippedCell:
    sheet: str
    ref: str
    reason: str


@dataclass(frozen=True)
class WriteReport:
    """What a write did. ``changed`` is False when every value was already in place (file untouched)."""

    path: Path | None = None
    backup: Path | None = None
    written: dict[str, Sequence[str]] = field(default_factory=dict)  # sheet -> refs ("H12")
    unchanged: int = 0
    skipped: tuple[SkippedCell, ...] = ()
    changed_parts: tuple[str, ...] = ()
    added_parts: tuple[str, ...] = ()
    removed_parts: tuple[str, ...] = ()
    #: every part of the file written (name, CRC-32, size), in order; empty when nothing was written
    parts: tuple[Stamp, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.changed_parts or self.added_parts or self.removed_parts)

    @property
    def cells_written(self) -> int:
        return sum(len(refs) for refs in self.written.values())


class _SharedStrings:
    """The shared string table, loaded only if an edited cell currently points into it."""

    def __init__(self, pkg: Package, part: str | None) -> None:
        self.pkg, self.part = pkg, part
        self.items: list[str] | None = None

    def __call__(self, index: int) -> str | None:
        if self.items is None:
            self.items = []
            if self.part and self.part in self.pkg:
                root = parse_xml(self.pkg.read(self.part), self.part)
                q = f"{{{etree.QName(root).namespace}}}"
                for si in root.iter(f"{q}si"):
                    runs = [si.find(f"{q}t"), *(r.find(f"{q}t") for r in si.iterfind(f"{q}r"))]
                    self.items.append(decode_text("".join(t.text or "" for t in runs if t is not None)))
        return self.items[index] if 0 <= index < len(self.items) else None


def _table_cells(pkg: Package, sheet_part: str) -> dict[tuple[int, int], str]:
    """Header and totals cells of the sheet's tables: the table part repeats their text, and Excel
    repairs (drops) a table whose header cells disagree with it."""
    protected: dict[tuple[int, int], str] = {}
    for rel in read_relationships(pkg, sheet_part):
        part = None if rel.external else pkg.find(resolve_target(sheet_part, rel.target))
        if part is None or not rel.type.endswith("/table"):
            continue
        table = parse_xml(pkg.read(part), part)
        name = table.get("displayName") or table.get("name") or part
        try:
            (r1, c1), (r2, c2) = (split_ref(x) for x in table.get("ref", "").split(":"))
        except ValueError:
            continue
        rows = {r1: "header"} if table.get("headerRowCount", "1") != "0" else {}
        if table.get("totalsRowCount", "0") not in ("0", ""):
            rows[r2] = "totals row"
        for r, what in rows.items():
            for c in range(c1, c2 + 1):
                protected[(r, c)] = f"the cell is the {what} of table {name!r}"
    return protected


def render_workbook(
    data: bytes,
    *,
    edits: Edits | None = None,
    owned_sheets: Mapping[str, OwnedSheet] | None = None,
    style_from_row: Mapping[str, int] | None = None,
    overwrite_formulas: bool = False,
    full_calc_on_load: bool = False,
    replace_unmarked_sheets: bool = False,
    limits: Limits | None = None,
) -> tuple[bytes, WriteReport]:
    """The edited package as bytes (pure, deterministic); see :func:`write_workbook` for the options."""
    pkg, report = edit_package(data, edits=edits, owned_sheets=owned_sheets, style_from_row=style_from_row,
                               overwrite_formulas=overwrite_formulas, full_calc_on_load=full_calc_on_load,
                               replace_unmarked_sheets=replace_unmarked_sheets, limits=limits)
    if not report.changed:
        return data, report
    out = pkg.to_bytes()
    verify_package(out, pkg.names)
    return out, report


#: a worksheet part this large is deflated as it is patched: a million-row sheet is about a gigabyte
#: inflated, a tenth of that deflated (only the start of such a part is checked as XML anyway)
DEFLATE_WHILE_PATCHING_FROM = package.FULL_CHECK_BYTES


def edit_package(
    data: bytes,
    *,
    edits: Edits | None = None,
    owned_sheets: Mapping[str, OwnedSheet] | None = None,
    style_from_row: Mapping[str, int] | None = None,
    overwrite_formulas: bool = False,
    full_calc_on_load: bool = False,
    replace_unmarked_sheets: bool = False,
    limits: Limits | None = None,
    release: bool = False,
    spill_dir: Path | None = None,
    opened: Package | None = None,
) -> tuple[Package, WriteReport]:
    """The package with the edits and owned sheets applied, not yet serialized. Large edited parts are
    held in chunks. ``release``: ``edits`` and ``owned_sheets`` are dicts this call may empty, each
    sheet's cells dropped as soon as they are written (a million-row refresh). ``spill_dir``: where a
    sheet deflated while patched keeps its bytes until the package is written (else in memory).
    ``opened``: ``data`` opened already and not yet edited (the reader's, in a refresh); it is edited
    in place and returned, under the limits it was opened with.

    Every part written must parse as XML, and what is parsed is the bytes whose well-formedness is not
    known otherwise: the user's. A patched sheet is its original part with cells spliced in at element
    boundaries, an owned sheet its frame (the rows above its table, the elements around its rows) with
    rows in between: the original part, and the frame as a document of its own, are parsed; the cells
    and rows come from %-templates of fixed markup and the value encoder, whose bytes are well-formed
    as made (``WBS_TOOLS_CHECK_ALL_XML=1`` parses them too, as every test does). The other parts edited
    (workbook.xml, relationships, content types) are parsed whole."""
    edits, owned_sheets, style_from_row = edits or {}, owned_sheets or {}, style_from_row or {}
    if opened is not None and (not opened.opened_over(data) or opened.touched):
        raise ValueError("the package must be opened over the data given, and not edited yet")
    pkg = opened if opened is not None else Package(data, limits)
    pkg.start_pass()
    if any(name.startswith("_xmlsignatures/") for name in pkg.names):
        raise WorkbookError("the workbook is digitally signed; any change would break the signature")
    info = read_workbook(pkg)
    clash = {n.casefold() for n in edits} & {n.casefold() for n in owned_sheets}
    if clash:
        raise ValueError(f"sheets both edited and owned in one write: {sorted(clash)}")
    strings = _SharedStrings(pkg, info.related.get("sharedStrings"))
    written: dict[str, Sequence[str]] = {}
    skipped: list[SkippedCell] = []
    unchanged = 0
    removed_formulas = False
    proven: set[str] = set()  # parts whose kept bytes were checked: the rest is well-formed as made
    for sheet_name in list(edits):
        entry = info.find(sheet_name)
        if entry is None:
            raise WorkbookError(f"the workbook has no sheet {sheet_name!r}")
        if entry.kind != "worksheet" or entry.part is None or entry.part not in pkg:
            raise WorkbookError(f"the sheet {entry.name!r} is not a worksheet (it is a {entry.kind})")
        rows = as_rows(edits.pop(sheet_name) if release else edits[sheet_name])  # type: ignore[attr-defined]
        original = pkg.read(entry.part)
        patch = sheet_writer(original, part=entry.part, date1904=info.date1904,
                             overwrite_formulas=overwrite_formulas, style_row=style_from_row.get(sheet_name),
                             shared_string=strings, protected=_table_cells(pkg, entry.part)
                             ).run(rows, deflate_from=DEFLATE_WHILE_PATCHING_FROM, spill_dir=spill_dir)
        del rows
        if patch.written and patch.proven:  # the user's bytes around the new cells are checked
            check_well_formed(original, entry.part)
            proven.add(entry.part)
        del original
        if patch.written and patch.deflated is not None:
            pkg.write_deflated(entry.part, patch.deflated)
            written[entry.name] = patch.written
        elif patch.written and patch.chunks is not None:
            pkg.write(entry.part, patch.chunks)
            written[entry.name] = patch.written
        unchanged += patch.unchanged
        skipped += [SkippedCell(entry.name, ref, why) for ref, why in patch.skipped]
        removed_formulas |= patch.removed_formulas
        del patch  # it holds the part as it was (a million-row sheet: most of a gigabyte)
    editor = WorkbookEditor(pkg, info)
    if owned_sheets:
        styles = date_styles(pkg, info)
        for name in list(owned_sheets):
            sheet = owned_sheets.pop(name) if release else owned_sheets[name]  # type: ignore[attr-defined]
            editor.put_sheet(name, sheet, styles, replace_unmarked=replace_unmarked_sheets)
            del sheet
    if full_calc_on_load:
        editor.full_calc_on_load()
    if removed_formulas or editor.formulas_dropped:
        editor.drop_calc_chain()
    editor.save()
    proven |= editor.proven
    report = WriteReport(
        written=written,
        unchanged=unchanged,
        skipped=tuple(skipped),
        changed_parts=tuple(n for n in pkg.names if n in pkg.touched and n in pkg.original_names),
        added_parts=tuple(n for n in pkg.names if n not in pkg.original_names),
        removed_parts=tuple(n for n in pkg.original_names if n not in pkg),
    )
    everything = package.check_all_xml()
    for name in pkg.touched if report.changed else ():
        if name in pkg and name.endswith((".xml", ".rels")) and (everything or name not in proven):
            if pkg.size(name) > package.FULL_CHECK_BYTES:  # a huge part is not joined to be checked
                check_well_formed(pkg.head(name, 1024), name, size=pkg.size(name))
            else:
                check_well_formed(pkg.read(name), name)
    return pkg, report


copied_by_fields(__name__)

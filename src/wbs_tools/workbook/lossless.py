"""Write values into an Excel workbook without disturbing anything wbs_tools does not own.

A refresh changes only the cells the caller lists and the sheets wbs_tools owns. Every other part of
the package - VBA, buttons and their macros, charts, pictures, comments, validations, conditional
formats, tables, names, ribbons, pivots, cached formula results - is copied byte for byte, because a
load-and-save through a spreadsheet library silently drops whatever that library does not model.

>>> report = write_workbook("plan.xlsx", edits={"Tasks": {"H12": date(2025, 3, 3)}})  # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from lxml import etree

from wbs_tools.workbook.owned_sheet import OwnedSheet, WorkbookEditor, date_style, read_workbook, render_sheet
from wbs_tools.workbook.package import (
    Limits,
    Package,
    WorkbookError,
    WorkbookLockedError,
    check_not_locked,
    parse_xml,
    read_bounded,
    verify_package,
    write_atomically,
)
from wbs_tools.workbook.sheet_xml import CellValue, decode_text, patch_sheet

__all__ = [
    "CellValue",
    "Limits",
    "OwnedSheet",
    "SkippedCell",
    "WorkbookError",
    "WorkbookLockedError",
    "WriteReport",
    "render_workbook",
    "write_workbook",
]

Edits = Mapping[str, Mapping[str, CellValue]]  # sheet name -> {"H12": value}


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
    written: dict[str, tuple[str, ...]] = field(default_factory=dict)  # sheet -> refs
    unchanged: int = 0
    skipped: tuple[SkippedCell, ...] = ()
    changed_parts: tuple[str, ...] = ()
    added_parts: tuple[str, ...] = ()
    removed_parts: tuple[str, ...] = ()

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
    edits, owned_sheets, style_from_row = edits or {}, owned_sheets or {}, style_from_row or {}
    pkg = Package(data, limits)
    info = read_workbook(pkg)
    clash = {n.casefold() for n in edits} & {n.casefold() for n in owned_sheets}
    if clash:
        raise ValueError(f"sheets both edited and owned in one write: {sorted(clash)}")
    strings = _SharedStrings(pkg, info.related.get("sharedStrings"))
    written: dict[str, tuple[str, ...]] = {}
    skipped: list[SkippedCell] = []
    unchanged = 0
    removed_formulas = False
    for sheet_name, cells in edits.items():
        entry = info.find(sheet_name)
        if entry is None:
            raise WorkbookError(f"the workbook has no sheet {sheet_name!r}")
        if entry.kind != "worksheet" or entry.part is None or entry.part not in pkg:
            raise WorkbookError(f"the sheet {entry.name!r} is not a worksheet (it is a {entry.kind})")
        patch = patch_sheet(pkg.read(entry.part), cells, part=entry.part, date1904=info.date1904,
                            overwrite_formulas=overwrite_formulas, style_row=style_from_row.get(sheet_name),
                            shared_string=strings)
        if patch.written:
            pkg.write(entry.part, patch.data)
            written[entry.name] = tuple(patch.written)
        unchanged += len(patch.unchanged)
        skipped += [SkippedCell(entry.name, ref, why) for ref, why in patch.skipped]
        removed_formulas |= patch.removed_formulas
    editor = WorkbookEditor(pkg, info)
    if owned_sheets:
        style = date_style(pkg, info)
        for name, sheet in owned_sheets.items():
            xml = render_sheet(sheet, namespace=info.namespace, date_style_id=style, date1904=info.date1904)
            editor.put_sheet(name, xml, sheet.state, replace_unmarked=replace_unmarked_sheets)
    if full_calc_on_load:
        editor.full_calc_on_load()
    if removed_formulas:
        editor.drop_calc_chain()
    editor.save()
    report = WriteReport(
        written=written,
        unchanged=unchanged,
        skipped=tuple(skipped),
        changed_parts=tuple(n for n in pkg.names if n in pkg.touched and n in pkg.original_names),
        added_parts=tuple(n for n in pkg.names if n not in pkg.original_names),
        removed_parts=tuple(n for n in pkg.original_names if n not in pkg),
    )
    if not report.changed:
        return data, report
    for name in pkg.touched:
        if name in pkg and name.endswith((".xml", ".rels")):
            parse_xml(pkg.read(name), name)
    out = pkg.to_bytes()
    verify_package(out, pkg.names)
    return out, report


def write_workbook(
    path: str | os.PathLike[str],
    *,
    edits: Edits | None = None,
    owned_sheets: Mapping[str, OwnedSheet] | None = None,
    target: str | os.PathLike[str] | None = None,
    backup: bool = True,
    style_from_row: Mapping[str, int] | None = None,
    overwrite_formulas: bool = False,
    full_calc_on_load: bool = False,
    replace_unmarked_sheets: bool = False,
    limits: Limits | None = None,
) -> WriteReport:
    """Set cell values and owned sheets in the workbook at ``path`` (or save the result to ``target``).

    - ``edits``: ``{"Tasks": {"H12": value}}``; ``None`` clears a value but keeps the cell's style.
      Text is stored as text even when it starts with ``=``; no formula is ever written.
    - Formula cells are the user's: they are skipped (see ``report.skipped``) unless
      ``overwrite_formulas``, which also drops ``calcChain.xml`` so Excel rebuilds it.
    - New cells take their style from ``style_from_row[sheet]``'s cell in the same column, else from
      the nearest cell above.
    - ``owned_sheets``: whole sheets replaced on every write; an existing sheet of that name is only
      replaced if wbs_tools created it (or ``replace_unmarked_sheets``).
    - ``full_calc_on_load`` asks Excel to recalculate on open; off by default so cached results stay.

    Raises :class:`WorkbookLockedError` if the file is open, :class:`WorkbookError` if it is
    damaged, encrypted or not a workbook; in every failure the file on disk is unchanged. When no
    value actually changes, nothing is written at all.
    """
    source = Path(path)
    destination = Path(target) if target is not None else source
    check_not_locked(source)
    check_not_locked(destination)
    stat, data = read_bounded(source, limits)
    out, report = render_workbook(
        data, edits=edits, owned_sheets=owned_sheets, style_from_row=style_from_row,
        overwrite_formulas=overwrite_formulas, full_calc_on_load=full_calc_on_load,
        replace_unmarked_sheets=replace_unmarked_sheets, limits=limits,
    )
    if not report.changed and destination == source:
        return replace(report, path=destination)
    saved = write_atomically(out, destination, backup=backup,
                             expected_stat=stat if destination == source else None)
    return replace(report, path=destination, backup=saved)

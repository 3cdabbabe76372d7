"""Add the wbs_tools sheets to a workbook the PM already has, changing nothing that is already in it.

Each layout sheet the workbook lacks (Tasks, Dependencies, Calendar, the registers, Settings, Check,
Status, the hidden snapshot sheets...) is added by the lossless writer with its title, guidance and
header rows as plain cells, so every part of the original package - its sheets, charts, macros,
buttons, pivots - keeps its bytes; only ``workbook.xml``, its relationships and the content types
gain the entries that list the new sheets. A sheet the workbook already has under a layout name
(ignoring case, spaces and punctuation, as the reader does) is left alone and reported.

Differences from a workbook made by ``wbs new``: the adopted sheets hold plain header cells, not
Excel tables, and carry no drop-downs, no guard on the computed columns, no header notes, no Gantt
strip and no defined names over the Settings values. The reader finds tables by their header text,
so refresh, check and export work the same.

Only the sheets wbs_tools rewrites whole (Check, Status, Change Log and the snapshots) carry the
``_wbs_owned`` marker; the input sheets are the person's from the moment they exist, and a later
write can never replace them.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from wbs_tools.core.model import STANDARD_DAY, Plan
from wbs_tools.workbook.layout import (
    CALENDAR_WEEK,
    CHOICE_LISTS,
    DATE,
    DATETIME,
    LAYOUTS,
    LISTS,
    SETTINGS,
    SETTINGS_ROWS,
    SHEET_NAMES,
    SheetLayout,
)
from wbs_tools.workbook.lossless import (
    CellValue,
    OwnedSheet,
    WorkbookError,
    WorkbookLockedError,
    check_not_locked,
    render_workbook,
    write_atomically,
)
from wbs_tools.workbook.owned_sheet import date_styles
from wbs_tools.workbook.owned_sheet import read_workbook as read_workbook_info
from wbs_tools.workbook.package import (
    Package,
    check_well_formed,
    get_attrs,
    read_bounded,
    retag,
    root_prefix,
    start_tag,
    verify_package,
)
from wbs_tools.workbook.plan_rows import settings_values
from wbs_tools.workbook.reader_tables import sheet_key

__all__ = ["AdoptOutcome", "AdoptResult", "adopt_workbook", "layout_sheet", "render_adoption"]

_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class AdoptOutcome(str, Enum):
    ADOPTED = "adopted"
    UNCHANGED = "unchanged"  # every wbs_tools sheet was already there
    LOCKED = "locked"
    REFUSED = "refused"  # signed, encrypted, damaged or not a workbook: the file was not touched


@dataclass(frozen=True)
class AdoptResult:
    """What adopting did: the sheets added, the ones already there, and what the person should know."""

    path: Path
    outcome: AdoptOutcome
    message: str = ""
    added: tuple[str, ...] = ()
    kept: tuple[str, ...] = ()  # the workbook's own sheets standing for a layout sheet, as named there
    conflicts: tuple[str, ...] = ()  # sheets wbs_tools must own but the workbook already uses
    notes: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return self.outcome is AdoptOutcome.ADOPTED


def _layouts(name: str) -> list[SheetLayout]:
    return [layout for layout in LAYOUTS if layout.name == name]


def _time(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _defaults(layout: SheetLayout) -> list[dict[str, CellValue]]:
    """The rows a new sheet starts with: the standard week, the settings, the drop-down values."""
    if layout is CALENDAR_WEEK:
        rows: list[dict[str, CellValue]] = []
        for day, name in enumerate(_DAY_NAMES):
            periods = STANDARD_DAY if day < 5 else ()
            row: dict[str, CellValue] = {"calendar": "Standard", "day": name, "working": "Yes" if periods else "No"}
            for n, period in enumerate(periods, start=1):
                row[f"from{n}"], row[f"to{n}"] = _time(period.start), _time(period.end)
            rows.append(row)
        return rows
    if layout is SETTINGS:
        values = settings_values(Plan())
        return [{"setting": s.label, "note": s.note, "value": _cell(values[s.key])} for s in SETTINGS_ROWS]
    if layout is LISTS:
        longest = max(len(c.values) for c in CHOICE_LISTS)
        return [{c.name: c.values[i] for c in CHOICE_LISTS if i < len(c.values)} for i in range(longest)]
    return []


def _cell(value: object) -> CellValue:
    """Settings defaults as cells; times as "08:00" text, which the reader takes as a time."""
    if isinstance(value, dt.time):
        return _time(value.hour * 60 + value.minute)
    return value  # type: ignore[return-value]


def layout_sheet(name: str) -> tuple[OwnedSheet, bool]:
    """A new sheet for the layout sheet ``name`` (title, guidance, header, defaults) and whether
    wbs_tools owns it (rewrites it whole) rather than the person."""
    layouts = _layouts(name)
    header_row = layouts[0].header_row
    grid: dict[int, dict[int, CellValue]] = {}
    if header_row >= 3:
        grid[1] = {1: name}
        grid[2] = {1: layouts[0].guidance}
    widths: dict[int, float] = {}
    for layout in layouts:
        for column in layout.columns:
            number = layout.column_number(column.key)
            grid.setdefault(header_row, {})[number] = column.title
            widths[number] = column.width
        for offset, row in enumerate(_defaults(layout), start=1):
            for key, value in row.items():
                if value is not None:
                    grid.setdefault(header_row + offset, {})[layout.column_number(key)] = value
    rows = [[grid.get(r, {}).get(c) for c in range(1, max(grid.get(r, {0: None})) + 1)]
            for r in range(1, max(grid) + 1)]
    hidden = any(layout.hidden for layout in layouts)
    owned = any(layout.owned for layout in layouts)
    sheet = OwnedSheet(rows, state="hidden" if hidden else "visible", column_widths=widths,
                       freeze_rows=0 if hidden else header_row, mark=owned)
    return sheet, owned


def _date_columns(name: str) -> list[int]:
    return [layout.column_number(c.key) for layout in _layouts(name) for c in layout.columns
            if c.number_format in (DATE, DATETIME)]


@dataclass(frozen=True)
class Adoption:
    """The adopted package (or the original bytes when nothing was added) and what was decided."""

    data: bytes
    added: tuple[str, ...]
    kept: tuple[str, ...]
    conflicts: tuple[str, ...]


def render_adoption(data: bytes) -> Adoption:
    """The workbook with the missing layout sheets added (pure); raises ``WorkbookError`` if refused."""
    pkg = Package(data)
    info = read_workbook_info(pkg)
    existing = {sheet_key(s.name): s for s in info.sheets}
    added: list[str] = []
    kept: list[str] = []
    conflicts: list[str] = []
    new: dict[str, OwnedSheet] = {}
    for name in SHEET_NAMES:
        sheet, owned = layout_sheet(name)
        found = existing.get(sheet_key(name))
        if found is None:
            added.append(name)
            new[name] = sheet
            continue
        kept.append(found.name)
        if owned and found.index not in info.owned:
            conflicts.append(f"the sheet '{found.name}' is yours, so wbs_tools will not write its {name} sheet "
                             f"there; rename '{found.name}' and adopt again")
    if not new:
        return Adoption(data, (), tuple(kept), tuple(conflicts))
    out, _report = render_workbook(data, owned_sheets=new)
    return Adoption(_finish(out, added), tuple(added), tuple(kept), tuple(conflicts))


def _finish(data: bytes, added: Sequence[str]) -> bytes:
    """Give the new sheets' date columns the workbook's date style (only the new sheet parts change).

    The input sheets were added unmarked (``OwnedSheet.mark``): they are the person's from the start.
    """
    pkg = Package(data)
    info = read_workbook_info(pkg)
    best = date_styles(pkg, info).best
    for name in added if best is not None else ():
        entry = info.find(name)
        columns = _date_columns(name)
        if entry is None or entry.part is None or not columns:
            continue
        xml = pkg.read(entry.part)
        p, _ns = root_prefix(xml, entry.part)
        for m in reversed(list(start_tag(p, "col").finditer(xml))):
            attrs = get_attrs(m.group(1))
            if attrs.get("min") == attrs.get("max") and int(attrs.get("min", "0")) in columns:
                xml = xml[: m.start()] + retag(m, {"style": best}) + xml[m.end():]
        pkg.write(entry.part, xml)
    for name in pkg.touched:
        check_well_formed(pkg.read(name), name)
    out = pkg.to_bytes()
    verify_package(out, pkg.names)
    return out


def _notes(path: Path) -> tuple[str, ...]:
    """Tables the reader would have taken from the workbook's own sheets, had it no layout sheets."""
    from wbs_tools.workbook.reader import read_workbook

    try:
        found = read_workbook(path).cells
    except (WorkbookError, ValueError, OSError):
        return ()
    notes = []
    for layout in LAYOUTS:
        where = found.get(layout.name if _layouts(layout.name)[0] is layout else layout.table_name)
        if where is not None and sheet_key(where.sheet) != sheet_key(layout.name):
            notes.append(f"'{where.sheet}' has a header like the {layout.name} table; wbs_tools reads the "
                         f"{layout.name} sheet: copy your rows there, or rename '{where.sheet}' to "
                         f"'{layout.name}' and adopt again")
    return tuple(notes)


def adopt_workbook(path: str | os.PathLike[str], *, output: str | os.PathLike[str] | None = None,
                   backup: bool = True) -> AdoptResult:
    """Add the missing wbs_tools sheets in place (or into ``output``). Never raises for the workbook.

    A locked file (open in Excel) or one that cannot be changed safely (signed, encrypted, damaged)
    is reported in the result and left untouched.
    """
    source = Path(path)
    destination = Path(output) if output is not None else source
    try:
        check_not_locked(source)
        check_not_locked(destination)
        stat, data = read_bounded(source)
        adoption = render_adoption(data)
        changed = adoption.data != data
        notes = _notes(source) if changed else ()  # read before the file is replaced
        if changed or destination != source:
            write_atomically(adoption.data, destination, backup=backup and destination.exists(),
                             expected_stat=stat if destination == source else None)
    except WorkbookLockedError as exc:
        return AdoptResult(source, AdoptOutcome.LOCKED, str(exc))
    except (WorkbookError, OSError) as exc:
        return AdoptResult(source, AdoptOutcome.REFUSED, str(exc))
    outcome = AdoptOutcome.ADOPTED if changed else AdoptOutcome.UNCHANGED
    return AdoptResult(destination, outcome, "", adoption.added, adoption.kept, adoption.conflicts, notes)

"""Plans in and out of the workbook: import MSPDI or CSV, export MSPDI or CSV, adopt an existing workbook.

``import_plan`` makes a full template workbook from another tool's plan and refreshes it, so the
person gets what ``wbs new`` would give, already computed. ``export_plan`` schedules a plan and writes
it for other tools. ``adopt_workbook`` (in :mod:`.adopt`) adds the wbs_tools sheets to a workbook that
already exists without touching what is in it.

MSPDI written from a workbook uses each task's ID as its UID: Microsoft Project and other tools
match tasks across imports by UID, so keep IDs stable (insert rows with new IDs rather than
renumbering) if exported files are to be merged or compared.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from wbs_tools.api import ScheduleRun, UnsupportedFileError, detect_format, schedule_file
from wbs_tools.core.findings import Finding, Severity
from wbs_tools.core.model import Plan
from wbs_tools.interchange.adopt import AdoptOutcome, AdoptResult, adopt_workbook
from wbs_tools.interchange.csv_plan import CsvPlan, CsvPlanError, read_csv_plan, write_csv_plan
from wbs_tools.refresh import Outcome, RefreshResult, refresh_workbook
from wbs_tools.workbook.computed import column_letter
from wbs_tools.workbook.layout import TASKS
from wbs_tools.workbook.lossless import CellValue, WorkbookError, write_workbook

__all__ = [
    "AdoptOutcome",
    "AdoptResult",
    "ExportResult",
    "ImportResult",
    "InterchangeError",
    "adopt_workbook",
    "export_plan",
    "import_plan",
    "source_kind",
]


class InterchangeError(ValueError):
    """The file could not be imported or exported; nothing was written."""


@dataclass
class ImportResult:
    """The workbook made from another tool's plan: what the source said, and the refresh of the result.

    ``findings`` are about the source (located in it: "plan.csv row 5, column Duration"); the
    refresh's findings are about the new workbook (located at its cells, as on its Check sheet).
    """

    source: Path
    target: Path
    kind: str  # "mspdi" or "csv"
    plan: Plan
    findings: list[Finding] = field(default_factory=list)
    refresh: RefreshResult | None = None

    @property
    def errors(self) -> int:
        later = self.refresh.findings if self.refresh else []
        return sum(f.severity is Severity.ERROR for f in [*self.findings, *later])


@dataclass
class ExportResult:
    source: Path
    target: Path
    kind: str  # "mspdi" or "csv"
    run: ScheduleRun

    @property
    def errors(self) -> int:
        return sum(f.severity is Severity.ERROR for f in self.run.findings)


def source_kind(path: Path) -> str:
    """'mspdi', 'csv' or 'workbook', by content: XML is MSPDI, a zip is a workbook, the rest is CSV."""
    kind = detect_format(path)
    if kind == "workbook":
        return kind
    head = path.read_bytes()[:512].lstrip(b"\xef\xbb\xbf\xff\xfe\x00 \t\r\n")
    return "mspdi" if head.startswith(b"<") else "csv"


def import_plan(source: str | os.PathLike[str], target: str | os.PathLike[str], *,
                start: dt.datetime | None = None, date_order: str | None = None,
                force: bool = False) -> ImportResult:
    """Make the workbook ``target`` (.xlsx) from an MSPDI or CSV plan, then refresh it.

    Values that did not read are kept as typed in their Tasks cells, so the Check sheet points at
    them. Raises ``InterchangeError`` when the source cannot be read or ``target`` cannot be written;
    ``target`` is then left as it was.
    """
    src, out = Path(source), Path(target)
    if out.suffix.lower() != ".xlsx":
        raise InterchangeError(f"{out.name}: the workbook to create must be an .xlsx file")
    if out.exists() and not force:
        raise InterchangeError(f"{out} exists; use --force to overwrite it")
    try:
        kind = source_kind(src)
        if kind == "workbook":
            raise InterchangeError(f"{src.name} is already a workbook: use 'wbs adopt' to add the wbs_tools "
                                   "sheets to it, or 'wbs refresh' if it has them")
        if kind == "mspdi":
            from wbs_tools.mspdi.reader import read_mspdi

            plan, findings = read_mspdi(src)
            read = CsvPlan(plan, findings)
            if start is not None:
                plan.settings.start = start
        else:
            read = read_csv_plan(src, date_order=date_order, start=start)
    except (UnsupportedFileError, CsvPlanError, ValueError, OSError) as exc:
        raise InterchangeError(str(exc)) from exc
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{out.stem}.", suffix=".xlsx", dir=out.parent)
    os.close(fd)
    draft = Path(name)
    try:
        from wbs_tools.workbook.template import build_workbook

        build_workbook(draft, plan=read.plan)
        if read.unread:
            write_workbook(draft, edits={TASKS.name: _unread_cells(read)}, backup=False)
        refreshed = refresh_workbook(draft, output=out, backup=False)
    except (WorkbookError, ValueError, OSError) as exc:
        raise InterchangeError(f"{out.name}: {exc}") from exc
    finally:
        draft.unlink(missing_ok=True)
    if refreshed.outcome in (Outcome.LOCKED, Outcome.FAILED):
        raise InterchangeError(f"{out.name}: {refreshed.message}")
    return ImportResult(src, out, kind, read.plan, read.findings, refreshed)


def _unread_cells(read: CsvPlan) -> dict[str, CellValue]:
    """Tasks cells (the template writes task i on row header+1+i) for the text that did not read."""
    return {f"{column_letter(TASKS.column_number(key))}{TASKS.header_row + 1 + index}": text
            for (index, key), text in read.unread.items()}


def export_plan(source: str | os.PathLike[str], target: str | os.PathLike[str], *,
                kind: str | None = None) -> ExportResult:
    """Schedule ``source`` (a workbook or MSPDI) and write it as MSPDI (.xml) or CSV (.csv).

    MSPDI from an MSPDI source keeps that document and updates its computed fields; from a workbook
    it is generated, with UID = ID. Raises ``InterchangeError`` when the plan cannot be read.
    """
    src, out = Path(source), Path(target)
    wanted = (kind or {".xml": "mspdi", ".csv": "csv"}.get(out.suffix.lower(), "")).lower()
    if wanted not in ("mspdi", "csv"):
        raise InterchangeError(f"{out.name}: export to .xml (MSPDI) or .csv, or give the format")
    try:
        run = schedule_file(src)
        out.parent.mkdir(parents=True, exist_ok=True)
        if wanted == "csv":
            write_csv_plan(run.schedule, out)
        else:
            from wbs_tools.mspdi.writer import write_mspdi

            write_mspdi(run.schedule, out, source=src if detect_format(src) == "mspdi" else None)
    except (UnsupportedFileError, WorkbookError, ValueError, OSError) as exc:
        raise InterchangeError(f"{src.name}: {exc}") from exc
    return ExportResult(src, out, wanted, run)

"""The refresh use case: read a plan workbook, compute, write back only what wbs_tools owns.

Every front end (the ``wbs refresh`` command, the batch runner, the Excel buttons) calls
``refresh_workbook``; only the way the workbook is reached differs.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from wbs_tools.core.calendar import WorkCalendar, compiled
from wbs_tools.core.cpm import schedule
from wbs_tools.core.findings import Finding, Severity, make_finding
from wbs_tools.core.gcpause import collector_paused
from wbs_tools.core.model import Plan
from wbs_tools.core.schedule import Schedule
from wbs_tools.core.status import StatusReport
from wbs_tools.core.status.progress import status_instant
from wbs_tools.heap import release_freed
from wbs_tools.workbook.computed import check_sheet, dependencies_edits, tasks_edits
from wbs_tools.workbook.layout import CHECK, DEPENDENCIES, MAX_ROWS, TASKS
from wbs_tools.workbook.lossless import CellEdits, OwnedSheet, WriteReport, write_workbook
from wbs_tools.workbook.package import Package, WorkbookError, WorkbookLockedError, read_bounded
from wbs_tools.workbook.reader import WorkbookData, read_workbook
from wbs_tools.workbook.register_sheets import register_output


def project_calendar(plan: Plan) -> WorkCalendar:
    spec = plan.calendars.get(plan.settings.calendar)
    return compiled(spec)


class Outcome(str, Enum):
    REFRESHED = "refreshed"
    UNCHANGED = "unchanged"
    LOCKED = "locked"
    FAILED = "failed"


@dataclass
class RefreshResult:
    path: Path
    outcome: Outcome
    message: str = ""
    findings: list[Finding] = field(default_factory=list)
    schedule: Schedule | None = None
    write: WriteReport | None = None
    status: StatusReport | None = None

    @property
    def errors(self) -> int:
        return sum(f.severity is Severity.ERROR for f in self.findings)


@dataclass(frozen=True)
class Computed:
    """Everything a refresh would write, before it is written."""

    data: WorkbookData
    schedule: Schedule
    findings: list[Finding]
    edits: dict[str, CellEdits]  # sheet -> computed cells (a read-only {"H12": value} mapping too)
    owned: dict[str, OwnedSheet]
    status: StatusReport | None = None


def compute(data: WorkbookData, *, status_date: dt.date | dt.datetime | None = None, decider: str | None = None,
            today: dt.date | None = None) -> Computed:
    """Schedule the plan read from a workbook and lay the results out as cell edits and owned sheets.

    The status date is the one given (a date without a time: the end of that working day), else the
    Settings sheet's, else ``today`` (the caller's clock) with a finding saying so. ``decider`` is who
    is credited with requirement changes that name nobody.
    """
    plan = data.plan
    extra: list[Finding] = []
    if status_date is not None:
        plan.settings.status_date = status_instant(plan, status_date)
    elif plan.settings.status_date is None and today is not None:
        plan.settings.status_date = status_instant(plan, today)  # the end of today's working day
        extra.append(make_finding("settings.no-status-date",
                                  f"no status date in Settings; today ({today:%Y-%m-%d}) was used",
                                  location=data.setting_cells.get("status_date")))
    release_freed(len(plan.tasks))  # the reader's working arrays
    result = schedule(plan)
    release_freed(len(plan.tasks))  # the scheduler's
    edits: dict[str, CellEdits] = {}
    tasks_at = data.cells.get(TASKS.name)
    if tasks_at is not None:
        edits[tasks_at.sheet] = tasks_edits(result, tasks_at)
    deps_at = data.cells.get(DEPENDENCIES.name)
    if deps_at is not None:
        tasks_sheet = tasks_at.sheet if tasks_at is not None else TASKS.name
        deps_edits, left_out = dependencies_edits(result, deps_at, data.mirror_rows, tasks_sheet)
        if deps_at.sheet in edits:  # both tables on one sheet
            edits[deps_at.sheet].update(deps_edits)
        else:
            edits[deps_at.sheet] = deps_edits
        if left_out:
            extra.append(make_finding(
                "sheet.full", f"{left_out:,} links typed in Predecessors do not fit below the {deps_at.sheet} "
                f"table (Excel stops at row {MAX_ROWS:,}); they are scheduled, and listed in Predecessors only",
                location=f"{deps_at.sheet}!A{MAX_ROWS}"))
    owned: dict[str, OwnedSheet] = {}
    status: StatusReport | None = None
    findings = [*data.findings, *extra, *_at_setting_cells(result.findings, data.setting_cells)]
    if plan.settings.status_date is not None:
        calendar = project_calendar(plan)
        registers = register_output(data, result, calendar, plan.settings.status_date, decider)
        release_freed(len(plan.tasks))  # the status model's
        for sheet, cells in registers.edits.items():
            edits.setdefault(sheet, CellEdits()).update(cells)
        owned.update(registers.owned)
        findings += registers.findings
        status = registers.status
    owned[CHECK.name] = check_sheet(findings)
    return Computed(data, result, findings, edits, owned, status)


#: engine findings about a plan setting (``Finding.field``) -> the Settings sheet key holding it
_SETTING_OF_FIELD = {"start": "project_start", "status_date": "status_date"}


def _at_setting_cells(findings: list[Finding], cells: dict[str, str]) -> list[Finding]:
    """The engine knows no cells: its findings about a setting get the setting's Settings cell."""
    out = []
    for f in findings:
        key = _SETTING_OF_FIELD.get(f.field or "") if f.task_id is None and f.location is None else None
        out.append(dataclasses.replace(f, location=cells[key]) if key in cells else f)
    return out


def refresh_workbook(
    path: str | os.PathLike[str],
    *,
    output: str | os.PathLike[str] | None = None,
    status_date: dt.date | dt.datetime | None = None,
    backup: bool = True,
) -> RefreshResult:
    """Refresh one workbook in place (or into ``output``). Never raises for the workbook's content.

    ``status_date``: a date without a time means the end of that working day.

    A locked file (open in Excel) or an unreadable one is reported in the result and left untouched.
    """
    source = Path(path)
    try:
        # a refresh allocates millions of small acyclic objects: no full collection walks them again
        with collector_paused():
            as_read = read_bounded(source)  # read once: the edits go onto the content they came from
            opened = Package(as_read[1])  # and opened once, for the reader and the writer
            data = read_workbook(source, data=as_read[1], opened=opened)
            computed = compute(data, status_date=status_date, decider=data.last_modified_by, today=dt.date.today())
            report = write_workbook(source, edits=computed.edits, owned_sheets=computed.owned, target=output,
                                    backup=backup, release=True, as_read=as_read,  # edits emptied as written
                                    opened=opened)
            del as_read, opened
    except WorkbookLockedError as exc:
        return RefreshResult(source, Outcome.LOCKED, str(exc))
    except (WorkbookError, OSError) as exc:
        return RefreshResult(source, Outcome.FAILED, str(exc))
    outcome = Outcome.REFRESHED if report.changed or output is not None else Outcome.UNCHANGED
    return RefreshResult(source, outcome, "", computed.findings, computed.schedule, report, computed.status)

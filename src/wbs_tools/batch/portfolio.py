"""The portfolio: one row per plan of a folder, from each plan's own status report.

A PMO reads dozens of plans at a glance: RAG, progress, where the finish is heading against the
baseline, what is overdue, what is burning, what comes next. Every figure is the one the plan's
Status sheet shows (``compute`` builds the same ``StatusReport``), so the portfolio never disagrees
with a plan. Reading is all it does: plans are not written, so a plan open in Excel is still listed
(as last saved). Plans are read in parallel with the batch runner's executors (local or Dask).
"""

from __future__ import annotations

import datetime as dt
import os
import traceback
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree
from python_calamine import CalamineWorkbook

from wbs_tools.batch.runner import collect, inspect, is_plan, run_jobs
from wbs_tools.core.status import Rag, StatusReport
from wbs_tools.refresh import compute
from wbs_tools.workbook.layout import SETTINGS, normalize_header
from wbs_tools.workbook.package import WorkbookError
from wbs_tools.workbook.reader import read_workbook
from wbs_tools.workbook.reader_tables import sheet_key

#: Settings-sheet labels under which a PM types the project manager's name (no such setting is built in).
MANAGER_LABELS = frozenset(normalize_header(x) for x in ("Project manager", "PM", "Manager", "Project lead",
                                                          "Project owner"))
HIGH_SEVERITIES = ("Critical", "High")
_APP_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/extended-properties}"
_RAG_ORDER = {"Red": 0, "Amber": 1, "Green": 2}


@dataclass(frozen=True)
class PortfolioJob:
    path: str
    shown: str
    status_date: dt.datetime | None = None
    today: dt.date | None = None


@dataclass(frozen=True)
class PortfolioRow:
    """One plan as the portfolio shows it; ``outcome`` is "ok", "not-a-plan" or "failed" (see ``problem``)."""

    path: str
    outcome: str = "ok"
    problem: str = ""
    project: str = ""
    manager: str = ""
    rag: str = ""
    areas: tuple[tuple[str, str], ...] = ()  # (area, RAG) for Schedule, Issues, Actions, Scope
    status_date: dt.datetime | None = None
    percent_complete: float | None = None
    planned_percent: float | None = None
    forecast_finish: dt.datetime | None = None
    baseline_finish: dt.datetime | None = None
    variance_days: float | None = None
    overdue_actions: int = 0
    open_high_issues: int = 0
    next_milestone: str = ""
    next_milestone_date: dt.datetime | None = None
    errors: int = 0


@dataclass
class Portfolio:
    rows: list[PortfolioRow]  # plans, reddest first
    excluded: list[PortfolioRow] = field(default_factory=list)  # failed first, then foreign workbooks
    status_date: dt.datetime | None = None

    def rag_counts(self) -> dict[str, int]:
        return {rag.value: sum(r.rag == rag.value for r in self.rows) for rag in (Rag.RED, Rag.AMBER, Rag.GREEN)}


def portfolio_row(job: PortfolioJob) -> PortfolioRow:
    """Read one plan and build its status (never raises: a bad file becomes a row with its reason)."""
    try:
        return _row(job)
    except Exception as exc:  # one unreadable plan must not lose the PMO its Monday portfolio
        line = traceback.format_exception_only(type(exc), exc)[-1].strip()
        return PortfolioRow(job.shown, "failed", f"internal error: {line}")


def _row(job: PortfolioJob) -> PortfolioRow:
    path = Path(job.path)
    try:
        names, _ = inspect(path)
        if not is_plan(names):
            return PortfolioRow(job.shown, "not-a-plan", "not a plan workbook")
        data = read_workbook(path)
        computed = compute(data, status_date=job.status_date, decider=data.last_modified_by, today=job.today)
    except WorkbookError as exc:
        return PortfolioRow(job.shown, "failed", str(exc))
    status = computed.status
    if status is None:
        return PortfolioRow(job.shown, "failed", "the plan has no status date")
    upcoming = sorted((t for t in computed.schedule.tasks if t.milestone and not t.summary
                       and t.percent_complete < 100 and t.finish is not None), key=lambda t: (t.finish, t.id))
    nxt = upcoming[0] if upcoming else None
    return PortfolioRow(
        path=job.shown, project=status.project_name or path.stem, manager=manager_of(path),
        rag=status.overall.rag.value, areas=tuple((a.area, a.rag.value) for a in status.areas),
        status_date=status.status_date, percent_complete=status.progress.actual,
        planned_percent=status.progress.planned, forecast_finish=status.finish.forecast,
        baseline_finish=status.finish.baseline, variance_days=status.finish.variance_days,
        overdue_actions=len(status.overdue_actions), open_high_issues=_high_issues(status),
        next_milestone=f"{nxt.outline_number} {nxt.name}".strip() if nxt else "",
        next_milestone_date=nxt.finish if nxt else None,
        errors=sum(f.severity.value == "error" for f in computed.findings))


def _high_issues(status: StatusReport) -> int:
    return sum(i.severity in HIGH_SEVERITIES for i in status.open_issues)


def manager_of(path: Path) -> str:
    """The project manager: a "Project manager" (or "PM") row of the Settings sheet, else the
    workbook's Manager document property (File > Info > Properties in Excel), else empty."""
    try:
        with CalamineWorkbook.from_path(str(path)) as book:
            name = next((n for n in book.sheet_names if sheet_key(n) == sheet_key(SETTINGS.name)), None)
            rows = book.get_sheet_by_name(name).to_python(skip_empty_area=False) if name else []
    except Exception:  # calamine's own error types; the plan itself was read already
        rows = []
    for row in rows:
        for index, cell in enumerate(row[:8]):
            if isinstance(cell, str) and normalize_header(cell) in MANAGER_LABELS:
                value = next((v for v in row[index + 1:] if str(v).strip()), None)
                if value is not None:
                    return str(value).strip()
    return _document_manager(path)


def _document_manager(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as package:
            info = package.getinfo("docProps/app.xml")
            data = package.read(info) if info.file_size < 1 << 20 else b""
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
        element = etree.fromstring(data, parser).find(f"{_APP_NS}Manager") if data else None
    except (KeyError, OSError, zipfile.BadZipFile, etree.XMLSyntaxError):
        return ""
    return (element.text or "").strip() if element is not None else ""


def _crashed(job: PortfolioJob, error: BaseException) -> PortfolioRow:
    return PortfolioRow(job.shown, "failed", f"the worker died while reading it ({error})")


def build_portfolio(paths: Sequence[str | os.PathLike[str]], *, recursive: bool = False, jobs: int = 1,
                    executor: str = "local", status_date: dt.datetime | None = None,
                    on_start: Callable[[int], None] | None = None,
                    on_result: Callable[[PortfolioRow], None] | None = None) -> Portfolio:
    """Rows of every plan under ``paths``: reddest first, then by project name."""
    today = dt.date.today()
    work = [PortfolioJob(str(t.path.resolve()), str(t.path), status_date, today)
            for t in collect(paths, recursive=recursive)]
    if on_start is not None:
        on_start(len(work))
    found = []
    for row in run_jobs(portfolio_row, work, executor=executor, workers=jobs, on_crash=_crashed):
        found.append(row)
        if on_result is not None:
            on_result(row)
    rows = sorted((r for r in found if r.outcome == "ok"),
                  key=lambda r: (_RAG_ORDER.get(r.rag, 3), r.project.casefold(), r.path))
    excluded = sorted((r for r in found if r.outcome != "ok"), key=lambda r: (r.outcome != "failed", r.path))
    return Portfolio(rows, excluded, status_date)

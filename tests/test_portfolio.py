"""Portfolio of a folder: one row per plan from its own status report, as a workbook, HTML and PDF.

The folder holds the sample migration plan (with a "Project manager" row typed on its Settings
sheet), a small generated plan, a plan whose PM is only in the document properties, a workbook that
is not a plan and a truncated one.
"""

from __future__ import annotations

import datetime as dt
import shutil
import zipfile
from pathlib import Path

import pytest
import xlsxwriter
from python_calamine import CalamineWorkbook
from typer.testing import CliRunner

from wbs_tools.batch.portfolio import Portfolio, PortfolioRow, build_portfolio, manager_of
from wbs_tools.batch.portfolio_report import COLUMNS, render_html, write_pdf, write_xlsx
from wbs_tools.cli import app
from wbs_tools.core.model import Duration, Link, Plan, Settings, Task
from wbs_tools.refresh import compute
from wbs_tools.reports import find_chromium
from wbs_tools.workbook.lossless import write_workbook
from wbs_tools.workbook.reader import read_workbook
from wbs_tools.workbook.sample import STATUS_DATE, sample_plan, sample_registers
from wbs_tools.workbook.template import build_workbook

PROJECT = "Northwind Foods ERP data migration"


def small_plan(name: str) -> Plan:
    tasks = [Task(1, "Build", 1), Task(2, "Code", 2, Duration(5 * 480.0)), Task(3, "Test", 2, Duration(3 * 480.0)),
             Task(4, "Release", 2, Duration(0.0), milestone=True)]
    settings = Settings(project_name=name, start=dt.datetime(2026, 2, 2, 8), status_date=STATUS_DATE)
    return Plan(settings, tasks, [Link(2, 3), Link(3, 4)])


def with_document_manager(path: Path, manager: str) -> None:
    """Set the Manager document property, as Excel's File > Info > Properties does."""
    with zipfile.ZipFile(path) as zf:
        parts = [(info, zf.read(info)) for info in zf.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for info, data in parts:
            if info.filename == "docProps/app.xml":
                data = data.replace(b"</Properties>", f"<Manager>{manager}</Manager></Properties>".encode())
            zf.writestr(info, data)


@pytest.fixture(scope="module")
def originals(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("portfolio")
    sample = build_workbook(root / "northwind.xlsx", plan=sample_plan(), registers=sample_registers())
    last = read_workbook(sample).cells["Settings"].last_row
    write_workbook(sample, edits={"Settings": {f"A{last + 1}": "Project manager", f"B{last + 1}": "Priya Shah"}},
                   backup=False)
    build_workbook(root / "app.xlsx", plan=small_plan("Mobile <app> & API"))
    build_workbook(root / "web.xlsx", plan=small_plan("Website relaunch"))
    with_document_manager(root / "web.xlsx", "Lee Chen")
    book = xlsxwriter.Workbook(str(root / "budget.xlsx"))
    book.add_worksheet("Budget").write(0, 0, "Q1")
    book.close()
    whole = (root / "web.xlsx").read_bytes()
    (root / "broken.xlsx").write_bytes(whole[:4000])
    return root


@pytest.fixture(scope="module")
def portfolio(originals: Path) -> Portfolio:
    return build_portfolio([originals], jobs=2, status_date=STATUS_DATE)


def row_of(portfolio: Portfolio, project: str) -> PortfolioRow:
    return next(r for r in portfolio.rows if r.project == project)


def test_rows_agree_with_each_plans_status(portfolio: Portfolio, originals: Path) -> None:
    assert sorted(r.project for r in portfolio.rows) == sorted([PROJECT, "Mobile <app> & API", "Website relaunch"])
    assert [(Path(r.path).name, r.outcome) for r in portfolio.excluded] == [("broken.xlsx", "failed"),
                                                                            ("budget.xlsx", "not-a-plan")]
    row = row_of(portfolio, PROJECT)
    status = compute(read_workbook(originals / "northwind.xlsx"), status_date=STATUS_DATE).status
    assert status is not None
    assert row.manager == "Priya Shah" and row.rag == status.overall.rag.value
    assert row.percent_complete == status.progress.actual and row.forecast_finish == status.finish.forecast
    assert row.baseline_finish == status.finish.baseline and row.variance_days == status.finish.variance_days
    assert row.overdue_actions == len(status.overdue_actions) > 0
    assert row.open_high_issues == 4  # I-001, I-003, I-008, I-009; the critical I-006 is resolved
    assert row.next_milestone and row.next_milestone_date is not None
    assert row.status_date == STATUS_DATE
    reds = [r.rag for r in portfolio.rows]
    assert reds == sorted(reds, key=lambda rag: {"Red": 0, "Amber": 1, "Green": 2}[rag])


def test_pm_comes_from_settings_then_document_properties(portfolio: Portfolio, originals: Path) -> None:
    assert row_of(portfolio, "Website relaunch").manager == "Lee Chen"
    assert row_of(portfolio, "Mobile <app> & API").manager == ""
    assert manager_of(originals / "northwind.xlsx") == "Priya Shah"
    small = row_of(portfolio, "Website relaunch")
    assert small.next_milestone == "1.3 Release" and small.overdue_actions == small.open_high_issues == 0


def test_workbook_output(portfolio: Portfolio, tmp_path: Path) -> None:
    target = write_xlsx(portfolio, tmp_path / "out" / "PORTFOLIO.xlsx")
    with CalamineWorkbook.from_path(str(target)) as book:
        assert book.sheet_names == ["Portfolio", "Not included"]
        rows = book.get_sheet_by_name("Portfolio").to_python()
        excluded = book.get_sheet_by_name("Not included").to_python()
    assert rows[0] == [c[0] for c in COLUMNS] and len(rows) == 4
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["RAG"] == portfolio.rows[0].rag and first["Project"] == portfolio.rows[0].project
    assert [r[1] for r in excluded[1:]] == ["failed", "not-a-plan"]
    empty = write_xlsx(Portfolio([]), tmp_path / "empty.xlsx")
    with CalamineWorkbook.from_path(str(empty)) as book:
        assert book.sheet_names == ["Portfolio"]


def test_html_is_escaped_and_self_contained(portfolio: Portfolio) -> None:
    page = render_html(portfolio)
    assert "Mobile &lt;app&gt; &amp; API" in page and "<app>" not in page
    assert "<script" not in page and "<link" not in page and "<style" not in page
    assert PROJECT in page and "Priya Shah" in page and "Not included" in page


@pytest.mark.skipif(find_chromium() is None, reason="needs Chromium")
def test_pdf_output(portfolio: Portfolio, tmp_path: Path) -> None:
    assert write_pdf(portfolio, tmp_path / "portfolio.pdf").read_bytes()[:5] == b"%PDF-"


def test_cli_writes_outputs_and_no_plan(originals: Path, tmp_path: Path) -> None:
    folder = Path(shutil.copytree(originals, tmp_path / "plans"))
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    out = tmp_path / "PORTFOLIO.xlsx"
    result = CliRunner().invoke(app, ["portfolio", str(folder), "-o", str(out), "--html", str(tmp_path / "p.html"),
                                      "--status-date", "2026-02-27", "--jobs", "2"])
    assert result.exit_code == 2, result.output  # the truncated workbook
    assert out.is_file() and (tmp_path / "p.html").read_text().startswith("<!DOCTYPE html>")
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    (folder / "broken.xlsx").unlink()
    result = CliRunner().invoke(app, ["portfolio", str(folder), "-o", str(out), "--status-date", "2026-02-27"])
    assert result.exit_code == 0, result.output

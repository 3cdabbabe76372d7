"""The portfolio's outputs: PORTFOLIO.xlsx for the PMO, and the e-mail HTML and PDF of the status report.

The HTML follows the status report's rules (``wbs_tools.reports.html``): inline styles only, no
script or external resource, every workbook text escaped, so it can be pasted into an e-mail body;
the PDF is that page printed by headless Chromium, exactly as ``render_pdf`` does for one plan.
"""

from __future__ import annotations

import datetime as dt
import io
import os
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from wbs_tools.batch.portfolio import Portfolio, PortfolioRow, build_portfolio
from wbs_tools.core.status import Rag, format_days
from wbs_tools.files import replace_file
from wbs_tools.reports.html import FONT, RAG_COLOURS, badge, day, e, para, section, table

COLUMNS = (  # header, width, kind
    ("Project", 34, "text"), ("PM", 18, "text"), ("RAG", 8, "rag"), ("Schedule", 9, "rag"), ("Issues", 9, "rag"),
    ("Actions", 9, "rag"), ("Scope", 9, "rag"), ("% complete", 11, "percent"), ("% planned", 11, "percent"),
    ("Forecast finish", 14, "date"), ("Baseline finish", 14, "date"), ("Variance (wd)", 12, "number"),
    ("Overdue actions", 10, "int"), ("Open high issues", 10, "int"), ("Next milestone", 34, "text"),
    ("Milestone date", 14, "date"), ("Status date", 14, "date"), ("Errors", 8, "int"), ("File", 40, "text"),
)
AREAS = ("Schedule", "Issues", "Actions", "Scope")
_MUTED = "color:#6b7280;font-size:12px;"


def _values(row: PortfolioRow) -> list[object]:
    areas = dict(row.areas)
    pct = [None if p is None else p / 100 for p in (row.percent_complete, row.planned_percent)]
    return [row.project, row.manager, row.rag, *(areas.get(a, "") for a in AREAS), *pct, row.forecast_finish,
            row.baseline_finish, row.variance_days, row.overdue_actions, row.open_high_issues, row.next_milestone,
            row.next_milestone_date, row.status_date, row.errors, row.path]


def write_xlsx(portfolio: Portfolio, path: str | os.PathLike[str]) -> Path:
    """PORTFOLIO.xlsx: an Excel table (filter, sort) with RAG colours; built in memory, then renamed into place."""
    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    formats = {"date": book.add_format({"num_format": "ddd dd-mmm-yy"}),
               "percent": book.add_format({"num_format": "0%"}),
               "number": book.add_format({"num_format": "0.0"}), "int": book.add_format({"num_format": "0"})}
    sheet = book.add_worksheet("Portfolio")
    rows = [_values(r) for r in portfolio.rows]
    last = max(len(rows), 1)
    columns = [{"header": h, "format": formats.get(kind)} for h, _, kind in COLUMNS]
    sheet.add_table(0, 0, last, len(COLUMNS) - 1, {"name": "tblPortfolio", "columns": columns,
                                                   "style": "Table Style Light 9", **({"data": rows} if rows else {})})
    rag_formats = {rag: book.add_format({"bg_color": bg, "font_color": fg, "bold": True})
                   for rag, (bg, fg) in ((r.value, RAG_COLOURS[r]) for r in Rag)}
    for index, (_, width, kind) in enumerate(COLUMNS):
        sheet.set_column(index, index, width)
        for rag, fmt in rag_formats.items() if kind == "rag" else ():
            sheet.conditional_format(1, index, last, index, {"type": "cell", "criteria": "==",
                                                              "value": f'"{rag}"', "format": fmt})
    sheet.freeze_panes(1, 1)
    if portfolio.excluded:
        other = book.add_worksheet("Not included")
        other.add_table(0, 0, len(portfolio.excluded), 2, {
            "name": "tblNotIncluded", "columns": [{"header": "File"}, {"header": "Outcome"}, {"header": "Reason"}],
            "data": [[r.path, r.outcome, r.problem] for r in portfolio.excluded]})
        other.set_column(0, 0, 40)
        other.set_column(2, 2, 80)
    book.close()
    return replace_file(Path(path), buffer.getvalue())


def _counts(portfolio: Portfolio) -> str:
    cells = []
    for rag, count in portfolio.rag_counts().items():
        background, colour = RAG_COLOURS[Rag(rag)]
        cells.append(f'<td style="padding:8px 4px;text-align:center;background:{background};color:{colour};'
                     f'border:2px solid #ffffff;"><div style="font-size:12px;">{e(rag)}</div>'
                     f'<div style="font-size:18px;font-weight:700;">{count}</div></td>')
    return (f'<table role="presentation" style="width:100%;border-collapse:collapse;table-layout:fixed;'
            f'margin:10px 0;"><tr>{"".join(cells)}</tr></table>')


def _muted(text: str) -> str:
    return f'<br><span style="{_MUTED}">{text}</span>'


def _plan_cells(row: PortfolioRow) -> list[str]:
    variance = "" if row.variance_days is None else f" ({e(format_days(row.variance_days, signed=True))} wd)"
    done = "-" if row.percent_complete is None else f"{row.percent_complete:.0f}%"
    planned = "" if row.planned_percent is None else _muted(f"plan {row.planned_percent:.0f}%")
    late = [f"{row.overdue_actions} overdue action{'s' if row.overdue_actions != 1 else ''}",
            f"{row.open_high_issues} high issue{'s' if row.open_high_issues != 1 else ''}"]
    return [
        f"<b>{e(row.project)}</b>" + _muted(e(row.manager or "no PM named")),
        badge(Rag(row.rag)) if row.rag else "",
        done + planned,
        day(row.forecast_finish, True) + _muted(f"baseline {day(row.baseline_finish, True)}{variance}"),
        "<br>".join(e(x) for x in late),
        (e(row.next_milestone) + _muted(day(row.next_milestone_date, True))) if row.next_milestone else "-",
    ]


def render_html(portfolio: Portfolio, *, title: str = "Portfolio") -> str:
    """The portfolio as one self-contained HTML page, fit to paste into an e-mail body."""
    dates = [r.status_date for r in portfolio.rows if r.status_date]
    when = portfolio.status_date or (max(dates) if dates else None)
    rows = [_plan_cells(r) for r in portfolio.rows]
    plans = table(("Project / PM", "RAG", "Complete", "Forecast finish", "Late", "Next milestone"), rows,
                  ("26%", "9%", "11%", "20%", "15%", "19%"))
    left_out = ""
    if portfolio.excluded:
        left_out = section("Not included", table(("File", "Why"), [(e(r.path), e(r.problem)) for r in
                                                                    portfolio.excluded], ("45%", "55%")))
    body = "".join((
        f'<h1 style="font-size:22px;margin:0 0 2px 0;color:#111827;">{e(title)}</h1>',
        para(f"{len(portfolio.rows)} plans &middot; status date <b>{day(when, True)}</b>"),
        _counts(portfolio),
        section("Plans", plans, "Reddest first. Late: overdue actions and open Critical or High issues."),
        left_out,
    ))
    return ("<!DOCTYPE html>\n"
            f'<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{e(title)}</title></head>'
            f'<body style="margin:0;padding:0;background:#ffffff;">'
            f'<div style="max-width:960px;margin:0 auto;padding:12px;{FONT};color:#1f2937;font-size:14px;'
            f'line-height:1.4;">{body}</div></body></html>\n')


def write_pdf(portfolio: Portfolio, path: str | os.PathLike[str]) -> Path:
    """The portfolio page printed by headless Chromium (raises ``ChromiumError`` without one)."""
    from wbs_tools.reports import html_to_pdf

    return html_to_pdf(render_html(portfolio), path)


def run_portfolio_cli(paths: Sequence[Path], *, output: Path, html_path: Path | None, pdf_path: Path | None,
                      recursive: bool, jobs: int | None, executor: str, status_date: dt.datetime | None,
                      console: Console) -> int:
    """``wbs portfolio DIR -o PORTFOLIO.xlsx``: read every plan, write the outputs; 2 if a plan failed."""
    from wbs_tools.batch.runner import ExecutorError
    from wbs_tools.reports import ChromiumError

    columns = (TextColumn("[bold]reading plans"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("portfolio", total=None)
        try:
            portfolio = build_portfolio(paths, recursive=recursive, jobs=jobs or os.cpu_count() or 1,
                                        executor=executor, status_date=status_date,
                                        on_start=lambda total: progress.update(task, total=total),
                                        on_result=lambda _row: progress.update(task, advance=1))
        except ExecutorError as exc:
            console.print(f"[red]cannot run:[/red] {exc}", highlight=False)
            return 2
    try:
        written = [write_xlsx(portfolio, output)]
        if html_path is not None:
            html_path.parent.mkdir(parents=True, exist_ok=True)
            written.append(replace_file(html_path, render_html(portfolio).encode("utf-8")))
        if pdf_path is not None:
            written.append(write_pdf(portfolio, pdf_path))
    except (OSError, ChromiumError) as exc:
        console.print(f"[red]cannot write the portfolio:[/red] {exc}", highlight=False)
        return 2
    summary = Table("plans", *portfolio.rag_counts(), "not a plan", "failed", title="wbs portfolio",
                    title_justify="left")
    summary.add_row(str(len(portfolio.rows)), *map(str, portfolio.rag_counts().values()),
                    str(sum(r.outcome == "not-a-plan" for r in portfolio.excluded)),
                    str(sum(r.outcome == "failed" for r in portfolio.excluded)))
    console.print(summary)
    for row in (r for r in portfolio.excluded if r.outcome == "failed"):
        console.print(f"[red]failed[/red] {row.path}: {row.problem}", highlight=False)
    for path in written:
        console.print(f"Wrote {path}", highlight=False)
    return 2 if any(r.outcome == "failed" for r in portfolio.excluded) else 0

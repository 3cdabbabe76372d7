"""The ``wbs`` command. It only wires the use cases in ``wbs_tools.api`` to the terminal."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from wbs_tools.api import ScheduleRun, UnsupportedFileError, schedule_file
from wbs_tools.core.findings import Finding, Severity
from wbs_tools.core.parsing import InputError, parse_date

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Critical-path scheduling and status for Excel plan workbooks and MS Project XML.")
console = Console()


def _show_version(shown: bool) -> None:
    if shown:
        from wbs_tools import COMPILED, __version__

        engine = "compiled" if COMPILED else "interpreted: pip install . compiles it"
        typer.echo(f"wbs_tools {__version__} (engine {engine})")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[bool, typer.Option("--version", callback=_show_version, is_eager=True,
                                          help="the version, and whether the engine runs compiled")] = False,
) -> None:
    """wbs_tools: recompute plan workbooks and Microsoft Project XML.

    Exit codes: 0 done; 1 done, but the plan has findings of error severity; 2 a file could not be
    processed (unreadable, locked by Excel, not a plan).
    """


EXIT_OK, EXIT_FINDINGS, EXIT_FAILED = 0, 1, 2


def _date_option(text: str | None) -> dt.datetime | None:
    if text is None:
        return None
    try:
        return parse_date(text, day_first=None, default_minute=17 * 60)
    except InputError as exc:
        raise typer.BadParameter(str(exc)) from None


def _print_findings(findings: list[Finding], shown: int) -> None:
    """Findings grouped by sheet (or by task for XML plans), errors first."""
    groups: dict[str, list[Finding]] = {}
    for f in findings:
        where = (f.location or "").split("!")[0] if f.location and "!" in f.location else "plan"
        groups.setdefault(where, []).append(f)
    printed = 0
    for where, items in groups.items():
        console.print(f"  [bold]{where}[/bold] ({len(items)})")
        for f in sorted(items, key=lambda f: f.severity is not Severity.ERROR):
            if printed >= shown:
                console.print(f"  ... and {len(findings) - printed} more (see the Check sheet)")
                return
            colour = "red" if f.severity is Severity.ERROR else "yellow"
            console.print(f"    [{colour}]{f.severity.value}[/{colour}] {f}", highlight=False)
            printed += 1


def _summary(run: ScheduleRun, shown: int = 15) -> None:
    s = run.schedule
    leaves = [t for t in s.tasks if not t.summary]
    critical = [t for t in leaves if t.critical]
    console.print(f"[bold]{run.plan.settings.project_name or 'Plan'}[/bold]: {len(leaves)} tasks, "
                  f"{sum(t.summary for t in s.tasks)} summaries, {len(s.links)} links")
    if s.project_finish:
        console.print(f"Project finish: [bold]{s.project_finish:%a %Y-%m-%d %H:%M}[/bold]")
    console.print(f"Critical tasks: {len(critical)}")
    errors = [f for f in run.findings if f.severity is Severity.ERROR]
    console.print(f"Findings: {len(run.findings)} ({len(errors)} errors)")
    if run.findings:
        table = Table("severity", "where", "message", show_lines=False)
        for f in run.findings[:shown]:
            table.add_row(f.severity.value, f.location or (f"task {f.task_id}" if f.task_id else ""), f.message)
        console.print(table)
        if len(run.findings) > shown:
            console.print(f"... and {len(run.findings) - shown} more")


@app.command("schedule")
def schedule_command(
    plan: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="MSPDI (.xml) plan or plan workbook")],
    output: Annotated[Path | None, typer.Option("-o", "--output", help="write MSPDI with the computed fields")] = None,
) -> None:
    """Schedule a plan and print a summary; with -o, write MSPDI with the computed dates and slack."""
    try:
        run = schedule_file(plan)
    except (UnsupportedFileError, ValueError, OSError) as exc:
        console.print(f"[red]cannot schedule {plan}:[/red] {exc}")
        raise typer.Exit(2) from None
    _summary(run)
    if output is not None:
        from wbs_tools.mspdi.writer import write_mspdi

        source = plan if plan.suffix.lower() == ".xml" else None
        write_mspdi(run.schedule, output, source=source)
        console.print(f"Wrote {output}")


@app.command("new")
def new_command(
    plan: Annotated[Path, typer.Argument(help="the workbook to create: .xlsx, or .xlsm with the Excel buttons")],
    sample: Annotated[bool, typer.Option("--sample", help="fill it with the sample data-migration plan")] = False,
    force: Annotated[bool, typer.Option("--force", help="overwrite an existing file")] = False,
) -> None:
    """Create a plan workbook from the template (or the sample plan), already computed.

    An .xlsm workbook carries buttons that recompute the plan, flag overdue actions and export the status
    from inside Excel (docs/excel.md); it needs the excel extra: pip install 'wbs_tools[excel]'.
    """
    from wbs_tools.refresh import refresh_workbook
    from wbs_tools.workbook.sample import sample_plan, sample_registers
    from wbs_tools.workbook.template import build_workbook, macro_codenames

    if plan.exists() and not force:
        console.print(f"[red]{plan} exists[/red]; use --force to overwrite it")
        raise typer.Exit(EXIT_FAILED)
    vba: bytes | None = None
    if plan.suffix.lower() == ".xlsm":
        from wbs_tools.excel.vba_project import build_macro_project

        try:
            vba = build_macro_project(macro_codenames())
        except (ModuleNotFoundError, RuntimeError) as exc:  # xlwings missing, or its VBA module not its own
            console.print(f"[red]cannot add the Excel buttons:[/red] {exc}")
            raise typer.Exit(EXIT_FAILED) from None
    plan.parent.mkdir(parents=True, exist_ok=True)
    if sample:
        build_workbook(plan, plan=sample_plan(), registers=sample_registers(), macro_enabled=vba is not None,
                       vba_project=vba)
        refresh_workbook(plan, backup=False)
    else:
        build_workbook(plan, macro_enabled=vba is not None, vba_project=vba)
    console.print(f"Created {plan}")


@app.command("refresh")
def refresh_command(
    plans: Annotated[list[Path], typer.Argument(exists=True, help="plan workbooks, or folders of them")],
    status_date: Annotated[str | None, typer.Option("--status-date", help="e.g. 2026-02-27")] = None,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="write here instead (one plan)")] = None,
    no_backup: Annotated[bool, typer.Option("--no-backup", help="do not keep the previous version")] = False,
    shown: Annotated[int, typer.Option("--show", help="findings to print per file")] = 20,
    recursive: Annotated[bool, typer.Option("--recursive", "-r", help="folders: include subfolders")] = False,
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", min=1, help="folders: parallel processes")] = None,
    report: Annotated[Path | None, typer.Option("--report", help="folders: run report (.json or .csv)")] = None,
    executor: Annotated[str, typer.Option("--executor", help="folders: local or dask://HOST:PORT")] = "local",
    force: Annotated[bool, typer.Option("--force", help="folders: recompute plans that did not change")] = False,
) -> None:
    """Recompute plan workbooks in place: computed columns, Check sheet; nothing you typed changes.

    Given a folder, refreshes every plan workbook in it (see docs/scheduling.md): in parallel, skipping
    plans that did not change since their last refresh; exit code 2 when any file failed.
    """
    from wbs_tools.refresh import Outcome, refresh_workbook

    if any(path.is_dir() for path in plans):
        from wbs_tools.batch.report import run_refresh_cli

        if output is not None:
            raise typer.BadParameter("--output takes one plan, not a folder")
        raise typer.Exit(run_refresh_cli(plans, recursive=recursive, jobs=jobs, status_date=_date_option(status_date),
                                         report_path=report, executor=executor, backup=not no_backup, force=force,
                                         console=console))
    if output is not None and len(plans) != 1:
        raise typer.BadParameter("--output takes exactly one plan")
    when = _date_option(status_date)
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
    code = EXIT_OK
    for path in plans:
        result = refresh_workbook(path, output=output, status_date=when, backup=not no_backup)
        if result.outcome in (Outcome.LOCKED, Outcome.FAILED):
            console.print(f"[red]{path}: {result.outcome.value}[/red] - {result.message}", highlight=False)
            code = EXIT_FAILED
            continue
        finish = result.schedule.project_finish if result.schedule else None
        written = result.write.cells_written if result.write else 0
        console.print(f"{path}: {result.outcome.value}, {written} cells, finish "
                      f"{finish:%Y-%m-%d %H:%M}, {len(result.findings)} findings ({result.errors} errors)"
                      if finish else f"{path}: {result.outcome.value}", highlight=False)
        _print_findings(result.findings, shown)
        if result.errors and code == EXIT_OK:
            code = EXIT_FINDINGS
    raise typer.Exit(code)


@app.command("check")
def check_command(
    plan: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="plan workbook or MSPDI file")],
    as_json: Annotated[bool, typer.Option("--json", help="findings as JSON on stdout")] = False,
) -> None:
    """List the plan's findings; writes nothing."""
    import json

    try:
        run = schedule_file(plan)
    except (UnsupportedFileError, ValueError, OSError) as exc:
        console.print(f"[red]cannot read {plan}:[/red] {exc}")
        raise typer.Exit(EXIT_FAILED) from None
    if as_json:
        rows = [{"severity": f.severity.value, "code": f.code, "location": f.location, "task_id": f.task_id,
                 "field": f.field, "message": f.message, "hint": f.hint} for f in run.findings]
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
    else:
        console.print(f"{plan}: {len(run.findings)} findings")
        _print_findings(run.findings, 10_000)
    raise typer.Exit(EXIT_FINDINGS if any(f.severity is Severity.ERROR for f in run.findings) else EXIT_OK)


@app.command("actions")
def actions_command(
    plan: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="plan workbook")],
    overdue: Annotated[bool, typer.Option("--overdue", help="only actions past their due date")] = False,
    owner: Annotated[str | None, typer.Option("--owner", help="only this owner's actions")] = None,
    status_date: Annotated[str | None, typer.Option("--status-date", help="e.g. 2026-02-27")] = None,
) -> None:
    """The follow-up list for the weekly call: open actions by owner, most overdue first."""
    from wbs_tools.core.registers import evaluate_actions, follow_up
    from wbs_tools.refresh import compute, project_calendar
    from wbs_tools.workbook.layout import ACTIONS
    from wbs_tools.workbook.reader import read_workbook

    try:
        data = read_workbook(plan)
    except (ValueError, OSError) as exc:
        console.print(f"[red]cannot read {plan}:[/red] {exc}")
        raise typer.Exit(EXIT_FAILED) from None
    computed = compute(data, status_date=_date_option(status_date), today=dt.date.today())
    when = data.plan.settings.status_date or dt.datetime.now()
    report = evaluate_actions(data.registers.get(ACTIONS.name, []), status_date=when.date(),
                              calendar=project_calendar(data.plan), schedule=computed.schedule, locate=data.locate)
    items = follow_up(report.items, owner=owner, overdue_only=overdue)
    table = Table("owner", "ID", "action", "due", "overdue (wd)", "blocked by", "blocks critical", title=(
        f"Open actions at {when:%a %d %b %Y}" + (f" for {owner}" if owner else "")))
    for a in items:
        table.add_row(a.owner, a.id, a.action, f"{a.due_date:%d %b}" if a.due_date else "",
                      str(a.days_overdue or ""), ", ".join(a.blocked_by), "yes" if a.blocks_critical else "")
    console.print(table)
    console.print(f"{len(items)} actions; {sum(1 for a in items if a.days_overdue)} overdue")


@app.command("status")
def status_command(
    plan: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="plan workbook")],
    html: Annotated[Path | None, typer.Option("--html", help="write the e-mail-ready HTML report")] = None,
    pdf: Annotated[Path | None, typer.Option("--pdf", help="write the report as PDF (needs Chromium)")] = None,
    png: Annotated[Path | None, typer.Option("--png", help="write the Gantt chart picture")] = None,
    status_date: Annotated[str | None, typer.Option("--status-date", help="e.g. 2026-02-27")] = None,
) -> None:
    """Refresh the plan (Status tab and history included) and write the weekly status report."""
    from importlib.util import find_spec

    from wbs_tools.refresh import Outcome, refresh_workbook

    if png is not None and find_spec("matplotlib") is None:  # said before the plan is touched
        console.print("[red]--png draws with matplotlib, which is not installed:[/red] "
                      "pip install 'wbs_tools\\[report]'")  # \\[ is a bracket, not markup
        raise typer.Exit(EXIT_FAILED)
    result = refresh_workbook(plan, status_date=_date_option(status_date))
    if result.outcome in (Outcome.LOCKED, Outcome.FAILED) or result.status is None or result.schedule is None:
        console.print(f"[red]{plan}: {result.outcome.value}[/red] {result.message or 'no status date'}")
        raise typer.Exit(EXIT_FAILED)
    report = result.status
    console.print(f"{plan}: overall [bold]{report.overall.rag.value}[/bold] at {report.status_date:%a %d %b %Y}")
    for area in report.areas:
        console.print(f"  {area.area}: {area.rag.value}" + (f" - {'; '.join(area.reasons)}" if area.reasons else ""))
    for line in report.narrative:
        console.print(f"  {line}", highlight=False)
    if html is not None:
        from wbs_tools.reports.html import render_html

        html.write_text(render_html(report), encoding="utf-8")
        console.print(f"Wrote {html}")
    if pdf is not None:
        from wbs_tools.reports.pdf import render_pdf

        render_pdf(report, pdf)
        console.print(f"Wrote {pdf}")
    if png is not None:
        from wbs_tools.reports.gantt import render_gantt_png

        render_gantt_png(result.schedule, png, status_date=report.status_date)
        console.print(f"Wrote {png}")


@app.command("import")
def import_command(
    source: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="MSPDI (.xml) or CSV task list")],
    output: Annotated[Path, typer.Option("-o", "--output", help="the workbook to create (.xlsx)")],
    start: Annotated[str | None, typer.Option("--start", help="project start, e.g. 2026-03-02")] = None,
    date_order: Annotated[str | None, typer.Option("--date-order", help="CSV text dates: YMD, DMY or MDY")] = None,
    force: Annotated[bool, typer.Option("--force", help="overwrite an existing workbook")] = False,
    shown: Annotated[int, typer.Option("--show", help="findings to print")] = 20,
) -> None:
    """Make a plan workbook from MS Project XML or a CSV export (Smartsheet, Jira...), already computed."""
    from wbs_tools.interchange import InterchangeError, import_plan

    try:
        result = import_plan(source, output, start=_date_option(start), date_order=date_order, force=force)
    except InterchangeError as exc:
        console.print(f"[red]cannot import {source}:[/red] {exc}", highlight=False)
        raise typer.Exit(EXIT_FAILED) from None
    refreshed = result.refresh
    finish = refreshed.schedule.project_finish if refreshed and refreshed.schedule else None
    console.print(f"Created {output} from {result.kind.upper()} {source}: {len(result.plan.tasks)} tasks, "
                  f"{len(result.plan.links)} links" + (f", finish {finish:%Y-%m-%d %H:%M}" if finish else ""),
                  highlight=False)
    _print_findings(result.findings + (refreshed.findings if refreshed else []), shown)
    raise typer.Exit(EXIT_FINDINGS if result.errors else EXIT_OK)


@app.command("export")
def export_command(
    plan: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="plan workbook or MSPDI file")],
    output: Annotated[Path, typer.Option("-o", "--output", help="OUT.xml (MSPDI) or OUT.csv")],
    kind: Annotated[str | None, typer.Option("--format", help="mspdi or csv (default: by extension)")] = None,
) -> None:
    """Schedule a plan and write it for other tools: MSPDI with computed fields, or CSV with every column."""
    from wbs_tools.interchange import InterchangeError, export_plan

    try:
        result = export_plan(plan, output, kind=kind)
    except InterchangeError as exc:
        console.print(f"[red]cannot export {plan}:[/red] {exc}", highlight=False)
        raise typer.Exit(EXIT_FAILED) from None
    console.print(f"Wrote {output} ({result.kind}): {len(result.run.plan.tasks)} tasks; "
                  f"{len(result.run.findings)} findings ({result.errors} errors)", highlight=False)
    raise typer.Exit(EXIT_FINDINGS if result.errors else EXIT_OK)


@app.command("adopt")
def adopt_command(
    workbook: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="your workbook (.xlsx/.xlsm)")],
    output: Annotated[Path | None, typer.Option("-o", "--output", help="write here instead")] = None,
    no_backup: Annotated[bool, typer.Option("--no-backup", help="do not keep the previous version")] = False,
) -> None:
    """Add the wbs_tools sheets to an existing workbook; nothing already in it changes."""
    from wbs_tools.interchange import AdoptOutcome, adopt_workbook

    result = adopt_workbook(workbook, output=output, backup=not no_backup)
    if result.outcome in (AdoptOutcome.LOCKED, AdoptOutcome.REFUSED):
        console.print(f"[red]{workbook}: {result.outcome.value}[/red] - {result.message}", highlight=False)
        raise typer.Exit(EXIT_FAILED)
    if result.added:
        console.print(f"{result.path}: added {', '.join(result.added)}", highlight=False)
    else:
        console.print(f"{result.path}: already has every wbs_tools sheet", highlight=False)
    if result.kept and result.added:
        console.print(f"  kept your sheets: {', '.join(result.kept)}", highlight=False)
    for text in (*result.conflicts, *result.notes):
        console.print(f"  [yellow]note[/yellow] {text}", highlight=False)
    if result.added:
        console.print(f"Type your tasks on the Tasks sheet, then run: wbs refresh {result.path}", highlight=False)
    raise typer.Exit(EXIT_OK)


@app.command("portfolio")
def portfolio_command(
    folders: Annotated[list[Path], typer.Argument(exists=True, help="folders of plan workbooks (or plans)")],
    output: Annotated[Path, typer.Option("-o", "--output", help="the portfolio workbook to write")],
    html: Annotated[Path | None, typer.Option("--html", help="also write the e-mail HTML page")] = None,
    pdf: Annotated[Path | None, typer.Option("--pdf", help="also write a PDF (needs Chromium)")] = None,
    status_date: Annotated[str | None, typer.Option("--status-date", help="e.g. 2026-02-27")] = None,
    recursive: Annotated[bool, typer.Option("--recursive", "-r", help="include subfolders")] = False,
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", min=1, help="parallel processes")] = None,
    executor: Annotated[str, typer.Option("--executor", help="local or dask://HOST:PORT")] = "local",
) -> None:
    """One row per plan (RAG, % complete, finish against baseline, overdue actions, high issues, next
    milestone) as a workbook, and optionally as the status report's HTML and PDF; writes no plan."""
    from wbs_tools.batch.portfolio_report import run_portfolio_cli

    raise typer.Exit(run_portfolio_cli(folders, output=output, html_path=html, pdf_path=pdf, recursive=recursive,
                                       jobs=jobs, executor=executor, status_date=_date_option(status_date),
                                       console=console))


if __name__ == "__main__":  # pragma: no cover
    app()

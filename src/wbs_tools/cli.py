"""The ``wbs`` command. It only wires the use cases in ``wbs_tools.api`` to the terminal."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from wbs_tools.api import ScheduleRun, UnsupportedFileError, schedule_file
from wbs_tools.core.findings import Severity

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Critical-path scheduling and status for Excel plan workbooks and MS Project XML.")
console = Console()


@app.callback()
def _main() -> None:
    """wbs_tools: recompute plan workbooks and Microsoft Project XML."""


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


if __name__ == "__main__":  # pragma: no cover
    app()

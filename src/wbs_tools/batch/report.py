"""The run report of a batch refresh: counts, one record per file, JSON/CSV for the scheduler's logs.

The report is the contract with whatever runs the job unattended (cron, a systemd timer, Task
Scheduler, a CI pipeline): its ``counts`` and ``exit_code`` say whether to alert, its ``files`` say
which plan and why. Files are sorted by path and carry no host or worker detail, so a run on a Dask
cluster reports exactly what a local run reports (only ``seconds`` and the run header differ).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from wbs_tools import COMPILED, __version__
from wbs_tools.files import replace_file

if TYPE_CHECKING:
    from wbs_tools.batch.runner import FileRecord

EXIT_OK, EXIT_FINDINGS, EXIT_FAILED = 0, 1, 2
OUTCOMES = ("refreshed", "unchanged", "locked", "not-a-plan", "failed")
CSV_COLUMNS = ("path", "outcome", "message", "tasks", "findings", "errors", "finish", "cached", "attempts", "seconds")
SHOWN_PROBLEMS = 50  # files listed under the final table; the report file lists them all
_STYLE = {"refreshed": "green", "unchanged": "cyan", "locked": "yellow", "not-a-plan": "dim", "failed": "red"}
_LABEL = {"refreshed": "refreshed", "unchanged": "unchanged (up to date)", "locked": "skipped: open in Excel / locked",
          "not-a-plan": "skipped: not a plan workbook", "failed": "failed"}


@dataclass
class BatchReport:
    """What a run did to every file it found."""

    records: list[FileRecord]
    roots: list[str] = field(default_factory=list)
    status_date: str | None = None
    executor: str = "local"
    jobs: int = 1
    started: str = ""
    seconds: float = 0.0

    @property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(OUTCOMES, 0)
        for record in self.records:
            counts[record.outcome] = counts.get(record.outcome, 0) + 1
        counts["total"] = len(self.records)
        counts["plans_with_errors"] = sum(r.errors > 0 and r.outcome in ("refreshed", "unchanged")
                                          for r in self.records)
        return counts

    @property
    def exit_code(self) -> int:
        """2 when a file failed; else 1 when a plan has error findings; else 0. Skips are not failures."""
        counts = self.counts
        return EXIT_FAILED if counts["failed"] else EXIT_FINDINGS if counts["plans_with_errors"] else EXIT_OK

    def files(self) -> list[dict[str, Any]]:
        return [{k: v for k, v in asdict(r).items() if k in CSV_COLUMNS} for r in self.records]

    def to_dict(self) -> dict[str, Any]:
        return {
            "tool": "wbs_tools", "version": __version__, "compiled": COMPILED, "roots": self.roots,
            "status_date": self.status_date, "executor": self.executor, "jobs": self.jobs, "started": self.started,
            "seconds": self.seconds,
            "plans_per_second": round(self.counts["total"] / self.seconds, 2) if self.seconds else None,
            "counts": self.counts, "exit_code": self.exit_code, "files": self.files(),
        }

    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.files())
        return out.getvalue()

    def write(self, path: str | os.PathLike[str]) -> Path:
        """Write the report as JSON or CSV (by the suffix), atomically: a log reader never sees half."""
        target = Path(path)
        suffix = target.suffix.lower()
        if suffix not in (".json", ".csv"):
            raise ValueError(f"the report must be a .json or .csv file, not {target.name}")
        text = json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n" if suffix == ".json" else self.to_csv()
        replace_file(target, text.encode("utf-8"))
        return target


def summary_table(report: BatchReport) -> Table:
    """Files per outcome, as the terminal and the scheduler's mail show it."""
    counts = report.counts
    table = Table("outcome", "files", title=f"wbs refresh: {counts['total']} workbooks in {report.seconds:.1f} s",
                  title_justify="left")
    for outcome in OUTCOMES:
        style = _STYLE[outcome] if counts[outcome] else "dim"
        table.add_row(f"[{style}]{_LABEL[outcome]}[/{style}]", f"[{style}]{counts[outcome]}[/{style}]")
    if counts["plans_with_errors"]:
        table.add_row("[yellow]plans with error findings (see their Check sheet)[/yellow]",
                      f"[yellow]{counts['plans_with_errors']}[/yellow]")
    return table


def problems_table(report: BatchReport, limit: int = SHOWN_PROBLEMS) -> Table | None:
    """The files someone has to look at: failed ones with the reason, then locked ones."""
    rows = [r for r in report.records if r.outcome == "failed"] + [r for r in report.records if r.outcome == "locked"]
    if not rows:
        return None
    table = Table("file", "outcome", "reason", title="Needs attention", title_justify="left")
    for record in rows[:limit]:
        style = _STYLE[record.outcome]
        table.add_row(record.path, f"[{style}]{record.outcome}[/{style}]", record.message)
    if len(rows) > limit:
        table.add_row(f"... and {len(rows) - limit} more (see the run report)", "", "")
    return table


def run_refresh_cli(paths: Sequence[Path], *, recursive: bool, jobs: int | None, status_date: dt.datetime | None,
                    report_path: Path | None, executor: str, backup: bool, force: bool, console: Console) -> int:
    """``wbs refresh DIR``: the run with a live progress bar, the final tables, the report; the exit code."""
    from wbs_tools.batch.runner import ExecutorError, refresh_paths

    if report_path is not None and report_path.suffix.lower() not in (".json", ".csv"):
        console.print(f"[red]--report must name a .json or .csv file[/red], not {report_path}", highlight=False)
        return EXIT_FAILED
    workers = jobs or os.cpu_count() or 1
    columns = (TextColumn("[bold]refreshing"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[last]}"),
               TimeElapsedColumn(), TimeRemainingColumn())
    # a bar nobody sees (cron, a pipe) would still be redrawn ten times a second: only on a terminal
    with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as progress:
        task = progress.add_task("refresh", total=None, last="")

        def advance(record: FileRecord) -> None:
            progress.update(task, advance=1, last=f"{record.outcome}: {Path(record.path).name}")

        try:
            report = refresh_paths(paths, recursive=recursive, jobs=workers, status_date=status_date,
                                   executor=executor, backup=backup, force=force,
                                   on_start=lambda total: progress.update(task, total=total), on_result=advance)
        except ExecutorError as exc:
            console.print(f"[red]cannot run:[/red] {exc}", highlight=False)
            return EXIT_FAILED
    console.print(summary_table(report))
    problems = problems_table(report)
    if problems is not None:
        console.print(problems)
    if report_path is not None:
        try:
            console.print(f"Run report: {report.write(report_path)}", highlight=False)
        except (OSError, ValueError) as exc:
            console.print(f"[red]cannot write the run report:[/red] {exc}", highlight=False)
            return EXIT_FAILED
    return report.exit_code

"""Findings: bad input reported as data, never as an exception.

Every problem in a plan (a typo in a cell, a link to a task that does not exist, a loop) becomes a
``Finding`` with a stable ``code``, a severity, a message a project manager understands and where it
is (the task and field, and the cell when the plan came from a workbook). The registry below is the
one list of codes; ``docs/findings.md`` is generated from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from wbs_tools.core.frozen import copied_by_fields


class Severity(str, Enum):
    ERROR = "error"  # the value was ignored; the plan is wrong until it is fixed
    WARNING = "warning"  # a default or a guess was applied
    INFO = "info"


@dataclass(frozen=True)
class Finding:
    code: str
    severity: Severity
    message: str
    task_id: int | None = None
    field: str | None = None
    location: str | None = None  # e.g. "Tasks!F12"
    hint: str | None = None

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location else ""
        return f"{where}{self.message}"


#: code -> (default severity, what it means); one place, rendered into docs/findings.md.
FINDING_CODES: dict[str, tuple[Severity, str]] = {
    "task.duplicate-id": (Severity.ERROR, "Two tasks share one ID; the later one is ignored for links."),
    "task.bad-id": (Severity.ERROR, "A task ID is not a whole number."),
    "task.no-id": (Severity.WARNING, "A task row has no ID; one was assigned."),
    "task.bad-duration": (Severity.ERROR, "A duration could not be read; 1 day was assumed."),
    "task.negative-duration": (Severity.ERROR, "A negative duration; 0 was used."),
    "task.bad-date": (Severity.ERROR, "A date could not be read; it was ignored."),
    "task.ambiguous-date": (Severity.ERROR, "A date reads both day-first and month-first; it was ignored."),
    "task.bad-percent": (Severity.ERROR, "% complete is not a number between 0 and 100; 0 was used."),
    "task.bad-constraint": (Severity.ERROR, "Unknown constraint type; As Soon As Possible was used."),
    "task.constraint-date-missing": (Severity.ERROR, "A constraint needs a date; it was ignored."),
    "task.actual-finish-before-start": (Severity.ERROR, "Actual finish is before actual start."),
    "task.wbs-mismatch": (Severity.WARNING, "The typed WBS code differs from the outline position."),
    "task.bad-outline": (Severity.WARNING, "An outline level jumps more than one level; it was capped."),
    "task.unknown-calendar": (Severity.ERROR, "The task names a calendar that does not exist."),
    "link.unknown-task": (Severity.ERROR, "A link names a task ID that does not exist; it was ignored."),
    "link.self": (Severity.ERROR, "A task is linked to itself; the link was ignored."),
    "link.bad-syntax": (Severity.ERROR, "A predecessor entry could not be read; it was ignored."),
    "link.duplicate": (Severity.WARNING, "The same link is given twice with different type or lag."),
    "link.mirror-edited": (Severity.WARNING, "A Dependencies row mirrored from Predecessors was edited; "
                           "the edit was not used."),
    "link.summary-to-child": (Severity.ERROR, "A summary is linked to one of its own subtasks."),
    "graph.cycle": (Severity.ERROR, "Tasks depend on each other in a loop; links inside it were ignored."),
    "calendar.no-working-time": (Severity.ERROR, "A calendar has no working time; Standard was used."),
    "calendar.unknown-country": (Severity.ERROR, "Public holidays are not known for that country."),
    "schedule.deadline-missed": (Severity.WARNING, "A task finishes after its deadline."),
    "schedule.constraint-conflict": (Severity.WARNING, "A constraint date beats a link (negative slack)."),
    "schedule.date-out-of-range": (Severity.ERROR, "A date is outside the years wbs_tools schedules."),
    "settings.bad-value": (Severity.ERROR, "A setting could not be read; its default was used."),
    "settings.no-start": (Severity.WARNING, "The plan has no start date; the earliest date found was used."),
    "sheet.not-found": (Severity.ERROR, "The workbook has no Tasks sheet (by name or by header); no task was read."),
    "sheet.no-header": (Severity.ERROR, "A table's header row was not found in its sheet's first rows; not read."),
    "sheet.missing-column": (Severity.ERROR, "A required column is missing from a table; the rest was read."),
    "sheet.full": (Severity.WARNING, "A sheet wbs_tools fills reached Excel's last row (the Dependencies mirror, "
                   "the status snapshot); what did not fit is left out and said in the message."),
    "sheet.truncated": (Severity.ERROR, "A sheet's used range is too large (a stray value far away); only its "
                        "top rows were read."),
    "cell.excel-error": (Severity.ERROR, "A cell shows an Excel error such as #REF!; it was treated as empty."),
    "cell.bad-value": (Severity.ERROR, "A cell could not be read (a cost, a level, a working time...); ignored."),
    "row.ignored": (Severity.WARNING, "A row has values but neither an ID nor a task name; it was skipped."),
    "sheet.table-ends": (Severity.WARNING, "A row in the task table reads as another table's header (a list of "
                         "links typed below the tasks); the task table ends above it."),
    "settings.no-status-date": (Severity.INFO, "No status date in Settings; the day of the refresh was used."),
    "action.duplicate-id": (Severity.ERROR, "Two actions share one ID; 'Waits on' uses the first."),
    "action.unknown-wait": (Severity.ERROR, "An action waits on an action ID that does not exist."),
    "action.wait-cycle": (Severity.ERROR, "Actions wait on each other in a loop; none of them can start."),
    "action.unknown-task": (Severity.WARNING, "'Needed by' names a task ID that is not in the plan."),
    "action.bad-status": (Severity.WARNING, "An action status was not recognised; Open was assumed."),
    "action.bad-date": (Severity.ERROR, "A date in the action items could not be read; it was ignored."),
    "action.done-date-not-done": (Severity.WARNING, "A done date is typed but the status is not Done."),
    "action.done-without-date": (Severity.WARNING, "An action is Done without a done date."),
    "issue.duplicate-id": (Severity.ERROR, "Two issues share one ID; reopen tracking uses the first."),
    "issue.unknown-task": (Severity.WARNING, "An issue's 'Where' names a task ID that is not in the plan."),
    "issue.bad-status": (Severity.WARNING, "An issue status was not recognised; Open was assumed."),
    "issue.bad-severity": (Severity.WARNING, "An issue severity was not recognised; no SLA applies."),
    "issue.bad-date": (Severity.ERROR, "A date in the issue log could not be read; it was ignored."),
    "issue.no-reported-on": (Severity.WARNING, "An open issue has no 'Reported on'; its age and SLA are unknown."),
    "issue.future-report": (Severity.WARNING, "'Reported on' is after the status date."),
    "issue.resolved-date-open": (Severity.WARNING, "'Resolved on' is typed but the status is not Resolved/Closed."),
    "issue.resolved-without-date": (Severity.WARNING, "An issue is Resolved/Closed without 'Resolved on'."),
    "issue.resolved-before-reported": (Severity.ERROR, "'Resolved on' is before 'Reported on'."),
    "requirement.duplicate-id": (Severity.ERROR, "Two requirements share one ID; changes track the first."),
    "requirement.no-id": (Severity.WARNING, "A requirement has no ID, so its changes cannot be logged."),
    "requirement.unknown-task": (Severity.WARNING, "'Linked tasks' names a task ID that is not in the plan."),
    "signoff.unknown-item": (Severity.ERROR, "A sign-off names neither a requirement nor a task."),
    "signoff.bad-result": (Severity.WARNING, "A sign-off result was not recognised; not accepted."),
    "signoff.bad-date": (Severity.ERROR, "A sign-off date could not be read; it was ignored."),
    "signoff.no-date": (Severity.WARNING, "A sign-off has no date, so later changes cannot be told apart."),
    "signoff.future-date": (Severity.WARNING, "A sign-off is dated after the status date."),}


def make_finding(
    code: str,
    message: str,
    *,
    task_id: int | None = None,
    field: str | None = None,
    location: str | None = None,
    hint: str | None = None,
    severity: Severity | None = None,
) -> Finding:
    """Build a finding for a registered code (its severity comes from the registry)."""
    default, _ = FINDING_CODES[code]
    return Finding(code, severity or default, message, task_id, field, location, hint)


def findings_markdown() -> str:
    """The reference page of finding codes (``docs/findings.md``), generated from the registry."""
    lines = [
        "# Findings",
        "",
        "Every problem wbs_tools sees in a plan is reported as a finding: a stable code, a severity, the",
        "cell or element it comes from, and a message. The plan still computes; nothing you typed is",
        "changed. This page is generated from `wbs_tools.core.findings.FINDING_CODES`.",
        "",
        "| code | severity | meaning |",
        "|---|---|---|",
    ]
    for code, (severity, meaning) in sorted(FINDING_CODES.items()):
        lines.append(f"| `{code}` | {severity.value} | {meaning} |")
    return "\n".join(lines) + "\n"


copied_by_fields(__name__)

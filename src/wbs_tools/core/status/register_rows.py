"""The register rows a status report quotes: actions, issues, requirement changes and sign-offs.

Input is what the workbook reader produces (rows keyed by the layout's column keys, under the sheet
name). The registers package does the reading and the arithmetic (overdue and age in working days,
SLA breach, blockers, sign-offs voided by later changes) exactly as the register sheets show it; this
module only turns its records into the report's smaller lines, so the report and the sheets never
disagree about what is late.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from wbs_tools.core.calendar import WorkCalendar
from wbs_tools.core.findings import Finding
from wbs_tools.core.frozen import copied_by_fields
from wbs_tools.core.registers import (
    ActionItem,
    ActionReport,
    ChangeEntry,
    Issue,
    IssueReport,
    SignOff,
    SignOffReport,
    evaluate_actions,
    evaluate_issues,
    evaluate_signoffs,
    parse_change_log,
)
from wbs_tools.core.schedule import TaskSchedule
from wbs_tools.core.status.lines import ActionLine, ChangeLine, IssueLine, SignOffLine

ACTIONS_SHEET, ISSUES_SHEET, CHANGE_LOG_SHEET = "Action Items", "Issue Log", "Change Log"
SIGN_OFF_SHEET, REQUIREMENTS_SHEET = "Sign-off", "Requirements"
SEVERITIES = ("Critical", "High", "Medium", "Low")
Row = Mapping[str, object]
Registers = Mapping[str, Sequence[Row]]


@dataclass(frozen=True)
class RegisterView:
    """What the report uses from the four registers, and what the registers found wrong in the rows."""

    actions: tuple[ActionLine, ...] = ()
    issues: tuple[IssueLine, ...] = ()
    changes: tuple[ChangeLine, ...] = ()
    signoffs: tuple[SignOffLine, ...] = ()
    findings: tuple[Finding, ...] = ()


def action_line(item: ActionItem) -> ActionLine:
    return ActionLine(
        id=item.id, action=item.action, owner=item.owner, needed_by=item.needed_by,
        needed_by_task=item.needed_by_task, due_date=item.due_date, status=item.status.value,
        is_open=item.is_open, days_overdue=item.days_overdue, blocked_by=item.blocked_by,
        blocks_critical=item.blocks_critical)


def issue_line(issue: Issue) -> IssueLine:
    return IssueLine(
        id=issue.id, what=issue.what, severity=issue.severity.value if issue.severity is not None else "",
        status=issue.status.value, is_open=issue.is_open, owner=issue.owner, reported_on=issue.reported_on,
        where=issue.where, age_days=issue.age_days, sla_days=issue.sla_days, sla_breach=issue.sla_breach)


def change_line(entry: ChangeEntry) -> ChangeLine:
    return ChangeLine(entry.detected_on, entry.requirement_id, entry.field, entry.old_value, entry.new_value,
                      entry.decided_by)


def signoff_line(entry: SignOff) -> SignOffLine:
    return SignOffLine(entry.item_id, entry.validated_by, entry.date,
                       entry.result.value if entry.result is not None else "", entry.anomalies)


def read_registers(registers: Registers | None, *, status_date: dt.date, calendar: WorkCalendar,
                   tasks: Mapping[int, TaskSchedule], sla_days: Mapping[str, float]) -> RegisterView:
    """All four registers evaluated at ``status_date``; a missing sheet is an empty register."""
    registers = registers or {}
    actions = evaluate_actions(registers.get(ACTIONS_SHEET, ()), status_date=status_date, calendar=calendar,
                               schedule=tasks)
    issues = evaluate_issues(registers.get(ISSUES_SHEET, ()), status_date=status_date, calendar=calendar,
                             sla_days=sla_days, schedule=tasks)
    change_rows = registers.get(CHANGE_LOG_SHEET, ())
    signoffs = evaluate_signoffs(registers.get(SIGN_OFF_SHEET, ()), requirements=registers.get(REQUIREMENTS_SHEET, ()),
                                 change_log=change_rows, schedule=tasks, status_date=status_date)
    return register_view(actions, issues, change_rows, signoffs)


def register_view(actions: ActionReport, issues: IssueReport, change_rows: Iterable[Row | ChangeEntry],
                  signoffs: SignOffReport) -> RegisterView:
    """The report's view of registers already evaluated (a refresh evaluates them once, for both)."""
    return RegisterView(
        actions=tuple(action_line(a) for a in actions.items),
        issues=tuple(issue_line(i) for i in issues.items),
        changes=tuple(change_line(c) for c in parse_change_log(change_rows)),
        signoffs=tuple(signoff_line(s) for s in signoffs.entries),
        findings=(*actions.findings, *issues.findings, *signoffs.findings),
    )


copied_by_fields(__name__)

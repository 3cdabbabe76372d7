"""The four registers a customer sees and edits: action items, issue log, requirements, sign-off.

Pure functions over rows as the workbook reader produces them (dicts keyed by the layout's column
keys, with ``"_row"`` the sheet row), the plan calendar, the schedule and the status date. No Excel
and no clock: "today" is always the status date passed in, so a refresh is reproducible. Problems in
the rows come back as findings (codes in ``REGISTER_FINDING_CODES``), never as exceptions.
"""

from wbs_tools.core.registers.actions import (
    ActionItem,
    ActionReport,
    ActionStatus,
    evaluate_actions,
    follow_up,
    parse_action_status,
)
from wbs_tools.core.registers.cells import REGISTER_FINDING_CODES, Locate, template_locate
from wbs_tools.core.registers.issues import (
    DEFAULT_SLA_DAYS,
    Issue,
    IssueReport,
    IssueSeverity,
    IssueState,
    IssueStatus,
    evaluate_issues,
    format_issue_states,
    parse_issue_states,
    parse_issue_status,
    sla_table,
)
from wbs_tools.core.registers.requirements import (
    ADDED,
    DELETED,
    FIELDS,
    ChangeEntry,
    Requirement,
    RequirementsReport,
    canonical,
    capture_changes,
    last_changed,
    parse_change_log,
    parse_snapshot,
    read_requirements,
    snapshot_rows,
)
from wbs_tools.core.registers.signoff import (
    ItemKind,
    MissingSignOff,
    SignOff,
    SignOffReport,
    SignOffResult,
    evaluate_signoffs,
    parse_result,
)

__all__ = [
    "ADDED",
    "DEFAULT_SLA_DAYS",
    "DELETED",
    "FIELDS",
    "REGISTER_FINDING_CODES",
    "ActionItem",
    "ActionReport",
    "ActionStatus",
    "ChangeEntry",
    "Issue",
    "IssueReport",
    "IssueSeverity",
    "IssueState",
    "IssueStatus",
    "ItemKind",
    "Locate",
    "MissingSignOff",
    "Requirement",
    "RequirementsReport",
    "SignOff",
    "SignOffReport",
    "SignOffResult",
    "canonical",
    "capture_changes",
    "evaluate_actions",
    "evaluate_issues",
    "evaluate_signoffs",
    "follow_up",
    "format_issue_states",
    "last_changed",
    "parse_action_status",
    "parse_change_log",
    "parse_issue_states",
    "parse_issue_status",
    "parse_result",
    "parse_snapshot",
    "read_requirements",
    "sla_table",
    "snapshot_rows",
    "template_locate",
]

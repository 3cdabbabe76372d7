"""The one catalogue of the plan workbook: its sheets, tables, columns, drop-down lists and settings.

The reader, the writer, the template and ``docs/workbook.md`` all follow this module, so a column is
renamed or added here and nowhere else. Columns are matched by title or alias, ignoring case, spaces,
punctuation and a trailing unit such as "(d)", so a PM's own headers ("Pred.", "% Done") still work.
Every visible sheet has a title in row 1, a line of guidance in row 2 and its table header in row 3.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass
from enum import Enum

from wbs_tools.core.frozen import copied_by_fields
from wbs_tools.core.model import ConstraintType
from wbs_tools.core.parsing import format_constraint_type

DATE = "ddd dd-mmm-yy"
DATETIME = "ddd dd-mmm-yy hh:mm"
TIME = "hh:mm"
DAYS = "0.0"
WHOLE = "0"
MONEY = "#,##0"
PERCENT = "0%"

MAX_ROWS, MAX_COLUMNS = 1_048_576, 16_384  # the size of an Excel worksheet


class Kind(str, Enum):
    """Who fills a column: the person (INPUT) or wbs_tools on every refresh (COMPUTED)."""

    INPUT = "input"
    COMPUTED = "computed"


@dataclass(frozen=True)
class Column:
    """One table column; ``note`` becomes the header comment, ``choices`` a drop-down list name."""

    key: str
    title: str
    kind: Kind = Kind.INPUT
    aliases: tuple[str, ...] = ()
    width: float = 12
    number_format: str | None = None
    note: str = ""
    choices: str | None = None

    @property
    def computed(self) -> bool:
        return self.kind is Kind.COMPUTED


@dataclass(frozen=True)
class SheetLayout:
    """One Excel table on a sheet. ``owned`` sheets are rewritten whole by wbs_tools.

    Two layouts may share a sheet (Calendar holds the working week and the holidays side by side);
    ``first_column`` (1-based) says where each table starts.
    """

    name: str
    table_name: str
    columns: tuple[Column, ...]
    owned: bool = False
    header_row: int = 3
    first_column: int = 1
    hidden: bool = False
    guidance: str = ""

    def __hash__(self) -> int:  # layouts key many caches; hashing every column each time is costly
        return hash((self.name, self.table_name))

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)

    def column_number(self, key: str) -> int:
        """1-based sheet column of ``key``."""
        return self.first_column + [c.key for c in self.columns].index(key)


@dataclass(frozen=True)
class ChoiceList:
    """A drop-down list kept on the Lists sheet under a defined name; ``editable`` lists grow."""

    name: str
    title: str
    values: tuple[str, ...]
    editable: bool = False


@dataclass(frozen=True)
class Setting:
    """One row of the Settings sheet; its Value cell carries the defined name ``name``."""

    key: str
    label: str
    name: str
    default: str | int | dt.time | None
    note: str
    number_format: str | None = None
    choices: str | None = None


def _in(key: str, title: str, width: float, note: str, *aliases: str, fmt: str | None = None,
        choices: str | None = None) -> Column:
    return Column(key, title, Kind.INPUT, aliases, width, fmt, note, choices)


def _out(key: str, title: str, width: float, note: str, *aliases: str, fmt: str | None = None) -> Column:
    return Column(key, title, Kind.COMPUTED, aliases, width, fmt, note)


SEVERITIES = ("Critical", "High", "Medium", "Low")

CHOICE_LISTS: tuple[ChoiceList, ...] = (
    ChoiceList("List_LinkTypes", "Link types", ("FS", "SS", "FF", "SF")),
    ChoiceList("List_ConstraintTypes", "Constraint types",
               tuple(format_constraint_type(kind, long=True) for kind in ConstraintType)),
    ChoiceList("List_YesNo", "Yes/No", ("Yes", "No")),
    ChoiceList("List_Days", "Days", ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
                                     "Saturday", "Sunday")),
    ChoiceList("List_DateOrders", "Date orders", ("YMD", "DMY", "MDY")),
    ChoiceList("List_ActionStatuses", "Action statuses", ("Open", "In progress", "Waiting", "Done",
                                                          "Cancelled")),
    ChoiceList("List_IssueStatuses", "Issue statuses", ("Open", "In progress", "Waiting", "Resolved",
                                                        "Closed")),
    ChoiceList("List_Severities", "Severities", SEVERITIES),
    ChoiceList("List_Priorities", "Priorities", ("P1", "P2", "P3", "P4")),
    ChoiceList("List_RequirementPriorities", "Requirement priorities", ("Must", "Should", "Could",
                                                                        "Won't")),
    ChoiceList("List_RequirementStatuses", "Requirement statuses", ("Draft", "Proposed", "Agreed",
                                                                    "Deferred", "Withdrawn")),
    ChoiceList("List_SignOffResults", "Sign-off results", ("Accepted", "Accepted with anomalies",
                                                           "Rejected")),
    ChoiceList("List_Owners", "Owners", (), editable=True),
    ChoiceList("List_Calendars", "Calendars", ("Standard",), editable=True),
)

TASKS = SheetLayout("Tasks", "tblTasks", (
    _in("id", "ID", 6, "Task number used in Predecessors. Keep it unique; rows may be inserted anywhere "
        "without renumbering.", "Task ID", "#", "No", "Nr", fmt=WHOLE),
    _out("outline_number", "Outline #", 8, "Position in the outline (1.2.3), from Outline level or "
         "indentation.", "Outline number"),
    _in("wbs", "WBS", 8, "Optional code you type (e.g. 2.3.1); a warning says when it disagrees with the "
        "outline.", "WBS code"),
    _in("outline_level", "Outline level", 8, "1 = phase, 2 = task under it, and so on. Leave blank to "
        "use the Task name's indentation instead.", "Level", "Lvl", "Outline", fmt=WHOLE),
    _in("name", "Task name", 44, "What is done. A row followed by deeper rows is a summary; its dates "
        "roll up.", "Task", "Name", "Activity", "Description"),
    _in("duration", "Duration", 9, "5d, 3w, 4h, 2mo, 3ed (elapsed); a bare number means days. 0 makes "
        "a milestone. Blank on summary rows.", "Dur", "Days", "Work days"),
    _out("start", "Start", 17, "Scheduled start from links, constraints, calendars and progress.",
         "Start date", "Begin", fmt=DATETIME),
    _out("finish", "Finish", 17, "Scheduled finish.", "End", "Finish date", "End date", fmt=DATETIME),
    _in("predecessors", "Predecessors", 14, "IDs this task waits for, as in MS Project: 3; 5SS+2d; "
        "12FF+1d; 7FS-1d. Types FS (default), SS, FF, SF; lag in d, w, h, mo, % or elapsed (ed).",
        "Pred.", "Predecessor", "Depends on", "Dependencies"),
    _in("owner", "Owner", 16, "Who answers for the task (drop-down from Lists; other names are fine).",
        "Resource", "Resource names", "Assigned to", "Lead", "Who", choices="List_Owners"),
    _in("percent_complete", "% Complete", 9, "Share done at the status date: type 50 or 50%.",
        "%", "% Done", "Progress", "Percent complete", "Complete", fmt=PERCENT),
    _out("critical", "Critical", 8, "TRUE when total slack is at most the Critical slack threshold.",
         "On critical path"),
    _out("total_slack_days", "Total slack (d)", 9, "Working days the task can slip before the project "
         "finish moves.", "Total float", "Float", "Slack", fmt=DAYS),
    _in("constraint", "Constraint type", 20, "Blank = As Soon As Possible. Needs a Constraint date "
        "unless ASAP/ALAP.", "Constraint", choices="List_ConstraintTypes"),
    _in("constraint_date", "Constraint date", 13, "Date the constraint refers to.", fmt=DATE),
    _in("deadline", "Deadline", 13, "A target that does not move the task; a missed deadline is "
        "flagged.", "Due", "Due date", fmt=DATE),
    _in("calendar", "Calendar", 12, "Working calendar of the task (Calendar sheet); blank = default.",
        "Task calendar", choices="List_Calendars"),
    _in("actual_start", "Actual start", 13, "When work really started.", "Act. start", fmt=DATE),
    _in("actual_finish", "Actual finish", 13, "When work really finished (implies 100%).", "Act. finish",
        "Actual end", fmt=DATE),
    _in("baseline_start", "Baseline start", 13, "Agreed start, kept to measure slippage.", "BL start",
        "Planned start", fmt=DATE),
    _in("baseline_finish", "Baseline finish", 13, "Agreed finish.", "BL finish", "Planned finish",
        "Planned end", fmt=DATE),
    _in("baseline_duration", "Baseline duration", 9, "Agreed duration, same units as Duration.",
        "BL duration", "Planned duration"),
    _out("start_variance_days", "Start var (d)", 8, "Working days Start is later than Baseline start.",
         "Start variance", fmt=DAYS),
    _out("finish_variance_days", "Finish var (d)", 8, "Working days Finish is later than Baseline "
         "finish.", "Finish variance", "Slip", fmt=DAYS),
    _in("cost", "Budget cost", 11, "Budgeted cost at completion.", "Budget", "Cost", "Planned cost",
        "BAC", fmt=MONEY),
    _in("actual_cost", "Actual cost", 11, "Cost incurred so far.", "Spent", fmt=MONEY),
    _out("early_start", "Early start", 17, "Earliest start the links allow.", fmt=DATETIME),
    _out("early_finish", "Early finish", 17, "Earliest finish.", fmt=DATETIME),
    _out("late_start", "Late start", 17, "Latest start that keeps the project finish.", fmt=DATETIME),
    _out("late_finish", "Late finish", 17, "Latest finish that keeps the project finish.", fmt=DATETIME),
    _out("free_slack_days", "Free slack (d)", 9, "Working days the task can slip before any successor "
         "moves.", "Free float", fmt=DAYS),
    _out("driver", "Driver", 30, "Why the task starts when it does: its driving link, a constraint, an "
         "actual start or the project start.", "Why here", "Driven by"),
    _out("flags", "Flags", 30, "Late, deadline missed, behind baseline...; the Check sheet has "
         "details.", "Status", "Status/flags", "Warnings"),
    _in("notes", "Notes", 40, "Anything else; kept as typed.", "Comments", "Remarks"),
), guidance="Type the white columns; grey columns are filled by wbs_tools on refresh.")

DEPENDENCIES = SheetLayout("Dependencies", "tblDependencies", (
    _in("predecessor_id", "Predecessor ID", 12, "ID of the task that comes first.", "Predecessor",
        "From", "Pred ID", fmt=WHOLE),
    _out("predecessor_name", "Predecessor name", 30, "Name of the predecessor task."),
    _in("successor_id", "Successor ID", 12, "ID of the task that waits.", "Successor", "To", "Succ ID",
        fmt=WHOLE),
    _out("successor_name", "Successor name", 30, "Name of the successor task."),
    _in("type", "Type", 7, "FS (default), SS, FF or SF.", "Link type", "Dependency type",
        choices="List_LinkTypes"),
    _in("lag", "Lag", 8, "2d, -1d (a lead), 1w, 50%, 3ed (elapsed); blank = none.", "Lead/lag",
        "Lag/lead"),
    _out("predecessor_finish", "Pred. finish", 17, "Scheduled finish of the predecessor.",
         "Predecessor finish", fmt=DATETIME),
    _out("successor_start", "Succ. start", 17, "Scheduled start of the successor.", "Successor start",
         fmt=DATETIME),
    _out("driving", "Driving", 8, "TRUE when this link sets the successor's date."),
    _out("link_slack_days", "Link slack (d)", 9, "Working days the predecessor can slip before this "
         "link moves the successor.", fmt=DAYS),
    _out("source", "Source", 13, "Dependencies: typed on this row. Tasks: mirrored from a Predecessors "
         "cell (edit it there)."),
    _in("note", "Note", 40, "Why the link exists.", "Notes", "Comment", "Reason"),
), guidance="Links kept apart from the Predecessors column, e.g. with a reason. Both are used.")

_TIME_NOTE = "Working hours as 08:00; leave From 2/To 2 blank for one period."
CALENDAR_WEEK = SheetLayout("Calendar", "tblWorkWeek", (
    _in("calendar", "Calendar", 12, "Calendar name; blank = Standard. Tasks pick one in their Calendar "
        "column.", "Calendar name"),
    _in("day", "Day", 11, "Day of the week.", "Weekday", choices="List_Days"),
    _in("working", "Working?", 9, "No = a day off every week.", "Work day",
        choices="List_YesNo"),
    _in("from1", "From", 7, _TIME_NOTE, "From 1", "Start time", fmt=TIME),
    _in("to1", "To", 7, _TIME_NOTE, "To 1", "End time", fmt=TIME),
    _in("from2", "From 2", 7, _TIME_NOTE, fmt=TIME),
    _in("to2", "To 2", 7, _TIME_NOTE, fmt=TIME),
), guidance="Working week (left) and dated exceptions (right); public holidays come from Settings.")
HOLIDAYS = SheetLayout("Calendar", "tblHolidays", (
    _in("calendar", "Calendar", 12, "Calendar it applies to; blank = every calendar.", "Calendar name"),
    _in("date", "Date", 13, "The day.", "Day", "Holiday", fmt=DATE),
    _in("name", "Name", 28, "What the day is.", "Description", "Reason"),
    _in("working", "Working?", 9, "No = day off; Yes = an extra working day with default hours.",
        "Work day", choices="List_YesNo"),
), first_column=9)

ACTIONS = SheetLayout("Action Items", "tblActions", (
    _in("id", "ID", 8, "A short reference, e.g. A-007.", "Action ID", "#", "No"),
    _in("action", "Action", 40, "Who provides what to whom: 'Tom to send Sallie the field list'.",
        "Action item", "What", "Description", "Item"),
    _in("owner", "Owner", 16, "Who must do it.", "Who", "Assigned to", "Action owner",
        choices="List_Owners"),
    _in("needed_by", "Needed by", 14, "The person waiting for it, or a task ID it must come before.",
        "For", "Needed for", "Blocks"),
    _in("waits_on", "Waits on", 12, "Action IDs that must be done first, separated by ';'.",
        "Blocked by", "Waiting on", "Depends on"),
    _in("raised_on", "Raised on", 13, "When the action was agreed; Age counts from here.", "Opened",
        "Created", "Date raised", fmt=DATE),
    _in("due_date", "Due date", 13, "When it is needed.", "Due", "Due by", "Target date", fmt=DATE),
    _in("status", "Status", 11, "Open, In progress, Waiting, Done or Cancelled.",
        choices="List_ActionStatuses"),
    _in("done_date", "Done date", 13, "When it was done.", "Done on", "Closed on", "Completed",
        fmt=DATE),
    _in("notes", "Notes", 36, "Follow-ups and context.", "Comments", "Remarks"),
    _out("days_overdue", "Days overdue", 9, "Calendar days past Due date at the status date.",
         "Overdue", fmt=WHOLE),
    _out("due_this_week", "Due this week", 9, "TRUE when due within 7 days of the status date."),
    _out("blocked", "Blocked", 8, "TRUE while an action it waits on is not done."),
    _out("blocks_critical", "Blocks critical task", 10, "TRUE when it is needed by a critical task "
         "that has not started.", "Blocks critical"),
    _out("age_days", "Age (d)", 7, "Calendar days since Raised on (to Done date when done).",
         fmt=WHOLE),
), guidance="Dependencies between people: 'Sallie can't start X until Tom provides Y'. Review weekly.")

ISSUES = SheetLayout("Issue Log", "tblIssues", (
    _in("id", "ID", 8, "A short reference, e.g. I-012.", "Issue ID", "#", "No"),
    _in("reported_by", "Reported by", 16, "Who found it.", "Reporter", "Raised by", "Who"),
    _in("reported_on", "Reported on", 13, "When it happened or was found.", "Date reported", "When",
        "Date", fmt=DATE),
    _in("what", "What", 36, "What is wrong, in the reporter's words.", "Issue", "Summary", "Title",
        "Description"),
    _in("where", "Where", 16, "System area, or the task ID it affects.", "Area", "System area",
        "Component"),
    _in("how_to_replicate", "How to replicate", 36, "Steps, data and environment to see it again.",
        "Steps", "Steps to reproduce", "Repro", "How"),
    _in("severity", "Severity", 9, "Impact: Critical, High, Medium, Low; sets the SLA.",
        choices="List_Severities"),
    _in("priority", "Priority", 8, "Order of work: P1 first.", choices="List_Priorities"),
    _in("owner", "Owner", 16, "Who fixes it.", "Assigned to", choices="List_Owners"),
    _in("status", "Status", 11, "Open, In progress, Waiting, Resolved or Closed.",
        choices="List_IssueStatuses"),
    _in("resolved_on", "Resolved on", 13, "When it was resolved.", "Resolved", "Closed on", fmt=DATE),
    _in("resolution", "Resolution", 36, "What was done, or why it is accepted as is.", "Fix"),
    _out("age_days", "Age (d)", 7, "Calendar days open (to Resolved on when resolved).",
         fmt=WHOLE),
    _out("sla_breach", "SLA breach", 8, "TRUE when open longer than the SLA days of its severity."),
    _out("reopened_count", "Reopened count", 9, "Times the status went from Resolved/Closed back "
         "to open, from the status history.", "Reopened", fmt=WHOLE),
), guidance="Who, what, when, where and how of every QA or UAT finding.")

REQUIREMENTS = SheetLayout("Requirements", "tblRequirements", (
    _in("id", "ID", 8, "A short reference, e.g. R-004.", "Requirement ID", "Req ID", "#"),
    _in("title", "Title", 30, "The requirement in a few words.", "Requirement", "Name"),
    _in("rule", "Business rule / acceptance criteria", 60, "The rule and how it is tested.",
        "Business rule", "Acceptance criteria", "Rule", "Criteria", "Description"),
    _in("source", "Source", 16, "Who or which document it came from.", "Origin", "From"),
    _in("priority", "Priority", 9, "Must, Should, Could, Won't.", choices="List_RequirementPriorities"),
    _in("status", "Status", 11, "Draft, Proposed, Agreed, Deferred or Withdrawn.",
        choices="List_RequirementStatuses"),
    _in("linked_tasks", "Linked tasks", 12, "Task IDs that deliver it, separated by ';'.", "Tasks",
        "Task IDs"),
    _in("decided_by", "Decided by", 16, "Who agreed the current wording; changes are logged with it.",
        "Approved by", "Decision by"),
    _out("last_changed", "Last changed", 13, "When wbs_tools last saw this row change.", fmt=DATE),
    _out("signed_off", "Signed off", 9, "TRUE when a still-valid sign-off accepts it."),
), guidance="Business rules the customer benchmarks the solution on. Changes go to the Change Log.")

CHANGE_LOG = SheetLayout("Change Log", "tblChangeLog", (
    _out("detected_on", "Detected on", 13, "Refresh that saw the change.", fmt=DATE),
    _out("requirement_id", "Requirement ID", 12, "Requirement that changed."),
    _out("field", "Field", 16, "Column that changed."),
    _out("old_value", "Old value", 40, "Value before."),
    _out("new_value", "New value", 40, "Value after."),
    _out("decided_by", "Decided by", 16, "Decided by at the time of the change."),
), owned=True, guidance="Appended by wbs_tools when a requirement changes; do not edit.")

SIGN_OFF = SheetLayout("Sign-off", "tblSignOff", (
    _in("item_id", "Item ID", 10, "Requirement or task ID validated.", "Item", "Requirement ID",
        "Task ID", "ID"),
    _in("validated_by", "Validated by", 18, "Business user who validated.", "Signed by", "Approver"),
    _in("date", "Date", 13, "When it was validated.", "Signed on", "Validated on", fmt=DATE),
    _in("result", "Result", 22, "Accepted, Accepted with anomalies or Rejected.",
        choices="List_SignOffResults"),
    _in("anomalies", "Anomalies & special circumstances", 50, "What was seen and accepted; useful in "
        "training and rollout.", "Anomalies", "Special circumstances", "Comments", "Notes"),
    _out("still_valid", "Still valid", 9, "FALSE when the requirement changed after this sign-off."),
), guidance="Who validated what, and anything they accepted as is.")

STATUS = SheetLayout("Status", "tblStatus", (
    _out("section", "Section", 18, "Part of the report."),
    _out("item", "Item", 40, "What is reported."),
    _out("value", "Value", 30, "Figure, date or text."),
    _out("where", "Where", 16, "Sheet and row to look at."),
), owned=True, guidance="Weekly status at the status date, rewritten by wbs_tools on refresh.")

CHECK = SheetLayout("Check", "tblCheck", (
    _out("severity", "Severity", 9, "error: the value was ignored; warning: a default was used."),
    _out("code", "Code", 26, "Stable code, listed in docs/findings.md."),
    _out("where", "Where", 16, "Sheet!cell of the value."),
    _out("message", "Message", 60, "What is wrong."),
    _out("hint", "Hint", 50, "How to fix it."),
), owned=True, guidance="Problems found in the plan on the last refresh.")

SETTINGS = SheetLayout("Settings", "tblSettings", (
    _in("setting", "Setting", 40, "Name of the setting; keep as is."),
    _in("value", "Value", 34, "Your value; the cell has a defined name for formulas."),
    _in("note", "Note", 70, "What the setting does."),
), guidance="Plan-wide options. Each Value cell has a defined name, e.g. Project_Start.")

LISTS = SheetLayout("Lists", "tblLists", tuple(
    _in(c.name, c.title, 16 if len(c.title) < 16 else len(c.title) + 2, "Add names below." if c.editable
        else "Fixed values wbs_tools reads.") for c in CHOICE_LISTS
), guidance="Drop-down values. Add owners and calendars; the other lists are what wbs_tools reads.")

REQUIREMENTS_SNAPSHOT = SheetLayout("_wbs_requirements_snapshot", "tblRequirementsSnapshot", (
    _out("taken_on", "Taken on", 13, "Refresh that took the snapshot.", fmt=DATE),
    _out("requirement_id", "Requirement ID", 12, ""),
    _out("field", "Field", 16, ""),
    _out("value", "Value", 40, ""),
), owned=True, header_row=1, hidden=True)

STATUS_HISTORY = SheetLayout("_wbs_status_history", "tblStatusHistory", (
    _out("status_date", "Status date", 13, "", fmt=DATE),
    _out("project_finish", "Project finish", 17, "", fmt=DATETIME),
    _out("baseline_finish", "Baseline finish", 17, "", fmt=DATETIME),
    _out("finish_variance_days", "Finish var (d)", 8, "", fmt=DAYS),
    _out("percent_complete", "% Complete", 9, "", fmt=PERCENT),
    _out("critical_tasks", "Critical tasks", 8, "", fmt=WHOLE),
    _out("late_tasks", "Late tasks", 8, "", fmt=WHOLE),
    _out("overdue_actions", "Overdue actions", 8, "", fmt=WHOLE),
    _out("open_issues", "Open issues", 8, "", fmt=WHOLE),
    _out("issue_states", "Issue states", 40, "ID=status pairs, to count reopened issues."),
), owned=True, header_row=1, hidden=True)

STATUS_SNAPSHOT = SheetLayout("_wbs_status_snapshot", "tblStatusSnapshot", (
    _out("status_date", "Status date", 17, "Week the snapshot belongs to.", fmt=DATETIME),
    _out("kind", "Kind", 8, "project, task or issue."),
    _out("key", "Key", 8, "Task or issue ID."),
    _out("name", "Name", 30, ""),
    _out("start", "Start", 17, "", fmt=DATETIME),
    _out("finish", "Finish", 17, "", fmt=DATETIME),
    _out("baseline_finish", "Baseline finish", 17, "", fmt=DATETIME),
    _out("critical", "Critical", 8, ""),
    _out("value", "Value", 10, "% complete (project) or severity (issue)."),
), owned=True, header_row=1, hidden=True)

LAYOUTS: tuple[SheetLayout, ...] = (
    TASKS, DEPENDENCIES, CALENDAR_WEEK, HOLIDAYS, ACTIONS, ISSUES, REQUIREMENTS, CHANGE_LOG, SIGN_OFF,
    STATUS, CHECK, SETTINGS, LISTS, REQUIREMENTS_SNAPSHOT, STATUS_HISTORY, STATUS_SNAPSHOT,
)
SHEET_NAMES: tuple[str, ...] = tuple(dict.fromkeys(layout.name for layout in LAYOUTS))

_YES_NO = "List_YesNo"
SETTINGS_ROWS: tuple[Setting, ...] = (
    Setting("project_name", "Project name", "Project_Name", "", "Shown in titles and the status report."),
    Setting("project_start", "Project start", "Project_Start", None, "Tasks without links start here; "
            "blank = the earliest date in the plan.", DATETIME),
    Setting("status_date", "Status date", "Status_Date", None, "Progress is measured at this date "
            "(usually the Friday of the report week).", DATETIME),
    Setting("calendar", "Default calendar", "Default_Calendar", "Standard", "Calendar of tasks with a "
            "blank Calendar.", choices="List_Calendars"),
    Setting("hours_per_day", "Hours per day", "Hours_Per_Day", 8, "Length of '1d' in durations and lags."),
    Setting("hours_per_week", "Hours per week", "Hours_Per_Week", 40, "Length of '1w'."),
    Setting("days_per_month", "Days per month", "Days_Per_Month", 20, "Length of '1mo' in working days."),
    Setting("default_start_time", "Default start time", "Default_Start_Time", dt.time(8),
            "Time given to a start date typed without a time.", TIME),
    Setting("default_finish_time", "Default finish time", "Default_Finish_Time", dt.time(17),
            "Time given to a finish date typed without a time.", TIME),
    Setting("date_order", "Date order", "Date_Order", "YMD", "How dates typed as text are read: "
            "YMD (2026-03-04), DMY (04/03/2026) or MDY (03/04/2026).", choices="List_DateOrders"),
    Setting("critical_slack_days", "Critical slack threshold (d)", "Critical_Slack_Days", 0,
            "Tasks with at most this total slack are critical.", DAYS),
    Setting("multiple_critical_paths", "Multiple critical paths", "Multiple_Critical_Paths", "No",
            "Yes = every chain ending without successors is critical on its own.", choices=_YES_NO),
    Setting("honor_constraints", "Honor constraints", "Honor_Constraints", "Yes", "No = links win over "
            "constraint dates (MS Project's 'Tasks will always honor their constraint dates').",
            choices=_YES_NO),
    Setting("reschedule_after_status_date", "Reschedule unfinished work after status date",
            "Reschedule_After_Status_Date", "No", "Yes = remaining work never starts before the status "
            "date.", choices=_YES_NO),
    Setting("calendar_country", "Calendar country", "Calendar_Country", "", "ISO code (GB, US, DE...) "
            "whose public holidays are days off in every calendar."),
    Setting("calendar_subdivision", "Calendar subdivision", "Calendar_Subdivision", "", "Region code "
            "for regional holidays, e.g. ENG, CA, BY."),
    *(Setting(f"sla_days_{s.lower()}", f"SLA days: {s}", f"SLA_Days_{s}", days, f"Days a {s.lower()} "
              "issue may stay open before it breaches its SLA.", WHOLE)
      for s, days in zip(SEVERITIES, (1, 3, 10, 30), strict=True)),
    Setting("currency", "Currency", "Currency", "", "Currency of costs, e.g. GBP."),
)


@functools.lru_cache(maxsize=8192)  # header scans meet the same texts in every sheet and workbook
def normalize_header(text: str) -> str:
    """Header text reduced for matching: case, spaces, punctuation and a trailing '(unit)' ignored.

    >>> normalize_header(" Total Slack (d) "), normalize_header("% Done"), normalize_header("Pred.")
    ('totalslack', '%done', 'pred')
    """
    text = re.sub(r"\([^)]*\)\s*$", "", text.strip())
    return re.sub(r"[^0-9a-z%#]", "", text.casefold())


def find_column(sheet: SheetLayout, header_text: str) -> Column | None:
    """The column whose title or alias matches ``header_text``, or None for a user's own column."""
    return _header_index(sheet).get(normalize_header(header_text))


@functools.cache
def _header_index(sheet: SheetLayout) -> dict[str, Column]:
    """Normalized title and aliases -> column, built once per layout (the first match wins)."""
    index: dict[str, Column] = {}
    for column in sheet.columns:
        for text in (column.title, *column.aliases):
            index.setdefault(normalize_header(text), column)
    return index


def input_columns(sheet: SheetLayout) -> tuple[Column, ...]:
    return tuple(c for c in sheet.columns if not c.computed)


def computed_columns(sheet: SheetLayout) -> tuple[Column, ...]:
    return tuple(c for c in sheet.columns if c.computed)


def layout_by_table(table_name: str) -> SheetLayout:
    return next(layout for layout in LAYOUTS if layout.table_name == table_name)


def choice_list(name: str) -> ChoiceList:
    return next(c for c in CHOICE_LISTS if c.name == name)


copied_by_fields(__name__)

"""The weekly status report: RAG per area with its reasons, progress, milestones, registers and what changed.

``build_status`` is pure (the status date and last week's snapshot are inputs); ``wbs_tools.reports``
renders the result as an e-mail-ready HTML page, a PDF and a Gantt chart. The RAG rules and their
defaults are described in ``docs/status.md``.
"""

from wbs_tools.core.status.lines import (
    ActionLine,
    AreaStatus,
    ChangeLine,
    FinishForecast,
    IssueLine,
    OwnerActions,
    Progress,
    Rag,
    SeverityCount,
    SignOffLine,
    TaskLine,
    format_day,
    format_days,
    worst,
)
from wbs_tools.core.status.narrative import SlipOrigin, driving_path, own_slips, slip_origins
from wbs_tools.core.status.register_rows import RegisterView, read_registers
from wbs_tools.core.status.report import StatusReport, build_status, status_sheet_rows
from wbs_tools.core.status.rules import RagRules
from wbs_tools.core.status.snapshot import (
    SNAPSHOT_COLUMNS,
    IssueMark,
    IssueRef,
    SnapshotDiff,
    StatusSnapshot,
    TaskMark,
    TaskMove,
    TaskRef,
    diff_snapshots,
)

__all__ = [
    "SNAPSHOT_COLUMNS",
    "ActionLine",
    "AreaStatus",
    "ChangeLine",
    "FinishForecast",
    "IssueLine",
    "IssueMark",
    "IssueRef",
    "OwnerActions",
    "Progress",
    "Rag",
    "RagRules",
    "RegisterView",
    "SeverityCount",
    "SignOffLine",
    "SlipOrigin",
    "SnapshotDiff",
    "StatusReport",
    "StatusSnapshot",
    "TaskLine",
    "TaskMark",
    "TaskMove",
    "TaskRef",
    "build_status",
    "diff_snapshots",
    "driving_path",
    "format_day",
    "format_days",
    "own_slips",
    "read_registers",
    "slip_origins",
    "status_sheet_rows",
    "worst",
]

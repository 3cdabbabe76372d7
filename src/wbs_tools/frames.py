"""Schedules and findings as pandas DataFrames, for analysts and scripts.

Dates are pandas datetimes; slack is given both in working minutes (exact) and in working days of the
plan's hours-per-day setting (what a PM reads).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

import pandas as pd

from wbs_tools.core.findings import Finding
from wbs_tools.core.schedule import Schedule, TaskSchedule, column_of

TASK_COLUMNS = [
    "id", "uid", "outline_number", "outline_level", "name", "summary", "milestone", "start", "finish",
    "early_start", "early_finish", "late_start", "late_finish", "duration_days", "total_slack_days",
    "free_slack_days", "total_slack_minutes", "free_slack_minutes", "critical", "percent_complete",
    "in_cycle", "driver",
]


def tasks_frame(schedule: Schedule) -> pd.DataFrame:
    """One row per task, indexed by task ID.

    >>> import datetime as dt
    >>> from wbs_tools.core.cpm import schedule
    >>> from wbs_tools.core.model import Duration, Plan, Settings, Task
    >>> plan = Plan(Settings(start=dt.datetime(2026, 1, 5, 8)), [Task(1, "A", duration=Duration(960))])
    >>> df = tasks_frame(schedule(plan))
    >>> str(df.loc[1, "finish"]), float(df.loc[1, "duration_days"]), bool(df.loc[1, "critical"])
    ('2026-01-06 17:00:00', 2.0, True)
    """
    per_day = schedule.plan.settings.minutes_per_day
    column = partial(column_of, schedule.tasks)  # column by column: no per-task record is built
    data = {name: column(name) for name in TASK_COLUMNS if name in TaskSchedule._fields}
    data["duration_days"] = [m / per_day for m in column("duration_minutes")]
    data["total_slack_days"] = [m / per_day for m in data["total_slack_minutes"]]
    data["free_slack_days"] = [m / per_day for m in data["free_slack_minutes"]]
    data["driver"] = [d.describe() if d else None for d in column("driver")]
    df = pd.DataFrame(data, columns=TASK_COLUMNS)
    for col in ("start", "finish", "early_start", "early_finish", "late_start", "late_finish"):
        df[col] = pd.to_datetime(df[col])
    return df.set_index("id", drop=False).rename_axis(None)


def links_frame(schedule: Schedule) -> pd.DataFrame:
    """One row per link the engine used: type, lag, whether it drives its successor, link slack."""
    per_day = schedule.plan.settings.minutes_per_day
    rows = [{
        "predecessor": ls.link.predecessor, "successor": ls.link.successor, "type": ls.link.type.value,
        "lag_minutes": ls.link.lag.duration.minutes, "lag_percent": ls.link.lag.percent,
        "lag_elapsed": ls.link.lag.duration.elapsed, "driving": ls.driving,
        "slack_days": ls.slack_minutes / per_day, "slack_minutes": ls.slack_minutes, "origin": ls.link.origin,
    } for ls in schedule.links]
    return pd.DataFrame(rows, columns=["predecessor", "successor", "type", "lag_minutes", "lag_percent",
                                       "lag_elapsed", "driving", "slack_days", "slack_minutes", "origin"])


def findings_frame(findings: Iterable[Finding]) -> pd.DataFrame:
    """One row per finding: severity, code, where, message, hint."""
    rows = [{"severity": f.severity.value, "code": f.code, "location": f.location, "task_id": f.task_id,
             "field": f.field, "message": f.message, "hint": f.hint} for f in findings]
    return pd.DataFrame(rows, columns=["severity", "code", "location", "task_id", "field", "message", "hint"])

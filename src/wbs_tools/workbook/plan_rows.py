"""A plan as the input rows of each table, values as Excel holds them (the template's and exports' data).

Durations, lags and predecessors are written as MS Project text in the plan's units, % complete as a
fraction, times of day as fractions of a day; links typed on the Dependencies sheet stay there.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TypedDict

from wbs_tools.core.model import ConstraintType, Duration, Link, Plan, WorkingTime
from wbs_tools.core.parsing import format_constraint_type, format_duration, format_lag, format_predecessors
from wbs_tools.workbook.layout import (
    CALENDAR_WEEK,
    CHOICE_LISTS,
    DEPENDENCIES,
    HOLIDAYS,
    LAYOUTS,
    LISTS,
    SETTINGS,
    SETTINGS_ROWS,
    TASKS,
)

Registers = Mapping[str, Sequence[Mapping[str, object]]]
_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def sheet_rows(plan: Plan | None, registers: Registers | None = None) -> dict[str, list[dict[str, object]]]:
    """The input rows each table is written with, keyed by table name, values as Excel will hold them."""
    plan = plan or Plan()
    registers = registers or {}
    rows: dict[str, list[dict[str, object]]] = {
        layout.table_name: [dict(r) for r in registers.get(layout.name, ())] for layout in LAYOUTS
    }
    rows[TASKS.table_name] = task_rows(plan)
    if DEPENDENCIES.name not in registers:
        rows[DEPENDENCIES.table_name] = [
            {"predecessor_id": link.predecessor, "successor_id": link.successor, "type": link.type.value,
             "lag": None if link.lag.is_zero else format_lag(link.lag, **_units(plan))}
            for link in plan.links if _on_dependencies(link)]
    rows[CALENDAR_WEEK.table_name] = [_week_row(name, day, spec.week.get(day, ()))
                                      for name, spec in plan.calendars.items() for day in range(7)]
    if HOLIDAYS.name not in registers:
        rows[HOLIDAYS.table_name] = [
            {"calendar": name, "date": day, "working": "Yes" if times else "No"}
            for name, spec in plan.calendars.items() for day, times in sorted(spec.exceptions.items())]
    values = settings_values(plan)
    rows[SETTINGS.table_name] = [{"setting": s.label, "value": values[s.key], "note": s.note} for s in SETTINGS_ROWS]
    owners = {t.owner for t in plan.tasks if t.owner} | {
        str(r["owner"]) for sheet in registers.values() for r in sheet if r.get("owner")}
    lists = {c.name: list(c.values) for c in CHOICE_LISTS}
    lists["List_Owners"] = sorted(owners)
    lists["List_Calendars"] = list(plan.calendars)
    rows[LISTS.table_name] = [
        {name: values[i] for name, values in lists.items() if i < len(values)}
        for i in range(max(map(len, lists.values())))]
    return rows


def task_rows(plan: Plan) -> list[dict[str, object]]:
    """One Tasks row per task: durations and predecessors as MS Project text, % as a fraction."""
    units = _units(plan)
    typed_here: dict[int, list[Link]] = {}
    for link in plan.links:
        if not _on_dependencies(link):
            typed_here.setdefault(link.successor, []).append(link)
    rows: list[dict[str, object]] = []
    for task in plan.tasks:
        baseline = task.baselines.get(0)
        links = typed_here.get(task.id, [])
        rows.append({
            "id": task.id, "wbs": task.wbs, "outline_level": task.outline_level, "name": task.name,
            "duration": format_duration(task.duration, **units) if task.duration else None,
            "predecessors": format_predecessors(links, **units) or None, "owner": task.owner,
            "percent_complete": task.percent_complete / 100 if task.duration else None,
            "constraint": None if task.constraint is ConstraintType.ASAP
            else format_constraint_type(task.constraint, long=True),
            "constraint_date": task.constraint_date, "deadline": task.deadline, "calendar": task.calendar,
            "actual_start": task.actual_start, "actual_finish": task.actual_finish,
            "baseline_start": baseline and baseline.start, "baseline_finish": baseline and baseline.finish,
            "baseline_duration": format_duration(Duration(baseline.duration_minutes), **units)
            if baseline and baseline.duration_minutes is not None else None,
            "cost": task.cost, "actual_cost": task.actual_cost, "notes": task.notes,
        })
    return rows


def settings_values(plan: Plan) -> dict[str, object]:
    """Settings sheet values from the plan, in ``SETTINGS_ROWS`` order."""
    s = plan.settings
    calendar = plan.calendars.get(s.calendar)
    values: dict[str, object] = {row.key: row.default for row in SETTINGS_ROWS}
    values.update({
        "project_name": s.project_name, "project_start": s.start, "status_date": s.status_date,
        "calendar": s.calendar, "hours_per_day": s.minutes_per_day / 60, "hours_per_week": s.minutes_per_week / 60,
        "days_per_month": s.days_per_month, "default_start_time": _time(s.default_start_minute),
        "default_finish_time": _time(s.default_finish_minute), "date_order": "DMY" if s.day_first else "YMD",
        "critical_slack_days": s.critical_slack_minutes / s.minutes_per_day,
        "multiple_critical_paths": _yes(s.multiple_critical_paths), "honor_constraints": _yes(s.honor_constraints),
        "reschedule_after_status_date": _yes(s.reschedule_after_status_date),
        "calendar_country": calendar.country if calendar else None,
        "calendar_subdivision": calendar.subdivision if calendar else None, "currency": s.currency,
    })
    return {key: None if value == "" else value for key, value in values.items()}


class _Units(TypedDict):
    """The plan's time units, as the duration and lag writers take them."""

    minutes_per_day: float
    minutes_per_week: float
    days_per_month: float


def _units(plan: Plan) -> _Units:
    s = plan.settings
    return {"minutes_per_day": s.minutes_per_day, "minutes_per_week": s.minutes_per_week,
            "days_per_month": s.days_per_month}


def _on_dependencies(link: Link) -> bool:
    """True for a link typed on the Dependencies sheet rather than in a Predecessors cell."""
    return (link.origin or "").startswith(DEPENDENCIES.name + "!")


def _week_row(calendar: str, day: int, periods: Sequence[WorkingTime]) -> dict[str, object]:
    row: dict[str, object] = {"calendar": calendar, "day": _DAY_NAMES[day], "working": _yes(bool(periods))}
    for n, period in enumerate(periods[:2], start=1):
        row[f"from{n}"], row[f"to{n}"] = period.start / 1440, period.end / 1440
    return row


def _time(minute: int) -> dt.time:
    return dt.time(minute // 60, minute % 60)


def _yes(flag: bool) -> str:
    return "Yes" if flag else "No"

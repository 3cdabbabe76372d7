"""From the passes' raw minutes to the published schedule: slack, critical flags, summary roll-ups."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from wbs_tools.core.calendar import from_minutes
from wbs_tools.core.findings import make_finding
from wbs_tools.core.model import ConstraintType, LinkType
from wbs_tools.core.schedule import Driver, DriverKind, Schedule, TaskSchedule

if TYPE_CHECKING:
    from wbs_tools.core.cpm import _Scheduler


def roll_up(sch: _Scheduler) -> Schedule:
    plan, outline, rows = sch.plan, sch.outline, sch.rows
    n = len(plan.tasks)
    start = [0] * n
    finish = [0] * n
    total = [0.0] * n
    free = [0.0] * n
    critical = [False] * n
    pct = [0.0] * n
    dur = [0.0] * n
    limit = plan.settings.critical_slack_minutes
    leaves = [i for i in range(n) if sch.active[i] and not outline.children[i]]
    for i in leaves:
        r = rows[i]
        alap = r.constraint is ConstraintType.ALAP
        start[i] = r.astart if r.astart is not None else (sch.ls[i] if alap else sch.es[i])
        finish[i] = r.afinish if r.afinish is not None else (sch.lf[i] if alap else sch.ef[i])
        total[i] = _total_slack(sch, i)
        dur[i] = r.dur
        task = plan.tasks[i]
        pct[i] = 100.0 if r.afinish is not None else min(100.0, max(0.0, task.percent_complete or 0.0))
        critical[i] = total[i] <= limit and r.afinish is None and pct[i] < 100
    for i in leaves:
        free[i] = _free_slack(sch, i, total[i])
    # summaries, deepest first, so nested summaries roll up their rolled-up children
    es, ef, ls, lf = list(sch.es), list(sch.ef), list(sch.ls), list(sch.lf)
    for i in sorted((i for i in range(n) if outline.children[i] and sch.active[i]),
                    key=lambda i: -outline.levels[i]):
        kids = [c for c in outline.children[i] if sch.active[c]]
        if not kids:  # nothing under it is scheduled: a zero-length summary at the project start
            start[i] = finish[i] = es[i] = ef[i] = ls[i] = lf[i] = sch.project_start
            continue
        start[i] = min(start[c] for c in kids)
        finish[i] = max(finish[c] for c in kids)
        es[i] = min((sch.ls[c] if _alap(sch, c) else es[c]) for c in kids)
        ef[i] = max((sch.lf[c] if _alap(sch, c) else ef[c]) for c in kids)
        ls[i] = min(ls[c] for c in kids)
        lf[i] = max(lf[c] for c in kids)
        cal = sch.project_cal
        dur[i] = float(cal.work_at(finish[i]) - cal.work_at(start[i]))
        weight = sum(dur[c] for c in kids)
        pct[i] = (sum(dur[c] * pct[c] for c in kids) / weight) if weight else (
            sum(pct[c] for c in kids) / len(kids))
        total[i] = float(min(cal.work_at(ls[i]) - cal.work_at(es[i]), cal.work_at(lf[i]) - cal.work_at(ef[i])))
        critical[i] = any(critical[c] for c in kids)
        free[i] = max(0.0, total[i])
    out: list[TaskSchedule] = []
    findings = list(sch.findings)
    seen: dict[int, dt.datetime] = {}  # many tasks share dates: convert each instant once

    def when(t: int) -> dt.datetime:
        found = seen.get(t)
        if found is None:
            found = seen[t] = from_minutes(t)
        return found

    for i, task in enumerate(plan.tasks):
        summary = bool(outline.children[i])
        ts = TaskSchedule(
            id=task.id, uid=task.uid if task.uid is not None else task.id, name=task.name,
            outline_level=outline.levels[i], outline_number=outline.numbers[i], summary=summary,
            milestone=(not summary) and rows[i].milestone,
            parent_id=plan.tasks[outline.parent[i]].id if outline.parent[i] >= 0 else None,
            in_cycle=i in sch.net.in_cycle,
        )
        if sch.active[i]:
            ts.start, ts.finish = when(start[i]), when(finish[i])
            ts.early_start, ts.early_finish = when(es[i]), when(ef[i])
            ts.late_start, ts.late_finish = when(ls[i]), when(lf[i])
            ts.duration_minutes = dur[i]
            ts.total_slack_minutes = total[i]
            ts.free_slack_minutes = free[i]
            ts.critical = critical[i]
            ts.percent_complete = round(pct[i], 6)
            ts.driver = sch.driver[i] if not summary else Driver(DriverKind.SUMMARY)
            r = rows[i]
            if not summary and r.deadline is not None and finish[i] > r.deadline:
                findings.append(make_finding(
                    "schedule.deadline-missed",
                    f"task {task.id} '{task.name}' finishes {ts.finish:%Y-%m-%d} after its deadline "
                    f"{task.deadline:%Y-%m-%d}", task_id=task.id, field="deadline",
                    location=task.cells.get("deadline")))
        out.append(ts)
    return Schedule(
        plan=plan, tasks=out, links=sch.link_schedules(), findings=findings,
        project_start=from_minutes(min((start[i] for i in leaves), default=sch.project_start)),
        project_finish=from_minutes(max((finish[i] for i in leaves), default=sch.project_start)),
    )


def _alap(sch: _Scheduler, i: int) -> bool:
    return not sch.outline.children[i] and sch.rows[i].constraint is ConstraintType.ALAP


def _total_slack(sch: _Scheduler, i: int) -> float:
    r = sch.rows[i]
    if r.constraint is ConstraintType.ALAP:
        return 0.0
    cal = r.cal
    es, ef = sch.es[i], sch.ef[i]
    if i in sch.link_es:  # measured from where the links alone would put it
        es = sch.link_es[i]
        ef = sch._after(i, es, r.dur)
    finish_slack = cal.work_at(sch.lf[i]) - cal.work_at(ef)
    if r.astart is not None:
        return float(finish_slack)
    start_slack = cal.work_at(sch.ls[i]) - cal.work_at(es)
    return float(min(start_slack, finish_slack))


def _free_slack(sch: _Scheduler, i: int, total: float) -> float:
    """Room before any unfinished successor's early date moves (never negative)."""
    r = sch.rows[i]
    if r.afinish is not None:
        return 0.0
    net = sch.net
    best: float | None = None
    cal = r.cal
    for k in net.out_links[i]:
        s = net.succ_index[k]
        if sch.rows[s].afinish is not None:
            continue
        kind = net.links[k].type
        p_date = sch.ef[i] if kind in (LinkType.FS, LinkType.FF) else sch.es[i]
        s_es, s_ef = (sch.ls[s], sch.lf[s]) if _alap(sch, s) else (sch.es[s], sch.ef[s])
        s_date = s_es if kind in (LinkType.FS, LinkType.SS) else s_ef
        lag, elapsed = sch._lag(k)
        if elapsed:
            lag = lag * sch.plan.settings.minutes_per_day / 1440.0
        value = cal.work_at(s_date) - cal.work_at(p_date) - lag
        best = value if best is None else min(best, value)
    if best is None:
        best = total
    return max(0.0, float(best))

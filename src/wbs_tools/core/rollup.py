"""From the passes' raw minutes to the published schedule: slack, critical flags, summary roll-ups."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from wbs_tools.core.calendar import from_minutes
from wbs_tools.core.findings import make_finding
from wbs_tools.core.model import LinkType
from wbs_tools.core.schedule import Driver, DriverKind, Schedule, TaskSchedule

if TYPE_CHECKING:
    from wbs_tools.core.cpm import _Scheduler

_SUMMARY = Driver(DriverKind.SUMMARY)  # immutable, so every summary shares it


def roll_up(sch: _Scheduler) -> Schedule:
    plan, outline = sch.plan, sch.outline
    tasks = plan.tasks
    n = len(tasks)
    children, levels, active = outline.children, outline.levels, sch.active
    astart, afinish, is_alap, dur_l = sch.astart, sch.afinish, sch.is_alap, sch.dur
    start = [0] * n
    finish = [0] * n
    total = [0.0] * n
    free = [0.0] * n
    critical = [False] * n
    pct = [0.0] * n
    dur = [0.0] * n
    limit = plan.settings.critical_slack_minutes
    leaves = [i for i in range(n) if active[i] and not children[i]]
    es0, ef0, ls0, lf0 = sch.es, sch.ef, sch.ls, sch.lf
    for i in leaves:
        alap = is_alap[i]
        a, f = astart[i], afinish[i]
        start[i] = a if a is not None else (ls0[i] if alap else es0[i])
        finish[i] = f if f is not None else (lf0[i] if alap else ef0[i])
        slack = total[i] = _total_slack(sch, i)
        dur[i] = dur_l[i]
        if f is not None:
            pct[i] = 100.0
        else:
            p = pct[i] = min(100.0, max(0.0, tasks[i].percent_complete or 0.0))
            critical[i] = slack <= limit and p < 100
    _free_slack(sch, leaves, total, free)
    # summaries, deepest first, so nested summaries roll up their rolled-up children
    es, ef, ls, lf = list(es0), list(ef0), list(ls0), list(lf0)
    cal = sch.project_cal
    work_at = cal.work_at
    for i in sorted((i for i in range(n) if children[i] and active[i]), key=lambda i: -levels[i]):
        kids = [c for c in children[i] if active[c]]
        if not kids:  # nothing under it is scheduled: a zero-length summary at the project start
            start[i] = finish[i] = es[i] = ef[i] = ls[i] = lf[i] = sch.project_start
            continue
        start[i] = min([start[c] for c in kids])
        finish[i] = max([finish[c] for c in kids])
        es[i] = min([(ls0[c] if is_alap[c] and not children[c] else es[c]) for c in kids])
        ef[i] = max([(lf0[c] if is_alap[c] and not children[c] else ef[c]) for c in kids])
        ls[i] = min([ls[c] for c in kids])
        lf[i] = max([lf[c] for c in kids])
        dur[i] = float(work_at(finish[i]) - work_at(start[i]))
        weight = sum(dur[c] for c in kids)
        pct[i] = (sum(dur[c] * pct[c] for c in kids) / weight) if weight else (
            sum(pct[c] for c in kids) / len(kids))
        total[i] = float(min(work_at(ls[i]) - work_at(es[i]), work_at(lf[i]) - work_at(ef[i])))
        critical[i] = any(critical[c] for c in kids)
        free[i] = max(0.0, total[i])

    # every distinct instant converted once: many tasks share dates
    seen: dict[int, dt.datetime] = {}
    for column in (start, finish, es, ef, ls, lf):
        for t in set(column):
            if t not in seen:
                seen[t] = from_minutes(t)
    findings = list(sch.findings)
    deadline_l = sch.deadline
    for i in leaves:  # in task order, after the passes' findings
        deadline = deadline_l[i]
        if deadline is not None and finish[i] > deadline:
            task = tasks[i]
            findings.append(make_finding(
                "schedule.deadline-missed",
                f"task {task.id} '{task.name}' finishes {seen[finish[i]]:%Y-%m-%d} after its deadline "
                f"{task.deadline:%Y-%m-%d}", task_id=task.id, field="deadline",
                location=task.cells.get("deadline")))

    in_cycle = sch.net.in_cycle
    parent = outline.parent
    milestone = sch.milestone
    ids = [t.id for t in tasks]
    out: list[TaskSchedule] = []
    append = out.append
    for i, task in enumerate(tasks):
        summary = bool(children[i])
        p = parent[i]
        uid = task.uid
        if active[i]:
            append(TaskSchedule(
                task.id, uid if uid is not None else task.id, task.name, levels[i], outline.numbers[i], summary,
                (not summary) and milestone[i], ids[p] if p >= 0 else None,
                seen[start[i]], seen[finish[i]], seen[es[i]], seen[ef[i]], seen[ls[i]], seen[lf[i]],
                dur[i], total[i], free[i], critical[i], round(pct[i], 6), i in in_cycle,
                sch.driver_of(i) if not summary else _SUMMARY))
        else:
            append(TaskSchedule(
                task.id, uid if uid is not None else task.id, task.name, levels[i], outline.numbers[i], summary,
                (not summary) and milestone[i], ids[p] if p >= 0 else None, in_cycle=i in in_cycle))
    return Schedule(
        plan=plan, tasks=out, links=sch.link_schedules(), findings=findings,
        project_start=from_minutes(min((start[i] for i in leaves), default=sch.project_start)),
        project_finish=from_minutes(max((finish[i] for i in leaves), default=sch.project_start)),
    )


def _total_slack(sch: _Scheduler, i: int) -> float:
    if sch.is_alap[i]:
        return 0.0
    cal = sch.cal[i]
    es, ef = sch.es[i], sch.ef[i]
    if i in sch.link_es:  # measured from where the links alone would put it
        es = sch.link_es[i]
        ef = sch._after(i, es, sch.dur[i])
    finish_slack = cal.work_at(sch.lf[i]) - cal.work_at(ef)
    if sch.astart[i] is not None:
        return float(finish_slack)
    start_slack = cal.work_at(sch.ls[i]) - cal.work_at(es)
    return float(min(start_slack, finish_slack))


def _free_slack(sch: _Scheduler, leaves: list[int], total: list[float], free: list[float]) -> None:
    """Room before any unfinished successor's early date moves (never negative), per leaf."""
    net = sch.net
    afinish, is_alap, children, cal_l = sch.afinish, sch.is_alap, sch.outline.children, sch.cal
    es, ef, ls, lf = sch.es, sch.ef, sch.ls, sch.lf
    out_links, succ_l, links = net.out_links, net.succ_index, net.links
    fs_ff = (LinkType.FS, LinkType.FF)
    fs_ss = (LinkType.FS, LinkType.SS)
    for i in leaves:
        if afinish[i] is not None:
            continue  # 0.0
        best: float | None = None
        cal = cal_l[i]
        for k in out_links[i]:
            s = succ_l[k]
            if afinish[s] is not None:
                continue
            kind = links[k].type
            p_date = ef[i] if kind in fs_ff else es[i]
            if is_alap[s] and not children[s]:
                s_es, s_ef = ls[s], lf[s]
            else:
                s_es, s_ef = es[s], ef[s]
            s_date = s_es if kind in fs_ss else s_ef
            lag, elapsed = sch._lag(k)
            if elapsed:
                lag = lag * sch.plan.settings.minutes_per_day / 1440.0
            value = cal.work_at(s_date) - cal.work_at(p_date) - lag
            best = value if best is None else min(best, value)
        if best is None:
            best = total[i]
        free[i] = max(0.0, float(best))

"""From the passes' raw minutes to the published schedule: slack, critical flags, summary roll-ups."""

from __future__ import annotations

import datetime as dt
from collections import deque
from itertools import repeat
from operator import attrgetter, mul
from typing import TYPE_CHECKING

import numpy as np

from wbs_tools.core.calendar import WorkCalendar, from_minutes
from wbs_tools.core.findings import make_finding
from wbs_tools.core.model import Link
from wbs_tools.core.schedule import Driver, DriverKind, Schedule, TaskSchedule
from wbs_tools.core.slack import LeafDates, free_slack, link_schedules, total_slack

if TYPE_CHECKING:
    from wbs_tools.core.cpm import _Scheduler


_SUMMARY = Driver(DriverKind.SUMMARY)  # immutable, so every summary shares it
LINK = DriverKind.LINK


def roll_up(sch: _Scheduler) -> Schedule:
    # the passes are done: their adjacency lists (a few hundred bytes a task) go before the results are
    # built in their place, so a million-task plan peaks that much lower
    sch.net.in_links = sch.net.out_links = sch.anc_in = sch.anc_out = []
    plan, outline = sch.plan, sch.outline
    tasks = plan.tasks
    n = len(tasks)
    children, levels, active = outline.children, outline.levels, sch.active
    astart, afinish, is_alap, dur_l = sch.astart, sch.afinish, sch.is_alap, sch.dur
    free = [0.0] * n
    limit = plan.settings.critical_slack_minutes
    leaves = [i for i in range(n) if active[i] and not children[i]]
    es0, ef0, ls0, lf0 = sch.es, sch.ef, sch.ls, sch.lf
    # the leaves' values, column by column over every task (summaries are overwritten below, tasks
    # not scheduled reset after)
    if any(is_alap):
        start = [(ls if alap else es) if a is None else a for a, alap, es, ls in zip(astart, is_alap, es0, ls0,
                                                                                     strict=True)]
        finish = [(lf if alap else ef) if f is None else f for f, alap, ef, lf in zip(afinish, is_alap, ef0, lf0,
                                                                                      strict=True)]
    else:
        start = [es if a is None else a for a, es in zip(astart, es0, strict=True)]
        finish = [ef if f is None else f for f, ef in zip(afinish, ef0, strict=True)]
    pct = [p if f is None else 100.0 for f, p in zip(afinish, sch.pct, strict=True)]
    dur = list(dur_l)
    leaf_dates = LeafDates(sch, leaves)
    leaf_slack = total_slack(sch, leaf_dates)
    at = leaf_dates.leaves
    crit = np.zeros(n, dtype=bool)
    crit[at] = (leaf_slack[at] <= limit) & (np.array(pct)[at] < 100) & leaf_dates.unfinished[at]
    critical: list[bool] = crit.tolist()
    total: list[float] = leaf_slack.tolist()
    if len(leaves) < n and not all(active):
        for i in range(n):
            if not active[i]:
                start[i] = finish[i] = 0
                pct[i] = dur[i] = 0.0
    free_slack(sch, leaf_dates, total, free)
    # summaries, deepest first, so nested summaries roll up their rolled-up children
    es, ef, ls, lf = list(es0), list(ef0), list(ls0), list(lf0)
    cal = sch.project_cal
    work_at = cal.work_at
    summaries = [i for i in range(n) if children[i] and active[i]]
    everyone = all(active)
    any_alap = any(is_alap)
    # per-kid values through map(list.__getitem__, kids): the aggregates run in C
    at_start, at_finish, at_es, at_ef = start.__getitem__, finish.__getitem__, es.__getitem__, ef.__getitem__
    at_ls, at_lf, at_dur, at_pct = ls.__getitem__, lf.__getitem__, dur.__getitem__, pct.__getitem__
    rolled: list[int] = []  # the summaries with something scheduled under them
    for i in sorted(summaries, key=lambda i: -levels[i]):
        kids = children[i] if everyone else [c for c in children[i] if active[c]]
        if not kids:  # nothing under it is scheduled: a zero-length summary at the project start
            start[i] = finish[i] = es[i] = ef[i] = ls[i] = lf[i] = sch.project_start
            pct[i] = dur[i] = 0.0
            continue
        first = start[i] = min(map(at_start, kids))
        last = finish[i] = max(map(at_finish, kids))
        if any_alap:
            es[i] = min([(ls0[c] if is_alap[c] and not children[c] else es[c]) for c in kids])
            ef[i] = max([(lf0[c] if is_alap[c] and not children[c] else ef[c]) for c in kids])
        else:
            es[i] = min(map(at_es, kids))
            ef[i] = max(map(at_ef, kids))
        ls[i] = min(map(at_ls, kids))
        lf[i] = max(map(at_lf, kids))
        dur[i] = float(work_at(last) - work_at(first))
        weight = sum(map(at_dur, kids))
        pct[i] = (sum(map(mul, map(at_dur, kids), map(at_pct, kids))) / weight) if weight else (
            sum(map(at_pct, kids)) / len(kids))
        critical[i] = any(map(critical.__getitem__, kids))
        rolled.append(i)
    _summary_slack(cal, rolled, (es, ef, ls, lf), total, free)

    # every distinct instant converted once: many tasks share dates
    instants = set(start).union(finish, es, ef, ls, lf)
    seen: dict[int, dt.datetime | None] = dict(zip(instants, map(from_minutes, instants), strict=True))
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

    # the results, column by column; a task that is not scheduled keeps the defaults
    ids = list(map(attrgetter("id"), tasks))
    uids = list(map(attrgetter("uid"), tasks))
    if None in uids:
        uids = [t.id if t.uid is None else t.uid for t in tasks]
    summary = list(map(bool, children))
    milestone = [m and not c for m, c in zip(sch.milestone, children, strict=True)]
    parent_id = [ids[p] if p >= 0 else None for p in outline.parent]
    in_cycle = sch.net.in_cycle
    cycle = [i in in_cycle for i in range(n)] if in_cycle else [False] * n
    links = sch.net.links
    drivers = list(sch.driver)
    by_link = [i for i, d in enumerate(drivers) if type(d) is int]  # a link driver is its number
    for i, d in zip(by_link, _link_drivers([links[drivers[i]] for i in by_link]), strict=True):  # type: ignore[index]
        drivers[i] = d
    for i in summaries:
        drivers[i] = _SUMMARY
    dates = [list(map(seen.__getitem__, column)) for column in (start, finish, es, ef, ls, lf)]
    if len(leaves) + len(summaries) < n:
        for i in range(n):
            if not active[i]:
                for column in dates:
                    column[i] = None
    names = list(map(attrgetter("name"), tasks))
    out = list(map(TaskSchedule, ids, uids, names, levels, outline.numbers, summary, milestone,
                   parent_id, *dates, dur, total, free, critical, list(map(round, pct, repeat(6))), cycle, drivers))
    return Schedule(
        plan=plan, tasks=out, links=link_schedules(sch, leaf_dates), findings=findings,
        project_start=from_minutes(min(map(start.__getitem__, leaves), default=sch.project_start)),
        project_finish=from_minutes(max(map(finish.__getitem__, leaves), default=sch.project_start)),
    )


_NEW = object.__new__
_SET_KIND, _SET_LINK, _SET_DATE = (vars(Driver)[name].__set__ for name in ("kind", "link", "date"))  # slot setters


def _link_drivers(links: list[Link]) -> list[Driver]:
    """``[Driver(DriverKind.LINK, link) for link in links]`` at half the cost: a frozen dataclass's
    ``__init__`` sets each field through ``object.__setattr__``; the slots' own setters run in C."""
    out = list(map(_NEW, repeat(Driver, len(links))))
    deque(map(_SET_KIND, out, repeat(LINK)), 0)
    deque(map(_SET_LINK, out, links), 0)
    deque(map(_SET_DATE, out, repeat(None)), 0)
    return out


def _summary_slack(cal: WorkCalendar, rolled: list[int], dates: tuple[list[int], list[int], list[int], list[int]],
                   total: list[float], free: list[float]) -> None:
    """Total slack of the rolled-up summaries on the project calendar, the smaller of start and finish
    slack, and free slack as the same never negative: in bulk once every summary has its dates (no
    parent reads them)."""
    if not rolled:
        return
    es, ef, ls, lf = (np.array(list(map(column.__getitem__, rolled)), dtype=np.int64) for column in dates)
    work = cal.work_at_many
    slack = np.minimum(work(ls) - work(es), work(lf) - work(ef)).tolist()
    for i, value in zip(rolled, slack, strict=True):
        total[i] = value
        free[i] = value if value > 0.0 else 0.0

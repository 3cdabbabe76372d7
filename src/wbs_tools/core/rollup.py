"""From the passes' raw minutes to the published schedule: slack, critical flags, summary roll-ups."""

from __future__ import annotations

import datetime as dt
from functools import partial
from itertools import compress, repeat
from operator import and_, attrgetter, gt, mul
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from wbs_tools.core.calendar import WorkCalendar, from_minutes
from wbs_tools.core.findings import make_finding
from wbs_tools.core.model import Link
from wbs_tools.core.schedule import Column, Driver, DriverKind, RecordTable, Schedule, TaskSchedule, records
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
    summary = list(map(bool, children))
    leaves = list(compress(range(n), map(gt, active, summary)))  # active and not a summary
    es0, ef0, ls0, lf0 = sch.es, sch.ef, sch.ls, sch.lf
    leaf_dates = LeafDates(sch, leaves)
    # the leaves' values, column by column over every task (summaries are overwritten below, tasks
    # not scheduled reset after); only the tasks with actual dates differ from the passes' dates
    finished = np.flatnonzero(~leaf_dates.unfinished).tolist()
    if any(is_alap):
        start = [(ls if alap else es) if a is None else a for a, alap, es, ls in zip(astart, is_alap, es0, ls0,
                                                                                     strict=True)]
        finish = [(lf if alap else ef) if f is None else f for f, alap, ef, lf in zip(afinish, is_alap, ef0, lf0,
                                                                                      strict=True)]
    else:
        start, finish = list(es0), list(ef0)
        for i in np.flatnonzero(leaf_dates.started).tolist():
            start[i] = astart[i]
        for i in finished:
            finish[i] = afinish[i]
    pct = list(sch.pct)
    for i in finished:
        pct[i] = 100.0
    dur = list(dur_l)
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
    summaries = list(compress(range(n), map(and_, summary, active)))
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

    findings = list(sch.findings)
    deadline_l = sch.deadline
    for i in leaves:  # in task order, after the passes' findings
        deadline = deadline_l[i]
        if deadline is not None and finish[i] > deadline:
            task = tasks[i]
            findings.append(make_finding(
                "schedule.deadline-missed",
                f"task {task.id} '{task.name}' finishes {from_minutes(finish[i]):%Y-%m-%d} after its deadline "
                f"{task.deadline:%Y-%m-%d}", task_id=task.id, field="deadline",
                location=task.cells.get("deadline")))

    # the results as columns; what only some readers need is computed when first read (see RecordTable)
    ids = list(map(attrgetter("id"), tasks))
    uids = list(map(attrgetter("uid"), tasks))
    if None in uids:
        uids = [t.id if t.uid is None else t.uid for t in tasks]
    drivers = list(sch.driver)
    by_link = list(compress(range(n), map(isinstance, drivers, repeat(int))))  # a link driver is its number
    driving_link = np.full(n, -1, dtype=np.intp)
    driving_link[by_link] = list(map(drivers.__getitem__, by_link))
    unscheduled = None if len(leaves) + len(summaries) == n else np.flatnonzero(~np.array(active, dtype=bool))
    dates = _DateColumns(np.array([start, finish, es, ef, ls, lf], dtype=np.int64), unscheduled)
    in_cycle, links, pct_l = sch.net.in_cycle, sch.net.links, pct
    columns: dict[str, Column] = {
        "id": ids, "uid": uids, "name": lambda: list(map(attrgetter("name"), tasks)), "outline_level": levels,
        "outline_number": outline.numbers, "summary": summary,
        "milestone": list(map(gt, sch.milestone, summary)),  # a milestone and not a summary
        "parent_id": lambda: list(map([*ids, None].__getitem__, outline.parent)),  # -1 (top level) reads None
        **{name: partial(dates.column, j) for j, name in enumerate(DATE_FIELDS)},
        "duration_minutes": dur, "total_slack_minutes": total, "free_slack_minutes": free, "critical": critical,
        "percent_complete": lambda: list(map(round, pct_l, repeat(6))),
        "in_cycle": lambda: [i in in_cycle for i in range(n)] if in_cycle else [False] * n,
        "driver": lambda: _drivers(drivers, by_link, links, summaries),
    }
    return Schedule(
        plan=plan, tasks=RecordTable(TaskSchedule, n, columns), links=link_schedules(sch, leaf_dates, driving_link),
        findings=findings,
        project_start=from_minutes(min(map(start.__getitem__, leaves), default=sch.project_start)),
        project_finish=from_minutes(max(map(finish.__getitem__, leaves), default=sch.project_start)),
    )


DATE_FIELDS = ("start", "finish", "early_start", "early_finish", "late_start", "late_finish")


class _DateColumns:
    """The six date columns, kept as minutes until one is read; then every distinct instant is
    converted once for all six (many tasks share dates, and so share one datetime)."""

    def __init__(self, minutes: npt.NDArray[np.int64], unscheduled: npt.NDArray[np.intp] | None) -> None:
        self._minutes = minutes
        self._unscheduled = unscheduled  # tasks without dates
        self._datetimes: dict[int, dt.datetime] | None = None

    def column(self, j: int) -> list[dt.datetime | None]:
        values = self._minutes[j].tolist()
        if self._datetimes is None:
            instants = set(values).union(*(row.tolist() for k, row in enumerate(self._minutes) if k != j))
            self._datetimes = dict(zip(instants, map(from_minutes, instants), strict=True))
        out: list[dt.datetime | None] = list(map(self._datetimes.__getitem__, values))
        if self._unscheduled is not None:
            for i in self._unscheduled.tolist():
                out[i] = None
        return out


def _drivers(drivers: list[Driver | int | None], by_link: list[int], links: list[Link], summaries: list[int]
             ) -> list[Driver | None]:
    """The drivers as published: a link number becomes its Driver; every summary is rolled up."""
    out = list(drivers)
    for i, d in zip(by_link, _link_drivers(list(map(links.__getitem__, map(drivers.__getitem__, by_link)))),  # type: ignore[arg-type]
                    strict=True):
        out[i] = d
    for i in summaries:
        out[i] = _SUMMARY
    return out  # type: ignore[return-value]


def _link_drivers(links: list[Link]) -> list[Driver]:
    """``[Driver(DriverKind.LINK, link) for link in links]``, built in C."""
    return records(Driver, zip(repeat(LINK), links, repeat(None)))


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

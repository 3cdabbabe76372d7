"""From the passes' raw minutes to the published schedule: slack, critical flags, summary roll-ups."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from functools import partial
from itertools import compress, repeat
from operator import and_, attrgetter, gt, is_not
from typing import TYPE_CHECKING, cast

import numpy as np
import numpy.typing as npt

from wbs_tools.core.calendar import WorkCalendar, from_minutes
from wbs_tools.core.findings import make_finding
from wbs_tools.core.model import Link, Task
from wbs_tools.core.schedule import Column, Driver, DriverKind, RecordTable, Schedule, TaskSchedule, records
from wbs_tools.core.slack import FloatArray, IntArray, LeafDates, free_slack, link_schedules, total_slack

if TYPE_CHECKING:
    from wbs_tools.core.cpm import _Scheduler


_SUMMARY = Driver(DriverKind.SUMMARY)  # immutable, so every summary shares it
LINK = DriverKind.LINK


def roll_up(sch: _Scheduler) -> Schedule:
    # the passes are done: their adjacency lists (a few hundred bytes a task) go before the results are
    # built in their place, so a million-task plan peaks that much lower
    sch.net.in_links, sch.net.out_links, sch.anc_in, sch.anc_out = [], [], [], []
    plan, outline = sch.plan, sch.outline
    tasks = plan.tasks
    n = len(tasks)
    children, levels, active = outline.children, outline.levels, sch.active
    astart, afinish, is_alap, dur_l = sch.astart, sch.afinish, sch.is_alap, sch.dur
    limit = plan.settings.critical_slack_minutes
    summary = list(map(bool, children))
    leaves = list(compress(range(n), map(gt, active, summary)))  # active and not a summary
    leaf_dates = LeafDates(sch, leaves)
    # every column as an array over all tasks: the leaves' values first (summaries are rolled up
    # below, tasks not scheduled reset); only the tasks with actual dates differ from the passes' dates
    es, ef, ls, lf = (column.copy() for column in leaf_dates.instants)
    any_alap = any(is_alap)
    if any_alap:
        alap = np.array(is_alap, dtype=bool)
        start, finish = np.where(alap, ls, es), np.where(alap, lf, ef)
    else:
        start, finish = es.copy(), ef.copy()
    started = np.flatnonzero(leaf_dates.started)
    finished = np.flatnonzero(~leaf_dates.unfinished)
    start[started] = list(map(astart.__getitem__, started.tolist()))
    finish[finished] = list(map(afinish.__getitem__, finished.tolist()))
    pct = np.array(sch.pct, dtype=np.float64)
    pct[finished] = 100.0
    dur = np.array(dur_l, dtype=np.float64)
    total = total_slack(sch, leaf_dates)
    at = leaf_dates.leaves
    critical = np.zeros(n, dtype=bool)
    critical[at] = (total[at] <= limit) & (pct[at] < 100) & leaf_dates.unfinished[at]
    scheduled = leaf_dates.scheduled
    off = np.flatnonzero(~scheduled)
    start[off] = finish[off] = 0
    pct[off] = dur[off] = 0.0
    free = free_slack(sch, leaf_dates, total)
    is_summary = np.array(summary, dtype=bool)
    rolled = _roll_summaries(sch, scheduled, is_summary, (start, finish, es, ef, ls, lf), dur, pct, critical,
                             alap & ~is_summary if any_alap else None)
    _summary_slack(sch.project_cal, rolled, (es, ef, ls, lf), total, free)

    findings = list(sch.findings)
    deadline_l = sch.deadline
    is_leaf = leaf_dates.is_leaf
    for i in compress(range(n), map(is_not, deadline_l, repeat(None))):  # in task order, after the passes' findings
        if is_leaf[i] and finish[i] > deadline_l[i]:  # type: ignore[operator]
            task = tasks[i]
            findings.append(make_finding(
                "schedule.deadline-missed",
                f"task {task.id} '{task.name}' finishes {from_minutes(int(finish[i])):%Y-%m-%d} after its "
                f"deadline {task.deadline:%Y-%m-%d}", task_id=task.id, field="deadline",
                location=task.cells.get("deadline")))

    # the results as columns; what only some readers need is computed when first read (see RecordTable)
    ids = sch.ids
    drivers = list(sch.driver)
    by_link = list(compress(range(n), map(isinstance, drivers, repeat(int))))  # a link driver is its number
    driving_link = np.full(n, -1, dtype=np.intp)
    driving_link[by_link] = cast(list[int], list(map(drivers.__getitem__, by_link)))
    dates = _DateColumns(np.stack((start, finish, es, ef, ls, lf)), off if len(off) else None)
    in_cycle, links = sch.net.in_cycle, sch.net.links
    columns: dict[str, Column] = {
        "id": ids, "uid": partial(_uids, tasks), "name": lambda: list(map(attrgetter("name"), tasks)),
        "outline_level": levels, "outline_number": lambda: outline.numbers, "summary": summary,
        "milestone": list(map(gt, sch.milestone, summary)),  # a milestone and not a summary
        "parent_id": lambda: list(map([*ids, None].__getitem__, outline.parent)),  # -1 (top level) reads None
        **{name: partial(dates.column, j) for j, name in enumerate(DATE_FIELDS)},
        "duration_minutes": dur.tolist, "total_slack_minutes": total.tolist, "free_slack_minutes": free.tolist,
        "critical": critical.tolist, "percent_complete": lambda: list(map(round, pct.tolist(), repeat(6))),
        "in_cycle": lambda: [i in in_cycle for i in range(n)] if in_cycle else [False] * n,
        "driver": lambda: _drivers(drivers, by_link, links, compress(range(n), map(and_, summary, active))),
    }
    return Schedule(
        plan=plan, tasks=RecordTable(TaskSchedule, n, columns), links=link_schedules(sch, leaf_dates, driving_link),
        findings=findings,
        project_start=from_minutes(int(start[at].min()) if leaves else sch.project_start),
        project_finish=from_minutes(int(finish[at].max()) if leaves else sch.project_start),
    )


def _uids(tasks: list[Task]) -> list[int]:
    """A task without a unique ID is known by its ID."""
    uids = list(map(attrgetter("uid"), tasks))
    if None in uids:
        uids = [t.id if t.uid is None else t.uid for t in tasks]
    return uids


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


def _drivers(drivers: list[Driver | int | None], by_link: list[int], links: list[Link], summaries: Iterable[int]
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


def _roll_summaries(sch: _Scheduler, scheduled: npt.NDArray[np.bool_], summary: npt.NDArray[np.bool_],
                    dates: tuple[IntArray, ...], dur: FloatArray, pct: FloatArray, critical: npt.NDArray[np.bool_],
                    alap_leaf: npt.NDArray[np.bool_] | None) -> IntArray:
    """Summaries take their scheduled subtasks' earliest start and latest finish, duration on the
    project calendar, duration-weighted % complete and critical flag; one outline level at a time,
    deepest first, so nested summaries roll up rolled-up subtasks. A summary with nothing scheduled
    under it sits at the project start with no length. Returns the summaries rolled up.

    Subtasks of one level are in row order, so each summary's are contiguous and every aggregate is
    one ``reduceat``. An ALAP subtask offers its late dates as early dates."""
    outline = sch.outline
    start, finish, es, ef, ls, lf = dates
    parent = np.array(outline.parent, dtype=np.intp)
    levels = np.array(outline.levels, dtype=np.int64)
    kids = np.flatnonzero(scheduled & (parent >= 0))
    lonely = np.setdiff1d(np.flatnonzero(scheduled & summary), parent[kids])
    for column in dates:
        column[lonely] = sch.project_start
    pct[lonely] = dur[lonely] = 0.0
    kids = kids[np.argsort(-levels[kids], kind="stable")]  # deepest level first, rows in order within one
    work = sch.project_cal.work_at_many
    rolled = []
    for group in np.split(kids, np.flatnonzero(np.diff(levels[kids])) + 1):
        if not len(group):
            continue
        under = parent[group]
        cut = np.flatnonzero(np.r_[True, under[1:] != under[:-1]])  # where each summary's subtasks begin
        up = under[cut]
        first = start[up] = np.minimum.reduceat(start[group], cut)
        last = finish[up] = np.maximum.reduceat(finish[group], cut)
        if alap_leaf is None:
            es[up] = np.minimum.reduceat(es[group], cut)
            ef[up] = np.maximum.reduceat(ef[group], cut)
        else:
            late = alap_leaf[group]
            es[up] = np.minimum.reduceat(np.where(late, ls[group], es[group]), cut)
            ef[up] = np.maximum.reduceat(np.where(late, lf[group], ef[group]), cut)
        ls[up] = np.minimum.reduceat(ls[group], cut)
        lf[up] = np.maximum.reduceat(lf[group], cut)
        dur[up] = work(last) - work(first)
        weight = np.add.reduceat(dur[group], cut)
        weighted = np.add.reduceat(dur[group] * pct[group], cut)
        plain = np.add.reduceat(pct[group], cut) / np.diff(np.append(cut, len(group)))
        pct[up] = np.where(weight != 0.0, weighted / np.where(weight != 0.0, weight, 1.0), plain)
        critical[up] = np.logical_or.reduceat(critical[group], cut)
        rolled.append(up)
    return np.concatenate(rolled) if rolled else np.empty(0, dtype=np.intp)


def _summary_slack(cal: WorkCalendar, rolled: IntArray, dates: tuple[IntArray, IntArray, IntArray, IntArray],
                   total: FloatArray, free: FloatArray) -> None:
    """Total slack of the rolled-up summaries on the project calendar, the smaller of start and finish
    slack, and free slack as the same never negative: in bulk once every summary has its dates (no
    parent reads them)."""
    if not len(rolled):
        return
    es, ef, ls, lf = (column[rolled] for column in dates)
    work = cal.work_at_many
    slack = np.minimum(work(ls) - work(es), work(lf) - work(ef))
    total[rolled] = slack
    free[rolled] = np.where(slack > 0.0, slack, 0.0)

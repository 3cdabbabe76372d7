"""Slack columns in bulk: working minutes from the calendars' day tables, arithmetic in numpy.

The per-task and per-link steps of slack are a few look-ups and a subtraction each; done one by one
in Python they cost more than the passes that produced the dates. Grouping the look-ups by calendar
(plans use a handful) lets ``WorkCalendar.work_at_many`` convert whole columns, and the arithmetic run
as array operations. Values are the same as step by step: working minutes are exact integers in
float64.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import compress, repeat
from operator import is_, itemgetter
from typing import TYPE_CHECKING, cast

import numpy as np
import numpy.typing as npt

from wbs_tools.core.calendar import WorkCalendar
from wbs_tools.core.cpm_base import LINK_FF, LINK_SS
from wbs_tools.core.schedule import LinkSchedule, RecordTable

if TYPE_CHECKING:
    from wbs_tools.core.cpm import _Scheduler


IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


class Calendars:
    """Each task's calendar as a small code, so look-ups can be grouped by calendar."""

    def __init__(self, cal_l: list[WorkCalendar]) -> None:
        self.distinct = list(dict.fromkeys(cal_l))  # by identity
        code_of = {cal: j for j, cal in enumerate(self.distinct)}
        self.codes = np.fromiter(map(code_of.__getitem__, cal_l), dtype=np.intp, count=len(cal_l))

    def work_minutes(self, tasks: IntArray, instants: IntArray) -> FloatArray:
        """Working minute of each instant on the calendar of the task beside it, as float64: exact
        below 2**53, and the slack arithmetic subtracts float lags from it anyway."""
        if len(self.distinct) == 1:
            return self.distinct[0].work_at_many(instants)
        codes = self.codes[tasks]
        out = np.empty(len(tasks))
        for j, cal in enumerate(self.distinct):
            where = np.flatnonzero(codes == j)
            if len(where):
                out[where] = cal.work_at_many(instants[where])
        return out


def lag_minutes(sch: _Scheduler, ks: IntArray) -> FloatArray:
    """Lag of each link in ``ks`` in working minutes (elapsed lags at minutes_per_day per 1440)."""
    lags, lag_of = sch.lags, sch._lag
    m = len(lags)
    if None in lags:  # percent lags of summaries, known once the passes are done
        lags = list(lags)
        for k in compress(range(m), map(is_, lags, repeat(None))):
            lags[k] = lag_of(k)
    pairs = cast(list[tuple[float, bool]], lags)  # no None left
    minutes = np.fromiter(map(itemgetter(0), pairs), dtype=np.float64, count=m)[ks]
    elapsed = np.fromiter(map(itemgetter(1), pairs), dtype=np.bool_, count=m)[ks]
    if elapsed.any():  # as m * per_day / 1440.0 on Python numbers: the product is exact here too
        minutes[elapsed] = minutes[elapsed] * sch.plan.settings.minutes_per_day / 1440.0
    return minutes


def unset(values: Sequence[object]) -> npt.NDArray[np.bool_]:
    """Which entries are None."""
    return np.array(list(map(is_, values, repeat(None))), dtype=np.bool_)


class LeafDates:
    """The passes' early and late dates of the scheduled leaves, as instants and as working minutes on
    each leaf's own calendar, looked up once for total, free and link slack."""

    def __init__(self, sch: _Scheduler, leaves: list[int]) -> None:
        n = len(sch.es)
        self.cals = Calendars(sch.cal)
        self.leaves = at = np.array(leaves, dtype=np.intp)
        self.is_leaf = np.zeros(n, dtype=bool)
        self.is_leaf[at] = True
        self.scheduled = np.array(sch.active, dtype=bool)
        self.unfinished = unset(sch.afinish)
        self.started = ~unset(sch.astart)
        codes = self.cals.codes[at]  # the leaves by calendar, once for the four columns
        self._groups = [(cal, at[codes == j]) for j, cal in enumerate(self.cals.distinct)]
        if len(self._groups) == 1:
            self._groups = [(self.cals.distinct[0], at)]
        #: the passes' early and late start and finish of every task, as instants
        self.instants = tuple(np.fromiter(x, dtype=np.int64, count=n) for x in (sch.es, sch.ef, sch.ls, sch.lf))
        self.w_es, self.w_ef, self.w_ls, self.w_lf = map(self._own, self.instants)
        net = sch.net
        self.pred, self.succ = net.link_ends()  # per link, for free and link slack

    def _own(self, instants: IntArray) -> FloatArray:
        """Working minutes of each leaf's instant on its own calendar (0 at the other tasks)."""
        out = np.zeros(len(instants))
        for cal, where in self._groups:
            out[where] = cal.work_at_many(instants[where])
        return out


def total_slack(sch: _Scheduler, dates: LeafDates) -> FloatArray:
    """Per task, for the leaves: the smaller of start and finish slack (finish slack once started), in
    working minutes on its calendar, measured from where the links alone would put it; 0 for an ALAP
    task (and for the others)."""
    at = dates.leaves
    finish_slack = dates.w_lf[at] - dates.w_ef[at]
    start_slack = dates.w_ls[at] - dates.w_es[at]
    started = dates.started[at]
    slack = np.where(started, finish_slack, np.minimum(start_slack, finish_slack))
    slack[np.array(sch.is_alap, dtype=bool)[at]] = 0.0
    out = np.zeros(len(dates.is_leaf))
    out[at] = slack
    link_es = sch.link_es
    for i, e_s in link_es.items():  # a constraint or the status date held it later than its links
        if not dates.is_leaf[i] or sch.is_alap[i]:
            continue
        cal = sch.cal[i]
        e_f = sch._after(i, e_s, sch.dur[i])
        finish = cal.work_at(sch.lf[i]) - cal.work_at(e_f)
        start = cal.work_at(sch.ls[i]) - cal.work_at(e_s)
        out[i] = finish if sch.astart[i] is not None or finish <= start else start
    return out


def free_slack(sch: _Scheduler, dates: LeafDates, total: FloatArray) -> FloatArray:
    """Room before any unfinished successor's early date moves (never negative), per unfinished leaf:
    the least over its out-links of the successor's date less its own date and the lag, in working
    minutes on its own calendar; its total slack when no such link. 0 for the other tasks."""
    net = sch.net
    n = len(total)
    free = np.zeros(n)
    unfinished = dates.unfinished
    open_leaf = dates.is_leaf & unfinished
    if not open_leaf.any():
        return free
    pred, succ = dates.pred, dates.succ
    keep = open_leaf[pred] & unfinished[succ]
    if net.dropped:
        keep[list(net.dropped)] = False
    ks = np.flatnonzero(keep)
    p, s = pred[ks], succ[ks]
    kind = np.array(sch.ltype, dtype=np.int8)[ks]
    from_finish = kind <= LINK_FF  # FS and FF leave from the predecessor's finish
    to_start = (kind == 0) | (kind == LINK_SS)  # FS and SS reach the successor's start
    late = (np.array(sch.is_alap, dtype=bool) & dates.is_leaf)[s]  # an ALAP leaf waits at its late dates
    w_p = np.where(from_finish, dates.w_ef[p], dates.w_es[p])
    cals = dates.cals
    # the successor's date on the predecessor's calendar: already looked up when they share one
    w_s = np.where(late, np.where(to_start, dates.w_ls[s], dates.w_lf[s]),
                   np.where(to_start, dates.w_es[s], dates.w_ef[s]))
    other = np.flatnonzero((cals.codes[p] != cals.codes[s]) | ~dates.is_leaf[s])
    if len(other):
        es, ef, ls, lf = dates.instants
        instants = [(ls[j] if st else lf[j]) if lt else (es[j] if st else ef[j])
                    for j, lt, st in zip(s[other].tolist(), late[other].tolist(), to_start[other].tolist(),
                                         strict=True)]
        w_s[other] = cals.work_minutes(p[other], np.array(instants, dtype=np.int64))
    value = (w_s - w_p) - lag_minutes(sch, ks)
    best = np.full(n, np.inf)
    np.minimum.at(best, p, value)
    least = np.where(best == np.inf, total, best)
    free[open_leaf] = np.where(least > 0.0, least, 0.0)[open_leaf]
    return free


def link_schedules(sch: _Scheduler, dates: LeafDates, driving_link: IntArray) -> RecordTable[LinkSchedule]:
    """The links between scheduled tasks, in order, with their slack: how far the successor's early
    start is past what this link alone asks, in its working minutes; whether the link is the one that
    sets it (``driving_link``: per task, the number of the link that sets its start, or -1). A successor
    rolled up, or placed by actuals or by hand rather than by its links: neither."""
    net = sch.net
    links = net.links
    m = len(links)
    pred, succ = dates.pred[:m], dates.succ[:m]
    scheduled = dates.scheduled
    keep = scheduled[pred] & scheduled[succ]
    if net.dropped:
        keep[list(net.dropped)] = False
    kept = np.flatnonzero(keep)
    s = succ[kept]
    fixed = dates.started | np.array(sch.manual, dtype=bool) | ~dates.is_leaf  # is_leaf: active, no children
    loose = np.flatnonzero(~fixed[s])  # positions in kept whose successor its links place
    slack = np.zeros(len(kept))
    if len(loose):
        s_loose = s[loose]
        cand = np.fromiter(sch.cand, dtype=np.int64, count=len(sch.cand))[kept[loose]]
        value = dates.w_es[s_loose] - dates.cals.work_minutes(s_loose, cand)
        slack[loose] = np.where(value > 0.0, value, 0.0)
    driving = ~fixed[s] & (driving_link[s] == kept)
    chosen = links if len(kept) == m else list(map(links.__getitem__, kept.tolist()))
    return RecordTable(LinkSchedule, len(chosen),
                       {"link": chosen, "driving": driving.tolist, "slack_minutes": slack.tolist})

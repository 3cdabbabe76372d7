"""The forward and backward passes of the critical path method.

The common case (a leaf on links from other leaves, no actuals, constraint or manual dates) is inlined
over the parallel lists with the calendar memos read directly; every other case goes through the
general helpers, which follow Microsoft Project's rules one by one.
"""

from __future__ import annotations

from itertools import repeat
from operator import is_not, or_

from wbs_tools.core.calendar import from_minutes
from wbs_tools.core.cpm_base import (
    LINK_FF,
    LINK_FS,
    LINK_SF,
    LINK_SS,
    MANUAL_DRIVER,
    PROJECT_START_DRIVER,
    C,
    SchedulerBase,
)
from wbs_tools.core.network import Runs
from wbs_tools.core.schedule import Driver, DriverKind

_FROM_START_OR_FINISH_TO_START = (LINK_FS, LINK_SS)  # into a summary: the same early start for each subtask


class Passes(SchedulerBase):
    """Early dates forward, late dates backward, over the processing order of the network."""

    _actual: dict[int, Driver]  # the driver of tasks started at an instant, by instant

    # -- forward pass -----------------------------------------------------------------------------
    def _pred_dates(self, p: int) -> tuple[int, int]:
        if self.alap_pass and self.is_alap[p]:
            return self.ls[p], self.lf[p]
        return self.es[p], self.ef[p]

    def _early_start_via(self, k: int, i: int) -> int:
        p = self.net.pred_index[k]
        kind = self.ltype[k]
        if self.alap_pass and self.is_alap[p] and not self.is_alap[i]:
            pes, pef = self.ls[p], self.lf[p]
        else:
            pes, pef = self.es[p], self.ef[p]
        if kind == LINK_FS:
            return self._shift(k, pef, 1)
        if kind == LINK_SS:
            return self._shift(k, pes, 1)
        if kind == LINK_FF:
            start = self._before(i, self._shift(k, pef, 1), self.rem[i])
            return max(start, self.project_start)
        return self._before(i, self._shift(k, pes, 1), self.dur[i])  # SF: the lag counts from its start

    def _forward_special(self, i: int) -> None:
        """A leaf placed by hand or by its actual start (no links involved)."""
        if self.placed[i]:
            ms = self.manual_start[i]
            mf = self.manual_finish[i]
            self.es[i] = ms  # type: ignore[assignment]
            self.ef[i] = mf if mf is not None else self._after(i, ms, self.dur[i])  # type: ignore[arg-type]
            self.driver[i] = MANUAL_DRIVER
            return
        start: int = self.astart[i]  # type: ignore[assignment]
        driver = self._actual.get(start)
        if driver is None:  # one per date: tasks started together share it (drivers are immutable)
            driver = self._actual[start] = Driver(DriverKind.ACTUAL, date=from_minutes(start))
        self.driver[i] = driver
        af = self.afinish[i]
        self.es[i] = start
        self.ef[i] = af if af is not None else self._in_progress_finish(i, start)

    def _in_progress_finish(self, i: int, start: int) -> int:
        dur, rem = self.dur[i], self.rem[i]
        finish = self._after(i, start, dur)
        cd = self.cdate[i]
        if self.constraint[i] is C.FNET and cd is not None and finish < cd:
            finish = cd
        if self.plan.settings.reschedule_after_status_date and self.status is not None:
            done = dur - rem
            if self._after(i, start, done) < self.status:
                finish = max(finish, self._after(i, self._next_start(i, self.status), rem))
        return finish

    def _constrain_early(self, i: int, start: int, finish: int | None, driver: Driver | int
                         ) -> tuple[int, int | None, Driver | int]:
        ct, cd = self.constraint[i], self.cdate[i]
        if cd is None or ct in (C.ASAP, C.ALAP):
            return start, finish, driver
        dur = self.dur[i]
        new = start
        if ct is C.SNET:
            new = max(start, cd)
        elif ct is C.SNLT:
            new = min(start, cd)
        elif ct is C.FNET:
            new = max(start, self._before(i, cd, dur))
        elif ct is C.FNLT:
            new = min(start, self._before(i, cd, dur))
        elif ct is C.MSO:
            new = cd
        elif ct is C.MFO:
            return self._before(i, cd, dur), cd, Driver(DriverKind.CONSTRAINT, date=from_minutes(cd))
        if new != start:
            return new, finish, Driver(DriverKind.CONSTRAINT, date=from_minutes(cd))
        return start, finish, driver

    def _constrained_leaf(self, i: int, start: int, finish: int | None, driver: Driver | int) -> None:
        """The rest of a leaf's forward step when it has a constraint date or the status date may move
        it: ``start`` is where its links (or the project start) put it, already snapped to a start."""
        link_start = start
        start, finish, driver = self._constrain_early(i, start, finish, driver)
        if (start != link_start and isinstance(driver, Driver) and driver.kind is DriverKind.CONSTRAINT
                and self.constraint[i] is not C.MFO):
            finish = None
        if start < link_start:  # a constraint beats the links: slack goes negative
            self.link_es[i] = link_start
        status = self.status
        if self.plan.settings.reschedule_after_status_date and status is not None and start < status:
            start, finish = self._next_start(i, status), None
            driver = Driver(DriverKind.STATUS_DATE, date=from_minutes(status))
        self.driver[i] = driver
        if finish is None:
            af = self.afinish[i]
            finish = af if af is not None else self._after(i, start, self.dur[i])
        self.es[i] = start
        self.ef[i] = finish

    def _no_link_start(self, i: int) -> tuple[int, int | None, Driver]:
        """Start (before snapping), finish and driver of a leaf with no links."""
        ct = self.constraint[i]
        if ct is C.SNET:
            start: int = self.cdate[i]  # type: ignore[assignment]
            return start, None, Driver(DriverKind.CONSTRAINT, date=from_minutes(start))
        if ct is C.FNET:
            finish: int = self.cdate[i]  # type: ignore[assignment]
            return self._before(i, finish, self.dur[i]), finish, Driver(DriverKind.CONSTRAINT,
                                                                          date=from_minutes(finish))
        return self.project_start, None, PROJECT_START_DRIVER

    def _forward(self) -> None:
        n = self.net.n_tasks
        children = self.outline.children
        active = self.active
        es, ef, ls, lf = self.es, self.ef, self.ls, self.lf
        cand_l = self.cand
        in_links, anc_in = self.net.in_links, self.anc_in
        pred_l = self.net.pred_index
        ltype, lags = self.ltype, self.lags
        cal_l, dur_l, rem_l, elapsed_l, milestone_l = self.cal, self.dur, self.rem, self.elapsed, self.milestone
        astart_l, afinish_l, placed, cdate_l, is_alap = (self.astart, self.afinish, self.placed, self.cdate,
                                                         self.is_alap)
        driver_l = self.driver
        alap_pass = self.alap_pass
        project_start = self.project_start
        status = self.status
        late_status = self.plan.settings.reschedule_after_status_date and status is not None
        links_l = self.net.links
        everyone = all(active)
        at_es, at_ef = es.__getitem__, ef.__getitem__
        special = list(map(or_, placed, map(is_not, astart_l, repeat(None))))  # placed by hand or actuals
        runs = isinstance(in_links, Runs)  # links grouped by successor: a task's in-links are a run
        self._actual = {}
        via: dict[int, int] = {}  # FS/SS links into a summary: the early start they ask of its subtasks
        in_lo, in_hi = (in_links.lo, in_links.hi) if isinstance(in_links, Runs) else ([], [])
        for node in self.net.order:
            if node >= n or not active[node]:
                continue
            kids = children[node]
            if kids:
                live = kids if everyone else [c for c in kids if active[c]]
                if not live:
                    es[node] = ef[node] = project_start
                elif alap_pass:
                    es[node] = min(self._pred_dates(c)[0] for c in live)
                    ef[node] = max(self._pred_dates(c)[1] for c in live)
                else:
                    es[node] = min(map(at_es, live))
                    ef[node] = max(map(at_ef, live))
                continue
            if special[node]:
                self._forward_special(node)
                continue
            i = node
            cal = cal_l[i]
            wmemo, smemo, fmemo = cal._memo, cal._start_memo, cal._finish_memo
            finish: int | None = None
            driver: Driver | int
            anc = anc_in[i]
            ks = range(in_lo[i], in_hi[i]) if runs else in_links[i]
            if not ks and not (anc and any(in_hi[a] > in_lo[a] if runs else in_links[a] for a in anc)):
                start, finish, driver = self._no_link_start(i)
            else:
                start = 0
                best_k = -1
                alap_i = is_alap[i]
                for k in ks:
                    p = pred_l[k]
                    ty = ltype[k]
                    if alap_pass and is_alap[p] and not alap_i:
                        t = lf[p] if ty <= LINK_FF else ls[p]
                    else:
                        t = ef[p] if ty <= LINK_FF else es[p]
                    lag = lags[k]
                    if lag is None:
                        lag = self._lag(k)
                    minutes = lag[0]
                    if minutes:  # on the successor's calendar: this task's
                        if lag[1]:
                            t = t + round(minutes)
                        else:
                            wt = wmemo.get(t)
                            if wt is None:
                                wt = cal.work_at(t)
                            wl = wt + minutes
                            x = fmemo.get(wl)
                            t = cal.finish_of(wl) if x is None else x
                    if ty in (LINK_FF, LINK_SF):  # back from the finish it asks for (SF: lag from its start)
                        back = rem_l[i] if ty == LINK_FF else dur_l[i]
                        if back:
                            if elapsed_l[i]:
                                t = t - round(back)
                            else:  # as _before, on this task's calendar
                                wt = wmemo.get(t)
                                if wt is None:
                                    wt = cal.work_at(t)
                                wl = wt - back
                                x = smemo.get(wl)
                                t = cal.start_of(wl) if x is None else x
                        if ty == LINK_FF and t < project_start:
                            t = project_start
                    cand_l[k] = t
                    if best_k < 0 or t > start:
                        start, best_k = t, k
                for a in anc:  # links into the summaries above it
                    for k in range(in_lo[a], in_hi[a]) if runs else in_links[a]:
                        known = via.get(k)
                        if known is None:
                            t = self._early_start_via(k, i)
                            if ltype[k] in _FROM_START_OR_FINISH_TO_START and not alap_pass:
                                via[k] = t  # the same for every subtask: it does not depend on the subtask
                        else:
                            t = known
                        cand_l[k] = t
                        if best_k < 0 or t > start:
                            start, best_k = t, k
                driver = best_k
                if ltype[best_k] == LINK_SF and links_l[best_k].lag.is_zero and not elapsed_l[i]:
                    # with no lag MS Project keeps the predecessor's start time as the finish (Mon 08:00)
                    finish = self._shift(best_k, self._pred_dates(pred_l[best_k])[0], 1)
            # snap to where work can begin; a milestone may stay at the end of a period
            w = wmemo.get(start)
            if w is None:
                w = cal.work_at(start)
            x = smemo.get(w)
            if x is None:
                x = cal.start_of(w)
            if x > start and milestone_l[i] and cal.finish_of(w) == start:
                x = start
            start = x
            if finish is not None and finish < start:  # on another calendar that time may come too early
                finish = None
            if cdate_l[i] is not None or late_status:
                self._constrained_leaf(i, start, finish, driver)
                continue
            driver_l[i] = driver
            if finish is None:
                af = afinish_l[i]
                if af is not None:
                    finish = af
                else:
                    d = dur_l[i]
                    if d == 0:
                        finish = start
                    elif elapsed_l[i]:
                        finish = start + round(d)
                    else:  # work_at(start) is still w: a start keeps its working minute
                        wd = w + d
                        x = fmemo.get(wd)
                        finish = cal.finish_of(wd) if x is None else x
            es[i] = start
            ef[i] = finish

    # -- backward pass ----------------------------------------------------------------------------
    def _late_finish_via(self, k: int, i: int) -> int:
        s = self.net.succ_index[k]
        kind = self.ltype[k]
        astart = self.astart
        if kind == LINK_FS:
            # a started successor only needs its predecessor before its remaining work resumes
            ast = astart[s]
            late_start = self.ls_calc[s] if ast is None else self._after(s, ast, self.dur[s] - self.rem[s])
            lf = self._shift(k, late_start, -1)
        elif kind == LINK_FF:
            lf = self._shift(k, self.lf[s], -1)
        elif kind == LINK_SF:
            lf = self._after(i, self._shift(k, self.lf[s], -1), self.dur[i])
        elif astart[i] is not None:  # SS from a started predecessor
            lf = self.project_finish
        elif astart[s] is None:
            late_start = self._shift(k, self.cal[i].next_start(self.ls_calc[s]), -1)
            lf = self._after(i, late_start, self.dur[i])
        elif not self.net.out_links[s]:
            lf = self.project_finish
        else:
            lf = self._after(i, self._after(s, astart[s], self.dur[s] - self.rem[s]), self.dur[i])  # type: ignore[arg-type]
        return min(lf, self.project_finish)

    def _late_constraint(self, i: int, lf: int) -> int:
        ct, cd = self.constraint[i], self.cdate[i]
        if cd is not None:
            if ct is C.MSO:
                lf = self._after(i, cd, self.dur[i])
            elif ct is C.MFO:
                lf = cd
            elif ct is C.SNLT:
                lf = min(lf, self._after(i, cd, self.dur[i]))
            elif ct is C.FNLT:
                lf = min(lf, cd)
        return lf

    def _summary_link_reaches(self, k: int, summary: int, leaf: int) -> bool:
        """A link out of a summary binds all its subtasks, except SS/SF: only the earliest one."""
        if self.ltype[k] in (LINK_FS, LINK_FF):
            return True
        if summary not in self._earliest_leaf:  # the early dates are final during the backward pass
            leaves = [j for j in self.outline.leaves_under(summary) if self.active[j]]
            self._earliest_leaf[summary] = min(leaves, key=lambda j: (self.es[j], j)) if leaves else None
        return self._earliest_leaf[summary] == leaf

    def _backward(self) -> None:
        n = self.net.n_tasks
        children = self.outline.children
        active = self.active
        node_task = {b: i for i, b in self.net.begin_of.items()}
        es, ef, ls, lf_l, ls_calc = self.es, self.ef, self.ls, self.lf, self.ls_calc
        out_links, anc_out = self.net.out_links, self.anc_out
        succ_l = self.net.succ_index
        ltype, lags = self.ltype, self.lags
        cal_l, rem_l, elapsed_l, milestone_l, dur_l = self.cal, self.rem, self.elapsed, self.milestone, self.dur
        astart_l, afinish_l, cdate_l, deadline_l = self.astart, self.afinish, self.cdate, self.deadline
        project_finish = self.project_finish
        multiple = self.plan.settings.multiple_critical_paths
        everyone = all(active)
        via: dict[int, int] = {}  # FS/FF links out of a summary: the late finish they ask of its subtasks
        for node in reversed(self.net.order):
            if node >= n:  # begin node of a summary: its late dates as a successor
                i = node_task[node]
                kids = children[i]
                live = kids if everyone else [c for c in kids if active[c]]
                if live:
                    ls_calc[i] = ls[i] = min(map(ls.__getitem__, live))
                    lf_l[i] = min(map(lf_l.__getitem__, live))
                else:  # nothing under it is scheduled: it binds nothing
                    ls_calc[i] = ls[i] = lf_l[i] = project_finish
                continue
            if not active[node] or children[node]:
                continue
            i = node
            af = afinish_l[i]
            if af is not None:
                lf_l[i] = af
                ls_calc[i] = self._before(i, af, rem_l[i])
                ast = astart_l[i]
                ls[i] = ast if ast is not None else es[i]
                continue
            lf: int | None = None
            for k in out_links[i]:
                s = succ_l[k]
                if afinish_l[s] is not None:
                    continue
                ty = ltype[k]
                from_start = False  # SS between unstarted tasks: back from the successor's late start
                if ty == LINK_FS and astart_l[s] is None:
                    t = ls_calc[s]
                elif ty == LINK_FF:
                    t = lf_l[s]
                elif ty == LINK_SS and astart_l[s] is None and astart_l[i] is None:  # _late_finish_via, inlined
                    cal = cal_l[i]
                    w = cal._memo.get(ls_calc[s])
                    if w is None:
                        w = cal.work_at(ls_calc[s])
                    x = cal._start_memo.get(w)
                    t = cal.start_of(w) if x is None else x  # where work can begin
                    from_start = True
                else:
                    t = self._late_finish_via(k, i)
                    if lf is None or t < lf:
                        lf = t
                    continue
                lag = lags[k]
                if lag is None:
                    lag = self._lag(k)
                minutes = lag[0]
                if minutes:
                    if lag[1]:
                        t = t - round(minutes)
                    else:
                        scal = cal_l[s]
                        wt = scal._memo.get(t)
                        if wt is None:
                            wt = scal.work_at(t)
                        wl = wt - minutes
                        x = scal._start_memo.get(wl)
                        t = scal.start_of(wl) if x is None else x
                if from_start:  # the late start found; its own finish follows, as _after
                    d = dur_l[i]
                    if d:
                        if elapsed_l[i]:
                            t = t + round(d)
                        else:
                            w0 = cal._memo.get(t)
                            if w0 is None:
                                w0 = cal.work_at(t)
                            wd = w0 + d
                            x = cal._finish_memo.get(wd)
                            t = cal.finish_of(wd) if x is None else x
                    if t > project_finish:
                        t = project_finish
                if lf is None or t < lf:
                    lf = t
            anc = anc_out[i]
            if anc:
                for a in anc:
                    for k in out_links[a]:
                        known = via.get(k)
                        if known is None:
                            if not self._summary_link_reaches(k, a, i):
                                continue
                            t = self._late_finish_via(k, i)
                            if ltype[k] <= LINK_FF:
                                via[k] = t  # FS/FF out of a summary: the same late finish for every subtask
                        else:
                            t = known
                        if lf is None or t < lf:
                            lf = t
            if lf is None:
                lf = ef[i] if multiple else project_finish
            elif lf > project_finish:
                lf = project_finish
            if cdate_l[i] is not None:
                lf = self._late_constraint(i, lf)
            deadline = deadline_l[i]
            if deadline is not None and lf > deadline:
                lf = deadline
            r = rem_l[i]
            if elapsed_l[i]:
                ls_i = lf if r == 0 else lf - round(r)
            else:
                cal = cal_l[i]
                w = cal._memo.get(lf)
                if w is None:
                    w = cal.work_at(lf)
                if not milestone_l[i]:  # a milestone may keep the next morning as late finish
                    x = cal._finish_memo.get(w)
                    lf = cal.finish_of(w) if x is None else x  # its working minute is still w
                if r == 0:
                    ls_i = lf
                else:
                    wr = w - r
                    x = cal._start_memo.get(wr)
                    ls_i = cal.start_of(wr) if x is None else x
            lf_l[i] = lf
            ls_calc[i] = ls_i
            ast = astart_l[i]
            ls[i] = ast if ast is not None else ls_i

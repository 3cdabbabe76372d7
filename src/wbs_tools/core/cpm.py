"""The critical path method, with Microsoft Project's rules.

``schedule(plan)`` is a pure function: it reads no clock and does no I/O (the status date is an
input). The rules it reproduces are listed in ``docs/scheduling.md``; the main ones:

* a start is the next working minute after its driver, a finish stays at the end of its working
  period (17:00), a milestone sits at the end of the period its driver finishes in;
* lag is working time on the successor's calendar (percent lag: share of the predecessor's duration;
  elapsed lag ignores calendars);
* constraint dates beat links; a deadline caps the late finish (negative slack when missed);
* total slack is the smaller of start and finish slack (finish slack once a task has started),
  measured in working minutes on the task's calendar.
"""

from __future__ import annotations

import datetime as dt
import gc

from wbs_tools.core.calendar import FIRST_YEAR, NoWorkingTimeError, WorkCalendar, compiled, from_minutes, to_minutes
from wbs_tools.core.findings import Finding, make_finding
from wbs_tools.core.model import ConstraintType, LinkType, Plan, Task
from wbs_tools.core.network import Network, build_network
from wbs_tools.core.outline import Outline, build_outline, check_wbs_codes
from wbs_tools.core.rollup import roll_up
from wbs_tools.core.schedule import Driver, DriverKind, Schedule, TaskSchedule

_LONGEST_YEARS = 100
_LAST_TYPED_YEAR = 2999  # dates typed beyond this are typos; the calendar itself reaches 9998
_DEFAULT_DURATION = 480.0  # a task without a duration gets 1 day, like MS Project's "1 day?"
C = ConstraintType


_FS, _FF, _SS, _SF = 0, 1, 2, 3  # link types as small ints in the passes (those from a finish first)
_TYPE_CODE = {LinkType.FS: _FS, LinkType.SS: _SS, LinkType.FF: _FF, LinkType.SF: _SF}
_PROJECT_START = Driver(DriverKind.PROJECT_START)  # drivers are immutable: one shared instance per kind
_MANUAL = Driver(DriverKind.MANUAL)


def schedule(plan: Plan) -> Schedule:
    """Schedule a plan: early/late dates, slack, critical path, roll-ups and findings.

    >>> import datetime as dt
    >>> from wbs_tools.core.model import Duration, Link, Plan, Settings, Task
    >>> plan = Plan(Settings(start=dt.datetime(2026, 1, 5, 8)),
    ...             [Task(1, "Design", duration=Duration(960)), Task(2, "Build", duration=Duration(480))],
    ...             [Link(1, 2)])
    >>> s = schedule(plan)
    >>> [(t.name, f"{t.start:%a %H:%M}", f"{t.finish:%a %H:%M}") for t in s.tasks]
    [('Design', 'Mon 08:00', 'Tue 17:00'), ('Build', 'Wed 08:00', 'Wed 17:00')]
    """
    collecting = gc.isenabled()
    gc.disable()  # the passes allocate no cycles; full collections over a big plan cost ~40%
    try:
        return _Scheduler(plan).run()
    finally:
        if collecting:
            gc.enable()


class _Scheduler:
    """The passes over index-aligned lists (index = position in ``plan.tasks``, link number = position
    in ``net.links``). Dates are instants in minutes; each calendar memoises its conversions, so the
    per-link steps below are dictionary look-ups in the common case."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.findings: list[Finding] = []
        tasks = plan.tasks
        self.outline: Outline
        self.outline, found = build_outline(tasks)
        self.findings += found + check_wbs_codes(tasks, self.outline)
        self.active = [t.active for t in tasks]
        active = self.active
        if not all(active):
            for i, parent in enumerate(self.outline.parent):  # an inactive summary takes its subtree with it
                if parent >= 0 and not active[parent]:
                    active[i] = False
        self.calendars = self._compile_calendars()
        self.project_cal = self.calendars.get(plan.settings.calendar) or WorkCalendar()
        self.longest = _LONGEST_YEARS * 366 * 1440  # beyond this a duration or lag is a typo, not a plan
        self._rows()
        self.net: Network = build_network(plan, self.outline, self.active)
        self.findings += self.net.findings
        start = plan.settings.start
        if start is not None and not FIRST_YEAR <= start.year <= _LAST_TYPED_YEAR:
            self.findings.append(make_finding(
                "settings.bad-value", f"the project start {start:%Y-%m-%d} is outside {FIRST_YEAR}-"
                f"{_LAST_TYPED_YEAR}; it was ignored", field="start"))
            start = None
        if start is None:
            start = _earliest_date(plan)
            self.findings.append(make_finding(
                "settings.no-start",
                f"the plan has no start date; {start:%Y-%m-%d} was used", field="start"))
        self.project_start = to_minutes(start)
        self.status = to_minutes(plan.settings.status_date) if plan.settings.status_date else None
        n = len(tasks)
        self.es: list[int] = [0] * n
        self.ef: list[int] = [0] * n
        self.ls: list[int] = [0] * n
        self.lf: list[int] = [0] * n
        self.ls_calc: list[int] = [0] * n
        # why each leaf starts when it does: a link number (LINK), or a Driver for the other kinds
        self.driver: list[Driver | int | None] = [None] * n
        self.link_es: dict[int, int] = {}  # early start the links alone would give, when later
        self.cand: list[int] = [0] * len(self.net.links)  # each link's early start for its successor
        self.alap_pass = False
        self.project_finish = self.project_start
        links = self.net.links
        self.ltype: list[int] = [_TYPE_CODE[lk.type] for lk in links]
        self.lags = self._fixed_lags()
        self.anc_in = self._ancestors_with(self.net.in_links)
        self.anc_out = self._ancestors_with(self.net.out_links)
        self._earliest_leaf: dict[int, int | None] = {}

    # -- set-up -----------------------------------------------------------------------------------
    def _compile_calendars(self) -> dict[str, WorkCalendar]:
        out: dict[str, WorkCalendar] = {}
        for name, spec in self.plan.calendars.items():
            try:
                out[name] = compiled(spec)
            except NoWorkingTimeError:
                self.findings.append(make_finding(
                    "calendar.no-working-time",
                    f"calendar '{name}' has no working time; the Standard week was used instead"))
                out[name] = WorkCalendar()
        return out

    def _rows(self) -> None:
        """Per-task scheduling inputs in minutes, as parallel lists."""
        tasks = self.plan.tasks
        n = len(tasks)
        project_cal = self.project_cal
        self.cal: list[WorkCalendar] = [project_cal] * n
        self.dur: list[float] = [0.0] * n
        self.rem: list[float] = [0.0] * n
        self.elapsed: list[bool] = [False] * n
        self.milestone: list[bool] = [False] * n
        self.manual: list[bool] = [False] * n
        self.manual_start: list[int | None] = [None] * n
        self.manual_finish: list[int | None] = [None] * n
        self.constraint: list[ConstraintType] = [C.ASAP] * n
        self.cdate: list[int | None] = [None] * n
        self.deadline: list[int | None] = [None] * n
        self.astart: list[int | None] = [None] * n
        self.afinish: list[int | None] = [None] * n
        self.pct: list[float] = [0.0] * n  # percent complete as typed, within 0-100
        pct_l = self.pct
        cal_l, dur_l, rem_l, elapsed_l, milestone_l = self.cal, self.dur, self.rem, self.elapsed, self.milestone
        astart_l, afinish_l, constraint_l = self.astart, self.afinish, self.constraint
        calendars = self.calendars
        children = self.outline.children
        longest = self.longest
        asap, alap = C.ASAP, C.ALAP
        date = self._date
        for i, t in enumerate(tasks):
            if t.calendar:
                found = calendars.get(t.calendar)
                if found is None:
                    self.findings.append(make_finding(
                        "task.unknown-calendar",
                        f"task {t.id} uses calendar '{t.calendar}', which does not exist; the project "
                        "calendar was used", task_id=t.id, field="calendar", location=t.cells.get("calendar")))
                else:
                    cal_l[i] = found
            d = t.duration
            if d is None:
                dur, elapsed = (0.0 if t.milestone else _DEFAULT_DURATION), False
            else:
                dur, elapsed = max(0.0, d.minutes), d.elapsed
                if dur > longest:
                    self.findings.append(make_finding(
                        "task.bad-duration", f"task {t.id}: a duration of "
                        f"{dur / self.plan.settings.minutes_per_day:,.0f} days is longer than {_LONGEST_YEARS} "
                        "years; 1 day was used", task_id=t.id, field="duration", location=t.cells.get("duration"),
                        hint="Check the unit (d, w, mo)."))
                    dur, elapsed = _DEFAULT_DURATION, False
            pct = t.percent_complete
            pct = pct_l[i] = min(100.0, max(0.0, pct)) if pct else 0.0  # (as min(100, max(0, pct or 0)))
            rd = t.remaining_duration
            dur_l[i] = dur
            rem_l[i] = max(0.0, rd.minutes) if rd is not None else dur * (1 - pct / 100.0)
            elapsed_l[i] = elapsed
            milestone_l[i] = dur == 0 or t.milestone
            cdate = None if t.constraint_date is None else date(t, "constraint_date")
            ctype = t.constraint
            if ctype is not asap and cdate is None and ctype is not alap:
                self.findings.append(make_finding(
                    "task.constraint-date-missing",
                    f"task {t.id}: constraint {ctype.value} has no date; it was ignored",
                    task_id=t.id, field="constraint_date", location=t.cells.get("constraint_date")))
                ctype = asap
            constraint_l[i] = ctype
            self.cdate[i] = cdate
            summary = bool(children[i])  # a summary's progress is rolled up, not typed
            af = None if summary or t.actual_finish is None else date(t, "actual_finish")
            ast = None if summary or t.actual_start is None else date(t, "actual_start")
            if af is not None and ast is None:
                ast = af if dur == 0 else None
            if ast is not None and af is not None and af < ast:
                self.findings.append(make_finding(
                    "task.actual-finish-before-start",
                    f"task {t.id}: actual finish {t.actual_finish:%Y-%m-%d} is before actual start "
                    f"{t.actual_start:%Y-%m-%d}; the actual finish was ignored",
                    task_id=t.id, field="actual_finish", location=t.cells.get("actual_finish")))
                af = None
            astart_l[i] = ast
            afinish_l[i] = af
            if t.manual and t.manual_start is not None:
                self.manual[i] = True
            if t.manual_start is not None:
                self.manual_start[i] = date(t, "manual_start")
            if t.manual_finish is not None:
                self.manual_finish[i] = date(t, "manual_finish")
            if t.deadline is not None:
                self.deadline[i] = date(t, "deadline")
        self.is_alap = [c is alap for c in constraint_l]
        ms = self.manual_start
        self.placed = [m and ms[i] is not None for i, m in enumerate(self.manual)]  # placed by hand

    def _date(self, task: Task, name: str) -> int | None:
        """A task's date in minutes; one outside the years a calendar holds is reported and ignored."""
        value = getattr(task, name)
        if value is None:
            return None
        if not FIRST_YEAR <= value.year <= _LAST_TYPED_YEAR:
            self.findings.append(make_finding(
                "task.bad-date", f"task {task.id}: {name.replace('_', ' ')} {value:%Y-%m-%d} is outside "
                f"{FIRST_YEAR}-{_LAST_TYPED_YEAR}; it was ignored", task_id=task.id, field=name,
                location=task.cells.get(name)))
            return None
        return to_minutes(value)

    def _ancestors_with(self, links: list[list[int]]) -> list[list[int]]:
        """Per task, the ancestor summaries that carry links of their own (usually none)."""
        n = len(self.plan.tasks)
        empty: list[int] = []
        out: list[list[int]] = [empty] * n  # shared empty list: only tasks under a linked summary get their own
        children = self.outline.children
        linked = [i for i in range(n) if children[i] and links[i]]
        for a in sorted(linked, key=lambda i: self.outline.levels[i]):  # outer summaries first
            stack = list(children[a])
            while stack:
                j = stack.pop()
                if out[j] is empty:
                    out[j] = [a]
                else:
                    out[j].append(a)
                stack.extend(children[j])
        return out

    # -- calendar helpers (Microsoft Project's conventions) ---------------------------------------
    def _after(self, i: int, start: int, minutes: float) -> int:
        """Finish of ``minutes`` of task i's work that starts at ``start``."""
        if minutes == 0:
            return start
        if self.elapsed[i]:
            return start + round(minutes)
        cal = self.cal[i]
        return cal.finish_of(cal.work_at(start) + minutes)

    def _before(self, i: int, finish: int, minutes: float) -> int:
        """Start of ``minutes`` of task i's work that finishes at ``finish``."""
        if minutes == 0:
            return finish
        if self.elapsed[i]:
            return finish - round(minutes)
        cal = self.cal[i]
        return cal.start_of(cal.work_at(finish) - minutes)

    def _next_start(self, i: int, t: int) -> int:
        """Where work can begin at or after ``t``; a milestone may stay at the end of a period."""
        cal = self.cal[i]
        w = cal.work_at(t)
        nxt = cal.start_of(w)
        if nxt > t and self.milestone[i] and cal.finish_of(w) == t:
            return t
        return nxt

    def _lag(self, k: int) -> tuple[float, bool]:
        """Lag of link k in minutes, and whether it is elapsed time."""
        found = self.lags[k]
        if found is not None:
            return found
        lag = self.net.links[k].lag
        p = self.net.pred_index[k]
        return round(self._duration_of(p) * lag.percent / 100.0), False  # type: ignore[operator]  # a summary's span

    def _fixed_lags(self) -> list[tuple[float, bool] | None]:
        """Each link's lag in minutes once; a percent lag of a summary waits for its roll-up (None)."""
        longest = self.longest
        lags = [link.lag for link in self.net.links]
        children = self.outline.children
        pred_index = self.net.pred_index
        known: dict[int, tuple[float, bool]] = {}  # by id: most links share a handful of Lag objects
        percent = too_long = False
        for key, lag in {id(lag): lag for lag in lags}.items():
            if lag.percent is not None:
                percent = True
            elif abs(lag.duration.minutes) > longest:
                too_long = True
            else:
                known[key] = (round(lag.duration.minutes), lag.duration.elapsed)
        if not too_long:  # nothing to report: in bulk, then the percent lags from their predecessors
            fixed: list[tuple[float, bool] | None] = [known.get(id(lag)) for lag in lags]
            if percent:
                for k, lag in enumerate(lags):
                    if lag.percent is not None:
                        p = pred_index[k]
                        fixed[k] = None if children[p] else (round(self.dur[p] * lag.percent / 100.0),
                                                             self.elapsed[p])
            return fixed
        out: list[tuple[float, bool] | None] = []
        for k, link in enumerate(self.net.links):
            lag = link.lag
            if lag.percent is None:
                found = known.get(id(lag))
                if found is not None:
                    out.append(found)
                    continue
                if abs(lag.duration.minutes) > longest:
                    self.findings.append(make_finding(
                        "link.bad-syntax", f"the lag of the link {link.predecessor} → {link.successor} is longer "
                        f"than {_LONGEST_YEARS} years; no lag was used", task_id=link.successor,
                        field="predecessors", location=link.origin))
                    out.append((0, False))
                    continue
                found = known[id(lag)] = (round(lag.duration.minutes), lag.duration.elapsed)
                out.append(found)
            else:
                p = pred_index[k]
                out.append(None if children[p] else (round(self.dur[p] * lag.percent / 100.0), self.elapsed[p]))
        return out

    def _duration_of(self, i: int) -> float:
        if self.outline.children[i]:
            cal = self.project_cal
            return float(cal.work_at(self.ef[i]) - cal.work_at(self.es[i]))
        return self.dur[i]

    def _shift(self, k: int, t: int, sign: int) -> int:
        """``t`` moved by link k's lag (sign -1 removes it), on the successor's calendar."""
        minutes, elapsed = self._lag(k)
        if minutes == 0:
            return t
        if elapsed:
            return t + sign * round(minutes)
        cal = self.cal[self.net.succ_index[k]]
        w = cal.work_at(t) + sign * minutes
        # forward: the earliest instant of that working time (then snapped to a start); backward: the
        # latest (then snapped to the predecessor's previous finish), so the passes agree across calendars
        return cal.finish_of(w) if sign > 0 else cal.start_of(w)

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
        if kind == _FS:
            return self._shift(k, pef, 1)
        if kind == _SS:
            return self._shift(k, pes, 1)
        if kind == _FF:
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
            self.driver[i] = _MANUAL
            return
        start: int = self.astart[i]  # type: ignore[assignment]
        self.driver[i] = Driver(DriverKind.ACTUAL, date=from_minutes(start))
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
        return self.project_start, None, _PROJECT_START

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
        special = [p or a is not None for p, a in zip(placed, astart_l, strict=True)]  # placed by hand or actuals
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
            if not in_links[i] and not (anc and any(in_links[a] for a in anc)):
                start, finish, driver = self._no_link_start(i)
            else:
                start = 0
                best_k = -1
                alap_i = is_alap[i]
                for k in in_links[i]:
                    p = pred_l[k]
                    ty = ltype[k]
                    if alap_pass and is_alap[p] and not alap_i:
                        t = lf[p] if ty <= _FF else ls[p]
                    else:
                        t = ef[p] if ty <= _FF else es[p]
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
                    if ty == _FF:
                        t = max(self._before(i, t, rem_l[i]), project_start)
                    elif ty == _SF:  # the lag counts from its start
                        t = self._before(i, t, dur_l[i])
                    cand_l[k] = t
                    if best_k < 0 or t > start:
                        start, best_k = t, k
                for a in anc:  # links into the summaries above it
                    for k in in_links[a]:
                        t = cand_l[k] = self._early_start_via(k, i)
                        if best_k < 0 or t > start:
                            start, best_k = t, k
                driver = best_k
                if ltype[best_k] == _SF and links_l[best_k].lag.is_zero and not elapsed_l[i]:
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
        if kind == _FS:
            # a started successor only needs its predecessor before its remaining work resumes
            ast = astart[s]
            late_start = self.ls_calc[s] if ast is None else self._after(s, ast, self.dur[s] - self.rem[s])
            lf = self._shift(k, late_start, -1)
        elif kind == _FF:
            lf = self._shift(k, self.lf[s], -1)
        elif kind == _SF:
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
        if self.ltype[k] in (_FS, _FF):
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
        cal_l, rem_l, elapsed_l, milestone_l = self.cal, self.rem, self.elapsed, self.milestone
        astart_l, afinish_l, cdate_l, deadline_l = self.astart, self.afinish, self.cdate, self.deadline
        project_finish = self.project_finish
        multiple = self.plan.settings.multiple_critical_paths
        everyone = all(active)
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
                if ty == _FS and astart_l[s] is None:
                    t = ls_calc[s]
                elif ty == _FF:
                    t = lf_l[s]
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
                if lf is None or t < lf:
                    lf = t
            anc = anc_out[i]
            if anc:
                for a in anc:
                    for k in out_links[a]:
                        if self._summary_link_reaches(k, a, i):
                            t = self._late_finish_via(k, i)
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

    # -- run --------------------------------------------------------------------------------------
    def run(self) -> Schedule:
        try:
            self._forward()
            children, active = self.outline.children, self.active
            leaves = [i for i in range(self.net.n_tasks) if active[i] and not children[i]]
            self.project_finish = max([self.ef[i] for i in leaves], default=self.project_start)
            self._backward()
            is_alap = self.is_alap
            if any(is_alap) and any(is_alap[i] for i in leaves):
                self.alap_pass = True
                self._forward()
            return roll_up(self)
        except OverflowError as exc:  # dates beyond what a calendar can hold: report, do not crash
            self.findings.append(make_finding(
                "schedule.date-out-of-range", f"the schedule could not be computed: {exc}",
                hint="Look for durations or lags typed in the wrong unit (e.g. 3000w) or dates with a wrong year."))
            self.active = [False] * len(self.plan.tasks)
            self.driver = [None] * len(self.plan.tasks)
            self.net.links = []
            return roll_up(self)


def _m(value: object) -> int | None:
    return to_minutes(value) if value is not None else None  # type: ignore[arg-type]


def _earliest_date(plan: Plan) -> dt.datetime:
    """A start for a plan that has none: its earliest typed date within the years scheduled."""
    dates = [d for t in plan.tasks for d in (t.actual_start, t.constraint_date)
             if d is not None and FIRST_YEAR <= d.year <= _LAST_TYPED_YEAR]
    base = min(dates) if dates else dt.datetime(2000, 1, 3)
    return base.replace(hour=8, minute=0, second=0, microsecond=0)


__all__ = ["TaskSchedule", "schedule"]

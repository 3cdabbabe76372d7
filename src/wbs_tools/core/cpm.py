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
from dataclasses import dataclass

from wbs_tools.core.calendar import FIRST_YEAR, NoWorkingTimeError, WorkCalendar, compiled, from_minutes, to_minutes
from wbs_tools.core.findings import Finding, make_finding
from wbs_tools.core.model import ConstraintType, LinkType, Plan, Task
from wbs_tools.core.network import Network, build_network
from wbs_tools.core.outline import Outline, build_outline, check_wbs_codes
from wbs_tools.core.rollup import roll_up
from wbs_tools.core.schedule import Driver, DriverKind, LinkSchedule, Schedule, TaskSchedule

_LONGEST_YEARS = 100
_LAST_TYPED_YEAR = 2999  # dates typed beyond this are typos; the calendar itself reaches 9998
_DEFAULT_DURATION = 480.0  # a task without a duration gets 1 day, like MS Project's "1 day?"
C = ConstraintType


@dataclass
class _Row:
    """Per-task scheduling inputs in minutes (an internal, index-aligned record)."""

    cal: WorkCalendar
    dur: float
    rem: float
    elapsed: bool
    milestone: bool
    manual: bool
    manual_start: int | None
    manual_finish: int | None
    constraint: ConstraintType
    cdate: int | None
    deadline: int | None
    astart: int | None
    afinish: int | None


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
    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.findings: list[Finding] = []
        tasks = plan.tasks
        self.outline: Outline
        self.outline, found = build_outline(tasks)
        self.findings += found + check_wbs_codes(tasks, self.outline)
        self.active = [t.active for t in tasks]
        for i, parent in enumerate(self.outline.parent):  # an inactive summary takes its subtree with it
            if parent >= 0 and not self.active[parent]:
                self.active[i] = False
        self.calendars = self._compile_calendars()
        self.project_cal = self.calendars.get(plan.settings.calendar) or WorkCalendar()
        self.longest = _LONGEST_YEARS * 366 * 1440  # beyond this a duration or lag is a typo, not a plan
        self.rows = [self._row(i) for i in range(len(tasks))]
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
        self.driver: list[Driver | None] = [None] * n
        self.link_es: dict[int, int] = {}  # early start the links alone would give, when later
        self.cand: list[int] = [0] * len(self.net.links)  # each link's early start for its successor
        self.alap_pass = False
        self.project_finish = self.project_start
        self.lags = self._fixed_lags()
        self.anc_in = self._ancestors_with(self.net.in_links)
        self.anc_out = self._ancestors_with(self.net.out_links)

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

    def _row(self, i: int) -> _Row:
        t = self.plan.tasks[i]
        cal = self.project_cal
        if t.calendar:
            found = self.calendars.get(t.calendar)
            if found is None:
                self.findings.append(make_finding(
                    "task.unknown-calendar",
                    f"task {t.id} uses calendar '{t.calendar}', which does not exist; the project "
                    "calendar was used", task_id=t.id, field="calendar", location=t.cells.get("calendar")))
            else:
                cal = found
        d = t.duration
        if d is None:
            dur, elapsed = (0.0 if t.milestone else _DEFAULT_DURATION), False
        else:
            dur, elapsed = max(0.0, d.minutes), d.elapsed
            if dur > self.longest:
                self.findings.append(make_finding(
                    "task.bad-duration", f"task {t.id}: a duration of {dur / self.plan.settings.minutes_per_day:,.0f}"
                    f" days is longer than {_LONGEST_YEARS} years; 1 day was used", task_id=t.id,
                    field="duration", location=t.cells.get("duration"), hint="Check the unit (d, w, mo)."))
                dur, elapsed = _DEFAULT_DURATION, False
        pct = min(100.0, max(0.0, t.percent_complete or 0.0))
        rem = max(0.0, t.remaining_duration.minutes) if t.remaining_duration is not None else dur * (1 - pct / 100.0)
        cdate = self._date(t, "constraint_date")
        ctype = t.constraint
        if ctype is not C.ASAP and cdate is None and ctype is not C.ALAP:
            self.findings.append(make_finding(
                "task.constraint-date-missing",
                f"task {t.id}: constraint {ctype.value} has no date; it was ignored",
                task_id=t.id, field="constraint_date", location=t.cells.get("constraint_date")))
            ctype = C.ASAP
        summary = bool(self.outline.children[i])  # a summary's progress is rolled up, not typed
        af = None if summary else self._date(t, "actual_finish")
        ast = None if summary else self._date(t, "actual_start")
        if af is not None and ast is None:
            ast = af if dur == 0 else None
        if ast is not None and af is not None and af < ast:
            self.findings.append(make_finding(
                "task.actual-finish-before-start",
                f"task {t.id}: actual finish {t.actual_finish:%Y-%m-%d} is before actual start "
                f"{t.actual_start:%Y-%m-%d}; the actual finish was ignored",
                task_id=t.id, field="actual_finish", location=t.cells.get("actual_finish")))
            af = None
        return _Row(cal, dur, rem, elapsed, dur == 0 or t.milestone, t.manual and t.manual_start is not None,
                    self._date(t, "manual_start"), self._date(t, "manual_finish"), ctype, cdate,
                    self._date(t, "deadline"), ast, af)

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
        out: list[list[int]] = [[] for _ in range(n)]
        children = self.outline.children
        linked = [i for i in range(n) if children[i] and links[i]]
        for a in sorted(linked, key=lambda i: self.outline.levels[i]):  # outer summaries first
            stack = list(children[a])
            while stack:
                j = stack.pop()
                out[j].append(a)
                stack.extend(children[j])
        return out

    # -- calendar helpers (Microsoft Project's conventions) ---------------------------------------
    def _after(self, i: int, start: int, minutes: float) -> int:
        """Finish of ``minutes`` of task i's work that starts at ``start``."""
        r = self.rows[i]
        if minutes == 0:
            return start
        if r.elapsed:
            return start + round(minutes)
        return r.cal.finish_of(r.cal.work_at(start) + minutes)

    def _before(self, i: int, finish: int, minutes: float) -> int:
        """Start of ``minutes`` of task i's work that finishes at ``finish``."""
        r = self.rows[i]
        if minutes == 0:
            return finish
        if r.elapsed:
            return finish - round(minutes)
        return r.cal.start_of(r.cal.work_at(finish) - minutes)

    def _next_start(self, i: int, t: int) -> int:
        """Where work can begin at or after ``t``; a milestone may stay at the end of a period."""
        cal = self.rows[i].cal
        w = cal.work_at(t)
        nxt = cal.start_of(w)
        if nxt > t and self.rows[i].milestone and cal.finish_of(w) == t:
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
        out: list[tuple[float, bool] | None] = []
        children = self.outline.children
        for k, link in enumerate(self.net.links):
            lag = link.lag
            if lag.percent is None:
                if abs(lag.duration.minutes) > self.longest:
                    self.findings.append(make_finding(
                        "link.bad-syntax", f"the lag of the link {link.predecessor} → {link.successor} is longer "
                        f"than {_LONGEST_YEARS} years; no lag was used", task_id=link.successor,
                        field="predecessors", location=link.origin))
                    out.append((0, False))
                    continue
                out.append((round(lag.duration.minutes), lag.duration.elapsed))
            else:
                p = self.net.pred_index[k]
                out.append(None if children[p] else (round(self.rows[p].dur * lag.percent / 100.0),
                                                     self.rows[p].elapsed))
        return out

    def _duration_of(self, i: int) -> float:
        if self.outline.children[i]:
            cal = self.project_cal
            return float(cal.work_at(self.ef[i]) - cal.work_at(self.es[i]))
        return self.rows[i].dur

    def _shift(self, k: int, t: int, sign: int) -> int:
        """``t`` moved by link k's lag (sign -1 removes it), on the successor's calendar."""
        minutes, elapsed = self._lag(k)
        if minutes == 0:
            return t
        if elapsed:
            return t + sign * round(minutes)
        cal = self.rows[self.net.succ_index[k]].cal
        w = cal.work_at(t) + sign * minutes
        # forward: the earliest instant of that working time (then snapped to a start); backward: the
        # latest (then snapped to the predecessor's previous finish), so the passes agree across calendars
        return cal.finish_of(w) if sign > 0 else cal.start_of(w)

    # -- forward pass -----------------------------------------------------------------------------
    def _pred_dates(self, p: int) -> tuple[int, int]:
        r = self.rows[p]
        if self.alap_pass and r.constraint is C.ALAP:
            return self.ls[p], self.lf[p]
        return self.es[p], self.ef[p]

    def _early_start_via(self, k: int, i: int) -> int:
        p = self.net.pred_index[k]
        kind = self.net.links[k].type
        if self.alap_pass and self.rows[p].constraint is C.ALAP and self.rows[i].constraint is not C.ALAP:
            pes, pef = self.ls[p], self.lf[p]
        else:
            pes, pef = self.es[p], self.ef[p]
        if kind is LinkType.FS:
            return self._shift(k, pef, 1)
        if kind is LinkType.SS:
            return self._shift(k, pes, 1)
        if kind is LinkType.FF:
            start = self._before(i, self._shift(k, pef, 1), self.rows[i].rem)
            return max(start, self.project_start)
        return self._before(i, self._shift(k, pes, 1), self.rows[i].dur)  # SF: the lag counts from its start

    def _forward_leaf(self, i: int) -> None:
        r = self.rows[i]
        if r.manual and r.manual_start is not None:
            self.es[i] = r.manual_start
            self.ef[i] = r.manual_finish if r.manual_finish is not None else self._after(i, r.manual_start, r.dur)
            self.driver[i] = Driver(DriverKind.MANUAL)
            return
        finish: int | None = None
        if r.astart is None:
            links = self.net.in_links[i]
            for a in self.anc_in[i]:
                links = links + self.net.in_links[a]
            driver: Driver
            if not links:
                if r.constraint is C.SNET:
                    start = r.cdate  # type: ignore[assignment]
                    driver = Driver(DriverKind.CONSTRAINT, date=from_minutes(start))
                elif r.constraint is C.FNET:
                    finish = r.cdate
                    start = self._before(i, finish, r.dur)  # type: ignore[arg-type]
                    driver = Driver(DriverKind.CONSTRAINT, date=from_minutes(finish))  # type: ignore[arg-type]
                else:
                    start = self.project_start
                    driver = Driver(DriverKind.PROJECT_START)
            else:
                best_k = links[0]
                start = self.cand[best_k] = self._early_start_via(best_k, i)
                for k in links[1:]:
                    cand = self.cand[k] = self._early_start_via(k, i)
                    if cand > start:
                        start, best_k = cand, k
                driver = Driver(DriverKind.LINK, self.net.links[best_k])
                link = self.net.links[best_k]
                if link.type is LinkType.SF and link.lag.is_zero and not r.elapsed:
                    # with no lag MS Project keeps the predecessor's start time as the finish (Mon 08:00)
                    finish = self._shift(best_k, self._pred_dates(self.net.pred_index[best_k])[0], 1)
            start = self._next_start(i, start)
            if finish is not None and finish < start:  # on another calendar that time may come too early
                finish = None
            link_start = start
            start, finish, driver = self._constrain_early(i, start, finish, driver)
            if start != link_start and driver.kind is DriverKind.CONSTRAINT and r.constraint is not C.MFO:
                finish = None
            if start < link_start:  # a constraint beats the links: slack goes negative
                self.link_es[i] = link_start
            if self.plan.settings.reschedule_after_status_date and self.status is not None and start < self.status:
                start, finish = self._next_start(i, self.status), None
                driver = Driver(DriverKind.STATUS_DATE, date=from_minutes(self.status))
            self.driver[i] = driver
        else:
            start = r.astart
            self.driver[i] = Driver(DriverKind.ACTUAL, date=from_minutes(start))
            if r.afinish is None:
                finish = self._in_progress_finish(i, start)
        if finish is None:
            finish = r.afinish if r.afinish is not None else self._after(i, start, r.dur)
        self.es[i] = start
        self.ef[i] = finish

    def _in_progress_finish(self, i: int, start: int) -> int:
        r = self.rows[i]
        finish = self._after(i, start, r.dur)
        if r.constraint is C.FNET and r.cdate is not None and finish < r.cdate:
            finish = r.cdate
        if self.plan.settings.reschedule_after_status_date and self.status is not None:
            done = r.dur - r.rem
            if self._after(i, start, done) < self.status:
                finish = max(finish, self._after(i, self._next_start(i, self.status), r.rem))
        return finish

    def _constrain_early(self, i: int, start: int, finish: int | None, driver: Driver
                         ) -> tuple[int, int | None, Driver]:
        r = self.rows[i]
        ct, cd = r.constraint, r.cdate
        if cd is None or ct in (C.ASAP, C.ALAP):
            return start, finish, driver
        new = start
        if ct is C.SNET:
            new = max(start, cd)
        elif ct is C.SNLT:
            new = min(start, cd)
        elif ct is C.FNET:
            new = max(start, self._before(i, cd, r.dur))
        elif ct is C.FNLT:
            new = min(start, self._before(i, cd, r.dur))
        elif ct is C.MSO:
            new = cd
        elif ct is C.MFO:
            return self._before(i, cd, r.dur), cd, Driver(DriverKind.CONSTRAINT, date=from_minutes(cd))
        if new != start:
            return new, finish, Driver(DriverKind.CONSTRAINT, date=from_minutes(cd))
        return start, finish, driver

    def _forward(self) -> None:
        n = self.net.n_tasks
        children = self.outline.children
        active = self.active
        for node in self.net.order:
            if node >= n or not active[node]:
                continue
            kids = children[node]
            if kids:
                live = [c for c in kids if active[c]]
                if live:
                    self.es[node] = min(self._pred_dates(c)[0] for c in live)
                    self.ef[node] = max(self._pred_dates(c)[1] for c in live)
                else:
                    self.es[node] = self.ef[node] = self.project_start
            else:
                self._forward_leaf(node)

    # -- backward pass ----------------------------------------------------------------------------
    def _late_finish_via(self, k: int, i: int) -> int:
        s = self.net.succ_index[k]
        kind = self.net.links[k].type
        rs, ri = self.rows[s], self.rows[i]
        if kind is LinkType.FS:
            # a started successor only needs its predecessor before its remaining work resumes
            late_start = self.ls_calc[s] if rs.astart is None else self._after(s, rs.astart, rs.dur - rs.rem)
            lf = self._shift(k, late_start, -1)
        elif kind is LinkType.FF:
            lf = self._shift(k, self.lf[s], -1)
        elif kind is LinkType.SF:
            lf = self._after(i, self._shift(k, self.lf[s], -1), ri.dur)
        elif ri.astart is not None:  # SS from a started predecessor
            lf = self.project_finish
        elif rs.astart is None:
            late_start = self._shift(k, ri.cal.next_start(self.ls_calc[s]), -1)
            lf = self._after(i, late_start, ri.dur)
        elif not self.net.out_links[s]:
            lf = self.project_finish
        else:
            lf = self._after(i, self._after(s, rs.astart, rs.dur - rs.rem), ri.dur)
        return min(lf, self.project_finish)

    def _backward_leaf(self, i: int) -> None:
        r = self.rows[i]
        if r.afinish is not None:
            self.lf[i] = r.afinish
            self.ls_calc[i] = self._before(i, r.afinish, r.rem)
            self.ls[i] = r.astart if r.astart is not None else self.es[i]
            return
        rows = self.rows
        links = [k for k in self.net.out_links[i] if rows[self.net.succ_index[k]].afinish is None]
        for a in self.anc_out[i]:
            links += [k for k in self.net.out_links[a] if self._summary_link_reaches(k, a, i)]
        if not links:
            lf = self.ef[i] if self.plan.settings.multiple_critical_paths else self.project_finish
        else:
            lf = min(self._late_finish_via(k, i) for k in links)
        ct, cd = r.constraint, r.cdate
        if cd is not None:
            if ct is C.MSO:
                lf = self._after(i, cd, r.dur)
            elif ct is C.MFO:
                lf = cd
            elif ct is C.SNLT:
                lf = min(lf, self._after(i, cd, r.dur))
            elif ct is C.FNLT:
                lf = min(lf, cd)
        if r.deadline is not None and lf > r.deadline:
            lf = r.deadline
        if not (r.elapsed or r.milestone):  # a milestone may keep the next morning as late finish
            lf = r.cal.finish_of(r.cal.work_at(lf))
        self.lf[i] = lf
        ls = self._before(i, lf, r.rem)
        self.ls_calc[i] = ls
        self.ls[i] = r.astart if r.astart is not None else ls

    def _summary_link_reaches(self, k: int, summary: int, leaf: int) -> bool:
        """A link out of a summary binds all its subtasks, except SS/SF: only the earliest one."""
        if self.net.links[k].type in (LinkType.FS, LinkType.FF):
            return True
        leaves = [j for j in self.outline.leaves_under(summary) if self.active[j]]
        return bool(leaves) and min(leaves, key=lambda j: (self.es[j], j)) == leaf

    def _backward(self) -> None:
        n = self.net.n_tasks
        children = self.outline.children
        node_task = {b: i for i, b in self.net.begin_of.items()}
        for node in reversed(self.net.order):
            if node >= n:  # begin node of a summary: its late dates as a successor
                i = node_task[node]
                live = [c for c in children[i] if self.active[c]]
                if live:
                    self.ls_calc[i] = self.ls[i] = min(self.ls[c] for c in live)
                    self.lf[i] = min(self.lf[c] for c in live)
                else:  # nothing under it is scheduled: it binds nothing
                    self.ls_calc[i] = self.ls[i] = self.lf[i] = self.project_finish
                continue
            if not self.active[node] or children[node]:
                continue
            self._backward_leaf(node)

    # -- run --------------------------------------------------------------------------------------
    def run(self) -> Schedule:
        try:
            self._forward()
            leaves = [i for i in range(self.net.n_tasks) if self.active[i] and not self.outline.children[i]]
            self.project_finish = max((self.ef[i] for i in leaves), default=self.project_start)
            self._backward()
            if any(self.rows[i].constraint is C.ALAP for i in leaves):
                self.alap_pass = True
                self._forward()
            return roll_up(self)
        except OverflowError as exc:  # dates beyond what a calendar can hold: report, do not crash
            self.findings.append(make_finding(
                "schedule.date-out-of-range", f"the schedule could not be computed: {exc}",
                hint="Look for durations or lags typed in the wrong unit (e.g. 3000w) or dates with a wrong year."))
            self.active = [False] * len(self.plan.tasks)
            self.net.links = []
            return roll_up(self)

    def link_schedules(self) -> list[LinkSchedule]:
        out = []
        for k, link in enumerate(self.net.links):
            p, s = self.net.pred_index[k], self.net.succ_index[k]
            if not (self.active[p] and self.active[s]) or k in self.net.dropped:
                continue
            if self.outline.children[s] or self.rows[s].astart is not None or self.rows[s].manual:
                slack, driving = 0.0, False  # rolled up, or placed by actuals rather than links
            else:
                cal = self.rows[s].cal
                slack = float(cal.work_at(self.es[s]) - cal.work_at(self.cand[k]))
                d = self.driver[s]
                driving = d is not None and d.link is link
            out.append(LinkSchedule(link, driving, max(0.0, slack)))
        return out


def _m(value: object) -> int | None:
    return to_minutes(value) if value is not None else None  # type: ignore[arg-type]


def _earliest_date(plan: Plan) -> dt.datetime:
    """A start for a plan that has none: its earliest typed date within the years scheduled."""
    dates = [d for t in plan.tasks for d in (t.actual_start, t.constraint_date)
             if d is not None and FIRST_YEAR <= d.year <= _LAST_TYPED_YEAR]
    base = min(dates) if dates else dt.datetime(2000, 1, 3)
    return base.replace(hour=8, minute=0, second=0, microsecond=0)


__all__ = ["TaskSchedule", "schedule"]

"""The scheduler's state and set-up: per-task inputs in minutes as parallel lists, the network, and
the calendar steps both passes share (Microsoft Project's start and finish conventions).

Index = position in ``plan.tasks``, link number = position in ``net.links``. Dates are instants in
minutes; each calendar memoises its conversions, so a step is a dictionary look-up in the common case.
"""

from __future__ import annotations

import datetime as dt
from itertools import compress, repeat
from operator import and_, attrgetter, is_, is_not

import numpy as np
import numpy.typing as npt

from wbs_tools.core.calendar import FIRST_YEAR, NoWorkingTimeError, WorkCalendar, compiled, to_minutes
from wbs_tools.core.findings import Finding, make_finding
from wbs_tools.core.model import ConstraintType, LinkType, Plan, Task
from wbs_tools.core.network import Network, build_network, link_counts
from wbs_tools.core.outline import Outline, build_outline, check_wbs_codes
from wbs_tools.core.schedule import Driver, DriverKind

_LONGEST_YEARS = 100
_LAST_TYPED_YEAR = 2999  # dates typed beyond this are typos; the calendar itself reaches 9998
_DEFAULT_DURATION = 480.0  # a task without a duration gets 1 day, like MS Project's "1 day?"
C = ConstraintType


LINK_FS, LINK_FF, LINK_SS, LINK_SF = 0, 1, 2, 3  # link types as small ints in the passes (those from a finish first)
LINK_CODE = {LinkType.FS: LINK_FS, LinkType.SS: LINK_SS, LinkType.FF: LINK_FF, LinkType.SF: LINK_SF}
PROJECT_START_DRIVER = Driver(DriverKind.PROJECT_START)  # drivers are immutable: one shared instance per kind
MANUAL_DRIVER = Driver(DriverKind.MANUAL)


class SchedulerBase:
    """Inputs, network and shared calendar steps of one scheduling run (see the module docstring)."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.findings: list[Finding] = []
        tasks = plan.tasks
        self.outline: Outline
        self.outline, found = build_outline(tasks)
        self.findings += found + check_wbs_codes(tasks, self.outline)
        self.active = list(map(attrgetter("active"), tasks))
        active = self.active
        if not all(active):
            for i, parent in enumerate(self.outline.parent):  # an inactive summary takes its subtree with it
                if parent >= 0 and not active[parent]:
                    active[i] = False
        self.calendars = self._compile_calendars()
        self.project_cal = self.calendars.get(plan.settings.calendar) or WorkCalendar()
        self.longest = _LONGEST_YEARS * 366 * 1440  # beyond this a duration or lag is a typo, not a plan
        self._rows()
        self.ids: list[int] = list(map(attrgetter("id"), tasks))
        self.net: Network = build_network(plan, self.outline, self.active, self.ids)
        self.findings += self.net.findings
        start = plan.settings.start
        if start is not None and not FIRST_YEAR <= start.year <= _LAST_TYPED_YEAR:
            self.findings.append(make_finding(
                "settings.bad-value", f"the project start {start:%Y-%m-%d} is outside {FIRST_YEAR}-"
                f"{_LAST_TYPED_YEAR}; it was ignored", field="start"))
            start = None
        if start is None:
            start = earliest_date(plan)
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
        self.ltype: list[int] = list(map(LINK_CODE.__getitem__, map(attrgetter("type"), links)))
        self.lags = self._fixed_lags()
        self.anc_in = self._ancestors_with(link_counts(self.net.in_links))
        self.anc_out = self._ancestors_with(link_counts(self.net.out_links))
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
        astart_l, afinish_l, constraint_l, cdate_l = self.astart, self.afinish, self.constraint, self.cdate
        manual_l, manual_start_l = self.manual, self.manual_start
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
            rem_l[i] = max(0.0, rd.minutes) if rd is not None else dur * (1 - pct / 100.0) if pct else dur
            elapsed_l[i] = elapsed
            milestone_l[i] = dur == 0 or t.milestone
            ctype = t.constraint
            if t.constraint_date is not None:
                cdate_l[i] = date(t, "constraint_date")
            if ctype is not asap and ctype is not alap and cdate_l[i] is None:
                self.findings.append(make_finding(
                    "task.constraint-date-missing",
                    f"task {t.id}: constraint {ctype.value} has no date; it was ignored",
                    task_id=t.id, field="constraint_date", location=t.cells.get("constraint_date")))
                ctype = asap
            constraint_l[i] = ctype
            if (t.actual_finish is not None or t.actual_start is not None) and not children[i]:
                # a summary's progress is rolled up, not typed
                af = None if t.actual_finish is None else date(t, "actual_finish")
                ast = None if t.actual_start is None else date(t, "actual_start")
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
            if t.manual_start is not None:
                manual_start_l[i] = date(t, "manual_start")
                if t.manual:
                    manual_l[i] = True
            if t.manual_finish is not None:
                self.manual_finish[i] = date(t, "manual_finish")
            if t.deadline is not None:
                self.deadline[i] = date(t, "deadline")
        self.is_alap = list(map(is_, constraint_l, repeat(alap)))
        self.placed = list(map(and_, self.manual, map(is_not, self.manual_start, repeat(None))))  # placed by hand

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

    def _ancestors_with(self, links: npt.NDArray[np.intp]) -> list[list[int]]:
        """Per task, the ancestor summaries that carry links of their own (usually none); ``links``:
        how many links (in or out) each task has."""
        n = len(self.plan.tasks)
        empty: list[int] = []
        out: list[list[int]] = [empty] * n  # shared empty list: only tasks under a linked summary get their own
        summaries = np.array(self.outline.summary_rows, dtype=np.intp)
        linked = summaries[links[summaries] > 0].tolist()
        last = self.outline.last_under
        for a in sorted(linked, key=lambda i: self.outline.levels[i]):  # outer summaries first
            for j in range(a + 1, last[a] + 1):  # its subtasks are the rows down to its last one
                if out[j] is empty:
                    out[j] = [a]
                else:
                    out[j].append(a)
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
        lags = list(map(attrgetter("lag"), self.net.links))
        children = self.outline.children
        pred_index = self.net.pred_index
        known: dict[int, tuple[float, bool]] = {}  # by id: most links share a handful of Lag objects
        percent = too_long = False
        for key, lag in dict(zip(map(id, lags), lags, strict=True)).items():
            if lag.percent is not None:
                percent = True
            elif abs(lag.duration.minutes) > longest:
                too_long = True
            else:
                known[key] = (round(lag.duration.minutes), lag.duration.elapsed)
        if not too_long:  # nothing to report: in bulk, then the percent lags (None so far) from their predecessors
            fixed: list[tuple[float, bool] | None] = list(map(known.get, map(id, lags)))
            for k in compress(range(len(fixed)), map(is_, fixed, repeat(None))) if percent else ():
                p, lag = pred_index[k], lags[k]
                fixed[k] = None if children[p] else (round(self.dur[p] * lag.percent / 100.0),  # type: ignore[operator]
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


def earliest_date(plan: Plan) -> dt.datetime:
    """A start for a plan that has none: its earliest typed date within the years scheduled."""
    dates = [d for t in plan.tasks for d in (t.actual_start, t.constraint_date)
             if d is not None and FIRST_YEAR <= d.year <= _LAST_TYPED_YEAR]
    base = min(dates) if dates else dt.datetime(2000, 1, 3)
    return base.replace(hour=8, minute=0, second=0, microsecond=0)

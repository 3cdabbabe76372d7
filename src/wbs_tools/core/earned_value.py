"""Baseline variances and earned value, as of a status date.

Variances are current minus baseline, in working days of the plan's calendar (positive = later or
longer). Earned value follows the usual definitions (PMI / Microsoft Project): PV is the baseline
cost planned by the status date, spread evenly over the baseline's working time; EV is the budget
times % complete; AC is the actual cost typed by the user.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import partial

from wbs_tools.core.calendar import WorkCalendar, compiled, to_minutes
from wbs_tools.core.frozen import copied_by_fields
from wbs_tools.core.model import Plan
from wbs_tools.core.schedule import Schedule, column_of


@dataclass(frozen=True)
class Variance:
    start_days: float | None
    finish_days: float | None
    duration_days: float | None


@dataclass(frozen=True)
class EarnedValue:
    bac: float
    pv: float
    ev: float
    ac: float

    @property
    def sv(self) -> float:
        return self.ev - self.pv

    @property
    def cv(self) -> float:
        return self.ev - self.ac

    @property
    def spi(self) -> float | None:
        return self.ev / self.pv if self.pv else None

    @property
    def cpi(self) -> float | None:
        return self.ev / self.ac if self.ac else None

    @property
    def eac(self) -> float:
        """Estimate at completion assuming the cost performance so far continues."""
        cpi = self.cpi
        return self.bac / cpi if cpi else self.ac + (self.bac - self.ev)

    @property
    def vac(self) -> float:
        return self.bac - self.eac

    @property
    def tcpi(self) -> float | None:
        rest = self.bac - self.ac
        return (self.bac - self.ev) / rest if rest else None


def _calendar(plan: Plan) -> WorkCalendar:
    spec = plan.calendars.get(plan.settings.calendar)
    return compiled(spec)


def baseline_variances(schedule: Schedule, baseline: int = 0) -> dict[int, Variance]:
    """Per task ID, the variance against Baseline (0) or Baseline1..10; tasks without one are left out.

    >>> import datetime as dt
    >>> from wbs_tools.core.cpm import schedule
    >>> from wbs_tools.core.model import Baseline, Duration, Plan, Settings, Task
    >>> t = Task(1, "A", duration=Duration(960), baselines={0: Baseline(dt.datetime(2026, 1, 5, 8),
    ...          dt.datetime(2026, 1, 5, 17), 480)})
    >>> baseline_variances(schedule(Plan(Settings(start=dt.datetime(2026, 1, 5, 8)), [t])))[1]
    Variance(start_days=0.0, finish_days=1.0, duration_days=1.0)
    """
    plan = schedule.plan
    cal = _calendar(plan)
    per_day = plan.settings.minutes_per_day
    out: dict[int, Variance] = {}
    column = partial(column_of, schedule.tasks)
    for task, start_at, finish_at, minutes in zip(plan.tasks, column("start"), column("finish"),
                                                   column("duration_minutes"), strict=True):
        b = task.baselines.get(baseline)
        if b is None or start_at is None or finish_at is None:
            continue
        start = _days_between(cal, b.start, start_at, per_day)
        finish = _days_between(cal, b.finish, finish_at, per_day)
        dur = (minutes - b.duration_minutes) / per_day if b.duration_minutes is not None else None
        out[task.id] = Variance(start, finish, dur)
    return out


def _days_between(cal: WorkCalendar, a: dt.datetime | None, b: dt.datetime, per_day: float) -> float | None:
    """Working days from ``a`` to ``b``; None when ``a`` is missing or outside the years scheduled."""
    if a is None:
        return None
    try:
        return cal.working_minutes(to_minutes(a), to_minutes(b)) / per_day
    except OverflowError:
        return None


def earned_value(schedule: Schedule, status_date: dt.datetime | None = None,
                 baseline: int = 0) -> dict[int, EarnedValue]:
    """Per leaf task ID with a budget, plus ``0`` for the whole plan (sum of the leaves)."""
    plan = schedule.plan
    status = status_date or plan.settings.status_date
    cal = _calendar(plan)
    out: dict[int, EarnedValue] = {}
    totals = [0.0, 0.0, 0.0, 0.0]
    for task, ts in zip(plan.tasks, schedule.tasks, strict=True):
        if ts.summary:
            continue
        b = task.baselines.get(baseline)
        bac = b.cost if b is not None and b.cost is not None else task.cost
        if bac is None:
            continue
        pv = bac * _planned_share(cal, b.start if b else ts.start, b.finish if b else ts.finish, status)
        ev = bac * ts.percent_complete / 100.0
        ac = task.actual_cost or 0.0
        out[task.id] = EarnedValue(bac, pv, ev, ac)
        for k, v in enumerate((bac, pv, ev, ac)):
            totals[k] += v
    if out:
        out[0] = EarnedValue(*totals)
    return out


def _planned_share(cal: WorkCalendar, start: dt.datetime | None, finish: dt.datetime | None,
                   status: dt.datetime | None) -> float:
    """Share of the work planned to be done by the status date (0 before start, 1 after finish)."""
    if status is None or start is None or finish is None:
        return 0.0
    if status <= start:
        return 0.0
    if status >= finish:
        return 1.0
    try:
        total = cal.working_minutes(to_minutes(start), to_minutes(finish))
        done = cal.working_minutes(to_minutes(start), to_minutes(status))
    except OverflowError:
        return 0.0
    return max(0.0, min(1.0, done / total)) if total > 0 else 1.0


copied_by_fields(__name__)

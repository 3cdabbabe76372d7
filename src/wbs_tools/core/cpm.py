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

import gc
from itertools import compress
from operator import gt

from wbs_tools.core.cpm_passes import Passes
from wbs_tools.core.findings import make_finding
from wbs_tools.core.model import Plan
from wbs_tools.core.rollup import roll_up
from wbs_tools.core.schedule import Schedule, TaskSchedule


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


class _Scheduler(Passes):
    """One run: set-up (``cpm_base``), the passes (``cpm_passes``), then results (``rollup``)."""

    def run(self) -> Schedule:
        try:
            self._forward()
            children, active = self.outline.children, self.active
            leaves = list(compress(range(self.net.n_tasks), map(gt, active, map(bool, children))))  # active leaves
            self.project_finish = max(map(self.ef.__getitem__, leaves), default=self.project_start)
            self._backward()
            is_alap = self.is_alap
            if any(is_alap) and any(map(is_alap.__getitem__, leaves)):
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


__all__ = ["TaskSchedule", "schedule"]

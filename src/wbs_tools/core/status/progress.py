"""Schedule facts for the report: progress against plan, milestones, deadlines and the next critical work.

Everything is measured at the status date passed in (never the clock) and in working days of the
plan's default calendar. Planned progress comes from the baseline: a task is planned to be done in
proportion to the working time between its baseline start and the status date, and the plan's % is
the duration-weighted mean over leaf tasks (baseline duration where there is one). Actual progress is
weighted the same way, so the two figures differ only by what was done, not by re-estimates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence

from wbs_tools.core.calendar import WorkCalendar, compiled, to_minutes
from wbs_tools.core.model import LinkType, Plan, Task
from wbs_tools.core.schedule import DriverKind, Schedule, TaskSchedule
from wbs_tools.core.status.lines import TaskLine, format_day


class DayCounter:
    """Working days between two instants on the plan's default calendar."""

    def __init__(self, plan: Plan) -> None:
        self._specs = plan.calendars
        self._compiled: dict[str, WorkCalendar] = {}
        self.default = plan.settings.calendar
        self.calendar = self.on(None)
        self.minutes_per_day = plan.settings.minutes_per_day or 480
        self._works: dict[str | None, dict[dt.datetime, int]] = {}  # calendar name -> instant -> working minute

    def _work(self, at: dt.datetime, calendar: str | None) -> int:
        """``work_at`` of an instant on a calendar, remembered per datetime (reports ask for the same
        few thousand instants again and again); raises as ``to_minutes`` and ``work_at`` do."""
        works = self._works.get(calendar)
        if works is None:
            works = self._works[calendar] = {}
        w = works.get(at)
        if w is None:
            w = works[at] = self.on(calendar).work_at(to_minutes(at))
        return w

    def on(self, name: str | None) -> WorkCalendar:
        """The compiled calendar ``name`` (the default one when blank or unknown)."""
        name = name if name and name in self._specs else self.default
        if name not in self._compiled:
            spec = self._specs.get(name)
            self._compiled[name] = compiled(spec)
        return self._compiled[name]

    def between(self, a: dt.datetime, b: dt.datetime, calendar: str | None = None) -> float:
        """Working days from ``a`` to ``b`` (negative when ``b`` is earlier), to 0.01 day.

        On the default calendar unless ``calendar`` names a task's own (a 7-day cutover calendar
        counts its weekend as working time).
        """
        if a == b:  # most dates did not move since the last report: nothing to count
            return 0.0
        try:
            minutes = self._work(b, calendar) - self._work(a, calendar)
        except (OverflowError, ValueError):
            return round((b - a).total_seconds() / 86400, 2)
        return round(minutes / self.minutes_per_day, 2) + 0.0  # + 0.0 turns -0.0 into 0.0

    def share(self, start: dt.datetime, finish: dt.datetime, at: dt.datetime) -> float:
        """Share of the working time from ``start`` to ``finish`` that has passed at ``at``."""
        if at <= start:
            return 0.0
        if at >= finish:
            return 1.0
        total = self.between(start, finish)
        return max(0.0, min(1.0, self.between(start, at) / total)) if total > 0 else 1.0


def status_instant(plan: Plan, status_date: dt.date | dt.datetime) -> dt.datetime:
    """A status date typed without a time means the end of that working day."""
    if isinstance(status_date, dt.datetime):
        return status_date
    minute = plan.settings.default_finish_minute
    return dt.datetime.combine(status_date, dt.time(minute // 60, minute % 60))


class PlanFacts:
    """The scheduled tasks with the plan rows they came from, for the report's look-ups.

    What it derives is made when first asked for and kept (explicit attributes rather than
    a functools cached property, which compiled code would recompute at every read)."""

    def __init__(self, schedule: Schedule, days: DayCounter) -> None:
        self.schedule, self.days = schedule, days
        self._by_id: dict[int, TaskSchedule] | None = None
        self._pairs: list[tuple[Task, TaskSchedule]] | None = None
        self._leaves: list[tuple[Task, TaskSchedule]] | None = None
        self._driving: _DrivingPredecessors | None = None
        self._baseline_finish: tuple[dt.datetime | None] | None = None  # a tuple: None is an answer

    @property
    def by_id(self) -> dict[int, TaskSchedule]:
        if self._by_id is None:
            self._by_id = self.schedule.by_id()
        return self._by_id

    @property
    def pairs(self) -> list[tuple[Task, TaskSchedule]]:
        """Active tasks with their schedule, in outline order."""
        if self._pairs is None:
            self._pairs = [pair for pair in zip(self.schedule.plan.tasks, self.schedule.tasks, strict=True)
                           if pair[0].active]
        return self._pairs

    def leaves(self) -> list[tuple[Task, TaskSchedule]]:
        """Active leaf tasks with their schedule, in outline order (one list, built once: do not modify)."""
        if self._leaves is None:
            self._leaves = [pair for pair in self.pairs if not pair[1].summary]  # the same pairs, not copies
        return self._leaves

    @property
    def driving_predecessors(self) -> Mapping[int, TaskSchedule]:
        """Per leaf task ID, the leaf task whose date drives it (a summary stands for its last child),
        worked out for the IDs asked about: the report follows one driving path, not a million tasks."""
        if self._driving is None:
            self._driving = _DrivingPredecessors(self.by_id, self.schedule.tasks, self.leaves())
        return self._driving

    @property
    def baseline_finish(self) -> dt.datetime | None:
        """The latest baseline finish: the agreed end of the project."""
        if self._baseline_finish is None:
            finishes = [t.baselines[0].finish for t, _ in self.pairs if 0 in t.baselines and t.baselines[0].finish]
            self._baseline_finish = (max(finishes, default=None),)  # type: ignore[type-var]
        return self._baseline_finish[0]

    def line(self, task: Task, ts: TaskSchedule) -> TaskLine:
        base = task.baselines.get(0)
        base_finish = base.finish if base is not None else None
        variance = self.days.between(base_finish, ts.finish) if base_finish and ts.finish else None
        return TaskLine(
            id=ts.id, outline_number=ts.outline_number, name=ts.name, start=ts.start, finish=ts.finish,
            percent_complete=ts.percent_complete, critical=ts.critical, owner=task.owner or "",
            slack_days=round(ts.total_slack_minutes / self.days.minutes_per_day, 2) + 0.0,
            baseline_finish=base_finish, variance_days=variance, deadline=task.deadline,
            driver=self.driver_text(ts),
        )

    def driver_text(self, ts: TaskSchedule) -> str:
        """Why the task starts when it does, naming the predecessor rather than its ID."""
        driver = ts.driver
        if driver is None:
            return ""
        if driver.kind is DriverKind.LINK and driver.link is not None:
            link = driver.link
            pred = self.by_id.get(link.predecessor)
            name = f"{pred.outline_number} {pred.name}" if pred else f"task {link.predecessor}"
            lag = "" if link.lag.is_zero else " plus lag"
            return {LinkType.FS: f"after {name}{lag}", LinkType.SS: f"starts with {name}{lag}",
                    LinkType.FF: f"finishes with {name}{lag}", LinkType.SF: f"finishes as {name} starts{lag}"
                    }[link.type]
        if driver.kind is DriverKind.ACTUAL:
            return "in progress" if ts.percent_complete < 100 else "done"
        if driver.date is not None:
            return f"{driver.kind.value} {format_day(driver.date, year=False)}"
        return driver.kind.value


class _DrivingPredecessors(Mapping[int, TaskSchedule]):
    """:attr:`PlanFacts.driving_predecessors`, each answer found when first asked for. For a reused
    ID the answer is its last leaf task's that has a driving predecessor."""

    def __init__(self, by_id: Mapping[int, TaskSchedule], tasks: Sequence[TaskSchedule],
                 leaves: list[tuple[Task, TaskSchedule]]) -> None:
        # no reference back to the PlanFacts holding this: a cycle would keep the plan's pairs alive
        self.by_id, self.tasks = by_id, tasks
        self.reused: dict[int, list[TaskSchedule]] | None = None  # leaves per ID, when an ID is used twice
        if len(by_id) < len(tasks):
            self.reused = {}
            for _, ts in leaves:
                self.reused.setdefault(ts.id, []).append(ts)
        self.last: dict[int, TaskSchedule] = {}  # summary ID -> its last leaf
        self._children: dict[int, list[TaskSchedule]] | None = None

    def _leaves(self, task_id: int) -> list[TaskSchedule]:
        if self.reused is not None:
            return self.reused.get(task_id, [])
        ts = self.by_id.get(task_id)  # the only task of its ID: a leaf unless a summary (an
        return [] if ts is None or ts.summary else [ts]  # inactive one has no driver)

    def __getitem__(self, task_id: int) -> TaskSchedule:
        for ts in reversed(self._leaves(task_id)):
            driver = ts.driver
            if driver is not None and driver.kind is DriverKind.LINK and driver.link is not None:
                pred = self.by_id.get(driver.link.predecessor)
                if pred is not None:
                    return self._last_leaf(pred)
        raise KeyError(task_id)

    def _last_leaf(self, ts: TaskSchedule) -> TaskSchedule:
        if not ts.summary:  # nearly every link comes from a leaf
            return ts
        first = ts
        if first.id in self.last:
            return self.last[first.id]
        children = self._subtasks
        seen = set()
        while ts.summary and children.get(ts.id) and ts.id not in seen:
            seen.add(ts.id)
            ts = max(children[ts.id], key=lambda c: (c.finish or dt.datetime.min, c.critical))
        self.last[first.id] = ts
        return ts

    @property
    def _subtasks(self) -> dict[int, list[TaskSchedule]]:
        """Per summary task ID, its subtasks (gathered only when a link comes from a summary)."""
        if self._children is None:
            children: dict[int, list[TaskSchedule]] = {}
            for ts in self.tasks:
                if ts.parent_id is not None:
                    children.setdefault(ts.parent_id, []).append(ts)
            self._children = children
        return self._children

    def __iter__(self) -> Iterator[int]:
        return (tid for tid in dict.fromkeys(ts.id for ts in self.tasks if not ts.summary) if tid in self)

    def __len__(self) -> int:
        return sum(1 for _ in self)


def percent_complete(facts: PlanFacts, status: dt.datetime) -> tuple[float, float]:
    """(planned, actual) % complete, duration-weighted over leaf tasks; milestones weigh nothing."""
    planned = actual = total = 0.0
    for task, ts in facts.leaves():
        base = task.baselines.get(0)
        weight = base.duration_minutes if base is not None and base.duration_minutes is not None \
            else ts.duration_minutes
        if not weight or weight <= 0:
            continue
        start = base.start if base is not None and base.start else ts.start
        finish = base.finish if base is not None and base.finish else ts.finish
        share = facts.days.share(start, finish, status) if start and finish else 0.0
        planned += share * weight
        actual += min(100.0, max(0.0, ts.percent_complete)) / 100 * weight
        total += weight
    if total == 0:
        return 0.0, 0.0
    return round(100 * planned / total, 1), round(100 * actual / total, 1)


def milestones(facts: PlanFacts, status: dt.datetime, since: dt.datetime, lookahead_days: int
               ) -> tuple[tuple[TaskLine, ...], tuple[TaskLine, ...], tuple[TaskLine, ...]]:
    """Milestones (done since ``since``, due in the look-ahead window, missed).

    Missed: not done although its baseline finish or deadline has passed at the status date.
    """
    horizon = status + dt.timedelta(days=lookahead_days)
    done, due, missed = [], [], []
    for task, ts in facts.leaves():
        if not ts.milestone or ts.finish is None:
            continue
        line = facts.line(task, ts)
        promised = [d for d in (line.baseline_finish, task.deadline) if d is not None]
        if line.done:
            if since < ts.finish <= status:
                done.append(line)
        elif promised and min(promised) <= status:
            missed.append(line)
        elif status < ts.finish <= horizon:
            due.append(line)
    return tuple(done), tuple(sorted(due, key=lambda t: (t.finish, t.id))), tuple(missed)


def deadline_misses(facts: PlanFacts, exclude: set[int]) -> tuple[TaskLine, ...]:
    """Unfinished leaf tasks whose forecast finish is after their deadline."""
    return tuple(facts.line(t, ts) for t, ts in facts.leaves()
                 if t.deadline is not None and ts.finish is not None and ts.finish > t.deadline
                 and ts.percent_complete < 100 and ts.id not in exclude)


def critical_next(facts: PlanFacts, count: int) -> tuple[TaskLine, ...]:
    """The next unfinished tasks on the critical path, in start order (work in progress first)."""
    open_critical = [(ts.start or dt.datetime.max, n, t, ts) for n, (t, ts) in enumerate(facts.leaves())
                     if ts.critical and ts.percent_complete < 100]  # n: outline order breaks ties
    open_critical.sort(key=lambda c: (c[0], c[1]))
    return tuple(facts.line(t, ts) for _start, _n, t, ts in open_critical[:count])

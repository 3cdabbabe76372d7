"""Synthetic but realistic plans for benchmarking the scheduler at any size.

``generate_plan(n, seed)`` builds a work breakdown the way large programmes look in Microsoft Project:

* level-1 phases holding level-2 work packages of 8-18 leaf tasks (about one summary per 12 tasks),
  and a zero-duration "phase complete" milestone closing each phase;
* leaf durations from 0 (milestones) to 20 days, skewed towards short tasks;
* 1-3 predecessors per leaf drawn from the most recent leaves of the same *workstream*, so the graph
  is a DAG with long chains. Phases are dealt round-robin to ``ceil(n / 1000)`` workstreams, which
  keeps the critical path a few years long whatever ``n`` is (a 1M-task chain of days would run past
  the years the calendar supports); 3% of links cross to a recent leaf of another stream, and some
  phases follow the previous phase of their stream through a summary-to-summary link;
* link types ~80% FS, 10% SS, 7% FF, 3% SF; lags and leads in days, a few percent lags, ~2% elapsed;
* a Standard project calendar with ten holidays a year, and a six-day calendar on 5% of the leaves;
* a few SNET/FNLT constraints and deadlines placed near where the task would fall anyway;
* progress (actual start/finish, % complete) on the first 20% of the tasks, against a status date.

Dates are placed with a cheap approximate forward pass in working days (weekends only), which is
enough to put constraints, deadlines and actuals where a planner would. Everything comes from one
``random.Random(seed)``, so a seed always gives the same plan. The generator uses plain loops over
ints and shares immutable ``Duration``/``Lag`` objects, so 1M tasks take seconds, not minutes.
"""

from __future__ import annotations

import datetime as dt
import math
import random

from wbs_tools.core.model import (
    STANDARD_DAY,
    CalendarSpec,
    ConstraintType,
    Duration,
    Lag,
    Link,
    LinkType,
    Plan,
    Settings,
    Task,
)

PROJECT_START = dt.datetime(2026, 1, 5, 8, 0)  # a Monday
MINUTES_PER_DAY = 480
STREAM_SIZE = 1000  # tasks per workstream: bounds the critical path's length
WINDOW = 50  # predecessors come from this many most recent leaves of the stream
NEAR_MEAN = 20.0  # mean distance (in leaves) back to a predecessor: chains run through recent work
CROSS_STREAM = 0.03  # share of links to a recent leaf of another workstream
PHASE_LINK = 0.3  # share of phases linked (summary to summary) to the previous phase of their stream
SIX_DAY = "Six-day week"
#: Fixed public holidays (month, day): ten a year; some fall on weekends, as real ones do.
HOLIDAYS = ((1, 1), (2, 16), (4, 6), (5, 1), (5, 25), (7, 4), (9, 7), (11, 11), (11, 26), (12, 25))
#: Leaf durations in days, skewed towards short tasks (mean about 6.5 days).
DURATION_DAYS = (1, 1, 2, 2, 3, 3, 4, 5, 5, 5, 6, 8, 10, 10, 12, 15, 20)
_LINK_TYPES = ((0.80, LinkType.FS), (0.90, LinkType.SS), (0.97, LinkType.FF), (1.01, LinkType.SF))


def _link_type(u: float) -> LinkType:
    for bound, kind in _LINK_TYPES:
        if u < bound:
            return kind
    return LinkType.FS


def _workday_date(wd: int) -> dt.date:
    """The date of working day ``wd`` counted from the project start (weekends skipped)."""
    return PROJECT_START.date() + dt.timedelta(days=7 * (wd // 5) + wd % 5)


def _at(wd: int, hour: int) -> dt.datetime:
    return dt.datetime.combine(_workday_date(max(0, wd)), dt.time(hour))


def _calendars(last_year: int) -> dict[str, CalendarSpec]:
    holidays = {
        dt.date(year, month, day): ()
        for year in range(PROJECT_START.year, last_year + 1)
        for month, day in HOLIDAYS
    }
    standard = CalendarSpec(name="Standard", exceptions=dict(holidays))
    six_day = CalendarSpec(name=SIX_DAY, week={d: STANDARD_DAY for d in range(6)}, exceptions=dict(holidays))
    return {"Standard": standard, SIX_DAY: six_day}


class _Lags:
    """Shared immutable lags (most links share a handful of values)."""

    def __init__(self) -> None:
        self._cache: dict[tuple[float, bool, float | None], Lag] = {}

    def get(self, minutes: float, elapsed: bool = False, percent: float | None = None) -> Lag:
        key = (minutes, elapsed, percent)
        lag = self._cache.get(key)
        if lag is None:
            unit = "ed" if elapsed else "d"
            lag = Lag(Duration(minutes, elapsed, unit), percent)
            self._cache[key] = lag
        return lag


def _random_lag(rng: random.Random, lags: _Lags, pred_days: int) -> tuple[Lag, int]:
    """A lag for one link and its approximate size in working days."""
    u = rng.random()
    if u < 0.02:  # elapsed lag: curing, delivery, approval periods
        days = rng.randint(1, 7)
        return lags.get(days * 1440.0, elapsed=True), days * 5 // 7
    if u < 0.05:  # percent lag: start when half of the predecessor is done
        pct = rng.choice((-25.0, 10.0, 25.0, 50.0, 75.0))
        return lags.get(0.0, percent=pct), int(pred_days * pct / 100)
    if u < 0.15:  # lag or lead in days
        days = rng.choice((-3, -2, -1, 1, 2, 3, 5))
        return lags.get(days * float(MINUTES_PER_DAY)), days
    return lags.get(0.0), 0


def generate_plan(n_tasks: int, seed: int = 0) -> Plan:
    """A deterministic plan of exactly ``n_tasks`` tasks (summaries included), links and progress."""
    rng = random.Random(seed)
    lags = _Lags()
    durations = {d: Duration(d * float(MINUTES_PER_DAY)) for d in (0, *DURATION_DAYS)}
    n_streams = max(1, math.ceil(n_tasks / STREAM_SIZE))
    recent: list[list[int]] = [[] for _ in range(n_streams)]  # per stream: recent leaf indices
    last_phase: list[int] = [-1] * n_streams  # per stream: index of its previous phase
    global_recent: list[int] = []
    phase_end: dict[int, int] = {}  # phase index -> approximate finish in working days

    tasks: list[Task] = []
    links: list[Link] = []
    es = [0] * n_tasks  # approximate early start / finish in working days (weekends only)
    ef = [0] * n_tasks
    days = [0] * n_tasks
    leaf = [False] * n_tasks

    def add_leaf(level: int, stream: int, duration_days: int,
                 preds: list[tuple[int, LinkType, Lag, int]], name: str, floor: int = 0) -> None:
        i = len(tasks)
        start = floor
        for p, kind, _lag, lag_days in preds:
            if kind is LinkType.FS:
                cand = ef[p] + lag_days
            elif kind is LinkType.SS:
                cand = es[p] + lag_days
            elif kind is LinkType.FF:
                cand = ef[p] + lag_days - duration_days
            else:
                cand = es[p] + lag_days - duration_days
            start = max(start, cand)
        es[i], ef[i], days[i], leaf[i] = start, start + duration_days, duration_days, True
        task = Task(i + 1, name, level, duration=durations[duration_days], milestone=duration_days == 0)
        if duration_days and rng.random() < 0.05:
            task.calendar = SIX_DAY
        tasks.append(task)
        for p, kind, lag, _ in preds:
            links.append(Link(p + 1, i + 1, kind, lag))
        recent[stream].append(i)
        if len(recent[stream]) > 2 * WINDOW:
            del recent[stream][:WINDOW]
        global_recent.append(i)
        if len(global_recent) > 400:
            del global_recent[:200]

    def pick_preds(stream: int) -> list[tuple[int, LinkType, Lag, int]]:
        pool = recent[stream]
        if not pool or rng.random() < 0.02:
            return []
        count = 1 if (u := rng.random()) < 0.5 else (2 if u < 0.85 else 3)
        chosen: dict[int, None] = {}
        window = pool[-WINDOW:]
        for _ in range(count):
            if global_recent and rng.random() < CROSS_STREAM:
                chosen[rng.choice(global_recent[-WINDOW:])] = None
            else:
                # favour the nearest tasks: chains run through the work package just done
                chosen[window[-1 - min(len(window) - 1, int(rng.expovariate(1 / NEAR_MEAN)))]] = None
        out = []
        for p in chosen:
            lag, lag_days = _random_lag(rng, lags, days[p])
            out.append((p, _link_type(rng.random()), lag, lag_days))
        return out

    phase = 0
    while len(tasks) < n_tasks:
        stream = phase % n_streams
        remaining = n_tasks - len(tasks)
        if remaining < 3:  # too few left for a phase: plain leaves at the top level
            add_leaf(1, stream, rng.choice(DURATION_DAYS), pick_preds(stream), f"Task {len(tasks) + 1}")
            continue
        p_index = len(tasks)
        tasks.append(Task(p_index + 1, f"Phase {phase + 1}", 1))
        prev = last_phase[stream]
        floor = 0
        if prev >= 0 and rng.random() < PHASE_LINK:
            links.append(Link(prev + 1, p_index + 1))  # phase follows phase: a summary link
            floor = phase_end[prev]
        first_leaf = len(tasks)
        for wp in range(rng.randint(3, 8)):
            remaining = n_tasks - len(tasks)
            if remaining < 2:
                break
            tasks.append(Task(len(tasks) + 1, f"Work package {phase + 1}.{wp + 1}", 2))
            for _ in range(min(rng.randint(8, 18), n_tasks - len(tasks))):
                d = 0 if rng.random() < 0.02 else rng.choice(DURATION_DAYS)
                add_leaf(3, stream, d, pick_preds(stream), f"Task {len(tasks) + 1}", floor)
        if len(tasks) < n_tasks:  # a milestone closes the phase
            leaves = [j for j in range(first_leaf, len(tasks)) if leaf[j]]
            if leaves:
                preds = [(j, LinkType.FS, lags.get(0.0), 0) for j in leaves[-3:]]
                add_leaf(2, stream, 0, preds, f"Phase {phase + 1} complete", floor)
                if rng.random() < 0.5:
                    tasks[-1].deadline = _at(ef[len(tasks) - 1] + rng.randint(-5, 30), 17)
        phase_end[p_index] = max((ef[j] for j in range(first_leaf, len(tasks))), default=floor)
        last_phase[stream] = p_index
        phase += 1

    _constrain(tasks, es, ef, leaf, rng)
    status_wd = _progress(tasks, es, ef, days, leaf, n_tasks)
    last_year = _workday_date(max(ef, default=0) + 500).year
    settings = Settings(
        project_name=f"Synthetic plan of {n_tasks} tasks (seed {seed})",
        start=PROJECT_START,
        status_date=_at(status_wd - 1, 17) if status_wd > 0 else None,
    )
    return Plan(settings=settings, tasks=tasks, links=links, calendars=_calendars(last_year))


def _constrain(tasks: list[Task], es: list[int], ef: list[int], leaf: list[bool], rng: random.Random) -> None:
    """A few SNET/FNLT constraints and deadlines, close to where each task falls anyway."""
    n = len(tasks)
    for i in range(n // 5, n):  # tasks with progress keep no constraints
        if not leaf[i]:
            continue
        u = rng.random()
        task = tasks[i]
        if u < 0.02:
            task.constraint = ConstraintType.SNET
            task.constraint_date = _at(es[i] + rng.randint(0, 10), 8)
        elif u < 0.03:
            task.constraint = ConstraintType.FNLT
            task.constraint_date = _at(ef[i] + rng.randint(-5, 20) - 1, 17)
        elif u < 0.04:
            task.deadline = _at(ef[i] + rng.randint(-5, 30) - 1, 17)


def _progress(tasks: list[Task], es: list[int], ef: list[int], days: list[int], leaf: list[bool],
              n: int) -> int:
    """Actuals on the first 20% of the tasks; returns the status date as a working-day number."""
    cut = n // 5
    if cut == 0:
        return 0
    status = max(1, es[cut])
    for i in range(cut):
        if not leaf[i] or es[i] >= status:
            continue
        task = tasks[i]
        task.actual_start = _at(es[i], 8)
        if ef[i] <= status:
            task.actual_finish = _at(ef[i] - 1, 17) if days[i] else task.actual_start
            task.percent_complete = 100.0
        else:
            task.percent_complete = float(max(1, min(99, round(100 * (status - es[i]) / days[i]))))
    return status


__all__ = ["generate_plan"]

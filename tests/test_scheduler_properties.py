"""Properties every schedule must have, checked on random networks.

The example-based tests pin Microsoft Project's dates on small hand-made networks; these check the
invariants that hold whatever the network: the scheduler never raises, early dates honour every
link, slack is never negative without constraints, loops are reported and contained, and the
result is a pure function of the plan.
"""

from __future__ import annotations

import copy
import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wbs_tools.core.calendar import WorkCalendar, to_minutes
from wbs_tools.core.cpm import schedule
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
    WorkingTime,
)
from wbs_tools.core.schedule import Schedule

MON = dt.datetime(2026, 1, 5, 8)
DAY = 480.0
PROPS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

#: Alternative task calendars: a six-day week, short single-period days, a four-day week of 10 hours.
ALT_CALENDARS = {
    "Six": CalendarSpec("Six", week={d: STANDARD_DAY for d in range(6)}),
    "Short": CalendarSpec("Short", week={d: (WorkingTime(9 * 60, 15 * 60),) for d in range(5)}),
    "Long": CalendarSpec("Long", week={d: (WorkingTime(7 * 60, 12 * 60), WorkingTime(12 * 60 + 30, 17 * 60 + 30))
                                       for d in range(4)}),
}


# -- strategies -----------------------------------------------------------------------------------
def _when(draw: st.DrawFn, lo: int = -10, hi: int = 40) -> dt.datetime:
    """A date near the project start, at a start, an end or an awkward time of day."""
    day = MON + dt.timedelta(days=draw(st.integers(lo, hi)))
    return day.replace(hour=draw(st.sampled_from([0, 8, 10, 12, 13, 17, 23])))


def _duration(draw: st.DrawFn, elapsed: bool, whole: bool) -> Duration | None:
    odd = st.integers(0, 1500).map(lambda m: 4.0 * m) if whole else st.integers(0, 6000).map(float)
    minutes = draw(st.one_of(st.sampled_from([0.0, 60.0, 240.0, DAY, 2 * DAY, 5 * DAY, 10 * DAY]), odd))
    if elapsed and draw(st.integers(0, 9)) == 0:
        return Duration(minutes * 3, elapsed=True, unit="ed")
    if draw(st.integers(0, 19)) == 0:
        return None  # no duration typed: one day (or a milestone)
    return Duration(minutes)


def _lag(draw: st.DrawFn, elapsed: bool = True, whole: bool = False) -> Lag:
    """A lag, lead, percent lag or elapsed lag; ``whole`` keeps percent lags to whole minutes
    (with durations in multiples of 4 minutes), ``elapsed`` allows elapsed lags."""
    kind = draw(st.integers(0, 5 if elapsed else 4))
    if kind == 0:
        return Lag(Duration(draw(st.integers(-5, 5)) * DAY))
    if kind == 1:
        return Lag(Duration(float(draw(st.integers(-3000, 3000)))))
    if kind == 2:
        return Lag(percent=25.0 * draw(st.integers(-4, 8)) if whole else float(draw(st.integers(-100, 200))))
    if kind == 4 and elapsed:
        return Lag(Duration(draw(st.integers(-3, 5)) * 1440.0, elapsed=True, unit="ed"))
    return Lag()


@st.composite
def plans(draw: st.DrawFn, *, constraints: bool = True, progress: bool = True, elapsed: bool = True,
          other_calendars: bool = True, whole: bool = False, max_tasks: int = 12) -> Plan:
    """A random plan: outline, durations (0 included), links of any type and lag, and optionally
    constraints, deadlines, manual and inactive tasks (with ``constraints``), progress, elapsed
    durations and lags, and other calendars. Links always
    point from a lower to a higher position, so the network itself is acyclic (loops are added on
    purpose elsewhere)."""
    n = draw(st.integers(1, max_tasks))
    levels = [1]
    for _ in range(n - 1):
        levels.append(draw(st.integers(1, levels[-1] + 1)))
    tasks = []
    for i, level in enumerate(levels):
        t = Task(i + 1, f"T{i + 1}", level, duration=_duration(draw, elapsed, whole))
        t.milestone = draw(st.integers(0, 14)) == 0
        if other_calendars and draw(st.integers(0, 4)) == 0:
            t.calendar = draw(st.sampled_from(sorted(ALT_CALENDARS)))
        if constraints:
            if draw(st.integers(0, 3)) == 0:
                t.constraint = draw(st.sampled_from(list(ConstraintType)))
                t.constraint_date = _when(draw) if draw(st.integers(0, 9)) else None
            if draw(st.integers(0, 5)) == 0:
                t.deadline = _when(draw)
            if draw(st.integers(0, 19)) == 0:  # manually scheduled: dates typed, links ignored
                t.manual, t.manual_start = True, _when(draw)
                t.manual_finish = t.manual_start + dt.timedelta(days=draw(st.integers(0, 5))) if draw(
                    st.booleans()) else None
            t.active = draw(st.integers(0, 19)) != 0
        if progress and draw(st.integers(0, 3)) == 0:
            t.actual_start = _when(draw, -5, 15)
            if draw(st.booleans()):
                t.actual_finish = t.actual_start + dt.timedelta(hours=draw(st.integers(-10, 200)))
            t.percent_complete = float(draw(st.integers(0, 100)))
        tasks.append(t)
    links = []
    if n > 1:
        for _ in range(draw(st.integers(0, 2 * n))):
            a, b = draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))
            if a == b:
                continue
            p, s = min(a, b), max(a, b)
            links.append(Link(p + 1, s + 1, draw(st.sampled_from(list(LinkType))), _lag(draw, elapsed, whole)))
    start = MON + dt.timedelta(days=draw(st.integers(0, 6)), hours=draw(st.sampled_from([0, 2, 9])))
    sets = Settings(start=start, multiple_critical_paths=draw(st.booleans()))
    if progress:
        sets.status_date = _when(draw, 0, 20)
    calendars = {"Standard": CalendarSpec()}
    if draw(st.booleans()):  # holidays in the first weeks
        calendars["Standard"].exceptions = {(MON + dt.timedelta(days=k)).date(): ()
                                            for k in draw(st.sets(st.integers(0, 30), max_size=4))}
    calendars.update(ALT_CALENDARS)
    return Plan(sets, tasks, links, calendars)


# -- helpers --------------------------------------------------------------------------------------
def _calendars(plan: Plan) -> tuple[dict[str, WorkCalendar], WorkCalendar]:
    cals = {name: WorkCalendar(spec) for name, spec in plan.calendars.items()}
    return cals, cals.get(plan.settings.calendar) or WorkCalendar()


def _lag_minutes(link: Link, pred: Task) -> tuple[float, bool]:
    """The lag in minutes and whether it is elapsed; a percent lag is a share of the predecessor."""
    if link.lag.percent is not None:
        d = pred.duration
        minutes = max(0.0, d.minutes) if d is not None else (0.0 if pred.milestone else DAY)
        return minutes * link.lag.percent / 100.0, bool(d and d.elapsed)
    return link.lag.duration.minutes, link.lag.duration.elapsed


def _parents(plan: Plan) -> list[int]:
    """Index of each task's summary (-1 at the top), from the outline levels."""
    parent, stack = [], []
    for i, t in enumerate(plan.tasks):
        del stack[max(0, t.outline_level - 1):]
        parent.append(stack[-1] if stack else -1)
        stack.append(i)
    return parent


def _scheduled(plan: Plan) -> set[int]:
    """IDs of the tasks that must get dates: active, and no inactive summary above them."""
    parent, out = _parents(plan), set()
    for i, t in enumerate(plan.tasks):
        j = i
        while j >= 0 and plan.tasks[j].active:
            j = parent[j]
        if j < 0:
            out.add(t.id)
    return out


def _empty_summary(plan: Plan) -> bool:
    """Whether an active summary has only inactive direct subtasks (see the known issue below)."""
    tasks = plan.tasks
    for i, t in enumerate(tasks):
        kids = []
        for u in tasks[i + 1:]:
            if u.outline_level <= t.outline_level:
                break
            if u.outline_level == t.outline_level + 1:
                kids.append(u)
        if kids and t.active and not any(u.active for u in kids):
            return True
    return False


def _fingerprint(s: Schedule) -> tuple:
    return (list(s.tasks), list(s.links),
            s.findings, s.project_start, s.project_finish)


def link_violations(plan: Plan, sched: Schedule) -> list[str]:
    """Accepted leaf-to-leaf links whose successor's early dates come before the link allows.

    Compared in working minutes on the successor's calendar (where the lag counts), so a start at
    the next working morning equals a finish at 17:00 the evening before. Successors with a
    constraint, actuals or manual dates, and ALAP predecessors, are skipped: their dates are not the links' doing.
    """
    cals, project_cal = _calendars(plan)
    tasks = {t.id: t for t in plan.tasks}
    out = {t.id: t for t in sched.tasks}
    bad = []
    for ls in sched.links:
        link = ls.link
        p, s = out[link.predecessor], out[link.successor]
        tp, tsucc = tasks[link.predecessor], tasks[link.successor]
        if p.summary or s.summary or p.in_cycle or s.in_cycle:
            continue
        if tsucc.constraint is not ConstraintType.ASAP or tsucc.actual_start or tsucc.actual_finish or tsucc.manual:
            continue
        if tp.constraint is ConstraintType.ALAP:
            continue
        cal = cals.get(tsucc.calendar or "", project_cal)
        lag, elapsed = _lag_minutes(link, tp)
        ref = p.early_finish if link.type in (LinkType.FS, LinkType.FF) else p.early_start
        got = s.early_start if link.type in (LinkType.FS, LinkType.SS) else s.early_finish
        assert ref is not None and got is not None
        need = cal.work_at(to_minutes(ref) + round(lag)) if elapsed else cal.work_at(to_minutes(ref)) + lag
        if cal.work_at(to_minutes(got)) < need - 1:  # percent lags round to the minute
            bad.append(f"{link.type.value} {link.predecessor}->{link.successor} lag {link.lag}: "
                       f"{got:%a %d %H:%M} before {need - cal.work_at(to_minutes(got)):.0f} more minutes")
    return bad


# -- properties -----------------------------------------------------------------------------------
#: Plans where every property must hold exactly: no constraints, deadlines or progress; one calendar;
#: no elapsed durations or lags; whole-minute lags. What lies outside is pinned by the known-issue
#: tests at the end of this file.
CLEAN = plans(constraints=False, progress=False, elapsed=False, other_calendars=False, whole=True)


@PROPS
@given(plans())
def test_schedule_never_raises(plan: Plan) -> None:
    result = schedule(plan)
    assert len(result.tasks) == len(plan.tasks)
    if not _empty_summary(plan):  # test_a_summary_of_inactive_tasks_does_not_stop_the_schedule
        active = _scheduled(plan)
        assert all(t.early_start is not None and t.late_finish is not None for t in result.tasks if t.id in active)


@PROPS
@given(CLEAN)
def test_slack_is_never_negative_without_constraints_deadlines_or_progress(plan: Plan) -> None:
    for t in schedule(plan).tasks:
        assert t.total_slack_minutes >= 0, (t.id, t.total_slack_minutes)
        assert t.free_slack_minutes >= 0, (t.id, t.free_slack_minutes)


@PROPS
@given(CLEAN)
def test_early_start_is_not_after_late_start(plan: Plan) -> None:
    """Compared in working minutes on the task's calendar: a milestone's late start may be shown at
    17:00 the evening before its early start at 08:00, the same working instant (see
    ``test_milestone_late_start_is_not_shown_before_its_early_start``); other leaves compare as dates."""
    cals, project_cal = _calendars(plan)
    tasks = {t.id: t for t in plan.tasks}
    for t in schedule(plan).tasks:
        if t.summary:
            continue
        assert t.early_start is not None and t.late_start is not None
        cal = cals.get(tasks[t.id].calendar or "", project_cal)
        assert cal.work_at(to_minutes(t.early_start)) <= cal.work_at(to_minutes(t.late_start)), t.id
        if not t.milestone:
            assert t.early_start <= t.late_start, (t.id, t.early_start, t.late_start)


@PROPS
@given(plans(elapsed=False))
def test_early_dates_honour_every_link(plan: Plan) -> None:
    assert link_violations(plan, schedule(plan)) == []


@st.composite
def plans_with_a_loop(draw: st.DrawFn) -> tuple[Plan, list[int]]:
    """A random acyclic plan plus a loop through two or more of its leaf tasks."""
    plan = draw(plans(max_tasks=10))
    levels = [t.outline_level for t in plan.tasks]
    leaves = [t.id for i, t in enumerate(plan.tasks) if i + 1 == len(levels) or levels[i + 1] <= levels[i]]
    if len(leaves) < 2:
        n = len(plan.tasks)
        plan.tasks += [Task(n + 1, f"T{n + 1}", 1, duration=Duration(DAY)),
                       Task(n + 2, f"T{n + 2}", 1, duration=Duration(DAY))]
        leaves = [n + 1, n + 2]
    order = draw(st.permutations(leaves))
    loop = order[: draw(st.integers(2, len(order)))]
    parent = _parents(plan)
    for i, t in enumerate(plan.tasks):  # links to an inactive task (or below one) are ignored
        if t.id in loop:
            j = i
            while j >= 0:
                plan.tasks[j].active = True
                j = parent[j]
    for a, b in zip(loop, loop[1:] + loop[:1], strict=True):
        plan.links.append(Link(a, b, draw(st.sampled_from(list(LinkType))), _lag(draw)))
    return plan, loop


@PROPS
@given(plans_with_a_loop())
def test_a_loop_is_reported_with_all_its_tasks_and_contained(case: tuple[Plan, list[int]]) -> None:
    plan, loop = case
    result = schedule(plan)
    messages = [f.message for f in result.findings if f.code == "graph.cycle"]
    assert messages, "no graph.cycle finding"
    for tid in loop:
        assert any(f"{tid} 'T{tid}'" in m for m in messages), (tid, messages)
    by_id = result.by_id()
    assert all(by_id[tid].in_cycle for tid in loop)
    if _empty_summary(plan):  # test_a_summary_of_inactive_tasks_does_not_stop_the_schedule
        return
    active = _scheduled(plan)
    for t in result.tasks:
        if t.id in active:
            assert t.early_start is not None and t.early_finish is not None, t.id
            assert t.late_start is not None and t.late_finish is not None, t.id


@PROPS
@given(plans())
def test_schedule_is_deterministic_and_leaves_the_plan_untouched(plan: Plan) -> None:
    before = copy.deepcopy(plan)
    first = schedule(plan)
    assert plan == before
    assert _fingerprint(schedule(plan)) == _fingerprint(first)
    assert _fingerprint(schedule(before)) == _fingerprint(first)


# -- regressions: minimal cases the properties above once found ---------------------------
def _plan(tasks: list[Task], links: list[Link], start: dt.datetime = MON) -> Plan:
    plan = Plan(Settings(start=start), tasks, links)
    plan.calendars.update(ALT_CALENDARS)
    return plan


def _slack(plan: Plan) -> dict[int, float]:
    return {t.id: t.total_slack_minutes for t in schedule(plan).tasks}


def test_a_six_day_predecessor_of_a_five_day_successor_has_no_negative_slack() -> None:
    plan = _plan([Task(1, "A", duration=Duration(6 * DAY), calendar="Six"), Task(2, "B", duration=Duration(DAY))],
                 [Link(1, 2, lag=Lag(Duration(DAY)))])
    assert min(_slack(plan).values()) >= 0


def test_an_ff_elapsed_lag_counts_from_the_predecessor_finish() -> None:
    plan = _plan([Task(1, "A", duration=Duration(3120)), Task(2, "B", duration=Duration(2 * DAY))],
                 [Link(1, 2, LinkType.FF, Lag(Duration(1440, elapsed=True, unit="ed")))])
    b = schedule(plan).by_id()[2]
    assert b.early_finish is not None and b.early_finish >= dt.datetime(2026, 1, 14, 12)
    assert min(_slack(plan).values()) >= 0


def test_an_elapsed_task_has_no_negative_slack() -> None:
    plan = _plan([Task(1, "A", duration=Duration(180, elapsed=True, unit="eh")), Task(2, "B", duration=Duration(0))],
                 [Link(1, 2, lag=Lag(Duration(DAY)))], start=MON.replace(hour=10))
    assert min(_slack(plan).values()) >= 0


def test_a_fractional_lag_leaves_no_negative_slack() -> None:
    plan = _plan([Task(1, "A", duration=Duration(151)), Task(2, "B", duration=Duration(0))],
                 [Link(1, 2, lag=Lag(Duration(1.5)))])
    assert min(_slack(plan).values()) >= 0


def test_milestone_late_start_is_not_shown_before_its_early_start() -> None:
    plan = _plan([Task(1, "A", duration=Duration(0)), Task(2, "B", duration=Duration(0))],
                 [Link(1, 2, lag=Lag(Duration(DAY)))])
    a = schedule(plan).by_id()[1]
    assert a.early_start is not None and a.late_start is not None and a.early_start <= a.late_start


def test_an_sf_milestone_does_not_finish_before_it_starts() -> None:
    plan = _plan([Task(1, "A", duration=Duration(0)), Task(2, "B", duration=Duration(0), calendar="Short")],
                 [Link(1, 2, LinkType.SF)])
    b = schedule(plan).by_id()[2]
    assert b.early_start is not None and b.early_finish is not None and b.early_start <= b.early_finish


def test_a_summary_of_inactive_tasks_does_not_stop_the_schedule() -> None:
    nested = _plan([Task(1, "S1", 1), Task(2, "S2", 2), Task(3, "S3", 3, active=False),
                    Task(4, "A", 4, duration=Duration(DAY))], [])
    linked = _plan([Task(1, "A", duration=Duration(DAY)), Task(2, "S", 1),
                    Task(3, "C", 2, duration=Duration(DAY), active=False)], [Link(1, 2)])
    for plan in (nested, linked):
        result = schedule(plan)
        assert not [f for f in result.findings if f.code == "schedule.date-out-of-range"]
        assert all(t.early_start is not None for t in result.tasks if t.id in (1, 2))


def test_an_sf_elapsed_lag_keeps_the_successor_duration() -> None:
    plan = _plan([Task(1, "P", duration=Duration(3120)), Task(2, "A", duration=Duration(DAY)),
                  Task(3, "B", duration=Duration(2 * DAY))],
                 [Link(1, 2), Link(2, 3, LinkType.SF, Lag(Duration(1440, elapsed=True, unit="ed")))])
    b = schedule(plan).by_id()[3]
    assert b.early_start and b.early_finish and b.late_finish
    cal = WorkCalendar()
    assert cal.work_at(to_minutes(b.early_finish)) - cal.work_at(to_minutes(b.early_start)) == 2 * DAY
    assert b.early_finish <= b.late_finish


def test_an_elapsed_sf_successor_keeps_its_duration() -> None:
    plan = _plan([Task(1, "A", duration=Duration(0)), Task(2, "B", duration=Duration(63, elapsed=True, unit="em"))],
                 [Link(1, 2, LinkType.SF)])
    b = schedule(plan).by_id()[2]
    assert b.early_start and b.early_finish and b.late_start
    assert b.early_finish - b.early_start == dt.timedelta(minutes=63)
    assert b.early_start <= b.late_start


def test_a_summary_percent_lag_is_working_time() -> None:
    e0 = Duration(0.0, elapsed=True, unit="ed")
    plan = _plan([Task(1, "S", 1, duration=e0, calendar="Long", milestone=True),
                  Task(2, "A", 2, duration=Duration(2400), calendar="Long", milestone=True),
                  Task(3, "B", 1, duration=e0, calendar="Long", milestone=True)],
                 [Link(1, 3, LinkType.SF, Lag(percent=-3.0))])
    plan.settings.multiple_critical_paths = True
    assert min(_slack(plan).values()) >= 0


@st.composite
def _drawn_calendars(draw: st.DrawFn) -> CalendarSpec:
    """A working week of up to three periods a day (any minutes), with dated exceptions."""
    def day() -> tuple[WorkingTime, ...]:
        cuts = sorted(draw(st.lists(st.integers(0, 1440), min_size=0, max_size=6, unique=True)))
        return tuple(WorkingTime(a, b) for a, b in zip(cuts[::2], cuts[1::2], strict=False))
    week = {d: day() for d in range(7)}
    if not any(week.values()):
        week[0] = (WorkingTime(480, 1020),)
    exceptions = {(MON + dt.timedelta(days=draw(st.integers(-60, 60)))).date(): day()
                  for _ in range(draw(st.integers(0, 4)))}
    return CalendarSpec("Drawn", week=week, exceptions=exceptions)


@given(_drawn_calendars(), st.lists(st.integers(-40 * 1440, 40 * 1440), min_size=1, max_size=50), st.booleans())
@settings(max_examples=150, deadline=None)
def test_bulk_working_minutes_agree_with_one_by_one(spec: CalendarSpec, offsets: list[int], far: bool) -> None:
    import numpy as np

    cal = WorkCalendar(spec)
    base = to_minutes(MON)
    instants = [base + o for o in offsets]
    if far:  # beyond the day tables built so far: the bulk path falls back to one by one
        instants.append(base + 3000 * 1440 + 17)
    cal.work_at(base)  # the tables exist, as they do once a schedule has run
    bulk = cal.work_at_many(np.array(instants, dtype=np.int64)).tolist()
    assert bulk == [float(cal.work_at(t)) for t in instants]

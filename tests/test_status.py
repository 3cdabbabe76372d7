"""Weekly status model: RAG rules, progress, milestones, registers, the weekly snapshot and its diff.

The sample migration plan is reported at its status date (Fri 27 Feb 2026) and a week later, after
recording the week's progress, slipping one critical task by two days, logging a new issue and
resolving an old one; every expectation below follows from those edits.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wbs_tools.core.cpm import schedule
from wbs_tools.core.model import Duration, Plan
from wbs_tools.core.schedule import Schedule
from wbs_tools.core.status import (
    SNAPSHOT_COLUMNS,
    AreaStatus,
    FinishForecast,
    IssueMark,
    Progress,
    Rag,
    RagRules,
    StatusReport,
    StatusSnapshot,
    TaskLine,
    TaskMark,
    build_status,
    diff_snapshots,
    driving_path,
    status_sheet_rows,
)
from wbs_tools.core.status.progress import DayCounter, PlanFacts
from wbs_tools.core.status.rules import overall_status, schedule_status
from wbs_tools.workbook.layout import STATUS, STATUS_HISTORY
from wbs_tools.workbook.sample import STATUS_DATE, sample_plan, sample_registers

WEEK1 = STATUS_DATE
WEEK2 = STATUS_DATE + dt.timedelta(days=7)
SLIPPED = 22  # 4.2.1 Customers & contacts: critical, starts in week 2, two days longer than last week
DOCS = Path(__file__).resolve().parents[1] / "docs" / "status.md"
QUIET_SCHEDULE = RagRules(missed_milestone=Rag.GREEN, deadline_forecast_missed=Rag.GREEN)


def advance(plan: Plan, status: dt.datetime) -> None:
    """Record progress up to ``status`` as the schedule forecasts it, as a PM does on Friday."""
    plan.settings.status_date = status
    for task, ts in zip(plan.tasks, schedule(plan).tasks, strict=True):
        if ts.summary or ts.start is None or ts.start > status or task.percent_complete >= 100:
            continue
        task.actual_start = task.actual_start or ts.start
        if ts.finish is not None and ts.finish <= status:
            task.actual_finish, task.percent_complete = ts.finish, 100.0
        elif task.duration is not None:
            worked = sum((ts.start.date() + dt.timedelta(n)).weekday() < 5
                         for n in range((status.date() - ts.start.date()).days + 1))
            task.percent_complete = float(min(95, 5 * round(20 * worked * 480 / task.duration.minutes)))


def week_two_plan() -> Plan:
    plan = sample_plan()
    task = plan.task_by_id()[SLIPPED]
    assert task.duration is not None
    task.duration = Duration(task.duration.minutes + 2 * 480)
    advance(plan, WEEK2)
    return plan


def week_two_registers() -> dict[str, list[dict[str, object]]]:
    registers = sample_registers()
    issues = registers["Issue Log"]
    issues.append({"id": "I-011", "reported_by": "Mara Novak", "reported_on": dt.date(2026, 3, 4),
                   "what": "Duplicate SKUs after the products mock extract", "where": "23", "severity": "High",
                   "priority": "P2", "owner": "Tom Becker", "status": "Open"})
    i004 = next(i for i in issues if i["id"] == "I-004")
    i004.update(status="Resolved", resolved_on=dt.date(2026, 3, 4), resolution="Century window fixed")
    return registers


@dataclasses.dataclass(frozen=True)
class Weeks:
    first: StatusReport
    second: StatusReport
    first_schedule: Schedule
    second_schedule: Schedule


def two_weeks() -> Weeks:
    s1 = schedule(sample_plan())
    r1 = build_status(s1, sample_registers(), status_date=WEEK1)
    s2 = schedule(week_two_plan())
    r2 = build_status(s2, week_two_registers(), status_date=WEEK2, previous=r1.snapshot)
    return Weeks(r1, r2, s1, s2)


@pytest.fixture(scope="module")
def weeks() -> Weeks:
    return two_weeks()


def report(registers: dict | None = None, rules: RagRules | None = None) -> StatusReport:
    """The sample at its status date, with other register rows or rules."""
    return build_status(schedule(sample_plan()), sample_registers() if registers is None else registers,
                        status_date=WEEK1, rules=rules or RagRules())


# -- the sample plan at its status date ------------------------------------------------------------

def test_first_report_on_the_sample(weeks: Weeks) -> None:
    r = weeks.first
    assert r.project_name == "Northwind Foods ERP data migration"
    assert r.status_date == WEEK1 and r.previous_date is None and r.diff is None
    assert r.period_start == WEEK1 - dt.timedelta(days=7)
    assert {a.area: a.rag for a in r.areas} == {"Schedule": Rag.AMBER, "Issues": Rag.RED, "Actions": Rag.AMBER,
                                                 "Scope": Rag.GREEN}
    assert r.overall.rag is Rag.RED
    assert (r.progress.planned, r.progress.actual) == (37.6, 33.8)
    assert r.finish == FinishForecast(dt.datetime(2026, 6, 23, 17), dt.datetime(2026, 6, 18, 17), 3.0)
    assert [m.id for m in r.milestones_missed] == [18] and [m.id for m in r.deadline_misses] == [54]
    assert [t.id for t in r.critical_next] == [20, 22, 24, 26, 31]
    assert r.critical_next[1].driver == "after 4.1 ETL platform licence & install"
    assert [(o.line.id, o.own_days, o.cause) for o in r.baseline_origins] == [
        (22, 3.0, "took 3 working days longer")]
    assert r.narrative[0] == ("Forecast finish Tue 23 Jun 2026 is 3 working days later than the baseline Thu 18 Jun "
                              "2026; the gap comes from 4.2.1 Customers & contacts, which took 3 working days longer.")
    assert [s.item_id for s in r.signoffs] == ["18"]  # R-007's rejection (11 Feb) is older than the week


def test_actions_issues_and_counts(weeks: Weeks) -> None:
    r = weeks.first
    chase = {g.owner: [(a.id, a.days_overdue, a.blocked_by, a.blocks_critical) for a in g.actions]
             for g in r.actions_by_owner}
    assert chase == {
        "DataBridge (vendor)": [("A-008", 0, (), True)],
        "Jo Whitfield": [("A-005", 10, ("A-004",), False), ("A-006", 5, (), False), ("A-011", 0, ("A-010",), True)],
        "Mara Novak": [("A-009", 0, (), True)],
        "Priya Shah": [("A-004", 12, (), False), ("A-010", 0, (), True)],
    }
    assert {a.id for a in r.overdue_actions} == {"A-004", "A-005", "A-006"}
    assert [(c.severity, c.open, c.breaching) for c in r.issues_by_severity] == [
        ("Critical", 0, 0), ("High", 4, 4), ("Medium", 2, 2), ("Low", 1, 0)]
    assert [i.id for i in r.open_issues] == ["I-001", "I-003", "I-008", "I-009", "I-004", "I-007", "I-010"]
    assert r.critical_tasks == 23 and r.late_tasks > 0


# -- week over week --------------------------------------------------------------------------------

def test_diff_lists_exactly_the_slips_and_new_issues(weeks: Weeks) -> None:
    diff = weeks.second.diff
    assert diff is not None
    before, after = weeks.first_schedule.by_id(), weeks.second_schedule.by_id()
    moved = {i for i, ts in after.items() if not ts.summary
             and (ts.start, ts.finish) != (before[i].start, before[i].finish)}
    assert {m.id for m in diff.moves} == moved
    assert SLIPPED in moved and len(moved) > 20  # the slip and everything downstream of it
    assert {m.id for m in diff.slips} == moved
    assert [(m.id, m.own_days, m.cause) for m in diff.origins] == [(SLIPPED, 2.0, "took 2 working days longer")]
    assert {m.finish_days for m in diff.moves} == {2.0}
    assert diff.finish_days == 2.0 and weeks.second.finish.change_days == 2.0
    assert [i.id for i in diff.new_issues] == ["I-011"]
    assert [i.id for i in diff.closed_issues] == ["I-004"]
    assert diff.critical_added == diff.critical_removed == ()  # 4.1 finished: not "off the critical path"
    assert diff.added_tasks == diff.removed_tasks == ()


def test_second_report_narrative_and_rag(weeks: Weeks) -> None:
    r = weeks.second
    assert r.narrative[0] == ("Finish moved 2 working days later since Fri 27 Feb, to Thu 25 Jun 2026, because "
                              "4.2.1 Customers & contacts took 2 working days longer.")
    assert "5 working days later than the baseline" in r.narrative[1]
    assert "up from 33.8% at the last report" in r.narrative[2]
    assert "Milestone reached: 3.5 Design approved." in r.narrative
    assert any("1 new issue (I-011), 1 closed since Fri 27 Feb" in s for s in r.narrative)
    assert [m.id for m in r.milestones_done] == [18]
    assert r.progress.previous_actual == 33.8 and r.progress.actual > 33.8
    # A-009 (due 4 Mar) is now overdue and needed by the critical 4.4 Reconciliation reports.
    actions = r.area("actions")
    assert actions.rag is Rag.RED and "A-009" in actions.reasons[0]


def test_refreshing_twice_keeps_comparing_with_last_week(weeks: Weeks) -> None:
    history = weeks.first.snapshot.to_rows() + weeks.second.snapshot.to_rows()
    previous = StatusSnapshot.from_rows(history, before=WEEK2)
    assert previous == weeks.first.snapshot
    assert StatusSnapshot.from_rows(history) == weeks.second.snapshot
    assert StatusSnapshot.from_rows(history, before=WEEK1) is None
    with pytest.raises(ValueError, match="not before the status date"):
        build_status(weeks.second_schedule, None, status_date=WEEK2, previous=weeks.second.snapshot)


def test_snapshot_reads_back_what_a_workbook_returns(weeks: Weeks) -> None:
    snap = weeks.first.snapshot
    as_excel = [{k: (float(v) if k == "key" and isinstance(v, int) else
                     ("TRUE" if v else "FALSE") if k == "critical" and isinstance(v, bool) else
                     v.isoformat(" ") if isinstance(v, dt.datetime) else v)
                 for k, v in row.items()} for row in snap.to_rows()]
    assert all(set(row) == set(SNAPSHOT_COLUMNS) for row in as_excel)
    assert StatusSnapshot.from_rows(as_excel) == snap
    assert StatusSnapshot.from_rows([]) is None
    assert StatusSnapshot.from_rows([{"status_date": "not a date", "kind": "task", "key": 1}]) is None


_DATES = st.datetimes(min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2030, 12, 31)).map(
    lambda d: d.replace(second=0, microsecond=0))
_NAMES = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=30).map(lambda s: " ".join(s.split()))


@settings(max_examples=60, deadline=None)
@given(_DATES, st.dictionaries(st.integers(1, 10**6), st.tuples(_NAMES, _DATES, _DATES, st.booleans()), max_size=8),
       st.dictionaries(_NAMES.filter(bool), st.tuples(_NAMES, st.sampled_from(["Critical", "Low", ""])), max_size=5))
def test_snapshot_round_trip(when: dt.datetime, tasks: dict, issues: dict) -> None:
    snap = StatusSnapshot(when, "P", when, when, None, 12.5,
                          {i: TaskMark(n, a, b, c) for i, (n, a, b, c) in tasks.items()},
                          {i: IssueMark(w, s) for i, (w, s) in issues.items()})
    assert StatusSnapshot.from_rows(snap.to_rows()) == snap


def test_diff_of_constructed_snapshots() -> None:
    days = DayCounter(sample_plan())
    mon, tue, wed, fri = (dt.datetime(2026, 3, d, 17) for d in (2, 3, 4, 6))
    before = StatusSnapshot(dt.datetime(2026, 2, 27, 17), project_finish=wed, tasks={
        1: TaskMark("Done now", mon, mon, True), 2: TaskMark("Joins", mon, tue, False),
        3: TaskMark("Leaves", tue, wed, True), 4: TaskMark("Removed", mon, mon, False)},
        open_issues={"I-1": IssueMark("old", "Low")})
    after = StatusSnapshot(fri, project_finish=fri, tasks={
        1: TaskMark("Done now", mon, mon, False), 2: TaskMark("Joins", mon, wed, True),
        3: TaskMark("Leaves", tue, wed + dt.timedelta(days=7), False), 5: TaskMark("Added", fri, fri, False)},
        open_issues={"I-2": IssueMark("new", "High")})
    diff = diff_snapshots(before, after, days, {1: "1", 2: "2", 3: "3", 5: "5"})
    assert [(m.id, m.finish_days) for m in diff.moves] == [(2, 1.0), (3, 5.0)]
    assert diff.finish_days == 2.0
    assert [t.id for t in diff.critical_added] == [2] and [t.id for t in diff.critical_removed] == [3]
    assert [t.label for t in diff.added_tasks] == ["5 Added"] and [t.id for t in diff.removed_tasks] == [4]
    assert [i.id for i in diff.new_issues] == ["I-2"] and [i.id for i in diff.closed_issues] == ["I-1"]


def test_driving_path_ends_at_the_project_finish(weeks: Weeks) -> None:
    path = driving_path(PlanFacts(weeks.first_schedule, DayCounter(weeks.first_schedule.plan)))
    assert path[0].id == 60 and path[-1].id == 20  # from Project closed back to the constrained vendor install
    assert SLIPPED in {t.id for t in path}


# -- each RAG rule flips its area -------------------------------------------------------------------

def test_schedule_slip_thresholds() -> None:
    rules = QUIET_SCHEDULE
    assert report(rules=rules).area("schedule").rag is Rag.AMBER  # 3 days > 2
    assert report(rules=dataclasses.replace(rules, schedule_amber_slip_days=3)).area("schedule").rag is Rag.GREEN
    red = report(rules=dataclasses.replace(rules, schedule_red_slip_days=2)).area("schedule")
    assert red.rag is Rag.RED and "red above 2 working days" in red.reasons[0]


def test_schedule_progress_thresholds() -> None:
    quiet = dataclasses.replace(QUIET_SCHEDULE, schedule_amber_slip_days=10)
    assert report(rules=quiet).area("schedule").rag is Rag.GREEN  # 3.8 points behind
    assert report(rules=dataclasses.replace(quiet, progress_amber_points=3)).area("schedule").rag is Rag.AMBER
    red = report(rules=dataclasses.replace(quiet, progress_red_points=3)).area("schedule")
    assert red.rag is Rag.RED and red.reasons == ("Progress is 4 points behind plan (red above 3).",)


def test_missed_milestones_and_deadlines() -> None:
    base = RagRules(schedule_amber_slip_days=10)
    assert report(rules=base).area("schedule").reasons == (
        "Milestone missed: 3.5 Design approved.", "Forecast to miss its deadline: 6.5 Go-live.")
    assert report(rules=dataclasses.replace(base, missed_milestone=Rag.RED)).area("schedule").rag is Rag.RED
    finish, progress = FinishForecast(None, None, None), Progress(0, 0)
    milestone = TaskLine(9, "2", "Go-live", None, None, 0, critical=True)
    assert schedule_status(base, finish, progress, [milestone], []).rag is Rag.RED
    non_critical = dataclasses.replace(milestone, critical=False)
    assert schedule_status(base, finish, progress, [non_critical], []).rag is Rag.AMBER
    assert schedule_status(base, finish, progress, [], [non_critical]).rag is Rag.AMBER
    assert schedule_status(QUIET_SCHEDULE, finish, progress, [non_critical], [non_critical]).rag is Rag.GREEN


def _issue_log(registers: dict, **fields: object) -> None:
    registers["Issue Log"].append({"id": "I-099", "reported_by": "QA", "reported_on": dt.date(2026, 2, 27),
                                   "what": "Load aborts", "status": "Open", **fields})


def test_open_critical_issue_is_red() -> None:
    quiet = RagRules(issues_red_sla_breaches=99, issues_amber_sla_breaches=99, issues_amber_severities=())
    assert report(rules=quiet).area("issues").rag is Rag.GREEN
    registers = sample_registers()
    _issue_log(registers, severity="Critical")
    red = report(registers, rules=quiet).area("issues")
    assert red.rag is Rag.RED and red.reasons == ("1 open Critical issue: I-099.",)
    registers["Issue Log"][-1].update(status="Resolved", resolved_on=dt.date(2026, 2, 27))
    assert report(registers, rules=quiet).area("issues").rag is Rag.GREEN


def test_issue_sla_breach_thresholds() -> None:
    no_severity = RagRules(issues_amber_severities=())
    assert report(rules=no_severity).area("issues").reasons == ("6 open issues past their SLA (red above 2).",)
    amber = report(rules=dataclasses.replace(no_severity, issues_red_sla_breaches=6)).area("issues")
    assert amber.rag is Rag.AMBER and amber.reasons == ("6 open issues past their SLA (amber above 0).",)
    relaxed = dataclasses.replace(no_severity, issues_red_sla_breaches=6, issues_amber_sla_breaches=6)
    assert report(rules=relaxed).area("issues").rag is Rag.GREEN
    longer_sla = RagRules(sla_days=(("Critical", 1), ("High", 40), ("Medium", 40), ("Low", 40)),
                          issues_amber_severities=())
    assert report(rules=longer_sla).area("issues").rag is Rag.GREEN


def test_overdue_action_blocking_a_critical_task_is_red() -> None:
    assert report().area("actions").reasons == ("3 actions overdue (amber above 0).",)
    registers = sample_registers()
    a008 = next(a for a in registers["Action Items"] if a["id"] == "A-008")
    a008["due_date"] = dt.date(2026, 2, 26)  # the licence keys for the critical vendor install are now late
    red = report(registers).area("actions")
    assert red.rag is Rag.RED
    assert red.reasons[0] == "Overdue action holding up a critical task: A-008 (DataBridge (vendor))."
    assert report(registers, RagRules(overdue_blocking_critical=Rag.AMBER)).area("actions").rag is Rag.AMBER


def test_overdue_action_counts() -> None:
    assert report(rules=RagRules(actions_red_overdue=2)).area("actions").rag is Rag.RED
    assert report(rules=RagRules(actions_amber_overdue=3)).area("actions").rag is Rag.GREEN
    registers = sample_registers()
    for action in registers["Action Items"]:
        action.update(status="Done", done_date=dt.date(2026, 2, 27))
    green = report(registers).area("actions")
    assert green.rag is Rag.GREEN and green.reasons == ("No action overdue.",)


def _change(day: int, rid: str = "R-002", field: str = "Status") -> dict[str, object]:
    return {"detected_on": dt.date(2026, 2, day), "requirement_id": rid, "field": field, "old_value": "Proposed",
            "new_value": "Agreed", "decided_by": "Jo Whitfield"}


def test_requirement_changes_since_the_last_report() -> None:
    registers = sample_registers()
    registers["Change Log"] = [_change(10)]  # before the report window (since Fri 20 Feb)
    assert report(registers).area("scope").rag is Rag.GREEN
    registers["Change Log"].append(_change(25))
    amber = report(registers)
    assert amber.area("scope").rag is Rag.AMBER
    assert amber.area("scope").reasons == ("1 requirement change since the last report: R-002.",)
    assert [c.detected_on.day for c in amber.requirement_changes] == [25]
    registers["Change Log"] += [_change(26, f"R-00{n}") for n in range(1, 6)]
    assert report(registers).area("scope").rag is Rag.RED
    assert report(registers, RagRules(scope_red_changes=6)).area("scope").rag is Rag.AMBER


def test_rejected_sign_off_since_the_last_report() -> None:
    registers = sample_registers()
    registers["Sign-off"].append({"item_id": "R-004", "validated_by": "Finance", "date": dt.date(2026, 2, 26),
                                  "result": "Rejected", "anomalies": "AP ageing buckets differ"})
    scope = report(registers).area("scope")
    assert scope.rag is Rag.AMBER and scope.reasons == ("Sign-off rejected since the last report: R-004 by Finance.",)
    assert report(registers, RagRules(signoff_rejected=Rag.RED)).area("scope").rag is Rag.RED


def test_overall_is_the_worst_area_or_red_on_enough_ambers() -> None:
    areas = [AreaStatus("Schedule", Rag.AMBER, ("x",)), AreaStatus("Issues", Rag.AMBER, ("y",)),
             AreaStatus("Scope", Rag.GREEN, ("z",))]
    assert overall_status(RagRules(), areas).rag is Rag.AMBER
    escalated = overall_status(RagRules(overall_red_ambers=2), areas)
    assert escalated.rag is Rag.RED and escalated.reasons[-1] == "2 areas are amber (red at 2)."
    assert overall_status(RagRules(), areas[2:]).reasons == ("Every area is green.",)


def test_rules_from_a_settings_mapping() -> None:
    rules = RagRules.from_mapping({"Schedule red slip days": "5", "Issues amber severities": "high; medium",
                                   "MISSED MILESTONE": "red", "SLA days": {"High": 2}, "overall_red_ambers": None,
                                   "Overall red ambers": "2"})
    assert rules.schedule_red_slip_days == 5.0 and rules.missed_milestone is Rag.RED
    assert rules.issues_amber_severities == ("High", "Medium") and rules.overall_red_ambers == 2
    assert rules.sla_table == {"Critical": 1, "High": 2.0, "Medium": 10, "Low": 30}
    with pytest.raises(ValueError, match="unknown RAG rule 'slip'"):
        RagRules.from_mapping({"slip": 3})
    with pytest.raises(ValueError, match="Missed milestone"):
        RagRules.from_mapping({"Missed milestone": "purple"})


def test_docs_describe_every_rule() -> None:
    text = DOCS.read_text()
    missing = [f.name for f in dataclasses.fields(RagRules) if f"`{f.name}`" not in text]
    assert not missing, f"docs/status.md does not describe {missing}"


# -- windows, purity, workbook rows -------------------------------------------------------------------

def test_milestone_windows() -> None:
    r = report(rules=RagRules(lookahead_days=45, period_days=60))
    assert [m.id for m in r.milestones_due] == [32]  # Build complete, Wed 8 Apr
    assert [m.id for m in r.milestones_done] == [5, 12]  # reached since Sun 28 Dec
    assert [m.id for m in report().milestones_done] == []


def test_pure_and_status_date_as_a_day() -> None:
    sched = schedule(sample_plan())
    at_five = build_status(sched, sample_registers(), status_date=WEEK1)
    assert build_status(sched, sample_registers(), status_date=WEEK1.date()) == at_five  # a day means 17:00
    assert build_status(sched, sample_registers(), status_date=WEEK1) == at_five
    empty = build_status(sched, None, status_date=WEEK1)
    assert empty.open_issues == () and empty.actions_by_owner == () and empty.area("issues").rag is Rag.GREEN


def test_rows_for_the_workbook(weeks: Weeks) -> None:
    history = weeks.second.history_row()
    assert set(history) <= {c.key for c in STATUS_HISTORY.columns}
    assert history["finish_variance_days"] == 5.0 and history["open_issues"] == 7
    rows = status_sheet_rows(weeks.second, locate=lambda sheet, key: f"{sheet}#{key}" if sheet == "Tasks" else None)
    assert all(set(row) == {c.key for c in STATUS.columns} for row in rows)
    assert rows[0] == {"section": "RAG", "item": "Overall", "value": "Red", "where": ""}
    sections = {row["section"] for row in rows}
    assert {"Why", "Summary", "Key figures", "Moved since last report", "New issue", "Closed issue",
            "Milestone reached", "Critical path next", "Action to chase", "Open issue"} <= sections
    moved = [row for row in rows if row["section"] == "Moved since last report"]
    assert moved[0]["item"] == "4.2.1 Customers & contacts" and moved[0]["where"] == f"Tasks#{SLIPPED}"
    assert "took 2 working days longer" in str(moved[0]["value"])
    assert any(row["where"] == "Issue Log I-011" for row in rows)


def test_a_task_driven_by_a_summary_is_driven_by_its_last_child() -> None:
    """A link from a summary task drives through the summary's subtask that finishes last; a link from
    a leaf names that leaf."""
    from wbs_tools.core.model import Link, Settings, Task

    monday = dt.datetime(2026, 3, 2, 8)
    tasks = [Task(1, "Phase", outline_level=1), Task(2, "Short", outline_level=2, duration=Duration(2 * 480)),
             Task(3, "Long", outline_level=2, duration=Duration(5 * 480)),
             Task(4, "After the phase", outline_level=1, duration=Duration(480)),
             Task(5, "After the long one", outline_level=1, duration=Duration(480))]
    result = schedule(Plan(Settings(start=monday), tasks, [Link(1, 4), Link(3, 5)]))
    drivers = PlanFacts(result, DayCounter(result.plan)).driving_predecessors
    assert {tid: ts.id for tid, ts in drivers.items()} == {4: 3, 5: 3}


def _every_driving_predecessor(facts: PlanFacts) -> dict[int, int]:
    """The driving predecessors worked out for every leaf at once, the plain way: the reference."""
    from wbs_tools.core.schedule import DriverKind

    children: dict[int, list] = {}
    for ts in facts.schedule.tasks:
        if ts.parent_id is not None:
            children.setdefault(ts.parent_id, []).append(ts)
    out: dict[int, int] = {}
    for _, ts in facts.leaves():
        driver = ts.driver
        if driver is not None and driver.kind is DriverKind.LINK and driver.link is not None:
            pred = facts.by_id.get(driver.link.predecessor)
            while pred is not None and pred.summary and children.get(pred.id):
                pred = max(children[pred.id], key=lambda c: (c.finish or dt.datetime.min, c.critical))
            if pred is not None:
                out[ts.id] = pred.id
    return out


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 9), st.integers(0, 4), st.integers(1, 3)), min_size=2, max_size=14),
       st.lists(st.tuples(st.integers(1, 9), st.integers(1, 9)), max_size=16))
def test_driving_predecessors_asked_one_by_one_are_those_of_every_leaf(
        rows: list[tuple[int, int, int]], links: list[tuple[int, int]]) -> None:
    """IDs may repeat (two rows typed with one ID), links may come from summaries."""
    from wbs_tools.core.model import Link, Settings, Task

    tasks = [Task(tid, f"T{n}", outline_level=level, duration=Duration(days * 480))
             for n, (tid, days, level) in enumerate(rows)]
    plan = Plan(Settings(start=dt.datetime(2026, 3, 2, 8)), tasks, [Link(a, b) for a, b in links if a != b])
    result = schedule(plan)
    facts = PlanFacts(result, DayCounter(result.plan))
    asked = {tid: facts.driving_predecessors.get(tid) for tid in range(0, 11)}
    assert {tid: ts.id for tid, ts in asked.items() if ts is not None} == _every_driving_predecessor(facts)

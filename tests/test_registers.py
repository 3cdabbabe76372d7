"""Registers: action items, issue log, requirement change capture and validation sign-off."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wbs_tools.core.calendar import WorkCalendar
from wbs_tools.core.findings import Severity
from wbs_tools.core.model import CalendarSpec
from wbs_tools.core.registers import (
    ADDED,
    DELETED,
    REGISTER_FINDING_CODES,
    ActionStatus,
    IssueStatus,
    ItemKind,
    SignOffResult,
    capture_changes,
    evaluate_actions,
    evaluate_issues,
    evaluate_signoffs,
    follow_up,
    format_issue_states,
    last_changed,
    parse_action_status,
    parse_change_log,
    parse_issue_states,
    parse_result,
    parse_snapshot,
    read_requirements,
    snapshot_rows,
)
from wbs_tools.core.registers.cells import ident, split_ids, task_ref, text
from wbs_tools.core.schedule import TaskSchedule

CAL = WorkCalendar()
FRI, SAT, MON, TUE, WED = (dt.date(2026, 3, d) for d in (6, 7, 9, 10, 11))
WITH_MONDAY_OFF = WorkCalendar(CalendarSpec(exceptions={MON: ()}))


def task(id_: int, *, critical: bool = False, done: float = 0.0, milestone: bool = False, name: str = "",
         summary: bool = False) -> TaskSchedule:
    return TaskSchedule(id_, id_, name or f"Task {id_}", 1, str(id_), summary, milestone, None, critical=critical,
                        percent_complete=done)


TASKS = [task(8, critical=True), task(9, critical=True, done=100), task(10), task(12, milestone=True, name="Go"),
         task(18, milestone=True, name="Design approved"), task(20, summary=True, milestone=True)]


def rows(*dicts: dict[str, object], first_row: int = 4) -> list[dict[str, object]]:
    return [{"_row": first_row + n, **d} for n, d in enumerate(dicts)]


def action(id_: str, **fields: object) -> dict[str, object]:
    return {"id": id_, "action": f"do {id_}", "status": "Open", **fields}


def codes(report: object) -> list[str]:
    return [f.code for f in report.findings]  # type: ignore[attr-defined]


# --- action items ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("calendar", "status_date", "expected"), [
    (CAL, TUE, 2),  # Monday and Tuesday; the weekend does not count
    (WITH_MONDAY_OFF, TUE, 1),  # a holiday does not count either
    (CAL, MON, 1),
    (CAL, SAT, 0),  # past due, but no working day has gone by
    (CAL, FRI, 0),  # due today is not late
    (CAL, dt.datetime(2026, 3, 10, 17), 2),  # a status date with a time of day
])
def test_days_overdue_count_working_days_on_the_plan_calendar(calendar, status_date, expected):
    report = evaluate_actions(rows(action("A-1", due_date=FRI)), status_date=status_date, calendar=calendar)
    assert report.items[0].days_overdue == expected
    assert report.items[0].overdue is (expected > 0)


def test_closed_actions_are_never_overdue():
    report = evaluate_actions(rows(action("A-1", due_date=FRI, status="Done", done_date=TUE),
                                   action("A-2", due_date=FRI, status="cancelled")), status_date=WED, calendar=CAL)
    assert [a.days_overdue for a in report.items] == [0, 0]
    assert report.overdue == ()


def test_due_this_week_is_the_status_dates_monday_to_sunday():
    report = evaluate_actions(rows(
        action("A-1", due_date=MON), action("A-2", due_date=dt.date(2026, 3, 13)),
        action("A-3", due_date=dt.date(2026, 3, 15)), action("A-4", due_date=dt.date(2026, 3, 16)),
        action("A-5", due_date=FRI), action("A-6", due_date=TUE, status="Done", done_date=MON),
        action("A-7"),
    ), status_date=WED, calendar=CAL)
    assert [a.id for a in report.items if a.due_this_week] == ["A-1", "A-2", "A-3"]


def test_circular_waits_are_reported_with_the_loop_named():
    report = evaluate_actions(rows(
        action("A-1", waits_on="A-2"), action("A-2", waits_on="A-3"), action("A-3", waits_on="A-1"),
        action("A-4", waits_on="A-4"), action("A-5", waits_on="A-1"),
    ), status_date=WED, calendar=CAL)
    assert report.cycles == (("A-1", "A-2", "A-3"), ("A-4",))
    loops = [f for f in report.findings if f.code == "action.wait-cycle"]
    assert [f.message for f in loops] == ["Actions wait on each other in a loop: A-1 → A-2 → A-3 → A-1.",
                                          "Actions wait on each other in a loop: A-4 → A-4."]
    assert loops[0].location == "Action Items!E4"
    assert loops[0].severity is Severity.ERROR


def test_blocked_while_an_awaited_action_is_open():
    report = evaluate_actions(rows(
        action("A-1"), action("A-2", status="Done", done_date=MON), action("A-3", status="Cancelled"),
        action("A-4", waits_on="a-1; A-2"), action("A-5", waits_on="A-2, A-3"),
        action("A-6", waits_on="A-9"), action("A-7", waits_on="A-1", status="Done", done_date=MON),
    ), status_date=WED, calendar=CAL)
    by_id = {a.id: a for a in report.items}
    assert by_id["A-4"].blocked and by_id["A-4"].blocked_by == ("a-1",)
    assert not by_id["A-5"].blocked
    assert not by_id["A-6"].blocked  # an unknown action is reported, not guessed
    assert not by_id["A-7"].blocked  # a done action waits on nothing any more
    unknown = [f for f in report.findings if f.code == "action.unknown-wait"]
    assert len(unknown) == 1 and "A-9" in unknown[0].message and unknown[0].location == "Action Items!E9"


def test_blocks_critical_only_for_open_actions_needed_by_an_unfinished_critical_task():
    report = evaluate_actions(rows(
        action("A-1", needed_by="8"), action("A-2", needed_by=9.0), action("A-3", needed_by="Task 10"),
        action("A-4", needed_by=8, status="Done", done_date=MON), action("A-5", needed_by="Sallie"),
        action("A-6", needed_by="#99"),
    ), status_date=WED, calendar=CAL, schedule=TASKS)
    assert [a.id for a in report.items if a.blocks_critical] == ["A-1"]
    assert [a.needed_by_task for a in report.items] == [8, 9, 10, 8, None, 99]
    assert codes(report) == ["action.unknown-task"]
    assert report.findings[0].task_id == 99 and report.findings[0].location == "Action Items!D9"


def test_without_a_schedule_task_ids_are_not_checked():
    report = evaluate_actions(rows(action("A-1", needed_by="99")), status_date=WED, calendar=CAL)
    assert report.findings == () and not report.items[0].blocks_critical


def test_age_counts_working_days_from_raised_on():
    report = evaluate_actions(rows(
        action("A-1", raised_on=MON), action("A-2", raised_on=dt.date(2026, 3, 2), status="Done", done_date=FRI),
        action("A-3", raised_on=MON, status="Done"), action("A-4"),
    ), status_date=WED, calendar=CAL)
    assert [a.age_days for a in report.items] == [2, 4, None, None]


def test_action_cross_checks():
    report = evaluate_actions(rows(
        action("A-1"), action("a-1 "), action("A-2", done_date=MON), action("A-3", status="Done"),
        action("A-4", status="Parked?? maybe", due_date="next week"), action("A-5", status="Sort of"),
    ), status_date=WED, calendar=CAL)
    assert codes(report) == ["action.done-date-not-done", "action.done-without-date", "action.bad-date",
                             "action.bad-status", "action.duplicate-id"]
    located = {f.code: f.location for f in report.findings}
    assert located["action.duplicate-id"] == "Action Items!A5"
    assert located["action.bad-date"] == "Action Items!G8"
    assert located["action.bad-status"] == "Action Items!H9"
    assert "Action Items!A4" in next(f.message for f in report.findings if f.code == "action.duplicate-id")
    assert report.items[5].status is ActionStatus.OPEN


@pytest.mark.parametrize(("typed", "status"), [
    ("open", ActionStatus.OPEN), ("IN PROGRESS", ActionStatus.IN_PROGRESS), ("in-progress", ActionStatus.IN_PROGRESS),
    (" Waiting ", ActionStatus.WAITING), ("on hold", ActionStatus.WAITING), ("DONE", ActionStatus.DONE),
    ("Done - sent 3 Mar", ActionStatus.DONE), ("Completed", ActionStatus.DONE), ("Canceled", ActionStatus.CANCELLED),
    ("", None), (None, None), ("maybe", None),
])
def test_action_statuses_are_read_tolerantly(typed, status):
    assert parse_action_status(typed) is status


def test_ids_and_lists_are_read_tolerantly():
    assert ident(12.0) == "12" and ident("12.0") == "12" and ident(" A-12 ") == "A-12"
    assert split_ids("A-1; A-2,A-3\nA-4;;") == ("A-1", "A-2", "A-3", "A-4")
    assert split_ids(7.0) == ("7",) and split_ids(None) == ()
    assert [task_ref(v) for v in ("12", 12.0, "#12", "task 12", "T12", "Sallie", 12.5, True, -3)] == \
        [12, 12, 12, 12, 12, None, None, None, None]
    assert text("  a \n b ") == "a b" and text(3.0) == "3" and text(dt.datetime(2026, 3, 6)) == "2026-03-06"


def test_follow_up_orders_by_owner_then_most_overdue_then_due_date():
    report = evaluate_actions(rows(
        action("A-1", owner="Tom", due_date=dt.date(2026, 3, 9)),
        action("A-2", owner="sallie", due_date=dt.date(2026, 3, 2)),
        action("A-3", owner="Tom", due_date=dt.date(2026, 3, 2)),
        action("A-4", owner="Tom", due_date=dt.date(2026, 3, 13)),
        action("A-5", owner="Tom"),
        action("A-6", owner="Sallie", due_date=dt.date(2026, 3, 12)),
        action("A-7", due_date=dt.date(2026, 2, 2)),
        action("A-8", owner="Tom", due_date=dt.date(2026, 3, 2), status="Done", done_date=MON),
        action("A-9", owner="Tom", due_date=dt.date(2026, 3, 12)),
    ), status_date=WED, calendar=CAL)
    assert [a.id for a in follow_up(report)] == ["A-2", "A-6", "A-3", "A-1", "A-9", "A-4", "A-5", "A-7"]
    assert [a.id for a in follow_up(report, overdue_only=True)] == ["A-2", "A-3", "A-1", "A-7"]
    assert [a.id for a in follow_up(report.items, owner=" TOM ", overdue_only=True)] == ["A-3", "A-1"]
    assert follow_up(report, owner="Nobody") == []


def test_computed_cells_use_the_layout_keys():
    from wbs_tools.workbook.layout import ACTIONS, ISSUES, SIGN_OFF, computed_columns

    report = evaluate_actions(rows(action("A-1")), status_date=WED, calendar=CAL)
    assert set(report.items[0].computed_cells()) == {c.key for c in computed_columns(ACTIONS)}
    issues = evaluate_issues(rows({"id": "I-1"}), status_date=WED, calendar=CAL)
    assert set(issues.items[0].computed_cells()) == {c.key for c in computed_columns(ISSUES)}
    signoffs = evaluate_signoffs(rows({"item_id": "12", "result": "Accepted", "date": MON}), schedule=TASKS)
    assert set(signoffs.entries[0].computed_cells()) == {c.key for c in computed_columns(SIGN_OFF)}


# --- issue log -------------------------------------------------------------------------------------

def issue(id_: str, **fields: object) -> dict[str, object]:
    return {"id": id_, "what": f"problem {id_}", "reported_on": dt.date(2026, 3, 2), "status": "Open", **fields}


def test_sla_breach_per_severity_in_working_days():
    report = evaluate_issues(rows(
        issue("I-1", severity="High"), issue("I-2", severity="medium"), issue("I-3", severity="Critical"),
        issue("I-4", severity="High", status="Resolved", resolved_on=dt.date(2026, 3, 4)),
        issue("I-5", severity="High", status="Closed", resolved_on=FRI), issue("I-6"),
    ), status_date=FRI, calendar=CAL)
    assert [i.age_days for i in report.items] == [4, 4, 4, 2, 4, 4]
    assert [i.sla_breach for i in report.items] == [True, False, True, False, True, False]
    assert report.items[5].sla_days is None
    relaxed = evaluate_issues(rows(issue("I-1", severity="High")), status_date=FRI, calendar=CAL,
                              sla_days={"sla_days_high": 5, "SLA days: Low": "junk"})
    assert relaxed.items[0].sla_days == 5 and not relaxed.items[0].sla_breach


def test_reopened_count_across_snapshots():
    def refresh(status: str, states: str | None) -> tuple[int, str]:
        report = evaluate_issues(rows(issue("I-1", status=status, resolved_on=MON if status == "Resolved" else None),
                                      issue("I-2")), status_date=WED, calendar=CAL, previous_states=states)
        return report.items[0].reopened_count, report.states

    count, states = refresh("Resolved", None)
    assert (count, states) == (0, "I-1=Resolved; I-2=Open")
    count, states = refresh("Open", states)
    assert (count, states) == (1, "I-1=Open/1; I-2=Open")
    count, states = refresh("Open", states)  # refreshing again is not another reopening
    assert count == 1
    count, states = refresh("Resolved", states)
    assert count == 1
    count, states = refresh("in progress", states)
    assert (count, states) == (2, "I-1=In progress/2; I-2=Open")


def test_issue_states_round_trip_awkward_ids():
    report = evaluate_issues(rows(issue("X=1;2", status="Closed", resolved_on=MON), issue("50%")),
                             status_date=WED, calendar=CAL)
    states = parse_issue_states(report.states)
    assert states["x=1;2"].status is IssueStatus.CLOSED and states["50%"].status is IssueStatus.OPEN
    assert parse_issue_states("garbage; =Open; I-9=Nonsense; I-3=closed/x") == \
        {"i-3": parse_issue_states("I-3=Closed")["i-3"]}
    assert format_issue_states([]) == "" and parse_issue_states(None) == {}


def test_issue_cross_checks():
    report = evaluate_issues(rows(
        issue("I-1", where="99"), issue("I-1", where="Customers"), issue("I-2", reported_on=dt.date(2026, 4, 1)),
        issue("I-3", resolved_on=MON), issue("I-4", status="Fixed"), issue("I-5", reported_on=None),
        issue("I-6", status="Resolved", reported_on=TUE, resolved_on=MON), issue("I-7", severity="Huge"),
        issue("I-8", where="8"),
    ), status_date=WED, calendar=CAL, schedule=TASKS)
    assert codes(report) == ["issue.unknown-task", "issue.future-report", "issue.resolved-date-open",
                             "issue.resolved-without-date", "issue.no-reported-on",
                             "issue.resolved-before-reported", "issue.bad-severity", "issue.duplicate-id"]
    located = {f.code: f.location for f in report.findings}
    assert located["issue.unknown-task"] == "Issue Log!E4"
    assert located["issue.duplicate-id"] == "Issue Log!A5"
    assert report.items[4].status is IssueStatus.RESOLVED
    assert report.items[6].age_days is None  # resolved before reported: no age rather than a negative one


# --- requirements and the change log ------------------------------------------------------------------

REQS = [
    {"id": "R-1", "title": "One customer per VAT number", "rule": "Duplicates merged; latest wins.",
     "source": "Workshop 1", "priority": "Must", "status": "Agreed", "linked_tasks": "22;28", "decided_by": "Ann"},
    {"id": "R-2", "title": "Orders archived", "rule": "Closed before 2019 go to the archive.", "source": "Legal",
     "priority": "Should", "status": "Proposed", "linked_tasks": 24.0, "decided_by": None},
]
D1, D2, D3 = dt.date(2026, 3, 2), dt.date(2026, 3, 9), dt.date(2026, 3, 16)


def test_first_capture_logs_every_requirement_as_added():
    entries, snapshot = capture_changes(rows(*REQS), [], D1, "pm@example.com")
    assert [(e.requirement_id, e.field, e.decided_by) for e in entries] == \
        [("R-1", ADDED, "Ann"), ("R-2", ADDED, "pm@example.com")]
    assert entries[0].new_value.splitlines()[:2] == [
        "Title: One customer per VAT number", "Business rule / acceptance criteria: Duplicates merged; latest wins."]
    assert len(snapshot) == 14 and snapshot[0] == {"taken_on": D1, "requirement_id": "R-1", "field": "title",
                                                   "value": "One customer per VAT number"}


def test_an_edit_is_logged_once_with_old_and_new_values():
    _, snapshot = capture_changes(rows(*REQS), [], D1, "pm")
    edited = [dict(REQS[0], rule="Duplicates merged; most recently active wins.", decided_by=None), REQS[1]]
    entries, snapshot = capture_changes(rows(*edited), snapshot, D2, "Bob")
    assert [e.as_row() for e in entries] == [{
        "detected_on": D2, "requirement_id": "R-1", "field": "Business rule / acceptance criteria",
        "old_value": "Duplicates merged; latest wins.", "new_value": "Duplicates merged; most recently active wins.",
        "decided_by": "Bob"}, {
        "detected_on": D2, "requirement_id": "R-1", "field": "Decided by", "old_value": "Ann", "new_value": "",
        "decided_by": "Bob"}]
    again, snapshot_again = capture_changes(rows(*edited), snapshot, D3, "Bob")
    assert again == [] and [r["value"] for r in snapshot_again] == [r["value"] for r in snapshot]


def test_new_and_deleted_requirements_are_logged_never_lost():
    _, snapshot = capture_changes(rows(*REQS), [], D1, "pm")
    now = [REQS[1], {"id": "R-3", "title": "Prices carry a currency", "decided_by": "Cy"}]
    entries, snapshot = capture_changes(rows(*now), snapshot, D2, "Bob")
    assert [(e.requirement_id, e.field, e.decided_by) for e in entries] == [("R-3", ADDED, "Cy"),
                                                                          ("R-1", DELETED, "Bob")]
    deleted = entries[1]
    assert deleted.new_value == "" and "Linked tasks: 22; 28" in deleted.old_value
    assert "Title: One customer per VAT number" in deleted.old_value
    assert sorted(parse_snapshot(snapshot)) == ["R-2", "R-3"]
    assert capture_changes(rows(*now), snapshot, D3, "Bob")[0] == []


def test_cosmetic_changes_are_not_changes():
    _, snapshot = capture_changes(rows(*REQS), [], D1, "pm")
    resaved = [
        dict(REQS[0], id="r-1", title="  One customer  per\nVAT number ", priority="MUST", status="agreed",
             linked_tasks="28, 22 ;22"),
        dict(REQS[1], linked_tasks="24", source=" Legal"),
    ]
    assert capture_changes(rows(*resaved), snapshot, D2, "Bob")[0] == []
    dated = [dict(REQS[0], source=dt.date(2026, 1, 5)), dict(REQS[1], priority=3)]
    _, snapshot = capture_changes(rows(*dated), [], D1, "pm")
    retyped = [dict(REQS[0], source=dt.datetime(2026, 1, 5, 0, 0)), dict(REQS[1], priority=3.0)]
    assert capture_changes(rows(*retyped), snapshot, D2, "Bob")[0] == []
    as_read_back = [{**r, "value": str(r["value"])} for r in snapshot]  # text cells in the hidden sheet
    assert capture_changes(rows(*retyped), as_read_back, D2, "Bob")[0] == []


def test_snapshot_round_trip_and_fields_not_yet_tracked():
    requirements = read_requirements(rows(*REQS)).items
    snapshot = snapshot_rows(requirements, dt.datetime(2026, 3, 2, 17))
    assert {r["taken_on"] for r in snapshot} == {D1}
    parsed = parse_snapshot(snapshot)
    assert parsed["R-2"]["linked_tasks"] == "24" and parsed["R-2"]["decided_by"] == ""
    older = [r for r in snapshot if r["field"] != "source"]  # a snapshot taken before "source" was tracked
    changed = [dict(REQS[0], source="Someone else"), REQS[1]]
    assert capture_changes(rows(*changed), older, D2, "Bob")[0] == []


def test_requirement_cross_checks():
    report = read_requirements(rows(
        dict(REQS[0], linked_tasks="8"), dict(REQS[1], id="R-1", linked_tasks=None), {"title": "no id"},
        {"id": "R-4", "linked_tasks": "8; 77; Design"}, {"_row": 99},
    ), schedule=TASKS)
    assert [(f.code, f.location) for f in report.findings] == [
        ("requirement.no-id", "Requirements!A6"), ("requirement.unknown-task", "Requirements!G7"),
        ("requirement.unknown-task", "Requirements!G7"), ("requirement.duplicate-id", "Requirements!A5")]
    assert "'Design'" in report.findings[2].message and report.findings[1].task_id == 77
    assert len(report.items) == 4 and report.items[3].linked_tasks == ("8", "77", "Design")


def test_duplicate_ids_track_the_first_row_only():
    twice = [REQS[0], dict(REQS[0], title="Another")]
    entries, snapshot = capture_changes(rows(*twice), [], D1, "pm")
    assert len(entries) == 1 and len(snapshot) == 7


# --- sign-off ------------------------------------------------------------------------------------------

def signoff(item: object, result: str = "Accepted", date: dt.date | None = D1, **fields: object) -> dict[str, object]:
    return {"item_id": item, "validated_by": "Ann", "date": date, "result": result, **fields}


def changes_after_edit() -> list[dict[str, object]]:
    """R-1's rule edited and detected on D2, both first seen on D1."""
    first, snapshot = capture_changes(rows(*REQS), [], D1, "pm")
    edited = [dict(REQS[0], rule="Changed"), REQS[1]]
    second, _ = capture_changes(rows(*edited), snapshot, D2, "pm")
    return [e.as_row() for e in first + second]


def test_a_sign_off_is_voided_by_a_later_change():
    report = evaluate_signoffs(rows(signoff("R-1", date=D1), signoff("R-2", date=D1)),
                               requirements=rows(*REQS), change_log=changes_after_edit(), schedule=TASKS)
    assert [e.still_valid for e in report.entries] == [False, True]  # "(added)" on D1 is not an edit
    assert report.entries[0].changed_on == D2
    assert not report.is_signed_off("R-1") and report.is_signed_off("r-2")
    missing = {m.item_id: m.reason for m in report.missing}
    assert missing["R-1"] == "changed on 2026-03-09, after the sign-off by Ann on 2026-03-02"
    resigned = evaluate_signoffs(rows(signoff("R-1", date=D1), signoff("R-1", date=D2)),
                                 requirements=rows(*REQS), change_log=changes_after_edit())
    assert [e.still_valid for e in resigned.entries] == [False, True]  # same day: signed the new wording
    assert resigned.is_signed_off("R-1")


def test_missing_sign_offs_are_listed():
    requirements = [*REQS, {"id": "R-3", "title": "Later", "status": "Deferred"},
                    {"id": "R-4", "title": "Lots", "status": "Agreed"}]
    report = evaluate_signoffs(rows(
        signoff("R-1", "Accepted with anomalies", anomalies="2% of postcodes fail"),
        signoff("R-2", "Accepted", D1), signoff("R-2", "Rejected", D2, validated_by="Ravi"),
        signoff(12.0, "accepted"), signoff("18", "Accepted", D1), signoff("Task 18", "Rejected"),
        signoff("10", "ok"),
    ), requirements=rows(*requirements), schedule=TASKS, status_date=D3)
    assert [(m.item_id, m.kind, m.reason) for m in report.missing] == [
        ("R-2", ItemKind.REQUIREMENT, "rejected by Ravi on 2026-03-09"),
        ("R-4", ItemKind.REQUIREMENT, "no sign-off"),
        ("18", ItemKind.MILESTONE, "rejected by Ann on 2026-03-02"),  # same date: the later row decides
    ]
    assert report.missing[0].last_sign_off_row == 6
    assert [e.kind for e in report.entries] == [ItemKind.REQUIREMENT] * 3 + [ItemKind.MILESTONE] * 3 + [ItemKind.TASK]
    assert report.is_signed_off("R-1") and report.is_signed_off(12) and report.is_signed_off("10")
    assert report.findings == ()


def test_sign_off_cross_checks():
    report = evaluate_signoffs(rows(
        signoff("R-99"), signoff(None, validated_by="Ann"), signoff("R-1", "Thumbs up"),
        signoff("R-2", date=None), signoff("R-2", date=dt.date(2026, 4, 1)), signoff("R-2", date="31/31/2026"),
    ), requirements=rows(*REQS), schedule=TASKS, status_date=D3)
    assert codes(report) == ["signoff.unknown-item", "signoff.unknown-item", "signoff.bad-result",
                             "signoff.no-date", "signoff.future-date", "signoff.bad-date"]
    assert report.findings[0].location == "Sign-off!A4"
    assert not report.is_signed_off("R-1")


@pytest.mark.parametrize(("typed", "result"), [
    ("Accepted", SignOffResult.ACCEPTED), ("accepted with anomalies", SignOffResult.ACCEPTED_WITH_ANOMALIES),
    ("Accepted w/ anomalies", SignOffResult.ACCEPTED_WITH_ANOMALIES),
    ("Accepted (2 anomalies noted)", SignOffResult.ACCEPTED_WITH_ANOMALIES), ("REJECTED", SignOffResult.REJECTED),
    ("Not accepted", SignOffResult.REJECTED), ("", None), ("hmm", None),
])
def test_sign_off_results_are_read_tolerantly(typed, result):
    assert parse_result(typed) is result


def test_last_changed_per_requirement():
    entries = [e.as_row() for e in capture_changes(rows(*REQS), [], D1, "pm")[0]] + changes_after_edit()
    assert last_changed(parse_change_log(entries)) == {"r-1": D2, "r-2": D1}


# --- the sample workbook and junk -----------------------------------------------------------------------

def test_sample_registers_agree_with_the_sample_plan():
    from wbs_tools.core.cpm import schedule
    from wbs_tools.workbook.sample import STATUS_DATE, sample_plan, sample_registers

    plan = sample_plan()
    sched = schedule(plan)
    registers = {name: rows(*sheet) for name, sheet in sample_registers().items()}
    status = STATUS_DATE.date()
    actions = evaluate_actions(registers["Action Items"], status_date=status, calendar=CAL, schedule=sched)
    issues = evaluate_issues(registers["Issue Log"], status_date=status, calendar=CAL, schedule=sched)
    requirements = read_requirements(registers["Requirements"], schedule=sched)
    signoffs = evaluate_signoffs(registers["Sign-off"], requirements=requirements.items, schedule=sched,
                                 status_date=status)
    found = [f for r in (actions, issues, requirements, signoffs) for f in r.findings]
    assert [f for f in found if f.severity is Severity.ERROR] == []
    assert actions.overdue and any(i.sla_breach for i in issues.items)


def test_a_register_builds_the_schedules_task_records_only_when_a_row_names_a_task():
    from wbs_tools.core.cpm import schedule
    from wbs_tools.workbook.sample import sample_plan

    plan = sample_plan()
    sched = schedule(plan)
    report = evaluate_actions(rows(action("A-1", due_date=FRI)), status_date=WED, calendar=CAL, schedule=sched)
    assert report.items and sched.tasks._records is None  # type: ignore[attr-defined]
    named = evaluate_actions(rows(action("A-1", needed_by=str(plan.tasks[-1].id)), action("A-2", needed_by="99999")),
                             status_date=WED, calendar=CAL, schedule=sched)
    assert [f.code for f in named.findings] == ["action.unknown-task"] and "99999" in named.findings[0].message
    assert sched.tasks._records is not None  # type: ignore[attr-defined]
    by_records = list(sched.tasks)
    assert sched.leaf_count() == sum(not t.summary for t in by_records) > 0
    assert sched.critical_count() == sum(t.critical and not t.summary for t in by_records) > 0


JUNK = st.one_of(
    st.none(), st.text(max_size=12), st.floats(), st.integers(min_value=-(10**400), max_value=10**400), st.booleans(),
    st.dates(), st.datetimes(), st.sampled_from(["A-1", "A-2; A-1", "8", "Done", "Resolved", "High", "#REF!",
                                                 "Accepted", "2026-03-02", "1/2/3", "R-1", "12", "=", ";"]),
)
KEYS = ("id", "action", "owner", "needed_by", "waits_on", "raised_on", "due_date", "status", "done_date",
        "reported_on", "where", "severity", "resolved_on", "title", "rule", "priority", "linked_tasks",
        "decided_by", "item_id", "date", "result", "requirement_id", "field", "value", "detected_on", "_row")
JUNK_ROWS = st.lists(st.dictionaries(st.sampled_from(KEYS), JUNK, max_size=10), max_size=6)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(JUNK_ROWS, JUNK_ROWS, JUNK, st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2100, 1, 1)))
def test_junk_rows_never_raise(first, second, states, status_date):
    actions = evaluate_actions(first, status_date=status_date, calendar=CAL, schedule=TASKS)
    follow_up(actions, owner="x", overdue_only=True)
    issues = evaluate_issues(first, status_date=status_date, calendar=CAL, schedule=TASKS, previous_states=states,
                             sla_days={"high": states})
    again = evaluate_issues(first, status_date=status_date, calendar=CAL, previous_states=issues.states)
    assert [i.reopened_count for i in again.items] == [i.reopened_count for i in issues.items]
    entries, snapshot = capture_changes(first, second, status_date, states)
    assert capture_changes(first, snapshot, status_date, "x")[0] == []
    requirements = read_requirements(first, schedule=TASKS)
    evaluate_signoffs(second, requirements=requirements.items, change_log=[e.as_row() for e in entries] + second,
                      schedule=TASKS, status_date=status_date)
    for report in (actions, issues, requirements):
        assert all(f.code in REGISTER_FINDING_CODES for f in report.findings)


def test_digits_that_are_not_numbers_are_kept_as_text() -> None:
    """'²' and '³' are digits to Python's str.isdigit but not numbers int() reads."""
    from wbs_tools.core.registers.requirements import linked_tasks

    assert linked_tasks("3, ², 1, ٣") == ("1", "3", "٣", "²")

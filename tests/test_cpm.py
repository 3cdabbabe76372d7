"""Scheduling rules, one small network each, with the dates Microsoft Project gives for them."""

from __future__ import annotations

import datetime as dt

import pytest

from wbs_tools.core.cpm import schedule
from wbs_tools.core.model import (
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

MON = dt.datetime(2026, 1, 5, 8)  # a Monday
D = 480.0


def d(days: float) -> Duration:
    return Duration(days * D)


def plan(tasks, links=(), **settings) -> Plan:
    return Plan(Settings(start=MON, **settings), list(tasks), list(links))


def when(value: dt.datetime) -> str:
    return f"{value:%a %d %H:%M}"


def by_id(p: Plan):
    return schedule(p).by_id()


def test_fs_successor_starts_next_working_morning_after_a_friday_finish():
    s = by_id(plan([Task(1, "A", duration=d(5)), Task(2, "B", duration=d(1))], [Link(1, 2)]))
    assert when(s[1].finish) == "Fri 09 17:00"
    assert when(s[2].start) == "Mon 12 08:00"


@pytest.mark.parametrize(
    ("kind", "lag", "start", "finish"),
    [
        (LinkType.FS, Lag(d(2)), "Mon 12 08:00", "Tue 13 17:00"),  # 2 working days after Wed 17:00
        (LinkType.FS, Lag(d(-1)), "Wed 07 08:00", "Thu 08 17:00"),  # lead
        (LinkType.SS, Lag(d(1)), "Tue 06 08:00", "Wed 07 17:00"),
        (LinkType.FF, Lag(), "Tue 06 08:00", "Wed 07 17:00"),
        (LinkType.SF, Lag(), "Thu 01 08:00", "Mon 05 08:00"),  # SF finish keeps the start time
        (LinkType.FS, Lag(Duration(2 * 1440, elapsed=True, unit="ed")), "Mon 12 08:00", "Tue 13 17:00"),
        (LinkType.FS, Lag(percent=50), "Fri 09 13:00", "Tue 13 12:00"),  # 50% of 3d = 1.5d
    ],
)
def test_link_types_and_lags(kind, lag, start, finish):
    s = by_id(plan([Task(1, "A", duration=d(3)), Task(2, "B", duration=d(2))], [Link(1, 2, kind, lag)]))
    assert (when(s[2].start), when(s[2].finish)) == (start, finish)


def test_lag_counts_on_the_successors_calendar():
    six_days = CalendarSpec("Six", week={i: (WorkingTime(480, 720), WorkingTime(780, 1020)) for i in range(6)})
    p = plan([Task(1, "A", duration=d(5)), Task(2, "B", duration=d(1), calendar="Six")],
             [Link(1, 2, lag=Lag(d(1)))])
    p.calendars["Six"] = six_days
    s = schedule(p).by_id()
    assert when(s[2].start) == "Mon 12 08:00"  # the lag day is Saturday on the six-day calendar


def test_milestone_sits_at_the_end_of_its_drivers_day():
    s = by_id(plan([Task(1, "A", duration=d(5)), Task(2, "Done", duration=d(0))], [Link(1, 2)]))
    assert s[2].milestone and when(s[2].start) == when(s[2].finish) == "Fri 09 17:00"
    s = by_id(plan([Task(1, "Kick-off", duration=d(0))]))
    assert when(s[1].start) == "Mon 05 08:00"


def test_slack_and_critical_path():
    s = by_id(plan(
        [Task(1, "A", duration=d(2)), Task(2, "B", duration=d(5)), Task(3, "C", duration=d(1)),
         Task(4, "D", duration=d(1))],
        [Link(1, 2), Link(1, 3), Link(2, 4), Link(3, 4)]))
    assert [t.critical for t in s.values()] == [True, True, False, True]
    assert s[3].total_slack_minutes == 4 * D and s[3].free_slack_minutes == 4 * D
    assert s[2].total_slack_minutes == 0


def test_constraint_beats_link_and_gives_negative_slack():
    s = by_id(plan(
        [Task(1, "A", duration=d(5)),
         Task(2, "B", duration=d(0), constraint=ConstraintType.MFO, constraint_date=dt.datetime(2026, 1, 8, 17))],
        [Link(1, 2)]))
    assert when(s[2].finish) == "Thu 08 17:00"
    assert s[2].total_slack_minutes == -D


@pytest.mark.parametrize(
    ("ctype", "date", "start"),
    [
        (ConstraintType.SNET, dt.datetime(2026, 1, 7, 8), "Wed 07 08:00"),
        (ConstraintType.FNET, dt.datetime(2026, 1, 9, 17), "Thu 08 08:00"),
        (ConstraintType.MSO, dt.datetime(2026, 1, 12, 8), "Mon 12 08:00"),
        (ConstraintType.SNLT, dt.datetime(2026, 1, 20, 8), "Mon 05 08:00"),
    ],
)
def test_constraints(ctype, date, start):
    s = by_id(plan([Task(1, "A", duration=d(2), constraint=ctype, constraint_date=date)]))
    assert when(s[1].start) == start


def test_deadline_caps_late_finish_and_is_reported():
    sch = schedule(plan([Task(1, "A", duration=d(5), deadline=dt.datetime(2026, 1, 7, 17))]))
    t = sch.tasks[0]
    assert t.total_slack_minutes == -2 * D and t.critical
    assert [f.code for f in sch.findings] == ["schedule.deadline-missed"]


def test_alap_task_is_placed_late():
    s = by_id(plan(
        [Task(1, "A", duration=d(5)), Task(2, "B", duration=d(1), constraint=ConstraintType.ALAP),
         Task(3, "End", duration=d(0))],
        [Link(1, 3), Link(2, 3)]))
    assert when(s[2].start) == "Fri 09 08:00"


def test_summary_rolls_up_and_links_into_and_out_of_summaries():
    tasks = [Task(1, "Phase 1", 1), Task(2, "A", 2, d(2)), Task(3, "B", 2, d(3)),
             Task(4, "Phase 2", 1), Task(5, "C", 2, d(1)), Task(6, "D", 2, d(1))]
    s = by_id(plan(tasks, [Link(1, 4)]))  # phase 2 waits for all of phase 1
    assert (when(s[1].start), when(s[1].finish)) == ("Mon 05 08:00", "Wed 07 17:00")
    assert when(s[5].start) == when(s[6].start) == "Thu 08 08:00"
    assert s[1].summary and s[1].duration_minutes == 3 * D
    assert [s[i].outline_number for i in range(1, 7)] == ["1", "1.1", "1.2", "2", "2.1", "2.2"]


def test_summary_percent_complete_is_duration_weighted():
    tasks = [Task(1, "Phase", 1), Task(2, "A", 2, d(1), percent_complete=100,
                                        actual_start=MON, actual_finish=dt.datetime(2026, 1, 5, 17)),
             Task(3, "B", 2, d(3))]
    s = by_id(plan(tasks, [Link(2, 3)]))
    assert s[1].percent_complete == pytest.approx(25.0)


def test_progress_keeps_actuals_and_reschedules_after_status_date():
    tasks = [Task(1, "A", duration=d(4), percent_complete=50, actual_start=MON),
             Task(2, "B", duration=d(2))]
    p = plan(tasks, [Link(1, 2)], status_date=dt.datetime(2026, 1, 9, 17), reschedule_after_status_date=True)
    s = schedule(p).by_id()
    assert when(s[1].start) == "Mon 05 08:00"
    assert when(s[1].finish) == "Tue 13 17:00"  # 2 days remaining, resumed after the status date
    assert when(s[2].start) == "Wed 14 08:00"
    p.settings.reschedule_after_status_date = False
    assert when(schedule(p).by_id()[1].finish) == "Thu 08 17:00"


def test_cycle_is_reported_by_name_and_the_rest_still_schedules():
    tasks = [Task(1, "A", duration=d(1)), Task(2, "B", duration=d(1)), Task(3, "C", duration=d(1)),
             Task(4, "D", duration=d(1))]
    sch = schedule(plan(tasks, [Link(1, 2), Link(2, 3), Link(3, 2), Link(1, 4)]))
    cycles = [f for f in sch.findings if f.code == "graph.cycle"]
    assert len(cycles) == 1 and "2 'B'" in cycles[0].message and "3 'C'" in cycles[0].message
    s = sch.by_id()
    assert s[2].in_cycle and s[3].in_cycle and not s[4].in_cycle
    assert when(s[4].start) == "Tue 06 08:00" and s[2].start is not None


@pytest.mark.parametrize(
    ("links", "code"),
    [
        ([Link(1, 99)], "link.unknown-task"),
        ([Link(0, 2)], "link.unknown-task"),  # just below the first ID
        ([Link(10**20, 2)], "link.unknown-task"),  # beyond 64 bits
        ([Link(1, 1)], "link.self"),
        ([Link(1, 2), Link(1, 2, LinkType.SS)], "link.duplicate"),
    ],
)
def test_bad_links_become_findings(links, code):
    sch = schedule(plan([Task(1, "A", duration=d(1)), Task(2, "B", duration=d(1))], links))
    assert code in {f.code for f in sch.findings}
    assert all(t.start is not None for t in sch.tasks)


def test_links_between_tasks_numbered_from_any_id_reach_the_right_tasks():
    for ids in ([7, 8, 9], [3, 1, 2], [10, 20, 30]):  # running up by one from 7, out of order, gaps
        tasks = [Task(i, f"T{i}", duration=d(1)) for i in ids]
        s = by_id(plan(tasks, [Link(ids[0], ids[1]), Link(ids[1], ids[2])]))
        assert [when(s[i].start) for i in ids] == ["Mon 05 08:00", "Tue 06 08:00", "Wed 07 08:00"]


def test_duplicate_ids_missing_constraint_date_and_wbs_mismatch_are_findings():
    tasks = [Task(1, "A", duration=d(1), wbs="1"), Task(1, "A again", duration=d(1), wbs="7"),
             Task(3, "C", duration=d(1), constraint=ConstraintType.MSO)]
    codes = {f.code for f in schedule(plan(tasks)).findings}
    assert {"task.duplicate-id", "task.constraint-date-missing", "task.wbs-mismatch"} <= codes


def test_driver_explains_why_a_task_is_where_it_is():
    s = by_id(plan(
        [Task(1, "A", duration=d(1)), Task(2, "B", duration=d(3)), Task(3, "C", duration=d(1)),
         Task(4, "D", duration=d(1), constraint=ConstraintType.SNET, constraint_date=dt.datetime(2026, 2, 2, 8))],
        [Link(1, 3), Link(2, 3), Link(3, 4)]))
    assert s[3].driver.link == Link(2, 3) and "task 2" in s[3].driver.describe()
    assert s[4].driver.kind.value == "constraint"
    assert s[1].driver.kind.value == "project start"


def test_elapsed_duration_ignores_the_calendar():
    s = by_id(plan([Task(1, "Cure concrete", duration=Duration(3 * 1440, elapsed=True, unit="ed"))]))
    assert when(s[1].finish) == "Thu 08 08:00"


def test_multiple_critical_paths_option():
    tasks = [Task(1, "A", duration=d(5)), Task(2, "B", duration=d(1))]
    assert not by_id(plan(tasks))[2].critical
    assert by_id(plan(tasks, multiple_critical_paths=True))[2].critical


def test_critical_threshold_setting():
    tasks = [Task(1, "A", duration=d(5)), Task(2, "B", duration=d(4))]
    assert not by_id(plan(tasks))[2].critical
    assert by_id(plan(tasks, critical_slack_minutes=D))[2].critical


def test_link_schedule_marks_driving_links_and_link_slack():
    sch = schedule(plan([Task(1, "A", duration=d(1)), Task(2, "B", duration=d(3)), Task(3, "C", duration=d(1))],
                        [Link(1, 3), Link(2, 3)]))
    info = {(ls.link.predecessor, ls.link.successor): ls for ls in sch.links}
    assert info[(2, 3)].driving and info[(2, 3)].slack_minutes == 0
    assert not info[(1, 3)].driving and info[(1, 3)].slack_minutes == 2 * D


def test_results_read_as_columns_agree_with_the_records_and_the_records_behave_as_a_list():
    import pickle

    from wbs_tools.core.schedule import RecordTable, TaskSchedule, column_of, fields_of

    p = plan([Task(1, "Phase", 1), Task(2, "A", 2, duration=d(2)), Task(3, "B", 2, duration=d(1)),
              Task(4, "Off", 1, duration=d(1), active=False)], [Link(2, 3)])
    sch = schedule(p)
    assert isinstance(sch.tasks, RecordTable) and len(sch.tasks) == 4
    columns = {name: list(sch.tasks.column(name)) for name in TaskSchedule._fields}  # read before any record
    zipped = list(fields_of(sch.tasks, ("id", "finish"))), list(fields_of(sch.tasks, ("name",)))
    records = list(sch.tasks)
    for name, values in columns.items():
        assert values == [getattr(r, name) for r in records], name
    assert column_of(records, "finish") == columns["finish"]  # a plain list reads the same
    assert zipped == (list(fields_of(sch.tasks, ("id", "finish"))), list(fields_of(records, ("name",)))) == (
        list(zip(columns["id"], columns["finish"], strict=True)), [(name,) for name in columns["name"]])
    assert sch.tasks.column("finish") == columns["finish"]  # read off the records once they are built
    assert columns["start"][3] is None and columns["finish"][1] == dt.datetime(2026, 1, 6, 17)
    assert columns["driver"][0].kind.value == "summary roll-up" and columns["driver"][2].link == Link(2, 3)
    assert sch.tasks[1] is records[1] and sch.tasks[-1] == records[-1] and sch.tasks[1:3] == records[1:3]
    assert sch.tasks == records and sch.tasks == schedule(p).tasks and sch.tasks != records[:2]
    assert pickle.loads(pickle.dumps(sch.tasks)) == records
    assert [(ls.link, ls.driving) for ls in sch.links] == [(Link(2, 3), True)]
    assert sch.links.column("slack_minutes") == [0.0]
    with pytest.raises(ValueError, match="do not match"):
        RecordTable(TaskSchedule, 0, {"id": []})


def test_rows_out_of_link_order_schedule_as_rows_in_order():
    from wbs_tools.core.network import _row_order, build_network
    from wbs_tools.core.outline import build_outline

    def tasks(order):
        made = {1: Task(1, "Phase", 1), 2: Task(2, "Design", 2, duration=d(2)), 3: Task(3, "Build", 2, duration=d(3)),
                4: Task(4, "Test", 1, duration=d(1))}
        return [made[i] for i in order]

    links = [Link(2, 3), Link(1, 4, LinkType.SS, Lag(d(1)))]
    forward = plan(tasks([1, 2, 3, 4]), links)
    backward = plan(tasks([4, 1, 3, 2]), links)  # every link now runs from a later row to an earlier one
    outline, _ = build_outline(forward.tasks)
    net = build_network(forward, outline, [True] * 4)
    assert net.order == _row_order(net, outline) == [4, 1, 2, 0, 3]  # begin node 4 = the phase's, its end is 0
    outline, _ = build_outline(backward.tasks)
    assert _row_order(build_network(backward, outline, [True] * 4), outline) is None
    dates = {t.id: (t.start, t.finish, t.late_start, t.total_slack_minutes) for t in schedule(forward).tasks}
    assert dates == {t.id: (t.start, t.finish, t.late_start, t.total_slack_minutes) for t in schedule(backward).tasks}
    assert dates[4][0] == dt.datetime(2026, 1, 6, 8)
    listed_backwards = plan(tasks([1, 2, 3, 4]), links[::-1])  # links not grouped by successor row
    assert isinstance(net.in_links[2], range) and isinstance(
        build_network(listed_backwards, build_outline(listed_backwards.tasks)[0], [True] * 4).in_links[2], list)
    assert dates == {t.id: (t.start, t.finish, t.late_start, t.total_slack_minutes)
                     for t in schedule(listed_backwards).tasks}


def test_the_outline_shares_one_int_per_row():
    """Parents, subtasks and the row list hold the same int objects (a million-task outline would
    otherwise hold two or three copies of each row number: compiled code boxes an int at each store)."""
    from wbs_tools.core.outline import build_outline

    tasks = [Task(i + 1, f"T{i}", 1 if i % 100 == 0 else 2, duration=d(1)) for i in range(2000)]
    outline, findings = build_outline(tasks)
    assert findings == [] and outline.numbers[:3] == ["1", "1.1", "1.2"] and outline.numbers[1900] == "20"
    rows = outline.rows
    summaries = outline.summary_rows
    assert summaries == list(range(0, 2000, 100))
    for s in summaries:
        assert all(child is rows[child] for child in outline.children[s])
        assert all(outline.parent[child] is rows[s] for child in outline.children[s])
    assert outline.last_under[1900] == 1999

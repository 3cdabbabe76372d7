"""MSPDI (Microsoft Project XML) reading and writing.

The corpus tests read every real project file and compare what the reader produced with the
neutral ``.expected.json`` beside it (values Microsoft Project stored, decoded independently).
Synthetic documents cover what the corpus lacks: recurring calendar exceptions, alternate work
weeks, derived calendars, percent and elapsed lags, bad values, and hostile XML.
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from wbs_tools.core.model import (
    STANDARD_DAY,
    Baseline,
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
from wbs_tools.core.schedule import Schedule, TaskSchedule
from wbs_tools.mspdi import document as document_module
from wbs_tools.mspdi.reader import MspdiError, read_mspdi
from wbs_tools.mspdi.values import (
    MSPDI_NS,
    day_type,
    duration_from_xml,
    format_duration_minutes,
    lag_from_xml,
    lag_to_xml,
    parse_duration_minutes,
    parse_format,
    parse_time_minutes,
    python_weekday,
)
from wbs_tools.mspdi.writer import TASK_ORDER, write_mspdi

CORPUS = Path(__file__).parents[1].parent / "shared" / "corpus" / "mspdi"
CORPUS_FILES = sorted(CORPUS.glob("*/*.xml")) if CORPUS.is_dir() else []
#: Round trips write each file twice; the 18 MB Primavera export is left to the read tests for speed.
ROUND_TRIP_FILES = [p for p in CORPUS_FILES if p.stat().st_size < 5_000_000]
NS = {"p": MSPDI_NS}
DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

needs_corpus = pytest.mark.skipif(not CORPUS_FILES, reason=f"MSPDI corpus not present at {CORPUS}")


def _iso(value: dt.datetime | None) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%S") if value else None


def _hms(minutes: int) -> str:
    return f"{minutes // 60 % 24:02d}:{minutes % 60:02d}:00"


def _times(periods: tuple[WorkingTime, ...]) -> list[list[str]]:
    return [[_hms(p.start), _hms(p.end)] for p in periods]


# --- corpus ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=CORPUS_FILES, ids=lambda p: f"{p.parent.name}/{p.stem[:50]}")
def corpus_case(request: pytest.FixtureRequest) -> tuple[Plan, list, dict]:
    path: Path = request.param
    expected = json.loads(path.with_name(path.stem + ".expected.json").read_text(encoding="utf-8"))
    plan, findings = read_mspdi(path)
    return plan, findings, expected


def _expected_tasks(expected: dict) -> list[dict]:
    return [
        t
        for t in expected["tasks"]
        if t["uid"] != 0 and t["outline_level"] != 0 and not t["is_null"] and not t["external"]
    ]


@needs_corpus
@pytest.mark.corpus
class TestCorpus:
    def test_tasks_names_and_durations(self, corpus_case: tuple[Plan, list, dict]) -> None:
        plan, findings, expected = corpus_case
        rows = _expected_tasks(expected)
        assert len(plan.tasks) == len(rows)
        by_uid = {t.uid: t for t in plan.tasks}
        for row in rows:
            task = by_uid[row["uid"]]
            assert task.id == row["id"]
            assert task.name == (row["name"] or "")
            assert task.outline_level == row["outline_level"]
            assert task.milestone == row["milestone"]
            assert task.manual == row["manual"]
            assert task.active == row["active"]
            assert task.duration is not None
            assert task.duration.minutes == pytest.approx(row["duration_min"])
            assert task.duration.elapsed == row["duration_elapsed"]
        assert not [f for f in findings if f.severity.value == "error"]

    def test_links(self, corpus_case: tuple[Plan, list, dict]) -> None:
        plan, _, expected = corpus_case
        id_of = {t["uid"]: t["id"] for t in expected["tasks"]}
        want: collections.Counter = collections.Counter()
        for row in _expected_tasks(expected):
            for p in row["predecessors"]:
                lag = (
                    ("%", p["lag_percent"])
                    if p.get("lag_percent") is not None
                    else (p["lag_minutes"], p["lag_elapsed"])
                )
                want[(id_of[p["pred_uid"]], row["id"], p["type"], lag)] += 1
        got = collections.Counter(
            (
                link.predecessor,
                link.successor,
                link.type.value,
                ("%", link.lag.percent)
                if link.lag.percent is not None
                else (link.lag.duration.minutes, link.lag.duration.elapsed),
            )
            for link in plan.links
        )
        assert got == want

    def test_constraints_progress_and_calendars(self, corpus_case: tuple[Plan, list, dict]) -> None:
        plan, _, expected = corpus_case
        by_uid = {t.uid: t for t in plan.tasks}
        cal_uids = {spec.uid: name for name, spec in plan.calendars.items()}
        for row in _expected_tasks(expected):
            task = by_uid[row["uid"]]
            assert task.constraint.value == row["constraint_type"]
            if task.constraint.needs_date:
                assert _iso(task.constraint_date) == row["constraint_date"]
            assert _iso(task.deadline) == row["deadline"]
            assert _iso(task.actual_start) == row["actual_start"]
            assert _iso(task.actual_finish) == row["actual_finish"]
            assert task.percent_complete == pytest.approx(row["percent_complete"] or 0)
            assert task.calendar == (cal_uids[row["calendar_uid"]] if row["calendar_uid"] not in (-1, None) else None)
            if row["remaining_duration_min"] is not None and task.remaining_duration is not None:
                assert task.remaining_duration.minutes == pytest.approx(row["remaining_duration_min"])

    def test_settings(self, corpus_case: tuple[Plan, list, dict]) -> None:
        plan, _, expected = corpus_case
        s, p = plan.settings, expected["project"]
        assert _iso(s.start) == p["start_date"]
        assert _iso(s.status_date) == p["status_date"]
        assert (s.minutes_per_day, s.minutes_per_week, s.days_per_month) == (
            p["minutes_per_day"],
            p["minutes_per_week"],
            p["days_per_month"],
        )
        assert s.honor_constraints == p["honor_constraints"]
        assert s.multiple_critical_paths == p["multiple_critical_paths"]
        assert s.critical_slack_minutes == p["critical_slack_limit"] * s.minutes_per_day
        assert plan.calendars[s.calendar].uid == p["calendar_uid"]

    def test_default_calendar(self, corpus_case: tuple[Plan, list, dict]) -> None:
        plan, _, expected = corpus_case
        spec = plan.calendars[plan.settings.calendar]
        want = expected["default_calendar"]
        assert {d: _times(spec.week.get(i, ())) for i, d in enumerate(DAYS)} == want["weekly"]
        assert {day.isoformat(): _times(t) for day, t in spec.exceptions.items()} == want["exceptions"]


@needs_corpus
def test_large_file_reads_quickly() -> None:
    """The 18 MB Primavera export (6 260 tasks) is read well within a test's time budget."""
    path = next((p for p in CORPUS_FILES if "PyP6Xer" in p.name), None)
    if path is None:
        pytest.skip("PyP6Xer file absent")
    start = dt.datetime.now()
    plan, _ = read_mspdi(path)
    assert len(plan.tasks) == 6260
    assert (dt.datetime.now() - start).total_seconds() < 10


# --- value conversions ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("PT8H0M0S", 480),
        ("PT0H0M0S", 0),
        ("PT-16H0M0S", -960),
        ("-PT16H0M0S", -960),
        ("PT7H30M0S", 450),
        ("PT0H0M30S", 0.5),
        ("PT1.5H", 90),
        ("P1DT2H", 480 + 120),
    ],
)
def test_parse_duration(text: str, minutes: float) -> None:
    assert parse_duration_minutes(text) == pytest.approx(minutes)


def test_elapsed_day_part_is_24_hours() -> None:
    assert parse_duration_minutes("P1D", elapsed=True) == 1440


@given(st.integers(min_value=-(10**7), max_value=10**7))
def test_duration_text_round_trips(seconds: int) -> None:
    minutes = seconds / 60
    assert parse_duration_minutes(format_duration_minutes(minutes)) == pytest.approx(minutes)


@pytest.mark.parametrize(
    ("code", "unit", "elapsed", "estimated"),
    [(7, "d", False, False), (39, "d", False, True), (8, "ed", True, False), (5, "h", False, False),
     (38, "eh", True, True), (53, "d", False, True), (21, "d", False, False), (19, "%", False, False),
     (52, "e%", True, True), (12, "emo", True, False), (None, "d", False, False)],
)  # fmt: skip
def test_format_codes(code: int | None, unit: str, elapsed: bool, estimated: bool) -> None:
    fmt = parse_format(code)
    assert (fmt.unit, fmt.elapsed, fmt.estimated) == (unit, elapsed, estimated)


def test_elapsed_duration() -> None:
    d = duration_from_xml("PT24H0M0S", 8)
    assert d == Duration(1440, elapsed=True, unit="ed")


def test_lag_encodings() -> None:
    assert lag_from_xml(4800, 7) == Lag(Duration(480, unit="d"))
    assert lag_from_xml(-24000, 5).duration.minutes == -2400
    assert lag_from_xml(14400, 8).duration == Duration(1440, elapsed=True, unit="ed")
    percent = lag_from_xml(-75, 19)
    assert percent.percent == -75 and not percent.duration.elapsed
    assert lag_from_xml(50, 20).duration.elapsed
    for lag in (Lag(Duration(960, unit="d")), Lag(Duration(1440, elapsed=True, unit="ed")), percent):
        assert lag_from_xml(*lag_to_xml(lag)) == lag


def test_times_and_days() -> None:
    assert parse_time_minutes("08:00:00") == 480
    assert parse_time_minutes("00:00:00", end=True) == 1440
    assert parse_time_minutes("24:00:00", end=True) == 1440
    assert [python_weekday(d) for d in range(1, 8)] == [6, 0, 1, 2, 3, 4, 5]
    assert all(day_type(python_weekday(d)) == d for d in range(1, 8))


# --- synthetic documents --------------------------------------------------------------------------

WEEK_STANDARD = "".join(
    f"<WeekDay><DayType>{d}</DayType><DayWorking>{int(1 < d < 7)}</DayWorking>"
    + (
        "<WorkingTimes><WorkingTime><FromTime>08:00:00</FromTime><ToTime>12:00:00</ToTime></WorkingTime>"
        "<WorkingTime><FromTime>13:00:00</FromTime><ToTime>17:00:00</ToTime></WorkingTime></WorkingTimes>"
        if 1 < d < 7
        else ""
    )
    + "</WeekDay>"
    for d in range(1, 8)
)


def _document(calendars: str = "", tasks: str = "", project: str = "", ns: bool = True) -> bytes:
    xmlns = f' xmlns="{MSPDI_NS}"' if ns else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><Project{xmlns}><Name>t.xml</Name><Title>Demo</Title>'
        "<StartDate>2024-01-01T08:00:00</StartDate><CalendarUID>1</CalendarUID>"
        f"<MinutesPerDay>480</MinutesPerDay>{project}"
        f"<Calendars><Calendar><UID>1</UID><Name>Standard</Name><IsBaseCalendar>1</IsBaseCalendar>"
        f"<BaseCalendarUID>-1</BaseCalendarUID><WeekDays>{WEEK_STANDARD}</WeekDays></Calendar>{calendars}"
        f"</Calendars><Tasks><Task><UID>0</UID><ID>0</ID><Name>Demo</Name><OutlineLevel>0</OutlineLevel></Task>"
        f"{tasks}</Tasks></Project>"
    ).encode()


def _task(uid: int, body: str = "", *, ident: int | None = None) -> str:
    return (
        f"<Task><UID>{uid}</UID><ID>{uid if ident is None else ident}</ID><Name>T{uid}</Name>"
        f"<OutlineLevel>1</OutlineLevel><Duration>PT8H0M0S</Duration><DurationFormat>7</DurationFormat>{body}</Task>"
    )


def _exception(from_date: str, to_date: str, fields: str, working: str = "") -> str:
    return (
        f"<Exception><TimePeriod><FromDate>{from_date}T00:00:00</FromDate><ToDate>{to_date}T23:59:00</ToDate>"
        f"</TimePeriod>{fields}<DayWorking>{1 if working else 0}</DayWorking>{working}</Exception>"
    )


def _calendar(uid: int, name: str, body: str, base: int = -1) -> str:
    is_base = int(base == -1)
    return (
        f"<Calendar><UID>{uid}</UID><Name>{name}</Name><IsBaseCalendar>{is_base}</IsBaseCalendar>"
        f"<BaseCalendarUID>{base}</BaseCalendarUID>{body}</Calendar>"
    )


def _dates(spec: CalendarSpec) -> list[str]:
    return [d.isoformat() for d in spec.exceptions]


def _cal_plan(calendar_xml: str, task_calendar_uid: int = 2) -> Plan:
    plan, _ = read_mspdi(_document(calendar_xml, _task(1, f"<CalendarUID>{task_calendar_uid}</CalendarUID>")))
    return plan


class TestCalendars:
    def test_weekly_recurrence(self) -> None:
        fields = "<Occurrences>4</Occurrences><Type>6</Type><Period>1</Period><DaysOfWeek>20</DaysOfWeek>"
        plan = _cal_plan(_calendar(2, "Meetings", f"<WeekDays>{WEEK_STANDARD}</WeekDays><Exceptions>"
                                    + _exception("2024-01-01", "2024-01-12", fields) + "</Exceptions>"))  # fmt: skip
        assert _dates(plan.calendars["Meetings"]) == ["2024-01-02", "2024-01-04", "2024-01-09", "2024-01-11"]

    def test_every_other_week_and_occurrence_cap(self) -> None:
        fields = (
            "<EnteredByOccurrences>1</EnteredByOccurrences><Occurrences>2</Occurrences>"
            "<Type>6</Type><Period>2</Period><DaysOfWeek>2</DaysOfWeek>"
        )
        plan = _cal_plan(_calendar(2, "Fortnight", "<Exceptions>" + _exception("2024-01-01", "2024-03-31", fields)
                                   + "</Exceptions>"))  # fmt: skip
        assert _dates(plan.calendars["Fortnight"]) == ["2024-01-01", "2024-01-15"]

    def test_monthly_yearly_and_daily(self) -> None:
        monthly_day = "<Type>4</Type><Period>1</Period><MonthDay>31</MonthDay>"
        last_friday = "<Type>5</Type><Period>1</Period><MonthItem>8</MonthItem><MonthPosition>4</MonthPosition>"
        christmas = "<Type>2</Type><Month>11</Month><MonthDay>25</MonthDay>"
        thanksgiving = "<Type>3</Type><Month>10</Month><MonthItem>7</MonthItem><MonthPosition>3</MonthPosition>"
        every_other_day = "<Type>1</Type><Period>2</Period>"
        body = (
            "<Exceptions>"
            + "".join(
                [
                    _exception("2024-01-01", "2024-03-31", monthly_day),
                    _exception("2024-04-01", "2024-05-31", last_friday),
                    _exception("2024-01-01", "2025-12-31", christmas),
                    _exception("2024-01-01", "2024-12-31", thanksgiving),
                    _exception("2024-06-03", "2024-06-07", every_other_day),
                ]
            )
            + "</Exceptions>"
        )
        dates = _dates(_cal_plan(_calendar(2, "Mixed", body)).calendars["Mixed"])
        assert dates == [
            "2024-01-31", "2024-02-29", "2024-03-31", "2024-04-26", "2024-05-31",
            "2024-06-03", "2024-06-05", "2024-06-07", "2024-11-28", "2024-12-25", "2025-12-25",
        ]  # fmt: skip

    def test_working_exception_and_midnight(self) -> None:
        times = (
            "<WorkingTimes><WorkingTime><FromTime>20:00:00</FromTime><ToTime>00:00:00</ToTime></WorkingTime>"
            "</WorkingTimes>"
        )
        plan = _cal_plan(_calendar(2, "Night", "<Exceptions>" + _exception("2024-01-06", "2024-01-06", "", times)
                                   + "</Exceptions>"))  # fmt: skip
        assert plan.calendars["Night"].exceptions == {dt.date(2024, 1, 6): (WorkingTime(1200, 1440),)}

    def test_derived_calendar_inherits_week_and_holidays(self) -> None:
        base_holiday = "<Exceptions>" + _exception("2024-01-01", "2024-01-01", "<Type>1</Type>") + "</Exceptions>"
        short_friday = (
            "<WeekDays><WeekDay><DayType>6</DayType><DayWorking>1</DayWorking><WorkingTimes><WorkingTime>"
            "<FromTime>08:00:00</FromTime><ToTime>12:00:00</ToTime></WorkingTime></WorkingTimes></WeekDay>"
            "<WeekDay><DayType>2</DayType></WeekDay></WeekDays>"
        )
        calendars = _calendar(3, "Base", f"<WeekDays>{WEEK_STANDARD}</WeekDays>{base_holiday}") + _calendar(
            2, "Derived", short_friday, base=3
        )
        spec = _cal_plan(calendars).calendars["Derived"]
        assert spec.week[0] == STANDARD_DAY  # Monday listed without DayWorking: the base's
        assert spec.week[4] == (WorkingTime(480, 720),)
        assert 5 not in spec.week and 6 not in spec.week
        assert spec.exceptions == {dt.date(2024, 1, 1): ()}

    def test_old_style_exceptions_only_without_new_ones(self) -> None:
        old = (
            "<WeekDay><DayType>0</DayType><DayWorking>0</DayWorking><TimePeriod>"
            "<FromDate>2024-02-01T00:00:00</FromDate><ToDate>2024-02-03T23:59:00</ToDate></TimePeriod></WeekDay>"
        )
        plan = _cal_plan(_calendar(2, "Old", f"<WeekDays>{WEEK_STANDARD}{old}</WeekDays>"))
        assert _dates(plan.calendars["Old"]) == ["2024-02-01", "2024-02-02", "2024-02-03"]
        new = "<Exceptions>" + _exception("2024-03-01", "2024-03-01", "<Type>1</Type>") + "</Exceptions>"
        plan = _cal_plan(_calendar(2, "Both", f"<WeekDays>{WEEK_STANDARD}{old}</WeekDays>{new}"))
        assert _dates(plan.calendars["Both"]) == ["2024-03-01"]

    def test_work_week_becomes_dated_exceptions(self) -> None:
        saturday = (
            "<WorkWeeks><WorkWeek><TimePeriod><FromDate>2024-01-01T00:00:00</FromDate>"
            "<ToDate>2024-01-14T23:59:00</ToDate></TimePeriod><Name>Crunch</Name><WeekDays>"
            "<WeekDay><DayType>7</DayType><DayWorking>1</DayWorking><WorkingTimes><WorkingTime>"
            "<FromTime>09:00:00</FromTime><ToTime>13:00:00</ToTime></WorkingTime></WorkingTimes></WeekDay>"
            "<WeekDay><DayType>2</DayType><DayWorking>1</DayWorking><WorkingTimes><WorkingTime>"
            "<FromTime>08:00:00</FromTime><ToTime>12:00:00</ToTime></WorkingTime><WorkingTime>"
            "<FromTime>13:00:00</FromTime><ToTime>17:00:00</ToTime></WorkingTime></WorkingTimes></WeekDay>"
            "</WeekDays></WorkWeek></WorkWeeks>"
        )
        spec = _cal_plan(_calendar(2, "Crunch", f"<WeekDays>{WEEK_STANDARD}</WeekDays>{saturday}")).calendars["Crunch"]
        # Mondays equal the default week, so only the two Saturdays become exceptions.
        assert spec.exceptions == {
            dt.date(2024, 1, 6): (WorkingTime(540, 780),),
            dt.date(2024, 1, 13): (WorkingTime(540, 780),),
        }

    def test_duplicate_names_and_unused_resource_calendars(self) -> None:
        calendars = _calendar(2, "Standard", f"<WeekDays>{WEEK_STANDARD}</WeekDays>") + _calendar(
            4, "Unnamed Resource", "", base=1
        )
        plan = _cal_plan(calendars)
        assert sorted(plan.calendars) == ["Standard (1)", "Standard (2)"]
        assert plan.settings.calendar == "Standard (1)"
        assert plan.tasks[0].calendar == "Standard (2)"

    def test_unknown_task_calendar_is_a_finding(self) -> None:
        _, findings = read_mspdi(_document(tasks=_task(1, "<CalendarUID>99</CalendarUID>")))
        assert [f.code for f in findings] == ["task.unknown-calendar"]
        assert findings[0].location == "Task UID 1 <CalendarUID>"


class TestTasks:
    def test_fields(self) -> None:
        body = (
            "<Active>1</Active><Manual>1</Manual><WBS>A.1</WBS><OutlineNumber>1</OutlineNumber>"
            "<Start>2024-01-02T08:00:00</Start><Finish>2024-01-03T17:00:00</Finish><Milestone>0</Milestone>"
            "<PercentComplete>50</PercentComplete><Cost>14600</Cost><ActualStart>2024-01-02T08:00:00</ActualStart>"
            "<ActualCost>5000</ActualCost><RemainingDuration>PT4H0M0S</RemainingDuration>"
            "<ConstraintType>4</ConstraintType><CalendarUID>-1</CalendarUID>"
            "<ConstraintDate>2024-01-02T08:00:00</ConstraintDate><Deadline>2024-01-10T17:00:00</Deadline>"
            "<Notes>check</Notes><Baseline><Number>0</Number><Start>2024-01-01T08:00:00</Start>"
            "<Finish>2024-01-01T17:00:00</Finish><Duration>PT8H0M0S</Duration><Work>PT16H0M0S</Work>"
            "<Cost>10000</Cost></Baseline><Baseline><Number>3</Number><Start>2024-01-05T08:00:00</Start></Baseline>"
        )
        plan, findings = read_mspdi(_document(tasks=_task(7, body, ident=3)))
        assert findings == []
        task = plan.tasks[0]
        assert (task.id, task.uid, task.name, task.wbs) == (3, 7, "T7", "A.1")
        assert task.manual and task.manual_start == dt.datetime(2024, 1, 2, 8)
        assert task.manual_finish == dt.datetime(2024, 1, 3, 17)
        assert task.constraint is ConstraintType.SNET and task.constraint_date == dt.datetime(2024, 1, 2, 8)
        assert (task.cost, task.actual_cost, task.percent_complete) == (146.0, 50.0, 50.0)
        assert task.remaining_duration == Duration(240)
        assert task.calendar is None and task.notes == "check"
        assert task.baselines[0] == Baseline(
            dt.datetime(2024, 1, 1, 8), dt.datetime(2024, 1, 1, 17), 480.0, 100.0, 960.0
        )
        assert task.baselines[3].start == dt.datetime(2024, 1, 5, 8)
        assert task.cells["duration"] == "Task UID 7 <Duration>"
        assert plan.settings.project_name == "Demo"

    def test_skipped_rows(self) -> None:
        tasks = (
            _task(1)
            + "<Task><UID>2</UID><ID>2</ID><IsNull>1</IsNull></Task>"
            + _task(3, "<ExternalTask>1</ExternalTask>")
            + _task(4, "<PredecessorLink><PredecessorUID>3</PredecessorUID><Type>1</Type></PredecessorLink>")
        )
        plan, findings = read_mspdi(_document(tasks=tasks))
        assert [t.uid for t in plan.tasks] == [1, 4]
        assert plan.links == []
        assert [(f.code, f.severity.value) for f in findings] == [("link.unknown-task", "warning")]

    def test_links(self) -> None:
        links = (
            "<PredecessorLink><PredecessorUID>1</PredecessorUID><Type>3</Type><LinkLag>-4800</LinkLag>"
            "<LagFormat>7</LagFormat></PredecessorLink>"
            "<PredecessorLink><PredecessorUID>2</PredecessorUID><Type>0</Type><LinkLag>50</LinkLag>"
            "<LagFormat>19</LagFormat></PredecessorLink>"
            "<PredecessorLink><PredecessorUID>9</PredecessorUID></PredecessorLink>"
            "<PredecessorLink><PredecessorUID>1</PredecessorUID><CrossProject>1</CrossProject>"
            "<CrossProjectName>other.mpp\\4</CrossProjectName></PredecessorLink>"
        )
        plan, findings = read_mspdi(_document(tasks=_task(1) + _task(2, ident=5) + _task(3, links)))
        assert plan.links == [
            Link(1, 3, LinkType.SS, Lag(Duration(-480, unit="d")), "Task UID 3 <PredecessorLink>"),
            Link(5, 3, LinkType.FF, Lag(percent=50), "Task UID 3 <PredecessorLink>"),
        ]
        assert [(f.code, f.severity.value) for f in findings] == [
            ("link.unknown-task", "error"),
            ("link.unknown-task", "warning"),
        ]

    def test_bad_values_are_findings(self) -> None:
        tasks = (
            _task(1, "<ConstraintType>3</ConstraintType>")
            + _task(2, "<ConstraintType>12</ConstraintType><PercentComplete>140</PercentComplete>")
            + _task(3, "<Deadline>soon</Deadline><ActualStart>2024-01-05T08:00:00</ActualStart>"
                    "<ActualFinish>2024-01-04T08:00:00</ActualFinish>")
        ).replace("<Duration>PT8H0M0S</Duration>", "<Duration>8 days</Duration>", 1)  # fmt: skip
        plan, findings = read_mspdi(_document(tasks=tasks, project="<DaysPerMonth>lots</DaysPerMonth>"))
        assert sorted(f.code for f in findings) == [
            "settings.bad-value",
            "task.actual-finish-before-start",
            "task.bad-constraint",
            "task.bad-date",
            "task.bad-duration",
            "task.bad-percent",
            "task.constraint-date-missing",
        ]
        assert plan.tasks[0].duration == Duration(480) and plan.tasks[0].constraint is ConstraintType.ASAP
        assert plan.settings.days_per_month == 20

    def test_duplicate_ids_are_renumbered(self) -> None:
        plan, findings = read_mspdi(_document(tasks=_task(10, ident=1) + _task(11, ident=1)))
        assert [t.id for t in plan.tasks] == [1, 2]
        assert [f.code for f in findings] == ["task.duplicate-id"]

    def test_no_namespace(self) -> None:
        plan, _ = read_mspdi(_document(tasks=_task(1), ns=False))
        assert [t.name for t in plan.tasks] == ["T1"]
        assert plan.calendars["Standard"].week[0] == STANDARD_DAY


class TestHostileInput:
    def test_billion_laughs_is_refused(self) -> None:
        lol = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
        doc = (
            f'<?xml version="1.0"?><!DOCTYPE Project [<!ENTITY l0 "lol">{lol}]>'
            f'<Project xmlns="{MSPDI_NS}"><Name>&l9;</Name></Project>'
        )
        with pytest.raises(MspdiError, match="DTD"):
            read_mspdi(doc.encode())

    def test_external_entity_is_not_read(self) -> None:
        doc = (
            '<?xml version="1.0"?><!DOCTYPE Project [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            f'<Project xmlns="{MSPDI_NS}"><Title>&x;</Title></Project>'
        )
        with pytest.raises(MspdiError) as info:
            read_mspdi(doc.encode())
        assert "root:" not in str(info.value)

    @pytest.mark.parametrize(
        "data",
        [b"PK\x03\x04 not xml", b"", b"<html><body/></html>", b'<Project xmlns="urn:other"/>', b"<Project><Name>"],
    )
    def test_not_mspdi(self, data: bytes) -> None:
        with pytest.raises(MspdiError, match="not an MSPDI file"):
            read_mspdi(data)

    def test_too_large(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        path = tmp_path / "big.xml"
        path.write_bytes(_document())
        monkeypatch.setattr(document_module, "MAX_BYTES", 100)
        with pytest.raises(MspdiError, match="limit"):
            read_mspdi(path)


# --- writer ---------------------------------------------------------------------------------------


def _outline_numbers(plan: Plan) -> list[str]:
    counters: list[int] = []
    numbers = []
    for task in plan.tasks:
        level = task.outline_level
        counters = counters[:level] + [0] * (level - len(counters))
        counters[level - 1] += 1
        numbers.append(".".join(str(c) for c in counters[:level]))
    return numbers


def _fake_schedule(plan: Plan) -> Schedule:
    """A hand-made schedule: each task one day after the previous, slack by position."""
    numbers = _outline_numbers(plan)
    rows = []
    start = dt.datetime(2024, 1, 1, 8)
    for index, task in enumerate(plan.tasks):
        summary = index + 1 < len(plan.tasks) and plan.tasks[index + 1].outline_level > task.outline_level
        day = start + dt.timedelta(days=index)
        rows.append(
            TaskSchedule(
                id=task.id, uid=task.uid or task.id, name=task.name, outline_level=task.outline_level,
                outline_number=numbers[index], summary=summary, milestone=task.milestone, parent_id=None,
                start=day, finish=day + dt.timedelta(hours=9), early_start=day,
                early_finish=day + dt.timedelta(hours=9), late_start=day + dt.timedelta(days=2),
                late_finish=day + dt.timedelta(days=2, hours=9), duration_minutes=480.0,
                total_slack_minutes=960.0 * (index % 2), free_slack_minutes=480.0 * (index % 2),
                critical=index % 2 == 0, percent_complete=25.0,
            )
        )  # fmt: skip
    return Schedule(plan, rows, [], project_start=start, project_finish=rows[-1].finish if rows else None)


def _assert_schema_order(root: etree._Element) -> None:
    rank = {name: i for i, name in enumerate(TASK_ORDER)}
    for task in root.iter(f"{{{MSPDI_NS}}}Task"):
        ranks = [rank[etree.QName(c).localname] for c in task if etree.QName(c).localname in rank]
        assert ranks == sorted(ranks), [etree.QName(c).localname for c in task]


def _demo_plan() -> Plan:
    tasks = [
        Task(1, "Phase", 1),
        Task(2, "Design", 2, Duration(960), calendar="Night shift", constraint=ConstraintType.SNET,
             constraint_date=dt.datetime(2024, 1, 2, 8), baselines={0: Baseline(cost=12.5, duration_minutes=480)}),
        Task(3, "Build", 2, Duration(2880, elapsed=True, unit="ed"), manual=True,
             manual_start=dt.datetime(2024, 1, 3, 8), manual_finish=dt.datetime(2024, 1, 5, 8), notes="n"),
        Task(4, "Done", 1, Duration(0), milestone=True, deadline=dt.datetime(2024, 2, 1, 17), uid=40),
    ]  # fmt: skip
    links = [
        Link(2, 3, LinkType.SS, Lag(Duration(480, unit="d"))),
        Link(3, 40 // 10, LinkType.FS, Lag(percent=-25)),
    ]
    night = CalendarSpec(
        "Night shift",
        week={d: (WorkingTime(1200, 1440),) for d in range(5)},
        exceptions={dt.date(2024, 1, 3): (), dt.date(2024, 1, 4): (), dt.date(2024, 1, 6): (WorkingTime(0, 240),)},
    )
    settings = Settings(project_name="Demo", start=dt.datetime(2024, 1, 1, 8), calendar="Standard", currency="€")
    return Plan(settings, tasks, links, {"Standard": CalendarSpec(country="FR"), "Night shift": night})


class TestWriter:
    def test_generated_document_round_trips(self, tmp_path: Path) -> None:
        plan = _demo_plan()
        target = tmp_path / "out.xml"
        write_mspdi(_fake_schedule(plan), target)
        again, findings = read_mspdi(target)
        assert findings == []
        assert [(t.id, t.uid, t.name, t.outline_level) for t in again.tasks] == [
            (t.id, t.uid, t.name, t.outline_level) for t in plan.tasks
        ]
        assert [(lk.predecessor, lk.successor, lk.type, lk.lag) for lk in again.links] == [
            (lk.predecessor, lk.successor, lk.type, lk.lag) for lk in plan.links
        ]
        design, build, done = again.tasks[1], again.tasks[2], again.tasks[3]
        assert design.calendar == "Night shift" and design.constraint is ConstraintType.SNET
        assert design.baselines[0].cost == 12.5
        assert build.duration == Duration(2880, elapsed=True, unit="ed") and build.manual
        assert build.manual_start == dt.datetime(2024, 1, 3, 8) and build.notes == "n"
        assert done.milestone and done.deadline == dt.datetime(2024, 2, 1, 17)
        assert again.calendars["Night shift"].week == plan.calendars["Night shift"].week
        assert again.calendars["Night shift"].exceptions == plan.calendars["Night shift"].exceptions
        assert dt.date(2024, 5, 1) in again.calendars["Standard"].exceptions  # French public holiday
        assert again.settings.currency == "€" and again.settings.project_name == "Demo"
        assert [p.name for p in tmp_path.iterdir()] == ["out.xml"]

    def test_generated_document_has_computed_values(self, tmp_path: Path) -> None:
        target = tmp_path / "out.xml"
        write_mspdi(_fake_schedule(_demo_plan()), target)
        root = etree.parse(str(target)).getroot()
        _assert_schema_order(root)
        design = root.find("p:Tasks/p:Task[p:UID='2']", NS)
        assert design.findtext("p:EarlyStart", namespaces=NS) == "2024-01-02T08:00:00"
        assert design.findtext("p:LateFinish", namespaces=NS) == "2024-01-04T17:00:00"
        assert design.findtext("p:TotalSlack", namespaces=NS) == "9600"
        assert design.findtext("p:FreeSlack", namespaces=NS) == "4800"
        assert design.findtext("p:Critical", namespaces=NS) == "0"
        phase = root.find("p:Tasks/p:Task[p:UID='1']", NS)
        assert phase.findtext("p:Summary", namespaces=NS) == "1"
        assert phase.findtext("p:PercentComplete", namespaces=NS) == "25"

    @needs_corpus
    def test_patching_the_source_keeps_everything_else(self, tmp_path: Path) -> None:
        source = next(p for p in CORPUS_FILES if "ResourceAssignmentCosts" in p.name)
        local = tmp_path / "source.xml"
        shutil.copyfile(source, local)
        plan, _ = read_mspdi(local)
        target = tmp_path / "patched.xml"
        write_mspdi(_fake_schedule(plan), target, source=local)
        before = etree.parse(str(local)).getroot()
        after = etree.parse(str(target)).getroot()
        _assert_schema_order(after)
        for part in ("p:Resources", "p:Assignments", "p:Calendars", "p:ExtendedAttributes"):
            old, new = before.find(part, NS), after.find(part, NS)
            assert (old is None) == (new is None)
            if old is not None:
                assert etree.tostring(old) == etree.tostring(new)
        second = after.find("p:Tasks/p:Task[p:UID='2']", NS)
        assert second.findtext("p:EarlyStart", namespaces=NS) == "2024-01-02T08:00:00"
        assert second.findtext("p:TotalSlack", namespaces=NS) == "9600"
        assert second.find("p:StartSlack", NS) is None
        assert second.findtext("p:Name", namespaces=NS) == before.find("p:Tasks/p:Task[p:UID='2']/p:Name", NS).text
        again, _ = read_mspdi(target)
        leaves = {ts.uid for ts in _fake_schedule(plan).tasks if not ts.summary}
        assert [(t.uid, t.name, t.duration if t.uid in leaves else None) for t in again.tasks] == [
            (t.uid, t.name, t.duration if t.uid in leaves else None) for t in plan.tasks
        ]
        assert again.links == plan.links

    @needs_corpus
    @pytest.mark.corpus
    @pytest.mark.parametrize("path", ROUND_TRIP_FILES, ids=lambda p: f"{p.parent.name}/{p.stem[:50]}")
    def test_corpus_round_trips(self, path: Path, tmp_path: Path) -> None:
        """Both modes, every corpus file: tasks, links and calendars survive a write and a re-read."""
        plan, _ = read_mspdi(path)
        schedule = _fake_schedule(plan)
        patched, generated = tmp_path / "patched.xml", tmp_path / "generated.xml"
        write_mspdi(schedule, patched, source=path)
        write_mspdi(schedule, generated)
        _assert_schema_order(etree.parse(str(patched)).getroot())
        keys = ("id", "uid", "name", "outline_level", "constraint", "constraint_date", "actual_start", "calendar")
        for target in (patched, generated):
            again, findings = read_mspdi(target)
            assert findings == []
            assert [[getattr(t, k) for k in keys] for t in again.tasks] == [
                [getattr(t, k) for k in keys] for t in plan.tasks
            ]
            assert [(lk.predecessor, lk.successor, lk.type, lk.lag) for lk in again.links] == [
                (lk.predecessor, lk.successor, lk.type, lk.lag) for lk in plan.links
            ]
            for name, spec in plan.calendars.items():
                assert (again.calendars[name].week, again.calendars[name].exceptions) == (spec.week, spec.exceptions)

    def test_patching_inserts_missing_elements_in_order(self, tmp_path: Path) -> None:
        source = _document(tasks=_task(1) + _task(2, "<Notes>keep</Notes>"), ns=True)
        plan, _ = read_mspdi(source)
        target = tmp_path / "patched.xml"
        write_mspdi(_fake_schedule(plan), target, source=source)
        root = etree.parse(str(target)).getroot()
        _assert_schema_order(root)
        task = root.find("p:Tasks/p:Task[p:UID='2']", NS)
        assert task.findtext("p:Notes", namespaces=NS) == "keep"
        assert task.findtext("p:Critical", namespaces=NS) == "0"
        assert root.findtext("p:FinishDate", namespaces=NS) == "2024-01-02T17:00:00"

    def test_refuses_hostile_source(self, tmp_path: Path) -> None:
        plan = _demo_plan()
        bad = b'<?xml version="1.0"?><!DOCTYPE P [<!ENTITY x SYSTEM "file:///etc/passwd">]><Project>&x;</Project>'
        with pytest.raises(MspdiError):
            write_mspdi(_fake_schedule(plan), tmp_path / "out.xml", source=bad)
        assert list(tmp_path.iterdir()) == []

"""Import and export: MSPDI and CSV into a full plan workbook and back out, with the same schedule."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from lxml import etree
from typer.testing import CliRunner

from wbs_tools.cli import app
from wbs_tools.core.cpm import schedule
from wbs_tools.core.model import ConstraintType, Duration, Link, LinkType, Plan, Settings, Task
from wbs_tools.core.parsing import parse_lag
from wbs_tools.interchange import InterchangeError, export_plan, import_plan
from wbs_tools.interchange.csv_plan import (
    CsvPlanError,
    csv_rows,
    escape_cell,
    read_csv_plan,
    unescape_cell,
    write_csv_plan,
)
from wbs_tools.mspdi.reader import read_mspdi
from wbs_tools.refresh import Outcome
from wbs_tools.workbook.reader import read_workbook
from wbs_tools.workbook.sample import sample_plan

MSPDI_A = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "mspdi" / "A"
HOSTILE = ["=cmd|' /C calc'!A0", "+1-2", "-x", "@SUM(A1)", "\tTab", "=HYPERLINK(\"http://x\",\"y\")"]
runner = CliRunner()


def mspdi_files() -> list:
    files = sorted(MSPDI_A.glob("*.xml"))
    if not files:
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"MSPDI corpus not present at {MSPDI_A}"))]
    return [pytest.param(f, id=f.stem[-50:], marks=pytest.mark.corpus) for f in files]


def dates(plan: Plan) -> tuple[dt.datetime | None, dict[int, tuple[dt.datetime | None, dt.datetime | None]]]:
    result = schedule(plan)
    return result.project_finish, {t.id: (t.start, t.finish) for t in result.tasks}


def task_facts(plan: Plan) -> list[tuple[object, ...]]:
    """What a plan says about each task, independent of where it was read from."""
    return [(t.id, t.name, t.outline_level, t.duration.minutes if t.duration else None,
             t.duration.elapsed if t.duration else None, t.percent_complete, t.constraint, t.constraint_date,
             t.deadline, t.actual_start, t.actual_finish, t.cost, t.actual_cost, t.owner, t.notes, t.wbs,
             {k: (b.start, b.finish, b.duration_minutes) for k, b in t.baselines.items()})
            for t in plan.tasks]


def link_facts(plan: Plan) -> set[tuple[object, ...]]:
    return {(k.predecessor, k.successor, k.type, k.lag.duration.minutes, k.lag.duration.elapsed, k.lag.percent)
            for k in plan.links}


# --- 1. import round trips -------------------------------------------------------------------------------


@pytest.mark.parametrize("source", mspdi_files())
def test_mspdi_import_schedules_like_the_mspdi(source: Path, tmp_path: Path) -> None:
    result = import_plan(source, tmp_path / "plan.xlsx")
    assert result.kind == "mspdi" and result.refresh is not None
    assert result.refresh.outcome is Outcome.REFRESHED
    plan, _findings = read_mspdi(source)
    expected_finish, expected = dates(plan)
    back = read_workbook(tmp_path / "plan.xlsx")
    finish, got = dates(back.plan)
    assert finish == expected_finish
    assert got == expected
    assert result.refresh.schedule is not None and result.refresh.schedule.project_finish == expected_finish


def test_csv_export_then_import_gives_the_same_plan(tmp_path: Path) -> None:
    assert runner.invoke(app, ["new", str(tmp_path / "plan.xlsx"), "--sample"]).exit_code == 0
    exported = runner.invoke(app, ["export", str(tmp_path / "plan.xlsx"), "-o", str(tmp_path / "plan.csv")])
    assert exported.exit_code in (0, 1), exported.output
    imported = runner.invoke(app, ["import", str(tmp_path / "plan.csv"), "-o", str(tmp_path / "back.xlsx")])
    assert imported.exit_code in (0, 1), imported.output
    original = read_workbook(tmp_path / "plan.xlsx").plan
    back = read_workbook(tmp_path / "back.xlsx").plan
    assert task_facts(back) == task_facts(original)
    assert link_facts(back) == link_facts(original)  # links typed on Dependencies travel as Predecessors
    assert len(original.tasks) > 30 and len(original.links) > 30


def test_csv_round_trip_of_a_plan_keeps_tasks_links_and_durations(tmp_path: Path) -> None:
    plan = sample_plan()
    write_csv_plan(schedule(plan), tmp_path / "plan.csv")
    read = read_csv_plan(tmp_path / "plan.csv")
    assert [f for f in read.findings if f.severity.value == "error"] == []
    assert task_facts(read.plan) == task_facts(plan)
    assert link_facts(read.plan) == link_facts(plan)
    assert read.plan.settings.start == plan.settings.start  # the earliest Start in the file


def test_smartsheet_style_csv_with_aliases_semicolons_and_day_first_dates(tmp_path: Path) -> None:
    text = ("Task ID;Task Name;Dur;Start Date;Pred.;Resource Names;% Done;Constraint;Constraint date\n"
            "1;Design;5 days;02/03/2026;;Ana;50%;;\n"
            "2;Build;2w;;1FS+2d;Ben;;Start No Earlier Than;16/03/2026\n"
            "3;Ship;0;;2;;;;\n")
    (tmp_path / "sheet.csv").write_text(text, encoding="utf-8-sig")
    read = read_csv_plan(tmp_path / "sheet.csv", date_order="DMY")
    assert read.findings == []
    first, build, ship = read.plan.tasks
    assert (first.name, first.duration, first.owner, first.percent_complete) == (
        "Design", Duration(2400, unit="d"), "Ana", 50.0)
    assert build.constraint is ConstraintType.SNET and build.constraint_date == dt.datetime(2026, 3, 16, 8)
    assert ship.milestone
    assert read.plan.settings.start == dt.datetime(2026, 3, 2, 8)
    assert link_facts(read.plan) == {(1, 2, LinkType.FS, 960, False, None), (2, 3, LinkType.FS, 0, False, None)}


def test_csv_problems_are_findings_at_file_row_and_column(tmp_path: Path) -> None:
    text = "ID,Task,Dur,Predecessors,% Complete\n1,Design,5d,,\n2,Build,5 dayz,1XX,150\n3,Test,2d,2,\n"
    (tmp_path / "bad.csv").write_text(text)
    read = read_csv_plan(tmp_path / "bad.csv")
    where = {f.field: f.location for f in read.findings}
    assert where == {"duration": "bad.csv row 3, column Dur", "predecessors": "bad.csv row 3, column Predecessors",
                     "percent_complete": "bad.csv row 3, column % Complete"}
    assert read.unread == {(1, "duration"): "5 dayz", (1, "predecessors"): "1XX", (1, "percent_complete"): "150"}
    out = runner.invoke(app, ["import", str(tmp_path / "bad.csv"), "-o", str(tmp_path / "bad.xlsx")])
    assert out.exit_code == 1, out.output
    assert "bad.csv row 3, column Dur" in " ".join(out.output.split())
    back = read_workbook(tmp_path / "bad.xlsx")  # what did not read is kept where the person can fix it
    located = {f.field: f.location for f in back.findings if f.task_id == 2}
    assert located["duration"] == "Tasks!F5" and located["predecessors"] == "Tasks!I5"
    assert located["percent_complete"] == "Tasks!K5"


def test_a_file_without_a_task_header_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.csv").write_text("hello,world\n1,2\n")
    with pytest.raises(CsvPlanError):
        read_csv_plan(tmp_path / "notes.csv")
    out = runner.invoke(app, ["import", str(tmp_path / "notes.csv"), "-o", str(tmp_path / "x.xlsx")])
    assert out.exit_code == 2 and "no header row" in out.output
    assert not (tmp_path / "x.xlsx").exists()


def test_import_refuses_workbooks_existing_targets_and_bad_date_orders(tmp_path: Path) -> None:
    plan = tmp_path / "plan.xlsx"
    assert runner.invoke(app, ["new", str(plan)]).exit_code == 0
    out = runner.invoke(app, ["import", str(plan), "-o", str(tmp_path / "other.xlsx")])
    assert out.exit_code == 2 and "wbs adopt" in out.output
    (tmp_path / "t.csv").write_text("ID,Task name,Duration\n1,A,1d\n")
    before = plan.read_bytes()
    assert runner.invoke(app, ["import", str(tmp_path / "t.csv"), "-o", str(plan)]).exit_code == 2
    assert plan.read_bytes() == before
    assert runner.invoke(app, ["import", str(tmp_path / "t.csv"), "-o", str(plan), "--force"]).exit_code == 0
    assert read_workbook(plan).plan.tasks[0].name == "A"
    out = runner.invoke(app, ["import", str(tmp_path / "t.csv"), "-o", str(tmp_path / "y.xlsx"),
                              "--date-order", "YDM"])
    assert out.exit_code == 2 and "date order" in out.output
    with pytest.raises(InterchangeError, match=r"\.xlsx"):
        import_plan(tmp_path / "t.csv", tmp_path / "plan.xlsm")


# --- 2. export ---------------------------------------------------------------------------------------------


def test_mspdi_export_rereads_with_the_computed_fields(tmp_path: Path) -> None:
    book = tmp_path / "plan.xlsx"
    assert runner.invoke(app, ["new", str(book), "--sample"]).exit_code == 0
    out = runner.invoke(app, ["export", str(book), "-o", str(tmp_path / "plan.xml")])
    assert out.exit_code in (0, 1), out.output
    plan, _findings = read_mspdi(tmp_path / "plan.xml")
    original = read_workbook(book).plan
    assert [(t.id, t.uid, t.name) for t in plan.tasks] == [(t.id, t.id, t.name) for t in original.tasks]
    assert link_facts(plan) == link_facts(original)
    expected = schedule(original)
    assert schedule(plan).project_finish == expected.project_finish
    ns = {"p": "http://schemas.microsoft.com/project"}
    root = etree.parse(str(tmp_path / "plan.xml")).getroot()
    by_uid = {int(t.findtext("p:UID", namespaces=ns)): t for t in root.iterfind("p:Tasks/p:Task", ns)}
    for ts in expected.tasks:
        element = by_uid[ts.uid]
        assert element.findtext("p:Start", namespaces=ns) == f"{ts.start:%Y-%m-%dT%H:%M:%S}"
        assert element.findtext("p:Finish", namespaces=ns) == f"{ts.finish:%Y-%m-%dT%H:%M:%S}"
        assert element.findtext("p:Critical", namespaces=ns) == ("1" if ts.critical else "0")
        assert element.find("p:TotalSlack", ns) is not None and element.find("p:EarlyStart", ns) is not None


def test_mspdi_export_from_mspdi_keeps_the_document(tmp_path: Path) -> None:
    files = sorted(MSPDI_A.glob("*.xml"))
    if not files:
        pytest.skip(f"MSPDI corpus not present at {MSPDI_A}")
    result = export_plan(files[0], tmp_path / "out.xml")
    assert result.kind == "mspdi"
    plan, _ = read_mspdi(tmp_path / "out.xml")
    assert [t.uid for t in plan.tasks] == [t.uid for t in read_mspdi(files[0])[0].tasks]


def hostile_plan() -> Plan:
    """Hostile names, and a constraint that gives negative slack (numbers starting with '-')."""
    start = dt.datetime(2026, 1, 5, 8)
    tasks = [Task(i + 1, name, duration=Duration(480 * 2)) for i, name in enumerate(HOSTILE)]
    tasks[-1].constraint, tasks[-1].constraint_date = ConstraintType.MFO, dt.datetime(2026, 1, 6, 17)
    links = [Link(i, i + 1) for i in range(1, len(HOSTILE))]
    return Plan(Settings(start=start), tasks, links)


def test_csv_export_escapes_formula_injection_and_keeps_numbers(tmp_path: Path) -> None:
    plan = hostile_plan()
    write_csv_plan(schedule(plan), tmp_path / "out.csv")
    raw = (tmp_path / "out.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    header = rows[0]
    names = [row[header.index("Task name")] for row in rows[1:]]
    assert names == ["'" + name for name in HOSTILE]
    for row in rows[1:]:
        for cell in row:
            assert not cell.startswith(("=", "+", "@", "\t", "\r")), cell
            assert not cell.startswith("-") or float(cell) < 0, cell  # only numbers may start with '-'
    slack = [row[header.index("Total slack (d)")] for row in rows[1:]]
    assert any(s.startswith("-") for s in slack) and all(float(s) == float(s) for s in slack)
    back = read_csv_plan(tmp_path / "out.csv")
    assert [t.name for t in back.plan.tasks] == [n.strip() for n in HOSTILE]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1,
               max_size=30).map(str.strip).filter(lambda s: s and not s.startswith("#")))
@example(',0"').via("doubled quotes the CSV sniffer misread")
@example("'@").via("an apostrophe typed before a formula trigger")
def test_any_name_survives_csv_escaping(tmp_path: Path, name: str) -> None:
    assert unescape_cell(str(escape_cell(name))) == name
    plan = Plan(Settings(start=dt.datetime(2026, 1, 5, 8)), [Task(1, name, duration=Duration(480))])
    write_csv_plan(schedule(plan), tmp_path / "one.csv")
    assert read_csv_plan(tmp_path / "one.csv").plan.tasks[0].name == name


def test_csv_rows_put_every_link_in_predecessors() -> None:
    plan = Plan(Settings(start=dt.datetime(2026, 1, 5, 8)), [Task(1, "A", duration=Duration(480)),
                                                              Task(2, "B", duration=Duration(480))],
                [Link(1, 2, LinkType.SS, parse_lag("1d"), origin="Dependencies!A4")])
    rows = csv_rows(schedule(plan))
    assert rows[2][rows[0].index("Predecessors")] == "1SS+1d"


def test_export_exit_codes(tmp_path: Path) -> None:
    book = tmp_path / "plan.xlsx"
    assert runner.invoke(app, ["new", str(book), "--sample"]).exit_code == 0
    assert runner.invoke(app, ["export", str(book), "-o", str(tmp_path / "x.txt")]).exit_code == 2
    as_csv = runner.invoke(app, ["export", str(book), "-o", str(tmp_path / "x.txt"), "--format", "csv"])
    assert as_csv.exit_code in (0, 1) and (tmp_path / "x.txt").read_text(encoding="utf-8-sig").startswith("ID,")
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"PK\x03\x04 not really a zip")
    out = runner.invoke(app, ["export", str(junk), "-o", str(tmp_path / "j.csv")])
    assert out.exit_code == 2 and not (tmp_path / "j.csv").exists()
    loop = tmp_path / "loop.csv"
    loop.write_text("ID,Task name,Duration,Predecessors\n1,A,1d,2\n2,B,1d,1\n")
    assert runner.invoke(app, ["import", str(loop), "-o", str(tmp_path / "loop.xlsx")]).exit_code == 1
    assert runner.invoke(app, ["export", str(tmp_path / "loop.xlsx"), "-o", str(tmp_path / "l.csv")]).exit_code == 1


def test_every_command_is_documented() -> None:
    page = (Path(__file__).resolve().parents[1] / "docs" / "commands.md").read_text()
    for command in app.registered_commands:
        assert f"## wbs {command.name}" in page and f"| `{command.name}` |" in page, command.name

"""Reading plan workbooks as people leave them: moved headers, synonyms, junk, errors and formulas."""

from __future__ import annotations

import datetime as dt
import re
import tempfile
import zipfile
from pathlib import Path

import pytest
import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wbs_tools.core.cpm import schedule
from wbs_tools.core.findings import FINDING_CODES, Finding, Severity
from wbs_tools.core.model import Duration, Lag, Link, LinkType, WorkingTime
from wbs_tools.workbook.reader import TableLocation, WorkbookData, WorkbookError, read_workbook

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "workbook_templates" / "sample_plan.xlsx"
D = 480.0
CELL = re.compile(r"[^!]+![A-Z]{1,3}[1-9][0-9]*")
MONDAY = dt.datetime(2026, 3, 2, 8)


class Formula:
    """A formula cell with the value Excel cached for it (what calamine reads)."""

    def __init__(self, formula: str, value: object) -> None:
        self.formula, self.value = formula, value


def error(code: str = "#REF!") -> Formula:
    return Formula("=#REF!+1" if code == "#REF!" else "=1/0", code)


Rows = list[list[object]]


def write_book(path: Path, sheets: dict[str, Rows], *, merges: dict[str, list[str]] | None = None,
               indents: dict[str, dict[tuple[int, int], int]] | None = None) -> Path:
    """A workbook whose sheets hold ``rows`` from A1 (None = no cell); dates get a date format."""
    book = xlsxwriter.Workbook(str(path))
    date_format = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    indent_formats = {n: book.add_format({"indent": n}) for n in range(1, 6)}
    for name, rows in sheets.items():
        sheet = book.add_worksheet(name)
        for ref in (merges or {}).get(name, []):
            top_left = ref.split(":")[0]
            row, col = xlsxwriter.utility.xl_cell_to_rowcol(top_left)
            value = rows[row][col] if row < len(rows) and col < len(rows[row]) else ""
            sheet.merge_range(ref, value, None)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                indent = (indents or {}).get(name, {}).get((r, c))
                fmt = indent_formats[indent] if indent else None
                if value is None or any(ref.split(":")[0] == xlsxwriter.utility.xl_rowcol_to_cell(r, c)
                                        for ref in (merges or {}).get(name, [])):
                    continue
                if isinstance(value, Formula):
                    sheet.write_formula(r, c, value.formula, fmt, value.value)
                elif isinstance(value, bool):
                    sheet.write_boolean(r, c, value, fmt)
                elif isinstance(value, (dt.date, dt.time)):
                    sheet.write_datetime(r, c, value, date_format)
                elif isinstance(value, (int, float)):
                    sheet.write_number(r, c, value, fmt)
                else:
                    sheet.write_string(r, c, str(value), fmt)
    book.close()
    return path


def tasks_sheet(header: list[str], *rows: list[object]) -> Rows:
    """A Tasks sheet laid out like the template: title, guidance, header in row 3."""
    return [["Tasks"], ["Type the white columns"], list(header), *[list(r) for r in rows]]


def settings_sheet(**values: object) -> Rows:
    labels = {"start": "Project start", "order": "Date order", "status": "Status date"}
    rows: Rows = [["Settings"], [], ["Setting", "Value", "Note"]]
    rows += [[labels.get(key, key.replace("_", " ").capitalize()), value] for key, value in values.items()]
    return rows


def read(tmp_path: Path, sheets: dict[str, Rows], **kwargs: object) -> WorkbookData:
    return read_workbook(write_book(tmp_path / "plan.xlsx", sheets, **kwargs))  # type: ignore[arg-type]


def codes(data: WorkbookData) -> list[str]:
    return [f.code for f in data.findings]


def located(findings: list[Finding]) -> None:
    for f in findings:
        assert f.location is not None and CELL.fullmatch(f.location), f


BASIC = ["ID", "Task name", "Duration", "Predecessors"]


# -- tables found where they are -------------------------------------------------------------------
def test_reads_a_plain_tasks_sheet_with_cells_and_links(tmp_path: Path) -> None:
    data = read(tmp_path, {"Tasks": tasks_sheet(BASIC, [1, "Design", "3 days"], [2, "Build", 2.5, "1"],
                                                [4, "Test", "1w", "2FS+2;1SS"]),
                           "Settings": settings_sheet(start=MONDAY)})
    assert data.findings == []
    design, build, test = data.plan.tasks
    assert (design.duration, build.duration, test.duration) == (Duration(3 * D), Duration(2.5 * D),
                                                                Duration(5 * D, unit="w"))
    assert test.cells["duration"] == "Tasks!C6" and build.cells["id"] == "Tasks!A5"
    assert data.plan.links == [Link(1, 2, origin="Tasks!D5"),
                               Link(2, 4, LinkType.FS, Lag(Duration(2 * D)), "Tasks!D6"),
                               Link(1, 4, LinkType.SS, origin="Tasks!D6")]
    assert data.cells["Tasks"] == TableLocation("Tasks", 3, {"id": 1, "name": 2, "duration": 3, "predecessors": 4},
                                                   4, 6)
    assert data.link_sources == {(1, 2): ("Tasks",), (2, 4): ("Tasks",), (1, 4): ("Tasks",)}
    assert data.plan.settings.start == MONDAY


def test_headers_in_another_row_order_and_spelling(tmp_path: Path) -> None:
    rows: Rows = [["Northwind plan"], [], ["Printed 3 March"], [], [],
                  [None, "Dur", "RAG", "Task", "Nr", "Pred.", "% Done", "Cost centre", "Lvl"],
                  [None, "2d", "Green", "Phase", 10, None, 0.5, "CC-1", 1],
                  [None, "4", "Red", "Work", 11, "10", "50%", "CC-2", 2]]
    data = read(tmp_path, {"Tasks": rows})
    assert data.findings == []
    table = data.cells["Tasks"]
    assert (table.header_row, table.first_row, table.last_row) == (6, 7, 8)
    assert table.columns == {"duration": 2, "name": 4, "id": 5, "predecessors": 6, "percent_complete": 7,
                             "outline_level": 9}
    phase, work = data.plan.tasks
    assert (phase.id, phase.name, phase.percent_complete, work.percent_complete) == (10, "Phase", 50.0, 50.0)
    assert (phase.outline_level, work.outline_level) == (1, 2)
    assert work.cells == {"duration": "Tasks!B8", "name": "Tasks!D8", "id": "Tasks!E8", "predecessors": "Tasks!F8",
                          "percent_complete": "Tasks!G8", "outline_level": "Tasks!I8"}
    assert data.plan.links == [Link(10, 11, origin="Tasks!F8")]


def test_a_renamed_sheet_is_found_by_its_header(tmp_path: Path) -> None:
    data = read(tmp_path, {"Cover": [["Project X"]], "WBS": tasks_sheet([*BASIC, "Owner"], [1, "A", 1, None, "Jo"])})
    assert data.cells["Tasks"].sheet == "WBS"
    assert data.plan.tasks[0].cells["owner"] == "WBS!E4" and data.plan.tasks[0].owner == "Jo"


@pytest.mark.parametrize("name", ["TASKS", "Task s", "Plan"])
def test_the_tasks_sheet_by_any_spelling_or_by_header(tmp_path: Path, name: str) -> None:
    data = read(tmp_path, {"Notes": [["ID", "Task name", "Owner"]], name: tasks_sheet(BASIC, [1, "A", 1])})
    assert data.cells["Tasks"].sheet == name and data.plan.tasks[0].cells["id"] == f"{name}!A4"


def test_tables_stacked_on_one_sheet_stop_at_the_next_header(tmp_path: Path) -> None:
    calendar: Rows = [["Calendar", "Day", "Working?", "From", "To"], ["Standard", "Saturday", "Yes", "09:00", "13:00"],
                      [], ["Calendar", "Date", "Name", "Working?"], [None, "2026-03-04", "Outing", "No"]]
    data = read(tmp_path, {"Tasks": tasks_sheet(BASIC, [1, "A", 1]), "Calendar": calendar})
    assert data.cells["Calendar"].last_row == 2 and data.cells["tblHolidays"].first_row == 5
    assert data.plan.calendars["Standard"].week[5] == (WorkingTime(540, 780),)
    assert data.plan.calendars["Standard"].exceptions == {dt.date(2026, 3, 4): ()} and data.findings == []


def test_a_runaway_used_range_is_read_in_part_and_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("wbs_tools.workbook.reader_tables.MAX_CELLS", 40)
    data = read(tmp_path, {"Tasks": tasks_sheet(BASIC, *([n, f"T{n}", 1] for n in range(1, 30)))})
    assert 0 < len(data.plan.tasks) < 29
    assert [f.location for f in data.findings] == ["Tasks!D32"] and "stray" in data.findings[0].message


def test_blank_decorative_and_section_rows(tmp_path: Path) -> None:
    data = read(tmp_path, {"Tasks": tasks_sheet([*BASIC, "Notes", "Start"],
                                                [], ["", "  "], [None, "PHASE ONE"], [5, "Design", "1d"],
                                                [None, None, None, None, "see the wiki"],
                                                [None, None, None, None, None, dt.datetime(2026, 1, 1)],
                                                [7, "Build", "2d", "5"], [], [])})
    assert [(t.id, t.name) for t in data.plan.tasks] == [(8, "PHASE ONE"), (5, "Design"), (7, "Build")]
    assert sorted((f.location, f.code) for f in data.findings) == [("Tasks!A6", "task.no-id"),
                                                                   ("Tasks!E8", code_of("row.ignored"))]
    assert data.cells["Tasks"].last_row == 10


def code_of(code: str) -> str:
    """The code a finding carries (every code the reader uses is registered)."""
    assert code in FINDING_CODES
    return code


def test_durations_predecessors_and_bad_entries(tmp_path: Path) -> None:
    data = read(tmp_path, {"Tasks": tasks_sheet(BASIC, [1, "A", "3 days"], [2, "B", "2.5"], [3, "C", "1w"],
                                                [4, "D", "3 dyas", "1XX+2; 99"], [5, "E", "-2d", "4FS+2"])})
    durations = [t.duration.minutes if t.duration else None for t in data.plan.tasks]
    assert durations == [3 * D, 2.5 * D, 5 * D, None, 0.0]
    assert [(f.code, f.location) for f in data.findings] == [
        ("task.bad-duration", "Tasks!C7"), ("link.bad-syntax", "Tasks!D7"), ("task.negative-duration", "Tasks!C8")]
    assert "3 dyas" in str(data.findings[0]) and str(data.findings[0]).startswith("Tasks!C7: task 4")
    assert data.plan.links == [Link(99, 4, origin="Tasks!D7"),
                               Link(4, 5, LinkType.FS, Lag(Duration(2 * D)), "Tasks!D8")]
    found = schedule(data.plan).findings
    assert [(f.code, f.location) for f in found if f.code.startswith("link.")] == [("link.unknown-task", "Tasks!D7")]


def test_excel_error_cells_are_reported_and_treated_as_empty(tmp_path: Path) -> None:
    data = read(tmp_path, {"Tasks": tasks_sheet([*BASIC, "Owner"], [1, "A", error(), None, error("#DIV/0!")],
                                                [2, error("#N/A"), "1d", error()])})
    a, b = data.plan.tasks
    assert a.duration is None and a.owner is None and b.name == "" and data.plan.links == []
    where = [(f.location, f.severity) for f in data.findings]
    assert where == [("Tasks!C4", Severity.ERROR), ("Tasks!E4", Severity.ERROR), ("Tasks!B5", Severity.ERROR),
                     ("Tasks!D5", Severity.ERROR)]
    assert "#REF!" in str(data.findings[0]) and "#DIV/0!" in str(data.findings[1])


def test_formula_cells_give_their_cached_values(tmp_path: Path) -> None:
    data = read(tmp_path, {"Tasks": tasks_sheet(BASIC, [1, Formula('="Plan "&"A"', "Plan A"), Formula("=2+3", 5)],
                                                [2, "B", "1d", Formula("=A4", 1)])})
    assert data.plan.tasks[0].name == "Plan A" and data.plan.tasks[0].duration == Duration(5 * D)
    assert data.plan.links == [Link(1, 2, origin="Tasks!D5")]


def test_merged_cells_keep_their_value_in_the_top_left_cell(tmp_path: Path) -> None:
    rows = tasks_sheet([*BASIC, "Owner"], [1, "Phase one spans the row", None, None, None], [2, "Work", "2d"])
    data = read(tmp_path, {"Tasks": rows}, merges={"Tasks": ["B4:E4"]})
    phase, work = data.plan.tasks
    assert (phase.name, phase.duration, phase.owner, work.name) == ("Phase one spans the row", None, None, "Work")
    assert data.findings == []


@pytest.mark.parametrize(("order", "expected"), [("DMY", dt.datetime(2026, 3, 2, 8)),
                                                 ("MDY", dt.datetime(2026, 2, 3, 8))])
def test_text_dates_follow_the_date_order_setting(tmp_path: Path, order: str, expected: dt.datetime) -> None:
    header = [*BASIC, "Constraint type", "Constraint date", "Deadline"]
    data = read(tmp_path, {"Tasks": tasks_sheet(header, [1, "A", "1d", None, "SNET", "02/03/2026", "28/02/2026"]),
                           "Settings": settings_sheet(order=order)})
    task = data.plan.tasks[0]
    assert (task.constraint_date, task.deadline) == (expected, dt.datetime(2026, 2, 28, 17))  # 28 is no month
    assert data.findings == []


def test_an_ambiguous_date_is_reported_when_no_order_is_set(tmp_path: Path) -> None:
    header = [*BASIC, "Actual start", "Actual finish"]
    data = read(tmp_path, {"Tasks": tasks_sheet(header, [1, "A", "2d", None, "02/03/2026", "2026-03-04"])})
    task = data.plan.tasks[0]
    assert task.actual_start is None and task.actual_finish == dt.datetime(2026, 3, 4, 17)
    assert [(f.code, f.location, f.field) for f in data.findings] == [
        ("task.ambiguous-date", "Tasks!E4", "actual_start")]


def test_blank_text_reads_as_an_empty_cell(tmp_path: Path) -> None:
    """Spaces typed in a cell are no value: the task reads as if the cell were empty, with no finding."""
    header = ["ID", "Task name", "Duration", "Owner", "Notes", "Predecessors"]
    data = read(tmp_path, {"Tasks": tasks_sheet(header, [1, "A", "2", "   ", "\u3000", None],
                                                [2, "B", " ", "Ann", "n", "1 "])})
    a, b = data.plan.tasks
    assert (a.owner, a.notes, a.duration) == (None, None, Duration(2 * D))
    assert (b.owner, b.notes, b.duration) == ("Ann", "n", None)
    assert [(link.predecessor, link.successor) for link in data.plan.links] == [(1, 2)]
    assert data.findings == []


def test_numbers_typed_as_text(tmp_path: Path) -> None:
    header = ["ID", "Task name", "Duration", "% Complete", "Budget cost", "Outline level", "Actual cost"]
    data = read(tmp_path, {"Tasks": tasks_sheet(header, ["3", "A", "2.5", "50", "1,200", "1", "£1,200.50"],
                                                [" 4.0 ", "B", "1", "12,5%", "300", "2", 7])})
    a, b = data.plan.tasks
    assert (a.id, a.duration, a.percent_complete, a.cost, a.actual_cost) == (3, Duration(2.5 * D), 50.0, 1200.0,
                                                                              1200.5)
    assert (b.id, b.outline_level, b.percent_complete, b.actual_cost) == (4, 2, 12.5, 7.0)
    assert data.findings == []


def test_percent_columns_of_fractions_or_of_whole_percentages(tmp_path: Path) -> None:
    header = ["ID", "Name", "Dur", "%"]
    fractions = read(tmp_path, {"Tasks": tasks_sheet(header, [1, "A", 1, 0.5], [2, "B", 1, 1.0])})
    assert [t.percent_complete for t in fractions.plan.tasks] == [50.0, 100.0]
    whole = read(tmp_path, {"Tasks": tasks_sheet(header, [1, "A", 1, 50], [2, "B", 1, 1], [3, "C", 1, 250])})
    assert [t.percent_complete for t in whole.plan.tasks] == [50.0, 1.0, 0.0]
    assert [(f.code, f.location) for f in whole.findings] == [("task.bad-percent", "Tasks!D6")]


def test_outline_levels_from_wbs_codes_and_from_indentation(tmp_path: Path) -> None:
    by_wbs = read(tmp_path, {"Tasks": tasks_sheet(["ID", "WBS", "Task name"], [1, "1", "P"], [2, "1.1", "A"],
                                                  [3, "1.1.1.", "B"], [4, 2, "Q"])})
    assert [t.outline_level for t in by_wbs.plan.tasks] == [1, 2, 3, 1]
    assert by_wbs.plan.tasks[1].cells["outline_level"] == "Tasks!B5"
    indented = read(tmp_path, {"Tasks": tasks_sheet(["ID", "Task name"], [1, "P"], [2, "A"], [3, "B"], [4, "Q"])},
                    indents={"Tasks": {(4, 1): 1, (5, 1): 2}})
    assert [t.outline_level for t in indented.plan.tasks] == [1, 2, 3, 1]
    assert indented.plan.tasks[2].cells["outline_level"] == "Tasks!B6"
    bad = read(tmp_path, {"Tasks": tasks_sheet(["ID", "Name", "Level", "Dur"], [1, "P", "x", 1], [2, "A", 0, 1])})
    assert [f.location for f in bad.findings] == ["Tasks!C4", "Tasks!C5"]


# -- structure problems ----------------------------------------------------------------------------
def test_a_missing_required_column_is_named_and_the_rest_reads(tmp_path: Path) -> None:
    data = read(tmp_path, {"Tasks": tasks_sheet(["ID", "Task name", "Predecessors"], [1, "A"], [2, "B", "1"])})
    assert [t.duration for t in data.plan.tasks] == [None, None] and len(data.plan.links) == 1
    (missing,) = data.findings
    assert missing.location == "Tasks!A3" and missing.field == "duration" and "'Duration' column" in missing.message
    assert missing.severity is Severity.ERROR


def test_no_id_column_numbers_the_rows(tmp_path: Path) -> None:
    data = read(tmp_path, {"Tasks": tasks_sheet(["Task name", "Duration"], ["A", "1d"], ["B", "2d"])})
    assert [t.id for t in data.plan.tasks] == [1, 2]
    assert [(f.field, f.location) for f in data.findings] == [("id", "Tasks!A3")]


def test_a_deleted_header_row_is_a_finding_not_a_crash(tmp_path: Path) -> None:
    data = read(tmp_path, {"Tasks": [["Tasks"], [], [1, "Design", "3d"], [2, "Build", "2d", "1"]]})
    assert data.plan.tasks == [] and "Tasks" not in data.cells
    assert [(f.location, f.severity) for f in data.findings] == [("Tasks!A1", Severity.ERROR)]
    assert "header" in data.findings[0].message


def test_a_workbook_without_a_tasks_sheet(tmp_path: Path) -> None:
    data = read(tmp_path, {"Notes": [["nothing here"]]})
    assert data.plan.tasks == [] and len(data.findings) == 1 and "Tasks" in data.findings[0].message


OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600  # an encrypted workbook or an old .xls


@pytest.mark.parametrize("content", [b"just text", OLE2, b"PK\x03\x04junk"])
def test_files_that_are_not_workbooks_raise_workbook_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.xlsx"
    path.write_bytes(content)
    with pytest.raises(WorkbookError):
        read_workbook(path)


def test_a_zip_that_is_not_a_workbook_or_is_truncated(tmp_path: Path) -> None:
    other = tmp_path / "other.xlsx"
    with zipfile.ZipFile(other, "w") as zf:
        zf.writestr("hello.txt", "hi")
    good = write_book(tmp_path / "good.xlsx", {"Tasks": tasks_sheet(BASIC, [1, "A", "1d"])})
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    for path in (other, cut, tmp_path / "missing.xlsx"):
        with pytest.raises(WorkbookError):
            read_workbook(path)


# -- the other sheets ------------------------------------------------------------------------------
def test_dependencies_sheet_adds_links_and_skips_mirrored_rows(tmp_path: Path) -> None:
    deps: Rows = [["Dependencies"], [], ["Predecessor ID", "Successor ID", "Type", "Lag", "Source", "Note"],
                  [1, 3, "SS", "2d", None, "shared kit"], ["2", 3, "finish-to-start", None],
                  [1, 2, None, None, "Tasks"], [1, 3, "XX"], [None, 3], [], [None, None, None, None, None, "aside"]]
    data = read(tmp_path, {"Tasks": tasks_sheet(BASIC, [1, "A", "1d"], [2, "B", "1d", "1"], [3, "C", "1d"]),
                           "Dependencies": deps})
    assert data.plan.links == [Link(1, 2, origin="Tasks!D5"),
                               Link(1, 3, LinkType.SS, Lag(Duration(2 * D)), "Dependencies!A4"),
                               Link(2, 3, origin="Dependencies!A5")]
    assert data.link_sources == {(1, 2): ("Tasks",), (1, 3): ("Dependencies",), (2, 3): ("Dependencies",)}
    assert [(f.code, f.location) for f in data.findings] == [("link.bad-syntax", "Dependencies!C7"),
                                                            ("link.bad-syntax", "Dependencies!A8")]


def test_calendar_sheet_holiday_moves_a_task(tmp_path: Path) -> None:
    week: Rows = [["Calendar"], [], ["Calendar", "Day", "Working?", "From", "To", "From 2", "To 2"]]
    for n, day in enumerate(("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")):
        week.append(["Standard", day, "Yes" if n < 5 else "No", dt.time(9), dt.time(17), None, None])
    sheets = {"Tasks": tasks_sheet(BASIC, [1, "A", "4d"]), "Calendar": week,
              "Settings": settings_sheet(start=dt.datetime(2026, 3, 2, 8), order="DMY")}
    plain = read(tmp_path, sheets)
    assert plain.findings == [] and plain.plan.calendars["Standard"].exceptions == {}
    holidays: Rows = [[None, "Calendar", "Date", "Name", "Working?"],
                      [None, "Standard", dt.date(2026, 3, 4), "Works outing", "No"],
                      [None, None, "07/03/2026", "Saturday push", "Yes"],
                      [None, "Nowhere", dt.date(2026, 3, 9), "?", "No"]]
    for row, extra in zip(week[2:], holidays, strict=False):
        row.extend(extra)
    data = read(tmp_path, sheets)
    standard = data.plan.calendars["Standard"]
    assert standard.week[0] == (WorkingTime(540, 1020),) and 5 not in standard.week
    assert standard.exceptions == {dt.date(2026, 3, 4): (), dt.date(2026, 3, 7): (WorkingTime(540, 1020),)}
    assert [(f.location, f.field) for f in data.findings] == [("Calendar!I6", "calendar")]
    assert data.cells["tblHolidays"] == TableLocation("Calendar", 3, {"calendar": 9, "date": 10, "name": 11,
                                                                      "working": 12}, 4, 6)
    assert data.cells["Calendar"].last_row == 10
    assert schedule(plain.plan).tasks[0].finish == dt.datetime(2026, 3, 5, 17)
    assert schedule(data.plan).tasks[0].finish == dt.datetime(2026, 3, 6, 17)


def test_settings_values_and_bad_settings(tmp_path: Path) -> None:
    rows = settings_sheet(start="2026-03-02", status="next fri", hours_per_day=10, hours_per_week="fifty",
                          critical_slack_threshold=2, multiple_critical_paths="Yes", calendar_country="ZZ",
                          currency="GBP", sla_days_high=5)
    rows.insert(4, ["Status date", "2026-03-06"])  # the first row of a setting wins
    data = read(tmp_path, {"Tasks": tasks_sheet(BASIC, [1, "A", "1d"]), "Settings": rows})
    s = data.plan.settings
    assert (s.start, s.status_date) == (dt.datetime(2026, 3, 2, 8), dt.datetime(2026, 3, 6, 17))
    assert (s.minutes_per_day, s.minutes_per_week, s.critical_slack_minutes) == (600, 2400, 1200.0)
    assert s.multiple_critical_paths and s.currency == "GBP" and data.plan.calendars["Standard"].country is None
    assert data.settings_extra["sla_days_high"] == 5 and data.settings_extra["sla_days_low"] == 30
    assert [(f.code, f.location) for f in data.findings] == [("settings.bad-value", "Settings!B8"),
                                                            ("calendar.unknown-country", "Settings!B11")]
    assert data.setting_cells["currency"] == "Settings!B12"


def test_settings_without_a_header_and_a_known_country(tmp_path: Path) -> None:
    rows: Rows = [[None, "Project name", "Migration"], [None, "Calendar country", "gb"],
                  [None, "Calendar subdivision", "ENG"], [None, "Date order", "DMY"]]
    data = read(tmp_path, {"Tasks": tasks_sheet(BASIC, [1, "A", "1d"]), "Settings": rows})
    assert data.plan.settings.project_name == "Migration" and data.plan.settings.day_first
    assert (data.plan.calendars["Standard"].country, data.plan.calendars["Standard"].subdivision) == ("GB", "ENG")
    assert data.findings == [] and data.setting_cells["date_order"] == "Settings!C4"


def test_registers_keep_raw_values_rows_and_cells(tmp_path: Path) -> None:
    actions: Rows = [["Action Items"], [], ["ID", "Action", "Owner", "Due date", "Status", "My column"],
                     ["A-1", "Send the list", "Tom", dt.date(2026, 3, 4), "Open", "x"], [],
                     [7, "Chase", error(), "next week", "Done"]]
    data = read(tmp_path, {"Tasks": tasks_sheet(BASIC, [1, "A", "1d"]), "Action Items": actions})
    first, second = data.registers["Action Items"]
    assert first == {"_row": 4, "id": "A-1", "action": "Send the list", "owner": "Tom",
                     "due_date": dt.date(2026, 3, 4), "status": "Open"}
    assert second["_row"] == 6 and second["id"] == 7 and second["owner"] is None and second["due_date"] == "next week"
    assert data.registers["Issue Log"] == [] and data.locate("Action Items", 6, "status") == "Action Items!E6"
    assert [f.location for f in data.findings] == ["Action Items!C6"]


# -- robustness and the sample ---------------------------------------------------------------------
JUNK = st.one_of(
    st.none(), st.text(st.characters(codec="utf-8"), max_size=12),
    st.sampled_from(["3d", "2FS+1d", "1;2", "#REF!", "50%", "02/03/2026", "-1", "1.5.2", "Yes", "SNET", "999"]),
    st.integers(-10**6, 10**6), st.floats(-1e12, 1e12, allow_nan=False), st.booleans(),
    st.datetimes(dt.datetime(1900, 3, 1), dt.datetime(2200, 12, 31)),
    st.builds(error, st.sampled_from(["#REF!", "#N/A"])),
)
JUNK_HEADER = ["ID", "WBS", "Outline level", "Task name", "Duration", "Predecessors", "% Complete", "Constraint type",
               "Constraint date", "Deadline", "Calendar", "Actual start", "Actual finish", "Baseline duration",
               "Budget cost"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(JUNK, min_size=len(JUNK_HEADER), max_size=len(JUNK_HEADER)), min_size=1, max_size=6),
       st.sampled_from(["DMY", "MDY", "YMD", "junk"]))
def test_random_junk_in_input_cells_never_raises(rows: list[list[object]], order: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        data = read_workbook(write_book(Path(folder) / "junk.xlsx", {
            "Tasks": tasks_sheet(JUNK_HEADER, *rows), "Settings": settings_sheet(start=MONDAY, order=order)}))
    located(data.findings)
    for task in data.plan.tasks:
        assert set(task.cells) <= {k for k in data.cells["Tasks"].columns}
        assert all(CELL.fullmatch(where) for where in task.cells.values())
    assert all(link.origin and CELL.fullmatch(link.origin) for link in data.plan.links)


@pytest.mark.skipif(not SAMPLE.exists(), reason="the sample workbook is not built")
def test_the_sample_workbook_reads_as_the_sample_plan() -> None:
    from wbs_tools.workbook.sample import sample_plan

    data = read_workbook(SAMPLE)
    expected = sample_plan()
    assert data.findings == [] and len(data.plan.tasks) == len(expected.tasks)
    for got, want in zip(data.plan.tasks, expected.tasks, strict=True):
        got.cells = {}
        assert got == want
    assert sorted(data.plan.links, key=repr) == sorted(expected.links, key=repr)
    assert data.plan.settings == expected.settings and data.plan.calendars == expected.calendars
    assert not [f for f in schedule(data.plan).findings if f.severity is Severity.ERROR]
    assert data.registers["Action Items"][0]["id"] == "A-001" and data.plan.tasks[0].cells == {}


_ENTRIES = st.lists(st.tuples(st.integers(0, 10**6), st.sampled_from(["", "FS", "ss", "FF+2d", "SF-1d", "FS+50%"]),
                              st.sampled_from(["", " "])), min_size=1, max_size=5)


@settings(max_examples=300, deadline=None)
@given(_ENTRIES, st.sampled_from([";", "; ", "\n", ";\r\n"]))
def test_predecessor_cells_read_as_the_full_parser_reads_them(entries: list[tuple[int, str, str]],
                                                               separator: str) -> None:
    """The reader's shortcuts (an ID alone, a tail parsed once per distinct text) give the links the
    full predecessor parser gives, in order."""
    from wbs_tools.core.parsing import parse_predecessors
    from wbs_tools.workbook.reader_links import Units, predecessor_entries

    text = separator.join(f"{space}{task}{tail}" for task, tail, space in entries)
    links, errors = parse_predecessors(text, 0)
    assert predecessor_entries(text, Units(480, 2400, 20)) == ([(k.predecessor, k.type, k.lag) for k in links], errors)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-5, 10**18), st.booleans(),
                 st.integers(0, 10**6).map(float)))
def test_a_number_typed_as_a_predecessor_reads_as_the_full_parser_reads_it(value: float | int | bool) -> None:
    """A single ID typed in a General cell arrives as a number; the shortcut for it gives what the
    full parser gives, including the findings for 2.5, -1, TRUE or infinity."""
    from wbs_tools.core.parsing import parse_predecessors
    from wbs_tools.workbook.reader_links import Units, predecessor_entries

    links, errors = parse_predecessors(value, 0)
    assert predecessor_entries(value, Units(480, 2400, 20)) == ([(k.predecessor, k.type, k.lag) for k in links],
                                                                errors)

"""Refreshing workbooks as people really fill them: junk in input cells, duplicate IDs, rows out of
order, a deleted header row.

Bad input is normal input: no exception may escape ``refresh_workbook``, each finding names the cell
("Tasks!F12") to fix, no typed cell changes and every task still gets the engine's dates. The tests
at the end pin, one each, inputs that once broke those promises; a bug still open is marked
``xfail(strict=True)``, so its fix turns into a failure that asks for the marker to go.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from python_calamine import CalamineWorkbook

from test_refresh import assert_inputs_unchanged, grid, value_at
from wbs_tools.core.model import Plan
from wbs_tools.core.schedule import TaskSchedule
from wbs_tools.refresh import Outcome, RefreshResult, refresh_workbook
from wbs_tools.workbook.computed import column_letter, row_of
from wbs_tools.workbook.layout import DATE, DATETIME, DEPENDENCIES, LAYOUTS, TASKS
from wbs_tools.workbook.lossless import CellValue, write_workbook
from wbs_tools.workbook.plan_rows import sheet_rows
from wbs_tools.workbook.reader import read_workbook
from wbs_tools.workbook.sample import sample_plan, sample_registers
from wbs_tools.workbook.template import build_workbook

LOCATION = re.compile(r"^(?P<sheet>'[^']+'|[^'!]+)!\$?[A-Z]{1,3}\$?[1-9]\d*$")
FIRST, LAST = TASKS.header_row + 1, TASKS.header_row + 60  # the sample's 60 task rows
TASK_INPUTS = tuple(c.key for c in TASKS.columns if not c.computed)
DATE_KEYS = frozenset(c.key for c in TASKS.columns if not c.computed and c.number_format in (DATE, DATETIME))
LINK_INPUTS = ("predecessor_id", "successor_id", "type", "lag")
JUNK = ("next Tue", "3 days", "4FS+2", "#REF!", "=1+1", "", " ", "日本語 ✓ \u202e", "ASAP", "TRUE", "#N/A",
        "50 %", "1.2.3", "-3", "0x10", "yesterday", "FS", "3;;;4", "1SS-2d", "  7  ", "Must Finish On", "\t\n",
        "½", "٣", "=SUM(A1:A3)", "'5", "1;1;1", "0d", "-0", "NaN", "inf")

junk_text = st.sampled_from(JUNK) | st.text(st.characters(exclude_categories=("Cs",)), max_size=30)
small_numbers = st.integers(-1000, 1000) | st.floats(-1000, 1000, allow_nan=False)
huge_numbers = st.sampled_from([10**15, -(10**15), 2**53, 1e300, -1e300, 1e-300, 99_999_999])
# Any serial a date cell holds, 1900 to 9999 (and a little either side); only large negative numbers
# are left out: python-calamine cannot read such a sheet at all (see the test below).
dates = st.floats(-1000, 2_958_466) | st.datetimes(dt.datetime(1900, 1, 1), dt.datetime(9999, 12, 31))


def value_for(key: str) -> st.SearchStrategy[CellValue]:
    if key in DATE_KEYS:
        return junk_text | dates
    return junk_text | small_numbers | huge_numbers | st.booleans()


@dataclass(frozen=True)
class Mess:
    """Cell edits on the sample (sheet -> ref -> value) and which task IDs they made ambiguous."""

    edits: Mapping[str, Mapping[str, CellValue]]
    label: str


@st.composite
def messes(draw: st.DrawFn) -> Mess:
    tasks: dict[str, CellValue] = {}
    labels = []
    if draw(st.booleans()):  # half-sorted: a block of rows in another order
        first = draw(st.integers(FIRST, LAST - 2))
        block = list(range(first, min(LAST, first + draw(st.integers(2, 30))) + 1))
        order = draw(st.permutations(block))
        for target, source in zip(block, order, strict=True):
            for key in TASK_INPUTS:
                tasks[f"{letter(key)}{target}"] = original(source, key)
        labels.append(f"rows {block[0]}-{block[-1]} shuffled")
    if draw(st.booleans()):  # one ID typed twice
        a, b = draw(st.lists(st.integers(FIRST, LAST), min_size=2, max_size=2, unique=True))
        tasks[f"{letter('id')}{b}"] = original(a, "id")
        labels.append(f"row {b} takes the ID of row {a}")
    for _ in range(draw(st.integers(0, 8))):
        key = draw(st.sampled_from(TASK_INPUTS))
        tasks[f"{letter(key)}{draw(st.integers(FIRST, LAST))}"] = draw(value_for(key))
    links: dict[str, CellValue] = {}
    for _ in range(draw(st.integers(0, 3))):
        key = draw(st.sampled_from(LINK_INPUTS))
        column = column_letter(DEPENDENCIES.column_number(key))
        links[f"{column}{draw(st.integers(DEPENDENCIES.header_row + 1, DEPENDENCIES.header_row + 5))}"] = (
            draw(value_for(key)))
    return Mess({TASKS.name: tasks, DEPENDENCIES.name: links}, "; ".join(labels))


@functools.lru_cache(maxsize=1)
def base_workbook() -> tuple[bytes, list[list[object]]]:
    """The sample workbook as built (not yet refreshed) and its Tasks cells, built once per process."""
    with tempfile.TemporaryDirectory() as folder:
        path = build_workbook(Path(folder) / "sample.xlsx", plan=sample_plan(), registers=sample_registers())
        return path.read_bytes(), CalamineWorkbook.from_path(str(path)).get_sheet_by_name(TASKS.name).to_python()


def letter(key: str) -> str:
    return column_letter(TASKS.column_number(key))


def original(row: int, key: str) -> CellValue:
    value = value_at(base_workbook()[1], row, TASKS.column_number(key))
    return None if value == "" else value  # type: ignore[return-value]


@functools.lru_cache(maxsize=32)
def setting_cell(key: str) -> str:
    """The cell ("B8") holding one Settings value in the sample workbook."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "sample.xlsx"
        path.write_bytes(base_workbook()[0])
        return read_workbook(path).setting_cells[key].split("!")[1]


# -- the promises, on one messy workbook ----------------------------------------------------------------------
def refresh_messy(folder: Path, edits: Mapping[str, Mapping[str, CellValue]]) -> tuple[Path, Path, RefreshResult]:
    folder.mkdir(parents=True, exist_ok=True)
    before = folder / "before.xlsx"
    before.write_bytes(base_workbook()[0])
    write_workbook(before, edits={s: dict(cells) for s, cells in edits.items() if cells}, backup=False)
    after = folder / "plan.xlsx"
    shutil.copy(before, after)
    return before, after, refresh_workbook(after, backup=False)


def assert_promises(before: Path, after: Path, result: RefreshResult) -> None:
    assert result.outcome in (Outcome.REFRESHED, Outcome.UNCHANGED), result.message
    sheets = set(CalamineWorkbook.from_path(str(after)).sheet_names)
    for finding in result.findings:
        where = LOCATION.match(finding.location or "")
        assert where and where["sheet"].strip("'") in sheets, (finding.code, finding.location, finding.message)
    check = CalamineWorkbook.from_path(str(after)).get_sheet_by_name("Check").to_python()
    assert len(check) == 3 + len(result.findings)
    assert_inputs_unchanged(before, after)
    assert result.schedule is not None
    assert_every_task_dated(result.schedule.plan, result.schedule.tasks, grid(after)[TASKS.name])


def assert_every_task_dated(plan: Plan, scheduled: list[TaskSchedule], rows: list[list[object]]) -> None:
    """Each task has dates, and its row shows them (a shared ID only has to show some dates)."""
    ids = [t.id for t in plan.tasks]
    start, finish = TASKS.column_number("start"), TASKS.column_number("finish")
    for task, ts in zip(plan.tasks, scheduled, strict=True):
        assert ts.start is not None and ts.finish is not None, (task.id, task.name)
        row = row_of(task.cells.values())
        assert row is not None
        shown = value_at(rows, row, start), value_at(rows, row, finish)
        if ids.count(task.id) == 1:
            assert shown == (ts.start, ts.finish), (row, task.name)
        else:
            assert all(isinstance(v, dt.datetime) for v in shown), (row, task.name)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mess=messes())
def test_messy_input_cells(mess: Mess) -> None:
    with tempfile.TemporaryDirectory() as folder:
        before, after, result = refresh_messy(Path(folder), mess.edits)
        assert_promises(before, after, result)


def test_half_sorted_siblings_schedule_as_sorted(tmp_path: Path) -> None:
    """Sibling tasks listed in another order keep their IDs, links and so their dates."""
    rows = range(FIRST + 6, FIRST + 12)  # tasks 7-12: the leaves of "Discovery & requirements"
    edits = {f"{letter(key)}{target}": original(source, key)
             for target, source in zip(rows, reversed(rows), strict=True) for key in TASK_INPUTS}
    dates = []
    for name, mess in (("sorted", {}), ("shuffled", {TASKS.name: edits})):
        before, after, result = refresh_messy(tmp_path / name, mess)
        assert_promises(before, after, result)
        assert result.schedule is not None
        dates.append({t.id: (t.start, t.finish, t.critical) for t in result.schedule.tasks})
    assert dates[0] == dates[1]


def headerless_workbook(path: Path) -> Path:
    """The sample's tables as plain cells, the Tasks header row deleted (the rows below moved up)."""
    rows = sheet_rows(sample_plan(), sample_registers())
    workbook = xlsxwriter.Workbook(str(path), {"in_memory": True})
    when = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    sheets: dict[str, xlsxwriter.worksheet.Worksheet] = {}
    for layout in LAYOUTS:
        if layout.owned:
            continue
        ws = sheets.get(layout.name) or sheets.setdefault(layout.name, workbook.add_worksheet(layout.name))
        top, left = layout.header_row - 1, layout.first_column - 1
        if layout is TASKS:
            top -= 1
        else:
            for col, column in enumerate(layout.columns, start=left):
                ws.write_string(top, col, column.title)
        for n, row in enumerate(rows[layout.table_name], start=top + 1):
            for col, column in enumerate(layout.columns, start=left):
                value = row.get(column.key)
                if isinstance(value, (dt.date, dt.time)):
                    ws.write_datetime(n, col, value, when)
                elif value is not None:
                    ws.write(n, col, value)
    workbook.close()
    return path


def test_deleted_header_row(tmp_path: Path) -> None:
    before = headerless_workbook(tmp_path / "before.xlsx")
    after = tmp_path / "plan.xlsx"
    shutil.copy(before, after)
    result = refresh_workbook(after, backup=False)
    assert result.outcome is Outcome.REFRESHED, result.message
    assert [f.location for f in result.findings if f.code == "sheet.no-header"] == ["Tasks!A1"]
    assert all(LOCATION.match(f.location or "") for f in result.findings), [
        (f.code, f.location) for f in result.findings]
    assert_inputs_unchanged(before, after)
    assert read_workbook(after).plan.tasks == []


# -- inputs that broke the promises, one test each ------------------------------------------------------
def _run(tmp_path: Path, edits: Mapping[str, Mapping[str, CellValue]]) -> None:
    assert_promises(*refresh_messy(tmp_path, edits))


@pytest.mark.parametrize("duration", ["100000w", "99999999", 1e15])
def test_one_huge_duration_keeps_the_other_dates(tmp_path: Path, duration: CellValue) -> None:
    _run(tmp_path, {TASKS.name: {f"{letter('duration')}50": duration}})


@pytest.mark.parametrize("key", ["actual_start", "deadline"])
def test_date_before_1901_keeps_the_other_dates(tmp_path: Path, key: str) -> None:
    _run(tmp_path, {TASKS.name: {f"{letter(key)}50": dt.datetime(1900, 1, 1)}})


@pytest.mark.parametrize("key", ["baseline_start", "baseline_finish"])
def test_baseline_before_1901_does_not_crash(tmp_path: Path, key: str) -> None:
    _run(tmp_path, {TASKS.name: {f"{letter(key)}50": dt.datetime(1900, 1, 1)}})


def test_very_long_junk_text_does_not_crash(tmp_path: Path) -> None:
    _run(tmp_path, {TASKS.name: {f"{letter('duration')}50": "x" * 32_767}})


def test_large_negative_number_in_a_date_cell_does_not_crash(tmp_path: Path) -> None:
    """python-calamine cannot read such a sheet at all (a Rust panic): the refresh says so, writes nothing."""
    path = tmp_path / "plan.xlsx"
    build_workbook(path, plan=sample_plan(), registers=sample_registers())
    write_workbook(path, edits={TASKS.name: {f"{letter('deadline')}50": -1e12}}, backup=False)
    before = path.read_bytes()
    result = refresh_workbook(path, backup=False)
    assert result.outcome is Outcome.FAILED and "cannot be read" in result.message
    assert path.read_bytes() == before


def test_duplicate_id_rows_show_their_own_dates(tmp_path: Path) -> None:
    _before, after, result = refresh_messy(tmp_path, {TASKS.name: {f"{letter('id')}{FIRST + 14}": 5}})
    assert result.schedule is not None
    rows = grid(after)[TASKS.name]
    for task, ts in zip(result.schedule.plan.tasks, result.schedule.tasks, strict=True):
        row = row_of(task.cells.values())
        assert row is not None
        assert (value_at(rows, row, TASKS.column_number("start")), value_at(rows, row, TASKS.column_number(
            "finish")), value_at(rows, row, TASKS.column_number("outline_number"))) == (
            ts.start, ts.finish, ts.outline_number), (row, task.name)


def test_hours_per_day_rounding_to_zero_does_not_crash(tmp_path: Path) -> None:
    cell = setting_cell("hours_per_day")
    before, after, result = refresh_messy(tmp_path, {"Settings": {cell: 0.001}})
    assert_promises(before, after, result)
    assert f"Settings!{cell}" in {f.location for f in result.findings}


@pytest.mark.parametrize("start", ["", "01/01/1066"])
def test_a_missing_or_absurd_project_start_is_reported_at_its_cell(tmp_path: Path, start: str) -> None:
    cell = setting_cell("project_start")
    before, after, result = refresh_messy(tmp_path, {"Settings": {cell: start or None}})
    assert_promises(before, after, result)
    about_start = [f for f in result.findings if f.code in ("settings.no-start", "settings.bad-value")
                   and f.field in ("start", "project_start")]
    assert about_start and all(f.location == f"Settings!{cell}" for f in about_start), about_start

def test_mirrored_links_that_do_not_fit_the_sheet(tmp_path: Path) -> None:
    bottom = 1_048_570
    before, after, result = refresh_messy(tmp_path, {DEPENDENCIES.name: {
        f"{column_letter(DEPENDENCIES.column_number('predecessor_id'))}{bottom}": 2,
        f"{column_letter(DEPENDENCIES.column_number('successor_id'))}{bottom}": 3}})
    assert_promises(before, after, result)
    full = [f for f in result.findings if f.code == "sheet.full"]
    assert len(full) == 1 and full[0].location == f"{DEPENDENCIES.name}!A1048576", full
    mirrored = sum(1 for ls in result.schedule.links if (ls.link.origin or "").startswith(f"{TASKS.name}!"))
    assert int(full[0].message.split()[0].replace(",", "")) == mirrored - (1_048_576 - bottom)


def test_more_findings_than_a_sheet_holds_are_counted_not_crashed_on(monkeypatch: pytest.MonkeyPatch) -> None:
    from wbs_tools.core.findings import make_finding
    from wbs_tools.workbook import computed

    monkeypatch.setattr(computed, "MAX_ROWS", 10)
    findings = [make_finding("row.ignored", f"row {i}", location=f"Tasks!A{i}") for i in range(19)]
    findings.append(make_finding("cell.bad-value", "the one error", location="Tasks!F9"))
    sheet = computed.check_sheet(findings)
    assert len(sheet.rows) == 10 and sheet.rows[3][3] == "the one error"  # errors come first, warnings are cut
    assert str(sheet.rows[-1][3]).startswith("14 more findings")


@pytest.mark.parametrize("tasks", [3, 40])  # the header in the rows read whole, and below them
def test_a_links_table_typed_below_the_tasks_ends_the_task_table(tmp_path: Path, tasks: int) -> None:
    """A PM types a list of links under the task table on the Tasks sheet: its header row ends the
    task table (a finding at its first cell), nothing there is read as a task, and none of its cells
    (headers in the task table's computed columns included) is overwritten."""
    path = tmp_path / "one_sheet.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    ws = workbook.add_worksheet("Tasks")
    ws.write_row(0, 0, ["ID", "Task name", "Duration", "Predecessors", "Start", "Finish"])
    for n in range(1, tasks + 1):
        ws.write_row(n, 0, [n, f"Task {n}", "2d", n - 1 if n > 1 else None])
    header = tasks + 3  # two blank rows between the tables
    ws.write_row(header, 0, ["Predecessor", "Successor", "Type", "Lag", "Predecessor name", "Successor name"])
    ws.write_row(header + 1, 0, [2, 3, "FS", None, "typed here", "and here"])
    workbook.close()
    before = grid(path)["Tasks"]
    result = refresh_workbook(path, backup=False, status_date=dt.date(2026, 3, 6))
    assert result.outcome is Outcome.REFRESHED, result.message
    located = [(f.code, f.location) for f in result.findings if f.location]
    assert located == [("sheet.table-ends", f"Tasks!A{header + 1}")]
    assert "Dependencies table" in next(f.message for f in result.findings if f.code == "sheet.table-ends")
    assert result.schedule is not None and [t.id for t in result.schedule.plan.tasks] == list(range(1, tasks + 1))
    after = grid(path)["Tasks"]
    assert after[header:header + 2] == before[header:header + 2]  # the links table as typed
    starts = [value_at(after, row, 5) for row in range(2, tasks + 2)]  # no date format: serial numbers
    assert all(isinstance(v, float) for v in starts) and starts == sorted(starts) and starts[0] < starts[-1]

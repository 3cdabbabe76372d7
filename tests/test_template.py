"""The layout catalogue, the template builder, the sample plan and the committed workbooks."""

from __future__ import annotations

import importlib.util
import re
import shutil
import zipfile
from collections import Counter
from pathlib import Path
from types import ModuleType
from xml.etree import ElementTree

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from support.libreoffice import soffice
from wbs_tools.core.cpm import schedule
from wbs_tools.core.findings import Severity
from wbs_tools.core.model import Link, LinkType, Plan
from wbs_tools.core.parsing import parse_constraint_type, parse_duration, parse_lag, parse_predecessors
from wbs_tools.workbook import layout as lay
from wbs_tools.workbook.layout_doc import render_workbook_doc
from wbs_tools.workbook.plan_rows import settings_values
from wbs_tools.workbook.sample import sample_plan, sample_registers
from wbs_tools.workbook.template import build_workbook

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = ROOT / "workbook_templates"
NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
REBUILD = "run `python workbook_templates/build.py` and commit the result"


def _load_build() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bundled_build", BUNDLED / "build.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bundled")
    paths = _load_build().build(folder, folder)
    return {p.name: p for p in paths}


@pytest.fixture(scope="module")
def plan() -> Plan:
    return sample_plan()


# -- layout -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("sheet", lay.LAYOUTS, ids=lambda s: s.table_name)
def test_headers_and_aliases_are_unambiguous(sheet: lay.SheetLayout) -> None:
    names = Counter(lay.normalize_header(t) for c in sheet.columns for t in {c.title, *c.aliases})
    assert [n for n, count in names.items() if count > 1] == []
    assert len({c.key for c in sheet.columns}) == len(sheet.columns)
    for column in sheet.columns:
        for text in (column.title, *column.aliases, f"  {column.title.upper()} "):
            assert lay.find_column(sheet, text) is column


@pytest.mark.parametrize(("header", "key"), [
    ("Pred.", "predecessors"), ("Depends on", "predecessors"), ("Task", "name"), ("Name", "name"),
    ("Dur", "duration"), ("%", "percent_complete"), ("% Done", "percent_complete"),
    ("Progress", "percent_complete"), ("total slack", "total_slack_days"), ("Outline #", "outline_number"),
])
def test_find_column_knows_what_pms_type(header: str, key: str) -> None:
    found = lay.find_column(lay.TASKS, header)
    assert found is not None and found.key == key


def test_find_column_leaves_unknown_headers_alone() -> None:
    assert lay.find_column(lay.TASKS, "Risk rating") is None


def test_input_and_computed_columns_split_every_sheet() -> None:
    for sheet in lay.LAYOUTS:
        assert len(lay.input_columns(sheet)) + len(lay.computed_columns(sheet)) == len(sheet.columns)
        if sheet.owned:
            assert lay.input_columns(sheet) == ()
    assert {c.key for c in lay.computed_columns(lay.TASKS)} >= {"start", "finish", "critical", "driver"}


def test_names_and_lists_are_consistent() -> None:
    tables = [s.table_name for s in lay.LAYOUTS]
    assert len(set(tables)) == len(tables)
    lists = {c.name for c in lay.CHOICE_LISTS}
    used = {c.choices for s in lay.LAYOUTS for c in s.columns if c.choices}
    assert used | {s.choices for s in lay.SETTINGS_ROWS if s.choices} <= lists
    assert len({s.name for s in lay.SETTINGS_ROWS}) == len(lay.SETTINGS_ROWS)


# -- the sample --------------------------------------------------------------------------------------
def test_sample_plan_schedules_cleanly(plan: Plan) -> None:
    result = schedule(plan)
    assert 55 <= len(plan.tasks) <= 65
    assert [f for f in result.findings if f.severity is Severity.ERROR] == []
    assert {link.type for link in plan.links} == set(LinkType) - {LinkType.SF}
    started = [t for t in plan.tasks if t.actual_start]
    assert 0 < len(started) < len(plan.tasks) / 2
    assert any(0 < t.percent_complete < 100 for t in plan.tasks)
    assert all(t.baselines[0].start for t in plan.tasks)


def test_sample_registers_use_layout_keys() -> None:
    registers = sample_registers()
    by_name = {s.name: s for s in lay.LAYOUTS if s is not lay.CALENDAR_WEEK}
    for name, rows in registers.items():
        keys = {c.key for c in lay.input_columns(by_name[name])}
        assert rows and all(set(row) <= keys for row in rows), name
    assert len(registers["Action Items"]) >= 12 and len(registers["Issue Log"]) >= 10


# -- the workbooks -----------------------------------------------------------------------------------
def _sheet_parts(path: Path) -> dict[str, str]:
    """Sheet name -> worksheet part name in the zip."""
    with zipfile.ZipFile(path) as z:
        book = ElementTree.fromstring(z.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(z.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target") for r in rels}
    rid = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
    return {s.get("name"): "xl/" + targets[s.get(rid)] for s in book.iterfind("m:sheets/m:sheet", NS)}


@pytest.mark.parametrize("name", ["wbs_template.xlsx", "sample_plan.xlsx"])
def test_every_sheet_has_its_headers_in_openpyxl_and_calamine(built: dict[str, Path], name: str) -> None:
    book = openpyxl.load_workbook(built[name])
    calamine = CalamineWorkbook.from_path(str(built[name]))
    assert book.sheetnames == list(lay.SHEET_NAMES) == calamine.sheet_names
    for sheet in lay.LAYOUTS:
        ws = book[sheet.name]
        first, row = sheet.first_column, sheet.header_row
        titles = [ws.cell(row, first + i).value for i in range(len(sheet.columns))]
        assert titles == [c.title for c in sheet.columns]
        assert (sheet.table_name in ws.tables) != sheet.owned  # owned sheets are replaced whole: no tables
        assert (ws.sheet_state == "hidden") == sheet.hidden
        assert not ws.protection.sheet  # protection would block sorting and growing tables
        cells = calamine.get_sheet_by_name(sheet.name).to_python(skip_empty_area=False)
        assert cells[row - 1][first - 1:first - 1 + len(titles)] == titles


def test_tasks_sheet_rows_equal_the_sample_plan(built: dict[str, Path], plan: Plan) -> None:
    book = openpyxl.load_workbook(built["sample_plan.xlsx"])
    ws = book["Tasks"]
    header = {lay.find_column(lay.TASKS, str(c.value)).key: c.column  # type: ignore[union-attr]
              for c in ws[lay.TASKS.header_row] if c.value and lay.find_column(lay.TASKS, str(c.value))}
    links = []
    for n, task in enumerate(plan.tasks, start=lay.TASKS.header_row + 1):
        row = {key: ws.cell(n, col).value for key, col in header.items()}
        assert (row["id"], row["name"], row["outline_level"], row["owner"]) == (
            task.id, task.name, task.outline_level, task.owner)
        typed = parse_duration(row["duration"]).minutes if row["duration"] else None
        assert typed == (task.duration.minutes if task.duration else None)
        assert (row["actual_start"], row["actual_finish"]) == (task.actual_start, task.actual_finish)
        assert (row["baseline_start"], row["baseline_finish"]) == (task.baselines[0].start,
                                                                   task.baselines[0].finish)
        assert parse_constraint_type(row["constraint"]) is task.constraint
        assert row["constraint_date"] == task.constraint_date and row["deadline"] == task.deadline
        assert (row["cost"], row["calendar"], row["notes"]) == (task.cost, task.calendar, task.notes)
        if task.duration:
            assert round(float(row["percent_complete"]) * 100, 6) == task.percent_complete
        assert all(row[c.key] is None for c in lay.computed_columns(lay.TASKS))
        links += parse_predecessors(row["predecessors"], task.id)[0] if row["predecessors"] else []
    deps = book["Dependencies"]
    for values in deps.iter_rows(min_row=lay.DEPENDENCIES.header_row + 1, values_only=True):
        pred, _, succ, _, kind, lag = values[:6]
        links.append(Link(pred, succ, LinkType(kind), parse_lag(lag)))
    assert {(k.predecessor, k.successor, k.type, k.lag) for k in links} == {
        (k.predecessor, k.successor, k.type, k.lag) for k in plan.links}


def test_settings_have_defined_names(built: dict[str, Path], plan: Plan) -> None:
    book = openpyxl.load_workbook(built["sample_plan.xlsx"])
    values = settings_values(plan)
    for setting in lay.SETTINGS_ROWS:
        sheet, cell = next(iter(book.defined_names[setting.name].destinations))
        value = book[sheet][cell.replace("$", "")].value
        assert value == values[setting.key], setting.key


def test_computed_cells_are_grey_and_locked_inputs_unlocked(built: dict[str, Path]) -> None:
    ws = openpyxl.load_workbook(built["sample_plan.xlsx"])["Tasks"]
    row = lay.TASKS.header_row + 1
    start = ws.cell(row, lay.TASKS.column_number("start"))
    name = ws.cell(row, lay.TASKS.column_number("name"))
    assert start.fill.fgColor.rgb.endswith("EDEDED") and start.font.i and start.protection.locked
    assert not name.protection.locked


def test_drop_downs_guards_and_gantt_are_in_the_sheet_xml(built: dict[str, Path]) -> None:
    path = built["sample_plan.xlsx"]
    parts = _sheet_parts(path)
    with zipfile.ZipFile(path) as z:
        tasks = ElementTree.fromstring(z.read(parts["Tasks"]))
        actions = ElementTree.fromstring(z.read(parts["Action Items"]))
    formulas = [f.text or "" for f in tasks.iterfind("m:dataValidations/m:dataValidation/m:formula1", NS)]
    assert {"List_Owners", "List_ConstraintTypes", "List_Calendars", "FALSE"} <= set(formulas)
    guard = [v for v in tasks.iterfind("m:dataValidations/m:dataValidation", NS)
             if v.findtext("m:formula1", namespaces=NS) == "FALSE"]
    assert len(guard) == len(lay.computed_columns(lay.TASKS))
    assert all(v.get("promptTitle") == "Computed by wbs_tools" for v in guard)
    rules = [r.findtext("m:formula", namespaces=NS) or "" for r in tasks.iterfind(".//m:cfRule", NS)]
    assert any("TODAY()" in r for r in rules)
    assert sum("ISNUMBER" in r for r in rules) == 6
    assert any(r.get("type") == "dataBar" for r in tasks.iterfind(".//m:cfRule", NS))
    formulas = [f.text or "" for f in actions.iterfind(".//m:formula1", NS)]
    assert "List_ActionStatuses" in formulas and "FALSE" in formulas


def test_empty_template_has_defaults(built: dict[str, Path]) -> None:
    book = openpyxl.load_workbook(built["wbs_template.xlsx"])
    week = [r[:3] for r in book["Calendar"].iter_rows(min_row=4, max_row=10, values_only=True)]
    assert week[0] == ("Standard", "Monday", "Yes") and week[6] == ("Standard", "Sunday", "No")
    assert book["Tasks"].cell(lay.TASKS.header_row + 1, 1).value is None


def test_bad_arguments_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="xlsm"):
        build_workbook(tmp_path / "plan.xlsm", macro_enabled=True)
    with pytest.raises(ValueError, match="no column"):
        build_workbook(tmp_path / "plan.xlsx", registers={"Issue Log": [{"severty": "High"}]})


# -- committed outputs -------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["wbs_template.xlsx", "sample_plan.xlsx"])
def test_committed_workbooks_are_rebuilt_byte_identically(built: dict[str, Path], name: str,
                                                          tmp_path: Path) -> None:
    again = build_workbook(tmp_path / name, **({"plan": sample_plan(), "registers": sample_registers()}
                                               if name == "sample_plan.xlsx" else {}))
    assert again.read_bytes() == built[name].read_bytes(), "the build is not deterministic"
    assert (BUNDLED / name).read_bytes() == built[name].read_bytes(), f"{name} is stale: {REBUILD}"


def test_docs_are_up_to_date() -> None:
    doc = (ROOT / "docs" / "workbook.md").read_text(encoding="utf-8")
    assert doc == render_workbook_doc(), f"docs/workbook.md is stale: {REBUILD}"
    for sheet in lay.LAYOUTS:
        assert all(re.search(rf"\| {re.escape(c.title)} \| `{c.key}`", doc) for c in sheet.columns)


@pytest.mark.libreoffice
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not on PATH")
def test_libreoffice_converts_the_sample(built: dict[str, Path], tmp_path: Path) -> None:
    source = tmp_path / "sample_plan.xlsx"
    shutil.copy(built["sample_plan.xlsx"], source)
    out = tmp_path / "out"
    done = soffice(["--convert-to", "pdf", "--outdir", str(out), str(source)], tmp_path / "profile", timeout=300)
    assert done.returncode == 0, done.stderr
    pdf = out / "sample_plan.pdf"
    assert pdf.exists() and pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 10_000

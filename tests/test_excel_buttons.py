"""The Excel buttons, run on real xlwings objects, and the macro-enabled workbooks they live in.

``wbs_tools.excel.buttons`` runs against ``xw.Book``/``xw.Sheet``/``xw.Range`` backed by the in-memory
engine of ``support.xlwings_memory``, which hands values over as Excel's COM interface does. On the
sample plan, a button leaves every cell exactly as ``wbs refresh`` leaves the saved file, reads each
sheet in one call and writes nothing but computed cells. The committed .xlsm files rebuild byte for
byte, olevba reads their macros and LibreOffice shows each button bound to its macro.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import shutil
import sys
import zipfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
import xlwings as xw
from oletools.olevba import VBA_Parser
from python_calamine import CalamineWorkbook, SheetVisibleEnum
from typer.testing import CliRunner

from support import memory_workbooks as workbooks
from support import xlwings_memory as memory
from support.libreoffice import libreoffice_missing, run_uno_probe
from wbs_tools.cli import app as cli
from wbs_tools.excel import buttons, live
from wbs_tools.excel.vba_project import BUTTONS, macro_modules
from wbs_tools.refresh import refresh_workbook
from wbs_tools.workbook.layout import ACTIONS, CHECK, LAYOUTS, TASKS
from wbs_tools.workbook.lossless import write_workbook
from wbs_tools.workbook.reader import read_workbook
from wbs_tools.workbook.reader_tables import col_letters
from wbs_tools.workbook.template import (
    BUTTON_PLACES,
    XLWINGS_CONF_SHEET,
    XLWINGS_SETTINGS,
    XLWINGS_VERSION_NAME,
    macro_codenames,
)

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = ROOT / "workbook_templates"
SAMPLE = BUNDLED / "sample_plan.xlsm"
OWNED = {layout.name for layout in LAYOUTS if layout.owned} | {CHECK.name}
Cells = dict[str, dict[tuple[int, int], object]]


@pytest.fixture
def plan_copy(tmp_path: Path) -> Path:
    return Path(shutil.copy(SAMPLE, tmp_path / "plan.xlsm"))


@pytest.fixture(scope="module")
def refreshed(tmp_path_factory: pytest.TempPathFactory) -> Cells:
    """Every cell of the sample after ``wbs refresh``, as Excel would show them."""
    path = Path(shutil.copy(SAMPLE, tmp_path_factory.mktemp("refreshed") / "plan.xlsm"))
    assert refresh_workbook(path, backup=False).outcome.value == "refreshed"
    return workbooks.cells_of(workbooks.open_book(path))


@pytest.fixture
def book(plan_copy: Path) -> Iterator[xw.Book]:
    """The sample open in the in-memory Excel, as the workbook that pressed the button."""
    opened = workbooks.open_book(plan_copy)
    opened.set_mock_caller()
    memory.ENGINE.calls.clear()
    yield opened
    workbooks.forget_caller()


def _inputs(sheet: str, cells: Cells) -> set[tuple[int, int]]:
    """The filled cells of a sheet that no refresh may write: all but those below a computed header."""
    computed = live.computed_columns(read_workbook(SAMPLE)).get(sheet, {})
    return {(r, c) for r, c in cells.get(sheet, {}) if c not in computed or r <= computed[c]}


def _differences(actual: Cells, expected: Cells, sheets: set[str] | None = None) -> list[str]:
    out = []
    for sheet in sorted(set(actual) | set(expected)):
        if sheets is not None and sheet not in sheets:
            continue
        mine, theirs = actual.get(sheet, {}), expected.get(sheet, {})
        for key in sorted(set(mine) | set(theirs)):
            if mine.get(key) != theirs.get(key) or type(mine.get(key)) is not type(theirs.get(key)):
                out.append(f"{sheet}!{key}: {mine.get(key)!r} != {theirs.get(key)!r}")
    return out


# --- the live adapter ------------------------------------------------------------------------------


@pytest.mark.parametrize(("excel", "calamine"), [
    (dt.datetime(1899, 12, 30, 8, 0), dt.time(8, 0)),
    (dt.datetime(1899, 12, 30), dt.time(0, 0)),
    (dt.datetime(1899, 12, 31), dt.date(1900, 1, 1)),
    (dt.datetime(1899, 12, 31, 12, 0), dt.datetime(1900, 1, 1, 12, 0)),
    (dt.datetime(2026, 3, 2), dt.date(2026, 3, 2)),
    (dt.datetime(2026, 3, 2, 17, 0), dt.datetime(2026, 3, 2, 17, 0)),
    (3.0, 3.0), ("#N/A", "#N/A"), (True, True), (None, None),
])
def test_excel_values_read_as_the_file_reader_reads_them(excel: object, calamine: object) -> None:
    assert live.from_excel(excel) == calamine and type(live.from_excel(excel)) is type(calamine)
    assert live.from_excel(workbooks.to_com(calamine)) == calamine or calamine == "#N/A"


def test_live_read_equals_file_read(book: xw.Book) -> None:
    from_file, from_excel = read_workbook(SAMPLE), live.LiveBook(book).read()
    assert from_excel.plan == from_file.plan
    assert from_excel.findings == from_file.findings
    assert from_excel.registers == from_file.registers
    assert (from_excel.cells, from_excel.link_sources) == (from_file.cells, from_file.link_sources)
    assert (from_excel.settings_extra, from_excel.setting_cells) == (from_file.settings_extra, from_file.setting_cells)


def test_outline_from_indentation_reads_alike(tmp_path: Path) -> None:
    """A plan without outline levels takes them from the Task name's indent, in Excel as from the file."""
    path = Path(shutil.copy(SAMPLE, tmp_path / "indented.xlsm"))
    table = read_workbook(path).cells[TASKS.name]
    column = table.columns["outline_level"]
    blanks = {f"{col_letters(column)}{row}": None for row in range(table.first_row, table.last_row + 1)}
    write_workbook(path, edits={TASKS.name: blanks}, backup=False)
    from_file = read_workbook(path).plan
    opened = workbooks.open_book(path)
    from_excel = live.LiveBook(opened).read().plan
    levels = [t.outline_level for t in read_workbook(SAMPLE).plan.tasks]
    assert [t.outline_level for t in from_file.tasks] == levels == [t.outline_level for t in from_excel.tasks]
    assert max(levels) >= 3


def test_a_huge_used_range_is_read_in_part_and_reported(book: xw.Book, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(live, "MAX_CELLS", 87 * 20)
    data = live.LiveBook(book).read()
    cut = [f for f in data.findings if f.code == "sheet.truncated"]
    assert [f.location for f in cut] == ["Tasks!CI63"]
    assert all(call.rows <= 20 for call in memory.ENGINE.calls if call.sheet == TASKS.name)


def test_an_input_cell_is_never_written(book: xw.Book) -> None:
    reader = live.LiveBook(book)
    data = reader.read()
    memory.ENGINE.calls.clear()
    name = f"{col_letters(TASKS.column_number('name'))}5"
    with pytest.raises(ValueError, match=f"Tasks!{name} is not a computed cell"):
        reader.write_edits(data, {TASKS.name: {"G5": dt.datetime(2026, 1, 5), name: "renamed"}})
    with pytest.raises(ValueError, match="Tasks!G3 is not a computed cell"):  # the header row
        reader.write_edits(data, {TASKS.name: {"G3": "Start"}})
    assert memory.ENGINE.calls == []


# --- the buttons ---------------------------------------------------------------------------------


def test_recompute_leaves_every_cell_as_refresh_does(book: xw.Book, refreshed: Cells) -> None:
    before = workbooks.cells_of(book)
    buttons.recompute()
    after = workbooks.cells_of(book)
    assert _differences(after, refreshed) == []
    changed = {s for s in after if _differences({s: after[s]}, {s: before.get(s, {})})}
    assert {TASKS.name, "Dependencies", ACTIONS.name, "Status", CHECK.name} <= changed
    for sheet in set(after) - OWNED:  # inputs: the same value of the same type, cell for cell
        inputs = _inputs(sheet, before)
        assert {k: after[sheet].get(k) for k in inputs} == {k: before[sheet][k] for k in inputs}, sheet
    outline = TASKS.column_number("outline_number")
    assert all(isinstance(v, str) for (r, c), v in after[TASKS.name].items() if c == outline and r > 3)


def test_recompute_restores_the_sheets_it_owns(book: xw.Book, refreshed: Cells) -> None:
    """A deleted Check sheet comes back at the end, an unhidden history sheet is hidden again."""
    book.impl.sheet_list.remove(book.impl.sheet(CHECK.name))
    book.sheets["_wbs_status_history"].visible = True
    book.sheets[ACTIONS.name].activate()
    buttons.recompute()
    assert book.sheets[-1].name == CHECK.name and book.sheets.active.name == ACTIONS.name
    assert _differences(workbooks.cells_of(book), refreshed, {CHECK.name, "_wbs_status_history"}) == []
    assert book.sheets["_wbs_status_history"].visible is False


def test_recompute_reads_each_sheet_once_and_writes_computed_blocks(book: xw.Book) -> None:
    buttons.recompute()
    calls = memory.ENGINE.calls
    assert Counter(c.sheet for c in calls if c.kind == "read") == {s.name: 1 for s in book.sheets}
    data = read_workbook(SAMPLE)
    allowed = live.computed_columns(data)
    mirror_sheet, mirror_rows, after, mirror_columns = live.mirror_cells(data)

    def writable(sheet: str, r: int, c: int) -> bool:
        columns = allowed[sheet]
        mirror = sheet == mirror_sheet and c in mirror_columns and (r in mirror_rows or r > after)
        return mirror or (c in columns and r > columns[c])

    for call in calls:
        if call.kind != "read" and call.sheet not in OWNED:
            assert all(writable(call.sheet, r, c) for r, c in call.cells()), call
    tasks_writes = [c for c in calls if c.kind == "write" and c.sheet == TASKS.name]
    assert 1 < len(tasks_writes) <= 8 and sum(c.rows * c.columns for c in tasks_writes) > 600
    owned_calls = Counter(c.sheet for c in calls if c.kind == "write" and c.sheet in OWNED)
    assert set(owned_calls.values()) == {1}


def test_recompute_sums_up_and_shows_progress(book: xw.Book) -> None:
    buttons.recompute()
    app = book.app.impl
    [alert] = app.alerts
    assert alert["mode"] == "info" and alert["title"] == "wbs_tools"
    assert alert["prompt"].startswith("Schedule recomputed: finish Tue 23 Jun 2026; 23 critical tasks; ")
    assert "Status date Fri 27 Feb 2026." in alert["prompt"]
    assert "wbs_tools: reading Tasks (1/16)" in app.status_bar_history
    assert "wbs_tools: scheduling 60 tasks" in app.status_bar_history
    assert app.status_bar_history[-1] is False and app.settings["screen_updating"] is True


def test_flag_overdue_writes_the_action_columns_only(book: xw.Book, refreshed: Cells) -> None:
    before = workbooks.cells_of(book)
    buttons.flag_overdue()
    after = workbooks.cells_of(book)
    actions = read_workbook(SAMPLE).cells[ACTIONS.name]
    assert _differences(after, refreshed, {ACTIONS.name, CHECK.name}) == []
    assert _differences(after, before, set(after) - {ACTIONS.name, CHECK.name}) == []
    overdue = actions.columns["days_overdue"]
    late = sorted(r for (r, c), v in after[ACTIONS.name].items() if c == overdue and isinstance(v, float) and v > 0)
    [alert] = book.app.impl.alerts
    assert alert["prompt"].startswith(f"{len(late)} overdue actions at the status date (Fri 27 Feb 2026):")
    assert len(late) >= 2 and "working days late)" in alert["prompt"]
    assert book.sheets.active.name == ACTIONS.name


def test_export_status_saves_the_report_beside_the_workbook(book: xw.Book, refreshed: Cells, plan_copy: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[str] = []
    monkeypatch.setattr(buttons.webbrowser, "open", opened.append)
    book.app.impl.answers.append("yes")
    buttons.export_status()
    assert _differences(workbooks.cells_of(book), refreshed) == []
    report = plan_copy.parent / "plan status 2026-02-27.html"
    html = report.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "Northwind Foods ERP data migration" in html
    [alert] = book.app.impl.alerts
    assert alert["buttons"] == "yes_no" and str(report) in alert["prompt"]
    assert alert["prompt"].startswith("Status at Fri 27 Feb 2026: ")
    assert opened == [report.as_uri()]


@pytest.mark.parametrize("fullname", ["https://d.docs.live.net/8a1b/Documents/plan.xlsm",
                                      "https://contoso.sharepoint.com/sites/pmo/Shared Documents/plan.xlsm"])
def test_export_from_onedrive_says_what_to_do_and_changes_nothing(plan_copy: Path, fullname: str) -> None:
    opened = workbooks.open_book(plan_copy, fullname=fullname)
    opened.set_mock_caller()
    try:
        memory.ENGINE.calls.clear()
        buttons.export_status()
        [alert] = opened.app.impl.alerts
        assert alert["mode"] == "critical" and fullname in alert["prompt"]
        assert "synced OneDrive folder" in alert["prompt"] and "Save a Copy" in alert["prompt"]
        assert [c for c in memory.ENGINE.calls if c.kind != "read"] == []
        buttons.recompute()  # needs no folder
        assert opened.app.impl.alerts[-1]["prompt"].startswith("Schedule recomputed")
    finally:
        workbooks.forget_caller()


def test_an_unmapped_onedrive_path_and_an_unsaved_book_are_explained(book: xw.Book,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    def unmapped(self: memory.Book) -> str:
        raise xw.XlwingsError("Couldn't find your local OneDrive file, see: xlwings.org/error")

    monkeypatch.setattr(memory.Book, "fullname", property(unmapped))
    buttons.export_status()
    monkeypatch.setattr(memory.Book, "fullname", property(lambda self: "Book1"))
    buttons.export_status()
    first, second = (a["prompt"] for a in book.app.impl.alerts)
    assert "Couldn't find your local OneDrive file" in first and "Save a Copy" in first
    assert second == buttons.UNSAVED
    assert [c for c in memory.ENGINE.calls if c.kind != "read"] == []


def test_a_mismatched_xlwings_stops_with_the_command_that_fixes_it(book: xw.Book) -> None:
    assert book.names[XLWINGS_VERSION_NAME].refers_to == f'="{xw.__version__}"'
    book.names[XLWINGS_VERSION_NAME].refers_to = '="0.36.1"'
    buttons.recompute()
    [alert] = book.app.impl.alerts
    assert alert["mode"] == "critical"
    assert f'"{sys.executable}" -m pip install "xlwings==0.36.1"' in alert["prompt"]
    assert f"xlwings {xw.__version__}" in alert["prompt"] and "xlwings runpython install" in alert["prompt"]
    assert memory.ENGINE.calls == []


def test_setup_report_names_the_python_and_the_fix() -> None:
    lines = buttons.setup_report()
    assert lines[0] == f"Python: {sys.executable}"
    assert any("-m xlwings.cli config create --force" in line or line.startswith("OK: Excel starts") for line in lines)


# --- the macro-enabled workbooks -----------------------------------------------------------------


def _load_build() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bundled_build", BUNDLED / "build.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _vba(path: Path) -> bytes:
    with zipfile.ZipFile(path) as package:
        return package.read("xl/vbaProject.bin")


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two independent builds of the bundled workbooks."""
    folders = (tmp_path_factory.mktemp("first"), tmp_path_factory.mktemp("second"))
    for folder in folders:
        _load_build().build(folder, folder / "docs")
    return folders


@pytest.mark.parametrize("name", ["wbs_template.xlsm", "sample_plan.xlsm"])
def test_xlsm_builds_are_reproducible_and_committed(builds: tuple[Path, Path], name: str) -> None:
    first, second = builds
    assert (first / name).read_bytes() == (second / name).read_bytes(), "the build is not deterministic"
    assert _vba(first / name) == _vba(second / name)
    assert (BUNDLED / name).read_bytes() == (first / name).read_bytes(), (
        f"{name} is stale: run `python workbook_templates/build.py` and commit the result")


@pytest.mark.parametrize("name", ["wbs_template.xlsm", "sample_plan.xlsm"])
def test_olevba_finds_every_macro(name: str) -> None:
    parser = VBA_Parser(str(BUNDLED / name))
    try:
        assert parser.detect_vba_macros()
        extracted = {stream: code for _, stream, _, code in parser.extract_macros()}
    finally:
        parser.close()
    assert extracted == {f"VBA/{m.name}": m.stored_text() for m in macro_modules(macro_codenames())}


def test_buttons_conf_sheet_and_version_name_are_in_the_package() -> None:
    book = CalamineWorkbook.from_path(str(SAMPLE))
    meta = {m.name: m.visible for m in book.sheets_metadata}
    assert list(meta)[-1] == XLWINGS_CONF_SHEET and meta[XLWINGS_CONF_SHEET] == SheetVisibleEnum.Hidden
    assert book.get_sheet_by_name(XLWINGS_CONF_SHEET).to_python() == [list(row) for row in XLWINGS_SETTINGS]
    with zipfile.ZipFile(SAMPLE) as package:
        workbook = package.read("xl/workbook.xml").decode()
        vml = "".join(package.read(n).decode() for n in package.namelist() if n.startswith("xl/drawings/vml"))
    assert f'<definedName name="{XLWINGS_VERSION_NAME}">"{xw.__version__}"</definedName>' in workbook
    assert sorted(vml.count(f"<x:FmlaMacro>[0]!{b.macro}</x:FmlaMacro>") for b in BUTTONS) == [1, 1, 1]


def test_wbs_new_makes_macro_enabled_workbooks(tmp_path: Path) -> None:
    runner = CliRunner()
    for name, options in (("plan.xlsm", []), ("sample.xlsm", ["--sample"]), ("plain.xlsx", [])):
        result = runner.invoke(cli, ["new", str(tmp_path / name), *options])
        assert result.exit_code == 0, result.output
    assert (tmp_path / "plan.xlsm").read_bytes() == (BUNDLED / "wbs_template.xlsm").read_bytes()
    assert _vba(tmp_path / "sample.xlsm") == _vba(SAMPLE)  # the refresh keeps the macros
    with zipfile.ZipFile(tmp_path / "plain.xlsx") as package:
        assert not any("vba" in n.lower() for n in package.namelist())


# --- LibreOffice as the stand-in for Excel -------------------------------------------------------

_PROBE = '''
import json, subprocess, sys, time, uuid
import uno
from com.sun.star.beans import PropertyValue

def prop(name, value):
    p = PropertyValue(); p.Name, p.Value = name, value; return p

job = json.loads(sys.argv[1])
pipe = "wbs" + uuid.uuid4().hex
office = subprocess.Popen(["soffice", "--headless", "--invisible", "--norestore", "--nologo", "--nodefault",
                           "-env:UserInstallation=" + uno.systemPathToFileUrl(job["profile"]),
                           "--accept=pipe,name=%s;urp;" % pipe], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
desktop, reports = None, []
try:
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    deadline = time.monotonic() + 25
    while True:
        try:
            ctx = resolver.resolve("uno:pipe,name=%s;urp;StarOffice.ComponentContext" % pipe)
            break
        except Exception:
            if time.monotonic() > deadline or office.poll() is not None:
                raise
            time.sleep(0.2)
    desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
    for path in job["documents"]:
        doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(path), "_blank", 0,
                                           (prop("Hidden", True), prop("MacroExecutionMode", 4)))
        buttons = {}
        for index in range(doc.Sheets.Count):
            sheet = doc.Sheets.getByIndex(index)
            forms = sheet.DrawPage.Forms
            for form in (forms.getByIndex(f) for f in range(forms.Count)):
                for c in range(form.Count):
                    for event in form.getScriptEvents(c):
                        buttons.setdefault(sheet.Name, []).append([form.getByIndex(c).Label, event.ScriptCode])
        library = doc.BasicLibraries.getByName("VBAProject")
        reports.append({"buttons": buttons, "modules": sorted(library.getElementNames())})
        doc.close(True)
finally:
    if desktop is not None:
        try:
            desktop.terminate()
        except Exception:
            pass
    try:
        office.wait(10)
    except subprocess.TimeoutExpired:
        office.kill()
print(json.dumps(reports))
'''


@pytest.mark.libreoffice
def test_libreoffice_shows_each_button_bound_to_its_macro(tmp_path: Path) -> None:
    if reason := libreoffice_missing():
        pytest.skip(reason)
    refreshed = Path(shutil.copy(SAMPLE, tmp_path / "refreshed.xlsm"))
    refresh_workbook(refreshed, backup=False)
    job = {"profile": str(tmp_path / "profile"), "documents": [str(SAMPLE), str(refreshed)]}
    stdout = run_uno_probe(_PROBE, job, timeout=90)
    expected = {BUTTON_PLACES[b.macro][0].name: [[b.caption, "vnd.sun.star.script:VBAProject.WbsButtons."
                                                 f"{b.macro}?language=Basic&location=document"]] for b in BUTTONS}
    for report in json.loads(stdout):
        assert report["buttons"] == expected
        assert report["modules"] == sorted(m.name for m in macro_modules(macro_codenames()))

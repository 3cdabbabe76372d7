"""`wbs adopt` then `wbs refresh` on real workbooks: the wbs_tools sheets are added and computed, and
nothing that was already in the workbook changes - every original zip part keeps its bytes except the
three that list the sheets, and those keep every original entry.

The corpus (``../shared/corpus/workbooks``) is read-only and never copied into the project: each test
copies one file into its own temporary folder, so the tests run in parallel.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import shutil
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
import xlsxwriter
from lxml import etree
from typer.testing import CliRunner

from support.libreoffice import soffice
from wbs_tools.cli import app
from wbs_tools.interchange import AdoptOutcome, adopt_workbook
from wbs_tools.interchange.adopt import layout_sheet
from wbs_tools.workbook.computed import column_letter
from wbs_tools.workbook.layout import LAYOUTS, SETTINGS, SETTINGS_ROWS, SHEET_NAMES, TASKS
from wbs_tools.workbook.lossless import write_workbook
from wbs_tools.workbook.owned_sheet import WorkbookInfo
from wbs_tools.workbook.owned_sheet import read_workbook as workbook_info
from wbs_tools.workbook.package import Package, rels_part
from wbs_tools.workbook.reader import read_workbook
from wbs_tools.workbook.reader_tables import sheet_key
from wbs_tools.workbook.sample import sample_plan, sample_registers
from wbs_tools.workbook.template import CREATED, populate_workbook

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "workbooks"
OWNED = {layout.name for layout in LAYOUTS if layout.owned}
COMPUTED = OWNED | {layout.name for layout in LAYOUTS if any(c.computed for c in layout.columns)}
#: per structural part, the elements every original of which must survive with the same attributes
ENTRIES = {"workbook": ("sheet", "definedName", "workbookPr", "bookViews", "calcPr", "pivotCache", "extLst"),
           "rels": ("Relationship",), "types": ("Override", "Default")}
runner = CliRunner()


def manifest() -> list[dict]:
    return json.loads((CORPUS / "manifest.json").read_text()) if (CORPUS / "manifest.json").is_file() else []


def corpus_files(feature: str | None = None) -> list:
    entries = [e for e in manifest() if feature is None or feature in e["features"]]
    if not entries:
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"workbook corpus not found at {CORPUS}"))]
    return [pytest.param(e["file"], id=e["file"][:60], marks=pytest.mark.corpus) for e in entries]


def copy_in(name: str, folder: Path) -> Path:
    path = folder / name
    shutil.copyfile(CORPUS / name, path)  # contents only: the copy is writable
    return path


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def info_of(path: Path) -> WorkbookInfo:
    return workbook_info(Package(path.read_bytes()))


def entries(xml: bytes, locals_: tuple[str, ...]) -> list[tuple[str, tuple[tuple[str, str], ...], str]]:
    """Every element named in ``locals_``: its name, attributes and text (top level of its parent)."""
    root = etree.fromstring(xml)
    return [(etree.QName(el).localname, tuple(sorted((str(k), v) for k, v in el.attrib.items())),
             (el.text or "").strip()) for el in root.iter() if isinstance(el.tag, str)
            and etree.QName(el).localname in locals_]


def structural(info: WorkbookInfo) -> dict[str, str]:
    return {info.part: "workbook", rels_part(info.part): "rels", "[Content_Types].xml": "types"}


def assert_original_kept(before: dict[str, bytes], after: dict[str, bytes], info: WorkbookInfo,
                         may_change: set[str] = frozenset()) -> None:
    """Every original part byte-identical, but the structural ones, which keep every original entry."""
    listing = structural(info)
    for name, data in before.items():
        assert name in after, f"{name} was removed"
        if name in listing:
            kept = entries(after[name], ENTRIES[listing[name]])
            missing = [e for e in entries(data, ENTRIES[listing[name]]) if e not in kept]
            assert missing == [], (name, missing[:3])
        elif name not in may_change and name != "docProps/app.xml":
            assert after[name] == data, f"{name} changed"
    if "docProps/app.xml" in before:
        assert after["docProps/app.xml"] == before["docProps/app.xml"]


def marked(path: Path) -> set[str]:
    info = info_of(path)
    return {info.sheets[i].name for i in info.owned}


# --- 3. every corpus workbook ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", corpus_files())
def test_adopt_then_refresh_changes_nothing_already_there(name: str, tmp_path: Path) -> None:
    path = copy_in(name, tmp_path)
    before, info = parts(path), info_of(path)
    adopted = runner.invoke(app, ["adopt", str(path), "--no-backup"])
    assert adopted.exit_code == 0, adopted.output
    after_adopt = parts(path)
    new = [n for n in after_adopt if n not in before]
    added = [s for s in info_of(path).sheets if s.part in new]
    had = {sheet_key(s.name) for s in info.sheets}
    assert [s.name for s in added] == [n for n in SHEET_NAMES if sheet_key(n) not in had]
    assert len(new) == len(added) > 0 and all(re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n) for n in new)
    assert marked(path) == {s.name for s in added if s.name in OWNED}  # input sheets are the person's
    assert [s.name for s in info_of(path).sheets][: len(info.sheets)] == [s.name for s in info.sheets]
    assert_original_kept(before, after_adopt, info)

    refreshed = runner.invoke(app, ["refresh", str(path), "--no-backup"])
    assert refreshed.exit_code in (0, 1), refreshed.output
    assert "refreshed" in refreshed.output or "unchanged" in refreshed.output
    assert_original_kept(before, parts(path), info)
    found = read_workbook(path).cells
    assert {"Tasks", "Dependencies", "Calendar", "Settings"} <= found.keys()

    again = adopt_workbook(path, backup=False)
    assert again.outcome is AdoptOutcome.UNCHANGED and again.added == ()


def test_refused_workbooks_get_a_clear_message_and_stay_untouched(tmp_path: Path) -> None:
    plain = tmp_path / "plain.xlsx"
    workbook = xlsxwriter.Workbook(str(plain))
    workbook.add_worksheet("Budget").write(0, 0, "mine")
    workbook.close()
    signed = tmp_path / "signed.xlsx"
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(signed, "w") as out:
        for item in src.infolist():
            out.writestr(item, src.read(item))
        out.writestr("_xmlsignatures/sig1.xml", "<Signature/>")
    encrypted = tmp_path / "encrypted.xlsx"
    encrypted.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    locked = tmp_path / "locked.xlsx"
    shutil.copyfile(plain, locked)
    (tmp_path / "~$locked.xlsx").write_bytes(b"owner")
    for path, why in ((signed, "signed"), (encrypted, "password"), (locked, "open in Excel")):
        before = path.read_bytes()
        out = runner.invoke(app, ["adopt", str(path)])
        assert out.exit_code == 2, out.output
        assert why in " ".join(out.output.split())
        assert path.read_bytes() == before and not Path(f"{path}.bak").exists()


def test_a_users_sheet_with_a_layout_name_is_kept_and_reported(tmp_path: Path) -> None:
    path = tmp_path / "mine.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    workbook.add_worksheet("TASKS").write_row(2, 0, ["ID", "Task name", "Duration"])
    workbook.add_worksheet("Check").write(0, 0, "my checks")
    workbook.add_worksheet("Plan").write_row(0, 0, ["ID", "Task name", "Duration", "Predecessors"])
    workbook.close()
    twin = tmp_path / "twin.xlsx"
    shutil.copyfile(path, twin)
    result = adopt_workbook(path, backup=False)
    assert result.outcome is AdoptOutcome.ADOPTED
    assert result.kept == ("TASKS", "Check") and "Tasks" not in result.added and "Check" not in result.added
    assert len(result.conflicts) == 1 and "'Check' is yours" in result.conflicts[0]
    out = runner.invoke(app, ["adopt", str(twin)])
    said = " ".join(out.output.split())
    assert out.exit_code == 0 and "kept your sheets: TASKS, Check" in said and "rename 'Check'" in said
    again = " ".join(runner.invoke(app, ["adopt", str(twin)]).output.split())
    assert "already has every wbs_tools sheet" in again and "kept" not in again


def test_a_sheet_that_looks_like_a_plan_table_is_pointed_out(tmp_path: Path) -> None:
    path = tmp_path / "mine.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    workbook.add_worksheet("Plan").write_row(0, 0, ["ID", "Task name", "Duration", "Predecessors"])
    workbook.close()
    result = adopt_workbook(path, output=tmp_path / "adopted.xlsx")
    assert result.path == tmp_path / "adopted.xlsx" and parts(path) != parts(result.path)
    assert any("'Plan' has a header like the Tasks table" in note for note in result.notes)


def test_new_sheets_have_title_guidance_and_header() -> None:
    sheet, owned = layout_sheet("Tasks")
    assert not owned and sheet.state == "visible" and sheet.freeze_rows == TASKS.header_row
    assert sheet.rows[0] == ["Tasks"] and sheet.rows[1] == [TASKS.guidance]
    assert sheet.rows[TASKS.header_row - 1] == [c.title for c in TASKS.columns]
    calendar, _ = layout_sheet("Calendar")
    assert calendar.rows[3][:7] == ["Standard", "Monday", "Yes", "08:00", "12:00", "13:00", "17:00"]
    assert calendar.rows[2][8] == "Calendar"  # the holidays table starts in column I
    hidden, owned = layout_sheet("_wbs_status_history")
    assert owned and hidden.state == "hidden"


# --- typing a plan into an adopted workbook --------------------------------------------------------------

START = dt.datetime(2026, 1, 5, 8)
PLAN_ROWS = [(1, "Design", "5d", None), (2, "Build", "10d", "1"), (3, "Go live", "0", "2")]


def type_plan(path: Path) -> None:
    """What a person types after adopting: a few tasks, a project start and a status date."""
    col = {k: column_letter(TASKS.column_number(k)) for k in ("id", "name", "duration", "predecessors")}
    cells: dict[str, object] = {}
    for row, (task_id, name, duration, predecessors) in enumerate(PLAN_ROWS, start=TASKS.header_row + 1):
        cells |= {f"{col['id']}{row}": task_id, f"{col['name']}{row}": name, f"{col['duration']}{row}": duration}
        if predecessors:
            cells[f"{col['predecessors']}{row}"] = predecessors
    rows = {s.key: SETTINGS.header_row + 1 + i for i, s in enumerate(SETTINGS_ROWS)}
    value = column_letter(SETTINGS.column_number("value"))
    settings = {f"{value}{rows['project_start']}": "2026-01-05 08:00",
                f"{value}{rows['status_date']}": "2026-01-09 17:00"}
    write_workbook(path, edits={"Tasks": cells, "Settings": settings}, backup=False)


def sheet_parts(path: Path, names: set[str]) -> set[str]:
    return {s.part for s in info_of(path).sheets if s.name in names and s.part}


def outside_cells(xml: bytes) -> bytes:
    """A sheet part without its cells and dimension: drawings, buttons, tables, validations..."""
    xml = re.sub(rb"<sheetData\s*/>|<sheetData\b.*?</sheetData>", b"", xml, count=1, flags=re.S)
    return re.sub(rb'<dimension ref="[^"]*"', b"<dimension", xml, count=1)


def refresh_twice(path: Path) -> tuple[dict[str, bytes], dict[str, bytes]]:
    first = runner.invoke(app, ["refresh", str(path), "--no-backup"])
    assert first.exit_code == 0, first.output
    once = parts(path)
    second = runner.invoke(app, ["refresh", str(path), "--no-backup"])
    assert second.exit_code == 0, second.output
    return once, parts(path)




@pytest.mark.parametrize("name", corpus_files("pivotTables"))
def test_pivot_workbook_adopted_typed_and_refreshed(name: str, tmp_path: Path) -> None:
    path = copy_in(name, tmp_path)
    before, info = parts(path), info_of(path)
    assert adopt_workbook(path, backup=False).outcome is AdoptOutcome.ADOPTED
    type_plan(path)
    once, twice = refresh_twice(path)
    assert_original_kept(before, once, info)
    assert any(n.startswith("xl/pivotTables/") for n in before)
    assert read_workbook(path).plan.settings.start == START
    assert twice == once  # determinism: the second refresh has nothing to write


# --- 4. a template after the person added a chart, pictures and a button ---------------------------------


def tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00" + b"\xff\x00\x00" * 2 + b"\x00" + b"\x00\x00\xff" * 2))
            + chunk(b"IEND", b""))


def decorated_template(path: Path) -> Path:
    """The sample plan built as the template, with what a PM adds: a dashboard with a chart and a
    picture, a picture and a macro button on the Tasks sheet."""
    workbook = xlsxwriter.Workbook(str(path), {"in_memory": True})
    workbook.set_properties({"title": "Project plan", "author": "wbs_tools", "created": CREATED})
    sheets = populate_workbook(workbook, plan=sample_plan(), registers=sample_registers())
    dashboard = workbook.add_worksheet("Dashboard")
    dashboard.write_column(0, 0, ["Phase", "Initiation", "Build", "Test"])
    dashboard.write_column(0, 1, ["Days", 10, 40, 15])
    chart = workbook.add_chart({"type": "column"})
    chart.add_series({"categories": "=Dashboard!$A$2:$A$4", "values": "=Dashboard!$B$2:$B$4", "name": "Days"})
    dashboard.insert_chart("D2", chart)
    dashboard.insert_image("D20", "logo.png", {"image_data": io.BytesIO(tiny_png())})
    sheets["Tasks"].insert_image("H1", "logo.png", {"image_data": io.BytesIO(tiny_png())})
    sheets["Tasks"].insert_button("K1", {"macro": "RefreshPlan", "caption": "Refresh", "width": 90})
    workbook.close()
    return path


def test_template_with_chart_pictures_and_button_refreshes_losslessly(tmp_path: Path) -> None:
    path = decorated_template(tmp_path / "plan.xlsx")
    before, info = parts(path), info_of(path)
    assert {"xl/charts/chart1.xml", "xl/media/image1.png", "xl/drawings/vmlDrawing1.vml"} <= before.keys()
    twin = tmp_path / "twin.xlsx"
    shutil.copyfile(path, twin)
    once, twice = refresh_twice(path)
    owned = sheet_parts(path, COMPUTED)
    changed = {n for n in before if once.get(n) != before[n]}
    assert changed and changed <= owned, changed - owned
    assert_original_kept(before, once, info, may_change=owned)
    for part in sheet_parts(path, COMPUTED - OWNED) & changed:  # input sheets: only cells changed
        assert outside_cells(once[part]) == outside_cells(before[part]), part
    assert twice == once  # determinism: the second refresh has nothing to write
    assert runner.invoke(app, ["refresh", str(twin), "--no-backup"]).exit_code == 0
    assert twin.read_bytes() == path.read_bytes()  # the same input gives the same bytes
    assert read_workbook(path).plan.tasks and "Refresh" in once["xl/drawings/vmlDrawing1.vml"].decode()


def test_pivots_are_covered_by_corpus_workbooks() -> None:
    """XlsxWriter cannot add a pivot table to the template; the corpus workbooks that carry one are
    adopted, typed into and refreshed above instead."""
    if not manifest():
        pytest.skip(f"workbook corpus not found at {CORPUS}")
    assert [e for e in manifest() if "pivotTables" in e["features"]]


# --- 5. LibreOffice opens an adopted and refreshed workbook ---------------------------------------------


@pytest.mark.libreoffice
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not on PATH")
def test_libreoffice_shows_the_computed_dates(tmp_path: Path) -> None:
    names = ["xlwings__examples__database__database.xlsm", "EPPlus__src__EPPlusTest__Workbooks__Control.xlsm"]
    if not all((CORPUS / n).is_file() for n in names):
        pytest.skip(f"workbook corpus not found at {CORPUS}")
    for name in names:
        path = copy_in(name, tmp_path)
        assert adopt_workbook(path, backup=False).outcome is AdoptOutcome.ADOPTED
        type_plan(path)
        assert runner.invoke(app, ["refresh", str(path), "--no-backup"]).exit_code == 0
    out = tmp_path / "csv"
    done = soffice(["--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1",
                    "--outdir", str(out), *[str(tmp_path / n) for n in names]], tmp_path / "lo", timeout=240)
    assert done.returncode == 0, done.stderr
    start, finish = TASKS.column_number("start") - 1, TASKS.column_number("finish") - 1
    expected = [(dt.date(2026, 1, 5), dt.date(2026, 1, 9)), (dt.date(2026, 1, 12), dt.date(2026, 1, 23)),
                (dt.date(2026, 1, 23), dt.date(2026, 1, 23))]
    styled = list(csv.reader((out / f"{Path(names[0]).stem}-Tasks.csv").read_text().splitlines()))
    rows = styled[TASKS.header_row:]
    assert [r[TASKS.column_number("name") - 1] for r in rows] == [name for _, name, _, _ in PLAN_ROWS]
    assert [(shown_date(r[start]), shown_date(r[finish])) for r in rows] == expected
    # a workbook without any date format shows the date serials until the columns are formatted
    bare = list(csv.reader((out / f"{Path(names[1]).stem}-Tasks.csv").read_text().splitlines()))
    serials = [float(r[start]) for r in bare[TASKS.header_row:]]
    assert [dt.date(1899, 12, 30) + dt.timedelta(days=int(s)) for s in serials] == [s for s, _ in expected]
    assert any(f.name.startswith(Path(names[1]).stem) and "Tasks" not in f.name for f in out.iterdir())


def shown_date(text: str) -> dt.date:
    """A date as LibreOffice shows it with the workbook's date format (locale-dependent order)."""
    day = text.strip().split(" ")[0]
    for fmt in ("%m/%d/%Y", "%m/%d/%y", "%Y-%m-%d", "%d.%m.%Y", "%d-%b-%y"):
        try:
            return dt.datetime.strptime(day, fmt).date()
        except ValueError:
            continue
    raise AssertionError(f"not a date as shown: {text!r}")

"""The lossless writer: only the cells and sheets wbs_tools owns change; everything else keeps its bytes."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
import shutil
import stat
import struct
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from python_calamine import CalamineWorkbook

from support.libreoffice import soffice
from wbs_tools.workbook import lossless as lossless_module
from wbs_tools.workbook.cell_edits import CellEdits, StreamedEdits
from wbs_tools.workbook.cell_values import ValueEncoder
from wbs_tools.workbook.lossless import (
    Limits,
    OwnedSheet,
    WorkbookError,
    WorkbookLockedError,
    render_workbook,
    write_workbook,
)
from wbs_tools.workbook.owned_sheet import read_workbook
from wbs_tools.workbook.package import OLE2_SIGNATURE, Package, rels_part
from wbs_tools.workbook.sheet_patch import SheetWriter
from wbs_tools.workbook.sheet_xml import excel_serial, patch_sheet

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "workbooks"
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
HOSTILE = ["=cmd|' /C calc'!A0", "<script>alert('x')</script>", "+1-2", "@SUM(A1)", "-x", "a & b > c"]


def corpus_files() -> list:
    if not (CORPUS / "manifest.json").is_file():
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"corpus not found at {CORPUS}"))]
    manifest = json.loads((CORPUS / "manifest.json").read_text())
    return [pytest.param(CORPUS / e["file"], id=e["file"][:60], marks=pytest.mark.corpus) for e in manifest]


# --- a small hand-made workbook for targeted cases --------------------------------------------------

STYLES = (f'<styleSheet xmlns="{MAIN}"><numFmts count="0"/><fonts count="2"><font/><font><b/></font></fonts>'
          '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
          '<borders count="1"><border/></borders><cellXfs count="3">'
          '<xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
          '<xf numFmtId="14" fontId="0" fillId="0" borderId="0" applyNumberFormat="1"/>'
          '<xf numFmtId="0" fontId="1" fillId="0" borderId="0"/></cellXfs>'
          '<dxfs count="1"><dxf><font><b/></font></dxf></dxfs></styleSheet>')


def make_workbook(path: Path, sheet_data: str, *, extra: str = "", date1904: bool = False,
                  calc_chain: bool = False, second_sheet: str | None = None,
                  more: dict[str, str] | None = None) -> Path:
    """A minimal xlsx written by hand, so every byte of the input is known."""
    rels = ('<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.'
            'openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>'
            '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'sharedStrings" Target="sharedStrings.xml"/>')
    sheets = '<sheet name="Tasks" sheetId="1" r:id="rId1"/>'
    types = "".join(f'<Override PartName="/xl/{name}" ContentType="application/vnd.openxmlformats-officedocument.'
                    f'spreadsheetml.{kind}+xml"/>' for name, kind in [
                        ("workbook.xml", "sheet.main"), ("styles.xml", "styles"),
                        ("sharedStrings.xml", "sharedStrings"), ("worksheets/sheet1.xml", "worksheet")])
    parts = {}
    if calc_chain:
        rels += ('<Relationship Id="rId4" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                 'relationships/calcChain" Target="calcChain.xml"/>')
        types += ('<Override PartName="/xl/calcChain.xml" ContentType="application/vnd.openxmlformats-'
                  'officedocument.spreadsheetml.calcChain+xml"/>')
        parts["xl/calcChain.xml"] = f'<calcChain xmlns="{MAIN}"><c r="B1" i="1"/></calcChain>'
    if second_sheet is not None:
        rels += ('<Relationship Id="rId5" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                 'relationships/worksheet" Target="worksheets/sheet2.xml"/>')
        sheets += f'<sheet name="{second_sheet}" sheetId="2" r:id="rId5"/>'
        types += ('<Override PartName="/xl/worksheets/sheet2.xml" ContentType="application/vnd.openxmlformats-'
                  'officedocument.spreadsheetml.worksheet+xml"/>')
        parts["xl/worksheets/sheet2.xml"] = f'<worksheet xmlns="{MAIN}"><sheetData/></worksheet>'
    files = {
        "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Types xmlns="http://'
        'schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="'
        'application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="'
        f'application/xml"/>{types}</Types>',
        "_rels/.rels": '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        'officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<workbook xmlns="{MAIN}" xmlns:r="http://schemas.openxmlformats.org/officeDocument/'
        f'2006/relationships"><workbookPr{" date1904=" + chr(34) + "1" + chr(34) if date1904 else ""}/>'
        f'<sheets>{sheets}</sheets><calcPr calcId="191029"/></workbook>',
        "xl/_rels/workbook.xml.rels": '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
        f'relationships">{rels}</Relationships>',
        "xl/worksheets/sheet1.xml": f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet '
        f'xmlns="{MAIN}" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        f'<dimension ref="A1:C3"/>{sheet_data}{extra}</worksheet>',
        "xl/styles.xml": STYLES,
        "xl/sharedStrings.xml": f'<sst xmlns="{MAIN}" count="2" uniqueCount="2"><si><t>Name</t></si>'
        '<si><r><t>Fin</t></r><r><t>ish</t></r></si></sst>',
        **parts,
        **(more or {}),
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in files.items():
            zf.writestr(zipfile.ZipInfo(name, (2020, 1, 2, 3, 4, 6)), text.encode(), zipfile.ZIP_DEFLATED)
    return path


BASIC = ('<sheetData><row r="1" spans="1:3"><c r="A1" s="2" t="s"><v>0</v></c><c r="B1" s="2" t="s"><v>1</v></c>'
         '</row><row r="2" spans="1:3"><c r="A2" t="s"><v>0</v></c><c r="B2" s="1"><v>45000</v></c>'
         '<c r="C2"><f>B2+1</f><v>45001</v></c></row><row r="3"><c r="B3" s="1"><v>45001</v></c></row>'
         '</sheetData>')
EXTRA = ('<conditionalFormatting sqref="B2:B9"><cfRule type="cellIs" dxfId="0" priority="1" operator="lessThan">'
         '<formula>TODAY()</formula></cfRule></conditionalFormatting><dataValidations count="1"><dataValidation '
         'type="list" sqref="A2:A9"><formula1>"a,b"</formula1></dataValidation></dataValidations>')


@pytest.fixture
def basic(tmp_path: Path) -> Path:
    return make_workbook(tmp_path / "plan.xlsx", BASIC, extra=EXTRA)


def raw_parts(data: bytes) -> dict[str, bytes]:
    """Each part's compressed bytes exactly as stored (read without this package's code)."""
    out = {}
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for info in zf.infolist():
            n, m = struct.unpack_from("<HH", data, info.header_offset + 26)
            start = info.header_offset + 30 + n + m
            out[info.filename] = data[start : start + info.compress_size]
    return out


def members(path_or_bytes: Path | bytes) -> dict[str, tuple[bytes, zipfile.ZipInfo]]:
    data = path_or_bytes if isinstance(path_or_bytes, bytes) else path_or_bytes.read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {i.filename: (zf.read(i), i) for i in zf.infolist()}


def outside_sheet_data(xml: bytes) -> bytes:
    """The part without its cells, and with the dimension's ref (widened by design) blanked."""
    xml = re.sub(rb"<sheetData\s*/>|<sheetData\b.*?</sheetData>", b"<sheetData/>", xml, count=1, flags=re.S)
    return re.sub(rb'(<dimension ref=")[^"]*', rb"\1", xml, count=1)


# --- targeted behaviour ------------------------------------------------------------------------------


def test_values_read_back_and_everything_else_is_untouched(basic: Path) -> None:
    before = members(basic)
    report = write_workbook(basic, edits={"Tasks": {
        "A2": "Design", "B2": dt.date(2025, 3, 3), "D2": 7.5, "E2": True, "A5": "new row", "C9": None,
    }})
    assert report.written["Tasks"] == ("A2", "B2", "D2", "E2", "A5", "C9")
    assert report.changed_parts == ("xl/worksheets/sheet1.xml",) and report.backup is not None
    after = members(basic)
    assert list(after) == list(before)
    for name, (data, info) in before.items():
        if name != "xl/worksheets/sheet1.xml":
            assert after[name][0] == data
            assert (after[name][1].CRC, after[name][1].compress_size) == (info.CRC, info.compress_size)
            assert after[name][1].date_time == info.date_time
    old, new = before["xl/worksheets/sheet1.xml"][0], after["xl/worksheets/sheet1.xml"][0]
    assert outside_sheet_data(new) == outside_sheet_data(old)
    assert b'<dimension ref="A1:E9"/>' in new
    assert b'<c r="C2"><f>B2+1</f><v>45001</v></c>' in new  # neighbours untouched
    ws = openpyxl.load_workbook(basic)["Tasks"]
    assert ws["A2"].value == "Design" and ws["B2"].value == dt.datetime(2025, 3, 3)
    assert ws["D2"].value == 7.5 and ws["E2"].value is True and ws["A5"].value == "new row"
    rows = CalamineWorkbook.from_path(str(basic)).get_sheet_by_name("Tasks").to_python()
    assert rows[1][0] == "Design" and rows[4][0] == "new row"


def test_new_cells_take_the_style_above_or_the_template_row(basic: Path) -> None:
    write_workbook(basic, edits={"Tasks": {"B6": dt.date(2025, 1, 1), "A6": "x"}})
    sheet = members(basic)["xl/worksheets/sheet1.xml"][0]
    assert b'<c r="B6" s="1"><v>45658</v></c>' in sheet  # date style from B3
    assert b'<c r="A6" t="inlineStr">' in sheet  # A2 above has no style
    write_workbook(basic, edits={"Tasks": {"B7": 1, "A7": "y"}}, style_from_row={"Tasks": 1})
    sheet = members(basic)["xl/worksheets/sheet1.xml"][0]
    assert b'<c r="A7" s="2" t="inlineStr">' in sheet and b'<c r="B7" s="2">' in sheet


def test_formula_cells_are_skipped_unless_asked(tmp_path: Path) -> None:
    path = make_workbook(tmp_path / "f.xlsx", BASIC, calc_chain=True)
    report = write_workbook(path, edits={"Tasks": {"C2": 1}})
    assert [(s.ref, s.reason) for s in report.skipped] == [("C2", "the cell holds a formula")]
    assert not report.changed and not (tmp_path / "f.xlsx.bak").exists()
    report = write_workbook(path, edits={"Tasks": {"C2": 1}}, overwrite_formulas=True)
    assert report.removed_parts == ("xl/calcChain.xml",)
    after = members(path)
    assert b"calcChain" not in after["xl/_rels/workbook.xml.rels"][0]
    assert b"calcChain" not in after["[Content_Types].xml"][0]
    assert openpyxl.load_workbook(path)["Tasks"]["C2"].value == 1


def test_shared_formula_master_is_never_overwritten(tmp_path: Path) -> None:
    data = ('<sheetData><row r="1"><c r="A1"><f t="shared" ref="A1:A2" si="0">B1</f><v>1</v></c></row>'
            '<row r="2"><c r="A2"><f t="shared" si="0"/><v>2</v></c></row></sheetData>')
    path = make_workbook(tmp_path / "s.xlsx", data)
    report = write_workbook(path, edits={"Tasks": {"A1": 5, "A2": 6}}, overwrite_formulas=True)
    assert [s.ref for s in report.skipped] == ["A1"] and report.written == {"Tasks": ("A2",)}


def test_none_clears_the_value_and_keeps_the_style(basic: Path) -> None:
    write_workbook(basic, edits={"Tasks": {"B2": None}})
    assert b'<c r="B2" s="1"/>' in members(basic)["xl/worksheets/sheet1.xml"][0]


def test_unchanged_values_leave_the_file_alone(basic: Path) -> None:
    stamp = basic.stat().st_mtime_ns
    report = write_workbook(basic, edits={"Tasks": {"A1": "Name", "B1": "Finish", "B2": 45000,
                                                    "B3": dt.date(2023, 3, 16)}})
    assert report.unchanged == 4 and not report.changed
    assert basic.stat().st_mtime_ns == stamp and not (basic.parent / "plan.xlsx.bak").exists()


@pytest.mark.parametrize("text", [*HOSTILE, "_x0041_ literal", "tab\tbell\x07", "  padded  ", "multi\nline"])
def test_hostile_text_is_stored_as_plain_text(basic: Path, text: str) -> None:
    write_workbook(basic, edits={"Tasks": {"D4": text}})
    sheet = members(basic)["xl/worksheets/sheet1.xml"][0]
    assert sheet.count(b"<f>") == 1  # only the original formula in C2
    cell = CalamineWorkbook.from_path(str(basic)).get_sheet_by_name("Tasks").to_python()[3][3]
    assert cell == text
    if "_x" not in text and "\x07" not in text:
        assert openpyxl.load_workbook(basic)["Tasks"]["D4"].value == text


def test_owned_sheet_added_then_replaced_and_user_sheets_protected(tmp_path: Path) -> None:
    path = make_workbook(tmp_path / "o.xlsx", BASIC, second_sheet="Status")
    with pytest.raises(WorkbookError, match="did not create"):
        write_workbook(path, owned_sheets={"Status": OwnedSheet([["x"]])})
    first = OwnedSheet([["Code", "When"], ["late", dt.date(2025, 1, 2)]], state="hidden",
                       column_widths={1: 30}, freeze_rows=1)
    report = write_workbook(path, owned_sheets={"Check": first})
    assert report.added_parts == ("xl/worksheets/sheet3.xml",)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Tasks", "Status", "Check"] and wb["Check"].sheet_state == "hidden"
    assert wb["Check"]["B2"].value == dt.datetime(2025, 1, 2)  # the template's date style was reused
    report = write_workbook(path, owned_sheets={"check": OwnedSheet([["only"]])})
    assert report.added_parts == () and "xl/worksheets/sheet3.xml" in report.changed_parts
    wb = openpyxl.load_workbook(path)
    assert wb["Check"]["A1"].value == "only" and wb["Check"].sheet_state == "visible"
    assert wb["Check"]["B2"].value is None


FRAME = (f'<worksheet xmlns="{MAIN}"><dimension ref="A1:C4"/><sheetViews><sheetView workbookViewId="0"><pane '
         'ySplit="3" topLeftCell="A4" activePane="bottomLeft" state="frozen"/></sheetView></sheetViews><cols>'
         '<col min="1" max="1" width="20" style="2" customWidth="1"/><col min="2" max="2" width="12" style="1" '
         'customWidth="1"/></cols><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>Title</t></is></c></row>'
         '<row r="3"><c r="A3" s="2" t="inlineStr"><is><t>Code</t></is></c></row><row r="4"><c r="A4"><v>9</v>'
         '</c></row></sheetData><autoFilter ref="A3:C4"/><pageMargins left="1" right="1" top="1" bottom="1" '
         'header="0" footer="0"/></worksheet>')


def test_owned_sheet_refill_keeps_the_frame(tmp_path: Path) -> None:
    path = make_workbook(tmp_path / "f.xlsx", BASIC, second_sheet="Check",
                         more={"xl/worksheets/sheet2.xml": FRAME})
    sheet = OwnedSheet([["late", dt.date(2025, 1, 2), dt.datetime(2025, 1, 3, 8)], ["ok", None, 3]], start_row=4)
    write_workbook(path, owned_sheets={"Check": sheet}, replace_unmarked_sheets=True)
    xml = members(path)["xl/worksheets/sheet2.xml"][0].decode()
    assert outside_sheet_data(xml.encode()).replace(b"A3:C5", b"A3:C4") == outside_sheet_data(FRAME.encode())
    assert '<dimension ref="A1:C5"/>' in xml and '<autoFilter ref="A3:C5"/>' in xml
    assert '<row r="1"><c r="A1" t="inlineStr"><is><t>Title</t></is></c></row><row r="3">' in xml  # kept
    assert '<c r="A4" s="2" t="inlineStr">' in xml and '<c r="B4" s="1"><v>45659</v></c>' in xml
    assert '<c r="C4" s="1"><v>45660.333333333336</v></c>' in xml  # plainest date style for a date
    again = write_workbook(path, owned_sheets={"Check": sheet})
    assert not again.changed  # same rows: nothing written


def test_column_style_wins_for_new_cells() -> None:
    xml = (f'<worksheet xmlns="{MAIN}"><cols><col min="2" max="2" style="7"/></cols><sheetData><row r="1">'
           '<c r="A1" s="3"/><c r="B1" s="3"/></row><row r="2" s="9" customFormat="1"/></sheetData></worksheet>')
    out = patch_sheet(xml.encode(), {"A3": 1, "B3": 2, "C2": 3, "A4": 4}, style_row=None).data
    assert b'<c r="A3" s="3">' in out and b'<c r="B3" s="7">' in out and b'<c r="C2" s="9">' in out


@pytest.mark.parametrize("cells", [
    '<c r="A1" s="3"/><c r="B1" s="4"><v>1</v></c>',  # as Excel writes them: the fast column scan
    '<c r="A1" s="3"/><c r="$B1" s="4"><v>1</v></c>',  # an absolute reference: still the fast scan
    '<c r="A1" s="3"/><c r="b1" s="4"><v>1</v></c>',  # lower case: the general scan
    '<c r="A1" s="3"/><c s="4" r="B1"><v>1</v></c>',  # r not first: the general scan
    '<c r="A1" s="3" t="inlineStr"><is><r><rPr><color rgb="FF0000"/></rPr><t>x</t></r></is></c>'
    '<c r="B1" s="4"><v>1</v></c>',  # rich text: a <color> counted as a cell, so the general scan
])
def test_new_cells_take_the_style_of_the_cell_above_however_it_is_written(cells: str) -> None:
    xml = f'<worksheet xmlns="{MAIN}"><sheetData><row r="1">{cells}</row><row r="2"/></sheetData></worksheet>'
    out = patch_sheet(xml.encode(), {"A2": 1, "B2": 2}, style_row=None).data
    assert b'<c r="A2" s="3"><v>1</v></c><c r="B2" s="4"><v>2</v></c>' in out


def test_rows_streamed_as_values_in_fixed_columns_patch_like_any_edits() -> None:
    """A table's computed columns reach the writer as one tuple of values per row; the result is the
    one the same cells give as ordinary edits, including a protected cell, a row that does not exist
    yet, a cell set on top of the stream and rows in every shape the writer knows."""
    rows = ['<row r="1"><c r="A1" t="inlineStr"><is><t>ID</t></is></c></row>']
    for r in range(2, 40):
        if r % 3 == 0:  # every edited cell there, empty: filled where they are
            cells = f'<c r="B{r}" s="2"/><c r="C{r}" s="1"/><c r="D{r}" s="1"/>'
        elif r % 3 == 1:  # none there: new cells from the row plan
            cells = ""
        else:  # some there, a formula in some: cell by cell
            cells = f'<c r="B{r}" s="2"><v>{r}</v></c>' + (f'<c r="D{r}"><f>1+1</f><v>2</v></c>' if r % 5 == 0 else "")
        rows.append(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c>{cells}</row>')
    xml = f'<worksheet xmlns="{MAIN}"><sheetData>{"".join(rows)}</sheetData></worksheet>'.encode()
    columns = (2, 3, 4)
    values = {r: (r * 2 if r % 7 else r, dt.datetime(2026, 3, r % 28 + 1, 8), f"note {r}") for r in range(2, 45)}

    def produce() -> Iterator[tuple[int, tuple[object, ...]]]:
        yield from values.items()

    streamed = StreamedEdits(produce, columns, 3 * len(values))  # type: ignore[arg-type]
    streamed.set_row(10, [(4, "typed on top")])
    plain = CellEdits()
    for r, row_values in values.items():
        plain.set_row(r, list(zip(columns, row_values, strict=True)))
    plain.set_row(10, [(2, values[10][0]), (3, values[10][1]), (4, "typed on top")])
    protected = {(12, 4): "a table header"}
    assert dict(zip(streamed, streamed.values(), strict=True)) == dict(zip(plain, plain.values(), strict=True))
    again = StreamedEdits(produce, columns, 3 * len(values))  # type: ignore[arg-type]
    for edits in (streamed, again):
        expected = CellEdits()
        expected.update(plain if edits is streamed else {ref: plain[ref] for ref in plain} | {"D10": values[10][2]})
        ours = patch_sheet(xml, edits, protected=protected)
        theirs = patch_sheet(xml, expected, protected=protected)
        assert ours.data == theirs.data and list(ours.written) == list(theirs.written)
        assert ours.skipped == theirs.skipped
        assert ("D12", "a table header") in ours.skipped and ("D20", "the cell holds a formula") in ours.skipped
        serial = excel_serial(values[9][1])
        assert f'<c r="B9" s="2"><v>18</v></c><c r="C9" s="1"><v>{serial!r}</v></c>'.encode() in ours.data
        assert re.search(rb'<c r="B44" s="2"><v>88</v></c>', ours.data) and b"note 44" in ours.data


_COLUMN_VALUES = st.one_of(
    st.none(), st.integers(-(10**6), 10**16), st.booleans(), st.floats(allow_nan=False, allow_infinity=False),
    st.datetimes(min_value=dt.datetime(1900, 3, 1), max_value=dt.datetime(2200, 1, 1)),
    st.sampled_from(["1.2.3", "after 4 Build & test", " padded", "", "x_x0041_", "<b>", "名前"]) | st.text(max_size=8))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(_COLUMN_VALUES, _COLUMN_VALUES, _COLUMN_VALUES), min_size=1, max_size=60),
       st.sampled_from(["kind", "mixed"]))
def test_values_encoded_a_block_of_rows_at_a_time_patch_as_cell_by_cell_edits(
        values: list[tuple[object, object, object]], columns_of: str) -> None:
    """Fixed-column rows are encoded a block at a time, column by column: the sheet is the one the same
    cells give as ordinary edits, whatever the values (one type a column, or any mix), in rows that
    exist in every shape and in new rows below the data."""
    if columns_of == "kind":  # each column one type, as the Tasks columns are: the fast paths
        values = [(r[0] if isinstance(r[0], int) and not isinstance(r[0], bool) else n,
                   f"{n}.{r[1]!s:.3}", r[2] if isinstance(r[2], dt.datetime) else None)
                  for n, r in enumerate(values)]
    rows = []
    for r in range(2, 2 + len(values) - len(values) // 3):  # the last third are new rows below the data
        cells = {0: f'<c r="B{r}" s="2"/><c r="C{r}" s="1"/><c r="D{r}" s="1"/>', 1: ""}.get(r % 3, f'<c r="B{r}"/>')
        rows.append(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c>{cells}</row>')
    xml = f'<worksheet xmlns="{MAIN}"><sheetData>{"".join(rows)}</sheetData></worksheet>'.encode()
    by_row = {r: v for r, v in enumerate(values, start=2)}
    streamed = StreamedEdits(lambda: iter(by_row.items()), (2, 3, 4), 3 * len(by_row))  # type: ignore[arg-type]
    plain = CellEdits()
    for r, row_values in by_row.items():
        plain.set_row(r, list(zip((2, 3, 4), row_values, strict=True)))  # type: ignore[arg-type]
    ours, theirs = patch_sheet(xml, streamed), patch_sheet(xml, plain)
    assert ours.data == theirs.data and list(ours.written) == list(theirs.written)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["empty", "same", "other", "formula"]),
                          st.sampled_from(["empty", "same", "other", "formula"]),
                          st.sampled_from([None, 7, "done", dt.datetime(2026, 3, 2, 8)])), min_size=1, max_size=30))
def test_rows_whose_cells_all_exist_patch_as_the_cell_by_cell_path(cells: list[tuple[str, str, object]]) -> None:
    """Rows whose edited cells all exist take the filled-row path (one plan for the row layout): the bytes,
    the cells reported written, skipped and left unchanged are those of the cell-by-cell path, whether
    a cell is empty, already holds its new value, holds another one or a formula."""
    encode = ValueEncoder(b"", False)

    def cell(ref: str, style: str, state: str, value: object) -> str:
        if state == "empty" or (state == "same" and value is None):
            return f'<c r="{ref}" s="{style}"/>'
        if state == "formula":
            return f'<c r="{ref}" s="{style}"><f>1+1</f><v>2</v></c>'
        held = value if state == "same" else 99
        return f'<c r="{ref}" s="{style}"{encode(held)[3].decode()}'  # type: ignore[arg-type]

    rows, edits = [], CellEdits()
    for r, (b, c, value) in enumerate(cells, start=2):
        rows.append(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c>{cell(f"B{r}", "2", b, r)}{cell(f"C{r}", "1", c, value)}'
                    f'<c r="D{r}"><v>1</v></c></row>')
        edits.set_row(r, [(2, r), (3, value)])
    _patches_as_the_cell_by_cell_path(f'<worksheet xmlns="{MAIN}"><sheetData>{"".join(rows)}</sheetData></worksheet>',
                                      edits)


def _patches_as_the_cell_by_cell_path(xml: str, edits: CellEdits) -> None:
    """The fast paths write the bytes, and report the cells written, left unchanged and skipped, of
    the general cell-by-cell patch of each row."""
    fast = patch_sheet(xml.encode(), edits)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(SheetWriter, "_fast_row", lambda *_args, **_kwargs: None)
        slow = patch_sheet(xml.encode(), edits)
    assert fast.data == slow.data
    assert list(fast.written) == list(slow.written) and fast.unchanged == slow.unchanged
    assert fast.skipped == slow.skipped


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.booleans(), st.sampled_from(["1", "3"]),
                          st.sampled_from(["empty", "same", "other", "absent"]),
                          st.sampled_from([None, 7, "done", dt.datetime(2026, 3, 2, 8)])), min_size=2, max_size=30))
def test_rows_of_other_layouts_patch_as_the_cell_by_cell_path(rows: list[tuple[bool, bool, str, str, object]]) -> None:
    """A filled-row plan is tried on the next rows edited in the same columns whatever their other
    cells: rows with or without a first cell or a cell between the edited ones, another style, a
    missing edited cell, must still patch to the bytes and counts of the cell-by-cell path."""
    encode = ValueEncoder(b"", False)
    parts, edits = [], CellEdits()
    for r, (first, between, style, state, value) in enumerate(rows, start=2):
        if state == "absent":
            c = ""
        elif state == "empty" or (state == "same" and value is None):
            c = f'<c r="D{r}" s="{style}"/>'
        else:
            c = f'<c r="D{r}" s="{style}"{encode(value if state == "same" else 99)[3].decode()}'  # type: ignore[arg-type]
        a = f'<c r="A{r}"><v>1</v></c>' if first else ""
        b = f'<c r="C{r}"><v>5</v></c>' if between else ""
        parts.append(f'<row r="{r}">{a}<c r="B{r}" s="2"/>{b}{c}<c r="E{r}"><v>1</v></c></row>')
        edits.set_row(r, [(2, r), (4, value)])  # type: ignore[list-item]
    _patches_as_the_cell_by_cell_path(f'<worksheet xmlns="{MAIN}"><sheetData>{"".join(parts)}</sheetData></worksheet>',
                                      edits)


def test_unique_texts_do_not_push_repeated_values_out_of_the_encoder() -> None:
    """A million unique outline numbers or task IDs must not keep clearing the dates every row
    repeats; texts and numbers still encode the same whether they come from a cache or not."""
    encode = ValueEncoder(b"", False)
    day, flag = dt.datetime(2026, 3, 2, 8), True
    first = encode(day), encode(flag)
    for n in range(70_000):  # more than the 65,536 values the encoder keeps
        assert encode(f"1.{n}")[3] == f' t="inlineStr"><is><t>1.{n}</t></is></c>'.encode()
        assert encode(n)[3] == f"><v>{n}</v></c>".encode()
    # still kept (a KeyError if pushed out); compiled, a cached tuple is the same value, not the same object
    assert encode.cache[dt.datetime, day] == first[0] and encode.cache[bool, flag] == first[1]
    assert len(encode.singles) <= 1 << 12
    assert encode(1)[3] == b"><v>1</v></c>" and encode(True)[3] == b' t="b"><v>1</v></c>' == encode(True)[3]
    assert encode(1.5)[3] == b"><v>1.5</v></c>" and encode(10**16)[3] == encode(10**16)[3]
    assert encode("a & b")[3] == b' t="inlineStr"><is><t>a &amp; b</t></is></c>' == encode("a & b")[3]


def test_full_calc_on_load_is_opt_in(basic: Path) -> None:
    write_workbook(basic, edits={"Tasks": {"A2": "x"}})
    assert b"fullCalcOnLoad" not in members(basic)["xl/workbook.xml"][0]
    write_workbook(basic, edits={"Tasks": {"A2": "y"}}, full_calc_on_load=True)
    assert b'<calcPr calcId="191029" fullCalcOnLoad="1"/>' in members(basic)["xl/workbook.xml"][0]


def test_date1904_serials() -> None:
    assert excel_serial(dt.date(1900, 1, 1)) == 1 and excel_serial(dt.date(1900, 3, 1)) == 61
    assert excel_serial(dt.datetime(2025, 1, 1, 12)) == 45658.5
    assert excel_serial(dt.date(1904, 1, 2), date1904=True) == 1


def test_namespace_prefixed_sheets_are_patched_with_their_prefix() -> None:
    xml = (f'<x:worksheet xmlns:x="{MAIN}"><x:dimension ref="A1"/><x:sheetData><x:row r="2"><x:c r="B2">'
           '<x:v>1</x:v></x:c></x:row></x:sheetData></x:worksheet>').encode()
    out = patch_sheet(xml, {"A2": "a", "B2": 2, "A1": 3}).data
    assert out == (f'<x:worksheet xmlns:x="{MAIN}"><x:dimension ref="A1:B2"/><x:sheetData><x:row r="1"><x:c r="A1">'
                   '<x:v>3</x:v></x:c></x:row><x:row r="2"><x:c r="A2" t="inlineStr"><x:is><x:t>a</x:t></x:is></x:c>'
                   '<x:c r="B2"><x:v>2</x:v></x:c></x:row></x:sheetData></x:worksheet>').encode()


def test_prefixed_workbook_part_gets_prefixed_entries(tmp_path: Path) -> None:
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    workbook = (f'<x:workbook xmlns:x="{MAIN}"><x:sheets><x:sheet name="Tasks" sheetId="1" xmlns:rr="{rel}" '
                'rr:id="rId1"/></x:sheets><x:calcPr calcId="1"/></x:workbook>')
    path = make_workbook(tmp_path / "p.xlsx", BASIC, more={"xl/workbook.xml": workbook})
    write_workbook(path, owned_sheets={"Check": OwnedSheet([["a"]], state="veryHidden")}, full_calc_on_load=True)
    xml = members(path)["xl/workbook.xml"][0].decode()
    assert xml == workbook.replace("</x:sheets>", f'<x:sheet name="Check" sheetId="2" state="veryHidden" r:id="rId4" '
                                   f'xmlns:r="{rel}"/></x:sheets><x:definedNames><x:definedName name="_wbs_owned" '
                                   """localSheetId="1" hidden="1">'Check'!$A$1</x:definedName></x:definedNames>""")\
        .replace('calcId="1"', 'calcId="1" fullCalcOnLoad="1"')
    assert openpyxl.load_workbook(path)["Check"].sheet_state == "veryHidden"


def test_deterministic_output(basic: Path, tmp_path: Path) -> None:
    data = basic.read_bytes()
    kwargs = {"edits": {"Tasks": {"A9": "x", "B2": dt.datetime(2025, 5, 5, 8)}},
              "owned_sheets": {"Check": OwnedSheet([["a", 1]])}}
    assert render_workbook(data, **kwargs)[0] == render_workbook(data, **kwargs)[0]
    other = tmp_path / "copy.xlsx"
    shutil.copy(basic, other)
    write_workbook(basic, **kwargs)
    write_workbook(other, **kwargs)
    assert basic.read_bytes() == other.read_bytes()


def test_table_headers_are_protected(tmp_path: Path) -> None:
    sheet_rels = ('<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                  '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                  'relationships/table" Target="../tables/table1.xml"/></Relationships>')
    table = (f'<table xmlns="{MAIN}" id="1" name="T" displayName="Tasks_T" ref="A1:B3" totalsRowCount="1">'
             '<tableColumns count="2"><tableColumn id="1" name="Name"/><tableColumn id="2" name="Finish"/>'
             '</tableColumns></table>')
    path = make_workbook(tmp_path / "t.xlsx", BASIC, extra='<tableParts count="1"><tablePart r:id="rId1"/>'
                         '</tableParts>', more={"xl/worksheets/_rels/sheet1.xml.rels": sheet_rels,
                                                "xl/tables/table1.xml": table})
    report = write_workbook(path, edits={"Tasks": {"A1": "Renamed", "B3": 1, "A2": "ok"}})
    assert [(s.ref, s.reason) for s in report.skipped] == [
        ("A1", "the cell is the header of table 'Tasks_T'"), ("B3", "the cell is the totals row of table 'Tasks_T'")]
    assert report.written == {"Tasks": ("A2",)}


def test_implicit_and_reordered_references() -> None:
    xml = (f'<worksheet xmlns="{MAIN}"><sheetData><row><c><v>1</v></c><c s="2" r="C1"><v>3</v></c></row>'
           '<row><c><v>4</v></c></row><row r="5"><c r="B5"><v>5</v></c></row></sheetData></worksheet>')
    out = patch_sheet(xml.encode(), {"A1": 9, "C1": 8, "B1": 7, "A2": 6, "A4": 0, "C5": 1}).data
    assert out.decode() == (
        f'<worksheet xmlns="{MAIN}"><sheetData><row><c><v>9</v></c><c r="B1"><v>7</v></c><c s="2" r="C1"><v>8</v>'
        '</c></row><row><c><v>6</v></c></row><row r="4"><c r="A4"><v>0</v></c></row><row r="5"><c r="B5"><v>5</v>'
        '</c><c r="C5" s="2"><v>1</v></c></row></sheetData></worksheet>')


def test_empty_rows_and_sheets_grow_cells() -> None:
    empty = f'<worksheet xmlns="{MAIN}"><dimension ref="A1"/><sheetData/><pageMargins/></worksheet>'.encode()
    out = patch_sheet(empty, {"B2": 1}).data
    assert out == (f'<worksheet xmlns="{MAIN}"><dimension ref="A1:B2"/><sheetData><row r="2"><c r="B2"><v>1</v>'
                   '</c></row></sheetData><pageMargins/></worksheet>').encode()
    bare = f'<worksheet xmlns="{MAIN}"><sheetData><row r="1" spans="1:1" ht="20"/></sheetData></worksheet>'
    out = patch_sheet(bare.encode(), {"C1": "x"}).data
    assert b'<row r="1" spans="1:3" ht="20"><c r="C1" t="inlineStr"><is><t>x</t></is></c></row>' in out


def test_write_to_target_leaves_source(basic: Path, tmp_path: Path) -> None:
    original = basic.read_bytes()
    report = write_workbook(basic, edits={"Tasks": {"A2": "copy"}}, target=tmp_path / "out.xlsx")
    assert basic.read_bytes() == original and report.path == tmp_path / "out.xlsx" and report.backup is None
    assert openpyxl.load_workbook(tmp_path / "out.xlsx")["Tasks"]["A2"].value == "copy"


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_a_new_file_gets_the_usual_mode_and_a_rewritten_one_keeps_its_own(basic: Path, tmp_path: Path) -> None:
    mask = os.umask(0o027)
    try:
        write_workbook(basic, edits={"Tasks": {"A2": "new"}}, target=tmp_path / "new.xlsx")
        basic.chmod(0o604)
        write_workbook(basic, edits={"Tasks": {"A2": "again"}}, backup=False)
    finally:
        os.umask(mask)
    assert stat.S_IMODE((tmp_path / "new.xlsx").stat().st_mode) == 0o640  # 0o666 less the umask, not 0o600
    assert stat.S_IMODE(basic.stat().st_mode) == 0o604
    assert not list(tmp_path.glob(".*.tmp"))


# --- refusals: the file on disk never changes -----------------------------------------------------------


@pytest.mark.parametrize("lock", ["~$plan.xlsx", ".~lock.plan.xlsx#"])
def test_lock_file_refused(basic: Path, lock: str) -> None:
    original = basic.read_bytes()
    (basic.parent / lock).write_bytes(b"owner")
    with pytest.raises(WorkbookLockedError, match="open in Excel"):
        write_workbook(basic, edits={"Tasks": {"A2": "x"}})
    assert basic.read_bytes() == original


def test_encrypted_and_non_zip_files_refused(tmp_path: Path) -> None:
    enc = tmp_path / "secret.xlsx"
    enc.write_bytes(OLE2_SIGNATURE + b"\0" * 600)
    with pytest.raises(WorkbookError, match="encrypted"):
        write_workbook(enc, edits={"Tasks": {"A1": 1}})
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"not a zip at all")
    with pytest.raises(WorkbookError, match="not a valid xlsx"):
        write_workbook(junk, edits={"Tasks": {"A1": 1}})
    assert junk.read_bytes() == b"not a zip at all" and sorted(p.name for p in tmp_path.iterdir()) == [
        "junk.xlsx", "secret.xlsx"]


def test_zip_bomb_and_limits_refused(tmp_path: Path) -> None:
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/worksheets/sheet1.xml", b"\0" * (20 * 1024 * 1024))
    with pytest.raises(WorkbookError, match="zip bomb"):
        Package(bomb.getvalue())
    with pytest.raises(WorkbookError, match="inflates to"):
        Package(bomb.getvalue(), Limits(max_total_bytes=1024 * 1024, max_ratio=1e9))
    with pytest.raises(WorkbookError, match="parts"):
        Package(bomb.getvalue(), Limits(max_parts=0))


def test_interrupted_write_leaves_original(basic: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    original = basic.read_bytes()

    def fail(*_args: object) -> None:
        raise WorkbookError("simulated failure")

    monkeypatch.setattr(lossless_module, "_verify_written", fail)
    with pytest.raises(WorkbookError, match="simulated"):
        write_workbook(basic, edits={"Tasks": {"A2": "x"}})
    assert basic.read_bytes() == original
    assert [p.name for p in basic.parent.iterdir()] == [basic.name]


def test_signed_workbooks_refused(tmp_path: Path) -> None:
    path = make_workbook(tmp_path / "signed.xlsx", BASIC, more={"_xmlsignatures/sig1.xml": "<Signature/>"})
    with pytest.raises(WorkbookError, match="digitally signed"):
        write_workbook(path, edits={"Tasks": {"A2": "x"}})


def test_refilling_away_formulas_drops_the_calc_chain(tmp_path: Path) -> None:
    frame = (f'<worksheet xmlns="{MAIN}"><sheetData><row r="1"><c r="A1"><f>1+1</f><v>2</v></c></row>'
             '</sheetData></worksheet>')
    path = make_workbook(tmp_path / "c.xlsx", BASIC, calc_chain=True, second_sheet="Check",
                         more={"xl/worksheets/sheet2.xml": frame})
    report = write_workbook(path, owned_sheets={"Check": OwnedSheet([["plain"]])}, replace_unmarked_sheets=True)
    assert report.removed_parts == ("xl/calcChain.xml",)


def test_bad_input_refused_before_writing(basic: Path) -> None:
    original = basic.read_bytes()
    for edits, error in [({"Nope": {"A1": 1}}, WorkbookError), ({"Tasks": {"A0": 1}}, ValueError),
                         ({"Tasks": {"A1": float("nan")}}, ValueError), ({"Tasks": {"A1": object()}}, TypeError)]:
        with pytest.raises(error):
            write_workbook(basic, edits=edits)
    assert basic.read_bytes() == original


# --- big sheets ------------------------------------------------------------------------------------------


def test_100k_cell_edit_in_100k_row_sheet_is_fast(tmp_path: Path) -> None:
    rows = "".join(f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>Task {r}</t></is></c><c r="B{r}" s="1">'
                   f"<v>{45000 + r}</v></c></row>" for r in range(1, 100_001))
    path = make_workbook(tmp_path / "big.xlsx", f"<sheetData>{rows}</sheetData>")
    edits = {f"C{r}": r * 0.5 for r in range(1, 50_001)} | {f"A{r}": f"T{r}" for r in range(1, 50_001)}
    start = time.perf_counter()
    report = write_workbook(path, edits={"Tasks": edits})
    elapsed = time.perf_counter() - start
    assert report.cells_written == 100_000
    print(f"100k-cell edit in a 100k-row sheet: {elapsed:.2f} s")
    assert elapsed < 30
    ws = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Tasks").to_python()
    assert ws[49_999][0] == "T50000" and ws[49_999][2] == 25_000.0 and ws[99_999][0] == "Task 100000"


# --- every real workbook in the corpus -----------------------------------------------------------------


def _without(data: bytes, *patterns: bytes) -> bytes:
    for pattern in patterns:
        data = re.sub(pattern, b"", data, count=1, flags=re.S)
    return data


@pytest.mark.parametrize("source", corpus_files())
def test_corpus_workbook_survives_an_edit(source: Path, tmp_path: Path) -> None:
    path = tmp_path / source.name
    shutil.copy(source, path)
    pkg = Package(path.read_bytes())
    info = read_workbook(pkg)
    first = next(s for s in info.sheets if s.kind == "worksheet")
    edits = {"A300": "wbs edit", "AX1": 42.5, "AY7": dt.date(2025, 3, 3), "AZ7": True, "AX8": HOSTILE[0]}
    before, raw_before = members(path), raw_parts(path.read_bytes())
    report = write_workbook(path, edits={first.name: edits},
                            owned_sheets={"Check": OwnedSheet([["code", "message"], ["x", HOSTILE[1]]])})
    after, raw_after = members(path), raw_parts(path.read_bytes())
    assert report.cells_written == len(edits)
    assert list(after) == [*before, report.added_parts[0]]
    rels = rels_part(info.part)
    structural = {first.part, info.part, rels, "[Content_Types].xml"}
    assert set(report.changed_parts) == structural
    for name, (data, zinfo) in before.items():
        if name not in structural:
            assert after[name][0] == data, name
            assert raw_after[name] == raw_before[name], name  # the very same compressed bytes
            assert (after[name][1].compress_type, after[name][1].date_time) == (
                zinfo.compress_type, zinfo.date_time), name
    assert outside_sheet_data(after[first.part][0]) == outside_sheet_data(before[first.part][0])
    # workbook.xml, its rels and the content types differ only by what was inserted
    assert _without(after[info.part][0], rb'<sheet name="Check"[^>]*/>',
                    rb'<definedName name="_wbs_owned"[^>]*>[^<]*</definedName>',
                    rb"<definedNames></definedNames>") == before[info.part][0]
    new_part = report.added_parts[0].split("/", 1)[1]
    assert _without(after[rels][0], rb'<Relationship [^>]*Target="'
                    + new_part.encode() + rb'"/>') == before[rels][0]
    assert _without(after["[Content_Types].xml"][0], rb'<Override PartName="/' + report.added_parts[0].encode()
                    + rb'"[^>]*/>') == before["[Content_Types].xml"][0]
    calamine = CalamineWorkbook.from_path(str(path))
    values = calamine.get_sheet_by_name(first.name).to_python()
    assert values[299][0] == "wbs edit"
    assert values[0][col("AX")] == 42.5 and values[7][col("AX")] == HOSTILE[0]
    assert values[6][col("AZ")] is True
    assert calamine.get_sheet_by_name("Check").to_python() == [["code", "message"], ["x", HOSTILE[1]]]
    ws = openpyxl.load_workbook(path, keep_vba=True)[first.name]
    assert ws["A300"].value == "wbs edit" and ws["AX1"].value == 42.5 and ws["AX8"].value == HOSTILE[0]
    assert ws["AY7"].value in (dt.datetime(2025, 3, 3), excel_serial(dt.date(2025, 3, 3), info.date1904))


def col(letters: str) -> int:
    return openpyxl.utils.column_index_from_string(letters) - 1


@pytest.mark.libreoffice
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not on PATH")
def test_libreoffice_opens_edited_workbooks(tmp_path: Path) -> None:
    if not CORPUS.is_dir():
        pytest.skip(f"corpus not found at {CORPUS}")
    sample = ["EPPlus__src__EPPlusTest__Workbooks__Control.xlsm", "poi__test-data__spreadsheet__64759.xlsx",
              "xlwings__examples__udf__udf.xlsm"]
    for name in sample:
        path = tmp_path / name
        shutil.copy(CORPUS / name, path)
        info = read_workbook(Package(path.read_bytes()))
        first = next(s for s in info.sheets if s.kind == "worksheet")
        write_workbook(path, edits={first.name: {"A200": "wbs-lo-check", "B200": 12.25}},
                       owned_sheets={"Check": OwnedSheet([["lo-owned", 3]])})
    framed = make_workbook(tmp_path / "framed.xlsx", BASIC, second_sheet="Check",
                           more={"xl/worksheets/sheet2.xml": FRAME})
    write_workbook(framed, edits={"Tasks": {"A200": "wbs-lo-check", "C200": 12.25}},
                   owned_sheets={"Check": OwnedSheet([["lo-owned", dt.date(2025, 1, 2), 3]], start_row=4)},
                   replace_unmarked_sheets=True)
    out = tmp_path / "csv"
    done = soffice(["--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1",
                    "--outdir", str(out), *[str(tmp_path / n) for n in [*sample, framed.name]]], tmp_path / "lo",
                   timeout=240)
    assert done.returncode == 0, done.stderr
    for name in sample:
        csvs = {p.name: p.read_text(errors="replace") for p in out.glob(Path(name).stem + "-*.csv")}
        assert any("wbs-lo-check,12.25" in text for text in csvs.values()), (name, list(csvs))
        assert "lo-owned,3" in csvs[Path(name).stem + "-Check.csv"]
    assert "wbs-lo-check,,12.25" in (out / "framed-Tasks.csv").read_text()
    check = (out / "framed-Check.csv").read_text().splitlines()  # frame rows kept, column styles applied
    assert check[:3] == ["Title,,", ",,", "Code,,"] and re.fullmatch(r"lo-owned,\S*2025\S*,3", check[3])


def test_the_reader_s_package_is_edited_by_the_writer(basic: Path) -> None:
    """A refresh opens the file once: the writer edits the package the reader opened, with a fresh
    inflation budget (each pass would fit the limit, both together would not), and gives what it
    would have given on a package of its own."""
    from wbs_tools.workbook.package import Limits
    from wbs_tools.workbook.package_edit import edit_package

    data = basic.read_bytes()
    edits = {"Tasks": {"B2": 42.0, "C9": "new"}}
    sheet = "xl/worksheets/sheet1.xml"
    alone, alone_report = edit_package(data, edits={k: dict(v) for k, v in edits.items()})
    one_pass = sum(Package(data).size(n) for n in Package(data).names)
    writer_pass = alone._total_read  # what the writer inflates on its own
    assert writer_pass > 0
    opened = Package(data, Limits(max_total_bytes=max(one_pass, writer_pass)))
    for name in opened.names:  # the reader's pass: every part once
        opened.read(name)
    edited, report = edit_package(data, edits={k: dict(v) for k, v in edits.items()}, opened=opened)
    assert edited is opened and report.written == alone_report.written
    assert edited.to_bytes() == alone.to_bytes() and edited.read(sheet) != Package(data).read(sheet)


def test_a_package_opened_over_other_bytes_or_edited_is_refused(basic: Path) -> None:
    from wbs_tools.workbook.package_edit import edit_package
    from wbs_tools.workbook.reader import read_workbook as read_plan

    data = basic.read_bytes()
    with pytest.raises(ValueError, match="opened over the data given"):
        edit_package(data, edits={"Tasks": {"B2": 1.0}}, opened=Package(bytes(bytearray(data))))
    with pytest.raises(ValueError, match="opened over the data given"):
        read_plan(basic, data=data, opened=Package(bytes(bytearray(data))))
    used = Package(data)
    edit_package(data, edits={"Tasks": {"B2": 1.0}}, opened=used)
    with pytest.raises(ValueError, match="not edited yet"):
        edit_package(data, edits={"Tasks": {"B2": 2.0}}, opened=used)


@settings(max_examples=400, deadline=None)
@given(st.text() | st.text(alphabet=st.characters(max_codepoint=0x7F)) | st.text(alphabet="ab _&<>\x01\x1f\t"))
def test_the_quick_special_character_check_agrees_with_the_regex(text: str) -> None:
    """ASCII text is cleared by byte searches, the rest by the regex: both must say the same."""
    from wbs_tools.workbook.cell_values import _SPECIAL, _has_special

    assert _has_special(text) == (_SPECIAL.search(text) is not None)


def test_a_package_reaches_its_sink_in_blocks_and_byte_for_byte(basic: Path) -> None:
    """Headers and small parts are handed on a block at a time (a checksumming file costs a call per
    write); a large piece goes through on its own; the bytes are those of the package serialized whole."""
    import os

    from wbs_tools.workbook import package_out

    class Recording:
        def __init__(self) -> None:
            self.calls: list[int] = []
            self.out = io.BytesIO()

        def write(self, data: bytes | memoryview) -> int:
            self.calls.append(len(data))
            return self.out.write(data)

    pkg = Package(basic.read_bytes())
    pkg.write("xl/media/big.bin", os.urandom(package_out._Counter.BLOCK + 10))  # incompressible: over a block
    whole = pkg.to_bytes()
    sink = Recording()
    pkg.write_to(sink)
    assert sink.out.getvalue() == whole
    assert len(sink.calls) <= 4, sink.calls  # dozens of headers and parts, in a few blocks
    assert any(n > package_out._Counter.BLOCK for n in sink.calls)

"""A write as shipped parses the bytes the user kept; the cells and rows wbs_tools makes are well-formed
as made (templates of fixed markup, the value encoder), so they are not parsed again.

Every other test sets ``WBS_TOOLS_CHECK_ALL_XML=1`` (conftest), which parses every part written whole;
these run without it, and parse each part of the result themselves.
"""

from __future__ import annotations

import datetime as dt
import io
import sys
import zipfile
from pathlib import Path
from xml.parsers import expat

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from test_lossless import BASIC, EXTRA, MAIN, make_workbook
from wbs_tools.refresh import refresh_workbook
from wbs_tools.workbook.cell_edits import CellEdits
from wbs_tools.workbook.cell_values import ValueEncoder
from wbs_tools.workbook.lossless import OwnedSheet, WorkbookError, render_workbook, write_workbook
from wbs_tools.workbook.package import CHECK_ALL_XML, check_all_xml
from wbs_tools.workbook.sheet_xml import patch_sheet
from wbs_tools.workbook.template import build_workbook

ROOT = Path(__file__).resolve().parents[1]
SAMPLE, BENCHMARKS = ROOT / "workbook_templates" / "sample_plan.xlsx", ROOT / "benchmarks"


@pytest.fixture(autouse=True)
def as_shipped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(CHECK_ALL_XML, raising=False)


def parse(xml: bytes) -> None:
    expat.ParserCreate().Parse(xml, True)


def parse_every_part(data: bytes) -> int:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = [n for n in zf.namelist() if n.endswith((".xml", ".rels"))]
        for name in names:
            parse(zf.read(name))
    return len(names)


def test_the_switch_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert not check_all_xml()
    monkeypatch.setenv(CHECK_ALL_XML, "1")
    assert check_all_xml()


_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**18), 10**18), st.floats(allow_nan=False, allow_infinity=False),
    st.datetimes(min_value=dt.datetime(1900, 3, 1), max_value=dt.datetime(9999, 12, 31)),
    st.dates(min_value=dt.date(1900, 3, 1)), st.text(max_size=40),
    st.sampled_from(["a & b", "<b>x</b>", "]]>", "--", "?>", "_x0041_", "tab\tbell\x07", "  padded ", "名前"]))


@settings(max_examples=300, deadline=None)
@given(_VALUES)
def test_every_value_s_cell_bytes_are_well_formed(value: object) -> None:
    """The encoder is what the rows are made of: each value's cell, after any style, closes the cell."""
    for prefix in (b"", b"x:"):
        rest = ValueEncoder(prefix, False)(value)[3]  # type: ignore[arg-type]
        parse(b'<x:w xmlns:x="' + MAIN.encode() + b'" xmlns="' + MAIN.encode() + b'"><' + prefix
              + b'c r="A1" s="3"' + rest + b"</x:w>")


_SHAPES = st.sampled_from(["none", "empty", "value", "formula", "text", "nested"])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(_SHAPES, _SHAPES, _VALUES, _VALUES), min_size=1, max_size=25),
       st.sampled_from(["", "x:"]))
def test_a_patch_the_fast_path_proves_parses(rows: list[tuple[str, str, object, object]], prefix: str) -> None:
    """Whatever the cells were (missing, empty, holding a value, a formula, rich text, a cell nested in a
    cell), a patch that says it is proven parses; one that took the cell by cell path says it is not."""

    def cell(ref: str, shape: str) -> str:
        p = prefix
        return {"none": "", "empty": f'<{p}c r="{ref}" s="1"/>',
                "value": f'<{p}c r="{ref}" s="1"><{p}v>4</{p}v></{p}c>',
                "formula": f'<{p}c r="{ref}"><{p}f>1+1</{p}f><{p}v>2</{p}v></{p}c>',
                "text": f'<{p}c r="{ref}" t="inlineStr"><{p}is><{p}r><{p}t>a</{p}t></{p}r></{p}is></{p}c>',
                "nested": f'<{p}c r="{ref}"><{p}x><{p}c>9</{p}c></{p}x><{p}v>1</{p}v></{p}c>'}[shape]

    xml_rows, edits = [], CellEdits()
    for r, (b, c, v1, v2) in enumerate(rows, start=2):
        xml_rows.append(f'<{prefix}row r="{r}"><{prefix}c r="A{r}"><{prefix}v>{r}</{prefix}v></{prefix}c>'
                        f'{cell(f"B{r}", b)}{cell(f"C{r}", c)}</{prefix}row>')
        edits.set_row(r, [(2, v1), (3, v2)])  # type: ignore[list-item]
    edits.set_row(len(rows) + 5, [(2, "below"), (3, 1.5)])
    ns = f'xmlns:x="{MAIN}"' if prefix else f'xmlns="{MAIN}"'
    xml = (f'<{prefix}worksheet {ns}><{prefix}dimension ref="A1:C2"/><{prefix}sheetData>{"".join(xml_rows)}'
           f'</{prefix}sheetData></{prefix}worksheet>').encode()
    patch = patch_sheet(xml, edits, overwrite_formulas=True)
    if patch.proven:
        parse(patch.data)
    if any("nested" in (b, c) for b, c, _v1, _v2 in rows):
        assert not patch.proven


def test_a_nested_cell_takes_the_checked_path_and_is_refused_untouched(tmp_path: Path) -> None:
    """A cell holding a cell is well-formed XML no spreadsheet writes; the cell by cell path cannot splice it
    cleanly, so the part is parsed whole and the write refused, the file left as it was."""
    book = make_workbook(tmp_path / "nested.xlsx", '<sheetData><row r="2"><c r="A2"><v>1</v></c><c r="B2" s="1">'
                         '<extra><c>9</c></extra><v>3</v></c></row></sheetData>')
    before = book.read_bytes()
    with pytest.raises(WorkbookError, match="would not be well-formed"):
        write_workbook(book, edits={"Tasks": {"B2": 5}})
    assert book.read_bytes() == before


def test_a_malformed_byte_the_user_kept_in_a_patched_sheet_is_refused(tmp_path: Path) -> None:
    """The cells are spliced into the user's part: that part is what is parsed, every byte of it."""
    book = make_workbook(tmp_path / "plan.xlsx", BASIC, extra='<pageMargins left="0.7" left="0.7"/>')
    before = book.read_bytes()
    with pytest.raises(WorkbookError, match=r"sheet1\.xml.*would not be well-formed"):
        write_workbook(book, edits={"Tasks": {"D4": "new"}})
    assert book.read_bytes() == before


def test_a_malformed_frame_of_an_owned_sheet_is_refused(tmp_path: Path) -> None:
    """An owned sheet keeps its frame (titles, widths, page setup): the frame is parsed as a document."""
    book = make_workbook(tmp_path / "plan.xlsx", BASIC)
    write_workbook(book, owned_sheets={"Check": OwnedSheet([["a", 1]], start_row=2)}, backup=False)
    with zipfile.ZipFile(book) as zf:
        parts = {i.filename: zf.read(i) for i in zf.infolist()}
    sheet = next(n for n in parts if n.startswith("xl/worksheets/") and n != "xl/worksheets/sheet1.xml")
    parts[sheet] = parts[sheet].replace(b"<pageMargins ", b'<pageMargins top="1" top="1" ')
    with zipfile.ZipFile(book, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    before = book.read_bytes()
    with pytest.raises(WorkbookError, match="would not be well-formed"):
        write_workbook(book, owned_sheets={"Check": OwnedSheet([["b", 2], ["c", 3]], start_row=2)})
    assert book.read_bytes() == before


def test_a_style_that_is_not_an_index_is_escaped_in_new_cells(tmp_path: Path) -> None:
    """A column style is read unescaped from ``<col>``; one that is not an index (no spreadsheet writes
    that) is written escaped in the cells given it, in a patched sheet and in an owned one."""
    cols = '<cols><col min="1" max="9" style="1&quot;&lt;"/></cols>'
    book = make_workbook(tmp_path / "plan.xlsx", cols + BASIC, extra=EXTRA)
    out, report = render_workbook(book.read_bytes(), edits={"Tasks": {"E2": 5, "F7": "x"}},
                                  owned_sheets={"Check": OwnedSheet([["a", 1.5]])})
    assert report.changed and parse_every_part(out) >= 6
    with zipfile.ZipFile(io.BytesIO(out)) as zf:
        assert b'<c r="E2" s="1&quot;&lt;"><v>5</v></c>' in zf.read("xl/worksheets/sheet1.xml")


@pytest.mark.parametrize("tasks", [0, 300])
def test_a_refresh_as_shipped_writes_the_same_bytes_and_every_part_parses(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tasks: int) -> None:
    """The switch only decides what is parsed: the file is the same byte for byte, and parses."""
    source = tmp_path / "source.xlsx"
    if tasks:
        sys.path.insert(0, str(BENCHMARKS))
        from generate import generate_plan  # the benchmarks' plans: every link type, calendars, progress

        build_workbook(source, plan=generate_plan(tasks, seed=3))
    else:
        source.write_bytes(SAMPLE.read_bytes())
    shipped, checked = tmp_path / "shipped.xlsx", tmp_path / "checked.xlsx"
    refresh_workbook(source, output=shipped, status_date=dt.date(2026, 3, 6), backup=False)
    monkeypatch.setenv(CHECK_ALL_XML, "1")
    refresh_workbook(source, output=checked, status_date=dt.date(2026, 3, 6), backup=False)
    assert shipped.read_bytes() == checked.read_bytes()
    assert parse_every_part(shipped.read_bytes()) > 20

"""Owned sheet rows formatted a block at a time, column by column, are byte for byte the rows the
row-by-row path writes: for any values, any mix of types in a column, empty cells and empty rows,
columns with or without a date style, and an encoder that has seen other sheets' values before."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from wbs_tools.workbook import owned_rows
from wbs_tools.workbook.cell_values import CellValue, ValueEncoder, encoder
from wbs_tools.workbook.owned_rows import DateStyles, OwnedSheet, _rows_xml

TEXTS = st.sampled_from(["Task 1", "Migrate <ledger> & check", "", " padded ", "x_x0041_y", "名前", "a\u3000",
                         "ctl\x01", "=SUM(A1)", "line\nbreak"]) | st.text(max_size=12)
VALUES: dict[str, st.SearchStrategy[CellValue]] = {
    "int": st.integers(min_value=-(10**16), max_value=10**16),
    "small int": st.integers(min_value=0, max_value=2_000_000),
    "float": st.floats(allow_nan=False, allow_infinity=False, min_value=-1e9, max_value=1e9),
    "bool": st.booleans(),
    "date": st.dates(min_value=dt.date(1900, 3, 1), max_value=dt.date(2200, 1, 1)),
    "datetime": st.datetimes(min_value=dt.datetime(1900, 3, 1), max_value=dt.datetime(2200, 1, 1)),
    "text": TEXTS,
}


@st.composite
def sheets(draw: st.DrawFn) -> tuple[list[list[CellValue]], int]:
    """Rows mostly of one width whose columns each hold one kind of value (or a mix), some empty."""
    width = draw(st.integers(min_value=1, max_value=5))
    kinds = [draw(st.sampled_from([*VALUES, "mixed"])) for _ in range(width)]
    blank = [draw(st.sampled_from([0.0, 0.0, 0.3, 1.0])) for _ in range(width)]
    rows: list[list[CellValue]] = []
    for _ in range(draw(st.integers(min_value=0, max_value=40))):
        if draw(st.integers(min_value=0, max_value=15)) == 0:  # now and then a row of another length
            rows.append([draw(VALUES["text"]) for _ in range(draw(st.integers(min_value=0, max_value=3)))])
            continue
        row: list[CellValue] = []
        for kind, p in zip(kinds, blank, strict=True):
            if p and draw(st.floats(min_value=0, max_value=1)) < p:
                row.append(None)
            else:
                row.append(draw(st.one_of(*VALUES.values()) if kind == "mixed" else VALUES[kind]))
        rows.append(row)
    return rows, draw(st.integers(min_value=1, max_value=30))


def rendered(rows: Sequence[Sequence[CellValue]], start: int, styles: DateStyles, *, by_column: bool,
             prefix: bytes = b"") -> tuple[bytes, int]:
    saved = owned_rows._MIN_BLOCK_ROWS
    owned_rows._MIN_BLOCK_ROWS = 1 if by_column else 10**9
    try:
        blocks, last = _rows_xml(OwnedSheet(rows, start_row=start), prefix, [(1, 2, "3"), (4, 4, "6")], styles,
                                 False)
    finally:
        owned_rows._MIN_BLOCK_ROWS = saved
    return b"".join(blocks), last


@settings(max_examples=300, deadline=None)
@given(sheets(), st.sampled_from([DateStyles(frozenset({"6"}), "6"), DateStyles(frozenset(), "9"),
                                  DateStyles()]))
def test_rows_formatted_by_column_are_the_rows_formatted_one_by_one(
        sheet: tuple[list[list[CellValue]], int], styles: DateStyles) -> None:
    rows, start = sheet
    encoder(b"", False)(None)  # an encoder that has written an empty cell elsewhere keeps it cached
    assert rendered(rows, start, styles, by_column=True) == rendered(rows, start, styles, by_column=False)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), *VALUES.values()), max_size=30)
       | st.sampled_from(["int", "small int", "text", "date", "bool"]).flatmap(
           lambda kind: st.lists(VALUES[kind] | st.none(), max_size=30) | st.lists(VALUES[kind], max_size=30)))
def test_a_column_encodes_as_its_values_do_one_by_one(values: list[CellValue]) -> None:
    for prefix in (b"", b"x:"):
        one_by_one = ValueEncoder(prefix, False)
        expected = [one_by_one(v)[3] for v in values]
        assert ValueEncoder(prefix, False).rests(values) == expected


def test_a_snapshot_block_is_one_join_per_column() -> None:
    """The shape the status snapshot has: IDs, names, dates, flags and an always-empty column."""
    when = dt.datetime(2026, 3, 13, 17)
    rows: list[list[CellValue]] = [[when, "task", n, f"Task {n}", when, when, None if n % 2 else when, n % 3 == 0,
                                    None] for n in range(1, 5001)]
    styles = DateStyles(frozenset({"6"}), "6")
    xml, last = rendered(rows, 2, styles, by_column=True)
    assert (xml, last) == rendered(rows, 2, styles, by_column=False)
    assert last == 8 and xml.count(b"<row ") == 5000 and b'<c r="G2"' not in xml and b'<c r="G3" s="6">' in xml

"""Patch cell values inside one worksheet part by splicing bytes, never by re-serializing it.

Only the ``<c>`` elements named by the caller (and the ``<row>`` elements holding them) are rewritten;
the rest of ``<sheetData>`` and everything outside it (conditional formats, data validations,
``extLst``, ``mc:AlternateContent``, namespace prefixes) keeps its exact bytes. The one exception is
``<dimension ref>``, widened when a new cell falls outside it, because readers size the used range
from it. A tree round trip (lxml or openpyxl) would renormalize namespaces, quoting and whitespace of
the whole part; a splice is also linear in the part size, so large sheets stay fast.

Text is written as inline strings (``t="inlineStr"``) rather than appended to ``sharedStrings.xml``:
that part is shared by every sheet, indexed by position, and rewriting it would widen each edit to
a second part. Excel moves inline strings into the shared table on its next save. A cell that
already holds the value (shared string, number, date serial) is left alone, so a refresh that
changes nothing changes no byte.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from wbs_tools.workbook.cell_edits import (
    MAX_COL,
    MAX_ROW,
    CellEdits,
    as_rows,
    col_letters,
    col_number,
    split_ref,
)
from wbs_tools.workbook.cell_values import (
    MAX_TEXT,
    CellValue,
    decode_text,
    encode_text,
    excel_serial,
    number_text,
    value_xml,
)
from wbs_tools.workbook.sheet_base import (
    MAIN_NAMESPACES,
    SheetPatch,
    SheetPatcherBase,
    column_styles,
    element_pattern,
)

__all__ = [
    "MAIN_NAMESPACES",
    "MAX_COL",
    "MAX_ROW",
    "MAX_TEXT",
    "CellEdits",
    "CellValue",
    "SheetPatch",
    "SheetPatcherBase",
    "col_letters",
    "col_number",
    "column_styles",
    "decode_text",
    "element_pattern",
    "encode_text",
    "excel_serial",
    "number_text",
    "patch_sheet",
    "sheet_writer",
    "split_ref",
    "value_xml",
]

if TYPE_CHECKING:
    from wbs_tools.workbook.sheet_patch import SheetWriter


def patch_sheet(
    data: bytes,
    cells: Mapping[str, CellValue] | CellEdits,
    *,
    part: str = "sheet",
    date1904: bool = False,
    overwrite_formulas: bool = False,
    style_row: int | None = None,
    shared_string: Callable[[int], str | None] = lambda i: None,
    protected: Mapping[tuple[int, int], str] | None = None,
) -> SheetPatch:
    """Set ``cells`` (``"H12" -> value``, or :class:`CellEdits`) in one worksheet part; see the module
    docstring.

    Formula cells are skipped unless ``overwrite_formulas``; cells already holding the value are left
    byte-identical. New cells take the style of ``style_row``'s cell in their column when given,
    otherwise of the nearest cell above (then the row's, then the column's style). ``protected``
    cells ((row, col) -> reason) are reported as skipped, e.g. table headers.
    """
    result = sheet_writer(data, part=part, date1904=date1904, overwrite_formulas=overwrite_formulas,
                          style_row=style_row, shared_string=shared_string, protected=protected).run(as_rows(cells))
    if result.chunks is not None:
        result.data, result.chunks = b"".join(result.chunks), None
    return result


def sheet_writer(data: bytes, *, part: str = "sheet", date1904: bool = False, overwrite_formulas: bool = False,
                 style_row: int | None = None, shared_string: Callable[[int], str | None] = lambda i: None,
                 protected: Mapping[tuple[int, int], str] | None = None) -> SheetWriter:
    """The patcher behind :func:`patch_sheet`, whose ``run`` leaves the new part in ``chunks``."""
    from wbs_tools.workbook.sheet_patch import SheetWriter

    return SheetWriter(data, part, date1904, overwrite_formulas, style_row, shared_string, protected or {})

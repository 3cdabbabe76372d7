"""Write a new plan workbook from the layout: tables, header notes, drop-downs and a Gantt strip.

Computed columns are shaded grey and italic, and guarded by a data validation that rejects typing
with a message that wbs_tools fills them. The sheets are deliberately *not* protected: Excel refuses
to sort a protected sheet whose sort range has locked cells and stops tables from growing when a row
is typed below them, which is how PMs work. Computed cells are still locked and input cells unlocked,
so a PM who wants protection can switch it on without further changes.

The Gantt strip has one column per week (52 by default) from the Monday of Project_Start: a year of
plan fits on one screen, where a daily grid would need 260 columns. Bars come from conditional
formats on the computed Start, Finish, Critical and % Complete cells, so they follow every refresh
without code. Only inputs are written; the refresh fills the computed columns.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import io
from collections.abc import Mapping, Sequence
from itertools import pairwise
from pathlib import Path

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import Worksheet

from wbs_tools.core.model import Plan
from wbs_tools.workbook.layout import (
    ACTIONS,
    CHOICE_LISTS,
    LAYOUTS,
    LISTS,
    SETTINGS,
    SETTINGS_ROWS,
    SHEET_NAMES,
    STATUS,
    TASKS,
    Column,
    SheetLayout,
    choice_list,
)
from wbs_tools.workbook.layout_doc import GANTT_WEEKS
from wbs_tools.workbook.owned_sheet import MARKER as OWNED_MARKER
from wbs_tools.workbook.plan_rows import Registers, sheet_rows

CREATED = dt.datetime(2026, 1, 1)  # fixed so that a rebuild is byte-identical
DATA_ROWS = 1000  # rows below a header that carry drop-downs, guards and Gantt formats
_EXCEL_EPOCH = dt.date(1899, 12, 30)

#: Macro-enabled workbooks: the sheet and column each button of ``wbs_tools.excel.vba_project.BUTTONS``
#: sits over, in row 1 beside the sheet's title (inside the frozen panes, so it never scrolls away) and
#: clear of the guidance line below, even on the Status sheet whose rows a refresh rewrites.
BUTTON_PLACES: dict[str, tuple[SheetLayout, str]] = {
    "recompute": (TASKS, "name"), "flag_overdue": (ACTIONS, "owner"), "export_status": (STATUS, "where")}
XLWINGS_CONF_SHEET = "xlwings.conf"
#: The only RunPython settings the workbook forces (a row there overrides the user's own xlwings.conf even
#: when empty): wbs_tools is imported from the installed package, never from a .py file that happens to sit
#: beside the workbook, which also spares xlwings from resolving a OneDrive URL to a folder; and every click
#: starts a fresh Python, so an upgrade takes effect at once and no UDF-server DLL is needed.
XLWINGS_SETTINGS = (("ADD_WORKBOOK_TO_PYTHONPATH", "false"), ("USE UDF SERVER", "false"))
#: Defined name holding the xlwings version whose VBA module the workbook carries; the buttons compare it
#: with the xlwings that Excel started.
XLWINGS_VERSION_NAME = "WBS_XLWINGS_VERSION"


def build_workbook(path: str | Path, *, plan: Plan | None = None, registers: Registers | None = None,
                   macro_enabled: bool = False, vba_project: str | Path | bytes | None = None,
                   gantt_weeks: int = GANTT_WEEKS) -> Path:
    """Write a plan workbook (the empty template without ``plan``); ``.xlsm`` needs ``vba_project``."""
    path = Path(path)
    if macro_enabled != (path.suffix.lower() == ".xlsm") or (macro_enabled and vba_project is None):
        raise ValueError("a macro-enabled workbook needs an .xlsm path and a vbaProject.bin")
    workbook = xlsxwriter.Workbook(str(path), {"in_memory": True, "constant_memory": False})
    workbook.set_properties({"title": "Project plan", "author": "wbs_tools", "created": CREATED})
    if isinstance(vba_project, bytes):
        workbook.add_vba_project(io.BytesIO(vba_project), is_stream=True)  # type: ignore[arg-type]
    elif vba_project is not None:
        workbook.add_vba_project(str(vba_project))
    sheets = populate_workbook(workbook, plan=plan, registers=registers, gantt_weeks=gantt_weeks)
    if macro_enabled:
        _add_macro_parts(workbook, sheets)
    workbook.close()
    return path


def macro_codenames() -> list[str]:
    """VBA code names of a macro-enabled workbook's worksheets (XlsxWriter's ``Sheet1``..), in order:
    the layout sheets, then xlwings.conf. ``build_macro_project`` needs them for the document modules."""
    return [f"Sheet{n}" for n in range(1, len(SHEET_NAMES) + 2)]


def _add_macro_parts(workbook: xlsxwriter.Workbook, sheets: Mapping[str, Worksheet]) -> None:
    """Buttons bound to the ``WbsButtons`` macros, the xlwings.conf sheet and the xlwings version name."""
    from wbs_tools.excel.vba_project import BUTTONS  # the VBA side lives with the Excel integration

    for button in BUTTONS:
        layout, key = BUTTON_PLACES[button.macro]
        ws = sheets[layout.name]
        ws.set_row(0, 30)
        ws.insert_button(0, layout.column_number(key) - 1, {
            "macro": button.macro, "caption": button.caption, "width": 170, "height": 34, "x_offset": 8,
            "y_offset": 3})
    conf = workbook.add_worksheet(XLWINGS_CONF_SHEET)
    for row, (key, value) in enumerate(XLWINGS_SETTINGS):
        conf.write_string(row, 0, key)
        conf.write_string(row, 1, value)
    conf.set_column(0, 0, 30)
    conf.hide()
    workbook.define_name(XLWINGS_VERSION_NAME, f'="{importlib.metadata.version("xlwings")}"')


def populate_workbook(workbook: xlsxwriter.Workbook, *, plan: Plan | None = None,
                      registers: Registers | None = None, gantt_weeks: int = GANTT_WEEKS
                      ) -> dict[str, Worksheet]:
    """Add every layout sheet to ``workbook``; returned by name so callers can add buttons."""
    writer = _Writer(workbook)
    rows = sheet_rows(plan, registers)
    sheets: dict[str, Worksheet] = {}
    for layout in LAYOUTS:
        if layout.name not in sheets:
            sheets[layout.name] = writer.sheet(layout)
        writer.table(sheets[layout.name], layout, rows[layout.table_name])
    start = plan.settings.start if plan else None
    writer.gantt(sheets[TASKS.name], len(rows[TASKS.table_name]), gantt_weeks, start)
    writer.settings(sheets[SETTINGS.name])
    writer.lists()
    return sheets


def _serial(day: dt.date) -> int:
    return (day - _EXCEL_EPOCH).days


_GREY = "#EDEDED"
_GUARD = {
    "validate": "custom", "value": "=FALSE", "error_type": "stop",
    "input_title": "Computed by wbs_tools",
    "input_message": "Filled on every refresh from the white input columns; typing here would be replaced.",
    "error_title": "Computed column",
    "error_message": "wbs_tools fills this cell on refresh. Change the input columns (white) instead.",
}


class _Writer:
    """Writes layouts into an XlsxWriter workbook, sharing one Format per distinct style."""

    def __init__(self, workbook: xlsxwriter.Workbook) -> None:
        self.workbook = workbook
        self._formats: dict[tuple[tuple[str, object], ...], Format] = {}

    def fmt(self, **props: object) -> Format:
        key = tuple(sorted(props.items()))
        if key not in self._formats:
            self._formats[key] = self.workbook.add_format(dict(props))
        return self._formats[key]

    def cell_format(self, column: Column, *, shaded: bool, **extra: object) -> Format:
        props: dict[str, object] = {"num_format": column.number_format} if column.number_format else {}
        if column.width >= 30 and not column.number_format:
            props["text_wrap"] = True  # long free text; Excel sizes the row to fit
        if shaded:
            props |= {"bg_color": _GREY, "italic": True, "font_color": "#595959"}
        elif not column.computed:
            props["locked"] = False
        return self.fmt(**props, **extra)

    def sheet(self, layout: SheetLayout) -> Worksheet:
        ws = self.workbook.add_worksheet(layout.name)
        if layout.hidden:
            ws.hide()
        if layout.owned:  # rewritten whole on refresh: marked as ours, kept free of tables and notes
            ws.set_tab_color("#A6A6A6")
            self.workbook.define_name(f"'{layout.name}'!{OWNED_MARKER}", f"='{layout.name}'!$A$1")
        if layout.header_row >= 3:
            ws.write_string(0, 0, layout.name, self.fmt(bold=True, font_size=14))
            ws.write_string(1, 0, layout.guidance, self.fmt(italic=True, font_color="#595959"))
        ws.set_row(layout.header_row - 1, 48 if layout is TASKS else 32)
        ws.freeze_panes(layout.header_row, TASKS.column_number("name") if layout is TASKS else 0)
        return ws

    def table(self, ws: Worksheet, layout: SheetLayout, rows: Sequence[Mapping[str, object]]) -> None:
        unknown = {key for row in rows for key in row} - {c.key for c in layout.columns}
        if unknown:
            raise ValueError(f"{layout.table_name} has no column {sorted(unknown)}")
        top, left, guarded = layout.header_row - 1, layout.first_column - 1, not layout.owned
        if layout.owned:
            self.plain_table(ws, layout, rows)
            return
        styles = self._styles(layout, rows)
        ws.add_table(top, left, top + max(len(rows), 1), left + len(layout.columns) - 1, {
            "name": layout.table_name, "style": "Table Style Light 1", "banded_rows": False,
            "columns": [{"header": c.title, "header_format": self.fmt(
                bold=True, text_wrap=True, valign="top", font_color="#FFFFFF", italic=c.computed and guarded,
                bg_color="#7F7F7F" if c.computed and guarded else "#1F4E79")} for c in layout.columns]})
        for col, column in enumerate(layout.columns, start=left):
            shaded = guarded and column.computed
            ws.set_column(col, col, column.width, self.cell_format(column, shaded=False))
            if column.note:
                note = ("Computed by wbs_tools. " if shaded else "") + column.note
                ws.write_comment(top, col, note, {"author": "wbs_tools", "x_scale": 2, "y_scale": 1.3})
            extras = styles.get(column.key, [{}] * len(rows))
            for n, (row, extra) in enumerate(zip(rows, extras, strict=True), start=top + 1):
                value = row.get(column.key)
                if value is not None or shaded:
                    _write(ws, n, col, value, self.cell_format(column, shaded=shaded, **extra))
            last = top + DATA_ROWS
            if shaded:
                ws.data_validation(top + 1, col, last, col, _GUARD)
            elif column.choices:
                self.drop_down(ws, (top + 1, col, last, col), column.choices)

    def plain_table(self, ws: Worksheet, layout: SheetLayout, rows: Sequence[Mapping[str, object]]) -> None:
        """An owned sheet's rows as plain cells: the refresh replaces the sheet, so no table part or
        comment may hang off it."""
        top, left = layout.header_row - 1, layout.first_column - 1
        header = self.fmt(bold=True, font_color="#FFFFFF", bg_color="#1F4E79")
        for col, column in enumerate(layout.columns, start=left):
            ws.set_column(col, col, column.width, self.cell_format(column, shaded=False))
            ws.write_string(top, col, column.title, header)
            for n, row in enumerate(rows, start=top + 1):
                value = row.get(column.key)
                if value is not None:
                    _write(ws, n, col, value, self.cell_format(column, shaded=False))

    @staticmethod
    def _styles(layout: SheetLayout, rows: Sequence[Mapping[str, object]]) -> dict[str, list[dict[str, object]]]:
        """Per-row format extras by column key: task names indented by outline (summaries bold) and
        each Settings value in its own number format."""
        if layout is TASKS:
            levels = [v if isinstance(v := row.get("outline_level"), int) else 1 for row in rows]
            return {"name": [{"indent": level - 1, "bold": following > level}
                             for level, following in pairwise([*levels, 0])]}
        if layout is SETTINGS:
            return {"value": [{"num_format": s.number_format} if s.number_format else {} for s in SETTINGS_ROWS]}
        return {}

    def drop_down(self, ws: Worksheet, cells: tuple[int, int, int, int], name: str) -> None:
        choices = choice_list(name)
        ws.data_validation(*cells, {
            "validate": "list", "source": f"={name}",
            "error_type": "information" if choices.editable else "warning",
            "error_title": choices.title, "error_message": f"Not in the {choices.title} list (Lists sheet)."})

    def settings(self, ws: Worksheet) -> None:
        """Defined names and drop-downs on the Settings Value cells."""
        column = xl_col_to_name(SETTINGS.column_number("value") - 1)
        for row, setting in enumerate(SETTINGS_ROWS, start=SETTINGS.header_row + 1):
            self.workbook.define_name(setting.name, f"=Settings!${column}${row}")
            if setting.choices:
                col = SETTINGS.column_number("value") - 1
                self.drop_down(ws, (row - 1, col, row - 1, col), setting.choices)

    def lists(self) -> None:
        """A defined name per drop-down list; editable lists grow with what is typed below them."""
        first = LISTS.header_row + 1
        for col, choices in enumerate(CHOICE_LISTS, start=LISTS.first_column - 1):
            cells = f"Lists!${xl_col_to_name(col)}${first}"
            if choices.editable:
                whole = f"{cells}:${xl_col_to_name(col)}${first + DATA_ROWS - 1}"
                formula = f"=OFFSET({cells},0,0,MAX(1,COUNTA({whole})),1)"
            else:
                formula = f"={cells}:${xl_col_to_name(col)}${first + len(choices.values) - 1}"
            self.workbook.define_name(choices.name, formula)

    def gantt(self, ws: Worksheet, task_count: int, weeks: int, start: dt.datetime | None) -> None:
        """Week columns right of the Tasks table, coloured by conditional formats on computed cells."""
        top, left = TASKS.header_row - 1, TASKS.first_column + len(TASKS.columns)
        ws.set_column(left - 1, left - 1, 2)
        ws.set_column(left, left + weeks - 1, 3.3)
        ws.write_string(1, left, "Weeks from the Monday of Project_Start; bars follow Start and Finish.",
                        self.fmt(italic=True, font_color="#595959"))
        head = self.fmt(num_format="dd-mmm", rotation=90, font_size=8, align="center", bg_color="#DDEBF7")
        monday = _serial(start.date()) - start.weekday() if start else 0
        first = xl_col_to_name(left)
        ws.write_formula(top, left, "=IF(ISNUMBER(Project_Start),INT(Project_Start)-WEEKDAY(Project_Start,3),"
                         "TODAY()-WEEKDAY(TODAY(),3))", head, monday)
        for week in range(1, weeks):
            ws.write_formula(top, left + week, f"={xl_col_to_name(left + week - 1)}{top + 1}+7", head,
                             monday + 7 * week if start else 0)
        col = {k: "$" + xl_col_to_name(TASKS.column_number(k) - 1) for k in
               ("start", "finish", "critical", "percent_complete", "outline_level")}
        r, week_start = top + 2, f"{first}${top + 1}"
        s, f = f"{col['start']}{r}", f"{col['finish']}{r}"
        bar = f"ISNUMBER({s}),ISNUMBER({f}),{s}<{week_start}+7,{f}>={week_start}"
        critical = f'OR({col["critical"]}{r}=TRUE,{col["critical"]}{r}="Yes")'
        pct = f"N({col['percent_complete']}{r})"
        done = f"{pct}>0,{week_start}<{s}+({f}-{s})*{pct}"
        level, below = f"N({col['outline_level']}{r})", f"N({col['outline_level']}{r + 1})"
        rules = (
            (f"=AND(ISNUMBER({s}),{f}={s},{s}>={week_start},{s}<{week_start}+7)", "#000000"),  # milestone
            (f"=AND({bar},{below}>{level})", "#404040"),  # summary
            (f"=AND({bar},{critical},{done})", "#990000"),
            (f"=AND({bar},{critical})", "#E06666"),
            (f"=AND({bar},{done})", "#1F4E79"),
            (f"=AND({bar})", "#9DC3E6"),
        )
        cells = (top + 1, left, top + max(task_count, 1) + DATA_ROWS, left + weeks - 1)
        for formula, colour in rules:
            ws.conditional_format(*cells, {"type": "formula", "criteria": formula,
                                           "format": self.fmt(bg_color=colour, pattern=1)})
        ws.conditional_format(top, left, cells[2], cells[3], {
            "type": "formula", "criteria": f"=AND({week_start}<=TODAY(),TODAY()<{week_start}+7)",
            "format": self.fmt(left=2, left_color="#FF0000", right=2, right_color="#FF0000")})
        column = TASKS.column_number("percent_complete") - 1
        ws.conditional_format(top + 1, column, cells[2], column, {
            "type": "data_bar", "bar_color": "#A9D08E", "data_bar_2010": False,
            "min_type": "num", "min_value": 0, "max_type": "num", "max_value": 1})


def _write(ws: Worksheet, row: int, col: int, value: object, fmt: Format) -> None:
    if value is None:
        ws.write_blank(row, col, None, fmt)
    elif isinstance(value, bool):
        ws.write_boolean(row, col, value, fmt)
    elif isinstance(value, (dt.date, dt.time)):
        ws.write_datetime(row, col, value, fmt)  # type: ignore[arg-type]
    elif isinstance(value, (int, float)):
        ws.write_number(row, col, value, fmt)
    elif isinstance(value, str):
        ws.write_string(row, col, value, fmt)
    else:
        raise TypeError(f"cannot write {value!r} to a cell")

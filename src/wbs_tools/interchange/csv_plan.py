"""Tasks as CSV: read what Smartsheet, Jira or another sheet exports; write tasks with computed columns.

A CSV file is read as if it were the Tasks sheet: its header is matched against the Tasks columns
with the same titles and aliases (``layout.find_column``) and its rows go through the workbook's own
task reader, so a value reads (or fails to read) exactly as it would in the workbook. Problems are
findings located as "plan.csv row 5, column Duration", the header text as it is in the file.

Written CSV carries every Tasks column under its layout title, so it reads back unchanged. Text that
a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return) gets a leading apostrophe, as the OWASP guidance on CSV injection advises; numbers are left
as numbers, and the reader removes that apostrophe again.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import datetime as dt
import io
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from wbs_tools.core.durations import format_number
from wbs_tools.core.findings import Finding
from wbs_tools.core.model import Link, Plan, Settings
from wbs_tools.core.parsing import InputError, format_percent, format_predecessors, parse_date
from wbs_tools.core.schedule import Schedule
from wbs_tools.files import replace_file
from wbs_tools.workbook.computed import row_of, task_values
from wbs_tools.workbook.layout import TASKS, input_columns
from wbs_tools.workbook.plan_rows import task_rows
from wbs_tools.workbook.reader_tables import Sheet, TableLocation, col_letters, find_header, table_end
from wbs_tools.workbook.reader_tasks import TaskReader
from wbs_tools.workbook.reader_values import finding

__all__ = ["CsvPlan", "CsvPlanError", "escape_cell", "read_csv_plan", "write_csv_plan"]

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
#: fields whose unreadable text is worth keeping in the workbook, where the Check sheet shows it again
_KEEP_RAW = {c.key for c in input_columns(TASKS)} - {"id", "outline_level"}
_ADDRESS = re.compile(r"^(?P<sheet>.*)!(?P<col>[A-Z]{1,3})(?P<row>\d+)$")
_DATE_ORDERS: dict[str, bool | None] = {"YMD": None, "DMY": True, "MDY": False}


class CsvPlanError(ValueError):
    """The file is not a task list: no header row names the Tasks columns."""


@dataclass
class CsvPlan:
    """The plan read from a CSV file, the findings, and the text of every value that did not read.

    ``unread`` maps (index in ``plan.tasks``, column key) to the text as it was in the file, so the
    workbook made from the plan can keep it for the person to correct.
    """

    plan: Plan
    findings: list[Finding] = field(default_factory=list)
    unread: dict[tuple[int, str], str] = field(default_factory=dict)
    columns: dict[str, str] = field(default_factory=dict)  # column key -> header text in the file


def day_first_of(date_order: str | None) -> bool | None:
    """YMD (or nothing): text dates must be unambiguous; DMY: 04/03 is 4 March; MDY: 3 April."""
    if date_order is None:
        return None
    try:
        return _DATE_ORDERS[date_order.strip().upper()]
    except KeyError:
        raise ValueError(f"'{date_order}' is not a date order: use YMD, DMY or MDY") from None


def _decode(data: bytes) -> str:
    """UTF-8 (with or without Excel's byte order mark), UTF-16 with its mark ("Unicode text"), else
    Windows-1252 as older Excel writes it."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _dialect(text: str, suffix: str) -> type[csv.Dialect] | csv.Dialect:
    if suffix == ".tsv":
        return csv.excel_tab
    try:  # only the delimiter is sniffed: its quoting guesses misread doubled quotes ("a""b")
        delimiter = csv.Sniffer().sniff(text[:8192], delimiters=",;\t").delimiter
    except csv.Error:
        return csv.excel
    return type("SniffedExcel", (csv.excel,), {"delimiter": delimiter})


def unescape_cell(text: str) -> str:
    """Undo :func:`escape_cell`: an apostrophe in front of a formula trigger is removed."""
    return text[1:] if text.startswith("'") and _guarded(text[1:]) else text


def read_csv_plan(path: str | os.PathLike[str], *, date_order: str | None = None,
                  start: dt.datetime | None = None) -> CsvPlan:
    """Read a CSV task list; raises ``CsvPlanError`` when no header row is found, ``OSError`` when unreadable.

    The project start is ``start``, else the earliest date in a Start column (what exported tools
    show), else the scheduler's own choice. ``date_order`` tells how text dates such as 04/03/2026
    read (YMD, DMY or MDY).
    """
    source = Path(path)
    text = _decode(source.read_bytes())
    rows = [[unescape_cell(v) for v in row]
            for row in csv.reader(io.StringIO(text, newline=""), _dialect(text, source.suffix.lower()))]
    sheet = Sheet(source.name, rows, (0, 0), {})
    header = find_header(sheet, TASKS)
    if header is None or not {"id", "name"} & header[1].keys():
        raise CsvPlanError(f"{source.name}: no header row naming the task columns (such as ID, Task name, "
                           "Duration, Predecessors) in the first rows")
    header_row, columns = header
    titles = {key: str(sheet.value(header_row, col)).strip() for key, col in columns.items()}
    day_first = day_first_of(date_order)
    settings = Settings(day_first=bool(day_first))
    findings: list[Finding] = []
    table = TableLocation(source.name, header_row, columns, header_row + 1, table_end(sheet, header_row, columns, []))
    reader = TaskReader(sheet, table, settings, day_first, findings, lambda: {}, ["Standard"])
    tasks = reader.read()
    for key in ("name", "duration"):
        if key not in columns:
            outcome = "every task was given 1 day" if key == "duration" else "tasks have no names"
            findings.append(finding("sheet.missing-column", f"{source.name} has no '{TASKS.column(key).title}' "
                                    f"column; {outcome}", fallback="settings.bad-value", field=key,
                                    location=f"{source.name} row {header_row}"))
    settings.start = start or _earliest_start(sheet, table, day_first)
    plan = Plan(settings, tasks, reader.links)
    letters = {col_letters(col): titles[key] for key, col in columns.items()}
    result = CsvPlan(plan, [], {}, titles)
    by_row = {row_of(task.cells.values()): i for i, task in enumerate(tasks)}
    for f in findings:
        where = _ADDRESS.match(f.location or "")
        if where is not None and where["sheet"] == source.name:
            row, col = int(where["row"]), where["col"]
            index = by_row.get(row)
            if index is not None and f.field in _KEEP_RAW and f.field in columns:
                result.unread[index, f.field] = str(sheet.value(row, columns[f.field]) or "")
            f = dataclasses.replace(f, location=f"{source.name} row {row}, column {letters.get(col, col)}")
        result.findings.append(f)
    return result


def _earliest_start(sheet: Sheet, table: TableLocation, day_first: bool | None) -> dt.datetime | None:
    column = table.columns.get("start")
    if column is None:
        return None
    found = []
    for number in range(table.first_row, table.last_row + 1):
        value = sheet.value(number, column)
        if isinstance(value, str) and value.strip():
            try:
                found.append(parse_date(value, day_first=day_first))
            except InputError:
                continue
    return min(found, default=None)


# --- writing ----------------------------------------------------------------------------------------


def escape_cell(value: object) -> str | int | float:
    """A value as a CSV field that no spreadsheet runs as a formula; numbers stay numbers.

    >>> escape_cell("=cmd|' /C calc'!A0"), escape_cell("-x"), escape_cell(-2.5), escape_cell("Build")
    ("'=cmd|' /C calc'!A0", "'-x", '-2.5', 'Build')
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return format_number(value) if isinstance(value, float) else value
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value)
    return "'" + text if _guarded(text) else text


def _guarded(text: str) -> bool:
    """A text that gets an apostrophe in front: a formula trigger, possibly behind apostrophes of its own
    (so that a name typed as '@x comes back as typed, not as @x)."""
    return text.lstrip("'").startswith(FORMULA_TRIGGERS)


def csv_rows(schedule: Schedule) -> list[list[str | int | float]]:
    """The header (Tasks titles) and one row per task: inputs as typed text, computed values after them.

    Every link goes into Predecessors, those typed on a Dependencies sheet too, so the file stands alone.
    """
    plan = schedule.plan
    s = plan.settings
    links: dict[int, list[Link]] = {}
    for link in plan.links:
        links.setdefault(link.successor, []).append(link)
    computed = task_values(schedule)
    out: list[list[str | int | float]] = [[c.title for c in TASKS.columns]]
    for task, inputs, own in zip(plan.tasks, task_rows(plan), computed, strict=True):
        values: dict[str, object] = {**inputs, **own}
        values["predecessors"] = format_predecessors(
            links.get(task.id, ()), minutes_per_day=s.minutes_per_day, minutes_per_week=s.minutes_per_week,
            days_per_month=s.days_per_month) or None
        values["percent_complete"] = format_percent(task.percent_complete) if task.duration else None
        out.append([escape_cell(values.get(c.key)) for c in TASKS.columns])
    return out


def write_csv_plan(schedule: Schedule, target: str | os.PathLike[str]) -> int:
    """Write the tasks as CSV (UTF-8 with a byte order mark, so Excel reads accents); returns the rows."""
    rows = csv_rows(schedule)
    write_text_atomically(Path(target), _csv_text(rows))
    return len(rows) - 1


def _csv_text(rows: Sequence[Sequence[object]]) -> str:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


def write_text_atomically(target: Path, text: str) -> None:
    """A complete file or none, with the byte-order mark Excel needs to read UTF-8 CSV."""
    replace_file(target, text.encode("utf-8-sig"))

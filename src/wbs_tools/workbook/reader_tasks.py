"""The Tasks table: one task per row with an ID or a name, its links, and every cell it was read from.

Rules for rows people leave behind: rows whose input cells are all empty are skipped (blank lines,
banners, rows holding only stale computed values); a row with a name but no ID gets the next free ID
(one above the largest typed) with a ``task.no-id`` warning; a row with values but neither ID nor
name is skipped with a warning. The outline level comes from the Outline level cell, else from the
depth of a typed WBS code ("1.2.3" is level 3), else from the indentation of the Task name cell.
% Complete: a column of numbers from 0 to 1 holds Excel percentages (0.5 shows as 50%); a single
number above 1 means the column holds whole percentages (50 is 50%, 1 is 1%); text such as "50%" is
always read as written. A date typed without a time gets the default start time, or the default
finish time for finish-like dates (deadline, actual/baseline finish, finish constraints).

Repeated texts are parsed once (``reader_links``), and so are repeated percentages, constraints and
dates of the rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TypeVar, cast

from wbs_tools.core.durations import excel_error, format_number
from wbs_tools.core.findings import Finding
from wbs_tools.core.model import Baseline, ConstraintType, Duration, Link, Settings, Task
from wbs_tools.core.parsing import (
    InputError,
    parse_constraint_type,
    parse_date,
    parse_percent,
)
from wbs_tools.workbook.layout import LAYOUTS, TASKS
from wbs_tools.workbook.reader_cells import RowCells
from wbs_tools.workbook.reader_links import Units, cached_duration, predecessor_entries
from wbs_tools.workbook.reader_tables import Sheet, TableLocation, col_letters, match_header
from wbs_tools.workbook.reader_values import Cell, finding, is_empty, number_of, text_of, whole_number

T = TypeVar("T")
_START_CONSTRAINTS = (ConstraintType.SNET, ConstraintType.SNLT, ConstraintType.MSO)
_DATES = ("constraint_date", "deadline", "actual_start", "actual_finish", "baseline_start", "baseline_finish")
_FINISH_DATES = ("deadline", "actual_finish", "baseline_finish")
_TEXTS = ("name", "wbs", "owner", "notes", "calendar")
MIN_TABLE_BELOW_MATCHES = 3  # header cells of another table that end the task table at a row
#: field -> (code for a value that does not read, what was done instead)
_CODES = {
    "id": ("task.bad-id", "an ID was assigned"), "duration": ("task.bad-duration", "1 day was assumed"),
    "baseline_duration": ("task.bad-duration", "it was ignored"), "predecessors": ("link.bad-syntax", ""),
    "percent_complete": ("task.bad-percent", "0 was used"), "constraint": ("task.bad-constraint",
                                                                           "As Soon As Possible was used"),
    "outline_level": ("task.bad-outline", "the level was taken from the WBS code or indentation"),
    "cost": ("cell.bad-value", "it was ignored"), "actual_cost": ("cell.bad-value", "it was ignored"),
    **dict.fromkeys(_DATES, ("task.bad-date", "it was ignored")),
    **dict.fromkeys(_TEXTS, ("cell.bad-value", "it was treated as empty")),
}


def _amount(value: object) -> float:
    return number_of(value, "an amount")


_DONE: tuple[int, dict[str, object]] = (0, {})


class TaskReader:
    """Reads the rows of one Tasks table into tasks and links, appending findings."""

    def __init__(self, sheet: Sheet, table: TableLocation, settings: Settings, day_first: bool | None,
                 findings: list[Finding], indents: Callable[[], dict[int, int]], calendars: list[str],
                 release: Callable[[], None] | None = None) -> None:
        self.calendar_names = {name.casefold(): name for name in calendars}
        self.sheet, self.table, self.settings, self.day_first = sheet, table, settings, day_first
        self.findings = findings
        self.indents, self.release = indents, release
        self.units = Units(settings.minutes_per_day, settings.minutes_per_week, settings.days_per_month)
        self.today = settings.status_date.date() if settings.status_date else None
        self.keys = [k for k in table.columns if not TASKS.column(k).computed]
        self.prefix = {k: f"{sheet.name}!{col_letters(table.columns[k])}" for k in self.keys}
        self.places = [(k, table.columns[k], table.columns[k] - 1 - sheet.col0) for k in self.keys]
        self.picks = [(k, index) for k, _, index in self.places]
        self.width = max((index for _, _, index in self.places), default=-1) + 1  # a row this long needs no check
        self.error_rows = {row for row, _ in sheet.errors} if sheet.errors else set()
        self.links: list[Link] = []
        self._cache: dict[tuple[object, ...], object] = {}  # (field, type, value[, minute]) -> value read

    def read(self) -> list[Task]:
        """Every task row in sheet order; links go to ``self.links``."""
        rows: list[tuple[int, dict[str, object]]] = []
        for number in range(self.table.first_row, self.table.last_row + 1):
            raw = self._raw(number)  # empty: no value in any input column (a blank row)
            if raw and self._is_task(number, raw):
                if type(raw.get("id")) is str and self._another_header(number):
                    break  # the rest belongs to that table: nothing there is read or written as tasks
                rows.append((number, raw))
        ids = self._ids(rows)
        fractions = not any(isinstance(v, float) and 1 < v <= 100 for _, raw in rows
                            if (v := raw.get("percent_complete")) is not None)
        levels = [self._level(number, raw, ids[i]) for i, (number, raw) in enumerate(rows)]
        if any(level is None for level, _ in levels):
            indents = self.indents()
            levels = [(level, key) if level is not None else (indents.get(number, 0) + 1, "name")
                      for (level, key), (number, _) in zip(levels, rows, strict=True)]
        if self.release is not None:
            self.release()  # the rows are all in ``rows`` now
        fast, tasks = self._task_fast, []
        for i, (number, raw) in enumerate(rows):
            rows[i] = _DONE  # each row's values go once its task is made
            tasks.append(fast(number, raw, ids[i], levels[i], fractions)
                         or self._task(number, raw, ids[i], levels[i], fractions))
        return tasks

    def _at(self, key: str, number: int) -> str | None:
        prefix = self.prefix.get(key)
        return None if prefix is None else prefix + str(number)

    def _raw(self, number: int) -> dict[str, object]:
        """The row's non-empty input cells by key; an error cell holds its code ("#REF!")."""
        cells = self.sheet.row(number)
        if len(cells) >= self.width and number not in self.error_rows:
            return {key: value for key, index in self.picks if (value := cells[index]) != "" and value is not None}
        errors = self.sheet.errors
        raw: dict[str, object] = {}
        for key, column, index in self.places:
            value = cells[index] if index < len(cells) else None
            if value == "" or value is None:
                value = errors.get((number, column)) if errors else None
                if value is None:
                    continue
            raw[key] = value
        return raw

    def _another_header(self, number: int) -> bool:
        """Whether the row (its ID a text) is the header of another table typed below the tasks, such
        as a list of links: then the task table ends above it, with a finding."""
        as_tasks = len(match_header(self.sheet, TASKS, number))
        for layout in LAYOUTS:
            if layout is TASKS or layout.owned:
                continue
            matched = match_header(self.sheet, layout, number)
            if len(matched) >= MIN_TABLE_BELOW_MATCHES and len(matched) > as_tasks:
                titles = ", ".join(layout.column(key).title for key in list(matched)[:4])
                self.findings.append(finding(
                    "sheet.table-ends", f"row {number} reads as the header of a {layout.name} table ({titles}); "
                    f"the task table ends above it and the rows from there down were not read as tasks: move that "
                    f"table to its own sheet", location=self.sheet.address(number, min(matched.values()))))
                return True
        return False

    def _is_task(self, number: int, raw: dict[str, object]) -> bool:
        if not is_empty(raw.get("id")) or not is_empty(raw.get("name")):
            return True
        if any(not is_empty(v) for v in raw.values()):
            self.findings.append(finding("row.ignored", f"row {number} has values but neither an ID nor a task "
                                         "name; it was skipped", location=self.sheet.address(number, min(
                                             self.table.columns[k] for k in raw))))
        return False

    def _bad(self, key: str, task_id: int | None, number: int, error: object, *, code: str | None = None) -> None:
        """A finding at the field's cell: the field's own code, or ``code`` with the field's as stand-in."""
        code_for, outcome = _CODES[key]
        who = f"task {task_id}" if task_id is not None else f"row {number}"
        message = f"{who}: {TASKS.column(key).title}: {error}"
        if outcome and code != "cell.excel-error":
            message += f"; {outcome}"
        self.findings.append(finding(code or code_for, message, fallback=code_for if code else None,
                                     location=self._at(key, number), task_id=task_id, field=key))

    def _value(self, raw: dict[str, object], key: str, task_id: int | None, number: int) -> object:
        """The cell's value, or None for an empty cell or an Excel error (reported)."""
        value = raw.get(key)
        if isinstance(value, str):
            if not value.strip():
                return None
            if value.lstrip()[0] == "#" and (code := excel_error(value)) is not None:
                self._bad(key, task_id, number, f"the cell shows {code} (a broken formula); it was treated "
                          "as empty", code="cell.excel-error")
                return None
        return value

    def _ids(self, rows: list[tuple[int, dict[str, object]]]) -> list[int]:
        typed: list[int | None] = []
        for number, raw in rows:
            value = raw.get("id")
            if type(value) is float and value >= 0 and value.is_integer():  # the usual cell: 12.0
                typed.append(int(value))
                continue
            value = self._value(raw, "id", None, number)
            try:
                task_id = None if value is None else whole_number(value, "a task ID (a whole number)")
                if task_id is not None and task_id < 0:
                    raise InputError(f"{task_id} is not a task ID: IDs are 0 or more")
            except InputError as error:
                task_id = None
                self._bad("id", None, number, error)
            typed.append(task_id)
        next_id = max((i for i in typed if i is not None), default=0) + 1
        ids = []
        for (number, raw), task_id in zip(rows, typed, strict=True):
            if task_id is None:
                task_id, next_id = next_id, next_id + 1
                if "id" in self.table.columns and is_empty(raw.get("id")):
                    self.findings.append(finding("task.no-id", f"'{text_of(raw.get('name'))}' has no ID; ID "
                                                 f"{task_id} was assigned", location=self._at("id", number),
                                                 task_id=task_id, field="id"))
            ids.append(task_id)
        return ids

    def _level(self, number: int, raw: dict[str, object], task_id: int) -> tuple[int | None, str | None]:
        """The outline level and the field whose cell gives it (None, None: from the indentation)."""
        value = raw.get("outline_level")
        if type(value) is float and value >= 1 and value.is_integer():  # the usual cell: 3.0
            return int(value), "outline_level"
        value = self._value(raw, "outline_level", task_id, number)
        if value is not None:
            try:
                level = whole_number(value, "an outline level (1, 2, 3...)")
                if level >= 1:
                    return level, "outline_level"
                self._bad("outline_level", task_id, number, f"{level} is not an outline level (1, 2, 3...)")
            except InputError as error:
                self._bad("outline_level", task_id, number, error)
        wbs = None if excel_error(raw.get("wbs")) else text_of(raw.get("wbs"))  # reported with the task
        if wbs and wbs.strip(".").strip():
            return wbs.strip().strip(".").count(".") + 1, "wbs"
        return None, None

    def _cells(self, number: int, level_from: str | None) -> RowCells:
        """Where the row's fields were read; the outline level's cell is the one it was taken from."""
        if level_from is None or (level_from == "outline_level" and "outline_level" in self.prefix):
            return RowCells(self.prefix, number)
        at = self._at(level_from, number)
        return RowCells(self.prefix, number, None if at is None else {"outline_level": at})

    def _parse(self, values: dict[str, Cell], key: str, convert: Callable[[Cell], T], task_id: int,
               number: int) -> T | None:
        """``convert`` the field's value; a value that does not read is reported and gives None."""
        value = values.get(key)
        if value is None:
            return None
        try:
            return convert(value)
        except InputError as error:
            text = str(error)
            code = ("task.ambiguous-date" if text.startswith("ambiguous") else
                    "task.negative-duration" if key == "duration" and "negative" in text else None)
            self._bad(key, task_id, number, error, code=code)
            return cast(T, Duration(0.0)) if code == "task.negative-duration" else None

    def _task_fast(self, number: int, raw: dict[str, object], task_id: int, level: tuple[int | None, str | None],
                   fractions: bool) -> Task | None:
        """``_task`` for a row whose every value reads; None when one does not (or shows an Excel error), and
        ``_task`` then reads the row again, reporting what it finds. Nothing is recorded before that."""
        blank = False
        for value in raw.values():
            if type(value) is str:
                head = value.lstrip()[:1]
                if head == "#":
                    return None
                blank = blank or not head
        # read as it is (ID and level are not looked up here) unless a text is blank
        values: dict[str, Cell] = {k: v for k, v in raw.items() if type(v) is not str or v.strip()} if blank else raw
        task = Task(task_id, outline_level=level[0] or 1)
        get = values.get
        for key in _TEXTS:
            value = get(key)
            if value is not None:
                text = value.strip() if type(value) is str else text_of(value)
                if key == "calendar":
                    typed = text or ""
                    task.calendar = self.calendar_names.get(typed.casefold(), typed)
                else:
                    setattr(task, key, text or "" if key == "name" else text)
        cache = self._cache
        try:
            if "duration" in values:
                task.duration = duration = self._duration(values["duration"])
                task.milestone = duration.minutes == 0
            if "percent_complete" in values:
                value = values["percent_complete"]
                if isinstance(value, float) and not fractions:
                    value = text_of(value)
                found = cache.get(("percent", type(value), value))
                if found is None:
                    found = cache["percent", type(value), value] = parse_percent(value) or 0.0  # type: ignore[arg-type]
                task.percent_complete = cast(float, found)
            if "constraint" in values:
                value = values["constraint"]
                found = cache.get(("constraint", type(value), value))
                if found is None:
                    found = cache["constraint", type(value), value] = parse_constraint_type(text_of(value))
                task.constraint = cast(ConstraintType, found) or task.constraint
            if "cost" in values:
                task.cost = _amount(values["cost"])
            if "actual_cost" in values:
                task.actual_cost = _amount(values["actual_cost"])
            dates: dict[str, dt.datetime] = {}
            for key in _DATES:
                value = get(key)
                if value is not None:
                    finish = key in _FINISH_DATES or (key == "constraint_date"
                                                      and task.constraint not in _START_CONSTRAINTS)
                    minute = self.settings.default_finish_minute if finish else self.settings.default_start_minute
                    found = cache.get(("date", type(value), value, minute))
                    if found is None:
                        found = cache["date", type(value), value, minute] = parse_date(
                            value, day_first=self.day_first, today=self.today, default_minute=minute)
                    dates[key] = cast(dt.datetime, found)
            baseline_duration = self._duration(values["baseline_duration"]) if "baseline_duration" in values else None
        except InputError:
            return None
        if dates:
            task.constraint_date, task.deadline = dates.get("constraint_date"), dates.get("deadline")
            task.actual_start, task.actual_finish = dates.get("actual_start"), dates.get("actual_finish")
        baseline_start, baseline_finish = dates.get("baseline_start"), dates.get("baseline_finish")
        if baseline_start is not None or baseline_finish is not None or baseline_duration is not None:
            minutes = baseline_duration.minutes if isinstance(baseline_duration, Duration) else None
            task.baselines[0] = Baseline(baseline_start, baseline_finish, minutes, task.cost)
        if "predecessors" in values:
            entries, errors = predecessor_entries(values["predecessors"], self.units)
            if errors:
                return None
            origin = self._at("predecessors", number)
            self.links.extend([Link(pred, task_id, kind, lag, origin) for pred, kind, lag in entries])
        task.cells = self._cells(number, level[1])
        return task

    def _task(self, number: int, raw: dict[str, object], task_id: int, level: tuple[int | None, str | None],
              fractions: bool) -> Task:
        task = Task(task_id, outline_level=level[0] or 1)
        task.cells = self._cells(number, level[1])
        values: dict[str, Cell] = {}
        for key in raw:
            if key != "id" and key != "outline_level" and (value := self._value(raw, key, task_id, number)) is not None:
                values[key] = value
        get = values.get
        task.name = text_of(get("name")) or ""
        task.wbs, task.owner, task.notes = text_of(get("wbs")), text_of(get("owner")), text_of(get("notes"))
        if "calendar" in values:
            typed = text_of(values["calendar"]) or ""
            task.calendar = self.calendar_names.get(typed.casefold(), typed)
        if "duration" in values:
            task.duration = self._parse(values, "duration", self._duration, task_id, number)
            task.milestone = task.duration is not None and task.duration.minutes == 0
        if "percent_complete" in values:
            if isinstance(values["percent_complete"], float) and not fractions:
                values["percent_complete"] = text_of(values["percent_complete"])  # the column holds 50, not 0.5
            task.percent_complete = self._parse(values, "percent_complete", parse_percent, task_id, number) or 0.0
        if "constraint" in values:
            task.constraint = self._parse(values, "constraint", lambda v: parse_constraint_type(text_of(v)),
                                          task_id, number) or task.constraint
        for key in ("cost", "actual_cost"):
            if key in values:
                setattr(task, key, self._parse(values, key, _amount, task_id, number))
        if values.keys() & _DATES:
            dates = {key: self._date(values, key, task, number) for key in _DATES if key in values}
            task.constraint_date, task.deadline = dates.get("constraint_date"), dates.get("deadline")
            task.actual_start, task.actual_finish = dates.get("actual_start"), dates.get("actual_finish")
            baseline_start, baseline_finish = dates.get("baseline_start"), dates.get("baseline_finish")
        else:
            baseline_start = baseline_finish = None
        baseline_duration = self._parse(values, "baseline_duration", self._duration, task_id, number)
        if baseline_start is not None or baseline_finish is not None or baseline_duration is not None:
            minutes = baseline_duration.minutes if isinstance(baseline_duration, Duration) else None
            task.baselines[0] = Baseline(baseline_start, baseline_finish, minutes, task.cost)
        if "predecessors" in values:
            self._predecessors(values["predecessors"], task_id, number)
        return task

    def _duration(self, value: object) -> Duration:
        if isinstance(value, (dt.time, dt.timedelta)):  # "8:00" typed in a duration cell: Excel made it a time
            seconds = value.total_seconds() if isinstance(value, dt.timedelta) else (
                value.hour * 3600 + value.minute * 60 + value.second)
            value = f"{format_number(seconds / 3600)}h"
        return cached_duration(value, self.units)

    def _date(self, values: dict[str, object], key: str, task: Task, number: int) -> dt.datetime | None:
        """A date field; one typed without a time gets the default start or finish time, by its meaning."""
        finish = key in _FINISH_DATES or (key == "constraint_date" and task.constraint not in _START_CONSTRAINTS)
        minute = self.settings.default_finish_minute if finish else self.settings.default_start_minute
        return self._parse(values, key, lambda v: parse_date(v, day_first=self.day_first, today=self.today,
                                                             default_minute=minute), task.id, number)

    def _predecessors(self, value: object, task_id: int, number: int) -> None:
        origin = self._at("predecessors", number)
        entries, errors = predecessor_entries(value, self.units)
        self.links.extend(Link(pred, task_id, kind, lag, origin) for pred, kind, lag in entries)
        for error in errors:
            self._bad("predecessors", task_id, number, error)

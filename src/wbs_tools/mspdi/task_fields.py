"""One MSPDI ``Task`` element read into the plan model, each value's element remembered for findings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, TypeVar

from lxml import etree

from wbs_tools.core.findings import make_finding
from wbs_tools.core.model import Baseline, Duration, Task
from wbs_tools.mspdi.document import child_elements, field_text
from wbs_tools.mspdi.values import (
    CONSTRAINT_BY_CODE,
    ValueFormatError,
    duration_from_xml,
    parse_bool,
    parse_currency,
    parse_datetime,
    parse_duration_minutes,
    parse_float,
    parse_format,
    parse_int,
)

if TYPE_CHECKING:
    from wbs_tools.mspdi.reader import ProjectReader

_T = TypeVar("_T")


#: The ``Task`` children the reader uses.
TASK_FIELDS = (
    "UID", "ID", "Name", "Active", "Manual", "IsNull", "WBS", "OutlineNumber", "OutlineLevel", "Start", "Finish",
    "Duration", "ManualStart", "ManualFinish", "DurationFormat", "Milestone", "ExternalTask", "PercentComplete",
    "Cost", "ActualStart", "ActualFinish", "ActualCost", "RemainingDuration", "ConstraintType", "CalendarUID",
    "ConstraintDate", "Deadline", "Notes", "Baseline",
)  # fmt: skip


class TaskFields:
    """Reads one ``Task`` element's input fields, recording where each came from."""

    def __init__(self, reader: ProjectReader, fields: dict[str, etree._Element], uid: int) -> None:
        self.reader = reader
        self.fields = fields
        self.uid = uid
        self.id = 0
        self.cells: dict[str, str] = {}
        settings = reader.settings
        self.minutes_per_day = settings.minutes_per_day
        self.days_per_month = settings.days_per_month

    def location(self, element: str) -> str:
        return f"Task UID {self.uid} <{element}>"

    def text(self, element: str, field_name: str) -> str | None:
        value = field_text(self.fields, element)
        if value is not None:
            self.cells[field_name] = self.location(element)
        return value

    def finding(self, code: str, message: str, field_name: str, element: str) -> None:
        self.reader.findings.append(
            make_finding(code, message, task_id=self.id, field=field_name, location=self.location(element))
        )

    def date(self, element: str, field_name: str) -> dt.datetime | None:
        value = self.text(element, field_name)
        if value is None:
            return None
        try:
            return parse_datetime(value)
        except ValueFormatError:
            self.finding("task.bad-date", f"Task {self.id}: {element} {value!r} is not a date.", field_name, element)
            return None

    def number(self, element: str, field_name: str, code: str) -> float | None:
        value = self.text(element, field_name)
        if value is None:
            return None
        try:
            return parse_float(value)
        except ValueFormatError:
            self.finding(code, f"Task {self.id}: {element} {value!r} is not a number.", field_name, element)
            return None

    def duration(self, element: str, field_name: str, code: int | None) -> Duration | None:
        value = self.text(element, field_name)
        if value is None:
            return None
        try:
            result = duration_from_xml(
                value,
                code,
                default_unit=self.reader.default_unit,
                minutes_per_day=self.minutes_per_day,
                days_per_month=self.days_per_month,
            )
        except ValueFormatError:
            self.finding(
                "task.bad-duration", f"Task {self.id}: {element} {value!r} is not a duration.", field_name, element
            )
            return Duration(float(self.minutes_per_day))
        if result.minutes < 0:
            self.finding(
                "task.negative-duration", f"Task {self.id}: {element} is negative; 0 was used.", field_name, element
            )
            return Duration(0.0, result.elapsed, result.unit)
        return result

    def build(self) -> Task:
        identity = self.text("ID", "id")
        try:
            self.id = parse_int(identity) if identity is not None else 0
        except ValueFormatError:
            self.id = 0
        name = self.text("Name", "name") or ""
        outline_number = field_text(self.fields, "OutlineNumber")
        level = self.number("OutlineLevel", "outline_level", "task.bad-outline")
        if level is None:
            level = outline_number.count(".") + 1 if outline_number else 1
        code = self._format_code(field_text(self.fields, "DurationFormat"))
        task = Task(
            id=self.id,
            uid=self.uid,
            name=name,
            outline_level=max(int(level), 1),
            duration=self.duration("Duration", "duration", code),
            wbs=self.text("WBS", "wbs") or outline_number,
            milestone=self._flag("Milestone", "milestone"),
            remaining_duration=self.duration("RemainingDuration", "remaining_duration", code),
            deadline=self.date("Deadline", "deadline"),
            actual_start=self.date("ActualStart", "actual_start"),
            actual_finish=self.date("ActualFinish", "actual_finish"),
            cost=self._currency("Cost", "cost"),
            actual_cost=self._currency("ActualCost", "actual_cost"),
            notes=field_text(self.fields, "Notes"),
            active=self._flag("Active", "active", default=True),
            calendar=self._calendar(),
            baselines=self._baselines(code),
            cells=self.cells,
        )
        if task.notes is not None:
            self.cells["notes"] = self.location("Notes")
        self._manual(task)
        self._constraint(task)
        self._progress(task)
        return task

    @staticmethod
    def _format_code(text: str | None) -> int | None:
        try:
            return parse_int(text) if text is not None else None
        except ValueFormatError:
            return None

    def _flag(self, element: str, field_name: str, default: bool = False) -> bool:
        value = self.text(element, field_name)
        try:
            return parse_bool(value) if value is not None else default
        except ValueFormatError:
            return default

    def _currency(self, element: str, field_name: str) -> float | None:
        value = self.text(element, field_name)
        try:
            return parse_currency(value) if value is not None else None
        except ValueFormatError:
            return None

    def _calendar(self) -> str | None:
        value = self.text("CalendarUID", "calendar")
        if value is None:
            return None
        try:
            uid = parse_int(value)
        except ValueFormatError:
            uid = None
        if uid == -1:
            self.cells.pop("calendar", None)
            return None
        if uid is None or uid not in self.reader.calendar_names:
            self.finding(
                "task.unknown-calendar",
                f"Task {self.id} uses calendar UID {value}, which is not in the file; the project calendar was used.",
                "calendar",
                "CalendarUID",
            )
            return None
        return self.reader.calendar_names[uid]

    def _manual(self, task: Task) -> None:
        """A manually scheduled task's Start and Finish are what the user typed, not results."""
        task.manual = self._flag("Manual", "manual")
        if not task.manual:
            return
        for attr, elements in (
            ("manual_start", ("Start", "ManualStart")),
            ("manual_finish", ("Finish", "ManualFinish")),
        ):
            for element in elements:
                if field_text(self.fields, element) is not None:
                    setattr(task, attr, self.date(element, attr))
                    break

    def _constraint(self, task: Task) -> None:
        value = self.text("ConstraintType", "constraint")
        if value is None:
            return
        try:
            constraint = CONSTRAINT_BY_CODE.get(parse_int(value))
        except ValueFormatError:
            constraint = None
        if constraint is None:
            self.finding(
                "task.bad-constraint",
                f"Task {self.id}: constraint type {value!r} is unknown; As Soon As Possible was used.",
                "constraint",
                "ConstraintType",
            )
            return
        if not constraint.needs_date:
            task.constraint = constraint
            return
        date = self.date("ConstraintDate", "constraint_date")
        if date is None:
            self.finding(
                "task.constraint-date-missing",
                f"Task {self.id}: the {constraint.value} constraint has no date; it was ignored.",
                "constraint_date",
                "ConstraintDate",
            )
            return
        task.constraint, task.constraint_date = constraint, date

    def _progress(self, task: Task) -> None:
        percent = self.number("PercentComplete", "percent_complete", "task.bad-percent")
        if percent is not None and not 0 <= percent <= 100:
            self.finding(
                "task.bad-percent",
                f"Task {self.id}: % complete {percent:g} is not between 0 and 100; 0 was used.",
                "percent_complete",
                "PercentComplete",
            )
            percent = None
        task.percent_complete = percent or 0.0
        if task.actual_start and task.actual_finish and task.actual_finish < task.actual_start:
            self.finding(
                "task.actual-finish-before-start",
                f"Task {self.id}: actual finish {task.actual_finish:%Y-%m-%d %H:%M} is before its actual start.",
                "actual_finish",
                "ActualFinish",
            )

    def _baselines(self, code: int | None) -> dict[int, Baseline]:
        baselines: dict[int, Baseline] = {}
        for element in self.fields_all("Baseline"):
            b = child_elements(element)
            try:
                number = parse_int(field_text(b, "Number") or "0")
                baseline = self._baseline(b, code)
            except ValueFormatError:
                continue
            if 0 <= number <= 10 and baseline != Baseline():
                baselines[number] = baseline
        return baselines

    def _baseline(self, b: dict[str, etree._Element], code: int | None) -> Baseline:
        own_code = self._format_code(field_text(b, "DurationFormat"))
        elapsed = parse_format(own_code if own_code is not None else code, self.reader.default_unit).elapsed

        def minutes(text: str) -> float:
            return parse_duration_minutes(
                text, elapsed=elapsed, minutes_per_day=self.minutes_per_day, days_per_month=self.days_per_month
            )

        def work(text: str) -> float:
            return parse_duration_minutes(text, minutes_per_day=self.minutes_per_day)

        def value(name: str, parse: Callable[[str], _T]) -> _T | None:
            text = field_text(b, name)
            return parse(text) if text is not None else None

        return Baseline(
            start=value("Start", parse_datetime),
            finish=value("Finish", parse_datetime),
            duration_minutes=value("Duration", minutes),
            cost=value("Cost", parse_currency),
            work_minutes=value("Work", work),
        )

    def fields_all(self, name: str) -> Iterator[etree._Element]:
        """All child elements named ``name`` (``_children`` keeps only the first)."""
        first = self.fields.get(name)
        if first is None:
            return iter(())
        parent = first.getparent()
        return parent.iterfind(first.tag) if parent is not None else iter((first,))

"""Reading register cells the way people fill them in, and pointing findings at the cell.

Register sheets are typed by customers as much as by the project manager, so every reader here is
forgiving: IDs may arrive as ``"A-12"`` or ``12.0``, lists as ``"A-1; A-2"`` or ``"A-1, A-2"``,
statuses in any case or with a trailing remark ("Done - sent 3 Mar"). Nothing raises; a value that
cannot be used becomes a finding and is treated as blank, so one bad cell never stops a refresh.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from enum import Enum
from typing import TypeVar

from wbs_tools.core.calendar import WorkCalendar
from wbs_tools.core.dates import parse_date
from wbs_tools.core.findings import FINDING_CODES, Finding, Severity
from wbs_tools.core.schedule import Schedule, TaskSchedule

#: ``locate(sheet, row, key)`` -> "Action Items!G14": the workbook reader knows the real columns.
Locate = Callable[[str, int, str], "str | None"]
#: What the registers need from a schedule: the computed tasks by ID.
TaskIndex = Mapping[int, TaskSchedule]
Row = Mapping[str, object]

E = TypeVar("E", bound=Enum)

#: The registers' share of the one registry of finding codes (``core.findings.FINDING_CODES``).
REGISTER_FINDING_CODES: dict[str, tuple[Severity, str]] = {
    code: entry for code, entry in FINDING_CODES.items()
    if code.split(".")[0] in ("action", "issue", "requirement", "signoff")
}


def register_finding(code: str, message: str, *, location: str | None = None, field: str | None = None,
                     hint: str | None = None, task_id: int | None = None) -> Finding:
    """A finding for one of ``REGISTER_FINDING_CODES`` (severity from that table)."""
    severity, _ = REGISTER_FINDING_CODES[code]
    return Finding(code, severity, message, task_id, field, location, hint)


def column_letters(n: int) -> str:
    """1 -> A, 27 -> AA."""
    out = ""
    while n > 0:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


def template_locate(sheet: str, row: int, key: str) -> str | None:
    """The cell of ``key`` when the sheet keeps the template's column order.

    The workbook reader passes its own ``locate`` built from the headers it found; this default
    keeps findings useful for rows built in code and in tests.
    """
    from wbs_tools.workbook.layout import LAYOUTS  # late: the core must import without the workbook

    for layout in LAYOUTS:
        if layout.name == sheet and any(c.key == key for c in layout.columns):
            return f"{sheet}!{column_letters(layout.column_number(key))}{row}"
    return f"{sheet}!{row}:{row}"


class _ScheduleIndex(Mapping[int, TaskSchedule]):
    """A schedule's tasks by ID, looked up only when a row names a task: a register without such rows
    never has the schedule build its task records."""

    def __init__(self, schedule: Schedule) -> None:
        self._schedule = schedule
        self._by_id: dict[int, TaskSchedule] | None = None

    def _index(self) -> dict[int, TaskSchedule]:
        if self._by_id is None:
            self._by_id = self._schedule.by_id()
        return self._by_id

    def __getitem__(self, task_id: int) -> TaskSchedule:
        return self._index()[task_id]

    def __iter__(self) -> Iterator[int]:
        return iter(self._index())

    def __len__(self) -> int:
        return len(self._index())

    def __bool__(self) -> bool:
        return len(self._schedule.tasks) > 0


def task_index(schedule: Schedule | TaskIndex | Iterable[TaskSchedule] | None) -> Mapping[int, TaskSchedule]:
    """Tasks by ID from a Schedule, a mapping or a list; None means no plan is known."""
    if schedule is None:
        return {}
    if isinstance(schedule, Schedule):
        return _ScheduleIndex(schedule)
    if isinstance(schedule, Mapping):
        return dict(schedule)
    return {t.id: t for t in schedule}


def is_blank(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def number_text(value: float) -> str:
    """3.0 -> "3", 2.5 -> "2.5": Excel stores every number as a float."""
    if not math.isfinite(value):
        return "" if math.isnan(value) else str(value)
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def text(value: object) -> str:
    """A cell as one line of text: whitespace collapsed, numbers without a spurious ".0"."""
    if is_blank(value):
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return number_text(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat(" ", "minutes")
    if isinstance(value, dt.date):
        return value.isoformat()
    return " ".join(str(value).split())


_WHOLE = re.compile(r"[+]?(\d+)(?:\.0*)?", re.ASCII)


def ident(value: object) -> str:
    """An ID as shown: "A-12" stays, 12.0 and "12.0" become "12"."""
    shown = text(value)
    whole = _WHOLE.fullmatch(shown)
    return str(int(whole[1])) if whole else shown


def id_key(value: object) -> str:
    """How IDs are matched: case and spacing do not matter ("a-12" is "A-12")."""
    return ident(value).casefold().replace(" ", "")


def split_ids(value: object) -> tuple[str, ...]:
    """A list cell ("A-1; A-2", "A-1, A-2", one per line, or a single number) as IDs, in order."""
    if is_blank(value):
        return ()
    if not isinstance(value, str):
        return (ident(value),)
    parts = (ident(p) for p in re.split(r"[;,\n\r|]+", value))
    return tuple(dict.fromkeys(p for p in parts if p))


_TASK_REF = re.compile(r"(?:task\s*|t\s*|#\s*)?(\d{1,9})(?:\.0*)?", re.ASCII | re.IGNORECASE)


def task_ref(value: object) -> int | None:
    """The task ID a cell names ("12", 12.0, "#12", "Task 12"), or None for a name or an area."""
    if isinstance(value, bool) or is_blank(value):
        return None
    if isinstance(value, int | float):
        whole = 0 <= value < 1e9 and value == int(value)  # no float(): ints may exceed its range
        return int(value) if whole else None
    match = _TASK_REF.fullmatch(text(value))
    return int(match[1]) if match else None


def _norm_word(value: str) -> str:
    return re.sub(r"[^0-9a-z]", "", value.casefold())


def lookup(value: object, table: Mapping[str, E]) -> E | None:
    """A status or result from free text; ``table`` keys are letters and digits only, lower case.

    The whole text is tried first, then its leading words, so "Done - sent 3 Mar" reads as Done.
    """
    shown = text(value)
    found = table.get(_norm_word(shown))
    if found is not None:
        return found
    words = re.findall(r"[0-9a-z']+", shown.casefold())
    for n in range(min(len(words), 4), 0, -1):
        found = table.get(_norm_word("".join(words[:n])))
        if found is not None:
            return found
    return None


def to_date(value: object) -> dt.date:
    """A date cell as a date; raises ValueError (with a readable message) when it is not one.

    Text must be unambiguous (ISO, or a month name); years outside 1900-2200 are refused, as
    everywhere in the plan, since they are typos and would send the calendar walking for centuries.
    """
    return parse_date(value, day_first=None).date()  # type: ignore[arg-type]


def working_days(calendar: WorkCalendar, a: dt.date, b: dt.date) -> int | None:
    """Working days after ``a`` up to ``b``, or None when the calendar cannot answer (years out of range)."""
    try:
        return calendar.working_days_between(a, b)
    except (OverflowError, ValueError):
        return None


def week_of(day: dt.date) -> tuple[dt.date, dt.date]:
    """Monday and Sunday of the week ``day`` falls in."""
    monday = day - dt.timedelta(days=day.weekday())
    return monday, monday + dt.timedelta(days=6)


class RowReader:
    """Reads one register row and records findings located at its cells."""

    def __init__(self, row: Row, sheet: str, prefix: str, locate: Locate | None, findings: list[Finding]):
        self.row = row
        self.sheet = sheet
        self.prefix = prefix
        self._locate = locate or template_locate
        self.findings = findings
        number = row.get("_row")
        self.number = (int(number) if isinstance(number, int | float) and not isinstance(number, bool)
                       and 1 <= number <= 2**20 else None)  # Excel has 2**20 rows

    def where(self, key: str) -> str | None:
        if self.number is None:
            return None
        try:
            return self._locate(self.sheet, self.number, key)
        except Exception:  # a caller's locate must not stop the refresh
            return None

    def add(self, code: str, key: str, message: str, hint: str | None = None, task_id: int | None = None) -> None:
        self.findings.append(register_finding(f"{self.prefix}.{code}", message, location=self.where(key),
                                              field=key, hint=hint, task_id=task_id))

    def text(self, key: str) -> str:
        return text(self.row.get(key))

    def blank(self, key: str) -> bool:
        return is_blank(self.row.get(key))

    def date(self, key: str, label: str) -> dt.date | None:
        value = self.row.get(key)
        if is_blank(value):
            return None
        try:
            return to_date(value)
        except (ValueError, OverflowError, TypeError) as error:
            self.add("bad-date", key, f"{label}: {error}",
                     "Type a date such as 2026-03-02.")
            return None

    def choice(self, key: str, table: Mapping[str, E]) -> tuple[E | None, str]:
        """A drop-down value read tolerantly: (value or None, the text typed when not recognised)."""
        value = self.row.get(key)
        if is_blank(value):
            return None, ""
        found = lookup(value, table)
        return found, ("" if found is not None else text(value))


def duplicate_check(readers: Sequence[RowReader], ids: Sequence[str], what: str) -> dict[str, int]:
    """Position of the first row per ID key; later rows with the same ID are reported."""
    first: dict[str, int] = {}
    for i, (reader, shown) in enumerate(zip(readers, ids, strict=True)):
        key = id_key(shown)
        if not key:
            continue
        if key in first:
            earlier = readers[first[key]].where("id") or "an earlier row"
            reader.add("duplicate-id", "id", f"{what} ID {shown!r} is also used at {earlier}.",
                       "Give each row its own ID.")
        else:
            first[key] = i
    return first

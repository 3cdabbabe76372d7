"""Requirements and their change log: every edit is captured with who decided it and when it was seen.

Customers edit the Requirements sheet directly, so the only reliable record of a change is a
comparison with what the sheet held at the last refresh. That copy lives on a hidden sheet as one
row per requirement and field (``snapshot_rows``). ``capture_changes`` compares field by field and
returns one Change Log entry per changed field, one per new requirement and one per deleted
requirement (with its old values, so nothing is lost), plus the snapshot to store.

Values are compared in a normalized form (spacing collapsed, 3 and 3.0 alike, a date and the same
date at midnight alike, drop-down values in any case, linked tasks in any order), so opening and
re-saving the workbook logs nothing, and a second refresh without edits adds no entry.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from wbs_tools.core.findings import Finding
from wbs_tools.core.frozen import copied_by_fields
from wbs_tools.core.gcpause import without_collector
from wbs_tools.core.registers.cells import (
    Locate,
    Row,
    RowReader,
    TaskIndex,
    duplicate_check,
    id_key,
    ident,
    is_blank,
    split_ids,
    task_index,
    task_ref,
    text,
    to_date,
)
from wbs_tools.core.schedule import Schedule, TaskSchedule

SHEET = "Requirements"
#: Tracked fields: layout key -> column title shown in the Change Log.
FIELDS: dict[str, str] = {
    "title": "Title",
    "rule": "Business rule / acceptance criteria",
    "source": "Source",
    "priority": "Priority",
    "status": "Status",
    "linked_tasks": "Linked tasks",
    "decided_by": "Decided by",
}
ADDED = "(added)"  # Change Log "Field" of a requirement seen for the first time
DELETED = "(deleted)"  # ... and of one no longer on the sheet; its old values go in "Old value"

_PRIORITIES = {p.casefold().replace("'", ""): p for p in ("Must", "Should", "Could", "Won't")}
_STATUSES = {s.casefold(): s for s in ("Draft", "Proposed", "Agreed", "Deferred", "Withdrawn")}
#: Statuses that need no sign-off: the requirement is out of the delivery.
INACTIVE_STATUSES = frozenset({"Deferred", "Withdrawn"})


def _task_sort(token: str) -> tuple[int, int, str]:
    return (0, int(token), "") if token.isdecimal() else (1, 0, token.casefold())


def linked_tasks(value: object) -> tuple[str, ...]:
    """Task IDs of a "Linked tasks" cell, without repeats, in task order (the order carries no meaning)."""
    return tuple(sorted(dict.fromkeys(split_ids(value)), key=_task_sort))


def canonical(key: str, value: object) -> str:
    """The text a field is compared and stored as; equal for cosmetically different cells."""
    if isinstance(value, dt.datetime):
        value = value.date()
    if key == "linked_tasks":
        return "; ".join(linked_tasks(value))
    shown = text(value)
    if key == "priority":
        return _PRIORITIES.get(shown.casefold().replace("'", "").replace("\u2019", ""), shown)
    if key == "status":
        return _STATUSES.get(shown.casefold(), shown)
    return shown


@dataclass(frozen=True)
class Requirement:
    """One requirement row, every field already in its canonical text."""

    row: int | None
    id: str
    title: str
    rule: str
    source: str
    priority: str
    status: str
    linked_tasks: tuple[str, ...]
    decided_by: str

    @property
    def needs_sign_off(self) -> bool:
        return self.status not in INACTIVE_STATUSES

    def values(self) -> dict[str, str]:
        """Tracked fields in canonical form, in Change Log order."""
        return {k: canonical(k, "; ".join(self.linked_tasks) if k == "linked_tasks" else getattr(self, k))
                for k in FIELDS}


@dataclass(frozen=True)
class RequirementsReport:
    """The rows in sheet order (all of them, duplicates included) and their problems."""

    items: tuple[Requirement, ...]
    findings: tuple[Finding, ...]


@dataclass(frozen=True)
class ChangeEntry:
    """One Change Log row."""

    detected_on: dt.date
    requirement_id: str
    field: str  # a column title from FIELDS, ADDED or DELETED
    old_value: str
    new_value: str
    decided_by: str

    def as_row(self) -> dict[str, object]:
        """Keyed as the Change Log columns of the workbook layout."""
        return {"detected_on": self.detected_on, "requirement_id": self.requirement_id, "field": self.field,
                "old_value": self.old_value, "new_value": self.new_value, "decided_by": self.decided_by}


def _has_content(row: Row) -> bool:
    return not all(is_blank(row.get(k)) for k in ("id", *FIELDS))


def read_requirements(
    rows: Iterable[Row],
    *,
    schedule: Schedule | TaskIndex | Iterable[TaskSchedule] | None = None,
    locate: Locate | None = None,
    sheet: str = SHEET,
) -> RequirementsReport:
    """Read the Requirements rows; report missing and duplicate IDs and links to unknown tasks."""
    tasks: Mapping[int, TaskSchedule] = task_index(schedule)
    findings: list[Finding] = []
    readers = [RowReader(r, sheet, "requirement", locate, findings) for r in rows if _has_content(r)]
    items = []
    for reader in readers:
        row = reader.row
        linked = linked_tasks(row.get("linked_tasks"))
        title, rule, source, priority, status = (canonical(k, row.get(k))
                                                 for k in ("title", "rule", "source", "priority", "status"))
        items.append(Requirement(reader.number, ident(row.get("id")), title, rule, source, priority, status,
                                 linked, canonical("decided_by", row.get("decided_by"))))
        if not items[-1].id:
            reader.add("no-id", "id", "The requirement has no ID, so its changes cannot be logged.",
                       "Give it a short reference such as R-011.")
        if tasks:
            for token in linked:
                number = task_ref(token)
                if number is None or number not in tasks:
                    reader.add("unknown-task", "linked_tasks", f"Linked task {token!r} is not a task in the plan.",
                               "Use task IDs from the Tasks sheet, separated by ';'.", task_id=number)
    duplicate_check(readers, [r.id for r in items], "Requirement")
    return RequirementsReport(tuple(items), tuple(findings))


# -- snapshot ----------------------------------------------------------------------------------------

_FIELD_BY_NAME = {**{k.casefold(): k for k in FIELDS}, **{t.casefold(): k for k, t in FIELDS.items()}}


def snapshot_rows(requirements: Iterable[Requirement] | Mapping[str, Mapping[str, str]],
                  taken_on: dt.date) -> list[dict[str, object]]:
    """The hidden snapshot sheet's rows: one per requirement and tracked field, value as text.

    Every field is stored, blank ones too, so a requirement whose cells are all empty is still known.
    """
    if isinstance(requirements, Mapping):
        pairs = [(rid, {k: canonical(k, v) for k, v in values.items()}) for rid, values in requirements.items()]
    else:
        pairs = [(r.id, r.values()) for r in requirements]
    return _rows_of(pairs, taken_on)


def _rows_of(pairs: Iterable[tuple[str, Mapping[str, str]]], taken_on: dt.date) -> list[dict[str, object]]:
    if isinstance(taken_on, dt.datetime):
        taken_on = taken_on.date()
    rows: list[dict[str, object]] = []
    seen: set[str] = set()
    for rid, values in pairs:
        if not id_key(rid) or id_key(rid) in seen:
            continue
        seen.add(id_key(rid))
        rows.extend({"taken_on": taken_on, "requirement_id": rid, "field": k, "value": values.get(k, "")}
                    for k in FIELDS)
    return rows


def parse_snapshot(rows: Iterable[Row]) -> dict[str, dict[str, str]]:
    """Stored values by requirement ID (as shown), in stored order; unknown fields are dropped.

    A field missing from the snapshot is simply not compared, so adding a tracked field later does
    not flood the log.
    """
    by_key: dict[str, tuple[str, dict[str, str]]] = {}
    for row in rows:
        rid = ident(row.get("requirement_id"))
        field = _FIELD_BY_NAME.get(text(row.get("field")).casefold())
        if not rid:
            continue
        _, values = by_key.setdefault(id_key(rid), (rid, {}))
        if field is not None:
            values.setdefault(field, canonical(field, row.get("value")))
    return {rid: values for rid, values in by_key.values()}


def _summary(values: Mapping[str, str]) -> str:
    """All non-blank values, one "Title: value" per line: what an added or deleted entry keeps."""
    return "\n".join(f"{FIELDS[k]}: {v}" for k, v in values.items() if k in FIELDS and v)


@without_collector
def capture_changes(
    current_rows: Iterable[Row] | Sequence[Requirement],
    snapshot_rows: Iterable[Row],
    detected_on: dt.date,
    default_decider: object,
) -> tuple[list[ChangeEntry], list[dict[str, object]]]:
    """Change Log entries since the last snapshot, and the snapshot to store now.

    Entries come in sheet order (fields in column order), then deletions in snapshot order.
    "Decided by" is the row's own when typed, else ``default_decider`` (the workbook's last
    editor); a deletion has no row left, so it always takes ``default_decider``. Rows without an
    ID are not tracked, and of two rows sharing an ID the first is.
    """
    if isinstance(detected_on, dt.datetime):
        detected_on = detected_on.date()
    fallback = text(default_decider)
    given: list[Row | Requirement] = list(current_rows)
    current = [r for r in given if isinstance(r, Requirement)]
    current += read_requirements(r for r in given if not isinstance(r, Requirement)).items
    old = parse_snapshot(snapshot_rows)
    old_by_key = {id_key(rid): values for rid, values in old.items()}
    entries: list[ChangeEntry] = []
    kept: dict[str, Requirement] = {}
    for req in current:
        key = id_key(req.id)
        if not key or key in kept:
            continue
        kept[key] = req
        values = req.values()
        decider = req.decided_by or fallback
        before = old_by_key.get(key)
        if before is None:
            entries.append(ChangeEntry(detected_on, req.id, ADDED, "", _summary(values), decider))
            continue
        entries.extend(ChangeEntry(detected_on, req.id, FIELDS[k], before[k], v, decider)
                       for k, v in values.items() if k in before and before[k] != v)
    entries.extend(ChangeEntry(detected_on, rid, DELETED, _summary(values), "", fallback)
                   for rid, values in old.items() if id_key(rid) not in kept)
    return entries, _rows_of(((r.id, r.values()) for r in kept.values()), detected_on)


def _kept(value: object) -> str:
    """Old and new values as stored: the line breaks of an added or deleted summary stay."""
    return value.strip() if isinstance(value, str) else text(value)


def parse_change_log(rows: Iterable[Row | ChangeEntry]) -> list[ChangeEntry]:
    """Change Log rows as entries; rows without a readable date or ID are skipped."""
    entries = []
    for row in rows:
        if isinstance(row, ChangeEntry):
            entries.append(row)
            continue
        rid = ident(row.get("requirement_id"))
        try:
            detected = to_date(row.get("detected_on"))
        except (ValueError, OverflowError, TypeError):
            continue
        if rid:
            entries.append(ChangeEntry(detected, rid, text(row.get("field")), _kept(row.get("old_value")),
                                       _kept(row.get("new_value")), text(row.get("decided_by"))))
    return entries


def last_changed(entries: Iterable[ChangeEntry]) -> dict[str, dt.date]:
    """Latest detection date per requirement ID key: the Requirements sheet's "Last changed"."""
    latest: dict[str, dt.date] = {}
    for entry in entries:
        key = id_key(entry.requirement_id)
        if key not in latest or entry.detected_on > latest[key]:
            latest[key] = entry.detected_on
    return latest


copied_by_fields(__name__)

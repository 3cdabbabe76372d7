"""Validation sign-off: who accepted which requirement or milestone, and whether that still holds.

A sign-off is evidence about the wording the business user saw. When the requirement changes
afterwards (a Change Log entry detected after the sign-off date) the sign-off no longer covers it,
and the requirement is back on the list of items awaiting validation; nothing is silently carried
over. A rejection is a recorded answer, not a sign-off. Accepted-with-anomalies counts as accepted:
the anomalies are acknowledged and kept for training and rollout, not reopened.

For each item the latest sign-off with a result decides (by date, then sheet order), so a later
acceptance settles an earlier rejection and the other way round.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import Enum

from wbs_tools.core.findings import Finding
from wbs_tools.core.frozen import copied_by_fields
from wbs_tools.core.gcpause import without_collector
from wbs_tools.core.registers.cells import (
    Locate,
    Row,
    RowReader,
    TaskIndex,
    id_key,
    ident,
    is_blank,
    lookup,
    task_index,
    task_ref,
)
from wbs_tools.core.registers.requirements import (
    ADDED,
    ChangeEntry,
    Requirement,
    parse_change_log,
    read_requirements,
)
from wbs_tools.core.schedule import Schedule, TaskSchedule, fields_of

SHEET = "Sign-off"
INPUT_KEYS = ("item_id", "validated_by", "date", "result", "anomalies")


class SignOffResult(str, Enum):
    """The drop-down values; "approved", "conditional", "not accepted" are read as these."""

    ACCEPTED = "Accepted"
    ACCEPTED_WITH_ANOMALIES = "Accepted with anomalies"
    REJECTED = "Rejected"

    @property
    def accepted(self) -> bool:
        return self is not SignOffResult.REJECTED


class ItemKind(str, Enum):
    """What a sign-off item ID turned out to name."""

    REQUIREMENT = "requirement"
    MILESTONE = "milestone"
    TASK = "task"  # a deliverable: any other task of the plan
    UNKNOWN = "unknown"


_RESULT_WORDS: dict[str, SignOffResult] = {
    **dict.fromkeys(("accepted", "accept", "approved", "ok", "signedoff", "passed", "pass", "yes", "validated"),
                    SignOffResult.ACCEPTED),
    **dict.fromkeys(("acceptedwithanomalies", "acceptedwithanomaly", "acceptedwanomalies", "withanomalies",
                     "conditional", "conditionallyaccepted", "acceptedwithexceptions", "acceptedwithissues",
                     "acceptedwithconditions", "partial", "partiallyaccepted"),
                    SignOffResult.ACCEPTED_WITH_ANOMALIES),
    **dict.fromkeys(("rejected", "reject", "failed", "fail", "no", "notaccepted", "declined"),
                    SignOffResult.REJECTED),
}


def parse_result(value: object) -> SignOffResult | None:
    """A typed result; "Accepted (2 anomalies noted)" counts as accepted with anomalies."""
    if is_blank(value):
        return None
    found = lookup(value, _RESULT_WORDS)
    if found is SignOffResult.ACCEPTED and any(w in str(value).casefold() for w in ("anomal", "exception")):
        return SignOffResult.ACCEPTED_WITH_ANOMALIES
    return found


@dataclass(frozen=True)
class SignOff:
    """One sign-off row as read, with whether a later change voided it."""

    row: int | None
    item_id: str
    kind: ItemKind
    task_id: int | None
    validated_by: str
    date: dt.date | None
    result: SignOffResult | None  # None: not recorded yet, or not readable
    anomalies: str
    still_valid: bool = True  # False once the requirement changed after this sign-off
    changed_on: dt.date | None = None  # the first change that invalidated it

    def computed_cells(self) -> dict[str, object]:
        return {"still_valid": self.still_valid}


@dataclass(frozen=True)
class MissingSignOff:
    """A requirement or milestone without a valid acceptance, and why."""

    item_id: str
    kind: ItemKind
    title: str
    reason: str
    last_sign_off_row: int | None = None


@dataclass(frozen=True)
class SignOffReport:
    """The rows in sheet order, their problems, and the items still awaiting a valid acceptance."""

    entries: tuple[SignOff, ...]
    findings: tuple[Finding, ...]
    missing: tuple[MissingSignOff, ...]
    accepted: frozenset[str]  # ID keys of items holding a valid acceptance

    def is_signed_off(self, item_id: object) -> bool:
        """For the Requirements sheet's "Signed off" column (any ID spelling)."""
        return id_key(item_id) in self.accepted


def _read(reader: RowReader, requirements: dict[str, Requirement], tasks: Mapping[int, TaskSchedule],
          status_date: dt.date | None) -> SignOff:
    row = reader.row
    item = ident(row.get("item_id"))
    task_id = task_ref(row.get("item_id"))
    if id_key(item) in requirements:
        kind, task_id = ItemKind.REQUIREMENT, None
    elif task_id is not None and task_id in tasks:
        kind = ItemKind.MILESTONE if tasks[task_id].milestone else ItemKind.TASK
    else:
        kind = ItemKind.UNKNOWN
        named = f"{item!r} is neither a requirement ID nor a task ID" if item else "no item is named"
        reader.add("unknown-item", "item_id", f"The sign-off is for an unknown item: {named}.",
                   "Use an ID from the Requirements sheet or a task ID from the Tasks sheet.")
    result = parse_result(row.get("result"))
    if result is None and not is_blank(row.get("result")):
        reader.add("bad-result", "result", f"Result {reader.text('result')!r} is not Accepted, Accepted with "
                   "anomalies or Rejected; it does not count as a sign-off.", "Pick a result from the drop-down.")
    date = reader.date("date", "Sign-off date")
    if date is None and is_blank(row.get("date")):
        reader.add("no-date", "date", "The sign-off has no date, so any later change to the item voids it.",
                   "Type the day it was validated.")
    if date is not None and status_date is not None and date > status_date:
        reader.add("future-date", "date", f"Signed on {date:%Y-%m-%d}, after the status date "
                   f"{status_date:%Y-%m-%d}.", "Check the year, or move the status date.")
    return SignOff(reader.number, item, kind, task_id, reader.text("validated_by"), date, result,
                   reader.text("anomalies"))


def _validity(entry: SignOff, changes: dict[str, list[dt.date]]) -> SignOff:
    if entry.kind is not ItemKind.REQUIREMENT:
        return entry
    dates = changes.get(id_key(entry.item_id), [])
    later = [d for d in dates if entry.date is None or d > entry.date]
    if not later:
        return entry
    return replace(entry, still_valid=False, changed_on=min(later))


def _reason(latest: SignOff | None) -> str:
    if latest is None:
        return "no sign-off"
    by = f" by {latest.validated_by}" if latest.validated_by else ""
    on = f" on {latest.date:%Y-%m-%d}" if latest.date else ""
    if latest.result is SignOffResult.REJECTED:
        return f"rejected{by}{on}"
    return f"changed on {latest.changed_on:%Y-%m-%d}, after the sign-off{by}{on}"


@without_collector
def evaluate_signoffs(
    rows: Iterable[Row],
    *,
    requirements: Iterable[Row | Requirement] = (),
    change_log: Iterable[Row | ChangeEntry] = (),
    schedule: Schedule | TaskIndex | Iterable[TaskSchedule] | None = None,
    status_date: dt.date | None = None,
    locate: Locate | None = None,
    sheet: str = SHEET,
) -> SignOffReport:
    """Read the Sign-off rows, mark the ones a later change voids, and list what awaits validation.

    Requirements needing sign-off are those not Deferred or Withdrawn; milestones are the plan's
    milestone tasks. ``change_log`` should include the entries captured in this refresh.
    """
    if isinstance(status_date, dt.datetime):
        status_date = status_date.date()
    tasks = task_index(schedule)
    given = list(requirements)
    reqs = [r for r in given if isinstance(r, Requirement)]
    reqs += read_requirements(r for r in given if not isinstance(r, Requirement)).items
    by_key: dict[str, Requirement] = {}
    for req in reqs:
        if id_key(req.id):
            by_key.setdefault(id_key(req.id), req)
    changes: dict[str, list[dt.date]] = {}
    for change in parse_change_log(change_log):
        if change.field != ADDED:  # first sight of a requirement is not an edit of it
            changes.setdefault(id_key(change.requirement_id), []).append(change.detected_on)

    findings: list[Finding] = []
    readers = [RowReader(r, sheet, "signoff", locate, findings) for r in rows
               if not all(is_blank(r.get(k)) for k in INPUT_KEYS)]
    entries = [_validity(_read(reader, by_key, tasks, status_date), changes) for reader in readers]

    latest: dict[str, SignOff] = {}
    for entry in sorted(entries, key=lambda e: e.date or dt.date.min):  # stable: sheet order breaks ties
        if entry.result is not None and entry.kind is not ItemKind.UNKNOWN:
            key = id_key(entry.item_id) if entry.task_id is None else str(entry.task_id)
            latest[key] = entry
    accepted = frozenset(k for k, e in latest.items() if e.result is not None and e.result.accepted
                         and e.still_valid)

    missing: list[MissingSignOff] = []
    for key, req in by_key.items():
        if req.needs_sign_off and key not in accepted:
            last = latest.get(key)
            missing.append(MissingSignOff(req.id, ItemKind.REQUIREMENT, req.title, _reason(last),
                                          last.row if last else None))
    scheduled: Sequence[TaskSchedule] = schedule.tasks if isinstance(schedule, Schedule) else list(tasks.values())
    by_id = {row[0]: row for row in fields_of(scheduled, ("id", "milestone", "summary", "name"))}  # reused ID: last
    for task_id, milestone, summary, name in by_id.values():
        key = str(task_id)
        if milestone and not summary and key not in accepted:
            last = latest.get(key)
            missing.append(MissingSignOff(key, ItemKind.MILESTONE, name, _reason(last), last.row if last else None))
    return SignOffReport(tuple(entries), tuple(findings), tuple(missing), accepted)


copied_by_fields(__name__)

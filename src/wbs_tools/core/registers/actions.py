"""Action items: the follow-ups that stand between people ("Sallie can't start X until Tom sends Y").

Reviewed on every status call, so the figures answer the call's questions: what is late and by how
much (working days on the plan calendar, so a weekend does not make a Friday action look three days
late), what falls due this week, what cannot move because it waits on another open action, and which
ones hold up a critical task. Nothing here reads a clock: "today" is the plan's status date.

Age counts working days from "Raised on" to the done date (or to the status date while open); an
action closed without a done date, or never given a raised-on date, has no age rather than a guess.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import Enum

from wbs_tools.core.calendar import WorkCalendar
from wbs_tools.core.findings import Finding
from wbs_tools.core.frozen import copied_by_fields
from wbs_tools.core.gcpause import without_collector
from wbs_tools.core.graph import find_cycles
from wbs_tools.core.registers.cells import (
    Locate,
    Row,
    RowReader,
    TaskIndex,
    duplicate_check,
    id_key,
    is_blank,
    lookup,
    register_finding,
    split_ids,
    task_index,
    task_ref,
    week_of,
    working_days,
)
from wbs_tools.core.schedule import Schedule, TaskSchedule

SHEET = "Action Items"
INPUT_KEYS = ("id", "action", "owner", "needed_by", "waits_on", "raised_on", "due_date", "status",
              "done_date", "notes")


class ActionStatus(str, Enum):
    """The drop-down values; typed variants ("WIP", "on hold", "completed") are read as these."""

    OPEN = "Open"
    IN_PROGRESS = "In progress"
    WAITING = "Waiting"
    DONE = "Done"
    CANCELLED = "Cancelled"

    @property
    def closed(self) -> bool:
        """Done and Cancelled need no follow-up and block nobody."""
        return self in (ActionStatus.DONE, ActionStatus.CANCELLED)


_STATUS_WORDS: dict[str, ActionStatus] = {
    **dict.fromkeys(("open", "new", "todo", "notstarted", "raised", "reopened"), ActionStatus.OPEN),
    **dict.fromkeys(("inprogress", "started", "ongoing", "wip", "active", "doing", "underway"),
                    ActionStatus.IN_PROGRESS),
    **dict.fromkeys(("waiting", "waitingon", "onhold", "hold", "blocked", "pending", "parked"),
                    ActionStatus.WAITING),
    **dict.fromkeys(("done", "complete", "completed", "closed", "finished", "resolved", "delivered", "sent"),
                    ActionStatus.DONE),
    **dict.fromkeys(("cancelled", "canceled", "dropped", "void", "withdrawn", "obsolete", "notneeded", "na"),
                    ActionStatus.CANCELLED),
}
_ALLOWED = "Open, In progress, Waiting, Done or Cancelled"


@dataclass(frozen=True)
class ActionItem:
    """One action row as read, with what the status call needs computed."""

    row: int | None
    id: str
    action: str
    owner: str
    needed_by: str
    needed_by_task: int | None  # "Needed by" read as a task ID, when it is one
    waits_on: tuple[str, ...]
    raised_on: dt.date | None
    due_date: dt.date | None
    status: ActionStatus
    done_date: dt.date | None
    notes: str
    days_overdue: int = 0  # working days past due at the status date; 0 when closed or not late
    due_this_week: bool = False  # open and due Monday-Sunday of the status date's week
    blocked: bool = False  # open and waits on an action that is still open
    blocked_by: tuple[str, ...] = ()
    blocks_critical: bool = False  # open and needed by a critical task that is not complete
    age_days: int | None = None

    @property
    def is_open(self) -> bool:
        return not self.status.closed

    @property
    def overdue(self) -> bool:
        return self.days_overdue > 0

    def computed_cells(self) -> dict[str, object]:
        """The sheet's computed columns, keyed as in the workbook layout."""
        return {"days_overdue": self.days_overdue, "due_this_week": self.due_this_week,
                "blocked": self.blocked, "blocks_critical": self.blocks_critical, "age_days": self.age_days}


@dataclass(frozen=True)
class ActionReport:
    """Everything one refresh learns from the sheet: the rows, in sheet order, and their problems."""

    items: tuple[ActionItem, ...]
    findings: tuple[Finding, ...]
    cycles: tuple[tuple[str, ...], ...]  # each loop of waits, starting at its earliest row

    @property
    def overdue(self) -> tuple[ActionItem, ...]:
        return tuple(a for a in self.items if a.overdue)


def parse_action_status(value: object) -> ActionStatus | None:
    """A typed status in any case, with or without a remark; None when blank or unknown."""
    return None if is_blank(value) else lookup(value, _STATUS_WORDS)


def _read(reader: RowReader, tasks: Mapping[int, TaskSchedule]) -> ActionItem:
    status, unknown = reader.choice("status", _STATUS_WORDS)
    if unknown:
        reader.add("bad-status", "status", f"Status {unknown!r} is not one of {_ALLOWED}; Open was assumed.",
                   "Pick a status from the drop-down.")
    status = status or ActionStatus.OPEN
    done_date = reader.date("done_date", "Done date")
    if done_date is not None and status is not ActionStatus.DONE and status is not ActionStatus.CANCELLED:
        reader.add("done-date-not-done", "status", f"Done date {done_date:%Y-%m-%d} is typed but the status "
                   f"is {status.value}.", "Set the status to Done, or clear the done date.")
    if status is ActionStatus.DONE and reader.blank("done_date"):
        reader.add("done-without-date", "done_date", "The action is Done but has no done date; its age is "
                   "not known.", "Type the day it was done.")
    needed_by = reader.text("needed_by")
    task_id = task_ref(reader.row.get("needed_by"))
    if task_id is not None and tasks and task_id not in tasks:
        reader.add("unknown-task", "needed_by", f"Needed by task {task_id}, which is not in the plan.",
                   "Use a task ID from the Tasks sheet, or a person's name.", task_id=task_id)
    return ActionItem(
        row=reader.number, id=reader.text("id"), action=reader.text("action"), owner=reader.text("owner"),
        needed_by=needed_by, needed_by_task=task_id, waits_on=split_ids(reader.row.get("waits_on")),
        raised_on=reader.date("raised_on", "Raised on"), due_date=reader.date("due_date", "Due date"),
        status=status, done_date=done_date, notes=reader.text("notes"),
    )


def _cycles(items: list[ActionItem], first: dict[str, int]) -> list[list[int]]:
    """Loops of waits among the first row of each ID, each rotated to start at its earliest row."""
    successors = [sorted({first[id_key(w)] for w in item.waits_on if id_key(w) in first})
                  if first.get(id_key(item.id)) == i else [] for i, item in enumerate(items)]
    loops = find_cycles(successors, sorted(first.values()))
    rotated = []
    for loop in loops:
        start = loop.index(min(loop))
        rotated.append(loop[start:] + loop[:start])
    return sorted(rotated)


@without_collector
def evaluate_actions(
    rows: Iterable[Row],
    *,
    status_date: dt.date,
    calendar: WorkCalendar,
    schedule: Schedule | TaskIndex | Iterable[TaskSchedule] | None = None,
    locate: Locate | None = None,
    sheet: str = SHEET,
) -> ActionReport:
    """Read the Action Items rows and compute overdue, due-this-week, blocked, critical and age.

    ``schedule`` gives the tasks "Needed by" may name; without it task IDs are not checked and no
    action blocks a critical task. Rows with every input blank are skipped.
    """
    if isinstance(status_date, dt.datetime):
        status_date = status_date.date()
    tasks = task_index(schedule)
    findings: list[Finding] = []
    readers = [RowReader(r, sheet, "action", locate, findings) for r in rows
               if not all(is_blank(r.get(k)) for k in INPUT_KEYS)]
    items = [_read(reader, tasks) for reader in readers]
    first = duplicate_check(readers, [a.id for a in items], "Action")
    for reader, item in zip(readers, items, strict=True):
        for wait in item.waits_on:
            if id_key(wait) not in first:
                reader.add("unknown-wait", "waits_on", f"Waits on action {wait!r}, which is not in the list.",
                           "Use IDs from the ID column, separated by ';'.")

    loops = _cycles(items, first)
    for loop in loops:
        names = [items[i].id for i in loop]
        findings.append(register_finding(
            "action.wait-cycle", "Actions wait on each other in a loop: " + " → ".join([*names, names[0]]) + ".",
            location=readers[loop[0]].where("waits_on"), field="waits_on",
            hint="Remove one of the 'Waits on' entries to break the loop."))

    monday, sunday = week_of(status_date)
    done: list[ActionItem] = []
    for item in items:
        blockers = tuple(w for w in item.waits_on
                         if id_key(w) in first and items[first[id_key(w)]].is_open) if item.is_open else ()
        task = tasks.get(item.needed_by_task) if item.needed_by_task is not None else None
        overdue = 0
        if item.is_open and item.due_date is not None and item.due_date < status_date:
            overdue = max(0, working_days(calendar, item.due_date, status_date) or 0)
        age = None
        end = item.done_date if item.status.closed else status_date
        if item.raised_on is not None and end is not None:
            days = working_days(calendar, item.raised_on, end)
            age = None if days is None else max(0, days)
        done.append(replace(
            item,
            days_overdue=overdue,
            due_this_week=item.is_open and item.due_date is not None and monday <= item.due_date <= sunday,
            blocked=bool(blockers), blocked_by=blockers,
            blocks_critical=item.is_open and task is not None and task.critical and task.percent_complete < 100,
            age_days=age,
        ))
    return ActionReport(tuple(done), tuple(findings), tuple(tuple(items[i].id for i in loop) for loop in loops))


def follow_up(actions: ActionReport | Sequence[ActionItem], owner: str | None = None,
              overdue_only: bool = False) -> list[ActionItem]:
    """Open actions to chase: by owner, then most overdue first, then earliest due.

    Owners compare without case or extra spaces; actions without an owner or a due date come last.
    Backs ``wbs actions PLAN --overdue [--owner NAME]``.
    """
    items = actions.items if isinstance(actions, ActionReport) else actions
    wanted = " ".join(owner.split()).casefold() if owner is not None else None
    chosen = [a for a in items if a.is_open and (not overdue_only or a.overdue)
              and (wanted is None or a.owner.casefold() == wanted)]
    return sorted(chosen, key=lambda a: (
        not a.owner, a.owner.casefold(), -a.days_overdue, a.due_date is None, a.due_date or dt.date.max,
        a.row if a.row is not None else math.inf, a.id))


copied_by_fields(__name__)

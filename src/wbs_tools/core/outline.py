"""The work breakdown structure: parents, summaries and outline numbers from outline levels."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import compress
from typing import Any

from wbs_tools.core.findings import Finding, make_finding
from wbs_tools.core.model import Task


class Outline:
    """Tree derived from the task order and outline levels (index = position in the task list).

    The derived lists are made when first read and kept (explicit attributes rather than
    a functools cached property, which compiled code would recompute at every read)."""

    def __init__(self, levels: list[int], parent: list[int], children: list[Sequence[int]], rows: list[int]
                 ) -> None:
        self.levels = levels
        self.parent = parent  # -1 at the top level
        self.children = children  # a summary's subtasks in order; the leaves share one empty tuple
        # ``list(range(n))``, made once: lists of row numbers (parents, subtasks, the last row under each
        # task, a link's ends, the processing order) take their ints from it and share them (32 bytes each saved)
        self.rows = rows
        self._summary_rows: list[int] | None = None
        self._last_under: list[int] | None = None
        self._numbers: list[str] | None = None

    @property
    def summary_rows(self) -> list[int]:
        """The rows of the tasks that have subtasks, ascending."""
        if self._summary_rows is None:
            self._summary_rows = list(compress(range(len(self.children)), map(len, self.children)))
        return self._summary_rows

    @property
    def last_under(self) -> list[int]:
        """Per task, the row of the last task under it (its own row for a leaf): a summary's subtasks
        are the rows after it down to that one."""
        if self._last_under is None:
            last = list(self.rows)
            children = self.children
            for i in reversed(self.summary_rows):
                last[i] = last[children[i][-1]]
            self._last_under = last
        return self._last_under

    @property
    def numbers(self) -> list[str]:
        """Outline numbers, "1", "1.2", "1.2.3": made when first read (a million strings)."""
        if self._numbers is None:
            numbers = [""] * len(self.parent)
            top = compress(range(len(self.parent)), map((-1).__eq__, self.parent))
            for k, i in enumerate(top, 1):
                numbers[i] = str(k)
            for i, kids in enumerate(self.children):  # rows in order: a parent's number comes first
                if kids:
                    prefix = numbers[i] + "."
                    for k, c in enumerate(kids, 1):
                        numbers[c] = prefix + str(k)
            self._numbers = numbers
        return self._numbers

    def is_summary(self, i: int) -> bool:
        return bool(self.children[i])

    def ancestors(self, i: int) -> list[int]:
        out = []
        p = self.parent[i]
        while p >= 0:
            out.append(p)
            p = self.parent[p]
        return out

    def leaves_under(self, i: int) -> list[int]:
        out: list[int] = []
        stack = list(reversed(self.children[i]))
        while stack:
            j = stack.pop()
            if self.children[j]:
                stack.extend(reversed(self.children[j]))
            else:
                out.append(j)
        return out


_NONE: tuple[int, ...] = ()  # the children of every leaf: a million tasks need not hold a million empty lists


def build_outline(tasks: list[Task]) -> tuple[Outline, list[Finding]]:
    """Derive the tree; a level that jumps by more than one is capped (and reported).

    >>> from wbs_tools.core.model import Task
    >>> o, _ = build_outline([Task(1, "Phase", 1), Task(2, "A", 2), Task(3, "B", 2), Task(4, "C", 1)])
    >>> o.numbers
    ['1', '1.1', '1.2', '2']
    """
    findings: list[Finding] = []
    n = len(tasks)
    # The lists hold the row numbers of ``rows`` themselves, typed Any: compiled code would box an
    # int anew at every store into a list[int] (a million tasks: tens of MB of duplicate ints).
    rows: list[Any] = list(range(n))
    levels = [0] * n
    parent: list[Any] = [-1] * n
    children: list[Any] = [_NONE] * n  # a list of its own once a task has a subtask
    stack: list[Any] = []  # rows of the open ancestors
    depth = 0  # len(stack)
    for i, level in enumerate([t.outline_level for t in tasks]):
        if not level or level <= 0:
            level = 1
        if level > depth + 1:
            task = tasks[i]
            findings.append(make_finding(
                "task.bad-outline",
                f"task {task.id}: outline level {level} follows level {depth}; "
                f"treated as level {depth + 1}",
                task_id=task.id, field="outline_level", location=task.cells.get("outline_level"),
            ))
            level = depth + 1
        if level <= depth:
            del stack[level - 1:]
        levels[i] = level
        row = rows[i]
        if level > 1:
            up = parent[i] = stack[-1]
            kids = children[up]
            if kids is _NONE:
                children[up] = [row]
            else:
                kids.append(row)  # the summary's own list
        stack.append(row)
        depth = level
    return Outline(levels, parent, children, rows), findings


def check_wbs_codes(tasks: list[Task], outline: Outline) -> list[Finding]:
    """Typed WBS codes that disagree with the outline position are reported, never rewritten."""
    findings = []
    for i, wbs in enumerate([task.wbs for task in tasks]):
        if not wbs:
            continue
        typed = wbs.strip().rstrip(".")
        if typed and typed != outline.numbers[i]:
            task = tasks[i]
            findings.append(make_finding(
                "task.wbs-mismatch",
                f"task {task.id} '{task.name}': WBS code {typed} but its outline position is "
                f"{outline.numbers[i]}",
                task_id=task.id, field="wbs", location=task.cells.get("wbs"),
                hint="Fix the indentation (outline level) or the typed code.",
            ))
    return findings

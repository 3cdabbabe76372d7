"""The work breakdown structure: parents, summaries and outline numbers from outline levels."""

from __future__ import annotations

from dataclasses import dataclass

from wbs_tools.core.findings import Finding, make_finding
from wbs_tools.core.model import Task


@dataclass
class Outline:
    """Tree derived from the task order and outline levels (index = position in the task list)."""

    levels: list[int]
    parent: list[int]  # -1 at the top level
    children: list[list[int]]
    numbers: list[str]  # "1", "1.2", "1.2.3"

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


def build_outline(tasks: list[Task]) -> tuple[Outline, list[Finding]]:
    """Derive the tree; a level that jumps by more than one is capped (and reported).

    >>> from wbs_tools.core.model import Task
    >>> o, _ = build_outline([Task(1, "Phase", 1), Task(2, "A", 2), Task(3, "B", 2), Task(4, "C", 1)])
    >>> o.numbers
    ['1', '1.1', '1.2', '2']
    """
    findings: list[Finding] = []
    n = len(tasks)
    levels = [0] * n
    parent = [-1] * n
    children: list[list[int]] = [[] for _ in range(n)]
    numbers = [""] * n
    stack: list[int] = []  # indices of the open ancestors
    counters: list[int] = [0]
    for i, task in enumerate(tasks):
        level = task.outline_level if task.outline_level and task.outline_level > 0 else 1
        if level > len(stack) + 1:
            findings.append(make_finding(
                "task.bad-outline",
                f"task {task.id}: outline level {level} follows level {len(stack)}; "
                f"treated as level {len(stack) + 1}",
                task_id=task.id, field="outline_level", location=task.cells.get("outline_level"),
            ))
            level = len(stack) + 1
        del stack[level - 1:]
        del counters[level:]
        counters[level - 1] += 1
        counters.append(0)
        levels[i] = level
        if stack:
            parent[i] = stack[-1]
            children[stack[-1]].append(i)
        numbers[i] = f"{numbers[stack[-1]]}.{counters[level - 1]}" if stack else str(counters[0])
        stack.append(i)
    return Outline(levels, parent, children, numbers), findings


def check_wbs_codes(tasks: list[Task], outline: Outline) -> list[Finding]:
    """Typed WBS codes that disagree with the outline position are reported, never rewritten."""
    findings = []
    for i, task in enumerate(tasks):
        typed = (task.wbs or "").strip().rstrip(".")
        if typed and typed != outline.numbers[i]:
            findings.append(make_finding(
                "task.wbs-mismatch",
                f"task {task.id} '{task.name}': WBS code {typed} but its outline position is "
                f"{outline.numbers[i]}",
                task_id=task.id, field="wbs", location=task.cells.get("wbs"),
                hint="Fix the indentation (outline level) or the typed code.",
            ))
    return findings

"""Turn a plan into the scheduling network: validated links, summary gates and a processing order.

Links to and from summary tasks are legal. Rather than copying such a link onto every subtask (which
grows with the product of the two subtrees), each summary gets two nodes in the network: a *begin*
node that precedes all its subtasks (links into the summary attach there) and an *end* node that
follows them (links out of the summary leave from there; the summary's own index plays that role).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from operator import attrgetter, eq
from typing import cast, overload

import numpy as np
import numpy.typing as npt

from wbs_tools.core.findings import Finding, make_finding
from wbs_tools.core.graph import find_cycles, topological_order
from wbs_tools.core.model import Link, Plan
from wbs_tools.core.outline import Outline


@dataclass
class Network:
    """Index-based view of the plan for the passes (index = position in ``plan.tasks``)."""

    n_tasks: int
    links: list[Link]  # accepted links, deduplicated
    pred_index: list[int]
    succ_index: list[int]
    in_links: Sequence[Sequence[int]]  # per task: accepted link numbers whose successor is the task, ascending
    out_links: Sequence[Sequence[int]]  # per task: accepted link numbers whose predecessor is the task, ascending
    order: list[int]  # node order: task index, or n_tasks + k for the begin node of a summary
    begin_of: dict[int, int]  # summary task index -> its begin node
    in_cycle: set[int] = field(default_factory=set)
    dropped: set[int] = field(default_factory=set)  # link numbers set aside because they close a loop
    findings: list[Finding] = field(default_factory=list)
    _ends: tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]] | None = field(default=None, repr=False)

    def link_ends(self) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
        """``pred_index`` and ``succ_index`` as arrays, made once for the bulk steps."""
        if self._ends is None:
            self._ends = (np.array(self.pred_index, dtype=np.intp), np.array(self.succ_index, dtype=np.intp))
        return self._ends


def build_network(plan: Plan, outline: Outline, active: list[bool], ids: list[int] | None = None) -> Network:
    """``ids``: the tasks' IDs in order, when the caller has them already."""
    tasks = plan.tasks
    n = len(tasks)
    findings: list[Finding] = []
    ids = ids or list(map(attrgetter("id"), tasks))
    first = ids[0] if n and type(ids[0]) is int and all(map(eq, ids, range(ids[0], ids[0] + n))) else None  # 1..n
    position = {} if first is not None else dict(zip(ids, range(n), strict=True))
    if first is None and len(position) < n:  # a reused ID: links go to its first task
        position = {}
        for i, t in enumerate(tasks):
            if t.id in position:
                findings.append(make_finding(
                    "task.duplicate-id",
                    f"task ID {t.id} is used twice ('{tasks[position[t.id]].name}' and '{t.name}'); "
                    "links to it go to the first one",
                    task_id=t.id, field="id", location=t.cells.get("id"),
                ))
            else:
                position[t.id] = i

    clean = _clean_links(plan, first, position, outline, active)
    if clean:
        links, pred_index, succ_index, ends = clean
    else:
        if first is not None:
            position = dict(zip(ids, range(n), strict=True))
        links, pred_index, succ_index = _checked_links(plan, position, outline, active, findings)
        ends = (np.array(pred_index, dtype=np.intp), np.array(succ_index, dtype=np.intp))
    in_links = _runs(ends[1], n) or _lists(succ_index, n)
    out_links = _lists(pred_index, n)

    summaries = outline.summary_rows
    begin_of = dict(zip(summaries, range(n, n + len(summaries)), strict=True))
    net = Network(n, links, pred_index, succ_index, in_links, out_links, [], begin_of, findings=findings,
                  _ends=ends)
    _order(net, plan, outline)
    return net


def _lists(task_of: list[int], n: int) -> list[Sequence[int]]:
    """Per task, the link numbers ``k`` (ascending) with ``task_of[k]`` equal to it."""
    out: list[list[int]] = [[] for _ in range(n)]
    for k, task in enumerate(task_of):
        out[task].append(k)
    return out  # type: ignore[return-value]  # a list of lists is a list of sequences to read


class Runs(Sequence[range]):
    """Per task, its link numbers as the run ``range(lo[i], hi[i])``, when links come grouped by task:
    two lists of shared ints rather than a million ``range`` objects (each holding three ints of its
    own). The passes read ``lo`` and ``hi`` directly; indexing makes the range."""

    __slots__ = ("hi", "lo")

    def __init__(self, lo: list[int], hi: list[int]) -> None:
        self.lo, self.hi = lo, hi

    def __len__(self) -> int:
        return len(self.lo)

    @overload
    def __getitem__(self, i: int) -> range: ...
    @overload
    def __getitem__(self, i: slice) -> list[range]: ...
    def __getitem__(self, i: int | slice) -> range | list[range]:
        if isinstance(i, slice):
            return list(map(range, self.lo[i], self.hi[i]))
        return range(self.lo[i], self.hi[i])


def link_counts(per_task: Sequence[Sequence[int]]) -> npt.NDArray[np.intp]:
    """How many links each task has in ``per_task`` (in-links or out-links), in bulk."""
    if isinstance(per_task, Runs):
        return np.array(per_task.hi, dtype=np.intp) - np.array(per_task.lo, dtype=np.intp)
    return np.fromiter(map(len, per_task), dtype=np.intp, count=len(per_task))


def _runs(task_of: npt.NDArray[np.intp], n: int) -> Runs | None:
    """Per task, its link numbers as a run, when links come grouped by task (``task_of`` never
    decreases: plans list each task's predecessors with the task); None otherwise."""
    if len(task_of) > 1 and not (task_of[1:] >= task_of[:-1]).all():
        return None
    hi = np.cumsum(np.bincount(task_of, minlength=n)).tolist()
    return Runs([0, *hi[:-1]], hi)  # a run starts where the one before ends: the same int objects


def _clean_links(plan: Plan, first: int | None, position: dict[int, int], outline: Outline, active: list[bool]
                 ) -> tuple[list[Link], list[int], list[int], tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]] | None:
    """The links as they are when none needs a finding or is set aside (the usual case), in bulk, with
    their ends also as arrays; None when one does. ``first``: the first task's ID when the IDs run
    up by one from it (a task's position is then its ID less ``first``), else None (``position``)."""
    links = plan.links
    n = len(plan.tasks)
    if not all(active):
        return None
    if first is not None:
        m = len(links)
        try:
            pred = np.fromiter(map(attrgetter("predecessor"), links), dtype=np.intp, count=m) - first
            succ = np.fromiter(map(attrgetter("successor"), links), dtype=np.intp, count=m) - first
        except OverflowError:  # an ID typed beyond 64 bits: reported one by one
            return None
        if m and (min(pred.min(), succ.min()) < 0 or max(pred.max(), succ.max()) >= n):
            return None
        at: Callable[[int], int] = outline.rows.__getitem__  # one int per task, shared by its links
        pred_index, succ_index = list(map(at, pred.tolist())), list(map(at, succ.tolist()))
    else:
        get = position.get
        found_p = list(map(get, map(attrgetter("predecessor"), links)))
        found_s = list(map(get, map(attrgetter("successor"), links)))
        if None in found_p or None in found_s:
            return None
        pred_index, succ_index = cast(list[int], found_p), cast(list[int], found_s)
        pred, succ = np.array(pred_index, dtype=np.intp), np.array(succ_index, dtype=np.intp)
    if (pred == succ).any():
        return None
    # a pair linked twice; successor first, as plans list links by successor (a stable sort of runs)
    if (np.diff(np.sort(succ * n + pred, kind="stable")) == 0).any():
        return None
    summary = np.fromiter(map(bool, outline.children), dtype=bool, count=n)
    for k in np.flatnonzero(summary[pred] | summary[succ]).tolist():  # links that touch a summary
        p, s = pred_index[k], succ_index[k]
        if p in outline.ancestors(s) or s in outline.ancestors(p):  # type: ignore[arg-type]
            return None
    return list(links), pred_index, succ_index, (pred, succ)  # type: ignore[return-value]


def _checked_links(plan: Plan, position: dict[int, int], outline: Outline, active: list[bool],
                   findings: list[Finding]) -> tuple[list[Link], list[int], list[int]]:
    """Accepted links, one by one: unknown tasks, self links, summary-to-own-subtask links and duplicates
    are reported and left out."""
    tasks = plan.tasks
    n = len(tasks)
    links: list[Link] = []
    pred_index: list[int] = []
    succ_index: list[int] = []
    seen: dict[int, Link] = {}  # by p * n + s: one int key per ordered pair
    children = outline.children
    get = position.get
    for link in plan.links:
        p, s = get(link.predecessor), get(link.successor)
        if p is None or s is None:
            where = link.origin
            missing = link.predecessor if p is None else link.successor
            findings.append(make_finding(
                "link.unknown-task",
                f"predecessor {missing} of task {link.successor} does not exist" if p is None
                else f"link from task {link.predecessor} names successor {missing}, which does not exist",
                task_id=link.successor, field="predecessors", location=where,
            ))
            continue
        if not (active[p] and active[s]):
            continue
        if p == s:
            findings.append(make_finding(
                "link.self", f"task {link.successor} is linked to itself",
                task_id=link.successor, field="predecessors", location=link.origin,
            ))
            continue
        if (children[p] or children[s]) and (p in outline.ancestors(s) or s in outline.ancestors(p)):
            findings.append(make_finding(
                "link.summary-to-child",
                f"summary task {tasks[min(p, s)].id} is linked to its own subtask "
                f"{tasks[max(p, s)].id}; the link was ignored",
                task_id=link.successor, field="predecessors", location=link.origin,
            ))
            continue
        key = p * n + s
        first = seen.get(key)
        if first is not None:
            if (first.type, first.lag) != (link.type, link.lag):
                findings.append(make_finding(
                    "link.duplicate",
                    f"task {link.successor} depends on {link.predecessor} twice with different "
                    f"type or lag; the first ({first.type.value}) was used",
                    task_id=link.successor, field="predecessors", location=link.origin,
                ))
            continue
        seen[key] = link
        links.append(link)
        pred_index.append(p)
        succ_index.append(s)

    return links, pred_index, succ_index


def _edges(net: Network, outline: Outline, dropped: set[int]) -> list[list[int]]:
    n = net.n_tasks
    begin_of = net.begin_of
    node = list(range(n))  # where a link into each task attaches: its begin node if it is a summary
    for i, b in begin_of.items():
        node[i] = b
    to = list(map(node.__getitem__, net.succ_index))  # per link: the node it leads to
    if dropped:
        succs = [[to[k] for k in ks if k not in dropped] for ks in net.out_links]
    else:
        succs = [list(map(to.__getitem__, ks)) for ks in net.out_links]
    succs += [[] for _ in range(len(begin_of))]
    for i, b in begin_of.items():
        kids = outline.children[i]
        succs[b].extend(map(node.__getitem__, kids))
        for c in kids:
            succs[c].append(i)
    return succs


def _first_order(net: Network, outline: Outline) -> tuple[list[int], list[int]]:
    """``topological_order(_edges(net, outline, set()))`` without building the successor lists: the
    same walk (Kahn's, newest ready node first), reading the links and the outline directly."""
    n = net.n_tasks
    begin_of = net.begin_of
    summaries = list(begin_of)  # begin node n + j belongs to summaries[j]
    node = list(range(n))
    for i, b in begin_of.items():
        node[i] = b
    to = list(map(node.__getitem__, net.succ_index))
    children, parent, in_links, out_links = outline.children, outline.parent, net.in_links, net.out_links
    # edges: link p -> node(s); begin(i) -> node(c) and c -> i for each child c of a summary i
    n_in = link_counts(in_links) + (np.array(parent) >= 0)
    n_kids = np.fromiter(map(len, children), dtype=np.intp, count=n)
    indegree = np.where(n_kids > 0, n_kids, n_in).tolist() + n_in[summaries].tolist()
    ready = [v for v in range(len(indegree) - 1, -1, -1) if indegree[v] == 0]
    order: list[int] = []
    append = order.append
    push = ready.append
    while ready:
        v = ready.pop()
        append(v)
        if v < n:
            for k in out_links[v]:
                s = to[k]
                indegree[s] -= 1
                if indegree[s] == 0:
                    push(s)
            p = parent[v]
            if p >= 0:
                indegree[p] -= 1
                if indegree[p] == 0:
                    push(p)
        else:
            for c in children[summaries[v - n]]:
                s = node[c]
                indegree[s] -= 1
                if indegree[s] == 0:
                    push(s)
    if len(order) == len(indegree):
        return order, []
    return order, [v for v, d in enumerate(indegree) if d > 0]


def _row_order(net: Network, outline: Outline) -> list[int] | None:
    """The task list's own order as the processing order, when every link runs from an earlier row to a
    later one (as in most plans): each summary's begin node in its row and its end node right after
    its last subtask, deeper summaries closing first. Checked for every link in bulk; None when one
    runs backwards. Walking the tasks in row order also keeps the passes' memory reads sequential."""
    n = net.n_tasks
    levels = outline.levels
    summaries = list(net.begin_of)  # begin node n + j belongs to summaries[j], in row order
    last = outline.last_under
    depth = max(levels, default=0) + 2  # room for each row's end nodes after the row's own node
    rows = np.arange(n, dtype=np.int64) * depth
    done = rows.copy()  # where each task's dates are final: its row, or after its last subtask
    if summaries:
        at = np.array(summaries, dtype=np.intp)
        done[at] = np.array(last, dtype=np.int64)[at] * depth + depth - np.array(levels, dtype=np.int64)[at]
    pred, succ = net.link_ends()
    if len(pred) and not (done[pred] < rows[succ]).all():
        return None
    nodes = np.concatenate((np.arange(n), np.arange(n, n + len(summaries)))).astype(np.intp)
    nodes[summaries] = np.arange(n, n + len(summaries))  # a summary's row holds its begin node
    nodes[n:] = summaries  # and its own index is its end node
    keys = np.concatenate((rows, done[summaries] if summaries else np.empty(0, dtype=np.int64)))
    shared = [*outline.rows, *range(n, n + len(summaries))]  # each node's int, shared with the other lists
    return list(map(shared.__getitem__, nodes[np.argsort(keys, kind="stable")].tolist()))


def _order(net: Network, plan: Plan, outline: Outline) -> None:
    """Topological order; loops are reported by name and their inner links set aside."""
    dropped: set[int] = set()
    in_rows = _row_order(net, outline)
    order, left = (in_rows, []) if in_rows is not None else _first_order(net, outline)
    if left:
        succs = _edges(net, outline, dropped)
        node_task = {b: i for i, b in net.begin_of.items()}
        for comp in find_cycles(succs, left):
            members = {node_task.get(v, v) for v in comp}
            inner = [k for m in members for k in net.out_links[m] if net.succ_index[k] in members]
            dropped.update(inner)
            net.in_cycle.update(members)
            walk = []
            for v in comp:
                t = node_task.get(v, v)
                if t not in walk:
                    walk.append(t)
            names = " → ".join(f"{plan.tasks[t].id} '{plan.tasks[t].name}'" for t in walk)
            first = plan.tasks[walk[0]]
            net.findings.append(make_finding(
                "graph.cycle",
                f"tasks depend on each other in a loop: {names} → {first.id}",
                task_id=first.id, field="predecessors", location=first.cells.get("predecessors"),
                hint="Remove one of these links; the loop's tasks were scheduled without them.",
            ))
        succs = _edges(net, outline, dropped)
        order, left = topological_order(succs)
        if left:  # a loop through summary structure only; drop every link touching what is left
            rest = {v if v < net.n_tasks else node_task[v] for v in left}
            dropped.update(k for k in range(len(net.links))
                           if net.pred_index[k] in rest or net.succ_index[k] in rest)
            net.in_cycle.update(rest)
            order, _ = topological_order(_edges(net, outline, dropped))
    if dropped:
        net.in_links = [[k for k in ks if k not in dropped] for ks in net.in_links]
        net.out_links = [[k for k in ks if k not in dropped] for ks in net.out_links]
    net.dropped = dropped
    net.order = order

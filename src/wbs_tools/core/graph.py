"""Graph algorithms the scheduler needs: topological order and the loops that prevent one."""

from __future__ import annotations


def topological_order(successors: list[list[int]]) -> tuple[list[int], list[int]]:
    """Kahn's algorithm; returns (order, nodes left over because they sit in or after a loop).

    >>> topological_order([[1], [2], []])
    ([0, 1, 2], [])
    >>> topological_order([[1], [0], []])[1]
    [0, 1]
    """
    n = len(successors)
    indegree = [0] * n
    for succs in successors:
        for s in succs:
            indegree[s] += 1
    ready = [i for i in range(n - 1, -1, -1) if indegree[i] == 0]
    order: list[int] = []
    append = order.append
    while ready:
        node = ready.pop()
        append(node)
        for s in successors[node]:
            indegree[s] -= 1
            if indegree[s] == 0:
                ready.append(s)
    left = [i for i in range(n) if indegree[i] > 0]
    return order, left


def find_cycles(successors: list[list[int]], nodes: list[int]) -> list[list[int]]:
    """Strongly connected components (size > 1, or a self loop) among ``nodes`` (Tarjan, iterative).

    Each component is returned in the order of a walk along its links, so a message can name the
    loop the way a person would trace it.

    >>> find_cycles([[1], [2], [0], []], [0, 1, 2])
    [[0, 1, 2]]
    """
    inside = set(nodes)
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    on_stack: set[int] = set()
    stack: list[int] = []
    components: list[list[int]] = []
    counter = 0
    for root in nodes:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, pos = work.pop()
            if pos == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            succs = [s for s in successors[node] if s in inside]
            advanced = False
            for k in range(pos, len(succs)):
                s = succs[k]
                if s not in index:
                    work.append((node, k + 1))
                    work.append((s, 0))
                    advanced = True
                    break
                if s in on_stack:
                    low[node] = min(low[node], index[s])
            if advanced:
                continue
            if low[node] == index[node]:
                comp = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    comp.append(top)
                    if top == node:
                        break
                if len(comp) > 1 or node in successors[node]:
                    components.append(_walk_order(comp, successors))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return components


def _walk_order(component: list[int], successors: list[list[int]]) -> list[int]:
    """Order a component along its edges starting from its smallest node."""
    members = set(component)
    start = min(component)
    order = [start]
    seen = {start}
    node = start
    while True:
        nxt = next((s for s in successors[node] if s in members and s not in seen), None)
        if nxt is None:
            break
        order.append(nxt)
        seen.add(nxt)
        node = nxt
    order.extend(sorted(members - seen))
    return order

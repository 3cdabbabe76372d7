"""Why the finish moved, and the few sentences that open the report.

The project finish only moves when something on its driving path moves, so the cause is found by
walking that path back from the last task (each task's driver link names the predecessor that sets
its date) and, for each task on it, separating the slip it inherited from its driver from the slip it
added itself: starting late for a reason other than its driver, or taking longer. The tasks that
added slip are what the narrative names; the reference is last week's snapshot or the baseline.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from wbs_tools.core.frozen import copied_by_fields
from wbs_tools.core.model import LinkType, Task
from wbs_tools.core.schedule import TaskSchedule
from wbs_tools.core.status.lines import (
    ActionLine,
    ChangeLine,
    FinishForecast,
    IssueLine,
    Progress,
    SignOffLine,
    TaskLine,
    format_day,
)
from wbs_tools.core.status.progress import PlanFacts
from wbs_tools.core.status.snapshot import SnapshotDiff

#: Where a task stood before: (start, finish), from last week's snapshot or the baseline.
Reference = Mapping[int, tuple[dt.datetime | None, dt.datetime | None]]


@dataclass(frozen=True)
class SlipOrigin:
    """A task on the driving path that added slip of its own (negative: recovered time)."""

    line: TaskLine
    own_days: float
    started_late_days: float
    longer_days: float

    @property
    def cause(self) -> str:
        """E.g. "took 2 working days longer", "started 1 working day late"."""
        if self.own_days < 0:
            return f"recovered {_wd(-self.own_days)}"
        late, longer = self.started_late_days, self.longer_days
        if late > 0 and longer > 0:
            return f"started {_wd(late)} late and took {_wd(longer)} longer"
        if late > 0:
            return f"started {_wd(late)} late"
        if longer > 0:
            return f"took {_wd(longer)} longer"
        return f"slipped {_wd(self.own_days)}"


def _wd(n: float) -> str:
    return f"{n:g} working day{'' if n == 1 else 's'}"


def _driving_predecessors(facts: PlanFacts) -> Mapping[int, TaskSchedule]:
    """Per leaf task ID, the leaf task whose date drives it (a summary stands for its last child)."""
    return facts.driving_predecessors


def driving_path(facts: PlanFacts) -> list[TaskSchedule]:
    """Leaf tasks from the one that finishes the project back along driving links (last task first)."""
    leaves = [ts for _, ts in facts.leaves() if ts.finish is not None]
    if not leaves:
        return []
    preds = _driving_predecessors(facts)
    # the last task to finish; on a tie the later row, which is usually the closing milestone
    current: TaskSchedule | None = max(reversed(leaves), key=lambda t: (t.finish, t.critical))
    path: list[TaskSchedule] = []
    seen: set[int] = set()
    while current is not None and current.id not in seen:
        seen.add(current.id)
        path.append(current)
        current = preds.get(current.id)
    return path


def own_slips(facts: PlanFacts, reference: Reference, only: Collection[int] | None = None) -> dict[int, SlipOrigin]:
    """Per leaf task ID, the slip it added itself (or recovered) against ``reference``; zero is left out.

    A task adds slip by taking longer (its own span, on its own calendar) or by starting later
    after its driver than it did before (a longer lag, a constraint, a late actual start); what its
    driver passed on is not counted, so each day of slip is named once, where it began. With
    ``only``, just the leaf tasks of those IDs are looked at (the same answer for them).
    """
    preds = _driving_predecessors(facts)
    out = {}
    if only is None:
        for task, ts in facts.leaves():
            found = _own_slip(facts, preds, reference, task, ts)
            if found is not None:
                out[ts.id] = found
        return out
    wanted = only if isinstance(only, (set, frozenset, dict)) else set(only)
    picked: dict[int, list[tuple[Task, TaskSchedule]]] = {}
    for task, ts in facts.leaves():
        if ts.id in wanted:
            picked.setdefault(ts.id, []).append((task, ts))
    for tid, pairs in picked.items():
        for task, ts in reversed(pairs):  # as the loop over every leaf: the last row of an ID with a slip
            found = _own_slip(facts, preds, reference, task, ts)
            if found is not None:
                out[tid] = found
                break
    return out


def _own_slip(facts: PlanFacts, preds: Mapping[int, TaskSchedule], reference: Reference, task: Task,
              ts: TaskSchedule) -> SlipOrigin | None:
    """One leaf task's own slip (see ``own_slips``), or None when it has none."""
    days = facts.days
    ref_start, ref_finish = reference.get(ts.id, (None, None))
    if not (ref_start and ref_finish and ts.start and ts.finish):
        return None
    cal = task.calendar
    longer = round(days.between(ts.start, ts.finish, cal) - days.between(ref_start, ref_finish, cal), 2)
    late = days.between(ref_start, ts.start, cal)
    pred = preds.get(ts.id)
    if pred is not None and ts.driver is not None and ts.driver.link is not None:
        kind = ts.driver.link.type
        pred_ref = reference.get(pred.id, (None, None))
        pred_now, pred_was = ((pred.start, pred_ref[0]) if kind in (LinkType.SS, LinkType.SF)
                              else (pred.finish, pred_ref[1]))
        driven_now, driven_was = ((ts.start, ref_start) if kind in (LinkType.FS, LinkType.SS)
                                  else (ts.finish, ref_finish))
        if pred_now is None or pred_was is None:
            return None
        late = round(days.between(pred_now, driven_now, cal) - days.between(pred_was, driven_was, cal), 2)
        if kind in (LinkType.FF, LinkType.SF):  # the link sets the finish: the span does not matter
            longer = 0.0
    own = round(late + longer, 2)
    return SlipOrigin(facts.line(task, ts), own, late, longer) if own else None


def slip_origins(facts: PlanFacts, reference: Reference) -> tuple[SlipOrigin, ...]:
    """The tasks on the driving path that added (or recovered) slip, biggest first: why the finish moved."""
    path = driving_path(facts)
    own = own_slips(facts, reference, {ts.id for ts in path})
    return tuple(sorted((own[ts.id] for ts in path if ts.id in own), key=lambda o: -abs(o.own_days)))


def _list(items: Sequence[str], limit: int = 3) -> str:
    shown = list(items[:limit]) + ([f"{len(items) - limit} more"] if len(items) > limit else [])
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


def _because(origins: Sequence[SlipOrigin], later: bool) -> str:
    picked = [o for o in origins if (o.own_days > 0) == later]
    return (" because " + _list([f"{o.line.label} {o.cause}" for o in picked], 2)) if picked else ""


def narrative(*, finish: FinishForecast, progress: Progress, diff: SnapshotDiff | None,
              week_origins: Sequence[SlipOrigin], baseline_origins: Sequence[SlipOrigin],
              done: Sequence[TaskLine], missed: Sequence[TaskLine], issues: Sequence[IssueLine],
              actions: Sequence[ActionLine], changes: Sequence[ChangeLine], signoffs: Sequence[SignOffLine],
              since: dt.datetime) -> tuple[str, ...]:
    """A handful of plain sentences, most newsworthy first; each only when it has something to say."""
    out: list[str] = []
    when = f"since {format_day(since, year=False)}"
    if diff is not None and diff.finish_days is not None:
        n = diff.finish_days
        if n:
            because = _because(week_origins, n > 0)
            out.append(f"Finish moved {_wd(abs(n))} {'later' if n > 0 else 'earlier'} {when}, to "
                       f"{format_day(finish.forecast)}" + (f",{because}" if because else "") + ".")
        else:
            out.append(f"Finish unchanged {when}: {format_day(finish.forecast)}.")
    if finish.variance_days is not None and finish.baseline is not None:
        v = finish.variance_days
        if v:
            gap = [o for o in baseline_origins if (o.own_days > 0) == (v > 0)]
            why = (f"; the gap comes from {_list([f'{o.line.label}, which {o.cause}' for o in gap], 2)}"
                   if gap else "")
            out.append(f"Forecast finish {format_day(finish.forecast)} is {_wd(abs(v))} "
                       f"{'later' if v > 0 else 'earlier'} than the baseline {format_day(finish.baseline)}{why}.")
        else:
            out.append(f"Forecast finish {format_day(finish.forecast)} is on the baseline.")
    trend = (f", up from {progress.previous_actual:g}% at the last report"
             if progress.previous_actual is not None and progress.previous_actual != progress.actual else "")
    out.append(f"{progress.actual:g}% complete against {progress.planned:g}% planned{trend}.")
    if done:
        out.append(f"Milestone{'s' if len(done) > 1 else ''} reached: {_list([m.label for m in done])}.")
    if missed:
        out.append("Missed: " + _list([f"{m.label} (due {format_day(m.baseline_finish or m.deadline, year=False)})"
                                       for m in missed]) + ".")
    open_issues = [i for i in issues if i.is_open]
    parts = []
    if diff is not None and (diff.new_issues or diff.closed_issues):
        parts.append(f"{len(diff.new_issues)} new issue{'s' if len(diff.new_issues) != 1 else ''}"
                     + (f" ({_list([i.id for i in diff.new_issues])})" if diff.new_issues else "")
                     + (f", {len(diff.closed_issues)} closed" if diff.closed_issues else ", none closed")
                     + f" {when}")
    breaches = sum(i.sla_breach for i in open_issues)
    parts.append(f"{len(open_issues)} open, {breaches} past SLA")
    out.append("Issues: " + "; ".join(parts) + ".")
    overdue = [a for a in actions if a.overdue]
    if overdue:
        blocking = [a for a in overdue if a.blocks_critical]
        hold = (f"; {_list([a.id for a in blocking])} hold{'s' if len(blocking) == 1 else ''} up the critical path"
                if blocking else "")
        out.append(f"{len(overdue)} action{'s' if len(overdue) > 1 else ''} overdue{hold}.")
    if changes or signoffs:
        bits = []
        if changes:
            bits.append(f"{len(changes)} requirement change{'s' if len(changes) > 1 else ''} "
                        f"({_list(sorted({c.requirement_id for c in changes}))})")
        if signoffs:
            rejected = sum(s.rejected for s in signoffs)
            bits.append(f"{len(signoffs)} sign-off{'s' if len(signoffs) > 1 else ''}"
                        + (f", {rejected} rejected" if rejected else ""))
        out.append("Scope: " + " and ".join(bits) + f" {when}.")
    if diff is not None and (diff.critical_added or diff.critical_removed):
        bits = []
        if diff.critical_added:
            bits.append("now through " + _list([t.label for t in diff.critical_added]))
        if diff.critical_removed:
            bits.append("no longer through " + _list([t.label for t in diff.critical_removed]))
        out.append("Critical path " + "; ".join(bits) + ".")
    return tuple(out)


copied_by_fields(__name__)

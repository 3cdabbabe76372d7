"""The weekly status report as data: ``build_status`` gathers it, the renderers only lay it out.

The report answers what a sponsor asks on Friday: are we on track (RAG per area, with the rule that
set it), where is the finish heading and why did it move, what was reached, what is due, what is
stuck (overdue actions by owner, aging issues) and what changed in scope. It is a pure function of
the schedule, the register rows, the status date and last week's snapshot: no clock, no I/O, so the
same inputs always give the same report.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from wbs_tools.core.findings import Finding
from wbs_tools.core.frozen import copied_by_fields
from wbs_tools.core.gcpause import without_collector
from wbs_tools.core.schedule import Schedule
from wbs_tools.core.status import rules as rag
from wbs_tools.core.status.lines import (
    ActionLine,
    AreaStatus,
    ChangeLine,
    FinishForecast,
    IssueLine,
    OwnerActions,
    Progress,
    SeverityCount,
    SignOffLine,
    TaskLine,
    format_day,
    format_days,
)
from wbs_tools.core.status.narrative import SlipOrigin, narrative, own_slips, slip_origins
from wbs_tools.core.status.progress import (
    DayCounter,
    PlanFacts,
    critical_next,
    deadline_misses,
    milestones,
    percent_complete,
    status_instant,
)
from wbs_tools.core.status.register_rows import SEVERITIES, Registers, RegisterView, read_registers
from wbs_tools.core.status.rules import RagRules
from wbs_tools.core.status.snapshot import IssueMark, SnapshotDiff, StatusSnapshot, diff_snapshots, take_snapshot

DEFAULT_RULES = RagRules()


@dataclass(frozen=True)
class StatusReport:
    """Everything the weekly report shows; see ``build_status``."""

    project_name: str
    status_date: dt.datetime
    period_start: dt.datetime  # the last report's status date, or ``period_days`` before this one
    previous_date: dt.datetime | None
    overall: AreaStatus
    areas: tuple[AreaStatus, ...]  # Schedule, Issues, Actions, Scope
    progress: Progress
    finish: FinishForecast
    milestones_done: tuple[TaskLine, ...]
    milestones_due: tuple[TaskLine, ...]
    milestones_missed: tuple[TaskLine, ...]
    deadline_misses: tuple[TaskLine, ...]
    critical_next: tuple[TaskLine, ...]
    actions_by_owner: tuple[OwnerActions, ...]
    issues_by_severity: tuple[SeverityCount, ...]
    open_issues: tuple[IssueLine, ...]  # most severe first, oldest first within a severity
    requirement_changes: tuple[ChangeLine, ...]
    signoffs: tuple[SignOffLine, ...]
    diff: SnapshotDiff | None
    baseline_origins: tuple[SlipOrigin, ...]  # tasks on the driving path that slipped against the baseline
    narrative: tuple[str, ...]
    snapshot: StatusSnapshot  # store it for next week's report
    critical_tasks: int
    late_tasks: int  # unfinished leaf tasks forecast to finish after their baseline finish
    rules: RagRules = DEFAULT_RULES
    findings: tuple[Finding, ...] = ()  # problems the registers found in their rows (the Check sheet lists them)

    def area(self, name: str) -> AreaStatus:
        """The status of "Overall", "Schedule", "Issues", "Actions" or "Scope" (any case)."""
        for status in (self.overall, *self.areas):
            if status.area.casefold() == name.casefold():
                return status
        raise KeyError(name)

    @property
    def overdue_actions(self) -> tuple[ActionLine, ...]:
        return tuple(a for group in self.actions_by_owner for a in group.actions if a.overdue)

    def history_row(self) -> dict[str, object]:
        """One row of the hidden status-history sheet (its ``issue_states`` cell is the issue log's)."""
        return {
            "status_date": self.status_date, "project_finish": self.finish.forecast,
            "baseline_finish": self.finish.baseline, "finish_variance_days": self.finish.variance_days,
            "percent_complete": self.progress.actual / 100, "critical_tasks": self.critical_tasks,
            "late_tasks": self.late_tasks, "overdue_actions": len(self.overdue_actions),
            "open_issues": len(self.open_issues),
        }


@without_collector
def build_status(schedule: Schedule, registers: Registers | None, *, status_date: dt.date | dt.datetime,
                 previous: StatusSnapshot | None = None, rules: RagRules = DEFAULT_RULES,
                 view: RegisterView | None = None) -> StatusReport:
    """The status report at ``status_date``, compared with ``previous`` (last week's snapshot) if given.

    ``registers`` maps sheet names ("Action Items", "Issue Log", "Requirements", "Change Log",
    "Sign-off") to rows keyed by the workbook layout's column keys; missing sheets count as empty. A
    status date without a time means the end of that working day.
    """
    plan = schedule.plan
    status = status_instant(plan, status_date)
    if previous is not None and previous.status_date >= status:
        raise ValueError(f"the previous snapshot ({previous.status_date:%Y-%m-%d %H:%M}) is not before the "
                         f"status date ({status:%Y-%m-%d %H:%M})")
    facts = PlanFacts(schedule, DayCounter(plan))
    days = facts.days
    since = previous.status_date if previous is not None else status - dt.timedelta(days=rules.period_days)
    if view is None:  # ``view``: the registers as the caller already evaluated them at this status date
        view = read_registers(registers, status_date=status.date(), calendar=days.calendar, tasks=facts.by_id,
                              sla_days=rules.sla_table)

    planned, actual = percent_complete(facts, status)
    progress = Progress(planned, actual, previous.percent_complete if previous is not None else None)
    baseline = facts.baseline_finish
    forecast = schedule.project_finish
    before = previous.project_finish if previous is not None else None
    finish = FinishForecast(forecast, baseline, days.between(baseline, forecast) if baseline and forecast else None,
                            before, days.between(before, forecast) if before and forecast else None)
    done, due, missed = milestones(facts, status, since, rules.lookahead_days)
    deadlines = deadline_misses(facts, {m.id for m in missed})

    open_issues = _sorted_issues([i for i in view.issues if i.is_open])
    changes = tuple(c for c in view.changes if since.date() < c.detected_on <= status.date())
    signoffs = tuple(s for s in view.signoffs if s.date is not None and since.date() < s.date <= status.date())

    snapshot = take_snapshot(facts, status, actual, {i.id: IssueMark(i.what, i.severity) for i in open_issues if i.id})
    diff = None
    week: tuple[SlipOrigin, ...] = ()
    if previous is not None:
        outline = {ts.id: ts.outline_number for ts in schedule.tasks}
        reference = {i: (m.start, m.finish) for i, m in previous.tasks.items()}
        calendars = {t.id: t.calendar for t in plan.tasks}
        week = slip_origins(facts, reference)
        moved = diff_snapshots(previous, snapshot, days, outline, calendars)
        diff = _with_origins(moved, own_slips(facts, reference, {m.id for m in moved.moves}))
    base_ref = {t.id: (t.baselines[0].start, t.baselines[0].finish) for t, _ in facts.pairs if 0 in t.baselines}
    from_baseline = slip_origins(facts, base_ref)

    areas = (
        rag.schedule_status(rules, finish, progress, missed, deadlines),
        rag.issues_status(rules, view.issues),
        rag.actions_status(rules, view.actions),
        rag.scope_status(rules, changes, signoffs),
    )
    leaves = facts.leaves()
    return StatusReport(
        project_name=plan.settings.project_name, status_date=status, period_start=since,
        previous_date=previous.status_date if previous is not None else None,
        overall=rag.overall_status(rules, areas), areas=areas, progress=progress, finish=finish,
        milestones_done=done, milestones_due=due, milestones_missed=missed, deadline_misses=deadlines,
        critical_next=critical_next(facts, rules.critical_next_count),
        actions_by_owner=_by_owner(view.actions, facts), issues_by_severity=_severity_counts(open_issues),
        open_issues=open_issues, requirement_changes=changes, signoffs=signoffs, diff=diff,
        baseline_origins=from_baseline,
        narrative=narrative(finish=finish, progress=progress, diff=diff, week_origins=week,
                            baseline_origins=from_baseline, done=done, missed=missed, issues=view.issues,
                            actions=view.actions, changes=changes, signoffs=signoffs, since=since),
        snapshot=snapshot,
        critical_tasks=sum(ts.critical for _, ts in leaves),
        late_tasks=sum(1 for t, ts in leaves if ts.percent_complete < 100 and 0 in t.baselines
                       and t.baselines[0].finish and ts.finish and days.between(t.baselines[0].finish, ts.finish) > 0),
        rules=rules, findings=view.findings,
    )


def _with_origins(diff: SnapshotDiff, own: Mapping[int, SlipOrigin]) -> SnapshotDiff:
    """Mark the moves that started a slip (or recovered time) rather than inheriting it."""
    moves = tuple(dataclasses.replace(m, own_days=own[m.id].own_days, cause=own[m.id].cause) if m.id in own else m
                  for m in diff.moves)
    return dataclasses.replace(diff, moves=moves)


_SEVERITY_RANK: Mapping[str, int] = {s: n for n, s in enumerate(SEVERITIES)}


def _sorted_issues(issues: Sequence[IssueLine]) -> tuple[IssueLine, ...]:
    return tuple(sorted(issues, key=lambda i: (_SEVERITY_RANK.get(i.severity, len(SEVERITIES)),
                                               -(i.age_days or 0), i.id)))


def _severity_counts(open_issues: Sequence[IssueLine]) -> tuple[SeverityCount, ...]:
    levels = list(SEVERITIES) + ([""] if any(not i.severity for i in open_issues) else [])
    counts = []
    for level in levels:
        group = [i for i in open_issues if i.severity == level]
        ages = [i.age_days for i in group if i.age_days is not None]
        counts.append(SeverityCount(level, len(group), sum(i.sla_breach for i in group), max(ages, default=None)))
    return tuple(counts)


def _by_owner(actions: Sequence[ActionLine], facts: PlanFacts) -> tuple[OwnerActions, ...]:
    """Open actions to chase (overdue, blocked or holding up a critical task), grouped by owner."""
    chase = []
    for a in actions:
        if a.is_open and (a.overdue or a.blocked_by or a.blocks_critical):
            task = facts.by_id.get(a.needed_by_task) if a.needed_by_task is not None else None
            label = f"{task.outline_number} {task.name}".strip() if task is not None else a.needed_by_label
            chase.append(dataclasses.replace(a, needed_by_label=label))
    owners: dict[str, list[ActionLine]] = {}
    for action in chase:
        owners.setdefault(action.owner, []).append(action)
    return tuple(
        OwnerActions(owner, tuple(sorted(group, key=lambda a: (-a.days_overdue, a.due_date or dt.date.max, a.id))))
        for owner, group in sorted(owners.items(), key=lambda kv: (not kv[0], kv[0].casefold())))


#: ``locate(sheet, id)`` -> "Tasks!E24", or None to keep "Tasks 22".
Locate = Callable[[str, str], "str | None"]


def status_sheet_rows(report: StatusReport, locate: Locate | None = None) -> list[dict[str, object]]:
    """The report as rows of the workbook's Status sheet (section, item, value, where).

    People who live in the workbook read the status there rather than in the e-mail, so the sheet
    carries the same content, flattened: one row per fact, the RAG and its reasons first. "Where"
    names the sheet and the ID to look at, or the cell that ``locate`` returns. Values are plain
    text, numbers and dates, never formulas.
    """
    rows: list[dict[str, object]] = []

    def add(section: str, item: str, value: object, sheet: str = "", key: object = "") -> None:
        where = ""
        if sheet:
            where = (locate(sheet, str(key)) if locate else None) or f"{sheet} {key}".strip()
        rows.append({"section": section, "item": item, "value": value, "where": where})

    for status in (report.overall, *report.areas):
        add("RAG", status.area, status.rag.value)
    for status in (report.overall, *report.areas):
        for reason in status.reasons:
            add("Why", status.area, reason)
    for sentence in report.narrative:
        add("Summary", "", sentence)
    f, p = report.finish, report.progress
    add("Key figures", "Status date", report.status_date)
    add("Key figures", "Forecast finish", f.forecast)
    add("Key figures", "Baseline finish", f.baseline)
    add("Key figures", "Finish variance (working days)", f.variance_days)
    add("Key figures", "Change since last report (working days)", f.change_days)
    add("Key figures", "% complete, planned", p.planned / 100)
    add("Key figures", "% complete, actual", p.actual / 100)
    if report.diff is not None:
        for move in report.diff.moves:
            if move.own_days or move.milestone:
                why = move.cause or "follows its predecessor"
                add("Moved since last report", move.label,
                    f"{format_days(move.finish_days, signed=True)} wd to {format_day(move.finish_after)}: {why}",
                    "Tasks", move.id)
        followers = [m for m in report.diff.moves if not (m.own_days or m.milestone)]
        if followers:
            add("Moved since last report", f"{len(followers)} more tasks", "following their predecessors")
        for issue in report.diff.new_issues:
            add("New issue", f"{issue.id} {issue.what}", issue.severity, "Issue Log", issue.id)
        for issue in report.diff.closed_issues:
            add("Closed issue", f"{issue.id} {issue.what}", issue.severity, "Issue Log", issue.id)
    for state, lines in (("Milestone missed", report.milestones_missed), ("Deadline at risk", report.deadline_misses),
                         ("Milestone reached", report.milestones_done), ("Milestone due", report.milestones_due)):
        for line in lines:
            add(state, line.label, line.finish, "Tasks", line.id)
    for line in report.critical_next:
        add("Critical path next", line.label,
            f"{format_day(line.start, year=False)} - {format_day(line.finish, year=False)}, {line.owner or 'no owner'}",
            "Tasks", line.id)
    for group in report.actions_by_owner:
        for a in group.actions:
            notes = [f"{a.days_overdue} wd late" if a.overdue else f"due {format_day(a.due_date, year=False)}"]
            if a.blocks_critical:
                notes.append(f"holds up {a.needed_by_label or a.needed_by}")
            if a.blocked_by:
                notes.append(f"waits on {', '.join(a.blocked_by)}")
            add("Action to chase", f"{a.id} {a.action} ({group.owner or 'no owner'})", "; ".join(notes),
                "Action Items", a.id)
    for open_issue in report.open_issues:
        age = "" if open_issue.age_days is None else f", {open_issue.age_days} wd old"
        past_sla = ", past SLA" if open_issue.sla_breach else ""
        add("Open issue", f"{open_issue.id} {open_issue.what}",
            f"{open_issue.severity or 'no severity'}{age}{past_sla}", "Issue Log", open_issue.id)
    for change in report.requirement_changes:
        add("Requirement change", f"{change.requirement_id} {change.field}",
            f"{change.old_value} -> {change.new_value} ({change.decided_by or 'decider not recorded'})",
            "Change Log", change.requirement_id)
    for s in report.signoffs:
        add("Sign-off", f"{s.item_id} by {s.validated_by}", s.result + (f": {s.anomalies}" if s.anomalies else ""),
            "Sign-off", s.item_id)
    return rows


copied_by_fields(__name__)

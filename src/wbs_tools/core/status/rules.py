"""The RAG rules: when an area of the weekly report turns amber or red, and why.

A RAG a reader cannot trace back to a rule is an opinion; these rules make it a measurement, and
``docs/status.md`` lists them with their defaults. Every threshold is "more than": a threshold of 0
means "any". Each rule that fires adds a reason, so the report always says why an area is not green.
All thresholds live in ``RagRules`` so a project can tune them (``RagRules.from_mapping`` reads them
from a Settings-like mapping of names to cell values).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast, get_type_hints

from wbs_tools.core.status.lines import (
    ActionLine,
    AreaStatus,
    ChangeLine,
    FinishForecast,
    IssueLine,
    Progress,
    Rag,
    SignOffLine,
    TaskLine,
    worst,
)

#: days an open issue of each severity may stay open (severities not named in a plan keep these)
DEFAULT_SLA_DAYS: tuple[tuple[str, float], ...] = (("Critical", 1), ("High", 3), ("Medium", 10), ("Low", 30))


@dataclass(frozen=True)
class RagRules:
    """Thresholds of the RAG rules (see docs/status.md); days are working days."""

    # schedule
    schedule_amber_slip_days: float = 2.0
    schedule_red_slip_days: float = 10.0
    progress_amber_points: float = 5.0
    progress_red_points: float = 15.0
    missed_milestone: Rag = Rag.AMBER
    missed_critical_milestone: Rag = Rag.RED
    deadline_forecast_missed: Rag = Rag.AMBER
    # issues
    issues_red_severities: tuple[str, ...] = ("Critical",)
    issues_amber_severities: tuple[str, ...] = ("High",)
    issues_amber_sla_breaches: int = 0
    issues_red_sla_breaches: int = 2
    sla_days: tuple[tuple[str, float], ...] = DEFAULT_SLA_DAYS
    # actions
    overdue_blocking_critical: Rag = Rag.RED
    actions_amber_overdue: int = 0
    actions_red_overdue: int = 5
    # scope
    scope_amber_changes: int = 0
    scope_red_changes: int = 5
    signoff_rejected: Rag = Rag.AMBER
    # overall and report windows
    overall_red_ambers: int | None = None
    period_days: int = 7
    lookahead_days: int = 14
    critical_next_count: int = 5

    @property
    def sla_table(self) -> dict[str, float]:
        return dict(self.sla_days)

    @classmethod
    def from_mapping(cls, values: Mapping[str, object]) -> RagRules:
        """Rules from names and cell values ("Schedule amber slip days" -> 3, "Missed milestone" -> "Red").

        Names match field names ignoring case, spaces and punctuation; blank values keep the default;
        an unknown name or an unreadable value raises ValueError naming it, so a typo is not ignored.

        >>> RagRules.from_mapping({"Schedule red slip days": "5", "missed milestone": "red"}).missed_milestone
        <Rag.RED: 'Red'>
        """
        hints = get_type_hints(cls)
        names = {_norm(f.name): f.name for f in dataclasses.fields(cls)}
        chosen: dict[str, Any] = {}
        for key, value in values.items():
            name = names.get(_norm(str(key)))
            if name is None:
                raise ValueError(f"unknown RAG rule {key!r}; known: {', '.join(sorted(names.values()))}")
            if value is None or (isinstance(value, str) and not value.strip()):
                continue
            try:
                chosen[name] = _coerce(hints[name], value)
            except (TypeError, ValueError) as error:
                raise ValueError(f"RAG rule {key!r}: cannot read {value!r} ({error})") from None
        if "sla_days" in chosen:  # severities not named keep their default
            chosen["sla_days"] = tuple({**dict(DEFAULT_SLA_DAYS), **dict(chosen["sla_days"])}.items())
        return cls(**chosen)


def _norm(name: str) -> str:
    return re.sub(r"[^0-9a-z]", "", name.casefold())


def _coerce(hint: object, value: object) -> object:
    if hint is Rag:
        return value if isinstance(value, Rag) else Rag(str(value).strip().capitalize())
    if hint == tuple[str, ...]:
        parts = value if isinstance(value, list | tuple) else re.split(r"[;,]", str(value))
        return tuple(str(p).strip().capitalize() for p in parts if str(p).strip())
    if hint == tuple[tuple[str, float], ...]:
        pairs = cast(Iterable[tuple[object, Any]], value.items() if isinstance(value, Mapping) else value)
        return tuple((str(k).strip().capitalize(), float(v)) for k, v in pairs)
    if hint == int | None:
        return None if str(value).strip().casefold() in ("none", "off", "no") else int(float(str(value)))
    if hint is int:
        return int(float(str(value)))
    return float(str(value))


def _days(n: float) -> str:
    return f"{n:g} working day{'' if abs(n) == 1 else 's'}"


def _names(lines: Sequence[TaskLine], limit: int = 3) -> str:
    shown = ", ".join(t.label for t in lines[:limit])
    return shown + (f" and {len(lines) - limit} more" if len(lines) > limit else "")


def schedule_status(rules: RagRules, finish: FinishForecast, progress: Progress, missed: Sequence[TaskLine],
                    deadlines: Sequence[TaskLine]) -> AreaStatus:
    """Slip of the forecast finish, progress against plan, missed milestones, forecast deadline misses."""
    fired: list[tuple[Rag, str]] = []
    slip = finish.variance_days
    if slip is not None and slip > rules.schedule_red_slip_days:
        fired.append((Rag.RED, f"Forecast finish is {_days(slip)} behind baseline "
                               f"(red above {_days(rules.schedule_red_slip_days)})."))
    elif slip is not None and slip > rules.schedule_amber_slip_days:
        fired.append((Rag.AMBER, f"Forecast finish is {_days(slip)} behind baseline "
                                 f"(amber above {_days(rules.schedule_amber_slip_days)})."))
    gap = progress.gap
    if gap > rules.progress_red_points:
        fired.append((Rag.RED, f"Progress is {gap:.0f} points behind plan (red above {rules.progress_red_points:g})."))
    elif gap > rules.progress_amber_points:
        fired.append((Rag.AMBER, f"Progress is {gap:.0f} points behind plan "
                                 f"(amber above {rules.progress_amber_points:g})."))
    critical = [m for m in missed if m.critical]
    other = [m for m in missed if not m.critical]
    if critical:
        fired.append((rules.missed_critical_milestone, f"Critical milestone missed: {_names(critical)}."))
    if other:
        fired.append((rules.missed_milestone, f"Milestone missed: {_names(other)}."))
    if deadlines:
        fired.append((rules.deadline_forecast_missed, f"Forecast to miss its deadline: {_names(deadlines)}."))
    return _area("Schedule", fired, "Forecast finish within tolerance of the baseline; no milestone missed.")


def issues_status(rules: RagRules, issues: Sequence[IssueLine]) -> AreaStatus:
    """Open issues of the red or amber severities, and open issues past their SLA."""
    fired: list[tuple[Rag, str]] = []
    open_issues = [i for i in issues if i.is_open]
    red_levels = {s.casefold() for s in rules.issues_red_severities}
    amber_levels = {s.casefold() for s in rules.issues_amber_severities} - red_levels
    for levels, rag in ((red_levels, Rag.RED), (amber_levels, Rag.AMBER)):
        hits = [i for i in open_issues if i.severity.casefold() in levels]
        if hits:
            fired.append((rag, f"{len(hits)} open {'/'.join(sorted({i.severity for i in hits}))} issue"
                               f"{'s' if len(hits) > 1 else ''}: {', '.join(i.id for i in hits[:5])}."))
    breaches = [i for i in open_issues if i.sla_breach]
    if len(breaches) > rules.issues_red_sla_breaches:
        fired.append((Rag.RED, f"{len(breaches)} open issues past their SLA "
                               f"(red above {rules.issues_red_sla_breaches})."))
    elif len(breaches) > rules.issues_amber_sla_breaches:
        fired.append((Rag.AMBER, f"{len(breaches)} open issue{'s' if len(breaches) > 1 else ''} past "
                                 f"{'their' if len(breaches) > 1 else 'its'} SLA "
                                 f"(amber above {rules.issues_amber_sla_breaches})."))
    return _area("Issues", fired, f"{len(open_issues)} open issues, none severe or past its SLA.")


def actions_status(rules: RagRules, actions: Sequence[ActionLine]) -> AreaStatus:
    """Overdue actions, and overdue actions that hold up a critical task."""
    fired: list[tuple[Rag, str]] = []
    overdue = [a for a in actions if a.overdue]
    blocking = [a for a in overdue if a.blocks_critical]
    if blocking:
        fired.append((rules.overdue_blocking_critical, "Overdue action holding up a critical task: "
                      + ", ".join(f"{a.id} ({a.owner or 'no owner'})" for a in blocking) + "."))
    if len(overdue) > rules.actions_red_overdue:
        fired.append((Rag.RED, f"{len(overdue)} actions overdue (red above {rules.actions_red_overdue})."))
    elif len(overdue) > rules.actions_amber_overdue:
        fired.append((Rag.AMBER, f"{len(overdue)} action{'s' if len(overdue) > 1 else ''} overdue "
                                 f"(amber above {rules.actions_amber_overdue})."))
    return _area("Actions", fired, "No action overdue.")


def scope_status(rules: RagRules, changes: Sequence[ChangeLine], signoffs: Sequence[SignOffLine]) -> AreaStatus:
    """Requirement changes and rejected sign-offs since the last report."""
    fired: list[tuple[Rag, str]] = []
    reqs = sorted({c.requirement_id for c in changes})
    if len(changes) > rules.scope_red_changes:
        fired.append((Rag.RED, f"{len(changes)} requirement changes since the last report "
                               f"(red above {rules.scope_red_changes}): {', '.join(reqs)}."))
    elif len(changes) > rules.scope_amber_changes:
        fired.append((Rag.AMBER, f"{len(changes)} requirement change{'s' if len(changes) > 1 else ''} since "
                                 f"the last report: {', '.join(reqs)}."))
    rejected = [s for s in signoffs if s.rejected]
    if rejected:
        fired.append((rules.signoff_rejected, "Sign-off rejected since the last report: "
                      + ", ".join(f"{s.item_id} by {s.validated_by or 'unknown'}" for s in rejected) + "."))
    return _area("Scope", fired, "No requirement change or rejected sign-off since the last report.")


def overall_status(rules: RagRules, areas: Sequence[AreaStatus]) -> AreaStatus:
    """The worst area; optionally red once ``overall_red_ambers`` areas are amber."""
    rag = worst(a.rag for a in areas)
    ambers = [a.area for a in areas if a.rag is Rag.AMBER]
    reasons = [f"{a.area} is {a.rag.value.lower()}." for a in areas if a.rag is not Rag.GREEN]
    if rules.overall_red_ambers is not None and len(ambers) >= rules.overall_red_ambers and rag is not Rag.RED:
        rag = Rag.RED
        reasons.append(f"{len(ambers)} areas are amber (red at {rules.overall_red_ambers}).")
    return AreaStatus("Overall", rag, tuple(reasons) or ("Every area is green.",))


def _area(name: str, fired: list[tuple[Rag, str]], green: str) -> AreaStatus:
    live = [(rag, why) for rag, why in fired if rag is not Rag.GREEN]
    live.sort(key=lambda f: -f[0].rank)  # stable: red reasons first, then in rule order
    return AreaStatus(name, worst(r for r, _ in live), tuple(why for _, why in live) or (green,))

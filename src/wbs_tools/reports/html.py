"""The status report as one self-contained HTML page, fit to paste into an e-mail body.

E-mail clients drop ``<style>`` blocks, scripts and remote images, so everything here is inline:
styles on each element, tables for layout, no script, no link, no external resource. The page reads
on a phone (one column, cells wrap anywhere, at most five narrow columns). Every piece of text that
came from the workbook goes through ``html.escape``: cells are typed by customers, and a cell such as
``<script>`` or ``"><img onerror=...>`` must show up as the text it is.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
from collections.abc import Iterable, Sequence

from wbs_tools.core.status import (
    AreaStatus,
    Rag,
    StatusReport,
    TaskLine,
    format_day,
    format_days,
)

FONT = "font-family:-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,'DejaVu Sans',sans-serif"
RAG_COLOURS = {Rag.RED: ("#c62828", "#ffffff"), Rag.AMBER: ("#f2a900", "#1a1a1a"), Rag.GREEN: ("#2e7d32", "#ffffff")}
_CELL = "padding:6px 8px;border-bottom:1px solid #e3e6ea;vertical-align:top;text-align:left;overflow-wrap:anywhere;"
_HEAD = _CELL + "background:#f2f4f7;font-weight:600;font-size:13px;color:#374151;"
_MUTED = "color:#6b7280;"


def e(value: object) -> str:
    """Escaped text; line breaks in a cell become ``<br>``."""
    return html.escape("" if value is None else str(value), quote=True).replace("\n", "<br>")


def badge(rag: Rag, text: str | None = None) -> str:
    background, colour = RAG_COLOURS[rag]
    return (f'<span style="display:inline-block;white-space:nowrap;padding:1px 8px;border-radius:10px;'
            f'background:{background};color:{colour};font-weight:700;font-size:12px;">{e(text or rag.value)}</span>')


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], widths: Sequence[str] | None = None) -> str:
    """A data table; ``rows`` hold cell HTML that is already escaped."""
    cols = "".join(f'<col style="width:{w}">' for w in widths) if widths else ""
    head = "".join(f'<th style="{_HEAD}">{e(h)}</th>' for h in headers)
    body = "".join("<tr>" + "".join(f'<td style="{_CELL}">{c}</td>' for c in row) + "</tr>" for row in rows)
    return (f'<table role="presentation" style="width:100%;border-collapse:collapse;font-size:14px;'
            f'margin:4px 0 12px 0;">{cols}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>')


def section(title: str, body: str, note: str = "") -> str:
    extra = f'<div style="{_MUTED}font-size:13px;margin:-4px 0 6px 0;">{e(note)}</div>' if note else ""
    return (f'<h2 style="font-size:17px;margin:22px 0 8px 0;padding-bottom:4px;border-bottom:2px solid #1f2937;'
            f'color:#111827;">{e(title)}</h2>{extra}{body}')


def para(text: str, style: str = "") -> str:
    return f'<p style="margin:4px 0 8px 0;{style}">{text}</p>'


def day(value: dt.date | None, year: bool = False) -> str:
    return e(format_day(value, year=year))


def task_cell(line: TaskLine) -> str:
    mark = ' <span style="color:#c62828;font-weight:700;font-size:12px;">critical</span>' if line.critical else ""
    return f"{e(line.label)}{mark}"


def _badges(report: StatusReport) -> str:
    cells = []
    for status in (report.overall, *report.areas):
        background, colour = RAG_COLOURS[status.rag]
        cells.append(f'<td style="padding:8px 4px;text-align:center;background:{background};color:{colour};'
                     f'border:2px solid #ffffff;"><div style="font-size:12px;">{e(status.area)}</div>'
                     f'<div style="font-size:16px;font-weight:700;">{e(status.rag.value)}</div></td>')
    return (f'<table role="presentation" style="width:100%;border-collapse:collapse;table-layout:fixed;'
            f'margin:10px 0;"><tr>{"".join(cells)}</tr></table>')


def _bar(percent: float, colour: str) -> str:
    width = max(0.0, min(100.0, percent))
    return (f'<div style="background:#e5e7eb;height:10px;border-radius:5px;width:100%;">'
            f'<div style="background:{colour};height:10px;border-radius:5px;width:{width:.1f}%;"></div></div>')


def _figures(report: StatusReport) -> str:
    f, p = report.finish, report.progress
    change = format_days(f.change_days, signed=True) if f.change_days is not None else "first report"
    rows = [
        ("Forecast finish", day(f.forecast, True)),
        ("Baseline finish", day(f.baseline, True)),
        ("Finish variance", e(format_days(f.variance_days, signed=True))
         + (" working days" if f.variance_days is not None else "")),
        ("Change since last report", e(change) + (" working days" if f.change_days is not None else "")),
        ("Actual complete", f"{p.actual:g}%" + _bar(p.actual, "#1f6feb")),
        ("Planned complete", f"{p.planned:g}%" + _bar(p.planned, "#9ca3af")),
        ("Critical tasks / late tasks", f"{report.critical_tasks} / {report.late_tasks}"),
        ("Open issues / overdue actions", f"{len(report.open_issues)} / {len(report.overdue_actions)}"),
    ]
    return table(("Measure", "Value"), rows, ("45%", "55%"))


def _reasons(areas: Iterable[AreaStatus]) -> str:
    rows = [(e(a.area), badge(a.rag), "<br>".join(e(r) for r in a.reasons)) for a in areas]
    return table(("Area", "RAG", "Why"), rows, ("22%", "18%", "60%"))


def _changes(report: StatusReport) -> str:
    diff = report.diff
    if diff is None:
        return section("Changes since last report", para(
            "No earlier report is stored, so this one compares with the baseline only.", _MUTED))
    body = []
    if diff.finish_days is not None:
        later = "later" if diff.finish_days > 0 else "earlier"
        moved = f"moved {format_days(abs(diff.finish_days))} working days {later}" if diff.finish_days else "unchanged"
        body.append(para(f"Project finish {e(moved)}: {day(diff.finish_before, True)} &rarr; "
                         f"{day(diff.finish_after, True)}."))
    shown = [m for m in diff.moves if m.own_days or m.milestone]  # where slip began, and the key dates
    knock_on = [m for m in diff.moves if not (m.own_days or m.milestone)]
    if shown:
        rows = [(e(m.label), day(m.finish_before), day(m.finish_after), e(format_days(m.finish_days, signed=True)),
                 e(m.cause) if m.own_days else f'<span style="{_MUTED}">follows its predecessor</span>')
                for m in sorted(shown, key=lambda m: (-m.own_days, _outline_key(m.outline_number)))]
        body.append(table(("Task", "Finish was", "Finish now", "Moved (wd)", "Why"), rows,
                          ("34%", "15%", "15%", "12%", "24%")))
    by_shift: dict[float, list[str]] = {}
    for m in sorted(knock_on, key=lambda m: _outline_key(m.outline_number)):
        by_shift.setdefault(m.finish_days, []).append(m.label)
    for shift, labels in sorted(by_shift.items(), key=lambda kv: -kv[0]):
        body.append(para(f"<b>{len(labels)} task{'s' if len(labels) > 1 else ''} moved "
                         f"{e(format_days(shift, signed=True))} working days</b> following their predecessors: "
                         f"{e('; '.join(labels))}.", "font-size:13px;"))
    if not diff.moves:
        body.append(para("No task moved.", _MUTED))
    issue_rows = [(e(i.id), e(i.what), e(i.severity or "-"), "New") for i in diff.new_issues]
    issue_rows += [(e(i.id), e(i.what), e(i.severity or "-"), "Closed") for i in diff.closed_issues]
    if issue_rows:
        body.append(table(("Issue", "What", "Severity", "Change"), issue_rows, ("16%", "52%", "16%", "16%")))
    crit = [f"Now on the critical path: {e(', '.join(t.label for t in diff.critical_added))}."
            if diff.critical_added else "",
            f"Off the critical path: {e(', '.join(t.label for t in diff.critical_removed))}."
            if diff.critical_removed else ""]
    body += [para(c) for c in crit if c]
    added = [f"Added: {e(', '.join(t.label for t in diff.added_tasks))}." if diff.added_tasks else "",
             f"Removed: {e(', '.join(t.label for t in diff.removed_tasks))}." if diff.removed_tasks else ""]
    body += [para(a) for a in added if a]
    return section("Changes since last report", "".join(body), f"Compared with {format_day(diff.previous_date)}.")


def _outline_key(number: str) -> tuple[int, ...]:
    return tuple(int(p) for p in number.split(".") if p.isdecimal())


def _milestones(report: StatusReport) -> str:
    rows = []
    for state, lines in (("Missed", report.milestones_missed), ("Deadline at risk", report.deadline_misses),
                         ("Reached", report.milestones_done), ("Due", report.milestones_due)):
        colour = {"Missed": Rag.RED, "Deadline at risk": Rag.AMBER, "Reached": Rag.GREEN}.get(state)
        for m in lines:
            rows.append((task_cell(m), day(m.baseline_finish or m.deadline), day(m.finish),
                         e(format_days(m.variance_days, signed=True)), badge(colour, state) if colour else e(state)))
    if not rows:
        return section("Milestones", para("No milestone reached, due or missed in the window.", _MUTED))
    note = (f"Reached since {format_day(report.period_start, year=False)}; "
            f"due in the next {report.rules.lookahead_days} days.")
    return section("Milestones", table(("Milestone", "Baseline", "Forecast", "Var (wd)", "State"), rows,
                                       ("36%", "15%", "15%", "12%", "22%")), note)


def _critical(report: StatusReport) -> str:
    rows = [(task_cell(t), day(t.start), day(t.finish), e(t.owner or "-"), e(t.driver))
            for t in report.critical_next]
    body = table(("Task", "Start", "Finish", "Owner", "Driven by"), rows, ("32%", "13%", "13%", "17%", "25%")) \
        if rows else para("No unfinished critical task.", _MUTED)
    return section("Critical path: next tasks", body)


def _actions(report: StatusReport) -> str:
    if not report.actions_by_owner:
        return section("Actions to chase", para("No overdue or blocked action.", _MUTED))
    rows = []
    for group in report.actions_by_owner:
        for a in group.actions:
            notes = []
            if a.blocks_critical:
                notes.append(f'<b style="color:#c62828;">holds up critical task '
                             f'{e(a.needed_by_label or a.needed_by)}</b>')
            if a.blocked_by:
                notes.append(f"waits on {e(', '.join(a.blocked_by))}")
            rows.append((e(group.owner or "(no owner)"), f"<b>{e(a.id)}</b> {e(a.action)}", day(a.due_date),
                         e(a.days_overdue) if a.overdue else "-", "; ".join(notes) or e(a.status)))
    return section("Actions to chase, by owner", table(("Owner", "Action", "Due", "Days late", "Note"), rows,
                                                       ("18%", "38%", "12%", "10%", "22%")),
                   "Open actions that are overdue, blocked, or needed by a critical task.")


def _issues(report: StatusReport) -> str:
    counts = [(e(c.severity or "(none)"), e(c.open), e(c.breaching), e("-" if c.oldest_days is None else c.oldest_days))
              for c in report.issues_by_severity]
    rows = [(f"<b>{e(i.id)}</b>", e(i.what), e(i.severity or "-"),
             e("-" if i.age_days is None else i.age_days) + (' <b style="color:#c62828;">past SLA</b>'
                                                              if i.sla_breach else ""), e(i.owner or "-"))
            for i in report.open_issues]
    body = table(("Severity", "Open", "Past SLA", "Oldest (wd)"), counts, ("34%", "22%", "22%", "22%"))
    body += table(("ID", "What", "Severity", "Age (wd)", "Owner"), rows, ("12%", "42%", "14%", "14%", "18%")) \
        if rows else para("No open issue.", _MUTED)
    return section("Open issues", body)


def _scope(report: StatusReport) -> str:
    since = f"Since {format_day(report.period_start, year=False)}."
    changes = [(day(c.detected_on), e(c.requirement_id), e(c.field), e(c.old_value), e(c.new_value), e(c.decided_by))
               for c in report.requirement_changes]
    body = table(("Seen", "Req.", "Field", "Was", "Now", "Decided by"), changes,
                 ("12%", "10%", "14%", "24%", "24%", "16%")) if changes else para("No requirement change.", _MUTED)
    signs = [(day(s.date), e(s.item_id), e(s.validated_by), badge(Rag.RED, s.result) if s.rejected else e(s.result),
              e(s.anomalies)) for s in report.signoffs]
    body += table(("Date", "Item", "Validated by", "Result", "Anomalies"), signs,
                  ("12%", "10%", "20%", "22%", "36%")) if signs else para("No sign-off.", _MUTED)
    return section("Requirement changes and sign-offs", body, since)


def render_html(report: StatusReport, *, gantt_png: bytes | None = None) -> str:
    """The report as a complete HTML document with inline styles only (no script, no external resource).

    ``gantt_png`` embeds a chart as a ``data:`` image, for the PDF; leave it out of e-mail bodies,
    where most clients block such images.
    """
    title = f"{report.project_name or 'Project'}: status {format_day(report.status_date)}"
    compared = (f"Compared with the report of {format_day(report.previous_date)}." if report.previous_date
                else "First stored report: compared with the baseline.")
    summary = "".join(f'<li style="margin:3px 0;">{e(s)}</li>' for s in report.narrative)
    chart = ""
    if gantt_png:
        data = base64.b64encode(gantt_png).decode("ascii")
        chart = section("Gantt chart", f'<img alt="Gantt chart" style="width:100%;height:auto;" '
                                       f'src="data:image/png;base64,{data}">')
    body = "".join((
        f'<h1 style="font-size:22px;margin:0 0 2px 0;color:#111827;">{e(report.project_name or "Project")}</h1>',
        para(f"Weekly status report &middot; status date <b>{day(report.status_date, True)}</b><br>"
             f'<span style="{_MUTED}font-size:13px;">{e(compared)}</span>'),
        _badges(report),
        section("Summary", f'<ul style="margin:4px 0 8px 0;padding-left:20px;">{summary}</ul>'),
        section("Key figures", _figures(report)),
        section("Why this RAG", _reasons((report.overall, *report.areas)),
                "Each line is a rule that fired; an area where none fired is green."),
        _changes(report), _milestones(report), _critical(report), _actions(report), _issues(report), _scope(report),
        chart,
        para(f"Status date {day(report.status_date, True)}. Working days (wd) follow the plan calendar."
             + (f" The registers have {len(report.findings)} problem{'s' if len(report.findings) != 1 else ''}"
                " to fix; see the Check sheet." if report.findings else ""),
             f"{_MUTED}font-size:12px;margin-top:20px;"),
    ))
    return ("<!DOCTYPE html>\n"
            f'<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{e(title)}</title></head>'
            f'<body style="margin:0;padding:0;background:#ffffff;">'
            f'<div style="max-width:760px;margin:0 auto;padding:12px;{FONT};color:#1f2937;font-size:14px;'
            f'line-height:1.4;">{body}</div></body></html>\n')

"""A Gantt chart of the schedule as a PNG: the picture people look at before they read a table.

One row per task in outline order: leaf tasks as bars (critical ones in red, progress darker),
summaries as thin dark brackets, milestones as diamonds, the baseline as a thin grey bar under each
row, and the status date as a vertical line. Rows stay 0.26 inch high whatever the plan size, so 60
tasks remain legible; the figure grows instead. Matplotlib's object API is used directly (no pyplot
state, no GUI backend), names are drawn as plain text (a "$" in a task name is not maths), and the PNG
carries no software or date metadata, so the same schedule gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from wbs_tools.core.schedule import Schedule
from wbs_tools.core.status.progress import status_instant

ROW_INCHES = 0.26
COLOURS = {
    "task": "#5b8bd0", "task_done": "#1f4e8c", "critical": "#d9423b", "critical_done": "#8e1b1b",
    "summary": "#1f2937", "baseline": "#b8bec8", "milestone": "#1f2937", "status": "#e08e0b", "grid": "#e5e7eb",
    "band": "#f5f6f8",
}


def _label(outline_number: str, name: str, level: int, width: int = 46) -> str:
    text = f"{outline_number}  {name}"
    text = text if len(text) <= width else text[: width - 1] + "\u2026"
    return "   " * max(0, level - 1) + text


def render_gantt_png(schedule: Schedule, path: str | os.PathLike[str], *, status_date: dt.date | dt.datetime,
                     baseline: bool = True, title: str | None = None, dpi: int = 110) -> Path:
    """Draw the Gantt chart of ``schedule`` at ``status_date`` to ``path`` (PNG) and return the path."""
    import matplotlib
    from matplotlib import dates as mdates
    from matplotlib import transforms
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    plan = schedule.plan
    status = status_instant(plan, status_date)
    rows = [(t, ts) for t, ts in zip(plan.tasks, schedule.tasks, strict=True)
            if t.active and ts.start is not None and ts.finish is not None]
    height = 1.5 + ROW_INCHES * max(len(rows), 1)
    with matplotlib.rc_context({"font.size": 8.5, "font.family": "DejaVu Sans", "axes.edgecolor": "#9ca3af",
                                "text.usetex": False}):
        fig = Figure(figsize=(13, height), dpi=dpi)
        ax = fig.add_axes((0.27, 0.9 / height, 0.71, 1 - 1.55 / height))
        num = mdates.date2num
        for y, (task, ts) in enumerate(rows):
            start, finish = num(ts.start), num(ts.finish)
            base = task.baselines.get(0) if baseline else None
            if base is not None and base.start is not None and base.finish is not None:
                if ts.milestone:
                    ax.plot(num(base.finish), y + 0.3, marker="D", markersize=4, color=COLOURS["baseline"], zorder=2)
                else:
                    ax.barh(y + 0.3, num(base.finish) - num(base.start), left=num(base.start), height=0.16,
                            color=COLOURS["baseline"], zorder=2)
            if ts.summary:
                ax.barh(y - 0.05, max(finish - start, 0.05), left=start, height=0.2, color=COLOURS["summary"], zorder=3)
                ax.plot([start, finish], [y + 0.1, y + 0.1], linestyle="none", marker="v", markersize=5,
                        color=COLOURS["summary"], zorder=3)
            elif ts.milestone:
                ax.plot(finish, y - 0.05, marker="D", markersize=7, zorder=4, markeredgecolor="white",
                        color=COLOURS["critical" if ts.critical else "milestone"])
            else:
                kind = "critical" if ts.critical else "task"
                ax.barh(y - 0.05, max(finish - start, 1.0), left=start, height=0.5, color=COLOURS[kind], zorder=3)
                done = max(0.0, min(100.0, ts.percent_complete)) / 100
                if done:
                    ax.barh(y - 0.05, (finish - start) * done, left=start, height=0.5,
                            color=COLOURS[f"{kind}_done"], zorder=3)
        ax.axvline(num(status), color=COLOURS["status"], linewidth=1.6, linestyle="--", zorder=5)
        ax.set_ylim(len(rows) - 0.4, -0.8)
        ax.set_yticks([])
        labels_at = transforms.blended_transform_factory(fig.transFigure, ax.transData)
        for y, (_, ts) in enumerate(rows):
            if y % 2 == 0:
                ax.axhspan(y - 0.5, y + 0.5, color=COLOURS["band"], zorder=0, linewidth=0)
            ax.text(0.012, y, _label(ts.outline_number, ts.name, ts.outline_level), transform=labels_at,
                    ha="left", va="center", fontweight="bold" if ts.summary else "normal", parse_math=False,
                    color="#b71c1c" if ts.critical and not ts.summary else "#111827")
        first = min([num(ts.start) for _, ts in rows] + [num(status)], default=num(status))
        last = max([num(ts.finish) for _, ts in rows] + [num(status)], default=num(status) + 1)
        ax.set_xlim(first - 2, last + 3)
        span = last - first
        ax.xaxis.set_major_locator(mdates.WeekdayLocator(byweekday=mdates.MO, interval=1 if span < 120 else 2)
                                   if span < 240 else mdates.MonthLocator())
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b" if span < 240 else "%b %Y"))
        ax.tick_params(axis="x", labelsize=7.5, labeltop=True, top=True)
        ax.grid(axis="x", color=COLOURS["grid"], linewidth=0.8, zorder=0)
        ax.set_axisbelow(True)
        for side in ("right", "left"):
            ax.spines[side].set_visible(False)
        name = title if title is not None else plan.settings.project_name or "Schedule"
        fig.suptitle(f"{name}: schedule at {status:%a %d %b %Y}", x=0.02, y=1 - 0.25 / height, ha="left",
                     fontsize=12, fontweight="bold", parse_math=False)
        handles = [Patch(color=COLOURS["task"], label="Task (darker: done)"),
                   Patch(color=COLOURS["critical"], label="Critical task"),
                   Patch(color=COLOURS["summary"], label="Summary"),
                   Line2D([], [], marker="D", linestyle="none", color=COLOURS["milestone"], label="Milestone"),
                   Line2D([], [], color=COLOURS["status"], linestyle="--", label="Status date")]
        if baseline:
            handles.insert(3, Patch(color=COLOURS["baseline"], label="Baseline"))
        fig.legend(handles=handles, loc="lower left", ncol=len(handles), frameon=False, fontsize=8.5,
                   bbox_to_anchor=(0.02, 0.05 / height))
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(target, format="png", dpi=dpi, metadata={"Software": None})
    return target

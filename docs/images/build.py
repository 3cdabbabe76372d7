"""Regenerate the pictures of the status report and the Gantt chart: ``python docs/images/build.py``.

Both come from the sample migration plan at its status date, so the README and docs/status.md show
what a user gets from ``workbook_templates/sample_plan.xlsx``. The report picture needs headless
Chromium (``apt-get install chromium``), the chart needs matplotlib.
"""

from __future__ import annotations

from pathlib import Path

from wbs_tools.core.cpm import schedule
from wbs_tools.core.status import build_status
from wbs_tools.reports import render_gantt_png, render_html, screenshot_html
from wbs_tools.workbook.sample import STATUS_DATE, sample_plan, sample_registers

HERE = Path(__file__).resolve().parent
REPORT = "status_report.png"
GANTT = "gantt.png"
WIDTH, HEIGHT = 800, 1500  # the top of the report: badges, summary, key figures and the RAG reasons


def build(folder: Path = HERE) -> list[Path]:
    """Write the report screenshot and the Gantt chart; return their paths."""
    sched = schedule(sample_plan())
    report = build_status(sched, sample_registers(), status_date=STATUS_DATE)
    return [
        screenshot_html(render_html(report), folder / REPORT, width=WIDTH, height=HEIGHT),
        render_gantt_png(sched, folder / GANTT, status_date=STATUS_DATE),
    ]


if __name__ == "__main__":
    for path in build():
        print(path)

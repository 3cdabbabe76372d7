"""Renderers of the weekly status report: e-mail HTML, PDF through headless Chromium, Gantt PNG.

``render_html`` needs nothing beyond the standard library; ``render_pdf`` needs a Chromium or Chrome
executable (``find_chromium``); ``render_gantt_png`` needs matplotlib.
"""

from wbs_tools.reports.gantt import render_gantt_png
from wbs_tools.reports.html import render_html
from wbs_tools.reports.pdf import ChromiumError, dump_dom, find_chromium, html_to_pdf, render_pdf, screenshot_html

__all__ = [
    "ChromiumError",
    "dump_dom",
    "find_chromium",
    "html_to_pdf",
    "render_gantt_png",
    "render_html",
    "render_pdf",
    "screenshot_html",
]

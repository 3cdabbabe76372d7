"""Renderers: e-mail HTML (checked as source and in headless Chromium), PDF and the Gantt chart.

Browser checks need Chromium (Debian/Ubuntu: ``apt-get install chromium``) and the PDF checks the
poppler tools (``apt-get install poppler-utils``); without them those tests are skipped.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import os
import re
import shutil
import subprocess
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from test_status import WEEK1, WEEK2, Weeks, two_weeks
from wbs_tools.core.cpm import schedule
from wbs_tools.core.status import StatusReport, build_status
from wbs_tools.reports import ChromiumError, dump_dom, find_chromium, render_html, render_pdf, screenshot_html
from wbs_tools.reports.pdf import run_chromium
from wbs_tools.workbook.sample import sample_plan, sample_registers

HOSTILE = ("<script>alert(1)</script>", "=cmd|' /C calc'!A0", '"><img src=x onerror=alert(1)>')
ALLOWED_TAGS = {"html", "head", "meta", "title", "body", "div", "h1", "h2", "p", "span", "b", "table", "col",
                "thead", "tbody", "tr", "th", "td", "ul", "li", "br"}
needs_chromium = pytest.mark.skipif(find_chromium() is None, reason="headless Chromium not installed "
                                    "(Debian/Ubuntu: apt-get install chromium)")
needs_poppler = pytest.mark.skipif(shutil.which("pdftoppm") is None or shutil.which("pdftotext") is None,
                                   reason="poppler-utils (pdftoppm, pdftotext) not installed")
# Test-only probe: the page itself has no script; this one reports its layout back through the DOM:
# scroll height, the right edge of the widest element, and how many scripts and images exist.
PROBE = ("<script>var d=document.documentElement,r=0;document.querySelectorAll('body *').forEach(function(e)"
         "{r=Math.max(r,e.getBoundingClientRect().right)});document.body.setAttribute('data-probe',"
         "[d.scrollHeight,Math.ceil(r),document.querySelectorAll('script').length,"
         "document.querySelectorAll('img').length].join('x'));</script>")
#: Headless Chromium will not open a window narrower than 500 px, so a phone is a narrow body.
PHONE_WIDTH = 360


@pytest.fixture(scope="module")
def weeks() -> Weeks:
    return two_weeks()


def hostile_report() -> StatusReport:
    """The sample with attack strings in every kind of cell the report quotes."""
    plan = sample_plan()
    plan.settings.project_name = f"Migration {HOSTILE[0]}"
    plan.task_by_id()[22].name = f"Customers {HOSTILE[2]}"
    registers = sample_registers()
    a004 = next(a for a in registers["Action Items"] if a["id"] == "A-004")
    a004.update(action=HOSTILE[1], owner=HOSTILE[2])
    registers["Issue Log"][0]["what"] = HOSTILE[0]
    registers["Issue Log"][3]["what"] = HOSTILE[1]
    registers["Change Log"] = [{"detected_on": dt.date(2026, 2, 25), "requirement_id": "R-002", "field": "Title",
                                "old_value": HOSTILE[0], "new_value": HOSTILE[2], "decided_by": HOSTILE[1]}]
    registers["Sign-off"].append({"item_id": "R-004", "validated_by": HOSTILE[1], "date": dt.date(2026, 2, 26),
                                  "result": "Accepted with anomalies", "anomalies": HOSTILE[2]})
    return build_status(schedule(plan), registers, status_date=WEEK1)


class Tags(HTMLParser):
    """Every tag and attribute, and the text as a browser shows it."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


# -- HTML source ----------------------------------------------------------------------------------

def test_html_is_self_contained_and_email_safe(weeks: Weeks) -> None:
    page = render_html(weeks.second)
    parsed = Tags(page)
    assert {tag for tag, _ in parsed.tags} <= ALLOWED_TAGS
    attrs = {name for _, pairs in parsed.tags for name, _ in pairs}
    assert attrs <= {"lang", "charset", "name", "content", "style", "role"}
    assert "http://" not in page and "https://" not in page and "url(" not in page
    shown = " ".join(parsed.text)
    for word in ("Northwind Foods ERP data migration", "Overall", "Schedule", "Issues", "Actions", "Scope",
                 "Red", "Amber", "Green", "Why this RAG", "Critical path: next tasks", "Open issues"):
        assert word in shown
    assert 'name="viewport"' in page and "max-width:760px" in page


def test_html_diff_section_lists_the_moves_and_issues(weeks: Weeks) -> None:
    diff = weeks.second.diff
    assert diff is not None
    shown = " ".join(Tags(render_html(weeks.second)).text)
    changes = shown[shown.index("Changes since last report"):shown.index("Milestones")]
    assert "Project finish moved 2 working days later" in changes
    for move in diff.moves:
        assert move.label in changes
    assert "took 2 working days longer" in changes
    assert "I-011" in changes and "New" in changes and "I-004" in changes and "Closed" in changes
    first = " ".join(Tags(render_html(weeks.first)).text)
    assert "No earlier report is stored" in first


def test_hostile_cells_are_escaped_in_the_source() -> None:
    page = render_html(hostile_report())
    for attack in HOSTILE:
        assert html.escape(attack, quote=True) in page
    assert HOSTILE[0] not in page and HOSTILE[2] not in page and "<img" not in page and "<script" not in page
    parsed = Tags(page)
    assert {tag for tag, _ in parsed.tags} <= ALLOWED_TAGS
    assert not [name for _, pairs in parsed.tags for name, _ in pairs if name.startswith("on")]
    shown = "".join(parsed.text)
    for attack in HOSTILE:
        assert attack in shown


@settings(max_examples=40, deadline=None)
@given(st.text(max_size=40))
def test_any_cell_text_stays_text(cell: str) -> None:
    plan = sample_plan()
    registers = sample_registers()
    registers["Issue Log"][0]["what"] = cell
    page = render_html(build_status(schedule(plan), registers, status_date=WEEK1))
    parsed = Tags(page)
    assert {tag for tag, _ in parsed.tags} <= ALLOWED_TAGS


def test_register_problems_are_mentioned() -> None:
    registers = sample_registers()
    registers["Issue Log"][0]["reported_on"] = "sometime in spring"
    report = build_status(schedule(sample_plan()), registers, status_date=WEEK1)
    assert [f.code for f in report.findings] == ["issue.bad-date"]
    assert "The registers have 1 problem to fix; see the Check sheet." in render_html(report)


def test_missing_chromium_is_a_clear_error(weeks: Weeks, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WBS_CHROMIUM", str(tmp_path / "no-such-chrome"))
    assert find_chromium() is None
    with pytest.raises(ChromiumError, match="apt-get install chromium"):
        render_pdf(weeks.first, tmp_path / "out.pdf")


def _fake_chromium(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str) -> Path:
    """A stand-in browser (a shell script) in place of Chromium; its runs are counted in ``runs``."""
    script = tmp_path / "fake-chromium"
    script.write_text(f"#!/bin/sh\necho run >> {tmp_path / 'runs'}\n{body}\n")
    script.chmod(0o755)
    monkeypatch.setenv("WBS_CHROMIUM", str(script))
    return tmp_path / "runs"


@pytest.mark.skipif(shutil.which("sh") is None, reason="needs a POSIX shell")
def test_a_hung_chromium_is_killed_with_its_children_and_run_once_more(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A run that hangs, leaving a child that holds its output open, is killed with that child and
    started again; the second run's output is the result."""
    marker, child = tmp_path / "hung-once", tmp_path / "child-pid"
    runs = _fake_chromium(tmp_path, monkeypatch, f"if [ -e {marker} ]; then echo rendered; exit 0; fi\n"
                                                 f"touch {marker}; sleep 300 & echo $! > {child}; sleep 300")
    started = time.monotonic()
    done = run_chromium(["file:///report.html"], timeout=2)
    assert done.stdout.strip() == "rendered" and runs.read_text().count("run") == 2
    assert time.monotonic() - started < 10  # the child holding the pipes did not keep the wait going
    pid = int(child.read_text())
    for _ in range(50):  # killed with its group: gone once the system has reaped it
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"the hung run's child {pid} is still running")


@pytest.mark.skipif(shutil.which("sh") is None, reason="needs a POSIX shell")
def test_a_chromium_that_always_hangs_or_fails_is_a_clear_error(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    runs = _fake_chromium(tmp_path, monkeypatch, "(sleep 300) & sleep 300")
    with pytest.raises(ChromiumError, match=r"did not finish within 1 s \(2 runs\)"):
        run_chromium(["file:///report.html"], timeout=1)
    assert runs.read_text().count("run") == 2
    failing = tmp_path / "failing"
    failing.mkdir()
    runs = _fake_chromium(failing, monkeypatch, "echo 'no display' >&2; exit 3")
    with pytest.raises(ChromiumError, match=r"failed \(3\): no display"):
        run_chromium(["file:///report.html"], timeout=5)
    assert runs.read_text().count("run") == 1  # an error is not a hang: not run again


# -- Gantt chart ----------------------------------------------------------------------------------

def test_gantt_png_is_deterministic_and_readable(weeks: Weeks, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from PIL import Image

    from wbs_tools.reports import render_gantt_png

    first = render_gantt_png(weeks.second_schedule, tmp_path / "a.png", status_date=WEEK2).read_bytes()
    again = render_gantt_png(weeks.second_schedule, tmp_path / "b.png", status_date=WEEK2).read_bytes()
    assert first == again
    assert b"Software" not in first and b"matplotlib" not in first
    image = Image.open(io.BytesIO(first)).convert("RGB")
    rows = len(weeks.second_schedule.tasks)
    assert image.width == 1430 and image.height >= rows * 0.26 * 110  # a fixed height per task row
    colours = image.getcolors(maxcolors=1 << 20) or []
    assert len(colours) > 100

    def near(target: tuple[int, int, int]) -> int:
        return sum(n for n, c in colours if sum(abs(a - b) for a, b in zip(c, target, strict=True)) < 12)

    assert near((0xD9, 0x42, 0x3B)) > 500  # critical bars
    assert near((0xE0, 0x8E, 0x0B)) > 100  # status-date line
    assert near((0xB8, 0xBE, 0xC8)) > 500  # baseline bars
    plain = render_gantt_png(weeks.second_schedule, tmp_path / "c.png", status_date=WEEK2, baseline=False)
    assert plain.read_bytes() != first


def test_gantt_draws_names_as_plain_text(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from wbs_tools.reports import render_gantt_png

    plan = sample_plan()
    plan.settings.project_name = "Budget $5k, cost $\\frac{$ in total"
    for task, name in zip(plan.tasks, (*HOSTILE, "$\\alpha$ and $", "$x^$ rows", "}$^_"), strict=False):
        task.name = name
    assert render_gantt_png(schedule(plan), tmp_path / "g.png", status_date=WEEK1).stat().st_size > 10_000


# -- in the browser -------------------------------------------------------------------------------

def probe(page: str, width: int) -> tuple[int, int, int, int, str]:
    """(scroll height, right edge of content, scripts, images, DOM) of ``page`` laid out ``width`` px wide."""
    if width < 500:
        page = page.replace('<body style="', f'<body style="width:{width}px;', 1)
    dom = dump_dom(page.replace("</body>", PROBE + "</body>"), width=max(width, 500), height=900)
    found = re.search(r'data-probe="(\d+)x(\d+)x(\d+)x(\d+)"', dom)
    assert found, dom[:500]
    height, scroll_width, scripts, images = (int(g) for g in found.groups())
    return height, scroll_width, scripts, images, dom


@needs_chromium
def test_dom_height_and_hostile_text_in_chromium() -> None:
    page = render_html(hostile_report())
    height, right, scripts, images, dom = probe(page, 800)
    assert 1800 < height < 6000 and right <= 800
    assert scripts == 1 and images == 0  # only the probe ran; no cell became an element
    shown = "".join(Tags(dom).text)
    for attack in HOSTILE:
        assert attack in shown


@needs_chromium
def test_readable_at_phone_width(weeks: Weeks) -> None:
    height, right, *_ = probe(render_html(weeks.second), PHONE_WIDTH)
    assert right <= PHONE_WIDTH  # nothing sticks out: no sideways scrolling
    assert height > 3000  # one column: longer than on a desktop


@needs_chromium
def test_screenshot_shows_the_report(weeks: Weeks, tmp_path: Path) -> None:
    from PIL import Image, ImageStat

    shot = screenshot_html(render_html(weeks.second), tmp_path / "report.png", width=800, height=2400)
    image = Image.open(shot).convert("RGB")
    assert image.size == (800, 2400)
    assert min(ImageStat.Stat(image).stddev) > 20  # not a blank page
    top = image.crop((0, 0, 800, 260))
    colours = top.getcolors(maxcolors=1 << 20) or []

    def count(target: tuple[int, int, int]) -> int:
        return sum(n for n, c in colours if sum(abs(a - b) for a, b in zip(c, target, strict=True)) < 10)

    assert count((0xC6, 0x28, 0x28)) > 2000  # red badges
    assert count((0xF2, 0xA9, 0x00)) > 1000  # the amber badge
    assert count((0x2E, 0x7D, 0x32)) > 1000  # the green badge
    bottom = image.crop((0, 2200, 800, 2400))
    assert min(ImageStat.Stat(bottom).stddev) > 10  # the report runs past the window


def pdf_pages(pdf: Path, folder: Path) -> list[Path]:
    subprocess.run(["pdftoppm", "-r", "30", "-png", str(pdf), str(folder / "page")], check=True, timeout=60)
    return sorted(folder.glob("page*.png"))


def pdf_text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True,
                          timeout=60).stdout


@needs_chromium
@needs_poppler
def test_pdf_pages_and_text(weeks: Weeks, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from PIL import Image, ImageStat

    from wbs_tools.reports import render_gantt_png

    chart = render_gantt_png(weeks.second_schedule, tmp_path / "gantt.png", status_date=WEEK2).read_bytes()
    pdf = render_pdf(weeks.second, tmp_path / "status.pdf", gantt_png=chart)
    pages = pdf_pages(pdf, tmp_path)
    assert 3 <= len(pages) <= 8
    for page in pages:
        assert min(ImageStat.Stat(Image.open(page).convert("L")).stddev) > 5
    text = squash(pdf_text(pdf))
    for expected in ("Northwind Foods ERP data migration", "Overall", "Red", "Amber", "Green",
                     "4.2.1 Customers & contacts", "Finish moved 2 working days later", "Gantt chart"):
        assert squash(expected) in text


@needs_chromium
@needs_poppler
def test_pdf_shows_hostile_text_literally(tmp_path: Path) -> None:
    text = squash(pdf_text(render_pdf(hostile_report(), tmp_path / "hostile.pdf")))
    for attack in HOSTILE:
        assert squash(attack) in text

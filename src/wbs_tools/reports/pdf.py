"""PDF (and screenshots) of the status report through headless Chromium.

The PDF is the e-mail HTML printed by a browser, so there is one layout to maintain and the PDF gets
what a browser does well: real, searchable text, tables that break across pages, the same fonts and
colours as the e-mail. The price is a system dependency (Debian/Ubuntu: ``apt-get install chromium``);
``find_chromium`` says whether it is there, and ``WBS_CHROMIUM`` may point at another Chrome build.
Chromium runs with a throw-away profile, no network services and no sandbox (it usually runs as a
service user in CI), on a local file that has no script and no external resource.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from wbs_tools.core.status import StatusReport
from wbs_tools.processes import run_bounded
from wbs_tools.reports.html import render_html

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-extensions", "--mute-audio",
         "--disable-default-apps", "--hide-scrollbars")
#: Print-only rules added to the PDF copy: page size, keep colours, do not split a table row.
PRINT_STYLE = ("<style>@page{size:A4;margin:12mm 11mm}"
               "*{-webkit-print-color-adjust:exact;print-color-adjust:exact}"
               "tr,h2,li{break-inside:avoid}h2{break-after:avoid}</style>")


T = TypeVar("T")


class ChromiumError(RuntimeError):
    """Chromium is missing or failed; the message says what to install or what it printed."""


def find_chromium() -> str | None:
    """The Chromium or Chrome executable: ``WBS_CHROMIUM`` if set, else the first one on PATH."""
    override = os.environ.get("WBS_CHROMIUM")
    if override:
        return shutil.which(override) or (override if Path(override).is_file() else None)
    return next((found for name in CANDIDATES if (found := shutil.which(name))), None)


def run_chromium(args: Sequence[str], *, timeout: float = 120, attempts: int = 2) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium with a fresh profile and ``args`` (the page URL last).

    A headless Chromium now and then hangs on start-up. A run that does not finish within ``timeout``
    is killed with every process it started (:func:`run_bounded`) and started once more, up to
    ``attempts`` runs. A run that ends with an error is not repeated.
    """
    exe = find_chromium()
    if exe is None:
        raise ChromiumError("Chromium was not found: install it (Debian/Ubuntu: apt-get install chromium) "
                            "or set WBS_CHROMIUM to a Chrome/Chromium executable")
    for _attempt in range(attempts):
        with tempfile.TemporaryDirectory(prefix="wbs-chromium-") as profile:
            done = run_bounded([exe, *FLAGS, f"--user-data-dir={profile}", *args], timeout)
        if done is not None:
            break
    else:
        raise ChromiumError(f"Chromium did not finish within {timeout:g} s ({attempts} runs)")
    if done.returncode != 0:
        raise ChromiumError(f"Chromium failed ({done.returncode}): {done.stderr.strip()[-800:]}")
    return done


def _with_page(html: str, run: Callable[[str], T]) -> T:
    """Write ``html`` to a private temporary file and call ``run`` with its file:// URL."""
    with tempfile.TemporaryDirectory(prefix="wbs-report-") as folder:
        page = Path(folder) / "report.html"
        page.write_text(html, encoding="utf-8")
        return run(page.as_uri())


def html_to_pdf(html: str, path: str | os.PathLike[str], *, timeout: float = 120) -> Path:
    """Print an HTML document to a PDF file (A4, colours kept, no browser header or footer)."""
    target = Path(path).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    printable = html.replace("</head>", PRINT_STYLE + "</head>", 1)
    # both spellings of "no header and footer": current Chromium, and builds before the new headless mode
    _with_page(printable, lambda url: run_chromium(
        ["--no-pdf-header-footer", "--print-to-pdf-no-header", f"--print-to-pdf={target}", url], timeout=timeout))
    if not target.is_file() or target.stat().st_size == 0:
        raise ChromiumError(f"Chromium wrote no PDF to {target}")
    return target


def render_pdf(report: StatusReport, path: str | os.PathLike[str], *, gantt_png: bytes | None = None,
               timeout: float = 120) -> Path:
    """The status report as a PDF: the e-mail HTML, printed by headless Chromium (optionally with a chart)."""
    return html_to_pdf(render_html(report, gantt_png=gantt_png), path, timeout=timeout)


def screenshot_html(html: str, path: str | os.PathLike[str], *, width: int = 800, height: int = 2400,
                    timeout: float = 120) -> Path:
    """A PNG of the page as a browser window of ``width`` x ``height`` pixels shows it."""
    target = Path(path).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    _with_page(html, lambda url: run_chromium(
        [f"--screenshot={target}", f"--window-size={width},{height}", url], timeout=timeout))
    if not target.is_file():
        raise ChromiumError(f"Chromium wrote no screenshot to {target}")
    return target


def dump_dom(html: str, *, width: int = 800, height: int = 2400, timeout: float = 120) -> str:
    """The document as the browser parsed it (after any script in it ran), serialised back to HTML."""
    done = _with_page(html, lambda url: run_chromium(["--dump-dom", f"--window-size={width},{height}", url],
                                                     timeout=timeout))
    return done.stdout

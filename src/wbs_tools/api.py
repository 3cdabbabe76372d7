"""Use cases shared by every front end: load a plan from a file, schedule it, write the result.

Formats are recognised by content, not by file extension: an XML document whose root is a
Microsoft Project ``<Project>`` is MSPDI; a zip package with ``xl/workbook.xml`` is a workbook.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from wbs_tools.core.cpm import schedule
from wbs_tools.core.findings import Finding
from wbs_tools.core.model import Plan
from wbs_tools.core.schedule import Schedule


class UnsupportedFileError(ValueError):
    """The file is neither an MSPDI document nor a plan workbook."""


@dataclass
class ScheduleRun:
    """A plan as loaded, its schedule, and every finding from reading and scheduling."""

    plan: Plan
    schedule: Schedule
    findings: list[Finding] = field(default_factory=list)


def detect_format(path: str | os.PathLike[str]) -> str:
    """'mspdi' or 'workbook', by looking at the content."""
    p = Path(path)
    with p.open("rb") as handle:
        head = handle.read(8)
    if head.startswith(b"PK"):
        try:
            with zipfile.ZipFile(p) as zf:
                if "xl/workbook.xml" in zf.namelist():
                    return "workbook"
        except zipfile.BadZipFile:
            pass
        raise UnsupportedFileError(f"{p.name}: a zip file, but not an Excel workbook")
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise UnsupportedFileError(
            f"{p.name}: a password-protected workbook or an old binary file (.xls/.mpp); "
            "remove the password or save it as .xlsx / Microsoft Project XML")
    return "mspdi"


def load_plan(path: str | os.PathLike[str]) -> tuple[Plan, list[Finding]]:
    """Read a plan from an MSPDI file or a plan workbook, with the findings about its content."""
    kind = detect_format(path)
    if kind == "mspdi":
        from wbs_tools.mspdi.reader import read_mspdi

        return read_mspdi(path)
    from wbs_tools.workbook.reader import read_workbook

    book = read_workbook(path)
    return book.plan, book.findings


def schedule_file(path: str | os.PathLike[str]) -> ScheduleRun:
    """Load and schedule; findings from reading come first, then the scheduler's."""
    plan, findings = load_plan(path)
    result = schedule(plan)
    return ScheduleRun(plan, result, findings + result.findings)

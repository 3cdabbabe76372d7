"""Write a computed schedule as Microsoft Project XML (MSPDI).

Two modes. Given the ``source`` MSPDI the plan was read from, the writer patches the computed
elements of each task (dates, slack, Critical, summary roll-ups) into a copy of that document, so
everything wbs_tools does not model - resources, assignments, custom fields, views - survives
untouched. Without a source it generates a minimal document from the plan: settings, calendars,
tasks and their predecessor links.

Both modes place child elements in the MSPDI schema's order (see :mod:`wbs_tools.mspdi.schema`).
"""

from __future__ import annotations

import os
from pathlib import Path

from lxml import etree

from wbs_tools.core.schedule import Schedule, TaskSchedule
from wbs_tools.files import replace_file
from wbs_tools.mspdi.generator import Generator
from wbs_tools.mspdi.reader import parse_document
from wbs_tools.mspdi.schema import (
    PROJECT_ORDER,
    STALE_COMPUTED,
    TASK_ORDER,
    Builder,
    computed_fields,
    ranks,
)
from wbs_tools.mspdi.values import (
    format_datetime,
)

__all__ = ["write_mspdi"]


# --- entry point ----------------------------------------------------------------------------------


def write_mspdi(
    schedule: Schedule,
    target: str | os.PathLike[str],
    *,
    source: str | os.PathLike[str] | bytes | None = None,
) -> None:
    """Write ``schedule`` to ``target`` as MSPDI, atomically (a temporary file, then a rename).

    With ``source`` (the MSPDI the plan came from, as a path or bytes) its document is kept and only
    computed task fields are rewritten; otherwise a new document is generated from the plan.
    """
    if source is not None:
        tree = parse_document(source)
        _Patcher(tree.getroot(), schedule).patch()
        docinfo = tree.docinfo
        data = _serialise(tree, docinfo.encoding or "UTF-8", docinfo.standalone, pretty=False)
    else:
        data = _serialise(Generator(schedule).build(), "UTF-8", True, pretty=True)
    replace_file(Path(target), data)


def _serialise(
    document: etree._Element | etree._ElementTree, encoding: str, standalone: bool | None, *, pretty: bool
) -> bytes:
    """Bytes with the declaration Microsoft Project writes (double-quoted), in the source's encoding."""
    if encoding.lower().replace("-", "").startswith(("utf16", "utf32", "ucs")):
        return etree.tostring(
            document, xml_declaration=True, encoding=encoding, standalone=standalone, pretty_print=pretty
        )
    flag = "" if standalone is None else (' standalone="yes"' if standalone else ' standalone="no"')
    declaration = f'<?xml version="1.0" encoding="{encoding}"{flag}?>\n'.encode("ascii")
    return declaration + etree.tostring(document, xml_declaration=False, encoding=encoding, pretty_print=pretty)


# --- patch mode -----------------------------------------------------------------------------------


class _Patcher:
    """Rewrites computed fields of an existing MSPDI document in place."""

    def __init__(self, root: etree._Element, schedule: Schedule) -> None:
        self.root = root
        tag = root.tag if isinstance(root.tag, str) else ""
        self.x = Builder(tag[1 : tag.index("}")] if tag.startswith("{") else None)
        self.schedule = schedule

    def patch(self) -> None:
        tasks = self.root.find(self.x.q("Tasks"))
        if tasks is None:
            tasks = etree.Element(self.x.q("Tasks"))
            self._place_in_project(tasks)
        by_uid: dict[int, etree._Element] = {}
        for element in tasks.iterfind(self.x.q("Task")):
            uid_text = element.findtext(self.x.q("UID"))
            if uid_text is not None and uid_text.strip().lstrip("-").isdecimal():
                by_uid.setdefault(int(uid_text), element)
        missing: list[TaskSchedule] = []
        for ts in self.schedule.tasks:
            element = by_uid.get(ts.uid)
            if element is None:
                missing.append(ts)
                continue
            self._patch_task(element, ts)
        if missing:
            generator = Generator(self.schedule, self.x)
            for ts in missing:
                tasks.append(generator.task_element(ts))
        self._patch_project(by_uid.get(0))

    def _patch_task(self, element: etree._Element, ts: TaskSchedule) -> None:
        values = computed_fields(ts)
        present = {self.x.local(c): c for c in element.iterchildren(*(self.x.q(n) for n in values))}
        for name, text in values.items():
            if name in present:
                present[name].text = text
            else:
                self.x.set_child(element, name, text, TASK_ORDER)
        self.x.remove_children(element, STALE_COMPUTED)

    def _patch_project(self, summary: etree._Element | None) -> None:
        """The project's finish and its summary task (UID 0) follow the computed schedule."""
        start, finish = self.schedule.project_start, self.schedule.project_finish
        if finish is not None:
            self.x.set_child(self.root, "FinishDate", format_datetime(finish), PROJECT_ORDER)
        if summary is None:
            return
        if start is not None:
            self.x.set_child(summary, "Start", format_datetime(start), TASK_ORDER)
        if finish is not None:
            self.x.set_child(summary, "Finish", format_datetime(finish), TASK_ORDER)

    def _place_in_project(self, element: etree._Element) -> None:
        rank = ranks(PROJECT_ORDER)
        mine = rank[self.x.local(element)]
        for i, child in enumerate(self.root):
            other = rank.get(self.x.local(child))
            if other is not None and other > mine:
                self.root.insert(i, element)
                return
        self.root.append(element)

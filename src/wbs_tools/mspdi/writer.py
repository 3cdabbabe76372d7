"""Write a computed schedule as Microsoft Project XML (MSPDI).

Two modes. Given the ``source`` MSPDI the plan was read from, the writer patches the computed
elements of each task (dates, slack, Critical, summary roll-ups) into a copy of that document, so
everything wbs_tools does not model - resources, assignments, custom fields, views - survives
untouched. Without a source it generates a minimal document from the plan: settings, calendars,
tasks and their predecessor links.

Microsoft Project reads MSPDI with a schema-ordered parser, so child elements are always placed in
the order of the MSPDI schema (``mspdi_pj12.xsd`` plus the Project 2010+ additions), both when new
elements are generated and when missing ones are inserted into an existing task.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from lxml import etree

from wbs_tools.core.model import Baseline, CalendarSpec, Duration, Link, Plan, Task, WorkingTime
from wbs_tools.core.schedule import Schedule, TaskSchedule
from wbs_tools.mspdi.reader import parse_document
from wbs_tools.mspdi.values import (
    CONSTRAINT_CODE,
    LINK_TYPE_CODE,
    MSPDI_NS,
    day_type,
    duration_format_code,
    format_bool,
    format_currency,
    format_datetime,
    format_duration_minutes,
    format_time_minutes,
    lag_to_xml,
    minutes_to_tenths,
)

__all__ = ["write_mspdi"]

#: Child order of ``Project`` (the elements wbs_tools writes, and their schema neighbours).
PROJECT_ORDER: tuple[str, ...] = (
    "SaveVersion", "BuildNumber", "Name", "GUID", "Title", "Subject", "Category", "Company", "Manager",
    "Author", "CreationDate", "Revision", "LastSaved", "ScheduleFromStart", "StartDate", "FinishDate",
    "FYStartDate", "CriticalSlackLimit", "CurrencyDigits", "CurrencySymbol", "CurrencyCode",
    "CurrencySymbolPosition", "CalendarUID", "DefaultStartTime", "DefaultFinishTime", "MinutesPerDay",
    "MinutesPerWeek", "DaysPerMonth", "DefaultTaskType", "DefaultFixedCostAccrual", "DefaultStandardRate",
    "DefaultOvertimeRate", "DurationFormat", "WorkFormat", "EditableActualCosts", "HonorConstraints",
    "EarnedValueMethod", "InsertedProjectsLikeSummary", "MultipleCriticalPaths", "NewTasksEffortDriven",
    "NewTasksEstimated", "SplitsInProgressTasks", "SpreadActualCost", "SpreadPercentComplete",
    "TaskUpdatesResource", "FiscalYearStart", "WeekStartDay", "MoveCompletedEndsBack",
    "MoveRemainingStartsBack", "MoveRemainingStartsForward", "MoveCompletedEndsForward",
    "BaselineForEarnedValue", "AutoAddNewResourcesAndTasks", "StatusDate", "CurrentDate",
    "MicrosoftProjectServerURL", "Autolink", "NewTaskStartDate", "NewTasksAreManual", "DefaultTaskEVMethod",
    "ProjectExternallyEdited", "ExtendedCreationDate", "ActualsInSync", "RemoveFileProperties",
    "AdminProject", "UpdateManuallyScheduledTasksWhenEditingLinks",
    "KeepTaskOnNearestWorkingTimeWhenMadeAutoScheduled", "OutlineCodes", "WBSMasks", "ExtendedAttributes",
    "Calendars", "Tasks", "Resources", "Assignments",
)  # fmt: skip

#: Child order of ``Task``: mspdi_pj12.xsd with the Project 2010+ elements (Active, Manual,
#: ManualStart/Finish/Duration, DisplayAsSummary, StartSlack/FinishSlack) in the places Project writes them.
TASK_ORDER: tuple[str, ...] = (
    "UID", "GUID", "ID", "Name", "Active", "Manual", "Type", "IsNull", "CreateDate", "Contact", "WBS",
    "WBSLevel", "OutlineNumber", "OutlineLevel", "Priority", "Start", "Finish", "Duration", "ManualStart",
    "ManualFinish", "ManualDuration", "DurationFormat", "Work", "Stop", "Resume", "ResumeValid",
    "EffortDriven", "Recurring", "OverAllocated", "Estimated", "Milestone", "Summary", "DisplayAsSummary",
    "Critical", "IsSubproject", "IsSubprojectReadOnly", "SubprojectName", "ExternalTask",
    "ExternalTaskProject", "EarlyStart", "EarlyFinish", "LateStart", "LateFinish", "StartVariance",
    "FinishVariance", "WorkVariance", "FreeSlack", "TotalSlack", "StartSlack", "FinishSlack", "FixedCost",
    "FixedCostAccrual", "PercentComplete", "PercentWorkComplete", "Cost", "OvertimeCost", "OvertimeWork",
    "ActualStart", "ActualFinish", "ActualDuration", "ActualCost", "ActualOvertimeCost", "ActualWork",
    "ActualOvertimeWork", "RegularWork", "RemainingDuration", "RemainingCost", "RemainingWork",
    "RemainingOvertimeCost", "RemainingOvertimeWork", "ACWP", "CV", "ConstraintType", "CalendarUID",
    "ConstraintDate", "Deadline", "LevelAssignments", "LevelingCanSplit", "LevelingDelay",
    "LevelingDelayFormat", "PreLeveledStart", "PreLeveledFinish", "Hyperlink", "HyperlinkAddress",
    "HyperlinkSubAddress", "IgnoreResourceCalendar", "Notes", "HideBar", "Rollup", "BCWS", "BCWP",
    "PhysicalPercentComplete", "EarnedValueMethod", "PredecessorLink", "ActualWorkProtected",
    "ActualOvertimeWorkProtected", "ExtendedAttribute", "Baseline", "OutlineCode", "IsPublished",
    "StatusManager", "CommitmentStart", "CommitmentFinish", "CommitmentType", "TimephasedData",
)  # fmt: skip

#: A run of consecutive exception days: first, last, working times (empty = non-working), name.
_Run = tuple[dt.date, dt.date, tuple[WorkingTime, ...], str | None]

#: Computed values that go stale when dates move and that wbs_tools does not compute itself; they
#: are removed from patched tasks so no reader trusts them (Project recomputes them on open).
STALE_COMPUTED = ("StartSlack", "FinishSlack")


# --- element helpers ------------------------------------------------------------------------------


class _Builder:
    """Creates and places elements in one namespace (MSPDI's, or none for namespace-less files)."""

    def __init__(self, namespace: str | None) -> None:
        self.prefix = f"{{{namespace}}}" if namespace else ""

    def q(self, name: str) -> str:
        return self.prefix + name

    def local(self, element: etree._Element) -> str:
        tag = element.tag
        return tag.rpartition("}")[2] if isinstance(tag, str) else ""

    def sub(self, parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
        child = etree.SubElement(parent, self.q(name))
        if text is not None:
            child.text = text
        return child

    def set_child(self, parent: etree._Element, name: str, text: str, order: Sequence[str]) -> None:
        """Set the text of ``parent``'s ``name`` child, inserting it at its schema position if absent."""
        existing = parent.find(self.q(name))
        if existing is not None:
            existing.text = text
            return
        rank = _ranks(tuple(order))
        later = {self.q(n) for n in order[rank[name] + 1 :]}
        index = next((i for i, child in enumerate(parent) if child.tag in later), len(parent))
        element = etree.Element(self.q(name))
        element.text = text
        _insert_keeping_layout(parent, index, element)

    def remove_children(self, parent: etree._Element, names: Iterable[str]) -> None:
        for name in names:
            for child in parent.findall(self.q(name)):
                _remove_keeping_layout(child)


@functools.lru_cache(maxsize=8)
def _ranks(order: tuple[str, ...]) -> dict[str, int]:
    return {name: i for i, name in enumerate(order)}


def _insert_keeping_layout(parent: etree._Element, index: int, element: etree._Element) -> None:
    """Insert so that pretty-printed sources stay pretty: the new element borrows its neighbour's
    indentation."""
    if len(parent) == 0:
        parent.append(element)
        return
    if index < len(parent):
        element.tail = parent[index - 1].tail if index > 0 else parent.text
        parent.insert(index, element)
        return
    last = parent[-1]
    element.tail = last.tail
    last.tail = parent[-2].tail if len(parent) > 1 else parent.text
    parent.append(element)


def _remove_keeping_layout(element: etree._Element) -> None:
    parent = element.getparent()
    if parent is None:
        return
    previous = element.getprevious()
    if element.tail is not None and previous is not None and element.getnext() is None:
        previous.tail = element.tail
    parent.remove(element)


def _date(value: dt.datetime | None) -> str | None:
    return format_datetime(value) if value is not None else None


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
        data = _serialise(_Generator(schedule).build(), "UTF-8", True, pretty=True)
    _atomic_write(Path(target), data)


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


def _atomic_write(target: Path, data: bytes) -> None:
    """Readers never see a half-written file: write beside the target, then rename over it."""
    directory = target.parent if str(target.parent) else Path(".")
    mode = target.stat().st_mode & 0o777 if target.exists() else 0o644
    handle, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temp_name, mode)
        os.replace(temp_name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise


# --- computed fields shared by both modes ---------------------------------------------------------


def _computed_fields(ts: TaskSchedule) -> dict[str, str]:
    """The computed elements of one task, as MSPDI text (slack in tenths of a minute)."""
    values: dict[str, str | None] = {
        "Start": _date(ts.start),
        "Finish": _date(ts.finish),
        "EarlyStart": _date(ts.early_start),
        "EarlyFinish": _date(ts.early_finish),
        "LateStart": _date(ts.late_start),
        "LateFinish": _date(ts.late_finish),
        "FreeSlack": str(minutes_to_tenths(ts.free_slack_minutes)),
        "TotalSlack": str(minutes_to_tenths(ts.total_slack_minutes)),
        "Critical": format_bool(ts.critical),
    }
    if ts.summary:
        values["Summary"] = "1"
        values["Duration"] = format_duration_minutes(ts.duration_minutes)
        values["PercentComplete"] = str(round(ts.percent_complete))
    return {name: text for name, text in values.items() if text is not None}


# --- patch mode -----------------------------------------------------------------------------------


class _Patcher:
    """Rewrites computed fields of an existing MSPDI document in place."""

    def __init__(self, root: etree._Element, schedule: Schedule) -> None:
        self.root = root
        tag = root.tag if isinstance(root.tag, str) else ""
        self.x = _Builder(tag[1 : tag.index("}")] if tag.startswith("{") else None)
        self.schedule = schedule

    def patch(self) -> None:
        tasks = self.root.find(self.x.q("Tasks"))
        if tasks is None:
            tasks = etree.Element(self.x.q("Tasks"))
            self._place_in_project(tasks)
        by_uid: dict[int, etree._Element] = {}
        for element in tasks.iterfind(self.x.q("Task")):
            uid_text = element.findtext(self.x.q("UID"))
            if uid_text is not None and uid_text.strip().lstrip("-").isdigit():
                by_uid.setdefault(int(uid_text), element)
        missing: list[TaskSchedule] = []
        for ts in self.schedule.tasks:
            element = by_uid.get(ts.uid)
            if element is None:
                missing.append(ts)
                continue
            self._patch_task(element, ts)
        if missing:
            generator = _Generator(self.schedule, self.x)
            for ts in missing:
                tasks.append(generator.task_element(ts))
        self._patch_project(by_uid.get(0))

    def _patch_task(self, element: etree._Element, ts: TaskSchedule) -> None:
        values = _computed_fields(ts)
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
        rank = _ranks(PROJECT_ORDER)
        mine = rank[self.x.local(element)]
        for i, child in enumerate(self.root):
            other = rank.get(self.x.local(child))
            if other is not None and other > mine:
                self.root.insert(i, element)
                return
        self.root.append(element)


# --- generate mode --------------------------------------------------------------------------------


def _ordered(builder: _Builder, parent: etree._Element, values: dict[str, str | None], order: Sequence[str]) -> None:
    """Append ``values`` as children of ``parent`` in schema order, skipping None."""
    for name in order:
        text = values.get(name)
        if text is not None:
            builder.sub(parent, name, text)


class _Generator:
    """Builds a minimal, schema-ordered MSPDI document from a schedule and its plan."""

    def __init__(self, schedule: Schedule, builder: _Builder | None = None) -> None:
        self.schedule = schedule
        self.plan: Plan = schedule.plan
        self.x = builder or _Builder(MSPDI_NS)
        self.tasks_by_id: dict[int, Task] = self.plan.task_by_id()
        self.uid_by_id: dict[int, int] = {t.id: t.uid if t.uid is not None else t.id for t in self.plan.tasks}
        self.calendar_uids = self._calendar_uids()
        self.links_by_successor: dict[int, list[Link]] = {}
        for link in self.plan.links:
            self.links_by_successor.setdefault(link.successor, []).append(link)

    def _calendar_uids(self) -> dict[str, int]:
        """Each calendar keeps its UID when it has a free one; the others get the next free numbers."""
        uids: dict[str, int] = {}
        taken: set[int] = set()
        for name, spec in self.plan.calendars.items():
            if spec.uid is not None and spec.uid > 0 and spec.uid not in taken:
                uids[name] = spec.uid
                taken.add(spec.uid)
        next_uid = 1
        for name in self.plan.calendars:
            if name not in uids:
                while next_uid in taken:
                    next_uid += 1
                uids[name] = next_uid
                taken.add(next_uid)
        return uids

    def build(self) -> etree._Element:
        root = etree.Element(self.x.q("Project"), nsmap={None: MSPDI_NS})
        _ordered(self.x, root, self._project_values(), PROJECT_ORDER)
        calendars = self.x.sub(root, "Calendars")
        for name, spec in self.plan.calendars.items():
            calendars.append(self._calendar_element(name, spec))
        tasks = self.x.sub(root, "Tasks")
        tasks.append(self._summary_element())
        for ts in self.schedule.tasks:
            tasks.append(self.task_element(ts))
        return root

    # -- project

    def _project_values(self) -> dict[str, str | None]:
        s = self.plan.settings
        name = s.project_name or "Project"
        slack_days = s.critical_slack_minutes / s.minutes_per_day if s.minutes_per_day else 0
        start = s.start or self.schedule.project_start
        return {
            "SaveVersion": "14",
            "Name": name,
            "Title": name,
            "ScheduleFromStart": "1",
            "StartDate": _date(start),
            "FinishDate": _date(self.schedule.project_finish),
            "CriticalSlackLimit": str(round(slack_days)),
            "CurrencySymbol": s.currency or None,
            "CalendarUID": str(self.calendar_uids.get(s.calendar, 1)),
            "DefaultStartTime": format_time_minutes(s.default_start_minute),
            "DefaultFinishTime": format_time_minutes(s.default_finish_minute),
            "MinutesPerDay": str(s.minutes_per_day),
            "MinutesPerWeek": str(s.minutes_per_week),
            "DaysPerMonth": str(s.days_per_month),
            "DurationFormat": "7",
            "HonorConstraints": format_bool(s.honor_constraints),
            "MultipleCriticalPaths": format_bool(s.multiple_critical_paths),
            "MoveRemainingStartsForward": format_bool(s.reschedule_after_status_date),
            "StatusDate": _date(s.status_date),
            "NewTasksAreManual": "0",
        }

    # -- calendars

    def _calendar_element(self, name: str, spec: CalendarSpec) -> etree._Element:
        cal = etree.Element(self.x.q("Calendar"))
        _ordered(
            self.x,
            cal,
            {"UID": str(self.calendar_uids[name]), "Name": name, "IsBaseCalendar": "1", "BaseCalendarUID": "-1"},
            ("UID", "Name", "IsBaseCalendar", "BaseCalendarUID"),
        )
        week_days = self.x.sub(cal, "WeekDays")
        for weekday in (6, 0, 1, 2, 3, 4, 5):  # DayType 1 (Sunday) .. 7 (Saturday)
            day = self.x.sub(week_days, "WeekDay")
            self.x.sub(day, "DayType", str(day_type(weekday)))
            self._day_working(day, spec.week.get(weekday, ()))
        exceptions = self._exception_ranges(spec)
        if exceptions:
            container = self.x.sub(cal, "Exceptions")
            for run in exceptions:
                container.append(self._exception_element(run))
        return cal

    def _day_working(self, parent: etree._Element, times: Sequence[WorkingTime]) -> None:
        self.x.sub(parent, "DayWorking", format_bool(bool(times)))
        if not times:
            return
        container = self.x.sub(parent, "WorkingTimes")
        for period in times:
            wt = self.x.sub(container, "WorkingTime")
            self.x.sub(wt, "FromTime", format_time_minutes(period.start))
            self.x.sub(wt, "ToTime", format_time_minutes(period.end))

    def _exception_element(self, run: _Run) -> etree._Element:
        """One daily exception over the run's days (Project 2007+ form)."""
        first, last, times, name = run
        element = etree.Element(self.x.q("Exception"))
        self.x.sub(element, "EnteredByOccurrences", "0")
        period = self.x.sub(element, "TimePeriod")
        self.x.sub(period, "FromDate", format_datetime(dt.datetime.combine(first, dt.time())))
        self.x.sub(period, "ToDate", format_datetime(dt.datetime.combine(last, dt.time(23, 59))))
        self.x.sub(element, "Occurrences", str((last - first).days + 1))
        if name:
            self.x.sub(element, "Name", name[:512])
        self.x.sub(element, "Type", "1")
        self.x.sub(element, "Period", "1")
        self._day_working(element, times)
        return element

    def _exception_ranges(self, spec: CalendarSpec) -> list[_Run]:
        """Dated exceptions (public holidays of the calendar's country included) merged into runs of
        consecutive days with the same working times and name."""
        names = self._holidays(spec)
        dated = {**dict.fromkeys(names, ()), **spec.exceptions}
        runs: list[_Run] = []
        for day in sorted(dated):
            times, name = tuple(dated[day]), names.get(day) if day not in spec.exceptions else None
            if runs and runs[-1][2:] == (times, name) and runs[-1][1] + dt.timedelta(days=1) == day:
                runs[-1] = (runs[-1][0], day, times, name)
            else:
                runs.append((day, day, times, name))
        return runs

    def _holidays(self, spec: CalendarSpec) -> dict[dt.date, str]:
        """Microsoft Project has no notion of a country's holidays, so they are written as named,
        dated non-working exceptions over the years the schedule spans (one either side)."""
        if not spec.country:
            return {}
        import holidays

        try:
            table = holidays.country_holidays(spec.country, subdiv=spec.subdivision, years=self._years())
        except (NotImplementedError, KeyError, ValueError):
            return {}
        return {day: str(name) for day, name in table.items()}

    def _years(self) -> range:
        starts = [self.schedule.project_start, self.plan.settings.start, self.schedule.project_finish]
        known = [d.year for d in starts if d is not None]
        if not known:
            return range(dt.date.today().year, dt.date.today().year + 1)
        return range(min(known) - 1, max(known) + 2)

    # -- tasks

    def _summary_element(self) -> etree._Element:
        """The project summary task (UID 0), which Project shows as the project row."""
        element = etree.Element(self.x.q("Task"))
        values = {
            "UID": "0",
            "ID": "0",
            "Name": self.plan.settings.project_name or "Project",
            "IsNull": "0",
            "WBS": "0",
            "OutlineNumber": "0",
            "OutlineLevel": "0",
            "Start": _date(self.schedule.project_start),
            "Finish": _date(self.schedule.project_finish),
            "Summary": "1",
            "CalendarUID": "-1",
        }
        _ordered(self.x, element, values, TASK_ORDER)
        return element

    def task_element(self, ts: TaskSchedule) -> etree._Element:
        task = self.tasks_by_id.get(ts.id)
        element = etree.Element(self.x.q("Task"))
        values = {**self._input_fields(ts, task), **_computed_fields(ts)}
        for name in TASK_ORDER:
            if name == "PredecessorLink":
                for link in self.links_by_successor.get(ts.id, ()):
                    self._link_element(element, link)
            elif name == "Baseline" and task is not None:
                for number, baseline in sorted(task.baselines.items()):
                    self._baseline_element(element, number, baseline)
            elif values.get(name) is not None:
                self.x.sub(element, name, values[name])
        return element

    def _input_fields(self, ts: TaskSchedule, task: Task | None) -> dict[str, str | None]:
        duration = task.duration if task is not None and task.duration is not None and not ts.summary else None
        if duration is None:
            duration = Duration(ts.duration_minutes)
        values: dict[str, str | None] = {
            "UID": str(ts.uid),
            "ID": str(ts.id),
            "Name": ts.name,
            "IsNull": "0",
            "WBS": (task.wbs if task is not None and task.wbs else ts.outline_number),
            "OutlineNumber": ts.outline_number,
            "OutlineLevel": str(ts.outline_level),
            "Duration": format_duration_minutes(duration.minutes),
            "DurationFormat": str(duration_format_code(duration)),
            "Estimated": "0",
            "Milestone": format_bool(ts.milestone),
            "Summary": format_bool(ts.summary),
            "PercentComplete": str(round(ts.percent_complete)),
            "CalendarUID": "-1",
        }
        if task is not None:
            values.update(self._task_inputs(task))
        return values

    def _task_inputs(self, task: Task) -> dict[str, str | None]:
        calendar_uid = self.calendar_uids.get(task.calendar) if task.calendar else None
        values: dict[str, str | None] = {
            "Active": format_bool(task.active),
            "Manual": format_bool(task.manual),
            "ActualStart": _date(task.actual_start),
            "ActualFinish": _date(task.actual_finish),
            "Cost": format_currency(task.cost) if task.cost is not None else None,
            "ActualCost": format_currency(task.actual_cost) if task.actual_cost is not None else None,
            "RemainingDuration": (
                format_duration_minutes(task.remaining_duration.minutes) if task.remaining_duration else None
            ),
            "PercentComplete": str(round(task.percent_complete)),
            "ConstraintType": str(CONSTRAINT_CODE[task.constraint]),
            "CalendarUID": str(calendar_uid) if calendar_uid is not None else "-1",
            "ConstraintDate": _date(task.constraint_date) if task.constraint.needs_date else None,
            "Deadline": _date(task.deadline),
            "Notes": task.notes,
        }
        if task.manual:
            values["ManualStart"] = _date(task.manual_start)
            values["ManualFinish"] = _date(task.manual_finish)
            values["ManualDuration"] = format_duration_minutes(task.duration.minutes) if task.duration else None
        return values

    def _link_element(self, parent: etree._Element, link: Link) -> None:
        pred_uid = self.uid_by_id.get(link.predecessor)
        if pred_uid is None:
            return
        lag, lag_format = lag_to_xml(link.lag)
        element = self.x.sub(parent, "PredecessorLink")
        self.x.sub(element, "PredecessorUID", str(pred_uid))
        self.x.sub(element, "Type", str(LINK_TYPE_CODE[link.type]))
        self.x.sub(element, "CrossProject", "0")
        self.x.sub(element, "LinkLag", str(lag))
        self.x.sub(element, "LagFormat", str(lag_format))

    def _baseline_element(self, parent: etree._Element, number: int, baseline: Baseline) -> None:
        element = self.x.sub(parent, "Baseline")
        values = {
            "Number": str(number),
            "Start": _date(baseline.start),
            "Finish": _date(baseline.finish),
            "Duration": (
                format_duration_minutes(baseline.duration_minutes) if baseline.duration_minutes is not None else None
            ),
            "Work": format_duration_minutes(baseline.work_minutes) if baseline.work_minutes is not None else None,
            "Cost": format_currency(baseline.cost) if baseline.cost is not None else None,
        }
        _ordered(self.x, element, values, ("Number", "Start", "Finish", "Duration", "Work", "Cost"))

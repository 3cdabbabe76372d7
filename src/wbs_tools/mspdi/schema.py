"""The MSPDI schema order and the element helpers both writer modes share.

Microsoft Project reads MSPDI with a schema-ordered parser, so child elements are always placed in
the order of the MSPDI schema (``mspdi_pj12.xsd`` plus the Project 2010+ additions), both when new
elements are generated and when missing ones are inserted into an existing task.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Sequence

from lxml import etree

from wbs_tools.core.schedule import TaskSchedule
from wbs_tools.mspdi.values import (
    format_bool,
    format_datetime,
    format_duration_minutes,
    minutes_to_tenths,
)

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

#: Computed values that go stale when dates move and that wbs_tools does not compute itself; they
#: are removed from patched tasks so no reader trusts them (Project recomputes them on open).
STALE_COMPUTED = ("StartSlack", "FinishSlack")


# --- element helpers ------------------------------------------------------------------------------


class Builder:
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
        rank = ranks(tuple(order))
        later = {self.q(n) for n in order[rank[name] + 1 :]}
        index = next((i for i, child in enumerate(parent) if child.tag in later), len(parent))
        element = etree.Element(self.q(name))
        element.text = text
        insert_keeping_layout(parent, index, element)

    def remove_children(self, parent: etree._Element, names: Iterable[str]) -> None:
        for name in names:
            for child in parent.findall(self.q(name)):
                remove_keeping_layout(child)


@functools.lru_cache(maxsize=8)
def ranks(order: tuple[str, ...]) -> dict[str, int]:
    return {name: i for i, name in enumerate(order)}


def insert_keeping_layout(parent: etree._Element, index: int, element: etree._Element) -> None:
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


def remove_keeping_layout(element: etree._Element) -> None:
    parent = element.getparent()
    if parent is None:
        return
    previous = element.getprevious()
    if element.tail is not None and previous is not None and element.getnext() is None:
        previous.tail = element.tail
    parent.remove(element)


def mspdi_date(value: dt.datetime | None) -> str | None:
    return format_datetime(value) if value is not None else None


# --- computed fields shared by both modes ---------------------------------------------------------


def computed_fields(ts: TaskSchedule) -> dict[str, str]:
    """The computed elements of one task, as MSPDI text (slack in tenths of a minute)."""
    values: dict[str, str | None] = {
        "Start": mspdi_date(ts.start),
        "Finish": mspdi_date(ts.finish),
        "EarlyStart": mspdi_date(ts.early_start),
        "EarlyFinish": mspdi_date(ts.early_finish),
        "LateStart": mspdi_date(ts.late_start),
        "LateFinish": mspdi_date(ts.late_finish),
        "FreeSlack": str(minutes_to_tenths(ts.free_slack_minutes)),
        "TotalSlack": str(minutes_to_tenths(ts.total_slack_minutes)),
        "Critical": format_bool(ts.critical),
    }
    if ts.summary:
        values["Summary"] = "1"
        values["Duration"] = format_duration_minutes(ts.duration_minutes)
        values["PercentComplete"] = str(round(ts.percent_complete))
    return {name: text for name, text in values.items() if text is not None}

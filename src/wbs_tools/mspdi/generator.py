"""A new MSPDI document generated from a plan and its schedule: settings, calendars, tasks, links."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from lxml import etree

from wbs_tools.core.model import Baseline, CalendarSpec, Duration, Link, Plan, Task, WorkingTime
from wbs_tools.core.schedule import Schedule, TaskSchedule
from wbs_tools.mspdi.schema import PROJECT_ORDER, TASK_ORDER, Builder, computed_fields, mspdi_date
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
)

#: A run of consecutive exception days: first, last, working times (empty = non-working), name.
_Run = tuple[dt.date, dt.date, tuple[WorkingTime, ...], str | None]

# --- generate mode --------------------------------------------------------------------------------


def _ordered(builder: Builder, parent: etree._Element, values: dict[str, str | None], order: Sequence[str]) -> None:
    """Append ``values`` as children of ``parent`` in schema order, skipping None."""
    for name in order:
        text = values.get(name)
        if text is not None:
            builder.sub(parent, name, text)


class Generator:
    """Builds a minimal, schema-ordered MSPDI document from a schedule and its plan."""

    def __init__(self, schedule: Schedule, builder: Builder | None = None) -> None:
        self.schedule = schedule
        self.plan: Plan = schedule.plan
        self.x = builder or Builder(MSPDI_NS)
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
            "StartDate": mspdi_date(start),
            "FinishDate": mspdi_date(self.schedule.project_finish),
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
            "StatusDate": mspdi_date(s.status_date),
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
            "Start": mspdi_date(self.schedule.project_start),
            "Finish": mspdi_date(self.schedule.project_finish),
            "Summary": "1",
            "CalendarUID": "-1",
        }
        _ordered(self.x, element, values, TASK_ORDER)
        return element

    def task_element(self, ts: TaskSchedule) -> etree._Element:
        task = self.tasks_by_id.get(ts.id)
        element = etree.Element(self.x.q("Task"))
        values = {**self._input_fields(ts, task), **computed_fields(ts)}
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
            "ActualStart": mspdi_date(task.actual_start),
            "ActualFinish": mspdi_date(task.actual_finish),
            "Cost": format_currency(task.cost) if task.cost is not None else None,
            "ActualCost": format_currency(task.actual_cost) if task.actual_cost is not None else None,
            "RemainingDuration": (
                format_duration_minutes(task.remaining_duration.minutes) if task.remaining_duration else None
            ),
            "PercentComplete": str(round(task.percent_complete)),
            "ConstraintType": str(CONSTRAINT_CODE[task.constraint]),
            "CalendarUID": str(calendar_uid) if calendar_uid is not None else "-1",
            "ConstraintDate": mspdi_date(task.constraint_date) if task.constraint.needs_date else None,
            "Deadline": mspdi_date(task.deadline),
            "Notes": task.notes,
        }
        if task.manual:
            values["ManualStart"] = mspdi_date(task.manual_start)
            values["ManualFinish"] = mspdi_date(task.manual_finish)
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
            "Start": mspdi_date(baseline.start),
            "Finish": mspdi_date(baseline.finish),
            "Duration": (
                format_duration_minutes(baseline.duration_minutes) if baseline.duration_minutes is not None else None
            ),
            "Work": format_duration_minutes(baseline.work_minutes) if baseline.work_minutes is not None else None,
            "Cost": format_currency(baseline.cost) if baseline.cost is not None else None,
        }
        _ordered(self.x, element, values, ("Number", "Start", "Finish", "Duration", "Work", "Cost"))

"""Microsoft Project's recurring calendar exceptions, expanded into the dates they fall on."""

from __future__ import annotations

import calendar as pycalendar
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from wbs_tools.mspdi.values import python_weekday, weekday_bit


def dates_between(start: dt.date, finish: dt.date) -> Iterator[dt.date]:
    day = start
    while day <= finish:
        yield day
        day += dt.timedelta(days=1)


def _add_months(day: dt.date, months: int) -> tuple[int, int]:
    index = day.year * 12 + day.month - 1 + months
    return index // 12, index % 12 + 1


def _nth_in_month(year: int, month: int, item: int, position: int) -> dt.date | None:
    """The ``position``-th (0..3, 4 = last) day of kind ``item`` in a month.

    ``item`` is ``Exception/MonthItem``: 0 any day, 1 weekday, 2 weekend day, 3..9 Sunday..Saturday.
    """
    last = pycalendar.monthrange(year, month)[1]
    days = [dt.date(year, month, d) for d in range(1, last + 1)]
    if item == 1:
        days = [d for d in days if d.weekday() < 5]
    elif item == 2:
        days = [d for d in days if d.weekday() >= 5]
    elif 3 <= item <= 9:
        days = [d for d in days if d.weekday() == python_weekday(item - 2)]
    if not days:
        return None
    if position >= 4:
        return days[-1]
    return days[position] if position < len(days) else None


def _month_day(year: int, month: int, day: int) -> dt.date:
    """Day ``day`` of a month, or its last day when the month is shorter."""
    return dt.date(year, month, min(max(day, 1), pycalendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Recurrence:
    """The recurrence fields of an ``Exception`` element (Project 2007 and later)."""

    kind: int | None
    period: int
    days_of_week: int
    month_item: int
    month_position: int
    month: int
    month_day: int
    occurrences: int | None


def recurrence_dates(rec: Recurrence, start: dt.date, finish: dt.date, week_start: int) -> Iterator[dt.date]:
    """Dates an exception applies to within ``start..finish``.

    ``kind`` is ``Exception/Type``: 1/7 daily, 2 yearly on a date, 3 yearly by position, 4 monthly on a
    day, 5 monthly by position, 6 weekly; anything else is a plain date range.
    """
    period = max(rec.period, 1)
    if rec.kind in (1, 7):
        candidates: Iterator[dt.date] = (d for i, d in enumerate(dates_between(start, finish)) if i % period == 0)
    elif rec.kind == 6:
        anchor = start - dt.timedelta(days=(start.weekday() - week_start) % 7)
        candidates = (
            d
            for d in dates_between(start, finish)
            if rec.days_of_week & weekday_bit(d.weekday()) and ((d - anchor).days // 7) % period == 0
        )
    elif rec.kind in (2, 3, 4, 5):
        candidates = _monthly_dates(rec, start, finish, period)
    else:
        candidates = dates_between(start, finish)
    for count, day in enumerate(candidates):
        if rec.occurrences is not None and count >= rec.occurrences:
            return
        yield day


def _monthly_dates(rec: Recurrence, start: dt.date, finish: dt.date, period: int) -> Iterator[dt.date]:
    """Monthly (every ``period`` months from the start month) or yearly (in ``Month``) occurrences."""
    yearly = rec.kind in (2, 3)
    if yearly:
        months = (
            (year, rec.month + 1) for year in range(start.year, finish.year + 1) if (year - start.year) % period == 0
        )
    else:
        count = (finish.year - start.year) * 12 + finish.month - start.month + 1
        months = (_add_months(start, offset) for offset in range(0, count, period))
    for year, month in months:
        if rec.kind in (3, 5):
            day = _nth_in_month(year, month, rec.month_item, rec.month_position)
        else:
            day = _month_day(year, month, rec.month_day)
        if day is not None and start <= day <= finish:
            yield day

"""Working-time arithmetic on a compiled calendar.

A calendar is compiled into a *working-time coordinate*: ``work_at(t)`` is the number of working
minutes between a fixed origin and the instant ``t``. Adding a duration is then plain addition in that
coordinate, and slack is plain subtraction; the only calendar-aware steps are the two conversions back
to instants:

* ``start_of(w)`` - the instant at which working minute ``w`` begins (a start: next working morning
  rather than 17:00 the evening before);
* ``finish_of(w)`` - the instant at which working minute ``w`` ends (a finish: 17:00, not 08:00 the
  next working day).

Instants are whole minutes since 1900-01-01 00:00 (``to_minutes``/``from_minutes``), which keeps the
scheduler on integers. Per-day cumulative sums are built lazily for the span of years in use, so a
lookup is one ``bisect`` plus a walk over at most a few working periods.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from wbs_tools.core.model import STANDARD_DAY, CalendarSpec, WorkingTime

EPOCH = dt.datetime(1900, 1, 1)
MINUTES_PER_DAY = 1440
_EPOCH_ORDINAL = EPOCH.toordinal()
#: Years the engine schedules in; a date outside is a finding, not an endless calendar walk.
FIRST_YEAR, LAST_YEAR = 1901, 9998
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
_CHUNK_DAYS = 366 * 4


class NoWorkingTimeError(ValueError):
    """The calendar never works, so no duration can be placed on it."""


def to_minutes(value: dt.datetime) -> int:
    """Minutes since 1900-01-01 00:00 (seconds are dropped)."""
    return (value.toordinal() - _EPOCH_ORDINAL) * MINUTES_PER_DAY + value.hour * 60 + value.minute


def from_minutes(minutes: int | float) -> dt.datetime:
    return EPOCH + dt.timedelta(minutes=minutes if type(minutes) is int else round(minutes))


def _periods(times: Iterable[WorkingTime]) -> tuple[tuple[int, int], ...]:
    """Sorted, merged (start, end) pairs; empty or inverted periods are dropped."""
    spans = sorted((t.start, t.end) for t in times if t.end > t.start)
    merged: list[list[int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    return tuple((max(0, s), min(MINUTES_PER_DAY, e)) for s, e in merged)


def holiday_dates(country: str, subdivision: str | None, years: Iterable[int]) -> dict[dt.date, str]:
    """Public holidays of a country from the ``holidays`` package (raises KeyError if unknown)."""
    import holidays

    return dict(holidays.country_holidays(country, subdiv=subdivision, years=list(years)))


class WorkCalendar:
    """A compiled calendar answering working-time questions in minutes."""

    def __init__(self, spec: CalendarSpec | None = None) -> None:
        spec = spec or CalendarSpec()
        self.name = spec.name
        self._week = [_periods(spec.week.get(d, ())) for d in range(7)]
        self._exceptions = {
            d.toordinal() - _EPOCH_ORDINAL: _periods(times) for d, times in spec.exceptions.items()
        }
        self._country = spec.country
        self._subdivision = spec.subdivision
        self._holiday_years: set[int] = set()
        if not any(self._week) and not any(self._exceptions.values()):
            raise NoWorkingTimeError(f"calendar {spec.name!r} has no working time")
        # Lazily built span [first_day, first_day + len(day_periods)):
        self._first_day = 0
        self._day_periods: list[tuple[tuple[int, int], ...]] = []
        self._cum: list[int] = [0]  # working minutes before each day of the span (len = days + 1)
        self._n_days = 0
        self._memo: dict[int, int] = {}  # work_at, by instant
        self._start_memo: dict[float, int] = {}  # start_of, by working minute
        self._finish_memo: dict[float, int] = {}  # finish_of, by working minute
        self._day_open: list[int] = []
        self._day_close: list[int] = []
        self._arrays: tuple[list[int], FloatArray, IntArray, FloatArray] | None = None
        self._has_weekly_work = any(self._week)

    # -- building ---------------------------------------------------------------------------------
    def _periods_of_day(self, day: int) -> tuple[tuple[int, int], ...]:
        found = self._exceptions.get(day)
        if found is not None:
            return found
        return self._week[(day + _EPOCH_ORDINAL - 1) % 7]  # ordinal 1 (0001-01-01) is a Monday

    def _load_holidays(self, first_day: int, last_day: int) -> None:
        if not self._country:
            return
        # public holidays are only known for a few centuries around now
        first_year = max(1950, from_minutes(first_day * MINUTES_PER_DAY).year)
        last_year = min(2150, from_minutes(last_day * MINUTES_PER_DAY).year)
        years = set(range(first_year, last_year + 1)) - self._holiday_years
        if not years:
            return
        self._holiday_years |= years
        for date in holiday_dates(self._country, self._subdivision, sorted(years)):
            day = date.toordinal() - _EPOCH_ORDINAL
            self._exceptions.setdefault(day, ())

    def _build(self, first_day: int, last_day: int) -> None:
        """(Re)build the cumulative table to cover ``first_day..last_day`` (inclusive)."""
        lo = _day_of_year(FIRST_YEAR)
        hi = _day_of_year(LAST_YEAR + 1) - 1
        first_day, last_day = max(lo, first_day), min(hi, last_day)
        self._load_holidays(first_day, last_day)
        periods = [self._periods_of_day(d) for d in range(first_day, last_day + 1)]
        cum = [0] * (len(periods) + 1)
        total = 0
        for i, day in enumerate(periods):
            cum[i] = total
            for s, e in day:
                total += e - s
        cum[-1] = total
        # Keep the coordinate stable: values handed out before an extension stay valid.
        if self._day_periods:
            k = self._first_day - first_day  # first_day never moves right
            shift = self._cum[0] - cum[k]
            cum = [c + shift for c in cum]
        self._first_day = first_day
        self._day_periods = periods
        self._cum = cum
        self._n_days = len(periods)
        # first working minute and end of the last period of each day, for the common fast paths
        self._day_open = [p[0][0] if p else MINUTES_PER_DAY for p in periods]
        self._day_close = [p[-1][1] if p else 0 for p in periods]

    def _cum_at_day(self, day: int) -> int:
        return self._cum[day - self._first_day]

    def _ensure_day(self, day: int) -> int:
        """Index of ``day`` in the table, extending the table when needed."""
        i = day - self._first_day
        if 0 <= i < len(self._day_periods):
            return i
        if not self._day_periods:
            self._build(day - _CHUNK_DAYS, day + _CHUNK_DAYS)
        else:  # grow geometrically so a long walk costs linear time overall
            margin = max(_CHUNK_DAYS, len(self._day_periods))
            first = min(self._first_day, day - margin)
            last = max(self._first_day + len(self._day_periods) - 1, day + margin)
            self._build(first, last)
        i = day - self._first_day
        if not 0 <= i < len(self._day_periods):
            raise OverflowError(f"date outside {FIRST_YEAR}-{LAST_YEAR}")
        return i

    def _ensure_work(self, w: float) -> None:
        """Extend the table until working minute ``w`` lies strictly inside it."""
        if not self._day_periods:
            self._ensure_day(0)
        for _ in range(100):
            if self._cum[0] < w < self._cum[-1]:
                return
            lo_day = self._first_day
            hi_day = self._first_day + len(self._day_periods) - 1
            if w <= self._cum[0]:
                if lo_day <= _day_of_year(FIRST_YEAR):
                    raise OverflowError(f"date before {FIRST_YEAR}")
                self._ensure_day(lo_day - 1)
            else:
                if hi_day >= _day_of_year(LAST_YEAR + 1) - 1:
                    raise OverflowError(f"date after {LAST_YEAR}")
                self._ensure_day(hi_day + 1)
        raise NoWorkingTimeError(f"calendar {self.name!r} has no working time near that date")

    # -- conversions ------------------------------------------------------------------------------
    def work_at(self, t: int) -> int:
        """Working minutes from the origin up to instant ``t``.

        Memoised: schedules reuse few distinct instants (mostly period starts and ends), and the
        coordinate of an instant never changes once given out.
        """
        w = self._memo.get(t)
        if w is None:
            w = self._memo[t] = self._work_at(t)
        return w

    def work_at_many(self, instants: IntArray) -> FloatArray:
        """``work_at`` of each instant, as float64 (exact: working minutes stay far below 2**53), in
        bulk: the working minutes before its day plus those of its day up to its minute, from a table
        per distinct working day (plans have a handful: the working week, holidays). An instant outside
        the day tables one by one."""
        if not self._n_days:
            return np.array([self.work_at(t) for t in instants.tolist()], dtype=np.float64)
        tables = self._arrays
        if tables is None or tables[0] is not self._cum:  # rebuilt since: the lists are new
            tables = self._arrays = self._tables()
        _, cum, kind, within = tables
        day, minute = np.divmod(instants, MINUTES_PER_DAY)
        i = day - self._first_day
        inside = (i >= 0) & (i < len(kind))
        everywhere = bool(inside.all())
        if not everywhere:
            i = np.where(inside, i, 0)
        out: FloatArray = cum[i] + within[kind[i] * MINUTES_PER_DAY + minute]
        if not everywhere:
            work_at = self.work_at
            rest = np.flatnonzero(~inside)
            for j, t in zip(rest.tolist(), instants[rest].tolist(), strict=True):
                out[j] = work_at(t)
        return out

    def _tables(self) -> tuple[list[int], FloatArray, IntArray, FloatArray]:
        """The tables ``work_at_many`` reads: working minutes before each day, each day's kind (its
        working periods) and, per kind and minute of the day, the working minutes of the day so far."""
        kinds: dict[tuple[tuple[int, int], ...], int] = {}
        kind = [kinds.setdefault(periods, len(kinds)) for periods in self._day_periods]
        minute = np.arange(MINUTES_PER_DAY)
        within = np.zeros((len(kinds), MINUTES_PER_DAY))
        for periods, j in kinds.items():
            for s, e in periods:
                within[j] += np.clip(minute - s, 0, e - s)
        return self._cum, np.array(self._cum, dtype=np.float64), np.array(kind, dtype=np.int64), within.ravel()

    def _work_at(self, t: int) -> int:
        day, minute = divmod(t, MINUTES_PER_DAY)
        i = day - self._first_day
        if not 0 <= i < self._n_days:
            i = self._ensure_day(day)
        if minute <= self._day_open[i]:
            return self._cum[i]
        if minute >= self._day_close[i]:
            return self._cum[i + 1]
        w = self._cum[i]
        for s, e in self._day_periods[i]:
            if minute >= e:
                w += e - s
            else:
                if minute > s:
                    w += minute - s
                break
        return w

    def start_of(self, w: float) -> int:
        """The instant working minute ``w`` starts: the next working minute at or after it.

        Memoised like ``work_at``: the coordinate is stable, so the answer for ``w`` never changes.
        """
        t = self._start_memo.get(w)
        if t is None:
            t = self._start_memo[w] = self._start_of(w)
        return t

    def _start_of(self, w: float) -> int:
        cum = self._cum
        if not (self._day_periods and cum[0] <= w < cum[-1]):
            self._ensure_work(w)
            cum = self._cum
        i = bisect_right(cum, w) - 1
        rem = w - cum[i]
        for s, e in self._day_periods[i]:
            if rem < e - s:
                t = (self._first_day + i) * MINUTES_PER_DAY + s + rem
                return t if type(t) is int else round(t)
            rem -= e - s
        raise AssertionError("unreachable: cumulative table inconsistent")

    def finish_of(self, w: float) -> int:
        """The instant working minute ``w`` ends: the end of work, e.g. 17:00 rather than 08:00."""
        t = self._finish_memo.get(w)
        if t is None:
            t = self._finish_memo[w] = self._finish_of(w)
        return t

    def _finish_of(self, w: float) -> int:
        cum = self._cum
        if not (self._day_periods and cum[0] < w <= cum[-1]):
            self._ensure_work(w)
            cum = self._cum
        i = bisect_left(cum, w) - 1
        rem = w - cum[i]
        for s, e in self._day_periods[i]:
            if rem <= e - s:
                t = (self._first_day + i) * MINUTES_PER_DAY + s + rem
                return t if type(t) is int else round(t)
            rem -= e - s
        raise AssertionError("unreachable: cumulative table inconsistent")

    # -- conveniences -----------------------------------------------------------------------------
    def next_start(self, t: int) -> int:
        """``t`` if work happens right after it, else the start of the next working period."""
        return self.start_of(self.work_at(t))

    def previous_finish(self, t: int) -> int:
        """``t`` if work happened right before it, else the end of the previous working period."""
        return self.finish_of(self.work_at(t))

    def is_period_end(self, t: int) -> bool:
        return self.finish_of(self.work_at(t)) == t

    def add(self, t: int, minutes: float) -> int:
        """Finish of ``minutes`` of work starting at ``t`` (a start for negative or zero work)."""
        w = self.work_at(t) + minutes
        return self.finish_of(w) if minutes > 0 else self.start_of(w)

    def working_minutes(self, a: int, b: int) -> int:
        """Working minutes from ``a`` to ``b`` (negative when ``b`` is before ``a``)."""
        return self.work_at(b) - self.work_at(a)

    def is_working_day(self, date: dt.date) -> bool:
        day = date.toordinal() - _EPOCH_ORDINAL
        return bool(self._day_periods[self._ensure_day(day)])

    def working_days_between(self, a: dt.date, b: dt.date) -> int:
        """Working days after ``a`` up to and including ``b`` (negative when ``b`` < ``a``)."""
        ia = self._ensure_day(a.toordinal() - _EPOCH_ORDINAL)
        ib = self._ensure_day(b.toordinal() - _EPOCH_ORDINAL)
        ia = self._ensure_day(a.toordinal() - _EPOCH_ORDINAL)  # indices may shift on extension
        lo, hi = sorted((ia, ib))
        n = sum(1 for d in self._day_periods[lo + 1 : hi + 1] if d)
        return n if ib >= ia else -n


_COMPILED: dict[tuple[object, ...], WorkCalendar] = {}


def compiled(spec: CalendarSpec | None = None) -> WorkCalendar:
    """The compiled calendar for ``spec``, shared by everyone who asks for the same working time.

    A refresh asks for the plan calendar in the scheduler, the registers, earned value and the status
    report; compiling it (and loading public holidays) once is most of what that costs. Sharing is
    safe: a compiled calendar only ever grows its tables, deterministically.
    """
    spec = spec or CalendarSpec()
    key = (spec.name, tuple(sorted(spec.week.items())), tuple(sorted(spec.exceptions.items())),
           spec.country, spec.subdivision)
    found = _COMPILED.get(key)
    if found is None:
        if len(_COMPILED) > 64:  # a long-running batch sees many plans; keep the cache small
            _COMPILED.clear()
        found = _COMPILED[key] = WorkCalendar(spec)
    return found


def _day_of_year(year: int) -> int:
    return dt.date(year, 1, 1).toordinal() - _EPOCH_ORDINAL


STANDARD = CalendarSpec(name="Standard", week={d: STANDARD_DAY for d in range(5)})

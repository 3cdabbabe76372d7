"""dateutil's vocabulary with two-digit years fixed to 2000-2099, not relative to the clock.

A module of its own because it subclasses a dateutil class: it stays interpreted when the engine
is compiled (``setup.py``), so dateutil sees an ordinary Python subclass.
"""

from __future__ import annotations

from dateutil import parser as dateutil_parser


class YearsFrom2000(dateutil_parser.parserinfo):
    def convertyear(self, year: int, century_specified: bool = False) -> int:
        return year + 2000 if year < 100 and not century_specified else year

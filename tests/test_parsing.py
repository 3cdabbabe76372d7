"""Cell parsers: table-driven grammar cases, round trips, and properties over arbitrary input."""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wbs_tools.core.durations import UNIT_ALIASES
from wbs_tools.core.model import NO_LAG, ConstraintType, Duration, Lag, Link, LinkType
from wbs_tools.core.parsing import (
    InputError,
    format_constraint_type,
    format_date,
    format_duration,
    format_lag,
    format_percent,
    format_predecessors,
    parse_constraint_type,
    parse_date,
    parse_duration,
    parse_lag,
    parse_percent,
    parse_predecessors,
)

D = 480.0  # minutes in a default working day
TODAY = dt.date(2026, 3, 3)  # a Tuesday

# --- durations ---------------------------------------------------------------------------------

DURATIONS = [
    ("3d", Duration(3 * D, False, "d")),
    ("3 d", Duration(3 * D, False, "d")),
    ("3 days", Duration(3 * D, False, "d")),
    ("2.5 days", Duration(2.5 * D, False, "d")),
    ("1w", Duration(2400.0, False, "w")),
    ("1 wk", Duration(2400.0, False, "w")),
    ("2 weeks", Duration(4800.0, False, "w")),
    ("4h", Duration(240.0, False, "h")),
    ("4 hrs", Duration(240.0, False, "h")),
    ("30m", Duration(30.0, False, "m")),
    ("30 min", Duration(30.0, False, "m")),
    ("1mo", Duration(20 * D, False, "mo")),
    ("2 months", Duration(40 * D, False, "mo")),
    ("3ed", Duration(3 * 1440.0, True, "ed")),
    ("3 edays", Duration(3 * 1440.0, True, "ed")),
    ("3 elapsed days", Duration(3 * 1440.0, True, "ed")),
    ("2eh", Duration(120.0, True, "eh")),
    ("1ew", Duration(7 * 1440.0, True, "ew")),
    ("1emo", Duration(30 * 1440.0, True, "emo")),
    ("45em", Duration(45.0, True, "em")),
    ("0", Duration(0.0)),
    ("", Duration(0.0)),
    ("   ", Duration(0.0)),
    (None, Duration(0.0)),
    (3, Duration(3 * D)),
    (2.5, Duration(2.5 * D)),
    ("1,5d", Duration(1.5 * D)),
    ("3d?", Duration(3 * D)),
    ("  3D  ", Duration(3 * D)),
    ("3 Days?", Duration(3 * D)),
    (".5d", Duration(0.5 * D)),
]


@pytest.mark.parametrize(("text", "expected"), DURATIONS)
def test_parse_duration(text: object, expected: Duration) -> None:
    assert parse_duration(text) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("3 dyas", "'3 dyas' is not a duration: use a number and a unit such as 3d, 2.5 days, 1w, 4h"),
        ("abc", "'abc' is not a duration"),
        ("-2d", "'-2d' is negative"),
        (-1, "is negative"),
        ("50%", "is not a duration"),
        ("3d 4h", "is not a duration"),
        ("1e5d", "is not a duration"),
        ("?", "is not a duration"),
        ("#REF!", "cell shows an Excel error (#REF!)"),
        (float("nan"), "is not a duration"),
        (True, "is not a duration"),
        ("9" * 400 + "d", "too large"),
    ],
)
def test_parse_duration_rejects(text: object, message: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_duration(text)  # type: ignore[arg-type]
    assert message in str(caught.value)


def test_duration_uses_plan_settings() -> None:
    custom = {"minutes_per_day": 450, "minutes_per_week": 2250, "days_per_month": 21}
    assert parse_duration("2d", **custom).minutes == 900
    assert parse_duration("1w", **custom).minutes == 2250
    assert parse_duration("1mo", **custom).minutes == 21 * 450
    assert parse_duration("1ed", **custom).minutes == 1440  # elapsed units ignore the settings
    assert format_duration(Duration(900.0), **custom) == "2d"
    with pytest.raises(InputError, match="Minutes per day"):
        parse_duration("1d", minutes_per_day=0)


@pytest.mark.parametrize(
    ("duration", "text"),
    [
        (Duration(1440.0), "3d"),
        (Duration(1200.0), "2.5d"),
        (Duration(240.0, unit="h"), "4h"),
        (Duration(4320.0, True, "ed"), "3ed"),
        (Duration(0.0), "0d"),
        (Duration(90.0, unit="d"), "0.1875d"),
        (Duration(1440.0, True, "d"), "1ed"),  # the elapsed flag wins over a working unit
        (Duration(120.0, unit="hours"), "2h"),  # a spelled-out unit is written canonically
        (Duration(480.0, unit="??"), "1d"),
    ],
)
def test_format_duration(duration: Duration, text: str) -> None:
    assert format_duration(duration) == text


# --- lags --------------------------------------------------------------------------------------

LAGS = [
    ("2d", Lag(Duration(2 * D))),
    ("-2d", Lag(Duration(-2 * D))),
    ("+1,5 days", Lag(Duration(1.5 * D))),
    ("\u22121d", Lag(Duration(-D))),  # a typographic minus from a word processor
    ("-3ed", Lag(Duration(-3 * 1440.0, True, "ed"))),
    ("50%", Lag(percent=50.0)),
    ("-25%", Lag(percent=-25.0)),
    ("12,5 %", Lag(percent=12.5)),
    (-1, Lag(Duration(-D))),
    ("", Lag()),
]


@pytest.mark.parametrize(("text", "expected"), LAGS)
def test_parse_lag(text: object, expected: Lag) -> None:
    assert parse_lag(text) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["%", "50%%", "abc%", "2 dyas", "--2d", "#DIV/0!"])
def test_parse_lag_rejects(text: str) -> None:
    with pytest.raises(InputError):
        parse_lag(text)


def test_format_lag() -> None:
    assert [format_lag(lag) for _, lag in LAGS] == [
        "2d", "-2d", "1.5d", "-1d", "-3ed", "50%", "-25%", "12.5%", "-1d", "0d",
    ]  # fmt: skip


# --- predecessors ------------------------------------------------------------------------------


def _link(pred: int, kind: LinkType = LinkType.FS, lag: Lag = NO_LAG) -> Link:
    return Link(pred, 9, kind, lag, "Tasks!F9")


PREDECESSORS = [
    ("3", [_link(3)]),
    ("3FS", [_link(3)]),
    ("3FS+2d", [_link(3, lag=Lag(Duration(2 * D)))]),
    ("5SS-1d", [_link(5, LinkType.SS, Lag(Duration(-D)))]),
    ("7FF+50%", [_link(7, LinkType.FF, Lag(percent=50.0))]),
    ("12SF+1ed", [_link(12, LinkType.SF, Lag(Duration(1440.0, True, "ed")))]),
    ("3 FS + 2 days", [_link(3, lag=Lag(Duration(2 * D)))]),
    ("3fs+2d", [_link(3, lag=Lag(Duration(2 * D)))]),
    ("3+2d", [_link(3, lag=Lag(Duration(2 * D)))]),
    ("3FS+2d;5SS-1d", [_link(3, lag=Lag(Duration(2 * D))), _link(5, LinkType.SS, Lag(Duration(-D)))]),
    ("3, 4,5", [_link(3), _link(4), _link(5)]),
    ("3 4 5", [_link(3), _link(4), _link(5)]),
    ("3\n4\r\n5", [_link(3), _link(4), _link(5)]),
    ("3;;4,", [_link(3), _link(4)]),
    ("3FS+1,5d,4", [_link(3, lag=Lag(Duration(1.5 * D))), _link(4)]),
    ("3FS+1,5;4", [_link(3, lag=Lag(Duration(1.5 * D))), _link(4)]),
    ("3+2,5SS", [_link(3, lag=Lag(Duration(2 * D))), _link(5, LinkType.SS)]),
    ("3FS+0h", [_link(3)]),  # a zero lag is no lag
    ("4SS+0%", [_link(4, LinkType.SS)]),
    ("3FS-2d?", [_link(3, lag=Lag(Duration(-2 * D)))]),
    (3, [_link(3)]),
    (3.0, [_link(3)]),
    ("", []),
    (None, []),
]


@pytest.mark.parametrize(("text", "expected"), PREDECESSORS)
def test_parse_predecessors(text: object, expected: list[Link]) -> None:
    assert parse_predecessors(text, 9, origin="Tasks!F9") == (expected, [])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "good", "message"),
    [
        ("4XX+2", [], "'4XX+2' is not a predecessor: XX is not a link type"),
        ("3FS+", [], "'3FS+' is not a predecessor: the lag after + is missing"),
        ("3FS+2dyas", [], "the lag '+2dyas' is not a duration or percentage"),
        ("3FS4", [], "'3FS4' is not a predecessor"),
        ("abc", [], "'abc' is not a predecessor"),
        ("3, 4XX, 5SS", [3, 5], "'4XX' is not a predecessor"),
        ("3;Project1\\4", [3], "'Project1\\4' is not a predecessor"),
        (3.5, [], "3.5 is not a predecessor: a task ID is a whole number"),
        (-2, [], "-2 is not a predecessor"),
        ("#N/A", [], "cell shows an Excel error (#N/A)"),
    ],
)
def test_parse_predecessors_keeps_good_entries(text: object, good: list[int], message: str) -> None:
    links, errors = parse_predecessors(text, 9)  # type: ignore[arg-type]
    assert [link.predecessor for link in links] == good
    assert len(errors) == 1
    assert message in errors[0]


def test_format_predecessors() -> None:
    links, _ = parse_predecessors("3 fs + 2 days, 5SS-1d, 7FS, 8ff+50%, 9SF", 10)
    assert format_predecessors(links) == "3FS+2d;5SS-1d;7;8FF+50%;9SF"
    assert format_predecessors(links, separator=", ") == "3FS+2d, 5SS-1d, 7, 8FF+50%, 9SF"
    assert format_predecessors([]) == ""


# --- dates -------------------------------------------------------------------------------------

DATES = [
    ("2026-03-02", None, dt.datetime(2026, 3, 2, 8)),
    ("2026-03-02", True, dt.datetime(2026, 3, 2, 8)),  # ISO is never read day-first
    ("2026-03-02 13:00", None, dt.datetime(2026, 3, 2, 13)),
    ("2026-03-02T00:00", None, dt.datetime(2026, 3, 2, 0)),  # a typed midnight is kept
    ("20260302", True, dt.datetime(2026, 3, 2, 8)),
    ("02/03/2026", True, dt.datetime(2026, 3, 2, 8)),
    ("02/03/2026", False, dt.datetime(2026, 2, 3, 8)),
    ("13/03/2026", None, dt.datetime(2026, 3, 13, 8)),  # only one reading is a date
    ("03/03/2026", None, dt.datetime(2026, 3, 3, 8)),  # both readings agree
    ("2.3.26", True, dt.datetime(2026, 3, 2, 8)),
    ("3 Mar 2026", None, dt.datetime(2026, 3, 3, 8)),
    ("March 3, 2026", None, dt.datetime(2026, 3, 3, 8)),
    ("Tue 3/3/26", None, dt.datetime(2026, 3, 3, 8)),
    ("Mon 2/3/26", None, dt.datetime(2026, 3, 2, 8)),  # the weekday settles the order
    ("3 Mar 2026 5pm", None, dt.datetime(2026, 3, 3, 17)),
    ("02/03/2026 13:30", True, dt.datetime(2026, 3, 2, 13, 30)),
    (45500, None, dt.datetime(2024, 7, 27, 8)),
    (45500.5, None, dt.datetime(2024, 7, 27, 12)),
    ("45500", None, dt.datetime(2024, 7, 27, 8)),
    (dt.date(2026, 3, 2), None, dt.datetime(2026, 3, 2, 8)),
    (dt.datetime(2026, 3, 2), None, dt.datetime(2026, 3, 2, 8)),  # how Excel stores a date
    (dt.datetime(2026, 3, 2, 9, 29, 59, 900000), None, dt.datetime(2026, 3, 2, 9, 30)),
    ("1/1/00", True, dt.datetime(2000, 1, 1, 8)),
]


@pytest.mark.parametrize(("text", "day_first", "expected"), DATES)
def test_parse_date(text: object, day_first: bool | None, expected: dt.datetime) -> None:
    assert parse_date(text, day_first=day_first) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("today", dt.datetime(2026, 3, 3, 17)),
        ("Tomorrow", dt.datetime(2026, 3, 4, 17)),
        ("yesterday", dt.datetime(2026, 3, 2, 17)),
        ("next Tue", dt.datetime(2026, 3, 10, 17)),  # strictly after today, a Tuesday
        ("next wednesday", dt.datetime(2026, 3, 4, 17)),
        ("in 3 days", dt.datetime(2026, 3, 6, 17)),
        ("+2w", dt.datetime(2026, 3, 17, 17)),
        ("-1d", dt.datetime(2026, 3, 2, 17)),
        ("3 Mar", dt.datetime(2026, 3, 3, 17)),  # the year comes from the status date
    ],
)
def test_parse_relative_date(text: str, expected: dt.datetime) -> None:
    assert parse_date(text, day_first=None, today=TODAY, default_minute=17 * 60) == expected


@pytest.mark.parametrize(
    ("text", "day_first", "message"),
    [
        (
            "02/03/2026",
            None,
            "ambiguous: 02/03/2026 could be 2 March or 3 February; set Date order in Settings or type 2026-03-02",
        ),
        ("next Tue", True, "relative dates such as 'next Tue' need a status date"),
        ("today", True, "need a status date"),
        ("#REF!", True, "cell shows an Excel error (#REF!): fix the formula or type a date"),
        ("#NAME?", True, "cell shows an Excel error (#NAME?)"),
        ("32/13/2026", True, "'32/13/2026' is not a date"),
        ("2026-02-30", True, "no such day"),
        ("Mon 3/3/26", True, "2026-03-03 is a Tuesday, not a Monday"),
        ("3 Mar", True, "has no year"),
        ("March 2026", True, "needs a day, a month and a year"),
        ("3 Mar 1850", True, "outside the years 1900-2200"),
        ("2026/3/2 noonish", True, "write it as 2026-03-02"),
        ("", True, "the date is empty"),
        (-5, True, "is not a date"),
        (True, True, "is not a date"),
        ("abc", False, "'abc' is not a date"),
        (dt.datetime.max, None, "outside the years"),
    ],
)
def test_parse_date_rejects(text: object, day_first: bool | None, message: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_date(text, day_first=day_first)  # type: ignore[arg-type]
    assert message in str(caught.value)


def test_relative_date_out_of_range() -> None:
    with pytest.raises(InputError, match="outside the years"):
        parse_date("-99999w", day_first=None, today=dt.date(1, 1, 1))


def test_format_date() -> None:
    assert format_date(dt.datetime(2026, 3, 2, 13)) == "2026-03-02 13:00"
    assert format_date(dt.datetime(2026, 3, 2, 17), default_minute=17 * 60) == "2026-03-02"
    assert format_date(dt.date(2026, 3, 2)) == "2026-03-02"


# --- % complete and constraints ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("50%", 50.0),
        ("50", 50.0),
        ("50 %", 50.0),
        ("0.5", 0.5),  # text without % is a percentage
        (0.5, 50.0),  # a float from 0 to 1 is a fraction: Excel stores 50% as 0.5
        (1.0, 100.0),
        (0.07, 7.0),
        (1, 1.0),  # an int is a percentage
        (50, 50.0),
        (75.0, 75.0),
        ("12,5%", 12.5),
        ("", 0.0),
        (None, 0.0),
    ],
)
def test_parse_percent(value: object, expected: float) -> None:
    assert parse_percent(value) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["101", "120%", "-1", -0.5, "abc", "%", float("nan"), True, "#VALUE!"])
def test_parse_percent_rejects(value: object) -> None:
    with pytest.raises(InputError):
        parse_percent(value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SNET", ConstraintType.SNET),
        ("snet", ConstraintType.SNET),
        ("Start No Earlier Than", ConstraintType.SNET),
        ("start-not-earlier-than", ConstraintType.SNET),
        ("as soon as possible", ConstraintType.ASAP),
        ("As Late As Possible", ConstraintType.ALAP),
        ("Must Start On", ConstraintType.MSO),
        ("must finish on", ConstraintType.MFO),
        ("Finish No Later Than", ConstraintType.FNLT),
        (" fnet ", ConstraintType.FNET),
        ("", ConstraintType.ASAP),
        (None, ConstraintType.ASAP),
        (ConstraintType.SNLT, ConstraintType.SNLT),
    ],
)
def test_parse_constraint_type(text: object, expected: ConstraintType) -> None:
    assert parse_constraint_type(text) is expected  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["Start Earlier", "xyz", 4, "#REF!"])
def test_parse_constraint_type_rejects(text: object) -> None:
    with pytest.raises(InputError, match=r"constraint type|Excel error"):
        parse_constraint_type(text)  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", list(ConstraintType))
def test_constraint_round_trip(kind: ConstraintType) -> None:
    assert parse_constraint_type(format_constraint_type(kind)) is kind
    assert parse_constraint_type(format_constraint_type(kind, long=True)) is kind


def test_input_error_is_a_value_error() -> None:
    assert issubclass(InputError, ValueError)


# --- properties --------------------------------------------------------------------------------

_PIECES = st.sampled_from(
    [*UNIT_ALIASES, "elapsed", " ", ",", ";", ".", "+", "-", "%", "?", "\n", "fs", "ss", "ff", "sf", "xx",
     "/", ":", "#REF!", "today", "next", "tue", "mar", "in", "pm", "t", "\u2212", "\u00a0"]
)  # fmt: skip
_NUMBERS = st.integers(min_value=0, max_value=100_000).map(str)
#: Text shaped like what people type, to reach deep into the grammars, plus arbitrary text.
TEXT = st.one_of(st.text(max_size=40), st.lists(st.one_of(_PIECES, _NUMBERS), max_size=12).map("".join))
VALUES = st.one_of(
    TEXT,
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.dates(),
    st.datetimes(),
)


@given(VALUES)
def test_duration_lag_percent_constraint_raise_only_input_error(value: object) -> None:
    for parse in (parse_duration, parse_lag, parse_percent, parse_constraint_type):
        with contextlib.suppress(InputError):
            parse(value)  # type: ignore[operator]


@given(VALUES, st.integers(min_value=1, max_value=10**6))
def test_predecessors_never_raise(value: object, successor: int) -> None:
    links, errors = parse_predecessors(value, successor)  # type: ignore[arg-type]
    assert all(link.successor == successor for link in links)
    assert all(isinstance(error, str) and error for error in errors)


@given(VALUES, st.sampled_from([None, True, False]), st.one_of(st.none(), st.dates()))
def test_dates_raise_only_input_error(value: object, day_first: bool | None, today: dt.date | None) -> None:
    try:
        result = parse_date(value, day_first=day_first, today=today)  # type: ignore[arg-type]
    except InputError:
        return
    assert 1900 <= result.year <= 2200
    assert result.second == result.microsecond == 0 and result.tzinfo is None


_SETTINGS = st.fixed_dictionaries(
    {
        "minutes_per_day": st.integers(min_value=1, max_value=1440),
        "minutes_per_week": st.integers(min_value=1, max_value=10080),
        "days_per_month": st.integers(min_value=1, max_value=31),
    }
)
_AMOUNTS = st.one_of(
    st.integers(min_value=0, max_value=10**6).map(str),
    st.decimals(min_value=0, max_value=10**5, places=4, allow_nan=False, allow_infinity=False).map(str),
    st.floats(min_value=0, max_value=1e6, allow_nan=False).map(lambda x: format(x, "f")),
)


@given(_AMOUNTS, st.sampled_from(sorted(UNIT_ALIASES)), _SETTINGS)
def test_duration_round_trip(amount: str, unit: str, plan: dict[str, int]) -> None:
    duration = parse_duration(f"{amount} {unit}", **plan)
    text = format_duration(duration, **plan)
    assert parse_duration(text, **plan) == duration
    assert format_duration(parse_duration(text, **plan), **plan) == text


@given(st.sampled_from(["+", "-", ""]), _AMOUNTS, st.sampled_from([*sorted(UNIT_ALIASES), "%"]), _SETTINGS)
def test_lag_round_trip(sign: str, amount: str, unit: str, plan: dict[str, int]) -> None:
    lag = parse_lag(f"{sign}{amount}{unit}", **plan)
    assert parse_lag(format_lag(lag, **plan), **plan) == lag


_LAG_VALUES = st.builds(
    lambda sign, amount, unit: parse_lag(f"{sign}{amount}{unit}"),
    st.sampled_from(["+", "-"]),
    _AMOUNTS,
    st.sampled_from(["d", "h", "w", "m", "mo", "ed", "eh", "ew", "em", "emo", "%"]),
).map(lambda lag: Lag() if lag.is_zero else lag)


@given(
    st.lists(st.tuples(st.integers(min_value=0, max_value=10**6), st.sampled_from(LinkType), _LAG_VALUES)),
    st.sampled_from([";", ",", ", ", "\n"]),
    st.one_of(st.none(), st.just("Tasks!F4")),
)
def test_predecessors_round_trip(entries: list[tuple[int, LinkType, Lag]], separator: str, origin: str | None) -> None:
    links = [Link(pred, 7, kind, lag, origin) for pred, kind, lag in entries]
    text = format_predecessors(links, separator=separator)
    assert parse_predecessors(text, 7, origin=origin) == (links, [])


@given(
    st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2200, 12, 31, 23, 59)).map(
        lambda value: value.replace(second=0, microsecond=0)
    ),
    st.sampled_from([None, True, False]),
    st.integers(min_value=0, max_value=1439),
)
def test_date_round_trip(value: dt.datetime, day_first: bool | None, default_minute: int) -> None:
    assert parse_date(format_date(value), day_first=day_first) == value
    short = format_date(value, default_minute=default_minute)
    assert parse_date(short, day_first=day_first, default_minute=default_minute) == value


@given(st.floats(min_value=0, max_value=100))
def test_percent_round_trip(value: float) -> None:
    assert parse_percent(format_percent(value)) == value


@given(st.floats(min_value=0, max_value=1))
def test_percent_fraction_matches_text(fraction: float) -> None:
    assert 0 <= parse_percent(fraction) <= 100


def _check_by_rounding(value: dt.datetime) -> dt.datetime:
    """The rule spelled out: years in range, rounded to the nearest minute, the time zone dropped."""
    from wbs_tools.core.dates import MAX_YEAR, MIN_YEAR

    for _ in range(2):
        if not MIN_YEAR <= value.year <= MAX_YEAR:
            raise InputError("out of range")
        rounded = value.replace(second=0, microsecond=0, tzinfo=None)
        value = rounded + dt.timedelta(minutes=1) if value.second >= 30 else rounded
    return value


@settings(max_examples=500, deadline=None)
@given(st.datetimes(timezones=st.none() | st.just(dt.timezone.utc))
       | st.datetimes().map(lambda v: v.replace(second=0, microsecond=0)))
def test_whole_minutes_skip_the_rounding_and_agree_with_it(value: dt.datetime) -> None:
    from wbs_tools.core.dates import _check

    try:
        expected: dt.datetime | None = _check_by_rounding(value)
    except InputError:
        expected = None
    if expected is None:
        with pytest.raises(InputError):
            _check(value, value)
    else:
        assert _check(value, value) == expected

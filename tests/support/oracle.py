"""Plans rebuilt from the corpus' ``.expected.json`` files, and comparison with MS Project's dates.

The corpus keeps, beside each MSPDI file, the inputs and the values Microsoft Project computed, in a
neutral JSON form. Rebuilding the plan from that JSON tests the scheduler independently of the MSPDI
reader; the conformance test runs both ways.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

from wbs_tools.core.model import (
    Baseline,
    CalendarSpec,
    ConstraintType,
    Duration,
    Lag,
    Link,
    LinkType,
    Plan,
    Settings,
    Task,
    WorkingTime,
)
from wbs_tools.core.schedule import Schedule

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "mspdi"
DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_ = Baseline


def corpus_files(tier: str | None = None) -> list[Path]:
    tiers = [tier] if tier else ["A", "B", "C"]
    return sorted(p for t in tiers for p in (CORPUS / t).glob("*.xml"))


def expected_of(xml: Path) -> dict:
    return json.loads(xml.with_name(xml.name[:-4] + ".expected.json").read_text())


def _dt(text: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text) if text else None


def _minute(text: str) -> int:
    h, m, *_ = (int(x) for x in text.split(":"))
    return 1440 if (h, m) == (0, 0) else h * 60 + m


def _times(pairs: list) -> tuple[WorkingTime, ...]:
    out = []
    for a, b in pairs:
        s, e = _minute(a), _minute(b)
        if a.startswith("00:00"):
            s = 0
        out.append(WorkingTime(s, e))
    return tuple(out)


def _calendars(data: dict) -> dict[str, CalendarSpec]:
    raw = {c["uid"]: c for c in data.get("calendars") or []}
    out: dict[str, CalendarSpec] = {}

    def week_of(c: dict) -> dict[int, tuple[WorkingTime, ...]]:
        base = week_of(raw[c["base_uid"]]) if c.get("base_uid") in raw else {}
        week = dict(base)
        for i, name in enumerate(DAYS):
            day = (c.get("weekdays") or {}).get(name)
            if day is None or day.get("working") is None:
                continue
            week[i] = _times(day["times"]) if day["working"] else ()
        return week

    def exceptions_of(c: dict) -> dict[dt.date, tuple[WorkingTime, ...]]:
        base = exceptions_of(raw[c["base_uid"]]) if c.get("base_uid") in raw else {}
        exc = dict(base)
        for e in c.get("day_exceptions") or []:
            d0, d1 = _dt(e["from"]).date(), _dt(e["to"]).date()
            while d0 <= d1:
                exc[d0] = _times(e["times"]) if e["working"] else ()
                d0 += dt.timedelta(days=1)
        return exc

    for uid, c in raw.items():
        out[str(uid)] = CalendarSpec(name=str(uid), week=week_of(c), exceptions=exceptions_of(c), uid=uid)
    return out


def plan_from_expected(data: dict) -> Plan:
    p = data["project"]
    settings = Settings(
        project_name=p.get("name") or "",
        start=_dt(p["start_date"]),
        status_date=_dt(p.get("status_date")),
        calendar=str(p.get("calendar_uid")),
        minutes_per_day=int(p.get("minutes_per_day") or 480),
        minutes_per_week=int(p.get("minutes_per_week") or 2400),
        days_per_month=int(p.get("days_per_month") or 20),
        critical_slack_minutes=float(p.get("critical_slack_limit") or 0) * 480,
        multiple_critical_paths=bool(p.get("multiple_critical_paths")),
        honor_constraints=bool(p.get("honor_constraints", True)),
    )
    calendars = _calendars(data)
    tasks, links = [], []
    by_uid = {t["uid"]: t for t in data["tasks"]}
    for t in data["tasks"]:
        if t["outline_level"] == 0 or t.get("is_null") or t.get("external"):
            continue
        cal = t.get("calendar_uid")
        tasks.append(Task(
            id=t["id"], uid=t["uid"], name=t.get("name") or "", outline_level=t["outline_level"],
            duration=Duration(float(t.get("duration_min") or 0), bool(t.get("duration_elapsed"))),
            milestone=bool(t.get("milestone")), manual=bool(t.get("manual")),
            manual_start=_dt(t.get("start")) if t.get("manual") else None,
            manual_finish=_dt(t.get("finish")) if t.get("manual") else None,
            constraint=ConstraintType(t.get("constraint_type") or "ASAP"),
            constraint_date=_dt(t.get("constraint_date")), deadline=_dt(t.get("deadline")),
            calendar=str(cal) if cal not in (None, -1) and str(cal) in calendars else None,
            percent_complete=float(t.get("percent_complete") or 0),
            actual_start=_dt(t.get("actual_start")), actual_finish=_dt(t.get("actual_finish")),
            remaining_duration=(Duration(float(t["remaining_duration_min"]))
                                if t.get("remaining_duration_min") is not None else None),
            active=t.get("active", True) is not False,
        ))
        for pr in t.get("predecessors") or []:
            pred = by_uid.get(pr["pred_uid"])
            if pred is None or pr.get("cross_project"):
                continue
            if pr.get("lag_unit") == "%":
                lag = Lag(percent=float(pr["lag_percent"]))
            else:
                lag = Lag(Duration(float(pr.get("lag_minutes") or 0), bool(pr.get("lag_elapsed"))))
            links.append(Link(pred["id"], t["id"], LinkType(pr["type"]), lag))
    return Plan(settings, tasks, links, calendars)


FIELDS = ("early_start", "early_finish", "late_start", "late_finish")


@dataclass
class Comparison:
    tasks: int = 0
    matched: int = 0
    mismatches: list[str] = field(default_factory=list)

    @property
    def exact(self) -> bool:
        return self.tasks > 0 and self.matched == self.tasks


def compare(schedule: Schedule, data: dict) -> Comparison:
    """Per task: early/late dates to the minute and total slack, against MS Project's values."""
    got = {t.uid: t for t in schedule.tasks}
    result = Comparison()
    for t in data["tasks"]:
        if t["outline_level"] == 0 or t.get("is_null") or t.get("external") or t["uid"] not in got:
            continue
        if t.get("manual") or t.get("active") is False:
            continue
        result.tasks += 1
        mine = got[t["uid"]]
        bad = []
        for f in FIELDS:
            want = _dt(t.get(f))
            have = getattr(mine, f)
            if want is not None and have != want:
                bad.append(f"{f} {have} != {want}")
        if t.get("total_slack_min") is not None and abs(mine.total_slack_minutes - t["total_slack_min"]) > 0.5:
            bad.append(f"slack {mine.total_slack_minutes} != {t['total_slack_min']}")
        if bad:
            result.mismatches.append(f"uid {t['uid']} {t.get('name')!r}: " + "; ".join(bad))
        else:
            result.matched += 1
    return result

"""A realistic sample plan: an ERP data migration for a customer, a third of the way through.

It feeds ``workbook_templates/sample_plan.xlsx`` and is reused by reader, scheduler and status-report
tests, so it is built in code rather than read from a file. Baseline dates are what the scheduler
gives the agreed durations; progress is what it gives the revised durations, cut at the status date,
so actuals, slips and links always agree with each other.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from xlsxwriter.utility import xl_col_to_name

from wbs_tools.core.cpm import schedule
from wbs_tools.core.model import (
    STANDARD_DAY,
    Baseline,
    CalendarSpec,
    ConstraintType,
    Duration,
    Link,
    LinkType,
    Plan,
    Settings,
    Task,
)
from wbs_tools.core.parsing import parse_lag, parse_predecessors
from wbs_tools.workbook.layout import DEPENDENCIES, TASKS

START = dt.datetime(2026, 1, 5, 8)  # a Monday
STATUS_DATE = dt.datetime(2026, 2, 27, 17)  # a Friday, about a third of the way through
PM, ETL, BA, ARCH, QA = "Priya Shah", "Tom Becker", "Sallie Ortiz", "Ken Adeyemi", "Mara Novak"
CUSTOMER, VENDOR = "Jo Whitfield", "DataBridge (vendor)"
DAY_RATES = {PM: 900, ETL: 850, BA: 700, ARCH: 800, QA: 650}

# (outline level, name, days, agreed days or None, predecessors, owner, extras); ID = position + 1.
_TASKS: tuple[tuple[int, str, float, float | None, str, str | None, dict[str, object]], ...] = (
    (1, "Initiation", 0, None, "", None, {}),
    (2, "Kick-off meeting", 1, None, "", PM, {}),
    (2, "Project charter and plan agreed", 3, None, "2", PM, {}),
    (2, "Environments requested", 2, None, "3SS+1d", ARCH, {}),
    (2, "Initiation complete", 0, None, "3;4", PM, {}),
    (1, "Discovery & requirements", 0, None, "", None, {}),
    (2, "Source system inventory", 5, None, "5", ARCH, {}),
    (2, "Data profiling of legacy ERP", 11, 8, "7SS+2d", ETL, {"notes": "Full order history timed out"}),
    (2, "Stakeholder workshops", 6, None, "7", BA, {}),
    (2, "Business rules & acceptance criteria", 7, 5, "9", BA, {}),
    (2, "Data quality baseline report", 3, None, "8", QA, {}),
    (2, "Requirements signed off", 0, None, "10;11", CUSTOMER, {}),
    (1, "Design", 0, None, "", None, {}),
    (2, "Target data model mapping", 8, None, "12", ARCH, {}),
    (2, "Migration approach & tooling", 4, None, "12", ETL, {}),
    (2, "Reconciliation design", 4, None, "14FF+1d", QA, {}),
    (2, "Cutover strategy draft", 10, 5, "16", PM, {"notes": "Extended: two extra rounds with Operations"}),
    (2, "Design approved", 0, None, "14;16;17", CUSTOMER, {}),
    (1, "Build", 0, None, "", None, {}),
    (2, "ETL platform licence & install", 3, None, "15", VENDOR,
     {"constraint": ConstraintType.SNET, "constraint_date": dt.datetime(2026, 3, 2, 8), "cost": 18000.0,
      "notes": "Vendor delivery slot agreed in the contract"}),
    (2, "ETL mappings", 0, None, "", None, {}),
    (3, "Customers & contacts", 9, 6, "18", ETL, {"notes": "Re-estimated after duplicate customers (I-001)"}),
    (3, "Products & price lists", 8, None, "22SS+2d", ETL, {}),
    (3, "Open sales & purchase orders", 7, None, "22", ETL, {}),
    (3, "Inventory balances", 5, None, "23SS+3d", ETL, {}),
    (3, "Open AR/AP & GL balances", 8, None, "24", ETL, {}),
    (2, "Data quality rules", 0, None, "", None, {}),
    (3, "Cleansing rules: duplicates & addresses", 5, None, "14", BA, {}),
    (3, "Validation rules: mandatory fields & codes", 6, 4, "28", BA, {}),
    (3, "Data quality dashboard", 3, None, "29FF+1d", QA, {}),
    (2, "Reconciliation reports", 5, None, "26SS+3d", QA, {}),
    (2, "Build complete", 0, None, "25;26;30;31", ETL, {}),
    (1, "Test cycles", 0, None, "", None, {}),
    (2, "System integration test (SIT)", 0, None, "", None, {}),
    (3, "SIT scripts prepared", 4, None, "18", QA, {}),
    (3, "SIT execution", 8, None, "32;35", QA, {}),
    (3, "SIT defect fixing", 6, None, "36FF+2d", ETL, {}),
    (2, "Mock loads", 0, None, "", None, {}),
    (3, "Mock load 1", 3, None, "37", ETL, {}),
    (3, "Mock 1 reconciliation & fixes", 5, None, "39", QA, {}),
    (3, "Mock load 2", 3, None, "40", ETL, {}),
    (3, "Mock 2 reconciliation & fixes", 4, None, "41", QA, {}),
    (3, "Mock load 3 (dress rehearsal)", 2, None, "42", ETL, {}),
    (2, "User acceptance test (UAT)", 0, None, "", None, {}),
    (3, "UAT training & scripts", 3, None, "", BA, {}),
    (3, "UAT execution", 10, None, "41;45", CUSTOMER, {}),
    (3, "UAT defect fixing", 5, None, "46SS+5d", ETL, {}),
    (3, "UAT sign-off", 0, None, "47", CUSTOMER, {}),
    (1, "Cutover", 0, None, "", None, {}),
    (2, "Go/no-go decision", 0, None, "48", CUSTOMER, {}),
    (2, "Freeze legacy ERP", 1, None, "50", ETL, {"calendar": "Cutover"}),
    (2, "Final extract & load", 3, None, "51", ETL, {"calendar": "Cutover"}),
    (2, "Reconciliation & business validation", 1, None, "52", QA, {"calendar": "Cutover"}),
    (2, "Go-live", 0, None, "53", PM, {"calendar": "Cutover", "deadline": dt.datetime(2026, 5, 29, 17)}),
    (1, "Hypercare", 0, None, "", None, {}),
    (2, "Hypercare support", 15, None, "54", ETL, {}),
    (2, "Legacy ERP switched to read-only archive", 3, None, "56SS+10d", ARCH, {}),
    (2, "Lessons learned", 1, None, "56", PM, {}),
    (2, "Handover to customer success", 1, None, "58", PM, {}),
    (2, "Project closed", 0, None, "57;59", PM, {}),
)
# Links typed on the Dependencies sheet, with the reason: (predecessor, successor, type, lag, note).
_DEPENDENCIES = (
    (20, 22, "FS", "", "Mappings run on the vendor platform"),
    (16, 31, "FS", "", "Reports follow the agreed reconciliation design"),
    (37, 45, "SS", "2d", "Trainers reuse the SIT scripts"),
    (43, 48, "FS", "", "UAT sign-off needs the dress-rehearsal timings"),
)
# Exceptions to the working week: (calendar or None for all, date, name, working?).
_HOLIDAYS = (
    (None, dt.date(2026, 4, 24), "Company offsite", False),
    ("Standard", dt.date(2026, 3, 21), "Saturday build catch-up (agreed)", True),
)


def _calendars() -> dict[str, CalendarSpec]:
    calendars = {
        "Standard": CalendarSpec("Standard", country="GB", subdivision="ENG"),
        "Cutover": CalendarSpec("Cutover", {d: STANDARD_DAY for d in range(7)}, country="GB", subdivision="ENG"),
    }
    for name, date, _, working in _HOLIDAYS:
        for calendar in calendars.values() if name is None else (calendars[name],):
            calendar.exceptions[date] = STANDARD_DAY if working else ()
    return calendars


def _links(first_data_row: int) -> list[Link]:
    column = TASKS.column_number("predecessors")
    links = []
    for number, row in enumerate(_TASKS, start=1):
        cell = f"Tasks!{xl_col_to_name(column - 1)}{first_data_row + number - 1}"
        links.extend(parse_predecessors(row[4], number, origin=cell)[0] if row[4] else [])
    for offset, (pred, succ, kind, lag, _) in enumerate(_DEPENDENCIES):
        origin = f"Dependencies!A{DEPENDENCIES.header_row + 1 + offset}"
        links.append(Link(pred, succ, LinkType(kind), parse_lag(lag), origin))
    return links


def _working_days(first: dt.date, last: dt.date) -> int:
    return sum((first + dt.timedelta(n)).weekday() < 5 for n in range((last - first).days + 1))


def sample_plan() -> Plan:
    """The migration plan with baselines, actuals up to the status date and costs."""
    settings = Settings(project_name="Northwind Foods ERP data migration", start=START,
                        status_date=STATUS_DATE, currency="GBP")
    tasks = []
    for number, (level, name, days, _, _, owner, extras) in enumerate(_TASKS, start=1):
        summary = number < len(_TASKS) and _TASKS[number][0] > level
        rate = DAY_RATES.get(owner or "")
        fields: dict[str, object] = {"cost": days * rate if rate and days else None, **extras}
        tasks.append(Task(number, name, level, None if summary else Duration(days * 480.0), owner=owner,
                          milestone=not summary and days == 0, **fields))  # type: ignore[arg-type]
    plan = Plan(settings, tasks, _links(TASKS.header_row + 1), _calendars())

    agreed = dataclasses.replace(plan, tasks=[
        dataclasses.replace(t, duration=Duration(row[3] * 480.0)) if row[3] is not None else t
        for t, row in zip(plan.tasks, _TASKS, strict=True)
    ])
    for task, planned in zip(plan.tasks, schedule(agreed).tasks, strict=True):
        minutes = None if task.duration is None else agreed.task_by_id()[task.id].duration.minutes  # type: ignore[union-attr]
        task.baselines[0] = Baseline(planned.start, planned.finish, minutes, task.cost)
    for task, forecast in zip(plan.tasks, schedule(plan).tasks, strict=True):
        if forecast.summary or forecast.start is None or forecast.start > STATUS_DATE:
            continue
        task.actual_start = forecast.start
        if forecast.finish is not None and forecast.finish <= STATUS_DATE:
            task.actual_finish, task.percent_complete = forecast.finish, 100.0
        elif task.duration is not None:
            done = _working_days(forecast.start.date(), STATUS_DATE.date()) * 480 / task.duration.minutes
            task.percent_complete = float(min(95, 5 * round(20 * done)))
        rate = DAY_RATES.get(task.owner or "", 0)
        if task.duration is not None:
            task.actual_cost = round(task.percent_complete / 100 * task.duration.minutes / 480 * rate)
    return plan


def _rows(keys: str, *rows: tuple[object, ...]) -> list[dict[str, object]]:
    names = keys.split()
    return [dict(zip(names, row, strict=True)) for row in rows]


def _d(month: int, day: int) -> dt.date:
    return dt.date(2026, month, day)


def sample_registers() -> dict[str, list[dict[str, object]]]:
    """Register rows keyed by sheet name, with layout column keys; inputs only.

    "Dependencies" and "Calendar" (its holidays table) carry the notes and names the plan model has
    no place for; they describe the same links and exceptions as ``sample_plan()``.
    """
    return {
        "Dependencies": _rows("predecessor_id successor_id type lag note", *(
            (pred, succ, kind, lag or None, note) for pred, succ, kind, lag, note in _DEPENDENCIES)),
        "Calendar": _rows("calendar date name working", *(
            (cal, day, name, "Yes" if working else "No") for cal, day, name, working in _HOLIDAYS)),
        "Action Items": _rows(
            "id action owner needed_by waits_on raised_on due_date status done_date notes",
            ("A-001", "Send Sallie the legacy customer field list", ETL, BA, None, _d(1, 9), _d(1, 14),
             "Done", _d(1, 13), None),
            ("A-002", "Provide a production-size extract for profiling", ETL, "8", None, _d(1, 9), _d(1, 12),
             "Done", _d(1, 15), "Late: DBA approval needed"),
            ("A-003", "Confirm the target customer-number format", ARCH, "14", None, _d(1, 28), _d(2, 6),
             "Done", _d(2, 10), None),
            ("A-004", "Confirm the retention policy in writing (Legal)", PM, ARCH, None, _d(2, 2), _d(2, 11),
             "In progress", None, "Legal asked for the data inventory"),
            ("A-005", "Approve the retention rule for closed orders older than 7 years", CUSTOMER, ARCH,
             "A-004", _d(2, 2), _d(2, 13), "Waiting", None, None),
            ("A-006", "Nominate UAT testers from Sales and Finance", CUSTOMER, "45", None, _d(2, 4),
             _d(2, 20), "Open", None, "Chased on the 24th"),
            ("A-007", "Set up the defect tracker project and workflow", QA, "35", None, _d(2, 9), _d(2, 27),
             "Done", _d(2, 25), None),
            ("A-008", "Issue ETL platform licence keys", VENDOR, "20", None, _d(2, 16), _d(2, 27), "Open",
             None, "Needed before the install slot on 2 March"),
            ("A-009", "Share reconciliation report mock-ups with Finance", QA, "31", "A-003", _d(2, 12),
             _d(3, 4), "Open", None, None),
            ("A-010", "Book the mock-load weekend with Infrastructure", PM, "39", None, _d(2, 20), _d(3, 13),
             "Open", None, None),
            ("A-011", "Confirm go-live blackout dates with Operations", CUSTOMER, "50", "A-010", _d(2, 23),
             _d(3, 20), "Open", None, None),
            ("A-012", "Circulate workshop minutes for approval", BA, CUSTOMER, None, _d(1, 23), _d(1, 27),
             "Done", _d(1, 26), None),
        ),
        "Issue Log": _rows(
            "id reported_by reported_on what where how_to_replicate severity priority owner status "
            "resolved_on resolution",
            ("I-001", BA, _d(1, 21), "312 groups of customers share one VAT number", "8",
             "Profiling query DQ-07 on the 19 Jan extract", "High", "P1", ETL, "In progress", None, None),
            ("I-002", QA, _d(1, 22), "Profiling job times out on the full order history", "Legacy extract",
             "Run profile_orders with no date filter", "Medium", "P2", ETL, "Resolved", _d(1, 27),
             "Extract partitioned by year"),
            ("I-003", CUSTOMER, _d(1, 29), "Price lists in legacy carry no currency", "Products",
             "Compare PRICE_HDR with the sales price report", "High", "P2", ARCH, "Waiting", None,
             "Customer to confirm the currency per list"),
            ("I-004", QA, _d(2, 3), "Dates before 1990 load as 1900-01-00", "Open orders",
             "Load test file orders_1989.csv into staging", "Medium", "P3", ETL, "Open", None, None),
            ("I-005", BA, _d(2, 5), "Address line 3 truncated to 35 characters", "Customers",
             "Mapping sheet row 44 against the target field length", "Low", "P4", ARCH, "Closed", _d(2, 9),
             "Accepted: target allows 35; trimmed with a warning"),
            ("I-006", ETL, _d(2, 10), "Staging database runs out of space during a full load", "Environments",
             "Full load of customers and orders into STG01", "Critical", "P1", ARCH, "Resolved", _d(2, 11),
             "Disk extended to 2 TB"),
            ("I-007", CUSTOMER, _d(2, 12), "Inactive customers still appear in the credit report", "Customers",
             "Credit report filtered on status I in the test ERP", "Medium", "P3", ETL, "Open", None, None),
            ("I-008", QA, _d(2, 18), "GL account mapping misses 14 legacy cost centres", "26",
             "Reconcile the cost centre list with mapping v0.3", "High", "P2", ARCH, "Open", None, None),
            ("I-009", PM, _d(2, 20), "Vendor install slot may move a week", "20",
             "Vendor email of 20 Feb", "High", "P1", PM, "In progress", None, None),
            ("I-010", BA, _d(2, 25), "Unit of measure 'BX12' has no target equivalent", "Products",
             "Profile UOM codes in ITEM_MASTER", "Low", "P3", BA, "Open", None, None),
        ),
        "Requirements": _rows(
            "id title rule source priority status linked_tasks decided_by",
            ("R-001", "One customer per VAT number", "Customers sharing a VAT number are merged; the most "
             "recently active record wins. Test: no duplicate VAT numbers after load.", "Workshop 1", "Must",
             "Agreed", "22;28", CUSTOMER),
            ("R-002", "Closed orders older than 7 years are archived", "Orders closed before 2019-01-01 go to "
             "the archive, not the ERP.", "Legal", "Must", "Proposed", "24", CUSTOMER),
            ("R-003", "Open orders keep their numbers", "Open sales and purchase orders keep the legacy order "
             "number as the external reference.", "Workshop 2", "Must", "Agreed", "24", CUSTOMER),
            ("R-004", "Balances reconcile to the penny", "AR, AP and GL balances per account equal the legacy "
             "trial balance at cutover.", "Finance", "Must", "Agreed", "26;31", CUSTOMER),
            ("R-005", "Addresses are validated", "Postcodes are checked against the postal file; failures "
             "are listed, not blocked.", "Workshop 1", "Should", "Agreed", "28", CUSTOMER),
            ("R-006", "Price lists carry a currency", "Every migrated price list has a currency; GBP when the "
             "customer confirms none.", "I-003", "Must", "Draft", "23", None),
            ("R-007", "Inventory by lot", "Inventory balances load per warehouse, bin and lot.", "Operations",
             "Must", "Agreed", "25", CUSTOMER),
            ("R-008", "Data quality dashboard", "Daily counts of rejected records per rule during mock loads.",
             "Workshop 3", "Should", "Agreed", "30", PM),
            ("R-009", "Inactive customers excluded", "Customers with no activity for 3 years are not "
             "migrated.", "Workshop 2", "Could", "Deferred", "22", CUSTOMER),
            ("R-010", "Cutover within one weekend", "Legacy frozen Friday 18:00, ERP open Monday 08:00.",
             "Steering committee", "Must", "Agreed", "51;52;53", CUSTOMER),
        ),
        "Sign-off": _rows(
            "item_id validated_by date result anomalies",
            ("12", CUSTOMER, _d(2, 3), "Accepted", None),
            ("R-001", CUSTOMER, _d(2, 4), "Accepted", None),
            ("R-003", CUSTOMER, _d(2, 4), "Accepted with anomalies", "Orders created on the cutover weekend "
             "get new numbers; Sales informed"),
            ("R-005", "Ann Li (Sales ops)", _d(2, 6), "Accepted with anomalies", "2% of postcodes fail the "
             "postal file; listed for the service desk"),
            ("R-007", "Ravi Patel (Warehouse)", _d(2, 11), "Rejected", "Consignment stock not covered"),
            ("18", CUSTOMER, _d(2, 27), "Accepted with anomalies", "Design approved except cutover strategy, "
             "due 2 March"),
        ),
    }

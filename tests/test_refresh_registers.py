"""The registers through a real refresh of the sample workbook: computed flags, change capture, sign-off."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from support.libreoffice import soffice
from wbs_tools.refresh import Outcome, refresh_workbook
from wbs_tools.workbook import register_sheets
from wbs_tools.workbook.computed import column_letter
from wbs_tools.workbook.layout import ACTIONS, CHANGE_LOG, REQUIREMENTS, SIGN_OFF, STATUS_SNAPSHOT
from wbs_tools.workbook.lossless import write_workbook
from wbs_tools.workbook.reader import read_workbook

SAMPLE = Path(__file__).resolve().parents[1] / "workbook_templates" / "sample_plan.xlsx"
FRIDAY = dt.datetime(2026, 2, 27, 17)


@pytest.fixture
def plan(tmp_path: Path) -> Path:
    path = tmp_path / "plan.xlsx"
    shutil.copy(SAMPLE, path)
    assert refresh_workbook(path, status_date=FRIDAY, backup=False).outcome is Outcome.REFRESHED
    return path


def _rows(path: Path, layout) -> list[dict[str, object]]:
    return read_workbook(path).registers[layout.name]


def _type(path: Path, layout, row: int, key: str, value: object) -> None:
    """What a person does in Excel: change one input cell."""
    table = read_workbook(path).table(layout)
    assert table is not None and not layout.column(key).computed
    write_workbook(path, edits={table.sheet: {f"{column_letter(table.columns[key])}{row}": value}}, backup=False)


def _computed(path: Path, layout, row: int) -> dict[str, object]:
    table = read_workbook(path).table(layout)
    sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(table.sheet).to_python(skip_empty_area=False)
    return {c.key: sheet[row - 1][table.columns[c.key] - 1] for c in layout.columns if c.computed}


def test_action_flags_are_written_in_working_days(plan: Path) -> None:
    rows = {r["id"]: r for r in _rows(plan, ACTIONS)}
    overdue = {k: _computed(plan, ACTIONS, r["_row"])["days_overdue"] for k, r in rows.items()}
    assert overdue["A-001"] in (0, 0.0)  # done
    late = {k for k, v in overdue.items() if v and float(v) > 0}
    assert late, "the sample has overdue actions"
    # due Fri 13 Feb, status Fri 27 Feb: 10 working days (no holiday in between)
    assert float(overdue["A-005"]) == 10


def test_a_requirement_edit_is_logged_once_with_old_and_new(plan: Path) -> None:
    before = _rows(plan, CHANGE_LOG)
    req = next(r for r in _rows(plan, REQUIREMENTS) if r["id"] == "R-002")
    _type(plan, REQUIREMENTS, req["_row"], "priority", "Could")
    week2 = dt.datetime(2026, 3, 6, 17)
    assert refresh_workbook(plan, status_date=week2, backup=False).outcome is Outcome.REFRESHED
    after = _rows(plan, CHANGE_LOG)
    new = after[len(before):]
    assert [(e["requirement_id"], e["field"], e["old_value"], e["new_value"]) for e in new] == [
        ("R-002", "Priority", req["priority"], "Could")]
    assert _computed(plan, REQUIREMENTS, req["_row"])["last_changed"] is not None
    again = refresh_workbook(plan, status_date=week2, backup=False)
    assert again.outcome is Outcome.UNCHANGED
    assert len(_rows(plan, CHANGE_LOG)) == len(after)


def test_a_deleted_requirement_is_logged_not_lost(plan: Path) -> None:
    req = next(r for r in _rows(plan, REQUIREMENTS) if r["id"] == "R-010")
    table = read_workbook(plan).table(REQUIREMENTS)
    blank = {f"{column_letter(n)}{req['_row']}": None for k, n in table.columns.items()
             if not REQUIREMENTS.column(k).computed}
    write_workbook(plan, edits={table.sheet: blank}, backup=False)
    refresh_workbook(plan, status_date=dt.datetime(2026, 3, 6, 17), backup=False)
    deleted = [e for e in _rows(plan, CHANGE_LOG) if e["requirement_id"] == "R-010"]
    assert [e["field"] for e in deleted] == ["(deleted)"]
    assert req["title"] in str(deleted[0]["old_value"])


def test_a_change_after_sign_off_voids_it(plan: Path) -> None:
    signoffs = _rows(plan, SIGN_OFF)
    signed = next(s for s in signoffs if str(s["item_id"]).startswith("R-") and
                  _computed(plan, SIGN_OFF, s["_row"])["still_valid"] is True)
    req = next(r for r in _rows(plan, REQUIREMENTS) if r["id"] == signed["item_id"])
    _type(plan, REQUIREMENTS, req["_row"], "rule", "A stricter rule, agreed after the sign-off.")
    refresh_workbook(plan, status_date=dt.datetime(2026, 3, 6, 17), backup=False)
    assert _computed(plan, SIGN_OFF, signed["_row"])["still_valid"] is False


@pytest.mark.libreoffice
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_shows_the_computed_flags(plan: Path, tmp_path: Path) -> None:
    out = tmp_path / "csv"
    done = soffice(["--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,4",
                    "--outdir", str(out), str(plan)], tmp_path / "profile", timeout=180)
    assert done.returncode == 0, done.stderr
    actions = next(out.glob("*Action*"), None)
    assert actions is not None, sorted(p.name for p in out.iterdir())
    text = actions.read_text()
    row = next(line for line in text.splitlines() if line.startswith("A-005,"))
    assert ",10," in row  # days overdue, as LibreOffice reads the refreshed cell


def test_dependencies_sheet_shows_every_link_the_engine_used(plan: Path) -> None:
    data = read_workbook(plan)
    typed = {(lk.predecessor, lk.successor) for lk in data.plan.links}
    assert len(data.mirror_rows) == sum(1 for s in data.link_sources.values() if "Tasks" in s)
    table = data.cells["Dependencies"]
    sheet = CalamineWorkbook.from_path(str(plan)).get_sheet_by_name(table.sheet).to_python(skip_empty_area=False)
    col = {k: n - 1 for k, n in table.columns.items()}
    shown = {(int(r[col["predecessor_id"]]), int(r[col["successor_id"]])): r[col["source"]]
             for r in sheet[table.header_row:] if r[col["predecessor_id"]] not in ("", None)}
    assert set(shown) == typed  # each link once, whichever sheet it was typed on
    assert set(shown.values()) == {"Tasks", "Dependencies"}
    assert refresh_workbook(plan, status_date=FRIDAY, backup=False).outcome is Outcome.UNCHANGED


def _snapshot_weeks(path: Path) -> list[dt.date]:
    rows = read_workbook(path).registers[STATUS_SNAPSHOT.name]
    return sorted({r["status_date"].date() for r in rows if isinstance(r.get("status_date"), dt.datetime)})


def test_the_status_snapshot_keeps_the_weeks_that_fit(plan: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A large plan's weekly snapshots would outgrow the sheet; the newest whole weeks are kept."""
    per_week = len(read_workbook(plan).registers[STATUS_SNAPSHOT.name])
    monkeypatch.setattr(register_sheets, "MAX_ROWS", STATUS_SNAPSHOT.header_row + 2 * per_week + 1)
    for week in (1, 2):
        result = refresh_workbook(plan, status_date=FRIDAY + dt.timedelta(weeks=week), backup=False)
        assert result.outcome is Outcome.REFRESHED and not [f for f in result.findings if f.code == "sheet.full"]
    assert _snapshot_weeks(plan) == [(FRIDAY + dt.timedelta(weeks=w)).date() for w in (1, 2)]
    assert result.status is not None and result.status.previous_date is not None
    assert result.status.previous_date.date() == (FRIDAY + dt.timedelta(weeks=1)).date()  # compared with last week


def test_a_snapshot_larger_than_a_sheet_is_cut_with_a_finding(plan: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(register_sheets, "MAX_ROWS", STATUS_SNAPSHOT.header_row + 10)
    result = refresh_workbook(plan, status_date=FRIDAY + dt.timedelta(weeks=1), backup=False)
    full = [f for f in result.findings if f.code == "sheet.full"]
    assert result.outcome is Outcome.REFRESHED and len(full) == 1
    assert full[0].location == f"{STATUS_SNAPSHOT.name}!A{STATUS_SNAPSHOT.header_row + 10}"
    assert len(read_workbook(plan).registers[STATUS_SNAPSHOT.name]) == 10


def test_the_snapshot_sheet_reads_back_as_the_reported_snapshot(plan: Path) -> None:
    """The snapshot rows go to the sheet as tuples in column order: read back by column title, they are
    the report's snapshot (a column out of place would break next week's comparison)."""
    from wbs_tools.core.status import SNAPSHOT_COLUMNS, StatusSnapshot

    assert tuple(c.key for c in STATUS_SNAPSHOT.columns) == SNAPSHOT_COLUMNS
    result = refresh_workbook(plan, status_date=FRIDAY + dt.timedelta(weeks=1), backup=False)
    assert result.status is not None and result.status.snapshot.tasks
    rows = read_workbook(plan).registers[STATUS_SNAPSHOT.name]
    assert StatusSnapshot.from_rows(rows) == result.status.snapshot


def test_the_snapshot_is_read_as_compact_rows_that_behave_as_mappings(plan: Path) -> None:
    """A row per task comes back as a read-only mapping over one tuple, a date repeated on many rows as
    one object; it reads, compares and converts like the dict every other register row is."""
    refresh_workbook(plan, status_date=FRIDAY + dt.timedelta(weeks=1), backup=False)
    data = read_workbook(plan)
    rows = data.registers[STATUS_SNAPSHOT.name]
    actions = data.registers[ACTIONS.name]
    assert rows and all(type(r).__name__ == "TableRow" for r in rows) and all(type(r) is dict for r in actions)
    first = rows[1]
    as_dict = dict(first)
    assert list(as_dict)[:3] == ["_row", "status_date", "kind"] and as_dict["_row"] == 3
    assert first == as_dict and first.get("kind") == "task" and first.get("nope", 7) == 7 and "name" in first
    with pytest.raises(KeyError):
        first["nope"]
    weeks = {id(r["status_date"]) for r in rows}
    assert len(weeks) == len({r["status_date"] for r in rows}) == 2  # the first refresh's week and this one's


def test_a_requirement_change_nobody_signed_is_credited_to_who_saved_the_workbook(plan: Path) -> None:
    """The workbook's "last modified by" (docProps/core.xml) is read with the plan and credited with
    the requirement changes whose row names nobody."""
    import zipfile

    from wbs_tools.workbook.lossless import write_workbook

    data = read_workbook(plan)
    table = data.table(REQUIREMENTS)
    assert table is not None
    row = next(r for r in data.registers[REQUIREMENTS.name] if r.get("id"))["_row"]
    title, decided_by = (str(table.address(row, key)).split("!")[-1] for key in ("title", "decided_by"))
    write_workbook(plan, edits={REQUIREMENTS.name: {title: "A changed title", decided_by: None}}, backup=False)
    saved = plan.with_name("saved.xlsx")
    with zipfile.ZipFile(plan) as src, zipfile.ZipFile(saved, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"<cp:lastModifiedBy>[^<]*</cp:lastModifiedBy>|(?=</cp:coreProperties>)",
                              b"<cp:lastModifiedBy>Ana Ruiz</cp:lastModifiedBy>", data, count=1)
            out.writestr(info, data)
    assert read_workbook(saved).last_modified_by == "Ana Ruiz"
    refresh_workbook(saved, status_date=FRIDAY + dt.timedelta(weeks=1), backup=False)
    logged = [r for r in read_workbook(saved).registers[CHANGE_LOG.name] if r.get("new_value") == "A changed title"]
    assert [r["decided_by"] for r in logged] == ["Ana Ruiz"]

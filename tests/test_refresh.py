"""The promises of ``wbs refresh``, checked end to end on real files.

A refresh may only change computed cells and the sheets wbs_tools owns; every cell a person typed,
every other part of the package and every byte outside the edited cells stays as it was. It is
deterministic, never leaves a half-written file behind (even when killed), refuses a workbook that is
open in Excel, and what it writes reads back in LibreOffice as the engine's schedule.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import xlsxwriter
from python_calamine import CalamineWorkbook
from typer.testing import CliRunner

from support.libreoffice import soffice
from wbs_tools.cli import app
from wbs_tools.core.cpm import schedule
from wbs_tools.core.model import Duration, Lag, Link, LinkType, Plan, Settings, Task
from wbs_tools.refresh import Outcome, refresh_workbook
from wbs_tools.workbook import lossless, package
from wbs_tools.workbook.computed import column_letter, row_of
from wbs_tools.workbook.layout import DEPENDENCIES, LAYOUTS, TASKS
from wbs_tools.workbook.package import Package, WorkbookError
from wbs_tools.workbook.reader import read_workbook
from wbs_tools.workbook.reader_tables import col_number, sheet_parts
from wbs_tools.workbook.sample import sample_plan, sample_registers
from wbs_tools.workbook.sheet_xml import MAX_ROW
from wbs_tools.workbook.template import CREATED, build_workbook, populate_workbook

OWNED = frozenset(layout.name for layout in LAYOUTS if layout.owned)
#: Parts that list the sheets: adding an owned sheet may touch them, nothing else may.
WORKBOOK_LEVEL = frozenset({"xl/workbook.xml", "xl/_rels/workbook.xml.rels", "[Content_Types].xml",
                            "docProps/app.xml", "xl/calcChain.xml"})
USER_SHEET = "My dashboard"
FORMULA_IN_START = "G12"  # a person's formula in a computed column: it is theirs, never overwritten
TEMP_NAME = re.compile(r"^\.(?P<target>.+)\.[^.]+\.tmp$")  # lossless.write_atomically's temporary files
_CELL = re.compile(rb'<c\b[^>]*?\br="([A-Z]{1,3})(\d+)"[^>]*?(?:/>|>.*?</c>)', re.S)


# -- workbooks ------------------------------------------------------------------------------------------
def user_workbook(path: Path) -> Path:
    """The sample plan as a person leaves it: their own sheet with a chart and formulas, a defined
    name, a formula in an input column and one in a computed column."""
    workbook = xlsxwriter.Workbook(str(path), {"in_memory": True})
    workbook.set_properties({"title": "Project plan", "author": "wbs_tools", "created": CREATED})
    sheets = populate_workbook(workbook, plan=sample_plan(), registers=sample_registers())
    tasks = sheets[TASKS.name]
    notes = TASKS.column_number("notes") - 1
    tasks.write_formula(6, notes, '="see row "&ROW()', None, "see row 7")
    row, col = int(FORMULA_IN_START[1:]) - 1, col_number(FORMULA_IN_START[0]) - 1
    tasks.write_formula(row, col, "=DATE(2026,1,5)+8/24", None, 46027.333333333336)
    mine = workbook.add_worksheet(USER_SHEET)
    mine.write_string(0, 0, "Tasks typed ✓")
    mine.write_formula(0, 1, "=COUNTA(Tasks!E4:E200)", None, 60)
    mine.write_formula(1, 1, "=MAX(Tasks!H4:H200)", workbook.add_format({"num_format": "yyyy-mm-dd"}), 46196.7)
    chart = workbook.add_chart({"type": "bar"})
    chart.add_series({"name": "Duration", "categories": "=Tasks!$E$4:$E$12", "values": "=Tasks!$A$4:$A$12"})
    mine.insert_chart("D3", chart)
    workbook.define_name("MyTasks", "=Tasks!$E$4:$E$63")
    workbook.close()
    return path


def chain_plan(n: int) -> Plan:
    """``n`` tasks in phases of 20 (a summary and 19 work tasks), each linked to the one before it."""
    tasks: list[Task] = []
    links: list[Link] = []
    previous: int | None = None
    for number in range(1, n + 1):
        if number % 20 == 1:
            tasks.append(Task(number, f"Phase {number // 20 + 1}", 1))
            continue
        tasks.append(Task(number, f"Work {number}", 2, Duration((number % 7 + 1) * 480.0)))
        if previous is not None:
            kind = LinkType.SS if number % 11 == 0 else LinkType.FS
            links.append(Link(previous, number, kind, Lag(Duration(480.0)) if kind is LinkType.SS else Lag()))
        previous = number
    settings = Settings(project_name="Chain", start=dt.datetime(2026, 1, 5, 8),
                        status_date=dt.datetime(2026, 2, 27, 17))
    return Plan(settings, tasks, links)


@pytest.fixture(scope="module")
def sample_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    folder = tmp_path_factory.mktemp("sample")
    return build_workbook(folder / "sample.xlsx", plan=sample_plan(), registers=sample_registers()).read_bytes()


@pytest.fixture(scope="module")
def user_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return user_workbook(tmp_path_factory.mktemp("user") / "user.xlsx").read_bytes()


def put(folder: Path, data: bytes, name: str = "plan.xlsx") -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


# -- reading packages -----------------------------------------------------------------------------------
def raw_parts(data: bytes) -> dict[str, tuple[tuple[object, ...], bytes]]:
    """Each part's zip header fields and its stored (compressed) bytes, in package order."""
    out: dict[str, tuple[tuple[object, ...], bytes]] = {}
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for info in zf.infolist():
            name_len, extra_len = struct.unpack_from("<HH", data, info.header_offset + 26)
            start = info.header_offset + 30 + name_len + extra_len
            header = (info.date_time, info.compress_type, info.CRC, info.file_size, info.compress_size,
                      info.external_attr, info.flag_bits)
            out[info.filename] = (header, data[start:start + info.compress_size])
    return out


def cells_xml(xml: bytes) -> dict[tuple[int, int], bytes]:
    """(row, column) -> the exact bytes of that ``<c>`` element."""
    return {(int(m[2]), col_number(m[1].decode())): m[0] for m in _CELL.finditer(xml)}


def sheet_xml(data: bytes) -> dict[str, bytes]:
    """Each worksheet's XML part, by sheet name."""
    pkg = Package(data)
    parts, _styles = sheet_parts(pkg)
    return {name: pkg.read(part) for name, part in parts.items()}


Box = tuple[int, int, frozenset[int]]  # first row, last row, sheet columns


def writable_cells(path: Path) -> dict[str, list[Box]]:
    """Per sheet, where a refresh may write: the computed columns of each table's data rows, and on the
    Dependencies sheet the rows wbs_tools mirrors from Predecessors cells (Source "Tasks") plus new
    mirror rows below the table."""
    data = read_workbook(path)
    out: dict[str, list[Box]] = {}
    for layout in LAYOUTS:
        found = data.table(layout)
        if found is None or layout.owned:
            continue
        boxes = out.setdefault(found.sheet, [])
        computed = frozenset(found.columns[c.key] for c in layout.columns if c.computed and c.key in found.columns)
        if computed and found.last_row >= found.first_row:
            boxes.append((found.first_row, found.last_row, computed))
        if layout is DEPENDENCIES:
            every = frozenset(found.columns.values())
            boxes += [(row, row, every) for row in data.mirror_rows]
            boxes.append((max(found.last_row, found.header_row) + 1, MAX_ROW, every))
    return out


def is_free(boxes: list[Box], cells: dict[tuple[int, int], bytes], row: int, column: int) -> bool:
    """A refresh may write the cell: it is in a box and holds no formula (formulas are the person's)."""
    inside = any(first <= row <= last and column in columns for first, last, columns in boxes)
    return inside and b"<f" not in cells.get((row, column), b"")


def grid(path: Path) -> dict[str, list[list[object]]]:
    book = CalamineWorkbook.from_path(str(path))
    return {name: book.get_sheet_by_name(name).to_python(skip_empty_area=False) for name in book.sheet_names}


def value_at(rows: list[list[object]], row: int, column: int) -> object:
    cells = rows[row - 1] if row <= len(rows) else []
    return cells[column - 1] if column <= len(cells) else ""


def assert_inputs_unchanged(before: Path, after: Path) -> int:
    """Every cell outside the computed cells holds the same value and the same ``<c>`` bytes (style,
    type and formula included); a formula cell counts as typed even in a computed column. Owned
    sheets are excluded. Returns how many cells were compared."""
    old_xml, new_xml = sheet_xml(before.read_bytes()), sheet_xml(after.read_bytes())
    old_values, new_values = grid(before), grid(after)
    writable = writable_cells(before)
    compared = 0
    for name, xml in old_xml.items():
        if name in OWNED:
            continue
        old_cells, new_cells = cells_xml(xml), cells_xml(new_xml[name])
        boxes = writable.get(name, [])
        for ref in set(old_cells) | set(new_cells):
            if not is_free(boxes, old_cells, *ref):
                assert old_cells.get(ref) == new_cells.get(ref), f"{name} row {ref[0]} column {ref[1]}"
        height = max(len(old_values[name]), len(new_values[name]))
        width = max((len(r) for r in [*old_values[name], *new_values[name]]), default=0)
        for row in range(1, height + 1):
            for column in range(1, width + 1):
                if not is_free(boxes, old_cells, row, column):
                    assert value_at(old_values[name], row, column) == value_at(new_values[name], row, column), (
                        f"{name} row {row} column {column}")
                    compared += 1
    return compared


def temp_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if TEMP_NAME.match(p.name))


# -- 1. what LibreOffice shows is the engine's schedule ---------------------------------------------------
def _lo_datetime(text: str) -> dt.datetime:
    for fmt in ("%m/%d/%Y %H:%M:%S", "%m/%d/%Y"):
        try:
            return dt.datetime.strptime(text, fmt)
        except ValueError:
            pass
    raise AssertionError(f"LibreOffice shows {text!r}, not a date")


@pytest.mark.libreoffice
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not on PATH")
def test_libreoffice_shows_the_engines_schedule(tmp_path: Path) -> None:
    path = tmp_path / "plan.xlsx"
    created = CliRunner().invoke(app, ["new", "--sample", str(path)])
    assert created.exit_code == 0, created.output
    # Values, not their display: dates in the en-US default form, numbers and booleans as stored.
    options = "44,34,76,1,,1033,false,true,false,false,false,1"
    done = soffice(["--convert-to", f"csv:Text - txt - csv (StarCalc):{options}", "--outdir", str(tmp_path / "csv"),
                    str(path)], tmp_path / "profile", timeout=240, env={**os.environ, "LC_ALL": "C.UTF-8"})
    assert done.returncode == 0, done.stderr
    (exported,) = (tmp_path / "csv").glob("*.csv")
    rows = list(csv.reader(exported.read_text(encoding="utf-8").splitlines()))
    header = rows[TASKS.header_row - 1]
    at = {title: header.index(title) for title in ("ID", "Start", "Finish", "Critical", "Total slack (d)")}
    data = read_workbook(path)
    engine = schedule(data.plan)
    per_day = data.plan.settings.minutes_per_day
    by_id = data.plan.task_by_id()
    assert len(engine.tasks) == len(data.plan.tasks) > 50
    for ts in engine.tasks:
        row = row_of(by_id[ts.id].cells.values())
        assert row is not None
        shown = rows[row - 1]
        assert int(float(shown[at["ID"]])) == ts.id
        assert _lo_datetime(shown[at["Start"]]) == ts.start, (ts.id, shown[at["Start"]])
        assert _lo_datetime(shown[at["Finish"]]) == ts.finish, (ts.id, shown[at["Finish"]])
        assert shown[at["Critical"]] == ("TRUE" if ts.critical else "FALSE"), ts.id
        assert float(shown[at["Total slack (d)"]]) == pytest.approx(round(ts.total_slack_minutes / per_day, 2))
    assert any(ts.critical for ts in engine.tasks) and any(not ts.critical for ts in engine.tasks)
    assert any(ts.start.day > 12 for ts in engine.tasks if ts.start)  # month and day cannot be swapped


# -- 2. and 3. only computed cells and owned sheets change ------------------------------------------------
def test_cells_a_person_typed_are_unchanged(tmp_path: Path, user_bytes: bytes) -> None:
    before = put(tmp_path, user_bytes, "before.xlsx")
    after = put(tmp_path, user_bytes)
    result = refresh_workbook(after)
    assert result.outcome is Outcome.REFRESHED, result.message
    assert result.write is not None and result.write.cells_written > 500
    assert ("Tasks", FORMULA_IN_START) in {(s.sheet, s.ref) for s in result.write.skipped}
    assert assert_inputs_unchanged(before, after) > 5000
    written = grid(after)[TASKS.name]
    start, finish = TASKS.column_number("start"), TASKS.column_number("finish")
    assert all(isinstance(value_at(written, row, start), dt.datetime) for row in range(4, 64)
               if row != int(FORMULA_IN_START[1:]))
    assert all(isinstance(value_at(written, row, finish), dt.datetime) for row in range(4, 64))


def test_only_owned_parts_change(tmp_path: Path, user_bytes: bytes) -> None:
    path = put(tmp_path, user_bytes)
    result = refresh_workbook(path)
    assert result.outcome is Outcome.REFRESHED, result.message
    parts = sheet_parts(Package(user_bytes))[0]
    edited_sheets = {name for name, boxes in writable_cells(put(tmp_path, user_bytes, "copy.xlsx")).items() if boxes}
    allowed = {parts[name] for name in parts if name in OWNED or name in edited_sheets} | WORKBOOK_LEVEL
    old, new = raw_parts(user_bytes), raw_parts(path.read_bytes())
    assert [n for n in new if n in old] == [n for n in old if n in new], "the parts were reordered"
    assert set(old) - set(new) <= {"xl/calcChain.xml"}
    new_sheets = sheet_parts(Package(path.read_bytes()))[0]
    assert set(new) - set(old) <= {new_sheets[name] for name in new_sheets if name in OWNED}
    changed = {name for name in old if name in new and old[name] != new[name]}
    assert changed <= allowed, sorted(changed - allowed)
    assert parts[USER_SHEET] not in changed and "xl/charts/chart1.xml" in old
    assert parts[TASKS.name] in changed
    for name in changed & {parts[s] for s in edited_sheets}:  # outside <sheetData>: only the dimension
        old_xml, new_xml = (zipfile.ZipFile(io.BytesIO(d)).read(name) for d in (user_bytes, path.read_bytes()))
        assert _outside_cells(old_xml) == _outside_cells(new_xml), name


def _outside_cells(xml: bytes) -> tuple[bytes, bytes]:
    head, _, rest = xml.partition(b"<sheetData")
    return re.sub(rb'<dimension ref="[^"]*"', b"<dimension", head), rest.partition(b"</sheetData>")[2]


def _mirrored_row(tmp_path: Path, sample_bytes: bytes) -> tuple[Path, int]:
    """A refreshed sample and the first Dependencies row mirrored from a Predecessors cell."""
    path = put(tmp_path, sample_bytes)
    assert refresh_workbook(path, backup=False).outcome is Outcome.REFRESHED
    rows = read_workbook(path).mirror_rows
    assert rows
    return path, rows[0]


def test_note_on_a_mirrored_link_row_is_kept(tmp_path: Path, sample_bytes: bytes) -> None:
    path, row = _mirrored_row(tmp_path, sample_bytes)
    note = f"{column_letter(DEPENDENCIES.column_number('note'))}{row}"
    lossless.write_workbook(path, edits={DEPENDENCIES.name: {note: "agreed with Tom on 3 Mar"}}, backup=False)
    refresh_workbook(path, backup=False)
    shown = grid(path)[DEPENDENCIES.name]
    assert value_at(shown, row, DEPENDENCIES.column_number("note")) == "agreed with Tom on 3 Mar"


def test_edit_of_a_mirrored_link_is_reported(tmp_path: Path, sample_bytes: bytes) -> None:
    path, row = _mirrored_row(tmp_path, sample_bytes)
    lag = f"{column_letter(DEPENDENCIES.column_number('lag'))}{row}"
    lossless.write_workbook(path, edits={DEPENDENCIES.name: {lag: "2d"}}, backup=False)
    result = refresh_workbook(path, backup=False)
    assert f"{DEPENDENCIES.name}!{lag}" in {f.location for f in result.findings}


def test_a_refreshed_workbook_stays_within_the_read_limits(tmp_path: Path, sample_bytes: bytes,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    biggest = max(info.file_size for info in zipfile.ZipFile(io.BytesIO(sample_bytes)).infolist())

    monkeypatch.setattr(package, "DEFAULT_LIMITS", dataclasses.replace(package.Limits(), max_part_bytes=biggest + 1024))
    path = put(tmp_path, sample_bytes)
    first = refresh_workbook(path)
    if first.outcome is Outcome.FAILED:  # refusing to write what could not be read back is fine too
        assert path.read_bytes() == sample_bytes
        return
    assert refresh_workbook(path).outcome is not Outcome.FAILED


# -- 4. idempotent and deterministic --------------------------------------------------------------------
def test_refreshing_again_changes_nothing(tmp_path: Path, user_bytes: bytes) -> None:
    path = put(tmp_path, user_bytes)
    first = refresh_workbook(path)
    assert first.outcome is Outcome.REFRESHED
    assert first.write is not None and first.write.backup == path.with_name("plan.xlsx.bak")
    assert first.write.backup.read_bytes() == user_bytes
    refreshed, stamp = path.read_bytes(), path.stat().st_mtime_ns
    second = refresh_workbook(path)
    assert second.outcome is Outcome.UNCHANGED, second.write
    assert path.read_bytes() == refreshed and path.stat().st_mtime_ns == stamp
    assert first.write.backup.read_bytes() == user_bytes, "an unchanged refresh replaced the backup"
    assert temp_files(tmp_path) == []


def test_refresh_is_deterministic_across_copies_and_processes(tmp_path: Path, sample_bytes: bytes) -> None:
    """Same inputs and status date, same bytes: in this process, and in fresh ones with other hash seeds."""
    status = dt.datetime(2026, 3, 6, 17)
    copies = [put(tmp_path, sample_bytes, f"copy{i}.xlsx") for i in range(4)]
    for path in copies[:2]:
        assert refresh_workbook(path, status_date=status).outcome is Outcome.REFRESHED
    runs = [subprocess.Popen([sys.executable, "-m", "wbs_tools.cli", "refresh", "--status-date", "2026-03-06",
                              str(path)], env={**os.environ, "PYTHONHASHSEED": seed},
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for path, seed in zip(copies[2:], ("0", "4242"), strict=True)]
    for run in runs:
        out, err = run.communicate(timeout=120)
        assert run.returncode in (0, 1), (out, err)
    results = {path.read_bytes() for path in copies}
    assert len(results) == 1
    assert results != {sample_bytes}


# -- 5. crash safety -------------------------------------------------------------------------------------
_DRIVER = r"""
import os, shutil, signal, sys
from pathlib import Path
from wbs_tools.workbook import lossless, package
from wbs_tools.refresh import refresh_workbook

path, point = sys.argv[1], sys.argv[2]
die = lambda: os.kill(os.getpid(), signal.SIGKILL)
real_fdopen, real_replace = os.fdopen, os.replace

class HalfWriter:
    def __init__(self, handle): self.handle = handle
    def __enter__(self): return self
    def __exit__(self, *exc): return False
    def write(self, data):
        self.handle.write(data[: len(data) // 2]); self.handle.flush(); die()

def half_copy(source, target):
    data = Path(source).read_bytes()
    with open(target, "wb") as handle:
        handle.write(data[: len(data) // 2]); handle.flush()
    die()

def replace(source, target, *, before, after):
    workbook = os.path.basename(target) == os.path.basename(path)  # not the backup's own rename
    if workbook and before:
        die()
    real_replace(source, target)
    if workbook and after:
        die()

patch = {
    "temp-half-written": lambda: setattr(lossless.os, "fdopen", lambda fd, mode: HalfWriter(real_fdopen(fd, mode))),
    "before-verify": lambda: setattr(lossless, "_verify_written", lambda temp, data: die()),
    "backup-half-copied": lambda: setattr(lossless.shutil, "copy2", half_copy),
    "before-replace": lambda: setattr(lossless.os, "replace", lambda s, t: replace(s, t, before=True, after=False)),
    "after-replace": lambda: setattr(lossless.os, "replace", lambda s, t: replace(s, t, before=False, after=True)),
}
patch[point]()
refresh_workbook(path)
"""

#: Where the process dies, and whether the workbook must then be the original or the refreshed one.
KILL_POINTS = {"temp-half-written": "original", "before-verify": "original", "backup-half-copied": "original",
               "before-replace": "original", "after-replace": "refreshed"}


def test_killed_at_each_step_of_the_write(tmp_path: Path, sample_bytes: bytes) -> None:
    """SIGKILL at each step of the atomic write: the workbook is the original or the refreshed file,
    whole; the temporary files left behind are ignored and the next refresh converges."""
    reference = put(tmp_path, sample_bytes, "reference.xlsx")
    assert refresh_workbook(reference, backup=False).outcome is Outcome.REFRESHED
    folders = {point: tmp_path / point for point in KILL_POINTS}
    runs = {}
    for point, folder in folders.items():
        folder.mkdir()
        runs[point] = subprocess.Popen([sys.executable, "-c", _DRIVER, str(put(folder, sample_bytes)), point],
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    for point, run in runs.items():
        _out, err = run.communicate(timeout=120)
        assert run.returncode == -signal.SIGKILL, (point, err.decode())
    for point, folder in folders.items():
        path = folder / "plan.xlsx"
        expected = sample_bytes if KILL_POINTS[point] == "original" else reference.read_bytes()
        assert path.read_bytes() == expected, point
        leftovers = temp_files(folder)
        assert all(TEMP_NAME.match(p.name)["target"] == "plan.xlsx" for p in leftovers)  # type: ignore[index]
        assert (leftovers != []) == (point != "after-replace"), point
        if point == "after-replace":
            assert (folder / "plan.xlsx.bak").read_bytes() == sample_bytes
        kept = {p: p.read_bytes() for p in leftovers}
        again = refresh_workbook(path)
        assert again.outcome is (Outcome.REFRESHED if expected == sample_bytes else Outcome.UNCHANGED), point
        assert path.read_bytes() == reference.read_bytes(), point
        assert (folder / "plan.xlsx.bak").read_bytes() == sample_bytes, point
        assert {p: p.read_bytes() for p in temp_files(folder)} == kept, "a refresh touched a stale temp file"
        assert not list(folder.glob("*.partial")), "a half-copied backup was left"
        assert refresh_workbook(path).outcome is Outcome.UNCHANGED


_DEFLATE_DRIVER = r"""
import os, signal, sys, threading, zlib
from wbs_tools.workbook import package_edit
from wbs_tools.refresh import refresh_workbook

package_edit.DEFLATE_WHILE_PATCHING_FROM = 0  # every patched sheet deflated while patched, on its thread
real_compressobj, calls = zlib.compressobj, []

class Killing:  # a compressor that kills the process on the deflate thread's third chunk
    def __init__(self, inner):
        self.inner = inner

    def compress(self, chunk):
        if threading.current_thread().name == "wbs-deflate":
            calls.append(1)
            if len(calls) == 3:
                os.kill(os.getpid(), signal.SIGKILL)  # from the deflate thread, halfway through the sheet
        return self.inner.compress(chunk)

    def flush(self, *mode):
        return self.inner.flush(*mode)

zlib.compressobj = lambda *args: Killing(real_compressobj(*args))
refresh_workbook(sys.argv[1])
"""


def test_killed_while_a_sheet_is_deflated_on_its_thread(tmp_path: Path, sample_bytes: bytes) -> None:
    """A kill while a large sheet is being deflated beside its patching leaves the workbook as it was
    and nothing else in the folder: the deflated bytes waited in a file without a name."""
    reference = put(tmp_path, sample_bytes, "reference.xlsx")
    assert refresh_workbook(reference, backup=False).outcome is Outcome.REFRESHED
    folder = tmp_path / "plan"
    folder.mkdir()
    path = put(folder, sample_bytes)
    run = subprocess.run([sys.executable, "-c", _DEFLATE_DRIVER, str(path)], capture_output=True, timeout=120)
    assert run.returncode == -signal.SIGKILL, run.stderr.decode()
    assert path.read_bytes() == sample_bytes
    assert sorted(p.name for p in folder.iterdir()) == ["plan.xlsx"]
    assert refresh_workbook(path).outcome is Outcome.REFRESHED
    assert path.read_bytes() == reference.read_bytes()


def _is_whole_workbook(data: bytes) -> bool:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        if zf.testzip() is not None:
            return False
    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    return len(book.get_sheet_by_name(TASKS.name).to_python()) > 1000


def test_killed_at_random_moments_on_a_large_plan(tmp_path: Path) -> None:
    """``wbs refresh`` on a 10,000-task plan, SIGKILLed ever later until a run completes: every time the
    file is the original or the whole refreshed workbook, and a later refresh converges."""
    original = build_workbook(tmp_path / "large.xlsx", plan=chain_plan(10_000)).read_bytes()
    outcomes: list[tuple[float | None, str]] = []
    completed: bytes | None = None
    killed: Path | None = None
    for n, delay in enumerate((0.2, 0.5, 1.0, 2.0, 3.0, 4.5, 6.0, 8.0, 11.0, 15.0, 20.0, None)):
        folder = tmp_path / f"run{n}"
        folder.mkdir()
        path = put(folder, original)
        run = subprocess.Popen([sys.executable, "-m", "wbs_tools.cli", "refresh", "--no-backup", str(path)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            _out, err = run.communicate(timeout=delay if delay is not None else 600)
        except subprocess.TimeoutExpired:
            run.send_signal(signal.SIGKILL)
            _out, err = run.communicate()
        data = path.read_bytes()
        state = "original" if data == original else ("whole" if _is_whole_workbook(data) else "BROKEN")
        outcomes.append((delay, state))
        assert state != "BROKEN", outcomes
        if run.returncode != -signal.SIGKILL:
            assert run.returncode in (0, 1), err.decode()
            completed = data
            break
        killed = path
    assert completed is not None and killed is not None, outcomes
    assert refresh_workbook(killed, backup=False).outcome in (Outcome.REFRESHED, Outcome.UNCHANGED)
    assert killed.read_bytes() == completed, "a refresh after a kill does not converge to the same file"
    assert all(state in ("original", "whole") for _, state in outcomes)


class _Simulated:
    """Ways the written file can fail its verification."""

    @staticmethod
    def corrupt_temp(monkeypatch: pytest.MonkeyPatch) -> None:
        real = lossless._verify_written

        def corrupting(temp: Path, expected: bytes) -> None:
            data = bytearray(temp.read_bytes())
            data[len(data) // 2] ^= 0xFF
            temp.write_bytes(bytes(data))
            real(temp, expected)

        monkeypatch.setattr(lossless, "_verify_written", corrupting)

    @staticmethod
    def package_check_fails(monkeypatch: pytest.MonkeyPatch) -> None:
        def failing(data: bytes, names: object, *_copied: object) -> None:
            raise WorkbookError("verification failed: simulated")

        monkeypatch.setattr(lossless, "verify_package", failing)


@pytest.mark.parametrize("failure", [_Simulated.corrupt_temp, _Simulated.package_check_fails],
                         ids=["temp-file-corrupted", "package-check-fails"])
def test_failed_verification_leaves_the_original(tmp_path: Path, sample_bytes: bytes, failure,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    path = put(tmp_path, sample_bytes)
    failure(monkeypatch)
    result = refresh_workbook(path)
    assert result.outcome is Outcome.FAILED and "verification failed" in result.message
    assert path.read_bytes() == sample_bytes
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.xlsx"], "a temp file or backup was left"


def test_a_save_made_while_the_refresh_computes_is_kept(tmp_path: Path, sample_bytes: bytes, user_bytes: bytes,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Someone saves the plan after it was read: the edits computed from the old content are not put
    onto theirs, their save stays as it is, and the message asks for a retry (the batch retries)."""
    path = put(tmp_path, sample_bytes)
    import wbs_tools.refresh as refresh_module

    compute = refresh_module.compute

    def compute_then_someone_saves(*args, **kwargs):  # type: ignore[no-untyped-def]
        computed = compute(*args, **kwargs)
        path.write_bytes(user_bytes)  # a real save by another program, between our read and our write
        return computed

    monkeypatch.setattr(refresh_module, "compute", compute_then_someone_saves)
    result = refresh_workbook(path)
    assert result.outcome is Outcome.FAILED and "changed on disk" in result.message
    assert path.read_bytes() == user_bytes
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.xlsx"], "a temp file or backup was left"


def test_a_status_date_without_a_time_is_the_end_of_that_working_day(tmp_path: Path, sample_bytes: bytes) -> None:
    by_date = refresh_workbook(put(tmp_path, sample_bytes, "a.xlsx"), status_date=dt.date(2026, 3, 6))
    by_time = refresh_workbook(put(tmp_path, sample_bytes, "b.xlsx"), status_date=dt.datetime(2026, 3, 6, 17))
    assert by_date.outcome is by_time.outcome is Outcome.REFRESHED
    assert by_date.schedule is not None and by_date.schedule.plan.settings.status_date == dt.datetime(2026, 3, 6, 17)
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()


def test_without_any_status_date_today_at_the_plans_end_of_day_is_used(tmp_path: Path) -> None:
    plan = sample_plan()
    plan.settings.status_date = None
    plan.settings.default_finish_minute = 16 * 60 + 30  # a plan whose working day ends at 16:30
    path = build_workbook(tmp_path / "plan.xlsx", plan=plan)
    result = refresh_workbook(path)
    assert result.outcome is Outcome.REFRESHED and result.schedule is not None
    today = dt.date.today()
    assert result.schedule.plan.settings.status_date == dt.datetime.combine(today, dt.time(16, 30))
    assert any(f.code == "settings.no-status-date" and f"{today:%Y-%m-%d}" in f.message for f in result.findings)


# -- 6. a workbook open in Excel is not written -------------------------------------------------------------
@pytest.mark.parametrize("lock", ["~$plan.xlsx", ".~lock.plan.xlsx#"])
def test_open_workbook_is_not_written(tmp_path: Path, sample_bytes: bytes, lock: str) -> None:
    path = put(tmp_path, sample_bytes)
    (tmp_path / lock).write_bytes(b"owner")
    result = CliRunner().invoke(app, ["refresh", str(path)])
    assert result.exit_code == 2
    shown = " ".join(result.output.split())
    assert "locked" in shown and "is open in Excel" in shown and lock in shown, shown
    assert path.read_bytes() == sample_bytes
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["plan.xlsx", lock])
    assert refresh_workbook(path, output=tmp_path / "elsewhere.xlsx").outcome is Outcome.LOCKED


def test_stale_temp_files_are_ignored(tmp_path: Path, sample_bytes: bytes) -> None:
    """A temp file a killed run left (``.plan.xlsx.XXXX.tmp``) is neither read, taken for a lock, nor removed."""
    path = put(tmp_path, sample_bytes)
    stale = tmp_path / ".plan.xlsx.k1ll3d.tmp"
    stale.write_bytes(sample_bytes[:1000])
    assert TEMP_NAME.match(stale.name)
    assert refresh_workbook(path).outcome is Outcome.REFRESHED
    assert stale.read_bytes() == sample_bytes[:1000]
    assert temp_files(tmp_path) == [stale]


def test_status_png_without_matplotlib_says_what_to_install_and_leaves_the_plan(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "plan.xlsx"
    assert CliRunner().invoke(app, ["new", "--sample", str(path)]).exit_code == 0
    before = path.read_bytes()
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as on a machine without the report extra
    result = CliRunner().invoke(app, ["status", str(path), "--png", str(tmp_path / "gantt.png")])
    assert result.exit_code == 2
    assert "wbs_tools[report]" in result.output and "Traceback" not in result.output
    assert path.read_bytes() == before and not (tmp_path / "gantt.png").exists()

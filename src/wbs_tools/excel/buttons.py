"""The plan workbook's buttons: Recompute schedule, Flag overdue actions and Export status.

xlwings' ``RunPython`` starts Python with ``import wbs_tools.excel.buttons as b; b.recompute()`` and
the function works on the workbook that called it (``xw.Book.caller()``), unsaved edits included. It
runs the use case of ``wbs refresh`` (``wbs_tools.refresh.compute``) through the live adapter
(``wbs_tools.excel.live``), so a plan computes the same in Excel as from the command line; results are
written as values, findings go to the Check sheet and a message box sums up, while the status bar says
what is happening. A problem the person at the keyboard can fix (a mismatched xlwings, a workbook
opened from OneDrive when a file must be saved beside it) stops the button with a message naming the
fix; anything else is left to xlwings, which shows the traceback to send with a bug report.

Run ``python -m wbs_tools.excel.buttons`` in the Python that should serve the buttons: it checks that
Excel will start that Python and says what to do when it will not (docs/excel.md).
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import sys
import webbrowser
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import xlwings as xw

from wbs_tools.core.findings import Severity
from wbs_tools.core.status.lines import format_day
from wbs_tools.excel.live import LiveBook, cell_of
from wbs_tools.refresh import Computed, compute
from wbs_tools.reports.html import render_html
from wbs_tools.workbook.layout import ACTIONS, CHECK
from wbs_tools.workbook.lossless import CellValue, OwnedSheet
from wbs_tools.workbook.properties import last_modified_by
from wbs_tools.workbook.reader import TableLocation
from wbs_tools.workbook.template import XLWINGS_VERSION_NAME

TITLE = "wbs_tools"
Edits = Mapping[str, Mapping[str, CellValue]]  # sheet -> {"H12": value}
SHOWN_ACTIONS = 12  # overdue actions listed in the message box; the sheet has them all

VERSION_MISMATCH = (
    "This workbook's macros come from xlwings {wanted}, but Excel started a Python with xlwings "
    "{installed}:\n{python}\n\nInstall the matching version into that Python, then click the button again:\n"
    '"{python}" -m pip install "xlwings=={wanted}"\n(on a Mac, then also: xlwings runpython install)\n\n'
    "If Excel should use another Python, see 'Setting up a PM's machine' in docs/excel.md.")
CLOUD = (
    "This workbook is open from OneDrive or SharePoint ({where}), so there is no folder on this computer "
    "to save the status report in.\n\nOpen it from your synced OneDrive folder instead (File Explorer or "
    "Finder > OneDrive, then double-click the file), or keep a local copy (File > Save a Copy > This PC), "
    "and click Export status again. Recompute schedule and Flag overdue actions work as they are.")
UNSAVED = ("Save the workbook first (File > Save As, to a folder on this computer): the status report is "
           "saved beside it. Then click Export status again.")
NO_ACTIONS = ("This workbook has no Action Items sheet, so there is nothing to flag. Add a sheet named "
              "Action Items with a header row such as ID, Action, Owner, Due date, Status (docs/workbook.md).")


class SetupError(Exception):
    """A problem the person at the keyboard can fix; the message says how."""


@dataclass(frozen=True)
class Done:
    """What a button reports: the message, and a file the message offers to open."""

    message: str
    offer: Path | None = None


def recompute() -> None:
    """Button "Recompute schedule": dates, slack, critical path, registers, Check and Status sheets."""
    _run(_recompute)


def flag_overdue() -> None:
    """Button "Flag overdue actions": the Action Items columns, and who is late, in a message box."""
    _run(_flag_overdue)


def export_status() -> None:
    """Button "Export status": a full recompute, then the weekly report as HTML beside the workbook."""
    _run(_export_status)


def _run(action: Callable[[xw.Book, LiveBook], Done]) -> None:
    book = xw.Book.caller()
    app = book.app
    live = LiveBook(book, progress=lambda text: setattr(app, "status_bar", f"{TITLE}: {text}"))
    done: Done | None = None
    problem: SetupError | None = None
    try:
        check_xlwings(book)
        done = action(book, live)
    except SetupError as error:
        problem = error
    finally:
        app.status_bar = False  # Excel takes the status bar back, whatever happened
    if done is None:
        app.alert(str(problem), title=f"{TITLE}: nothing was changed", mode="critical")
    elif done.offer is None:
        app.alert(done.message, title=TITLE, mode="info")
    elif app.alert(done.message, title=TITLE, buttons="yes_no", mode="info") == "yes":
        webbrowser.open(done.offer.as_uri())


def _compute(book: xw.Book, live: LiveBook) -> Computed:
    data = live.read()
    live.progress(f"scheduling {len(data.plan.tasks)} tasks")
    return compute(data, decider=_decider(book), today=dt.date.today())


def _write(book: xw.Book, live: LiveBook, computed: Computed, edits: Edits | None = None,
           owned: Mapping[str, OwnedSheet] | None = None) -> None:
    """Write what ``computed`` holds, or only the given part of it, with screen updates paused."""
    with book.app.properties(screen_updating=False):
        live.write_edits(computed.data, computed.edits if edits is None else edits)
        live.write_owned(computed.owned if owned is None else owned)


def _recompute(book: xw.Book, live: LiveBook) -> Done:
    computed = _compute(book, live)
    _write(book, live, computed)
    return Done(recompute_summary(computed))


def _flag_overdue(book: xw.Book, live: LiveBook) -> Done:
    computed = _compute(book, live)
    table = computed.data.table(ACTIONS)
    if table is None:
        raise SetupError(NO_ACTIONS)
    edits = {table.sheet: _in_table(computed.edits.get(table.sheet, {}), table)}
    _write(book, live, computed, edits, {CHECK.name: computed.owned[CHECK.name]})
    book.sheets[table.sheet].activate()
    return Done(overdue_summary(computed))


def _export_status(book: xw.Book, live: LiveBook) -> Done:
    folder = report_folder(book)  # before anything is written
    computed = _compute(book, live)
    _write(book, live, computed)
    report = computed.status
    assert report is not None  # compute() always has a status date when given today
    live.progress("saving the status report")
    path = folder / f"{Path(book.name).stem} status {report.status_date:%Y-%m-%d}.html"
    path.write_text(render_html(report), encoding="utf-8")
    lines = [f"Status at {format_day(report.status_date)}: {report.overall.rag.value}.", *report.narrative[:2],
             "", "The Status sheet is updated, and the report for e-mail is saved as:", str(path), "", "Open it now?"]
    return Done("\n".join(lines), offer=path)


def _in_table(cells: Mapping[str, CellValue], table: TableLocation) -> dict[str, CellValue]:
    """The cell edits that fall in ``table``'s columns."""
    columns = set(table.columns.values())
    return {ref: value for ref, value in cells.items() if cell_of(ref)[1] in columns}


def recompute_summary(computed: Computed) -> str:
    """"Schedule recomputed: finish Thu 25 Jun 2026; 12 critical tasks; 3 findings (1 error), see Check"."""
    schedule = computed.schedule
    critical = schedule.critical_count()
    finish = f"finish {format_day(schedule.project_finish)}" if schedule.project_finish else "no finish date"
    errors = sum(f.severity is Severity.ERROR for f in computed.findings)
    found = (f"{_count(len(computed.findings), 'finding')} ({_count(errors, 'error')}), see the Check sheet"
             if computed.findings else "no findings")
    status = computed.data.plan.settings.status_date
    at = f"\nStatus date {format_day(status)}." if status else ""
    return f"Schedule recomputed: {finish}; {_count(critical, 'critical task')}; {found}.{at}"


def overdue_summary(computed: Computed) -> str:
    """Who is late, most overdue first per owner, as the message box shows it."""
    report = computed.status
    assert report is not None
    when = format_day(report.status_date)
    late = [(group.owner, a) for group in report.actions_by_owner for a in group.actions if a.overdue]
    problems = sum(1 for f in computed.findings if f.code.startswith("action."))
    lines = [f"{_count(len(late), 'overdue action')} at the status date ({when})" + (":" if late else ".")]
    lines += [f"  {owner or 'no owner'}: {a.id} {a.action} ({_count(a.days_overdue, 'working day')} late)"
              for owner, a in late[:SHOWN_ACTIONS]]
    if len(late) > SHOWN_ACTIONS:
        lines.append(f"  ... and {len(late) - SHOWN_ACTIONS} more")
    lines.append("Days overdue, Due this week, Blocked and Blocks critical task are updated on Action Items.")
    if problems:
        lines.append(f"{_count(problems, 'problem')} in the action rows: see the Check sheet.")
    return "\n".join(lines)


def _count(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def workbook_xlwings_version(book: xw.Book) -> str | None:
    """The xlwings version of the workbook's VBA module, as the template records it; None if unknown."""
    if not book.names.contains(XLWINGS_VERSION_NAME):
        return None
    text = str(book.names[XLWINGS_VERSION_NAME].refers_to).strip()
    return text.lstrip("=").strip('"') or None


def check_xlwings(book: xw.Book) -> None:
    """Stop with the fix when the workbook's VBA module is not from the xlwings that Excel started."""
    wanted = workbook_xlwings_version(book)
    if wanted is not None and wanted != xw.__version__:
        raise SetupError(VERSION_MISMATCH.format(wanted=wanted, installed=xw.__version__, python=sys.executable))


def report_folder(book: xw.Book) -> Path:
    """The folder Export status saves in: the workbook's own, which must be on this computer."""
    try:
        name = book.fullname
    except xw.XlwingsError as error:  # xlwings cannot map a OneDrive/SharePoint URL to a synced folder
        raise SetupError(CLOUD.format(where=f"{book.name}: {error}")) from error
    if "://" in name:
        raise SetupError(CLOUD.format(where=name))
    path = Path(name)
    if not path.is_absolute() or not path.parent.is_dir():
        raise SetupError(UNSAVED)
    return path.parent


def _decider(book: xw.Book) -> str | None:
    """Who last saved the workbook, credited with requirement changes nobody signed, as in a refresh."""
    try:
        name = book.fullname
    except xw.XlwingsError:
        return None
    return last_modified_by(name) if "://" not in name and Path(name).is_file() else None


def setup_report() -> list[str]:
    """Whether Excel will start this Python for the buttons, and what to run if it will not."""
    lines = [f"Python: {sys.executable}", f"wbs_tools {importlib.metadata.version('wbs_tools')}, "
             f"xlwings {xw.__version__}"]
    mac = sys.platform.startswith("darwin")
    key = "INTERPRETER_MAC" if mac else "INTERPRETER_WIN"
    configured = xw.utils.read_user_config().get(key.lower())
    fix = f'"{sys.executable}" -m xlwings.cli config create --force'
    if configured and Path(configured).resolve() == Path(sys.executable).resolve():
        lines.append(f"OK: Excel starts this Python ({key} in {xw.USER_CONFIG_FILE}).")
    elif configured:
        lines.append(f"Excel starts {configured} ({key} in {xw.USER_CONFIG_FILE}). To use this Python: {fix}")
    else:
        lines.append(f"Excel starts whichever 'python' comes first on PATH. To use this Python: {fix}")
    if mac:
        scripts = Path.home() / "Library/Application Scripts/com.microsoft.Excel"
        enabled = (scripts / f"xlwings-{xw.__version__}.applescript").exists()
        lines.append("OK: RunPython is enabled." if enabled else "Enable RunPython once: xlwings runpython install")
    lines.append(f"Workbooks need macros from xlwings {xw.__version__}: those made by this wbs_tools have them.")
    return lines


if __name__ == "__main__":  # pragma: no cover
    print("\n".join(setup_report()))

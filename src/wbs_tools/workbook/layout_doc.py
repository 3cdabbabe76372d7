"""``docs/workbook.md``, generated from the layout so that the column reference always matches it."""

from __future__ import annotations

import datetime as dt

from xlsxwriter.utility import xl_col_to_name

from wbs_tools.workbook.layout import CHOICE_LISTS, LAYOUTS, SETTINGS_ROWS

#: Week columns of the Gantt strip right of the Tasks table (one screen for a year of plan).
GANTT_WEEKS = 52


def render_workbook_doc() -> str:
    """``docs/workbook.md``: the column reference, generated so that it always matches the layout."""
    out = [
        "# The plan workbook", "",
        "<!-- Generated from src/wbs_tools/workbook/layout.py by render_workbook_doc(); "
        "run `python workbook_templates/build.py` after changing the layout. -->", "",
        "Each sheet holds Excel tables. Row 1 is a title, row 2 a line of guidance and row 3 the table "
        "header (hidden sheets start at row 1). White columns are **input**; grey italic columns are "
        "**computed** by wbs_tools on every refresh and reject typing with a message. **Owned** sheets are "
        "rewritten whole. Headers are matched by title or any alias, ignoring case, spaces, punctuation "
        "and a trailing unit such as `(d)`, so your own header names keep working; columns wbs_tools does "
        "not know are kept as they are.", "",
        f"The Tasks sheet has a Gantt strip right of the table: {GANTT_WEEKS} week columns from the Monday "
        "of `Project_Start`, coloured by conditional formats on Start, Finish, Critical and % Complete "
        "(critical bars red, the done part darker, summaries dark grey, milestones black, this week "
        "outlined in red).", "",
    ]
    for layout in LAYOUTS:
        facts = [f"Header row {layout.header_row}", f"first column {xl_col_to_name(layout.first_column - 1)}"]
        facts += [fact for fact, on in (("owned", layout.owned), ("hidden", layout.hidden)) if on]
        out += [f"## {layout.name}: `{layout.table_name}`", "", *([layout.guidance, ""] if layout.guidance else []),
                ", ".join(facts) + ".", "",
                _row("Column", "Key", "Kind", "Also read as", "Format", "Drop-down", "Meaning"), _row(*["---"] * 7)]
        out += [_row(c.title, f"`{c.key}`", c.kind.value, ", ".join(c.aliases), _cell(c.number_format),
                     c.choices or "", c.note) for c in layout.columns]
        out.append("")
    out += ["## Settings values", "", _row("Setting", "Defined name", "Default", "Meaning"), _row(*["---"] * 4)]
    out += [_row(s.label, f"`{s.name}`", _cell(s.default), s.note) for s in SETTINGS_ROWS]
    out += ["", "## Drop-down lists", "", "Defined names over the Lists sheet; editable lists grow with what "
            "you type below them.", "", _row("Name", "List", "Values"), _row(*["---"] * 3)]
    out += [_row(f"`{c.name}`", c.title + (" (editable)" if c.editable else ""), ", ".join(c.values))
            for c in CHOICE_LISTS]
    return "\n".join(out) + "\n"


def _row(*cells: str) -> str:
    return "| " + " | ".join(cells) + " |"


def _cell(value: object) -> str:
    if value is None or value == "":
        return ""
    return f"`{value:%H:%M}`" if isinstance(value, dt.time) else f"`{value}`".replace("|", "\\|")

"""Regenerate the bundled workbooks and docs/workbook.md: ``python workbook_templates/build.py``.

The outputs are committed so that users get them without running Python; the tests rebuild them and
fail when a committed copy no longer matches what the layout, the sample plan and the writer produce.
"""

from __future__ import annotations

from pathlib import Path

from wbs_tools.workbook.sample import sample_plan, sample_registers
from wbs_tools.workbook.template import build_workbook, render_workbook_doc

HERE = Path(__file__).resolve().parent
TEMPLATE = "wbs_template.xlsx"
SAMPLE = "sample_plan.xlsx"
DOC = "workbook.md"


def build(folder: Path = HERE, docs: Path = HERE.parent / "docs") -> list[Path]:
    """Write the empty template, the sample plan and the column reference; return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    docs.mkdir(parents=True, exist_ok=True)
    written = [
        build_workbook(folder / TEMPLATE),
        build_workbook(folder / SAMPLE, plan=sample_plan(), registers=sample_registers()),
    ]
    (docs / DOC).write_text(render_workbook_doc(), encoding="utf-8", newline="\n")
    return [*written, docs / DOC]


if __name__ == "__main__":
    for path in build():
        print(path)

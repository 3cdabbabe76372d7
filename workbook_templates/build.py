"""Regenerate the bundled workbooks and docs/workbook.md: ``python workbook_templates/build.py``.

The outputs are committed so that users get them without running Python; the tests rebuild them and
fail when a committed copy no longer matches what the layout, the sample plan and the writer produce.
The macro-enabled (.xlsm) copies carry a vbaProject.bin built here from ``macros/`` and the xlwings
module of the installed xlwings package (``wbs_tools.excel.vba_project``), so no binary is committed
that cannot be rebuilt from source.
"""

from __future__ import annotations

from pathlib import Path

from wbs_tools.excel.vba_project import build_macro_project
from wbs_tools.workbook.layout_doc import render_workbook_doc
from wbs_tools.workbook.sample import sample_plan, sample_registers
from wbs_tools.workbook.template import build_workbook, macro_codenames

HERE = Path(__file__).resolve().parent
TEMPLATE = "wbs_template.xlsx"
SAMPLE = "sample_plan.xlsx"
TEMPLATE_XLSM = "wbs_template.xlsm"
SAMPLE_XLSM = "sample_plan.xlsm"
DOC = "workbook.md"


def build(folder: Path = HERE, docs: Path = HERE.parent / "docs") -> list[Path]:
    """Write the empty template, the sample plan (each also macro-enabled) and the column reference."""
    folder.mkdir(parents=True, exist_ok=True)
    docs.mkdir(parents=True, exist_ok=True)
    macros = {"macro_enabled": True, "vba_project": build_macro_project(macro_codenames())}
    written = [
        build_workbook(folder / TEMPLATE),
        build_workbook(folder / SAMPLE, plan=sample_plan(), registers=sample_registers()),
        build_workbook(folder / TEMPLATE_XLSM, **macros),
        build_workbook(folder / SAMPLE_XLSM, plan=sample_plan(), registers=sample_registers(), **macros),
    ]
    (docs / DOC).write_text(render_workbook_doc(), encoding="utf-8", newline="\n")
    return [*written, docs / DOC]


if __name__ == "__main__":
    for path in build():
        print(path)

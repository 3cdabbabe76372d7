"""The curated package namespace: what ``import wbs_tools`` costs and gives."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import wbs_tools as wbs

SAMPLE = Path(__file__).resolve().parents[1] / "workbook_templates" / "sample_plan.xlsx"


def test_importing_the_package_does_not_load_pandas() -> None:
    """The CLI and every batch worker import the package; pandas is loaded only for DataFrames."""
    probe = "import sys, wbs_tools, wbs_tools.cli, wbs_tools.batch.runner; print('pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_dataframe_helpers_are_reached_through_the_package() -> None:
    run = wbs.schedule_file(SAMPLE)
    tasks = wbs.tasks_frame(run.schedule)
    links = wbs.links_frame(run.schedule)
    assert len(tasks) == len(run.schedule.tasks) and list(tasks.index) == list(tasks["id"])
    assert str(tasks["finish"].dtype).startswith("datetime64")
    assert len(links) == len(run.schedule.links)
    assert list(wbs.findings_frame(run.findings).columns)[:2] == ["severity", "code"]


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_thing"):
        wbs.no_such_thing  # noqa: B018
